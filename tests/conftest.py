"""Shared fixtures."""
from __future__ import annotations

from pathlib import Path

import pytest

# --- the smallest data a report runs on: three customers, five order rows ------------------
# Hand-worked expectations of the end-to-end tests (tests/test_report_run.py,
# tests/test_commentary.py) are written against these rows.
TINY_ORDERS = """order_id,customer_id,order_date,amount
1,A,2026-01-10,100
2,A,2026-07-01,50
3,B,2026-03-01,20
4,B,2026-08-01,-5
5,C,2026-08-15,70
"""
TINY_CUSTOMERS = """customer_id,signup_date,segment,business_unit
A,2025-12-01,Gold,X
B,2026-02-01,Silver,X
C,2026-08-01,Gold,Y
"""


def write_csv_data(folder: Path, **tables: str) -> Path:
    """``folder`` (made) holding one ``<table>.csv`` per keyword: ``orders=TEXT, ...``."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, text in tables.items():
        (folder / f"{table}.csv").write_text(text)
    return folder


def write_report_params(path: Path, data: Path, out: Path, extra: str = "",
                        period: str = "2026Q3", predictive_clv: bool = False) -> Path:
    """A params file at ``path`` reporting ``period`` of ``data`` into ``out``; the
    predictive-CLV fit is off unless asked for (it costs seconds); ``extra`` is more YAML."""
    path.write_text(f"data_dir: {data}\nperiod: {period}\noutput_dir: {out}\n"
                    f"predictive_clv: {str(predictive_clv).lower()}\n{extra}")
    return path


@pytest.fixture(scope="session")
def csv_data():
    """:func:`write_csv_data`, for tests that write their own small tables."""
    return write_csv_data


@pytest.fixture(scope="session")
def report_params():
    """:func:`write_report_params`, for tests that run reports through the command line."""
    return write_report_params


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Path:
    """A data folder with :data:`TINY_ORDERS` and :data:`TINY_CUSTOMERS` as CSV files
    (read only: a test that changes data copies it first)."""
    return write_csv_data(tmp_path_factory.mktemp("tiny") / "data", orders=TINY_ORDERS,
                          customers=TINY_CUSTOMERS)


@pytest.fixture(scope="module")
def no_pdf():
    """No Chromium for these runs: the PDF is skipped with a note, the rest is unchanged
    (tests/test_pdf.py covers the PDF)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGREPORT_CHROMIUM", "/nonexistent/chromium-for-tests")
        yield


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory):
    """Prepared data is cached under the test session's own folder, not the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGREPORT_CACHE_DIR", str(tmp_path_factory.mktemp("segreport-cache")))
        yield


# --- engines: one PostgreSQL server and one Spark session per test session ------------------

@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL server (see tests/pgcluster.py); without Debian's PostgreSQL
    packages the tests that use it fail, they do not skip (`make test` installs them)."""
    import pgcluster

    try:
        cluster = pgcluster.start()
    except pgcluster.ClusterError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def spark():
    """A local Spark session (2 cores, no UI, 4 shuffle partitions, quiet); ~8 s to start,
    so one per test session. ``engine: pyspark`` reuses it (``getOrCreate``)."""
    import logging

    from pyspark.sql import SparkSession

    logging.getLogger("py4j").setLevel(logging.ERROR)
    session = (SparkSession.builder.master("local[2]").appName("segreport-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
