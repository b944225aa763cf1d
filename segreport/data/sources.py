"""Where the user's tables come from: a folder, a DuckDB file or a database URL.

A *source* finds each contract table and returns it raw, with the user's own column names
(only the columns wanted), plus a name to show in messages; :mod:`segreport.data.read`
then checks and types it exactly as it does a file. ``data_source`` (or ``data_dir``) is

* a folder with ``<table>.csv`` or ``<table>.parquet`` files (:class:`FolderSource`);
* a DuckDB file, ``crm.duckdb`` or ``duckdb:///path/crm.duckdb`` (:class:`DuckDBSource`);
* any SQLAlchemy URL, e.g. ``postgresql+psycopg://analyst@db:5432/crm``
  (:class:`SqlSource`).

``tables:`` maps contract tables to the user's table names (``orders: sales.orders``); a
table not named there is looked up under its contract name. Only the wanted columns are
selected (``SELECT "col", ... FROM "schema"."table"``).

Credentials never travel as parameters (papermill writes every parameter into the executed
notebook): a URL with a password is refused, and the password is read from the environment
variable named by ``password_env`` when connecting.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Self

import pandas as pd

from segreport.data.table_files import find_table_file, read_raw
from segreport.errors import ConfigError, DataError
from segreport.secret_params import (
    DEFAULT_PASSWORD_ENV,
    check_env_name,
    check_no_password,
    is_url,
    secret_from_env,
)

DUCKDB_SUFFIXES = (".duckdb", ".ddb")
DUCKDB_SCHEME = "duckdb://"


class Location(str):
    """The name of a database table (or of a database) as messages show it, e.g.
    ``postgresql://analyst@db:5432/crm table sales.orders``.

    It stands where a file :class:`~pathlib.Path` stands for a folder source, so it has the
    few attributes :mod:`segreport.data.read` uses: ``name`` (the short name, for the
    data-quality notes), ``suffix`` (empty: row numbers are 1-based result rows) and
    ``/ table``.
    """

    suffix = ""
    noun = "table"

    def __new__(cls, text: str, name: str | None = None) -> Self:
        obj = super().__new__(cls, text)
        obj.name = name or text
        return obj

    def __truediv__(self, table: str) -> Location:
        return Location(f"{self} table {table}", table)


def absolute(data_source: str) -> str:
    """A folder or DuckDB path made absolute; a URL as it is (for the notebook's title)."""
    text = str(data_source).strip()
    if is_url(text):
        return text
    return str(Path(text).resolve())


# --- opening a source --------------------------------------------------------------------

def open_source(data_source: str | Path, tables: dict[str, str] | None = None,
                password_env: str = DEFAULT_PASSWORD_ENV,
                ) -> FolderSource | DuckDBSource | SqlSource:
    """The source that ``data_source`` names: a DuckDB file, a SQLAlchemy URL or a folder.

    Use it as a context manager (``with open_source(...) as src``) so that a database
    connection is closed after reading.
    """
    tables = dict(tables or {})
    if isinstance(data_source, Path):
        text = str(data_source)
    else:
        text = str(data_source).strip()
    if text.lower().startswith(DUCKDB_SCHEME):
        return DuckDBSource(_duckdb_path(text), tables)
    if is_url(text):
        return SqlSource(text, tables, password_env)
    path = Path(text)
    if (path.suffix.lower() in DUCKDB_SUFFIXES and not path.is_dir()) or (
            path.is_file() and _looks_like_duckdb(path)):
        return DuckDBSource(path, tables)
    return FolderSource(path, tables)


def _duckdb_path(text: str) -> Path:
    rest = text[len(DUCKDB_SCHEME):]
    if not rest.startswith("/") or rest == "/":
        raise ConfigError(f"data_source {text!r}: write a DuckDB file as duckdb:///relative/path"
                          ".duckdb or duckdb:////absolute/path.duckdb, or give the path alone")
    return Path(rest[1:].split("?", 1)[0])


def _looks_like_duckdb(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(12)[8:12] == b"DUCK"
    except OSError:
        return False


class _Source:
    """What every source has: ``location`` (the ``Dataset.data_dir``), the tables mapping,
    and the context-manager protocol."""

    location: Any
    tables: dict[str, str]

    def table_name(self, table: str) -> str:
        return str(self.tables.get(table) or table).strip()

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FolderSource(_Source):
    """One ``<table>.csv`` or ``<table>.parquet`` per table in a folder (``tables:`` may
    rename the file stem)."""

    noun = "file"

    def __init__(self, folder: str | Path, tables: dict[str, str] | None = None,
                 must_exist: bool = True):
        self.location = Path(folder)
        self.tables = dict(tables or {})
        if must_exist and not self.location.is_dir():
            hint = "check data_dir in the params file, or set it with --set data_dir=FOLDER"
            if str(folder).strip() and not self.location.exists():
                hint += (" (data_source may also name a DuckDB file such as crm.duckdb or a "
                         "database URL such as postgresql+psycopg://user@host/db)")
            raise DataError(str(self.location), "data folder not found", hint=hint)

    def find(self, table: str) -> Path | None:
        return find_table_file(self.location, self.table_name(table))

    def read(self, where: Path, wanted: dict[str, str]) -> pd.DataFrame:
        return read_raw(where, wanted)

    def missing(self, table: str) -> DataError:
        name, folder = self.table_name(table), self.location
        present = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
        return DataError(str(folder / f"{name}.csv"), "required file is missing",
                         hint=f"put {name}.csv or {name}.parquet in {folder} (files "
                         f"present: {', '.join(present) or 'none'})")


def _split_name(name: str) -> tuple[str | None, str]:
    """``sales.orders`` → (``sales``, ``orders``); ``orders`` → (None, ``orders``)."""
    schema, _, table = name.rpartition(".")
    return (schema or None), table


def _missing_table(source: Any, table: str, present: list[str]) -> DataError:
    name = source.table_name(table)
    shown = ", ".join(present[:15])
    if len(present) > 15:
        shown += f", … ({len(present) - 15} more)"
    return DataError(
        str(Location(f"{source.location} table {name}")),
        f"required table not found (the contract's {table} table)",
        hint=f"create it, or name the table that holds the {table} with `tables: {{{table}: "
             f"schema.table}}` in the params file (tables present: {shown or 'none'})")


class DuckDBSource(_Source):
    """Tables of a DuckDB database file, opened read-only."""

    noun = "table"

    def __init__(self, path: str | Path, tables: dict[str, str] | None = None):
        self.path = Path(path)
        self.location = Location(str(self.path), self.path.name)
        self.tables = dict(tables or {})
        self._con = None
        self._headers: dict[str, tuple[tuple[str, str, str], list[str]]] = {}
        if not self.path.is_file():
            raise DataError(str(self.path), "DuckDB file not found",
                            hint="check data_source in the params file, or set it with "
                                 "--set data_source=PATH.duckdb")

    def _connect(self):
        if self._con is None:
            import duckdb

            try:
                self._con = duckdb.connect(str(self.path), read_only=True)
            except duckdb.Error as exc:
                raise DataError(str(self.path), f"cannot be opened as a DuckDB database "
                                f"({_one_line(exc)})",
                                hint="check that it is a DuckDB file that no other program "
                                     "is writing to") from None
        return self._con

    def find(self, table: str) -> Location | None:
        name = self.table_name(table)
        schema, bare = _split_name(name)
        con = self._connect()
        rows = con.execute(
            "SELECT table_catalog, table_schema, table_name, column_name "
            "FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND lower(table_name) = lower(?) "
            "AND lower(table_schema) = lower(coalesce(?, current_schema())) "
            "ORDER BY ordinal_position", [bare, schema]).fetchall()
        if not rows:
            return None
        where = Location(f"{self.location} table {name}", name)
        # Fully qualified: in crm.duckdb a schema crm is otherwise ambiguous with the catalog.
        self._headers[where] = (rows[0][:3], [r[3] for r in rows])
        return where

    def read(self, where: Location, wanted: dict[str, str]) -> pd.DataFrame:
        import duckdb

        qualified, header = self._headers[where]
        use = [c for c in header if c in set(wanted.values())]
        if use:
            sql = f"SELECT {', '.join(map(_quote, use))} FROM {'.'.join(map(_quote, qualified))}"
            try:
                frame = self._connect().execute(sql).df()
            except duckdb.Error as exc:
                raise DataError(str(where), f"cannot be read ({_one_line(exc)})") from None
        else:
            frame = pd.DataFrame()
        frame.attrs["header"] = header
        return frame.reset_index(drop=True)

    def missing(self, table: str) -> DataError:
        present = [f"{s}.{t}" if s != "main" else t for s, t in self._connect().execute(
            "SELECT DISTINCT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() ORDER BY 1, 2").fetchall()]
        return _missing_table(self, table, present)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def _quote(identifier: str) -> str:
    return '"' + str(identifier).replace('"', '""') + '"'


def _one_line(exc: BaseException, secret: str | None = None) -> str:
    text = " ".join(str(exc).split())
    text = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", text)
    if secret:
        text = text.replace(secret, "***")
    return text


class SqlSource(_Source):
    """Tables of any database SQLAlchemy can reach (``postgresql+psycopg://…``).

    The URL carries no password; the one in the environment variable ``password_env`` is
    added with :meth:`sqlalchemy.engine.URL.set` when connecting, and never shown.
    """

    noun = "table"

    def __init__(self, url: str, tables: dict[str, str] | None = None,
                 password_env: str = DEFAULT_PASSWORD_ENV):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        check_env_name(password_env)
        check_no_password(url, password_env)
        try:
            self.url = make_url(url)
        except ArgumentError:
            raise ConfigError(f"data_source {url!r} is not a database URL such as "
                              "postgresql+psycopg://user@host:5432/database") from None
        self.password_env = password_env
        self.location = Location(self.url.render_as_string(hide_password=True),
                                 self.url.database or self.url.host or str(self.url))
        self.tables = dict(tables or {})
        self._conn = self._engine = self._inspector = None
        self._secret: str | None = None
        self._headers: dict[str, tuple[str | None, str, list[str]]] = {}

    def _connect(self):
        if self._conn is not None:
            return self._conn
        import sqlalchemy as sa
        from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError
        from sqlalchemy.pool import NullPool

        self._secret = secret_from_env(self.password_env)
        url = self.url.set(password=self._secret) if self._secret else self.url
        connect_args = {}
        if self.url.get_backend_name() == "postgresql" and "connect_timeout" not in self.url.query:
            connect_args["connect_timeout"] = 15
        try:
            self._engine = sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
        except (NoSuchModuleError, ImportError) as exc:
            raise ConfigError(f"data_source {self.location}: no database driver for "
                              f"'{self.url.drivername}' ({_one_line(exc)}); install it, or use "
                              "postgresql+psycopg://user@host:port/database") from None
        try:
            self._conn = self._engine.connect()
        except SQLAlchemyError as exc:
            detail = _one_line(getattr(exc, "orig", None) or exc, self._secret)
            auth = any(w in detail.lower() for w in ("password", "authentication"))
            if self._secret and auth:
                hint = (f"check the password in the environment variable {self.password_env} "
                        "(named by password_env) and the user in data_source")
            elif self._secret or not auth:
                hint = ("check the host, port and database in data_source and that the "
                        "server is running and reachable" + ("" if self._secret else
                        f" (the environment variable {self.password_env}, named by "
                        "password_env, is not set: no password was sent)"))
            else:
                hint = (f"the environment variable {self.password_env} (named by password_env) "
                        "is not set: set it to the database password, e.g. `export "
                        f"{self.password_env}=...`; also check the user and host in data_source")
            self._engine.dispose()
            raise DataError(str(self.location), f"cannot connect to the database ({detail})",
                            hint=hint) from None
        self._inspector = sa.inspect(self._conn)
        return self._conn

    def _fail(self, where: str, exc: Exception, what: str = "cannot be read") -> DataError:
        detail = _one_line(getattr(exc, "orig", None) or exc, self._secret)
        return DataError(str(where), f"{what} ({detail})",
                         hint="check that the user in data_source may read it")

    def find(self, table: str) -> Location | None:
        from sqlalchemy.exc import SQLAlchemyError

        name = self.table_name(table)
        schema, bare = _split_name(name)
        self._connect()
        where = Location(f"{self.location} table {name}", name)
        try:
            if not self._inspector.has_table(bare, schema=schema):
                return None
            header = [c["name"] for c in self._inspector.get_columns(bare, schema=schema)]
        except SQLAlchemyError as exc:
            self._conn.rollback()
            raise self._fail(where, exc, "cannot be looked up") from None
        self._headers[where] = (schema, bare, header)
        return where

    def read(self, where: Location, wanted: dict[str, str]) -> pd.DataFrame:
        import sqlalchemy as sa
        from sqlalchemy.exc import SQLAlchemyError

        schema, bare, header = self._headers[where]
        use = [c for c in header if c in set(wanted.values())]
        if use:
            # SQLAlchemy quotes each identifier where the dialect needs it (case, spaces,
            # reserved words), so the names match the catalogue's exactly.
            query = sa.select(*sa.table(bare, *map(sa.column, use), schema=schema).c)
            try:
                frame = pd.read_sql(query, self._conn)
            except SQLAlchemyError as exc:
                self._conn.rollback()
                raise self._fail(where, exc) from None
        else:
            frame = pd.DataFrame()
        frame.attrs["header"] = header
        return frame.reset_index(drop=True)

    def missing(self, table: str) -> DataError:
        from sqlalchemy.exc import SQLAlchemyError

        schema, _ = _split_name(self.table_name(table))
        try:
            names = self._inspector.get_table_names(schema=schema)
            names += self._inspector.get_view_names(schema=schema)
        except SQLAlchemyError:  # only for the hint
            names = []
        present = [f"{schema}.{n}" if schema else n for n in sorted(names)]
        return _missing_table(self, table, present)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._engine is not None:
            self._engine.dispose()
        self._conn = self._engine = self._inspector = None
        self._secret = None

