"""Data sources besides a folder: a DuckDB file and a database URL (a real PostgreSQL).

The PostgreSQL tests start a throwaway server from Debian's packages (``make test`` installs
them through its ``db-deps`` target); without them they fail, they do not skip.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import nbformat
import pandas as pd
import pytest
import sqlalchemy as sa
from pgcluster import PASSWORD  # unique: searched for in every output file
from sqlalchemy.pool import NullPool

from segreport import columns as C
from segreport.cli import main
from segreport.config import load_params
from segreport.data import read_dataset
from segreport.errors import ConfigError, DataError
from segreport.sample import generate_sample

ENV = "SEGREPORT_DB_PASSWORD"
# The user's own names: tables in schemas, some columns renamed (spaces, capitals).
TABLES = {C.ORDERS: "sales.orders", C.CUSTOMERS: "crm.customers"}
COLUMNS = {C.ORDERS: {C.ORDER_ID: "Order No", C.CUSTOMER_ID: "Customer", C.AMOUNT: "Amount EUR"},
           C.CUSTOMERS: {C.CUSTOMER_ID: "Customer", C.SEGMENT: "Tier"}}


def user_table(table: str) -> tuple[str | None, str]:
    schema, _, name = TABLES.get(table, table).rpartition(".")
    return schema or None, name


def user_columns(table: str) -> dict[str, str]:
    return COLUMNS.get(table, {})


# --- data --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def csv_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("csv")
    generate_sample(folder, n_customers=200, fmt="csv")
    return folder


@pytest.fixture(scope="session")
def from_csv(csv_dir):
    return read_dataset(csv_dir)


def assert_same_dataset(got, expected, absent=()):
    assert set(got.tables) == set(expected.tables) - set(absent)
    for name, frame in got.tables.items():
        pd.testing.assert_frame_equal(frame, expected.tables[name], obj=name)
    def strip(ds):
        return [(q.table, q.rows_read, q.rows_dropped, q.note) for q in ds.quality]
    assert strip(got) == [q for q in strip(expected) if q[0] not in absent]


# --- DuckDB ------------------------------------------------------------------------------

def write_duckdb(path: Path, csv_dir: Path, skip: tuple[str, ...] = ()) -> Path:
    """The sample's tables in a DuckDB file, typed by DuckDB's CSV sniffer, under the
    user's table and column names, with an extra column nobody asked for."""
    con = duckdb.connect(str(path))
    try:
        for table in C.CONTRACT:
            if table in skip:
                continue
            schema, name = user_table(table)
            if schema:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            # catalog.schema.table: in crm.duckdb the schema crm is ambiguous otherwise
            target = f"{path.stem}.{schema}.{name}" if schema else name
            con.execute(f"CREATE TABLE {target} AS SELECT * FROM read_csv('{csv_dir / table}.csv')")
            for ours, theirs in user_columns(table).items():
                con.execute(f'ALTER TABLE {target} RENAME "{ours}" TO "{theirs}"')
            if table == C.ORDERS:
                con.execute(f"ALTER TABLE {target} ADD COLUMN notes VARCHAR DEFAULT 'x'")
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def duck(tmp_path_factory, csv_dir) -> Path:
    return write_duckdb(tmp_path_factory.mktemp("duck") / "crm.duckdb", csv_dir)


@pytest.mark.parametrize("form", ["path", "url"])
def test_duckdb_gives_the_same_dataset_as_the_csv_files(duck, from_csv, form):
    source = str(duck) if form == "path" else f"duckdb:///{duck}"
    got = read_dataset(source, COLUMNS, TABLES)
    assert_same_dataset(got, from_csv)
    assert str(got.files[C.ORDERS]) == f"{duck} table sales.orders"
    assert got.quality[0].file == "sales.orders"
    assert got.user_column(C.ORDERS, C.AMOUNT) == "Amount EUR"


def test_duckdb_non_numeric_amount_names_source_table_column_and_row(tmp_path, csv_dir):
    path = write_duckdb(tmp_path / "bad.duckdb", csv_dir)
    con = duckdb.connect(str(path))
    con.execute('ALTER TABLE sales.orders ALTER "Amount EUR" TYPE VARCHAR')
    con.execute("""UPDATE sales.orders SET "Amount EUR" = 'abc' WHERE "Order No" = (
                   SELECT "Order No" FROM sales.orders LIMIT 1 OFFSET 2)""")
    con.close()
    with pytest.raises(DataError) as info:
        read_dataset(path, COLUMNS, TABLES)
    err = info.value
    assert err.file == f"{path} table sales.orders"
    assert err.column == "Amount EUR" and err.values == ["abc"]
    assert err.rows == [3] and "(row 3)" in str(err)  # 1-based result rows


def test_duckdb_missing_required_table_names_source_and_table(tmp_path, csv_dir):
    path = write_duckdb(tmp_path / "no_orders.duckdb", csv_dir, skip=(C.ORDERS,))
    with pytest.raises(DataError, match="required table not found") as info:
        read_dataset(path, COLUMNS, TABLES)
    assert info.value.file == f"{path} table sales.orders"
    assert "crm.customers" in str(info.value)  # the tables present


def test_duckdb_optional_table_absent_is_simply_absent(tmp_path, csv_dir, from_csv):
    path = write_duckdb(tmp_path / "few.duckdb", csv_dir, skip=(C.SURVEYS, C.MARKET_SIZE))
    got = read_dataset(path, COLUMNS, TABLES)
    assert_same_dataset(got, from_csv, absent=(C.SURVEYS, C.MARKET_SIZE))


def test_duckdb_missing_mapped_column_says_table_not_file(tmp_path, csv_dir):
    path = write_duckdb(tmp_path / "cols.duckdb", csv_dir)
    columns = {**COLUMNS, C.ORDERS: {**COLUMNS[C.ORDERS], C.AMOUNT: "amount_eur"}}
    with pytest.raises(DataError, match="missing required column") as info:
        read_dataset(path, columns, TABLES)
    assert "Amount EUR" in str(info.value) and "rename the column in the table" in str(info.value)


def test_folder_source_takes_file_stems_from_tables(tmp_path, csv_dir, from_csv):
    folder = tmp_path / "renamed"
    shutil.copytree(csv_dir, folder)
    (folder / "orders.csv").rename(folder / "sales_orders.csv")
    got = read_dataset(folder, tables={C.ORDERS: "sales_orders"})
    assert_same_dataset(got, from_csv)
    assert got.files[C.ORDERS] == folder / "sales_orders.csv"


# --- parameters --------------------------------------------------------------------------

def test_a_url_with_a_password_is_refused_without_showing_it(capsys, tmp_path):
    url = f"postgresql+psycopg://analyst:{PASSWORD}@127.0.0.1:5432/crm"
    for bad in (url, "postgresql+psycopg://analyst@127.0.0.1/crm?password=" + PASSWORD):
        with pytest.raises(ConfigError, match=ENV) as info:
            read_dataset(bad)
        assert PASSWORD not in str(info.value)
        with pytest.raises(ConfigError, match="contains a password") as info:
            load_params(None, [f"data_source={bad}"])
        assert PASSWORD not in str(info.value)
    params = tmp_path / "params.yaml"
    params.write_text(f"data_source: {url}\n")
    assert main(["run", "--params", str(params)]) == 2
    err = capsys.readouterr().err
    assert "contains a password" in err and PASSWORD not in err and "Traceback" not in err
    # a typo in the parameter name echoes the value, masked
    with pytest.raises(ConfigError, match="did you mean 'data_source'") as info:
        load_params(None, [f"data_sorce={url}"])
    assert PASSWORD not in str(info.value) and "analyst:***@" in str(info.value)


def test_params_tables_and_password_env_are_checked():
    params = load_params(None, ["data_source=postgresql+psycopg://analyst@db/crm",
                                "tables.orders=sales.orders", "password_env=CRM_PW"])
    assert params.tables == {"orders": "sales.orders"} and params.password_env == "CRM_PW"
    assert params.notebook_parameters()["data_source"] == "postgresql+psycopg://analyst@db/crm"
    with pytest.raises(ConfigError, match="unknown table 'order'"):
        load_params(None, ["tables.order=sales.orders"])
    with pytest.raises(ConfigError, match="password_env") as info:
        load_params(None, [f"password_env={PASSWORD}!"])  # the password given by mistake
    assert PASSWORD not in str(info.value)
    assert load_params(None).password_env == ENV and load_params(None).data_source == ""


# --- PostgreSQL --------------------------------------------------------------------------

@dataclass
class Server:
    port: int
    root: Path

    @property
    def url(self) -> str:  # what the user writes: no password
        return f"postgresql+psycopg://analyst@127.0.0.1:{self.port}/crm"


def _load(engine: sa.Engine, csv_dir: Path, skip: tuple[str, ...]) -> None:
    """The sample's CSV files into PostgreSQL: dates as DATE, amounts as NUMERIC, ids as
    text, under the user's names, plus a column nobody asked for."""
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA sales; CREATE SCHEMA crm"))
    for table, spec in C.CONTRACT.items():
        if table in skip:
            continue
        ids = {c.name: str for c in spec.columns if c.kind in ("id", "text", "period")}
        frame = pd.read_csv(csv_dir / f"{table}.csv", dtype=ids)
        types = {}
        for col in spec.columns:
            if col.name in frame and col.kind == "date":
                frame[col.name] = pd.to_datetime(frame[col.name]).dt.date.astype(object)
                frame[col.name] = frame[col.name].where(frame[col.name].notna(), None)
                types[col.name] = sa.Date()
        if table == C.ORDERS:
            types[C.AMOUNT] = sa.Numeric(14, 2)
            frame["notes"] = "unused"
        renames = user_columns(table)
        frame = frame.rename(columns=renames)
        types = {renames.get(k, k): v for k, v in types.items()}
        schema, name = user_table(table)
        frame.to_sql(name, engine, schema=schema, index=False, dtype=types)


@pytest.fixture(scope="session")
def postgres(pg_cluster, csv_dir):
    """The shared throwaway PostgreSQL server (tests/conftest.py) with the role ``analyst``
    (password auth over TCP) and the database ``crm`` holding the sample (without
    ``segmentation_costs``)."""
    pg_cluster.create_database("crm")
    server = Server(pg_cluster.port, pg_cluster.root)
    engine = sa.create_engine(sa.make_url(server.url).set(password=PASSWORD), poolclass=NullPool)
    _load(engine, csv_dir, skip=(C.SEGMENTATION_COSTS,))
    engine.dispose()
    return server


def test_postgres_gives_the_same_dataset_as_the_csv_files(postgres, from_csv, monkeypatch):
    monkeypatch.setenv(ENV, PASSWORD)
    got = read_dataset(postgres.url, COLUMNS, TABLES)
    assert_same_dataset(got, from_csv, absent=(C.SEGMENTATION_COSTS,))
    assert str(got.data_dir) == postgres.url
    assert str(got.files[C.ORDERS]) == f"{postgres.url} table sales.orders"


def test_postgres_password_env_names_the_variable(postgres, from_csv, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv("CRM_PW", PASSWORD)
    got = read_dataset(postgres.url, COLUMNS, TABLES, password_env="CRM_PW")
    assert len(got.orders) == len(from_csv.orders)


def test_postgres_selects_only_the_needed_columns(postgres, monkeypatch):
    monkeypatch.setenv(ENV, PASSWORD)
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", record)
    try:
        read_dataset(postgres.url, COLUMNS, TABLES)
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", record)
    orders = [s for s in statements if "FROM sales.orders" in s]
    assert len(orders) == 1, statements
    assert '"Amount EUR"' in orders[0] and '"Order No"' in orders[0]
    assert "notes" not in orders[0] and "*" not in orders[0]


@pytest.mark.parametrize("password", ["wrong-password", None])
def test_postgres_wrong_or_missing_password_is_a_clear_error(postgres, monkeypatch, capsys,
                                                             tmp_path, password):
    if password:
        monkeypatch.setenv(ENV, password)
    else:
        monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(DataError, match=ENV) as info:
        read_dataset(postgres.url, COLUMNS, TABLES)
    message = str(info.value)
    assert message.startswith(postgres.url) and "cannot connect" in message
    if password:
        assert "password authentication failed" in message and password not in message
    else:
        assert "is not set" in message
    params = tmp_path / "params.yaml"
    params.write_text(f"output_dir: {tmp_path / 'out'}\n")
    assert main(["run", "--params", str(params), "--set", f"data_source={postgres.url}"]) == 2
    err = capsys.readouterr().err
    assert ENV in err and "Traceback" not in err
    assert not (tmp_path / "out" / "2026Q3").exists()


def test_postgres_missing_required_table_names_source_and_table(postgres, monkeypatch):
    monkeypatch.setenv(ENV, PASSWORD)
    with pytest.raises(DataError, match="required table not found") as info:
        read_dataset(postgres.url, COLUMNS, {**TABLES, C.ORDERS: "sales.order_lines"})
    assert info.value.file == f"{postgres.url} table sales.order_lines"
    assert "sales.orders" in str(info.value)  # among the tables present


def test_segreport_run_from_postgres_writes_no_secret(postgres, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(ENV, PASSWORD)
    out = tmp_path / "out"
    params = tmp_path / "params.yaml"
    params.write_text(json.dumps({"period": "2026Q3", "output_dir": str(out),
                                  "tables": TABLES, "columns": COLUMNS}))  # JSON is YAML
    assert main(["run", "--params", str(params), "--set", f"data_source={postgres.url}"]) == 0, \
        capsys.readouterr().err
    folder = out / "2026Q3" / "All"
    assert {"segment_report.html", "segment_report.ipynb", "kpis.csv"} <= {
        p.name for p in folder.iterdir()}
    kpis = pd.read_csv(folder / "kpis.csv")
    assert (kpis.kpi == "customers_end").any()
    nb = nbformat.read(folder / "segment_report.ipynb", as_version=4)
    assert nb.metadata.papermill.parameters["data_source"] == postgres.url
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written
    leaks = [p for p in written if PASSWORD.encode() in p.read_bytes()]
    assert not leaks


def test_postgres_tables_are_checked_in_the_database_under_the_users_names(postgres, from_csv,
                                                                          monkeypatch):
    from segreport.engine import open_engine

    monkeypatch.setenv(ENV, PASSWORD)
    data = open_engine(postgres.url, COLUMNS, TABLES)
    try:
        assert data.backend == "postgres" and data.checked_in_engine
        assert str(data.info.files[C.ORDERS]) == f"{postgres.url} table sales.orders"
        def strip(notes):
            return [(q.table, q.rows_read, q.rows_dropped, q.note) for q in notes]
        assert strip(data.info.quality) == [n for n in strip(from_csv.quality)
                                            if n[0] != C.SEGMENTATION_COSTS]
        assert data.info.quality[0].file == "sales.orders"  # as the reader names it
        orders = data.tables[C.ORDERS]
        got = orders.aggregate(n=orders.count(), total=orders[C.AMOUNT].sum()).execute()
        assert int(got["n"].iloc[0]) == len(from_csv.orders)
        assert got["total"].iloc[0] == pytest.approx(from_csv.orders[C.AMOUNT].sum())
        assert data.info.segment_values[C.SEGMENT] == from_csv.segments
    finally:
        data.close()
