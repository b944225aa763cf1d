"""Open a source as typed Ibis tables and check it where it lives.

The data contract (:data:`segreport.columns.CONTRACT`) says what each table holds. Here a
folder of CSV/Parquet files is opened in DuckDB (embedded, no server) and every check of
the contract runs as a query there: missing and empty columns, values that are not ids,
dates or numbers, dates outside the plausible years, duplicate customer ids, the reserved
segment name, churn before signup, exact duplicate orders and orders of unknown customers.
Nothing pulls a whole orders table into Python.

The messages are the reference reader's (:mod:`segreport.data.read`): when a query finds
a problem (or a value written in a form the engine does not read the way the reader
does, such as a date with a UTC offset), that table is handed to the reader, which names
the file, column, values and lines, or, where the reader accepts the form, reads it and
the engine works on its result. A DuckDB file or a database URL is read and checked by the
reader and then loaded into DuckDB.

Values the engine takes as they are:

* ids — text without surrounding white space, or integers (as text);
* dates — timestamps, or ``YYYY-MM-DD`` optionally followed by a time of day;
* numbers — numeric columns, or plain decimal text such as ``-12.50`` or ``1e3``;
* text — any text without surrounding white space; an empty cell is missing.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from segreport import columns as C
from segreport.data.read import (
    DUPLICATES_NOTE,
    END_DATE,
    FIRST_DATE,
    NULL_MARKERS,
    Dataset,
    DatasetInfo,
    check_csv_header,
    check_unknown_share,
    QualityNote,
    read_dataset,
    read_table,
    unassigned_note,
    unknown_customers_note,
)
from segreport.data.sources import DEFAULT_PASSWORD_ENV, FolderSource, is_url

ENGINE_TABLES = (C.ORDERS, C.CUSTOMERS, C.SURVEYS)
"""Tables that can be large: checked and kept in the engine. The small period tables
(spend, market size, segmentation costs) are read by the reference reader."""

_DATE_TEXT = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$"
_NUMBER_TEXT = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_PADDED = r"^\s|\s$"


@dataclass
class EngineData:
    """The checked tables of one source, as Ibis expressions on one backend.

    ``tables`` maps each contract table present to a table with the contract's column
    names and types (ids as text, dates as timestamps, numbers as float64); orders are
    free of exact duplicates and of customers absent from the customers table, and
    customers' empty segment or unit read ``Unassigned``. ``small`` holds the period
    tables as checked pandas frames. ``checked_in_engine`` is False when a table had to be
    read by the reference reader.
    """

    con: Any
    tables: dict[str, ir.Table]
    small: dict[str, pd.DataFrame]
    info: DatasetInfo
    checked_in_engine: bool = True
    rows: dict[str, int] = field(default_factory=dict)
    """Rows of each engine table as read (before duplicates and unknown customers are set
    aside)."""

    def has(self, table: str) -> bool:
        return table in self.tables or table in self.small

    def columns_of(self, table: str) -> list[str]:
        return self.info.tables.get(table, [])


class _Fallback(Exception):
    """A table the engine does not take as it is: the reference reader reads it."""


def open_engine(data_source: str | Path, columns: dict | None = None,
                tables: dict[str, str] | None = None,
                password_env: str = DEFAULT_PASSWORD_ENV,
                max_unknown_customer_pct: float | None = None) -> EngineData:
    """Open and check a source.

    Parameters
    ----------
    data_source
        A folder of ``<table>.csv``/``<table>.parquet`` files, a DuckDB file or a database
        URL (see :mod:`segreport.data.sources`).
    columns, tables, password_env, max_unknown_customer_pct
        As for :func:`segreport.data.read.read_dataset`.

    Raises
    ------
    DataError, ConfigError
        with the reference reader's message, for anything the contract rejects.
    """
    columns = columns or {}
    text = str(data_source)
    if not is_url(text) and not text.endswith((".duckdb", ".ddb")) and Path(text).is_dir():
        try:
            return _open_folder(Path(text), columns, tables or {}, max_unknown_customer_pct)
        except _Fallback:
            pass
    return from_dataset(read_dataset(data_source, columns, tables, password_env,
                                     max_unknown_customer_pct))


def from_dataset(ds: Dataset) -> EngineData:
    """An already checked :class:`Dataset` loaded into an embedded DuckDB."""
    con = connect_duckdb()
    big, small = {}, {}
    for name, frame in ds.tables.items():
        if name in ENGINE_TABLES:
            big[name] = register_frame(con, f"checked_{name}", _engine_frame(frame))
        else:
            small[name] = frame
    return EngineData(con, big, small, ds.info(), checked_in_engine=False,
                      rows={k: len(ds.tables[k]) for k in big})


DUCKDB_MEMORY_LIMIT = os.environ.get("SEGREPORT_DUCKDB_MEMORY", "1500MB")
"""What DuckDB may hold in memory before it spills to its temporary folder."""
LARGE_MEMORY_LIMIT = os.environ.get("SEGREPORT_DUCKDB_MEMORY_LARGE", "5GB")
LARGE_ROWS = 30_000_000
"""Above this many order rows DuckDB may hold :data:`LARGE_MEMORY_LIMIT`: a few of its
operators (hash joins, ordered aggregates over tens of millions of customer-days) cannot
spill everything."""


def connect_duckdb():
    """An embedded DuckDB connection: in memory, every core, no progress bar, memory
    bounded by :data:`DUCKDB_MEMORY_LIMIT` (spilling to a temporary folder beyond it)."""
    con = ibis.duckdb.connect()
    spill = Path(tempfile.gettempdir()) / f"segreport-duckdb-{os.getpid()}"
    for setting in ("enable_progress_bar = false", "preserve_insertion_order = false",
                    f"memory_limit = '{DUCKDB_MEMORY_LIMIT}'", f"temp_directory = '{spill}'"):
        con.raw_sql(f"SET {setting}")
    return con


def register_frame(con, name: str, frame: pd.DataFrame) -> ir.Table:
    """``frame`` copied into a table ``name`` of an embedded DuckDB connection."""
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    raw = con.con
    raw.register("segreport_frame", arrow)
    try:
        raw.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT * FROM segreport_frame')
    finally:
        raw.unregister("segreport_frame")
    return con.table(name)


def _engine_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Ids and text as plain strings, dates as ``datetime64[us]`` for DuckDB."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].astype("datetime64[us]")
        elif out[col].dtype == object:
            out[col] = out[col].astype("string")
    return out


def _open_folder(folder: Path, columns: dict, tables: dict[str, str],
                 max_unknown_customer_pct: float | None = None) -> EngineData:
    source = FolderSource(folder, tables)
    con = connect_duckdb()
    big: dict[str, ir.Table] = {}
    small: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    present: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for name, spec in C.CONTRACT.items():
        path = source.find(name)
        if path is None:
            if spec.required:
                raise source.missing(name)
            continue
        files[name] = path
        if name not in ENGINE_TABLES:
            frame, _ = read_table(folder, name, columns.get(name), source)
            small[name], present[name] = frame, list(frame.columns)
            counts[name] = len(frame)
            continue
        raw = _read_raw(con, path)
        typed = _typed(raw, spec, _user_names(spec, columns.get(name, {}), raw.columns))
        n = _check(typed)
        big[name], present[name], counts[name] = typed.drop("__problem"), _present(typed), n
    quality = [QualityNote(name, files[name].name, counts[name]) for name in present]
    info = DatasetInfo(str(folder), {k: str(v) for k, v in files.items()}, present, quality,
                       {t: dict(m) for t, m in columns.items() if m})
    data = EngineData(con, big, small, info, rows={k: counts[k] for k in big})
    if counts[C.ORDERS] > LARGE_ROWS:
        con.raw_sql(f"SET memory_limit = '{LARGE_MEMORY_LIMIT}'")
    _clean_customers(data, files)
    _clean_orders(data, files, columns.get(C.ORDERS, {}), max_unknown_customer_pct)
    _describe_customers(data)
    return data


def _read_raw(con, path: Path) -> ir.Table:
    try:
        if path.suffix == ".csv":
            if path.stat().st_size == 0 or len(set(header := check_csv_header(path))) != len(header):
                raise _Fallback
            return con.read_csv(str(path), all_varchar=True, header=True, delim=",",
                                quote='"', escape='"', strict_mode=True)
        return con.read_parquet(str(path))
    except _Fallback:
        raise
    except Exception:  # noqa: BLE001 - any reading problem: the reader names it
        raise _Fallback from None


def _user_names(spec: C.Table, mapping: dict[str, str], header: list[str]) -> dict[str, str]:
    """Contract column → the user's column, for the columns present (as the reader maps
    them: a column mapped explicitly is not also read under its own name)."""
    names = {c.name: mapping.get(c.name, c.name) for c in spec.columns}
    claimed = set(mapping.values())
    names = {ours: theirs for ours, theirs in names.items()
             if ours in mapping or theirs not in claimed or ours in spec.required_columns}
    if len(set(header)) != len(header):
        raise _Fallback
    absent = [c for c in spec.required_columns if names[c] not in header]
    if absent:
        raise _Fallback
    return {ours: theirs for ours, theirs in names.items() if theirs in header}


def _typed(raw: ir.Table, spec: C.Table, names: dict[str, str]) -> ir.Table:
    """The contract's columns with their types, and ``__problem``: True on a row holding a
    value the engine does not take as it is (or that the contract rejects)."""
    cols, problems = {}, []
    for col in spec.columns:
        if col.name not in names:
            continue
        value, problem = _typed_column(raw[names[col.name]], col)
        cols[col.name] = value
        problems.append(problem)
    flag = problems[0]
    for p in problems[1:]:
        flag = flag | p
    return raw.select(**cols, __problem=flag)


def _typed_column(s: ir.Column, col: C.Column) -> tuple[ir.Column, ir.BooleanValue]:
    dtype = s.type()
    if dtype.is_boolean():
        return s.cast("string"), ibis.literal(True)
    if col.kind in ("id", "text"):
        text = s if dtype.is_string() else s.cast("string")
        missing = text.isnull() | (text == "")
        padded = text.re_search(_PADDED).fill_null(False)
        if col.kind == "id":
            if dtype.is_floating():
                return text, ibis.literal(True)
            marker = text.lower().isin(list(NULL_MARKERS)).fill_null(False)
            return text, missing | padded | marker
        return ibis.ifelse(text == "", ibis.null("string"), text), padded
    if col.kind == "date":
        if dtype.is_timestamp() or dtype.is_date():
            value = s.cast("timestamp")
            bad = ibis.literal(False)
        elif dtype.is_string():
            shaped = s.re_search(_DATE_TEXT).fill_null(True)
            value = s.try_cast("timestamp")
            bad = ~shaped | (s.notnull() & (s != "") & value.isnull())
        else:
            return s.cast("string"), ibis.literal(True)
        far = (value < ibis.timestamp(FIRST_DATE.to_pydatetime())) | (
            value >= ibis.timestamp(END_DATE.to_pydatetime()))
        bad = bad | far.fill_null(False)
        if col.required and col.name != C.SIGNUP_DATE:
            bad = bad | value.isnull()
        return value.cast("timestamp"), bad
    if col.kind == "number":
        if dtype.is_numeric():
            value = s.cast("float64")
            value = ibis.ifelse(value.isnan().fill_null(False), ibis.null("float64"), value)
            bad = value.isinf().fill_null(False)
        elif dtype.is_string():
            shaped = s.re_search(_NUMBER_TEXT).fill_null(True) | (s == "")
            value = ibis.ifelse(s == "", ibis.null("float64"), s.try_cast("float64"))
            bad = ~shaped | (value.notnull() & (value.isinf() | value.isnan()))
        else:
            return s.cast("string"), ibis.literal(True)
        if col.required:
            bad = bad | value.isnull()
        if col.low is not None:
            bad = bad | (value < col.low).fill_null(False)
        if col.high is not None:
            bad = bad | (value > col.high).fill_null(False)
        return value, bad
    return s, ibis.literal(True)  # period columns live in the small tables


def _present(typed: ir.Table) -> list[str]:
    return [c for c in typed.columns if c != "__problem"]


def _check(typed: ir.Table) -> int:
    """Rows of the table; raises :class:`_Fallback` when a row has a problem or there is
    no row."""
    row = typed.aggregate(n=typed.count(), bad=typed["__problem"].cast("int64").sum()).execute()
    n, bad = int(row["n"].iloc[0]), row["bad"].iloc[0]
    if n == 0 or (pd.notna(bad) and int(bad) > 0):
        raise _Fallback
    return n


def _scalar(expr) -> Any:
    return expr.execute()


def _clean_customers(data: EngineData, files: dict[str, Path]) -> None:
    cust = data.tables.get(C.CUSTOMERS)
    if cust is None:
        return
    dup = cust.group_by(C.CUSTOMER_ID).aggregate(n=cust.count()).filter(lambda t: t.n > 1)
    if _scalar(dup.count()) > 0:
        raise _Fallback
    if _scalar((cust[C.SEGMENT] == C.ALL_SEGMENTS).fill_null(False).any()):
        raise _Fallback
    if C.CHURN_DATE in cust.columns:
        early = (cust[C.CHURN_DATE] < cust[C.SIGNUP_DATE]).fill_null(False)
        if _scalar(early.any()):
            raise _Fallback
    n = _scalar(cust.count())
    empty = _scalar(cust.aggregate(seg=cust[C.SEGMENT].isnull().sum(),
                                   unit=cust[C.BUSINESS_UNIT].isnull().sum()))
    for col, key in ((C.SEGMENT, "seg"), (C.BUSINESS_UNIT, "unit")):
        missing = int(empty[key].iloc[0] or 0)
        if missing:
            data.info.quality.append(QualityNote(C.CUSTOMERS, files[C.CUSTOMERS].name, n, 0,
                                                 unassigned_note(missing, col)))
    data.tables[C.CUSTOMERS] = cust.mutate(**{
        C.SEGMENT: cust[C.SEGMENT].fill_null(C.UNASSIGNED),
        C.BUSINESS_UNIT: cust[C.BUSINESS_UNIT].fill_null(C.UNASSIGNED)})


def _clean_orders(data: EngineData, files: dict[str, Path], mapping: dict[str, str],
                  max_unknown_customer_pct: float | None = None) -> None:
    orders = data.tables[C.ORDERS]
    name = files[C.ORDERS].name
    n = _scalar(orders.count())
    distinct = orders.distinct()
    n_distinct = n if _surely_no_duplicates(data.con, orders, n) else _scalar(distinct.count())
    if n_distinct < n:
        data.info.quality.append(QualityNote(C.ORDERS, name, n, n - n_distinct, DUPLICATES_NOTE))
        orders = distinct
    cust = data.tables.get(C.CUSTOMERS)
    if cust is not None:
        unknown = orders.anti_join(cust, C.CUSTOMER_ID)
        stats = _scalar(unknown.aggregate(rows=unknown.count(),
                                          ids=unknown[C.CUSTOMER_ID].nunique(),
                                          net=unknown[C.AMOUNT].sum()))
        rows = int(stats["rows"].iloc[0])
        if rows == n_distinct:
            raise _Fallback  # none known: the reader says which ids the files use
        if rows:
            examples = unknown[C.CUSTOMER_ID].name("id").as_table().distinct().order_by("id")
            examples = examples.limit(5).execute()["id"].tolist()
            check_unknown_share(str(files[C.ORDERS]), mapping.get(C.CUSTOMER_ID, C.CUSTOMER_ID),
                                rows, n_distinct, examples, files[C.CUSTOMERS].name,
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


def _describe_customers(data: EngineData) -> None:
    """The distinct values of each text column of the customers table, and the units."""
    cust = data.tables.get(C.CUSTOMERS)
    if cust is None:
        return
    for col in C.CONTRACT[C.CUSTOMERS].columns:
        if col.kind == "text" and col.name in cust.columns:
            values = cust[col.name].fill_null(C.UNASSIGNED).name("v").as_table().distinct()
            data.info.segment_values[col.name] = sorted(values.execute()["v"].astype(str))
    data.info.units = list(data.info.segment_values.get(C.BUSINESS_UNIT, []))


__all__ = ["ENGINE_TABLES", "EngineData", "from_dataset", "open_engine", "register_frame"]
