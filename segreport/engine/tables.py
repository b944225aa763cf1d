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

import re
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from segreport import columns as C
from segreport.data.dataset import Dataset, DatasetInfo, QualityNote
from segreport.data.read import read_dataset, read_table
from segreport.data.sources import (
    DUCKDB_SUFFIXES,
    FolderSource,
    SqlSource,
    _one_line,
    _split_name,
)
from segreport.data.table_files import check_csv_header
from segreport.engine.backend import (
    LARGE_MEMORY_LIMIT,
    LARGE_ROWS,
    EngineData,
    close_connection,
    connect,
    connect_duckdb,
    engine_frame,
    raise_engine_failure,
    register_frame,
)
from segreport.engine.checks import (
    ReaderFallback,
    check_typed,
    typed_columns,
    user_names,
)
from segreport.engine.clean import (
    clean_customers,
    clean_orders,
    count_unit_rows,
    customer_aggregates,
    customers_by_unit,
    describe_customers,
    order_aggregates,
    rows_by_unit,
)
from segreport.engine.options import (
    DEFAULT_ENGINE,
    DEFAULT_SPARK_MASTER,
    DUCKDB,
    PYSPARK,
    check_engine,
)
from segreport.errors import ConfigError, DataError
from segreport.secret_params import (
    DEFAULT_PASSWORD_ENV,
    is_url,
    mask_password,
    secret_from_env,
)

ENGINE_TABLES = (C.ORDERS, C.CUSTOMERS, C.SURVEYS)
"""Tables that can be large: checked and kept in the engine. The small period tables
(spend, market size, segmentation costs) are read by the reference reader."""


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
        raise_engine_failure(exc, where=mask_password(str(data_source)))
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
        except ReaderFallback:
            pass
    elif not is_url(text) and not text.endswith(DUCKDB_SUFFIXES) and Path(text).is_dir():
        con = connect(engine, spark_master)
        views: list[str] = []
        try:
            return _open_folder(con, Path(text), columns, tables or {}, views,
                                max_unknown_customer_pct)
        except ReaderFallback:
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


def from_dataset(ds: Dataset, con=None) -> EngineData:
    """An already checked :class:`Dataset` loaded into ``con`` (default: a new embedded
    DuckDB)."""
    con = con if con is not None else connect_duckdb()
    big, small, views = {}, {}, []
    for name, frame in ds.tables.items():
        if name in ENGINE_TABLES:
            big[name] = register_frame(con, f"checked_{name}", engine_frame(frame))
            views.append(f"checked_{name}")
        else:
            small[name] = frame
    return EngineData(con, big, small, ds.info(), checked_in_engine=False,
                      rows={k: len(ds.tables[k]) for k in big}, views=views)


CHECKED_WITH = {C.ORDERS: order_aggregates, C.CUSTOMERS: customer_aggregates}
"""Per table, aggregates its cleaning needs, computed in the query that checks it (given
the table and the engine's name)."""


def _nothing(table: ir.Table, engine: str) -> dict:
    return {}


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
                raise ReaderFallback from None

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
    secret = secret_from_env(source.password_env)
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
    stats: dict[str, pd.Series] = {}
    found = {name: source.find(name) for name in C.CONTRACT}
    # With a customers table, an order's customer id is checked by finding it there.
    known_ids = {C.ORDERS: (C.CUSTOMER_ID,)} if found[C.CUSTOMERS] is not None else {}
    for name, spec in C.CONTRACT.items():
        where = found[name]
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
        cols, problem = typed_columns(raw, spec, user_names(spec, columns.get(name, {}),
                                                            raw.columns), known_ids.get(name, ()))
        checked = raw.select(**cols, __problem=problem)
        stats[name] = check_typed(checked, con,
                                  CHECKED_WITH.get(name, _nothing)(checked, con.name))
        counts[name] = int(stats[name]["n"])
        # The checked table carries its typed columns only, not the check: every later
        # query is compiled from it, and a smaller expression compiles faster.
        big[name], present[name] = raw.select(**cols), list(cols)
    quality = [QualityNote(name, files[name].name, counts[name]) for name in present]
    info = DatasetInfo(location, {k: str(v) for k, v in files.items()}, present, quality,
                       {t: dict(m) for t, m in columns.items() if m})
    data = EngineData(con, big, small, info, rows={k: counts[k] for k in big}, views=views)
    if con.name == DUCKDB and counts[C.ORDERS] > LARGE_ROWS:
        con.raw_sql(f"SET memory_limit = '{LARGE_MEMORY_LIMIT}'")
    orders_read, customers_read = big[C.ORDERS], big.get(C.CUSTOMERS)
    try:
        clean_customers(data, files, stats.get(C.CUSTOMERS))
        by_unit = rows_by_unit({t: big[t] for t in (C.ORDERS, C.SURVEYS) if t in big},
                               customers_read)
        clean_orders(data, files, stats[C.ORDERS], columns.get(C.ORDERS, {}),
                      max_unknown_customer_pct, by_unit)
        customers = customers_by_unit(customers_read)
        describe_customers(data, customers)
        count_unit_rows(data, orders_read, customers_read, customers, by_unit)
    except ReaderFallback:
        raise
    except (DataError, ConfigError):
        raise
    except Exception as exc:  # noqa: BLE001 - a query the engine refused: the reader says why
        raise_engine_failure(exc, con, location)
        raise ReaderFallback from None
    return data


def _read_file(con, path: Path, view: str) -> ir.Table:
    """A CSV (every cell as text) or Parquet file as a table of ``con``."""
    try:
        if path.suffix == ".csv":
            if path.stat().st_size == 0 or len(set(header := check_csv_header(path))) != len(header):
                raise ReaderFallback
            if con.name == PYSPARK:
                return con.read_csv(str(path), table_name=view, header=True,
                                    inferSchema=False, multiLine=True, quote='"', escape='"',
                                    mode="FAILFAST", encoding="UTF-8")
            return con.read_csv(str(path), table_name=view, all_varchar=True, header=True,
                                delim=",", quote='"', escape='"', strict_mode=True)
        return con.read_parquet(str(path), table_name=view)
    except ReaderFallback:
        raise
    except Exception as exc:  # noqa: BLE001 - any reading problem: the reader names it
        raise_engine_failure(exc, con)
        raise ReaderFallback from None


__all__ = ["ENGINE_TABLES", "EngineData", "from_dataset", "is_postgres_url", "open_engine"]
