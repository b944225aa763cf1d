"""Every engine gives the same numbers, and each runs where the data is.

The same generated data (1,500 customers, both activity modes) is prepared by the embedded
DuckDB from Parquet files, by PostgreSQL from tables loaded into a throwaway server (dates
as DATE, amounts as NUMERIC(14,2)), and by a local Spark session from the same files; the
KPI panels must agree to the cent (counts exactly). PostgreSQL runs the checks and the panel
itself and sends back aggregates only: pg_stat_statements counts the rows each statement
returned. Spark reads the files itself.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pgcluster
import pytest

from segreport import columns as C
from segreport.config import ReportParams, load_params
from segreport.data.read import read_dataset
from segreport.engine import open_engine
from segreport.errors import ConfigError, DataError
from segreport.prepared.build import prepare
from segreport.prepared.folder import (
    COHORT_SIZES_FILE,
    COHORTS_FILE,
    PANEL_FILE,
    facts_file,
    purchases_file,
)
from segreport.sample import generate_sample

PERIOD = "2026Q3"
ENV = "SEGREPORT_DB_PASSWORD"
NUMERIC = {C.ORDERS: {C.AMOUNT: "numeric(14,2)", C.MARGIN: "numeric(14,2)"}}
KEYS = [C.KPI, C.BUSINESS_UNIT, C.SEGMENT, "quarter"]
ENGINES = ["duckdb", "postgres", "pyspark"]


@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv(ENV, pgcluster.PASSWORD)


@pytest.fixture(scope="module", params=["transactions", "subscription"])
def mode(request):
    return request.param


@pytest.fixture(scope="module")
def sample(mode, tmp_path_factory, pg_cluster):
    """The folder of Parquet files and the URL of the same tables in PostgreSQL."""
    folder = tmp_path_factory.mktemp(mode) / "data"
    generate_sample(folder, n_customers=1500, seed=7, subscription=mode == "subscription")
    url = pgcluster.load_folder(pg_cluster, f"sample_{mode}", folder, NUMERIC)
    return folder, url


@pytest.fixture(scope="module")
def prepared(sample, tmp_path_factory, request):
    """``prepare`` of the sample on an engine, on first use: engine → (folder, seconds)."""
    import time

    folder, url = sample
    out: dict[str, tuple[Path, float]] = {}

    def on(engine: str) -> Path:
        if engine not in out:
            target = tmp_path_factory.mktemp(engine)
            started = time.perf_counter()
            if engine == "postgres":
                with pytest.MonkeyPatch.context() as mp:
                    mp.setenv(ENV, pgcluster.PASSWORD)
                    prepare(target, url, [PERIOD])
            elif engine == "pyspark":
                spark = request.getfixturevalue("spark")
                before = spark.catalog.listTables()
                prepare(target, folder, [PERIOD], engine=engine, spark_master="local[2]")
                assert spark.catalog.listTables() == before  # views and caches dropped
            else:
                prepare(target, folder, [PERIOD], engine=engine)
            out[engine] = target, time.perf_counter() - started
        return out[engine][0]

    on.timings = out
    return on


OTHERS = ["postgres", pytest.param("pyspark", marks=pytest.mark.slow)]


def rounded(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows in key order, numbers to the cent (counts stay whole). Rounded to 6 decimals
    first: engines add in different orders, and 33.245 computed as 33.244999999999997 on
    one and 33.245000000000001 on another must not read 33.24 against 33.25."""
    frame = frame.sort_values(keys).reset_index(drop=True)
    for col in frame.columns:
        if pd.api.types.is_float_dtype(frame[col]):
            frame[col] = frame[col].round(6).round(2) + 0.0  # no negative zero
    return frame


def assert_same(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], obj: str) -> None:
    """Same rows and texts, counts exactly, amounts to the cent; and no number more than
    a millionth apart before rounding."""
    pd.testing.assert_frame_equal(rounded(a, keys), rounded(b, keys), obj=obj)
    a, b = a.sort_values(keys).reset_index(drop=True), b.sort_values(keys).reset_index(drop=True)
    for col in a.columns:
        if pd.api.types.is_float_dtype(a[col]):
            gap = (a[col] - b[col]).abs().max()
            assert not gap > 1e-6, f"{obj}: {col} differs by {gap}"


@pytest.mark.parametrize("engine", OTHERS)
def test_kpi_panel_is_the_same_to_the_cent_on_every_engine(prepared, engine):
    duck = pd.read_parquet(prepared("duckdb") / PANEL_FILE)
    other = pd.read_parquet(prepared(engine) / PANEL_FILE)
    assert len(duck) > 1000 and duck[C.VALUE].notna().sum() > 1000
    assert_same(duck, other, KEYS, PANEL_FILE)


@pytest.mark.parametrize("engine", OTHERS)
def test_facts_cohorts_and_purchase_summary_are_the_same_on_every_engine(prepared, engine):
    a, b = prepared("duckdb"), prepared(engine)
    for name in (facts_file("2026Q2"), facts_file(PERIOD)):
        x, y = pd.read_parquet(a / name), pd.read_parquet(b / name)
        assert list(x.index) == list(y.index), name  # customers in the same order
        assert_same(x.reset_index(), y.reset_index(), [C.CUSTOMER_ID], name)
    for name, keys in ((COHORTS_FILE, [C.BUSINESS_UNIT, "cohort", "since"]),
                       (COHORT_SIZES_FILE, [C.BUSINESS_UNIT, "cohort"]),
                       (purchases_file(PERIOD), [C.CUSTOMER_ID])):
        assert_same(pd.read_parquet(a / name), pd.read_parquet(b / name), keys, name)


def test_engine_runs_report_their_timings(prepared, mode):
    # not a bound: what each engine took for this small sample, shown with -rP
    print(mode, {engine: f"{seconds:.1f} s" for engine, (_, seconds) in prepared.timings.items()})


# --- PostgreSQL: checks and panel in the database; aggregates only come back ---------------

def returned_rows(cluster, database: str) -> pd.DataFrame:
    """Per statement run in ``database`` since the last reset: rows it returned to the
    client (statements that return none, such as CREATE TABLE AS, are left out)."""
    with cluster.admin(database) as con:
        rows = con.execute(
            "SELECT s.query, s.calls, s.rows FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s", [database]).fetchall()
    frame = pd.DataFrame(rows, columns=["query", "calls", "rows"])
    frame["per_call"] = frame["rows"] / frame["calls"]
    verb = frame["query"].str.strip().str.split(n=1).str[0].str.upper()
    return frame[verb.isin(["SELECT", "WITH"]) & ~frame["query"].str.contains("pg_stat|pg_catalog|"
                                                                            "information_schema")]


def reset_statistics(cluster, database: str) -> None:
    with cluster.admin(database) as con:
        con.execute("SELECT pg_stat_statements_reset()")
        con.execute("SELECT pg_stat_reset()")


def orders_read(cluster, database: str) -> int:
    with cluster.admin(database) as con:
        con.execute("SELECT pg_stat_force_next_flush()")
        return con.execute("SELECT seq_tup_read + coalesce(idx_tup_fetch, 0) FROM "
                           "pg_stat_user_tables WHERE relname = 'orders'").fetchone()[0]


@pytest.mark.parametrize("mode", ["transactions"], indirect=True)
def test_postgres_checks_and_computes_in_the_database_and_sends_back_aggregates(
        sample, pg_cluster, password, tmp_path):
    folder, url = sample
    database = url.rsplit("/", 1)[1]
    n_orders = len(pd.read_parquet(folder / "orders.parquet", columns=[C.ORDER_ID]))
    n_customers = 1500

    data = open_engine(url)
    try:
        assert data.backend == "postgres" and data.checked_in_engine
        assert data.info.data_dir == url
        assert [(q.table, q.rows_read) for q in data.info.quality][:2] == \
            [(C.ORDERS, n_orders), (C.CUSTOMERS, n_customers)]
    finally:
        data.close()

    reset_statistics(pg_cluster, database)
    prepare(tmp_path / "prepared", url, [PERIOD])
    engine = returned_rows(pg_cluster, database)
    assert orders_read(pg_cluster, database) >= 3 * n_orders  # the work was done there
    # no statement sent back more rows than there are customers (per-customer facts, the
    # purchase summary); all of them together not a fifth of the orders table
    assert engine["per_call"].max() <= n_customers, engine.sort_values("per_call").tail(3)
    assert engine["rows"].sum() < n_orders / 5, engine["rows"].sum()

    # the same measure sees a whole table come back: the reference reader pulls it
    reset_statistics(pg_cluster, database)
    read_dataset(url)
    reader = returned_rows(pg_cluster, database)
    assert reader["per_call"].max() >= n_orders


@pytest.fixture
def bad_db(pg_cluster, tmp_path):
    """A database whose tables a test edits: the sample, dates and amounts as text."""
    folder = tmp_path / "data"
    generate_sample(folder, n_customers=60, seed=3)
    text = {C.ORDERS: {C.ORDER_DATE: "text", C.AMOUNT: "text"}}
    name = f"bad_{tmp_path.name[-20:]}".lower().replace("-", "_")
    url = pgcluster.load_folder(pg_cluster, name, folder, text)
    return url, name


def test_postgres_text_columns_are_checked_there_and_bad_values_named(pg_cluster, bad_db,
                                                                      password):
    url, name = bad_db
    data = open_engine(url)  # dates and amounts written as text, all valid
    assert data.backend == "postgres" and data.checked_in_engine
    data.close()
    with pg_cluster.admin(name) as con:
        con.execute("UPDATE orders SET order_date = '2026-02-30' WHERE order_id = "
                    "(SELECT min(order_id) FROM orders)")
    with pytest.raises(DataError, match="not an ISO date") as info:
        open_engine(url)
    assert info.value.file == f"{url} table orders" and info.value.values == ["2026-02-30"]
    with pg_cluster.admin(name) as con:
        con.execute("UPDATE orders SET order_date = '2026-02-28', amount = '12,50' WHERE "
                    "order_id = (SELECT min(order_id) FROM orders)")
    with pytest.raises(DataError, match="not a number") as info:
        open_engine(url)
    assert info.value.column == C.AMOUNT and info.value.values == ["12,50"]


@pytest.mark.parametrize("mode", ["transactions"], indirect=True)
def test_postgres_wrong_password_names_the_variable_and_hides_it(sample, monkeypatch):
    _, url = sample
    monkeypatch.setenv(ENV, "not-the-password-7f3a")
    with pytest.raises(DataError, match=ENV) as info:
        open_engine(url)
    assert "not-the-password-7f3a" not in str(info.value)
    assert "cannot connect" in str(info.value)


@pytest.mark.parametrize("mode", ["transactions"], indirect=True)
def test_spark_is_not_an_engine_for_a_database(sample, password):
    _, url = sample
    with pytest.raises(ConfigError, match="Spark reads a folder"):
        open_engine(url, engine="pyspark")


# --- Spark reads the files itself ------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("mode", ["transactions"], indirect=True)
def test_spark_reads_and_checks_a_folder_itself(sample, spark):
    folder, _ = sample
    def views():
        return {t.name for t in spark.catalog.listTables()}
    before = views()
    data = open_engine(folder, engine="pyspark", spark_master="local[2]")
    try:
        assert data.backend == "pyspark" and data.checked_in_engine
        assert data.info.units == ["Online", "Retail", "Wholesale"]
        assert {"segreport_file_orders", "segreport_file_customers"} <= views()
    finally:
        data.close()
    assert views() == before  # the files' views are dropped; the session stays up
    assert not spark.sparkContext._jsc.sc().isStopped()


@pytest.mark.slow
def test_spark_reads_csv_and_the_reader_names_a_bad_value(tmp_path, spark):
    folder = tmp_path / "csv"
    generate_sample(folder, n_customers=60, seed=3, fmt="csv")
    data = open_engine(folder, engine="pyspark")
    assert data.backend == "pyspark" and data.checked_in_engine
    assert data.tables[C.ORDERS].schema()[C.AMOUNT].is_floating()
    data.close()
    lines = (folder / "orders.csv").read_text().splitlines()
    head = lines[0].split(",")
    cells = lines[3].split(",")
    cells[head.index(C.AMOUNT)] = "12.5 EUR"
    lines[3] = ",".join(cells)
    (folder / "orders.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="not a number") as info:
        open_engine(folder, engine="pyspark")
    assert info.value.file == str(folder / "orders.csv")
    assert info.value.values == ["12.5 EUR"] and info.value.rows == [4]


# --- parameters ------------------------------------------------------------------------------

def test_engine_and_spark_master_are_checked():
    assert load_params(None, ["engine= PySpark "]).engine == "pyspark"
    for master in ("local", "local[4]", "local[*]", "spark://a:7077,b:7077", "sc://h:15002",
                   "sc://h:15002/;use_ssl=true"):
        assert load_params(None, [f"spark_master={master}"]).spark_master == master
    with pytest.raises(ConfigError, match="parameter 'engine'.*duckdb, pyspark"):
        load_params(None, ["engine=spark"])
    with pytest.raises(ConfigError, match="parameter 'spark_master'.*local\\[\\*\\]"):
        load_params(None, ["spark_master=yarn"])
    with pytest.raises(ConfigError, match="SPARK_CONNECT_AUTHENTICATE_TOKEN") as info:
        load_params(None, ["spark_master=sc://h:15002/;token=tok-8c1e"])
    assert "tok-8c1e" not in str(info.value)
    with pytest.raises(ConfigError) as info:  # a typo echoes the value, masked
        load_params(None, ["spark_mastr=sc://h:15002/;token=tok-8c1e"])
    assert "tok-8c1e" not in str(info.value) and "did you mean 'spark_master'" in str(info.value)


def test_the_notebook_parameters_cell_lists_every_parameter_with_its_default():
    nb = json.loads((Path(__file__).parents[1] / "notebooks" / "segment_report.ipynb").read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    values: dict = {}
    exec("".join(cell["source"]), {}, values)  # plain assignments of literals
    expected = ReportParams().notebook_parameters()
    # folders are relative to the notebooks folder there
    for key in ("data_dir", "output_dir", "commentary_dir"):
        assert values[key] == "../" + expected.pop(key)
    assert {k: values[k] for k in expected} == expected
