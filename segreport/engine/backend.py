"""The engine's connections (DuckDB, Spark, PostgreSQL), their failures told as one
message, and the small frames and intermediate tables the queries need."""
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

from segreport.data.dataset import DatasetInfo
from segreport.data.sources import _one_line
from segreport.engine.options import (
    DEFAULT_ENGINE,
    DEFAULT_SPARK_MASTER,
    DUCKDB,
    PYSPARK,
    check_engine,
)
from segreport.errors import EngineError
from segreport.secret_params import mask_password

POSTGRES = "postgres"


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


def raise_engine_failure(exc: BaseException, con=None, where: str = "") -> None:
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


def fetched(expr: ir.Table) -> pd.DataFrame:
    """The rows of ``expr`` as a pandas frame; on DuckDB column by column through Arrow.

    For a frame of one row per customer: Ibis's DuckDB ``execute`` turns every column that
    holds a NULL into Python objects one value at a time (about 4 s for 500,000 customers
    where the query itself takes 0.4 s). Types are Arrow's: text ``str``, timestamps at the
    engine's unit, integers with a NULL ``float64``. Other engines: ``execute`` (Ibis's
    Spark ``to_pyarrow`` goes through pandas itself).
    """
    if ibis.get_backend(expr).name == DUCKDB:
        return expr.to_pyarrow().to_pandas()
    return expr.execute()


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


def engine_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Ids and text as plain strings, dates as ``datetime64[us]``."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].astype("datetime64[us]")
        elif out[col].dtype == object:
            out[col] = out[col].astype("string")
    return out
