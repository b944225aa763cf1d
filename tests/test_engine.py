"""The engine gives the reference's numbers.

The hand-worked tests pin every definition on the per-customer (pandas) path:
tests/test_facts.py runs each of them on the engine's panel too. Here the whole chain —
checks in the engine, the panel, the KPI panel, cohorts and the purchase summary — is
compared with the reference path (:func:`segreport.kpis.quarter.build_quarter` on the data
read by :func:`segreport.data.read.read_dataset`) on generated data, for the whole business
and each unit, in both activity modes, for the reported quarter and for a quarter of its
history.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segreport import columns as C
from segreport.data.read import read_dataset
from segreport.engine import open_engine
from segreport.kpis.quarter import build_quarter
from segreport.pipeline import load_quarter
from segreport.prepared.build import prepare
from segreport.prepared.folder import PANEL_FILE
from segreport.sample import generate_sample

PERIOD = "2026Q3"
NUMBERS = [C.VALUE, C.NUMERATOR, C.DENOMINATOR, C.CI_LOW, C.CI_HIGH, C.PREVIOUS_VALUE]
TEXTS = [C.UNIT, C.BAND, C.NOTE, C.SMALL_SAMPLE]


@pytest.fixture(scope="module", params=["transactions", "subscription"])
def sample(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    generate_sample(folder / "data", n_customers=1200, seed=11,
                    subscription=request.param == "subscription")
    prepared = folder / "prepared"
    prepare(prepared, folder / "data", [PERIOD])
    return folder / "data", prepared, read_dataset(folder / "data")


def assert_same_kpis(reference: pd.DataFrame, engine: pd.DataFrame, numbers=NUMBERS) -> None:
    ref = reference.set_index([C.KPI, C.SEGMENT]).sort_index()
    got = engine.set_index([C.KPI, C.SEGMENT]).sort_index()
    assert list(ref.index) == list(got.index)
    for col in numbers:
        a, b = ref[col].astype(float).to_numpy(), got[col].astype(float).to_numpy()
        same = np.isclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True)
        assert same.all(), f"{col}: {ref.index[~same].tolist()[:5]}"
    for col in TEXTS:
        assert ref[col].astype(str).tolist() == got[col].astype(str).tolist(), col


def test_clean_parquet_is_checked_in_the_engine(sample):
    data_dir, _, ds = sample
    data = open_engine(data_dir)
    assert data.checked_in_engine
    # the same rows read as the reference reader's notes say
    assert [(q.table, q.rows_read) for q in data.info.quality] == \
        [(q.table, q.rows_read) for q in ds.quality]


@pytest.mark.parametrize("unit", ["", "Retail", "Online"])
def test_reported_quarter_equals_the_reference_report(sample, unit):
    _, prepared, ds = sample
    reference = build_quarter(ds, PERIOD, unit, predictive=False)
    engine = load_quarter(prepared, PERIOD, unit, predictive=False)
    assert_same_kpis(reference.kpis, engine.kpis)
    pd.testing.assert_frame_equal(reference.behaviour.cohorts, engine.behaviour.cohorts)
    pd.testing.assert_series_equal(reference.behaviour.cohort_sizes, engine.behaviour.cohort_sizes)
    pd.testing.assert_frame_equal(reference.behaviour.migration, engine.behaviour.migration)
    pd.testing.assert_frame_equal(reference.facts.sort_index(), engine.facts,
                                  check_index_type=False)


def test_a_history_quarter_equals_that_quarters_own_reference_report(sample):
    _, prepared, ds = sample
    panel = pd.read_parquet(prepared / PANEL_FILE)
    # 2025Q3: the same quarter a year earlier, four quarters back
    assert sorted(panel["quarter"].unique())[-5:] == ["2025Q3", "2025Q4", "2026Q1", "2026Q2",
                                                     "2026Q3"]
    part = panel[(panel["quarter"] == "2025Q3") & (panel[C.BUSINESS_UNIT] == "Wholesale")]
    reference = build_quarter(ds, "2025Q3", "Wholesale", predictive=False).kpis
    reference = reference[reference[C.KPI].isin(set(part[C.KPI]))]
    assert_same_kpis(reference, part)


def test_the_panel_covers_the_reported_quarter_and_the_nine_before_it(sample):
    _, prepared, _ = sample
    panel = pd.read_parquet(prepared / PANEL_FILE)
    # 8 quarters before 2026Q3 plus the one before those (for their last-quarter values)
    assert sorted(panel["quarter"].unique()) == [
        "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1",
        "2026Q2", "2026Q3"]
    assert set(panel[C.BUSINESS_UNIT]) == {"", "Online", "Retail", "Wholesale"}


def test_purchase_summary_equals_the_reference_summary(sample):
    from segreport.data.rfm_summary import clv_summary
    from segreport.prepared.folder import purchases_file

    _, prepared, ds = sample
    engine = pd.read_parquet(prepared / purchases_file(PERIOD))
    reference = clv_summary(ds.orders, pd.Timestamp("2026-10-01"), ds.customers)
    pd.testing.assert_frame_equal(engine[reference.columns].reset_index(drop=True), reference,
                                  check_exact=False, rtol=1e-9)


def _copy_with(src, dst, orders_extra: pd.DataFrame) -> None:
    dst.mkdir()
    for path in src.iterdir():
        frame = pd.read_parquet(path)
        if path.stem == C.ORDERS:
            frame = pd.concat([frame, orders_extra], ignore_index=True)
        frame.to_parquet(dst / path.name, index=False)


def test_duplicate_orders_and_unknown_customers_are_set_aside_in_the_engine(sample, tmp_path):
    data_dir, _, _ = sample
    orders = pd.read_parquet(data_dir / "orders.parquet")
    # two exact copies of existing rows, and three orders of two customers nobody knows
    extra = pd.concat([orders.head(2), pd.DataFrame({
        C.ORDER_ID: ["X1", "X2", "X3"], C.CUSTOMER_ID: ["ZZ1", "ZZ1", "ZZ2"],
        C.ORDER_DATE: pd.to_datetime(["2026-08-01"] * 3), C.AMOUNT: [10.0, 5.5, 1.25],
        C.MARGIN: [1.0, 1.0, 1.0]})], ignore_index=True)
    _copy_with(data_dir, tmp_path / "data", extra)
    data = open_engine(tmp_path / "data")
    assert data.checked_in_engine
    notes = {q.note for q in data.info.quality if q.rows_dropped}
    # 2 duplicates dropped; 3 rows of 2 unknown ids, net 10 + 5.5 + 1.25 = 16.75
    assert "exact duplicate rows dropped" in notes
    assert any("orders of 2 customer ids not in customers.parquet dropped (e.g. ZZ1, ZZ2; "
               "net amount 16.75)" == n for n in notes)
    reference = read_dataset(tmp_path / "data")
    assert [(q.table, q.rows_read, q.rows_dropped) for q in data.info.quality] == \
        [(q.table, q.rows_read, q.rows_dropped) for q in reference.quality]
    prepare(tmp_path / "prepared", tmp_path / "data", [PERIOD])
    assert_same_kpis(build_quarter(reference, PERIOD, predictive=False).kpis,
                     load_quarter(tmp_path / "prepared", PERIOD, predictive=False).kpis)


@pytest.mark.parametrize("written, reference", [("{} ", "padded"), ("N/A", "marker")])
def test_an_orders_customer_id_that_is_no_id_is_not_taken_for_an_unknown_customer(
        sample, tmp_path, written, reference):
    # The engine checks an order's customer id by finding it among the customers; one it
    # does not find is an unknown customer only if it is an id at all. A padded id is
    # the reader's to read (it strips it: the order stays its customer's), a marker the
    # reader's to refuse, with the same message as the reader's own.
    from segreport.errors import DataError

    data_dir, _, _ = sample
    orders = pd.read_parquet(data_dir / "orders.parquet")
    orders.loc[0, C.CUSTOMER_ID] = written.format(orders.loc[0, C.CUSTOMER_ID])
    _copy_with(data_dir, tmp_path / "data", orders.head(0))
    orders.to_parquet(tmp_path / "data" / "orders.parquet", index=False)
    if reference == "marker":
        with pytest.raises(DataError) as engine_error:
            open_engine(tmp_path / "data")
        with pytest.raises(DataError) as reference_error:
            read_dataset(tmp_path / "data")
        assert str(engine_error.value) == str(reference_error.value)
        assert "'N/A'" in str(engine_error.value)
        return
    data = open_engine(tmp_path / "data")
    assert not [q for q in data.info.quality if q.rows_dropped]  # nobody set aside
    assert data.tables[C.ORDERS].count().execute() == len(orders)


def test_a_value_the_engine_does_not_take_gets_the_reference_message(sample, tmp_path):
    from segreport.errors import DataError

    data_dir, _, _ = sample
    (tmp_path / "data").mkdir()
    for path in data_dir.iterdir():
        frame = pd.read_parquet(path)
        if path.stem == C.ORDERS:
            frame = frame.head(50).astype({C.AMOUNT: str})
            frame.loc[3, C.AMOUNT] = "12,50"
            frame.to_csv(tmp_path / "data" / "orders.csv", index=False)
        else:
            frame.to_parquet(tmp_path / "data" / path.name, index=False)
    with pytest.raises(DataError) as engine_error:
        open_engine(tmp_path / "data")
    with pytest.raises(DataError) as reference_error:
        read_dataset(tmp_path / "data")
    assert str(engine_error.value) == str(reference_error.value)
    assert "'12,50'" in str(engine_error.value) and "line 5" in str(engine_error.value)


def test_orders_alone_give_the_reference_report(sample, tmp_path):
    import shutil

    data_dir, _, _ = sample
    (tmp_path / "data").mkdir()
    shutil.copy(data_dir / "orders.parquet", tmp_path / "data" / "orders.parquet")
    prepare(tmp_path / "prepared", tmp_path / "data", [PERIOD])
    reference = build_quarter(read_dataset(tmp_path / "data"), PERIOD, predictive=False)
    assert_same_kpis(reference.kpis, load_quarter(tmp_path / "prepared", PERIOD,
                                                  predictive=False).kpis)


# --- a unit's own rows -------------------------------------------------------------------

UNITS_CUSTOMERS = """\
customer_id,signup_date,segment,business_unit
c1,2025-01-10,Gold,Retail
c2,2025-02-10,,Retail
c3,2025-03-10,Silver,Online
c4,2025-04-10,Gold,
"""
UNITS_ORDERS = """\
order_id,customer_id,order_date,amount
o1,c1,2026-07-05,100
o1,c1,2026-07-05,100
o2,c2,2026-07-06,50
o3,c3,2026-08-01,20
o4,c3,2026-08-02,30
o5,c4,2026-08-03,40
o6,zz,2026-08-04,99
"""
UNITS_SURVEYS = """\
customer_id,response_date,nps,csat
c1,2026-07-10,9,5
c3,2026-07-11,7,4
c3,2026-08-11,8,4
c4,2026-08-12,6,3
zz,2026-08-13,10,5
"""
UNITS_SPEND = """\
period,segment,acquisition_spend,retention_spend,business_unit
2026Q3,Gold,100,10,Retail
2026Q3,Silver,100,10,Retail
2026Q3,Silver,50,5,Online
"""
# Worked by hand (an empty business unit reads 'Unassigned'; zz is no customer, so its
# order and survey answer belong to no unit):
#   Retail: customers c1, c2 = 2, of which c2 has no segment = 1; orders o1, o1 (the exact
#           copy), o2 = 3 rows as read, 1 of them a duplicate; surveys c1 = 1; spend 2 rows.
#   Online: customers c3 = 1; orders o3, o4 = 2; surveys c3, c3 = 2; spend 1 row.
#   Unassigned: customers c4 = 1, without a unit = 1; orders o5 = 1; surveys c4 = 1;
#           spend 0 rows.
# The whole dataset: 4 customers, 7 order rows (1 duplicate, 1 of no customer), 5 surveys.
UNIT_ROWS = {
    "Retail": {"customers": 2, "customers_no_segment": 1, "customers_no_unit": 0,
               "orders": 3, "orders_duplicates": 1, "surveys": 1, "marketing_spend": 2},
    "Online": {"customers": 1, "customers_no_segment": 0, "customers_no_unit": 0,
               "orders": 2, "orders_duplicates": 0, "surveys": 2, "marketing_spend": 1},
    "Unassigned": {"customers": 1, "customers_no_segment": 0, "customers_no_unit": 1,
                   "orders": 1, "orders_duplicates": 0, "surveys": 1, "marketing_spend": 0},
}


@pytest.fixture
def units_data(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for name, text in (("customers", UNITS_CUSTOMERS), ("orders", UNITS_ORDERS),
                       ("surveys", UNITS_SURVEYS), ("marketing_spend", UNITS_SPEND)):
        (folder / f"{name}.csv").write_text(text)
    return folder


def test_each_unit_counts_only_its_own_rows_on_both_paths(units_data, tmp_path):
    from segreport.prepared.folder import read_info

    reference = read_dataset(units_data, max_unknown_customer_pct=50).info()
    data = open_engine(units_data, max_unknown_customer_pct=50)
    assert data.checked_in_engine
    assert reference.unit_rows == UNIT_ROWS
    assert data.info.unit_rows == UNIT_ROWS
    prepare(tmp_path / "prepared", units_data, [PERIOD], max_unknown_customer_pct=50)
    assert read_info(tmp_path / "prepared")[0].unit_rows == UNIT_ROWS


def test_a_units_data_quality_section_shows_its_rows_and_nothing_of_no_unit(units_data):
    from segreport.report import sections

    info = open_engine(units_data, max_unknown_customer_pct=50).info
    notes = [(q.table, q.file, q.rows_read, q.rows_dropped, q.note)
             for q in info.quality_for("Retail")]
    assert notes == [
        ("orders", "orders.csv", 3, 0, ""),
        ("customers", "customers.csv", 2, 0, ""),
        ("marketing_spend", "marketing_spend.csv", 2, 0, ""),
        ("surveys", "surveys.csv", 1, 0, ""),
        ("customers", "customers.csv", 2, 0,
         "1 customers without segment: reported as 'Unassigned'"),
        ("orders", "orders.csv", 3, 1, "exact duplicate rows dropped")]
    facts = pd.DataFrame({C.ACQUIRED_AT: pd.to_datetime(["2025-01-10", "2025-02-10"])})
    retail = sections.data_quality(info, facts, "Retail").data
    every = sections.data_quality(info, facts, "").data
    assert "zz" in every and "zz" not in retail and "net amount" not in retail
    # the whole dataset's 7 order rows, 4 customers and 5 survey answers stay out of it
    assert ">7<" in every and ">7<" not in retail and ">4<" not in retail
    assert ">5<" not in retail
    assert "Business unit Retail: 2 customers in the report" in retail


def test_a_period_table_without_a_unit_column_says_its_rows_apply_to_every_unit(units_data):
    (units_data / "marketing_spend.csv").write_text(
        "period,segment,acquisition_spend,retention_spend\n2026Q3,Gold,100,10\n")
    for info in (read_dataset(units_data, max_unknown_customer_pct=50).info(),
                 open_engine(units_data, max_unknown_customer_pct=50).info):
        spend = [q for q in info.quality_for("Online") if q.table == "marketing_spend"]
        assert [(q.rows_read, q.note) for q in spend] == [
            (1, "no business_unit column: its rows apply to every unit")]


def test_sample_units_count_alike_on_both_paths(sample):
    data_dir, _, ds = sample
    got = open_engine(data_dir).info.unit_rows
    assert got == ds.info().unit_rows
    # every customer and every order belongs to exactly one unit
    assert sum(r["customers"] for r in got.values()) == len(ds.customers)
    assert sum(r["orders"] for r in got.values()) == len(ds.orders)
