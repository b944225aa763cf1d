"""Cleaning the checked tables in the engine: orders of unknown customers, exact duplicates
and unassigned segments dropped or marked, each recorded as a data-quality note."""
from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd

from segreport import columns as C
from segreport.data.clean import check_unknown_share
from segreport.data.dataset import (
    DUPLICATE_ROWS,
    DUPLICATES_NOTE,
    NO_SEGMENT,
    NO_UNIT,
    QualityNote,
    small_unit_rows,
    unassigned_note,
    unknown_customers_note,
)
from segreport.engine.backend import EngineData, count_true
from segreport.engine.checks import ReaderFallback, scalar


def clean_customers(data: EngineData, files: dict[str, Path]) -> None:
    """Duplicate ids, the reserved segment name and churn before signup send the table to
    the reader (for its message); empty segments and units read ``Unassigned``, with a
    note. One query."""
    cust = data.tables.get(C.CUSTOMERS)
    if cust is None:
        return
    checks = {"n": cust.count(), "ids": cust[C.CUSTOMER_ID].nunique(),
              "reserved": count_true((cust[C.SEGMENT] == C.ALL_SEGMENTS).fill_null(False)),
              "seg": count_true(cust[C.SEGMENT].isnull()),
              "unit": count_true(cust[C.BUSINESS_UNIT].isnull())}
    if C.CHURN_DATE in cust.columns:
        checks["early"] = count_true((cust[C.CHURN_DATE] < cust[C.SIGNUP_DATE]).fill_null(False))
    row = cust.aggregate(**checks).execute().iloc[0]
    n = int(row["n"])
    if int(row["ids"]) != n or int(row["reserved"] or 0) or int(row.get("early") or 0):
        raise ReaderFallback
    for col, key in ((C.SEGMENT, "seg"), (C.BUSINESS_UNIT, "unit")):
        missing = int(row[key] or 0)
        if missing:
            data.info.quality.append(QualityNote(C.CUSTOMERS, files[C.CUSTOMERS].name, n, 0,
                                                 unassigned_note(missing, col)))
    data.tables[C.CUSTOMERS] = cust.mutate(**{
        C.SEGMENT: cust[C.SEGMENT].fill_null(C.UNASSIGNED),
        C.BUSINESS_UNIT: cust[C.BUSINESS_UNIT].fill_null(C.UNASSIGNED)})


def clean_orders(data: EngineData, files: dict[str, Path], n: int,
                  mapping: dict[str, str] | None = None,
                  max_unknown_customer_pct: float | None = None) -> None:
    """Exact duplicate rows and orders of customers absent from the customers table are
    dropped, with a note (``n``: rows of the orders table); beyond
    ``max_unknown_customer_pct`` % of the rows, the latter stop the run."""
    orders = data.tables[C.ORDERS]
    name = files[C.ORDERS].name
    distinct = orders.distinct()
    n_distinct = n if _surely_no_duplicates(data.con, orders, n) else scalar(distinct.count())
    if n_distinct < n:
        data.info.quality.append(QualityNote(C.ORDERS, name, n, n - n_distinct, DUPLICATES_NOTE))
        orders = distinct
    cust = data.tables.get(C.CUSTOMERS)
    if cust is not None:
        unknown = orders.anti_join(cust, C.CUSTOMER_ID)
        stats = scalar(unknown.aggregate(rows=unknown.count(),
                                          ids=unknown[C.CUSTOMER_ID].nunique(),
                                          net=unknown[C.AMOUNT].sum()))
        rows = int(stats["rows"].iloc[0])
        if rows == n_distinct:
            raise ReaderFallback  # none known: the reader says which ids the files use
        if rows:
            examples = unknown[C.CUSTOMER_ID].name("id").as_table().distinct().order_by("id")
            examples = examples.limit(5).execute()["id"].tolist()
            check_unknown_share(str(files[C.ORDERS]),
                                (mapping or {}).get(C.CUSTOMER_ID, C.CUSTOMER_ID), rows,
                                n_distinct, examples, files[C.CUSTOMERS].name,
                                max_unknown_customer_pct)
            data.info.quality.append(QualityNote(
                C.ORDERS, name, n_distinct, rows,
                unknown_customers_note(int(stats["ids"].iloc[0]), examples[:3],
                                       float(stats["net"].iloc[0]), files[C.CUSTOMERS].name)))
            orders = orders.semi_join(cust, C.CUSTOMER_ID)
    data.tables[C.ORDERS] = orders


def _surely_no_duplicates(con, table: ir.Table, n: int) -> bool:
    """True when ``table``'s ``n`` rows are certainly all different, from a count of
    distinct 64-bit row hashes (DuckDB): equal rows hash alike, so as many distinct hashes
    as rows proves there is no duplicate; fewer (duplicates, or a rare collision) sends
    the caller to the exact count. Other backends: False."""
    if getattr(con, "name", "") != "duckdb":
        return False
    cols = ", ".join(f'"{c}"' for c in table.columns)
    sql = f"SELECT count(DISTINCT hash({cols})) FROM ({con.compile(table)})"
    return con.raw_sql(sql).fetchall()[0][0] == n


def describe_customers(data: EngineData) -> None:
    """The distinct values of each text column of the customers table, and the units."""
    cust = data.tables.get(C.CUSTOMERS)
    if cust is None:
        return
    text = [c.name for c in C.CONTRACT[C.CUSTOMERS].columns
            if c.kind == "text" and c.name in cust.columns]
    parts = [cust.select(col=ibis.literal(name),
                         v=cust[name].fill_null(C.UNASSIGNED).cast("string")).distinct()
             for name in text]
    values = ibis.union(*parts).execute() if parts else pd.DataFrame(columns=["col", "v"])
    for name in text:
        data.info.segment_values[name] = sorted(values.loc[values["col"] == name, "v"].astype(str))
    data.info.units = list(data.info.segment_values.get(C.BUSINESS_UNIT, []))


def count_unit_rows(data: EngineData, orders_read: ir.Table,
                     customers_read: ir.Table | None) -> None:
    """Per business unit, the rows of its own data (``info.unit_rows``, as
    :func:`segreport.data.read.read_dataset` counts them): its customers (and those
    without a segment or unit), the order rows of its customers as read and the exact
    duplicates among them, their survey rows. Three to four grouped queries."""
    if customers_read is None:
        return
    cust = customers_read
    filled = cust[C.BUSINESS_UNIT].fill_null(C.UNASSIGNED).cast("string")
    unit = cust.select(C.CUSTOMER_ID, **{C.BUSINESS_UNIT: filled})
    frame = cust.group_by(**{C.BUSINESS_UNIT: filled}).aggregate(
        n=cust.count(), no_segment=count_true(cust[C.SEGMENT].isnull()),
        no_unit=count_true(cust[C.BUSINESS_UNIT].isnull())).execute().set_index(C.BUSINESS_UNIT)
    found = {C.CUSTOMERS: frame["n"], NO_SEGMENT: frame["no_segment"],
             NO_UNIT: frame["no_unit"]}

    def per_unit(table: ir.Table) -> pd.Series:  # rows of no customer belong to no unit
        joined = table.select(C.CUSTOMER_ID).join(unit, C.CUSTOMER_ID)
        got = joined.group_by(C.BUSINESS_UNIT).aggregate(n=joined.count()).execute()
        return got.set_index(C.BUSINESS_UNIT)["n"]

    found[C.ORDERS] = per_unit(orders_read)
    found[DUPLICATE_ROWS] = pd.Series(dtype="int64")
    if any(q.note == DUPLICATES_NOTE for q in data.info.quality):
        found[DUPLICATE_ROWS] = found[C.ORDERS].sub(per_unit(orders_read.distinct()),
                                                    fill_value=0)
    if C.SURVEYS in data.tables:
        found[C.SURVEYS] = per_unit(data.tables[C.SURVEYS])
    small = small_unit_rows(data.small, data.info.units)
    data.info.unit_rows = {u: {k: int(v.get(u, 0) or 0) for k, v in found.items()} | small[u]
                           for u in data.info.units}
