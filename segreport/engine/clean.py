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
from segreport.engine.checks import ReaderFallback, not_an_id, scalar
from segreport.engine.options import DUCKDB


def customer_aggregates(cust: ir.Table, engine: str) -> dict[str, ir.Scalar]:
    """What :func:`clean_customers` asks of the customers table, as aggregates for the
    query that checks it: distinct ids, rows of the reserved segment name, rows without a
    segment or unit, rows churned before signup."""
    checks = {"ids": cust[C.CUSTOMER_ID].nunique(),
              "reserved": count_true((cust[C.SEGMENT] == C.ALL_SEGMENTS).fill_null(False)),
              "seg": count_true(cust[C.SEGMENT].isnull()),
              "unit": count_true(cust[C.BUSINESS_UNIT].isnull())}
    if C.CHURN_DATE in cust.columns:
        checks["early"] = count_true((cust[C.CHURN_DATE] < cust[C.SIGNUP_DATE]).fill_null(False))
    return checks


def clean_customers(data: EngineData, files: dict[str, Path], row: pd.Series | None) -> None:
    """Duplicate ids, the reserved segment name and churn before signup send the table to
    the reader (for its message); empty segments and units read ``Unassigned``, with a
    note. ``row``: the table's rows (``n``) and :func:`customer_aggregates`, as its check
    computed them."""
    cust = data.tables.get(C.CUSTOMERS)
    if cust is None:
        return
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


def order_aggregates(orders: ir.Table, engine: str) -> dict[str, ir.Scalar]:
    """What :func:`clean_orders` asks of the orders table, as aggregates for the query
    that checks it. DuckDB: the distinct 64-bit hashes of its rows (``distinct_rows``):
    equal rows hash alike, so as many as the rows proves there is no duplicate; fewer (a
    duplicate, or a rare collision) sends it to the exact count. Other engines: none."""
    if engine != DUCKDB:
        return {}
    row = ibis.struct({c: orders[c] for c in orders.columns if c != "__problem"})
    return {"distinct_rows": row.hash().nunique()}


def clean_orders(data: EngineData, files: dict[str, Path], checked: pd.Series,
                  mapping: dict[str, str] | None = None,
                  max_unknown_customer_pct: float | None = None,
                  by_unit: pd.DataFrame | None = None) -> None:
    """Exact duplicate rows and orders of customers absent from the customers table are
    dropped, with a note (``checked``: the table's rows, ``n``, and
    :func:`order_aggregates`, as its check computed them); beyond
    ``max_unknown_customer_pct`` % of the rows, the latter stop the run. An unknown
    customer id that is no id at all (see :func:`not_an_id`) sends the table to the
    reader. ``by_unit``: :func:`rows_by_unit`; when it finds every order's customer (and
    there is no duplicate), nothing more is asked of the engine."""
    orders = data.tables[C.ORDERS]
    name = files[C.ORDERS].name
    distinct = orders.distinct()
    n = int(checked["n"])
    surely = "distinct_rows" in checked and int(checked["distinct_rows"]) == n
    n_distinct = n if surely else scalar(distinct.count())
    if n_distinct < n:
        data.info.quality.append(QualityNote(C.ORDERS, name, n, n - n_distinct, DUPLICATES_NOTE))
        orders = distinct
    cust = data.tables.get(C.CUSTOMERS)
    all_known = (by_unit is not None and n_distinct == n
                 and not _rows_of(by_unit, C.ORDERS)[C.BUSINESS_UNIT].isna().any())
    if cust is not None and not all_known:
        unknown = orders.anti_join(cust, C.CUSTOMER_ID)
        stats = scalar(unknown.aggregate(rows=unknown.count(),
                                          ids=unknown[C.CUSTOMER_ID].nunique(),
                                          net=unknown[C.AMOUNT].sum(),
                                          bad=count_true(not_an_id(unknown[C.CUSTOMER_ID]))))
        rows = int(stats["rows"].iloc[0])
        if rows == n_distinct or (rows and int(stats["bad"].iloc[0] or 0)):
            raise ReaderFallback  # none known, or not ids: the reader names them
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


def rows_by_unit(tables: dict[str, ir.Table], customers: ir.Table | None) -> pd.DataFrame | None:
    """Per table of ``tables`` (``table``, its name) and business unit of ``customers``
    (a missing unit read as ``Unassigned``), the table's rows (``rows``); the rows of no
    customer there in a row whose ``business_unit`` is missing. One grouped query over
    the tables' customer ids; None without a customers table."""
    if customers is None:
        return None
    unit = customers.select(C.CUSTOMER_ID, **{C.BUSINESS_UNIT: _unit_of(customers)})
    ids = ibis.union(*(t.select(C.CUSTOMER_ID, table=ibis.literal(name))
                       for name, t in tables.items()))
    joined = ids.left_join(unit, C.CUSTOMER_ID)
    return joined.group_by(["table", C.BUSINESS_UNIT]).aggregate(rows=joined.count()).execute()


def _unit_of(customers: ir.Table) -> ir.StringValue:
    """A customer's business unit, a missing one read as ``Unassigned``."""
    return customers[C.BUSINESS_UNIT].fill_null(C.UNASSIGNED).cast("string")


def _rows_of(by_unit: pd.DataFrame, table: str) -> pd.DataFrame:
    return by_unit.loc[by_unit["table"] == table, [C.BUSINESS_UNIT, "rows"]]


def _known_rows(by_unit: pd.DataFrame, table: str) -> pd.Series:
    """``table``'s rows per business unit; rows of no known customer belong to no unit."""
    return _rows_of(by_unit, table).dropna().set_index(C.BUSINESS_UNIT)["rows"]


def customers_by_unit(customers_read: ir.Table | None) -> pd.DataFrame | None:
    """Per business unit of the customers table as read (a missing unit read as
    ``Unassigned``): its customers (``n``), those without a segment (``no_segment``) or
    unit (``no_unit``), and, per text column, its distinct values (``values_<column>``, a
    missing value read as ``Unassigned``). One grouped query; None without the table."""
    if customers_read is None:
        return None
    cust = customers_read
    values = {f"values_{name}": cust[name].fill_null(C.UNASSIGNED).cast("string").collect(
        distinct=True) for name in _text_columns(cust)}
    return cust.group_by(**{C.BUSINESS_UNIT: _unit_of(cust)}).aggregate(
        n=cust.count(), no_segment=count_true(cust[C.SEGMENT].isnull()),
        no_unit=count_true(cust[C.BUSINESS_UNIT].isnull()), **values).execute()


def _text_columns(cust: ir.Table) -> list[str]:
    return [c.name for c in C.CONTRACT[C.CUSTOMERS].columns
            if c.kind == "text" and c.name in cust.columns]


def describe_customers(data: EngineData, by_unit: pd.DataFrame | None) -> None:
    """The distinct values of each text column of the customers table, and the units,
    from :func:`customers_by_unit`."""
    if by_unit is None:
        return
    for name in _text_columns(data.tables[C.CUSTOMERS]):
        seen = {str(v) for values in by_unit[f"values_{name}"] for v in values}
        data.info.segment_values[name] = sorted(seen)
    data.info.units = list(data.info.segment_values.get(C.BUSINESS_UNIT, []))


def count_unit_rows(data: EngineData, orders_read: ir.Table,
                    customers_read: ir.Table | None, customers: pd.DataFrame | None,
                    by_unit: pd.DataFrame | None) -> None:
    """Per business unit, the rows of its own data (``info.unit_rows``, as
    :func:`segreport.data.read.read_dataset` counts them): its customers (and those
    without a segment or unit: ``customers``, :func:`customers_by_unit`), the order rows
    of its customers as read and their survey rows (``by_unit``, :func:`rows_by_unit`),
    and the exact duplicates among the orders (one more query, when there are some)."""
    if customers_read is None:
        return
    frame = customers.set_index(C.BUSINESS_UNIT)
    found = {C.CUSTOMERS: frame["n"], NO_SEGMENT: frame["no_segment"],
             NO_UNIT: frame["no_unit"]}
    for table in (C.ORDERS, C.SURVEYS):
        if table in data.tables:
            found[table] = _known_rows(by_unit, table)
    found[DUPLICATE_ROWS] = pd.Series(dtype="int64")
    if any(q.note == DUPLICATES_NOTE for q in data.info.quality):
        distinct = rows_by_unit({C.ORDERS: orders_read.distinct()}, customers_read)
        found[DUPLICATE_ROWS] = found[C.ORDERS].sub(_known_rows(distinct, C.ORDERS),
                                                    fill_value=0)
    small = small_unit_rows(data.small, data.info.units)
    data.info.unit_rows = {u: {k: int(v.get(u, 0) or 0) for k, v in found.items()} | small[u]
                           for u in data.info.units}
