"""A throwaway PostgreSQL server from Debian's packages, for the tests and the benchmarks.

``make test`` installs the server binaries (target ``db-deps``). ``initdb`` and ``pg_ctl``
refuse to run as root, so as root they run as the ``postgres`` user. The server listens on
127.0.0.1 with password authentication, has the role ``analyst`` (password
:data:`PASSWORD`) and preloads ``pg_stat_statements`` (what a test uses to see what came
back from the server).
"""
from __future__ import annotations

import glob
import io
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PASSWORD = "Pg-s3cret-4b1f9e-analyst"  # unique: searched for in every output file
USER = "analyst"


class ClusterError(RuntimeError):
    pass


@dataclass
class Cluster:
    port: int
    root: Path
    bindir: Path

    def url(self, database: str, user: str = USER) -> str:
        """What the user writes: no password."""
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def admin_url(self, database: str = "postgres") -> str:
        """The superuser over the server's socket (trusted: no password)."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.root}&port={self.port}"

    def admin(self, database: str = "postgres"):
        """A psycopg connection of the superuser, in autocommit mode."""
        import psycopg

        return psycopg.connect(host=str(self.root), port=self.port, user="postgres",
                               dbname=database, autocommit=True)

    def create_database(self, name: str, owner: str = USER) -> str:
        """A new database ``name`` owned by ``owner`` with ``pg_stat_statements``; returns
        its URL (without password)."""
        with self.admin() as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}"')
            con.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        with self.admin(name) as con:
            con.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        return self.url(name)

    def stop(self) -> None:
        subprocess.run([*_as_postgres(), str(self.bindir / "pg_ctl"), "-D",
                        str(self.root / "data"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list, what: str) -> None:
    done = subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=60, check=False)
    if done.returncode:
        raise ClusterError(f"{what} failed ({done.returncode}): {done.stderr or done.stdout}")


def start(settings: dict[str, str] | None = None) -> Cluster:
    """Start a server in a new temporary folder (``settings``: extra ``-c`` options)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise ClusterError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
                           "`make test` installs it (target db-deps: apt-get install postgresql)")
    bindir = Path(found[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="segreport-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", _free_port()
    _run([*_as_postgres(), bindir / "initdb", "-D", data, "-U", "postgres", "-E", "UTF8",
          "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"], "initdb")
    options = {"listen_addresses": "127.0.0.1", "fsync": "off",
               "shared_preload_libraries": "pg_stat_statements", **(settings or {})}
    opts = " ".join(f"-c {k}={v}" for k, v in options.items())
    _run([*_as_postgres(), bindir / "pg_ctl", "-w", "-D", data, "-l", root / "server.log", "-o",
          f"-p {port} -k {root} {opts}", "start"], "pg_ctl start")
    cluster = Cluster(port, root, bindir)
    try:
        with cluster.admin() as con:
            con.execute(f"CREATE ROLE {USER} WITH LOGIN PASSWORD '{PASSWORD}'")
    except BaseException:
        cluster.stop()
        raise
    return cluster


# --- loading tables -------------------------------------------------------------------------

def _pg_type(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "date"  # the sample's dates are days
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_floating(t):
        return "double precision"
    if pa.types.is_boolean(t):
        return "boolean"
    return "text"


def load_frame(con, table: str, frame: pd.DataFrame, types: dict[str, str] | None = None,
               schema: str | None = None) -> None:
    """``frame`` into a new table through ``COPY`` (``types``: column → SQL type, else from
    the frame: dates as ``date``, integers ``bigint``, floats ``double precision``)."""
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    types = types or {}
    cols = ", ".join(f'"{f.name}" {types.get(f.name) or _pg_type(f.type)}' for f in arrow.schema)
    target = f'"{schema}"."{table}"' if schema else f'"{table}"'
    if schema:
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    con.execute(f"CREATE TABLE {target} ({cols})")
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, date_format="%Y-%m-%d", na_rep="")
    names = ", ".join(f'"{c}"' for c in frame.columns)
    with con.cursor() as cur:
        with cur.copy(f"COPY {target} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
    con.execute(f"ANALYZE {target}")


def load_folder(cluster: Cluster, database: str, folder: Path,
                types: dict[str, dict[str, str]] | None = None) -> str:
    """Every ``<table>.parquet`` of ``folder`` into a new database ``database`` (owned by
    the analyst); returns its URL. ``types``: per table, column → SQL type."""
    url = cluster.create_database(database)
    with cluster.admin(database) as con:
        con.execute(f"SET ROLE {USER}")
        for path in sorted(Path(folder).glob("*.parquet")):
            load_frame(con, path.stem, pq.read_table(path).to_pandas(),
                       (types or {}).get(path.stem))
    return url
