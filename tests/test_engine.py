"""The engine gives the reference's numbers.

The hand-worked tests pin every definition on the per-customer (pandas) path:
tests/test_facts.py runs each of them on the engine's panel too. Here the whole chain —
checks in the engine, the panel, the KPI panel, cohorts and the purchase summary — is
compared with the reference path (:func:`segreport.kpis.report.build_quarter` on the data
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
from segreport.data.sample import generate_sample
from segreport.engine import open_engine
from segreport.kpis.report import build_quarter
from segreport.pipeline import PANEL_FILE, load_quarter, prepare

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
    from segreport.pipeline import purchases_file

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
