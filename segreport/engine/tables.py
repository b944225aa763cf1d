"""Open a source as typed Ibis tables and check it where it lives.

The data contract (:data:`segreport.columns.CONTRACT`) says what each table holds. The
source decides the engine, the backend that runs every query:

* a folder of CSV/Parquet files: the embedded DuckDB (``engine: duckdb``, the default) or
  Spark (``engine: pyspark``, with ``spark_master``), each reading the files itself;
* a PostgreSQL URL (``postgresql+psycopg://user@host:port/db``): PostgreSQL itself, through
  ``ibis.postgres.connect``; the tables are read where they are and only aggregates come
  back;
* a DuckDB file or another database URL: read and checked by the reference reader, then
  loaded into an embedded DuckDB.

Every check of the contract runs as a query on that engine: missing and empty columns,
values that are not ids, dates or numbers, dates outside the plausible years, duplicate
customer ids, the reserved segment name, churn before signup, exact duplicate orders and
orders of unknown customers. Nothing pulls a whole orders table into Python.

The messages are the reference reader's (:mod:`segreport.data.read`): when a query finds
a problem (or a value written in a form the engine does not read the way the reader
does, such as a date with a UTC offset), that table is handed to the reader, which names
the file or table, column, values and rows, or, where the reader accepts the form, reads
it and the tables are loaded into an embedded DuckDB.

Values the engine takes as they are:

* ids — text without surrounding white space, or integers (as text);
* dates — timestamps or dates, or ``YYYY-MM-DD`` optionally followed by a time of day;
* numbers — numeric columns, or plain decimal text such as ``-12.50`` or ``1e3``;
* text — any text without surrounding white space; an empty cell is missing.
"""
from __future__ import annotations

import os
import re
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
    DUPLICATE_ROWS,
    DUPLICATES_NOTE,
    END_DATE,
    FIRST_DATE,
    NO_SEGMENT,
    NO_UNIT,
    NULL_MARKERS,
    Dataset,
    DatasetInfo,
    QualityNote,
    check_csv_header,
    check_unknown_share,
    read_dataset,
    read_table,
    small_unit_rows,
    unassigned_note,
    unknown_customers_note,
)
from segreport.data.sources import (
    DEFAULT_PASSWORD_ENV,
    DUCKDB_SUFFIXES,
    FolderSource,
    SqlSource,
    _one_line,
    _split_name,
    is_url,
    mask_password,
)
from segreport.engine.options import (
    DEFAULT_ENGINE,
    DEFAULT_SPARK_MASTER,
    DUCKDB,
    ENGINES,
    PYSPARK,
    check_engine,
)
from segreport.errors import ConfigError, DataError, EngineError

ENGINE_TABLES = (C.ORDERS, C.CUSTOMERS, C.SURVEYS)
"""Tables that can be large: checked and kept in the engine. The small period tables
(spend, market size, segmentation costs) are read by the reference reader."""
POSTGRES = "postgres"

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
    read by the reference reader. ``backend`` names the engine that runs the queries
    (``duckdb``, ``postgres`` or ``pyspark``).
    """

    con: Any
    tables: dict[str, ir.Table]
    small: dict[str, pd.DataFrame]
    info: DatasetInfo
    checked_in_engine: bool = True
    rows: dict[str, int] = field(default_factory=dict)
    """Rows of each engine table as read (before duplicates and unknown customers are set
    aside)."""
    views: list[str] = field(default_factory=list)
    """Temporary tables and views made here (dropped by :meth:`close`)."""

    @property
    def backend(self) -> str:
        return self.con.name

    def has(self, table: str) -> bool:
        return table in self.tables or table in self.small

    def columns_of(self, table: str) -> list[str]:
        return self.info.tables.get(table, [])

    def close(self) -> None:
        """Release what the engine holds for this source: the connection of DuckDB and
        PostgreSQL (their temporary tables go with it); for Spark, the cached frames and
        temporary views made here (the Spark session itself stays up for the next
        source: it is costly to start)."""
        close_connection(self.con, self.views)
        self.views.clear()


class _Fallback(Exception):
    """A table the engine does not take as it is: the reference reader reads it."""


def is_postgres_url(text: str) -> bool:
    """A ``postgresql://`` or ``postgresql+<driver>://`` URL (also ``postgres://``)."""
    return bool(re.match(r"^\s*postgres(ql)?(\+[A-Za-z0-9_]+)?://", str(text)))


def open_engine(data_source: str | Path, columns: dict | None = None,
                tables: dict[str, str] | None = None,
                password_env: str = DEFAULT_PASSWORD_ENV, engine: str = DEFAULT_ENGINE,
                spark_master: str = DEFAULT_SPARK_MASTER,
                max_unknown_customer_pct: float | None = None) -> EngineData:
    """Open and check a source.

    Parameters
    ----------
    data_source
        A folder of ``<table>.csv``/``<table>.parquet`` files, a DuckDB file or a database
        URL (see :mod:`segreport.data.sources`).
    columns, tables, password_env, max_unknown_customer_pct
        As for :func:`segreport.data.read.read_dataset`.
    engine
        ``duckdb`` (default) or ``pyspark``: where a folder is read and computed. A
        PostgreSQL URL is always computed in PostgreSQL.
    spark_master
        With ``engine="pyspark"``: ``local[*]``, ``local[N]``, ``spark://host:port`` or a
        Spark Connect ``sc://host:port`` (see :mod:`segreport.engine.spark`).

    Raises
    ------
    DataError, ConfigError
        with the reference reader's message, for anything the contract rejects.
    EngineError
        when the engine itself fails (out of memory, a file it cannot read or write, a
        lost connection): see :func:`engine_failure`.
    """
    try:
        return _open_engine(data_source, columns or {}, tables, password_env, engine,
                            spark_master, max_unknown_customer_pct)
    except (DataError, ConfigError):
        raise
    except Exception as exc:
        _raise_engine_failure(exc, where=mask_password(str(data_source)))
        raise


def _open_engine(data_source, columns: dict, tables, password_env: str, engine: str,
                 spark_master: str, max_unknown_customer_pct) -> EngineData:
    engine = check_engine(engine)
    text = str(data_source).strip()
    if is_postgres_url(text):
        if engine != DUCKDB:
            raise ConfigError(
                f"engine {engine!r}: Spark reads a folder of CSV or Parquet files, and "
                f"data_source {mask_password(text)} is a PostgreSQL database, where the "
                "queries run in the database itself; remove engine from the parameters "
                "(or set engine: duckdb)")
        try:
            return _open_postgres(text, columns, tables or {}, password_env,
                                  max_unknown_customer_pct)
        except _Fallback:
            pass
    elif not is_url(text) and not text.endswith(DUCKDB_SUFFIXES) and Path(text).is_dir():
        con = connect(engine, spark_master)
        views: list[str] = []
        try:
            return _open_folder(con, Path(text), columns, tables or {}, views,
                                max_unknown_customer_pct)
        except _Fallback:
            close_connection(con, views)
        except BaseException:
            close_connection(con, views)
            raise
    elif engine != DUCKDB and (is_url(text) or Path(text).is_file()
                               or text.lower().endswith(DUCKDB_SUFFIXES)):
        raise ConfigError(
            f"engine {engine!r}: Spark reads a folder of CSV or Parquet files; data_source "
            f"{mask_password(text)} is a database; give a folder, or remove engine from the "
            "parameters (or set engine: duckdb)")
    # A DuckDB file, another database, or a folder the reader names the problem of.
    return from_dataset(read_dataset(data_source, columns, tables, password_env,
                                     max_unknown_customer_pct))


def connect(engine: str = DEFAULT_ENGINE, spark_master: str = DEFAULT_SPARK_MASTER):
    """A new Ibis connection of ``engine``: an in-memory DuckDB, or the Spark session at
    ``spark_master`` (reused when one is running in this process)."""
    if check_engine(engine) == PYSPARK:
        from segreport.engine.spark import spark_session

        return ibis.pyspark.connect(spark_session(spark_master))
    return connect_duckdb()


def close_connection(con, views: list[str] = ()) -> None:
    """Drop what was made in ``con`` (``views``) and, except for Spark, disconnect."""
    try:
        if con.name == PYSPARK:
            session = con._session
            for name in views:
                frame = _SPARK_CACHED.pop((id(session), name), None)
                if frame is not None:
                    frame.unpersist()
                session.catalog.dropTempView(name)
        else:
            con.disconnect()
    except Exception:  # noqa: BLE001 - releasing is best effort
        pass


def from_dataset(ds: Dataset, con=None) -> EngineData:
    """An already checked :class:`Dataset` loaded into ``con`` (default: a new embedded
    DuckDB)."""
    con = con if con is not None else connect_duckdb()
    big, small, views = {}, {}, []
    for name, frame in ds.tables.items():
        if name in ENGINE_TABLES:
            big[name] = register_frame(con, f"checked_{name}", _engine_frame(frame))
            views.append(f"checked_{name}")
        else:
            small[name] = frame
    return EngineData(con, big, small, ds.info(), checked_in_engine=False,
                      rows={k: len(ds.tables[k]) for k in big}, views=views)


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


# --- failures of the engine itself ------------------------------------------------------

def _setting(con, name: str, default: str) -> str:
    """A DuckDB setting of ``con`` (``default`` when it cannot be asked)."""
    try:
        value = con.raw_sql(f"SELECT current_setting('{name}')").fetchone()[0]
    except Exception:  # noqa: BLE001 - a closed connection: the configured value
        return default
    return str(value) if value not in (None, "") else default


def engine_failure(exc: BaseException, con=None, where: str = "") -> EngineError | None:
    """``exc`` as one message saying what failed and what to do, when it is a failure of
    the engine rather than of the data or the code; None otherwise.

    Parameters
    ----------
    exc
        What a query raised.
    con
        The connection it ran on (for DuckDB's memory limit and temporary folder in use).
    where
        The source, as messages show it (a database URL without password).

    Returns
    -------
    EngineError or None
        for DuckDB running out of memory or failing to read or write a file, PostgreSQL
        losing the connection (or running out of memory or disk), Spark losing its JVM or
        running out of memory; None for anything else (it is a bug: the traceback stays).
    """
    if isinstance(exc, EngineError):
        return exc
    kind = type(exc)
    module = kind.__module__ or ""
    detail = mask_password(_one_line(exc).split(" Possible solutions:")[0])[:300]
    if module.startswith(("duckdb", "_duckdb")):
        temp = _setting(con, "temp_directory", "the temporary folder") if con is not None \
            else "the temporary folder"
        if kind.__name__ == "OutOfMemoryException":
            limit = _setting(con, "memory_limit", DUCKDB_MEMORY_LIMIT) if con is not None \
                else DUCKDB_MEMORY_LIMIT
            return EngineError(
                f"DuckDB ran out of memory while computing the report ({detail}). It may use "
                f"{limit} of memory and spills what does not fit to {temp}, which needs free "
                "space too. If the machine has more memory, raise the limit with the "
                "environment variable SEGREPORT_DUCKDB_MEMORY (e.g. SEGREPORT_DUCKDB_MEMORY=4GB"
                f"; above {LARGE_ROWS:,} order rows: SEGREPORT_DUCKDB_MEMORY_LARGE); "
                "otherwise free space in that folder or close other programs, and run again")
        if kind.__name__ == "IOException":
            return EngineError(
                f"DuckDB could not read or write a file while computing the report "
                f"({detail}). Check that the data files can be read and that {temp} exists, "
                "can be written and has free space, and run again")
        return None
    if module.startswith("psycopg"):
        import psycopg

        if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
            server = mask_password(where) if where else "the PostgreSQL server"
            return EngineError(
                f"PostgreSQL failed while computing the report, at {server} ({detail}). "
                "Check that the server is up and reachable and has memory and disk to "
                "spare (a restart or a dropped network connection ends the session and its "
                "temporary tables), and run again")
        return None
    if module.startswith(("py4j", "pyspark")):
        text = str(exc)
        if module.startswith("py4j.protocol") and kind.__name__ == "Py4JNetworkError" \
                or "OutOfMemoryError" in text or "No space left" in text:
            return EngineError(
                f"Spark failed while computing the report ({detail}). Check that the Spark "
                "master is up and that the driver and executors have enough memory "
                "(spark.driver.memory, spark.executor.memory) and disk for their temporary "
                "files, and run again")
    return None


def _raise_engine_failure(exc: BaseException, con=None, where: str = "") -> None:
    """Raise :func:`engine_failure` of ``exc`` when there is one."""
    failure = engine_failure(exc, con, where)
    if failure is not None:
        raise failure from exc


# --- small frames and intermediate results on any backend --------------------------------

_SPARK_CACHED: dict[tuple[int, str], Any] = {}


def register_frame(con, name: str, frame: pd.DataFrame) -> ir.Table:
    """``frame`` copied into a temporary table ``name`` of ``con`` (replacing one of that
    name): DuckDB and PostgreSQL temporary tables (PostgreSQL through ``COPY``), a Spark
    temporary view. Meant for frames that fit in memory (the hand-made tables of tests,
    quarter boundaries, a checked dataset loaded into DuckDB)."""
    arrow = _arrow(frame)
    if con.name == DUCKDB:
        raw = con.con
        raw.register("segreport_frame", arrow)
        try:
            raw.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT * FROM segreport_frame')
        finally:
            raw.unregister("segreport_frame")
        return con.table(name)
    if con.name == POSTGRES:
        schema = ibis.Schema.from_pyarrow(arrow.schema)
        cols = ", ".join(d.sql("postgres") for d in schema.to_sqlglot_column_defs("postgres"))
        quoted = _quote(name)
        raw = con.con
        with raw.cursor() as cur, raw.transaction():
            cur.execute(f"DROP TABLE IF EXISTS pg_temp.{quoted}")
            cur.execute(f"CREATE TEMP TABLE {quoted} ({cols})")
            with cur.copy(f"COPY {quoted} FROM STDIN") as copy:
                for row in zip(*(c.to_pylist() for c in arrow.columns)):
                    copy.write_row(row)
        return con.table(name)
    if con.name == PYSPARK:
        session = con._session
        session.createDataFrame(arrow).createOrReplaceTempView(name)
        return con.table(name)
    return con.create_table(name, arrow, temp=True, overwrite=True)


def materialize(data: EngineData, expr: ir.Table, name: str) -> ir.Table:
    """``expr`` computed once into a temporary table ``segreport_<name>`` of the engine
    (cached in Spark), so that the queries reading it do not compute it again."""
    con, table = data.con, f"segreport_{name}"
    sql = con.compile(expr)
    if con.name == DUCKDB:
        con.raw_sql(f'CREATE OR REPLACE TEMP TABLE "{table}" AS {sql}')
    elif con.name == POSTGRES:
        raw = con.con
        with raw.cursor() as cur, raw.transaction():
            cur.execute(f"DROP TABLE IF EXISTS pg_temp.{_quote(table)}")
            cur.execute(f"CREATE TEMP TABLE {_quote(table)} AS {sql}")
            cur.execute(f"ANALYZE {_quote(table)}")
    elif con.name == PYSPARK:
        session = con._session
        old = _SPARK_CACHED.pop((id(session), table), None)
        if old is not None:
            old.unpersist()
        frame = session.sql(sql).cache()
        frame.createOrReplaceTempView(table)
        _SPARK_CACHED[(id(session), table)] = frame
    else:
        return con.create_table(table, expr, temp=True, overwrite=True)
    if table not in data.views:
        data.views.append(table)
    return con.table(table)


def count_true(flag: ir.BooleanValue) -> ir.IntegerScalar:
    """How many rows ``flag`` holds true for (NULL rows do not count; NULL when every row
    is NULL), as a ``COUNT``: a database's ``bigint`` everywhere, where ``SUM`` of
    integers is a 128-bit integer on DuckDB that reaches Python as one ``Decimal`` per
    row (seconds per million rows)."""
    return ibis.ifelse(flag.count() > 0, flag.nullif(False).count(), ibis.null("int64"))


def _quote(identifier: str) -> str:
    return '"' + str(identifier).replace('"', '""') + '"'


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as Arrow with types every backend takes: text as string (a column of
    nothing but missing values too), dates as microsecond timestamps."""
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    fields = []
    for f in arrow.schema:
        if pa.types.is_null(f.type) or pa.types.is_large_string(f.type) \
                or pa.types.is_string_view(f.type):
            fields.append(pa.field(f.name, pa.string()))
        elif pa.types.is_timestamp(f.type):
            fields.append(pa.field(f.name, pa.timestamp("us")))
        else:
            fields.append(f)
    return arrow.cast(pa.schema(fields))


def _engine_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Ids and text as plain strings, dates as ``datetime64[us]``."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].astype("datetime64[us]")
        elif out[col].dtype == object:
            out[col] = out[col].astype("string")
    return out


# --- opening a source ----------------------------------------------------------------------

def _open_folder(con, folder: Path, columns: dict, tables: dict[str, str],
                 views: list[str], max_unknown_customer_pct: float | None = None) -> EngineData:
    source = FolderSource(folder, tables)

    def raw_table(name: str, path: Path) -> ir.Table:
        view = f"segreport_file_{name}"
        views.append(view)
        return _read_file(con, path, view)

    return _open_tables(con, source, str(folder), columns, raw_table, views,
                        max_unknown_customer_pct)


def _open_postgres(url: str, columns: dict, tables: dict[str, str], password_env: str,
                   max_unknown_customer_pct: float | None = None) -> EngineData:
    """The tables of a PostgreSQL database, checked and computed in it. The tables are
    found (and a missing one named) through :class:`SqlSource`, which also says what is
    wrong when the server cannot be reached or the password is refused."""
    with SqlSource(url, tables, password_env) as source:
        source._connect()  # the connection errors, with their hints
        con = _connect_postgres(source)

        def raw_table(name: str, where) -> ir.Table:
            schema, bare = _split_name(source.table_name(name))
            try:
                return con.table(bare, database=schema)
            except Exception:  # noqa: BLE001 - e.g. a type Ibis does not know: the reader
                raise _Fallback from None

        try:
            return _open_tables(con, source, str(source.location), columns, raw_table, [],
                                max_unknown_customer_pct)
        except BaseException:
            close_connection(con)
            raise


def _connect_postgres(source: SqlSource):
    """``ibis.postgres.connect`` with the URL's user, host, port, database and query
    options and the password from the environment (never shown)."""
    url = source.url
    secret = os.environ.get(source.password_env) or None
    kwargs: dict[str, Any] = {"host": url.host, "user": url.username,
                              "database": url.database, "password": secret,
                              "port": url.port or 5432, "connect_timeout": 15}
    for key, value in url.query.items():
        kwargs[key] = value if isinstance(value, str) else value[-1]
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    try:
        con = ibis.postgres.connect(**kwargs)
        # The queries are few and large: compiling each with LLVM (PostgreSQL's JIT) took
        # longer than running it (2.7 of 7.1 s for the 1M-order panel).
        con.raw_sql("SET jit = off").close()
        return con
    except Exception as exc:  # noqa: BLE001 - the driver's message, without the secret
        raise DataError(str(source.location),
                        f"cannot connect to the database ({_one_line(exc, secret)})",
                        hint="check the host, port and database in data_source and the "
                             f"password in the environment variable {source.password_env}"
                        ) from None


def _open_tables(con, source, location: str, columns: dict, raw_table, views: list[str],
                 max_unknown_customer_pct: float | None = None) -> EngineData:
    """Find, type and check every contract table of ``source`` in ``con``.

    ``raw_table(name, where)`` gives the table ``name`` found at ``where`` as it is (the
    user's column names and types) on ``con``."""
    big: dict[str, ir.Table] = {}
    small: dict[str, pd.DataFrame] = {}
    files: dict[str, Any] = {}
    present: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for name, spec in C.CONTRACT.items():
        where = source.find(name)
        if where is None:
            if spec.required:
                raise source.missing(name)
            continue
        files[name] = where
        if name not in ENGINE_TABLES:
            frame, _ = read_table(source.location, name, columns.get(name), source)
            small[name], present[name] = frame, list(frame.columns)
            counts[name] = len(frame)
            continue
        raw = raw_table(name, where)
        typed = _typed(raw, spec, _user_names(spec, columns.get(name, {}), raw.columns))
        n = _check(typed, con)
        big[name], present[name], counts[name] = typed.drop("__problem"), _present(typed), n
    quality = [QualityNote(name, files[name].name, counts[name]) for name in present]
    info = DatasetInfo(location, {k: str(v) for k, v in files.items()}, present, quality,
                       {t: dict(m) for t, m in columns.items() if m})
    data = EngineData(con, big, small, info, rows={k: counts[k] for k in big}, views=views)
    if con.name == DUCKDB and counts[C.ORDERS] > LARGE_ROWS:
        con.raw_sql(f"SET memory_limit = '{LARGE_MEMORY_LIMIT}'")
    orders_read, customers_read = big[C.ORDERS], big.get(C.CUSTOMERS)
    try:
        _clean_customers(data, files)
        _clean_orders(data, files, counts[C.ORDERS], columns.get(C.ORDERS, {}),
                      max_unknown_customer_pct)
        _describe_customers(data)
        _count_unit_rows(data, orders_read, customers_read)
    except _Fallback:
        raise
    except (DataError, ConfigError):
        raise
    except Exception as exc:  # noqa: BLE001 - a query the engine refused: the reader says why
        _raise_engine_failure(exc, con, location)
        raise _Fallback from None
    return data


def _read_file(con, path: Path, view: str) -> ir.Table:
    """A CSV (every cell as text) or Parquet file as a table of ``con``."""
    try:
        if path.suffix == ".csv":
            if path.stat().st_size == 0 or len(set(header := check_csv_header(path))) != len(header):
                raise _Fallback
            if con.name == PYSPARK:
                return con.read_csv(str(path), table_name=view, header=True,
                                    inferSchema=False, multiLine=True, quote='"', escape='"',
                                    mode="FAILFAST", encoding="UTF-8")
            return con.read_csv(str(path), table_name=view, all_varchar=True, header=True,
                                delim=",", quote='"', escape='"', strict_mode=True)
        return con.read_parquet(str(path), table_name=view)
    except _Fallback:
        raise
    except Exception as exc:  # noqa: BLE001 - any reading problem: the reader names it
        _raise_engine_failure(exc, con)
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
            # Only text of the right shape is cast: PostgreSQL's cast fails on bad text
            # where DuckDB's and Spark's TRY_CAST give NULL.
            value = ibis.ifelse(shaped, s, ibis.null("string")).try_cast("timestamp")
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
            value = ibis.ifelse(shaped & (s != ""), s, ibis.null("string")).try_cast("float64")
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


def _check(typed: ir.Table, con=None) -> int:
    """Rows of the table; raises :class:`_Fallback` when a row has a problem or there is
    no row (:class:`EngineError` when the engine itself fails)."""
    try:
        row = typed.aggregate(n=typed.count(),
                              bad=count_true(typed["__problem"])).execute()
    except Exception as exc:  # noqa: BLE001 - e.g. PostgreSQL refusing 2026-02-30 as a date
        _raise_engine_failure(exc, con)
        raise _Fallback from None
    n, bad = int(row["n"].iloc[0]), row["bad"].iloc[0]
    if n == 0 or (pd.notna(bad) and int(bad) > 0):
        raise _Fallback
    return n


def _scalar(expr) -> Any:
    return expr.execute()


def _clean_customers(data: EngineData, files: dict[str, Path]) -> None:
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
        raise _Fallback
    for col, key in ((C.SEGMENT, "seg"), (C.BUSINESS_UNIT, "unit")):
        missing = int(row[key] or 0)
        if missing:
            data.info.quality.append(QualityNote(C.CUSTOMERS, files[C.CUSTOMERS].name, n, 0,
                                                 unassigned_note(missing, col)))
    data.tables[C.CUSTOMERS] = cust.mutate(**{
        C.SEGMENT: cust[C.SEGMENT].fill_null(C.UNASSIGNED),
        C.BUSINESS_UNIT: cust[C.BUSINESS_UNIT].fill_null(C.UNASSIGNED)})


def _clean_orders(data: EngineData, files: dict[str, Path], n: int,
                  mapping: dict[str, str] | None = None,
                  max_unknown_customer_pct: float | None = None) -> None:
    """Exact duplicate rows and orders of customers absent from the customers table are
    dropped, with a note (``n``: rows of the orders table); beyond
    ``max_unknown_customer_pct`` % of the rows, the latter stop the run."""
    orders = data.tables[C.ORDERS]
    name = files[C.ORDERS].name
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


def _describe_customers(data: EngineData) -> None:
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


def _count_unit_rows(data: EngineData, orders_read: ir.Table,
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


__all__ = ["DEFAULT_ENGINE", "DEFAULT_SPARK_MASTER", "ENGINES", "ENGINE_TABLES", "EngineData",
           "check_engine", "connect", "count_true", "engine_failure", "from_dataset",
           "materialize", "open_engine", "register_frame"]
