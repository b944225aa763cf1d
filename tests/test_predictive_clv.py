"""Tests of the predictive CLV: the per-customer summary (segreport.data.rfm_summary) and the
BG/NBD + Gamma-Gamma KPIs (segreport.kpis.predictive_clv) fitted with pymc-marketing.

Seven model fits in all, a few seconds each (pytensor compiles on first use, then caches in
~/.cache/segreport/pytensor): the CDNOW sample against the published estimates; one
business unit of a small generated sample for the shape of the KPI frame; the CDNOW sample
three times more for the fit cache (filling it, refitting a corrupt entry, an unwritable
folder); a simulated summary fitted twice on a sample. The cache tests that only need to
see a miss make the fit raise instead of fitting.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from importlib import metadata
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from segreport import columns as C
from segreport.data.facts import select_business_unit
from segreport.data.read import read_dataset
from segreport.data.rfm_summary import AGE, FREQUENCY, MONETARY_VALUE, RECENCY, SUMMARY_COLUMNS, clv_summary
from segreport.errors import ConfigError
from segreport.kpis import predictive_clv as P
from segreport.kpis.spec import load_specs
from segreport.sample import generate_sample

DATA = Path(__file__).parent / "data"
VERSION = metadata.version("pymc-marketing")


def orders_frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame({
        C.ORDER_ID: [f"O{i}" for i in range(len(rows))],
        C.CUSTOMER_ID: [r[0] for r in rows],
        C.ORDER_DATE: pd.to_datetime([r[1] for r in rows]),
        C.AMOUNT: [float(r[2]) for r in rows],
    })


# --- clv_summary on hand-made orders ------------------------------------------------------
END = pd.Timestamp("2026-03-01")  # exclusive: the calibration runs to 2026-02-28
ORDERS = orders_frame([
    # a: purchase days Jan 5 (two orders: one day, 100 + 20 = 120), Jan 15 (50 with a
    # same-day refund of 10: 40) and Feb 4 (80); the refund-only day Jan 20 is not a
    # purchase day; the order of Mar 1 is on the end, outside the window.
    ("a", "2026-01-05", 100), ("a", "2026-01-05", 20),
    ("a", "2026-01-15", 50), ("a", "2026-01-15", -10),
    ("a", "2026-01-20", -30),
    ("a", "2026-02-04", 80),
    ("a", "2026-03-01", 999),
    # b: one purchase, Feb 10
    ("b", "2026-02-10", 35),
    # c: only a refund before the end, an order after: not in the summary
    ("c", "2026-02-01", -5), ("c", "2026-03-02", 40),
    # d: a $0 row (not a purchase) and an order on the last day of the window
    ("d", "2026-02-01", 0), ("d", "2026-02-28", 10),
    # e: no row in the customers table; Feb 1 (10) and Feb 2 (15)
    ("e", "2026-02-01", 10), ("e", "2026-02-02", 15),
    # f: a repeat day whose refund outweighs the order: Jan 10 (30), Jan 12 (20 − 25 = −5)
    ("f", "2026-01-10", 30), ("f", "2026-01-12", 20), ("f", "2026-01-12", -25),
])
CUSTOMERS = pd.DataFrame({C.CUSTOMER_ID: ["a", "b", "c", "d", "f"],
                          C.SEGMENT: ["A", "B", "A", "B", "A"]})
EXPECTED = pd.DataFrame([
    # frequency = purchase days − 1; recency = last − first day; T = end − first day;
    # monetary = mean net value of the repeat days
    # a: 3 days → 2; Jan 5 → Feb 4 = 30; Jan 5 → Mar 1 = 26 + 29 = 55; (40 + 80) / 2 = 60
    ("a", 2, 30.0, 55.0, 60.0, "A"),
    # b: one purchase → 0, 0, Feb 10 → Mar 1 = 19, 0
    ("b", 0, 0.0, 19.0, 0.0, "B"),
    # d: first purchase day Feb 28 → 0, 0, 1, 0
    ("d", 0, 0.0, 1.0, 0.0, "B"),
    # e: 2 days → 1; 1 day apart; Feb 1 → Mar 1 = 28; 15 / 1; no customers row: Unassigned
    ("e", 1, 1.0, 28.0, 15.0, C.UNASSIGNED),
    # f: 2 days → 1; 2; Jan 10 → Mar 1 = 21 + 29 = 50; −5 / 1
    ("f", 1, 2.0, 50.0, -5.0, "A"),
], columns=list(SUMMARY_COLUMNS))


def test_clv_summary_by_hand():
    before = ORDERS.copy()
    got = clv_summary(ORDERS, END, CUSTOMERS)
    pd.testing.assert_frame_equal(got, EXPECTED, check_dtype=False)
    assert got[FREQUENCY].dtype == "int64"
    assert (got[[RECENCY, AGE, MONETARY_VALUE]].dtypes == "float64").all()
    pd.testing.assert_frame_equal(ORDERS, before)  # the input is not modified


def test_clv_summary_without_customers_puts_everyone_in_unsegmented():
    got = clv_summary(ORDERS, "2026-03-01")
    assert list(got[C.CUSTOMER_ID]) == list(EXPECTED[C.CUSTOMER_ID])
    assert set(got[C.SEGMENT]) == {C.UNSEGMENTED}


def test_clv_summary_of_no_purchase_is_an_empty_frame_with_the_columns():
    got = clv_summary(orders_frame([("c", "2026-02-01", -5)]), END)
    assert got.empty and list(got.columns) == list(SUMMARY_COLUMNS)
    assert clv_summary(ORDERS.iloc[:0], END).empty


def test_clv_summary_agrees_with_pymc_marketing_rfm_summary_on_purchase_days():
    """pymc-marketing's rfm_summary, fed with the rows of the purchase days only (it would
    count a refund-only day as a purchase) and ``end`` as observation end (rows are already
    before it), gives the same numbers."""
    from pymc_marketing.clv import rfm_summary

    rng = np.random.default_rng(3)
    n = 3000
    orders = orders_frame(list(zip(
        rng.integers(0, 300, n).astype(str),
        (pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 420, n), "D")).astype(str),
        np.where(rng.random(n) < 0.1, -rng.uniform(1, 50, n), rng.uniform(1, 200, n)).round(2),
    )))
    end = pd.Timestamp("2026-01-01")
    ours = clv_summary(orders, end).set_index(C.CUSTOMER_ID)

    before = orders[orders[C.ORDER_DATE] < end]
    day_max = before.groupby([C.CUSTOMER_ID, C.ORDER_DATE])[C.AMOUNT].transform("max")
    theirs = rfm_summary(before[day_max > 0], C.CUSTOMER_ID, C.ORDER_DATE,
                         monetary_value_col=C.AMOUNT, observation_period_end=end)
    theirs = theirs.set_index(C.CUSTOMER_ID).sort_index()
    assert list(theirs.index) == list(ours.index)
    for column in (FREQUENCY, RECENCY, AGE, MONETARY_VALUE):
        np.testing.assert_allclose(ours[column], theirs[column], rtol=1e-9, atol=1e-9,
                                   err_msg=column)


# --- the models against the published CDNOW estimates ------------------------------------
@pytest.fixture(scope="module")
def cdnow():
    summary = pd.read_csv(DATA / "cdnow_sample_summary.csv", dtype={C.CUSTOMER_ID: str})
    weeks = summary.assign(**{RECENCY: summary[RECENCY] / 7, AGE: summary[AGE] / 7})
    return summary, P.predictive_clv_kpis(weeks, time_unit="W")


def test_the_cdnow_fixture_is_the_2357_customer_sample(cdnow):
    summary, (_, fit) = cdnow
    # 2,357 customers less 8 whose only transaction is $0 (not a purchase); 946 repeat
    # customers, all with a positive mean spend, as in Fader & Hardie's Gamma-Gamma note
    assert len(summary) == 2349 and fit.customers == 2349
    assert (summary[FREQUENCY] > 0).sum() == 946 and fit.spend_customers == 946
    assert summary[AGE].max() == 273  # 1997-01-01 → 1997-10-01: 39 weeks


def test_bg_nbd_reproduces_fader_hardie_lee_2005(cdnow):
    _, (_, fit) = cdnow
    assert fit.ok, fit.note
    # published: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 (weeks). T one day longer
    # than Hardie's and the 8 $0 customers move a and b by up to 3 %; with his T and those
    # customers the library gives 0.2426, 4.4136, 0.7930, 2.4262.
    for name, published in (("r", 0.243), ("alpha", 4.414), ("a", 0.793), ("b", 2.426)):
        assert fit.params[name] == pytest.approx(published, rel=0.04), name


def test_gamma_gamma_reproduces_fader_hardie_2013(cdnow):
    _, (_, fit) = cdnow
    for name, published in (("p", 6.25), ("q", 3.74), ("v", 15.44)):
        assert fit.params[name] == pytest.approx(published, rel=0.01), name


def test_cdnow_predictions_are_plausible(cdnow):
    _, (frame, fit) = cdnow
    per = fit.per_customer
    assert (per[P.PREDICTED_PURCHASES] >= 0).all() and (per[P.PREDICTED_CLV] >= 0).all()
    # one-time buyers get the population mean spend p·v / (q − 1)
    one_time = fit.per_customer[per[C.CUSTOMER_ID].isin(cdnow[0].loc[cdnow[0][FREQUENCY] == 0,
                                                                      C.CUSTOMER_ID])]
    population = fit.params["p"] * fit.params["v"] / (fit.params["q"] - 1)
    np.testing.assert_allclose(one_time[P.EXPECTED_SPEND], population, rtol=1e-9)
    # CLV ≤ undiscounted spend × purchases (a 10 %/yr discount, 12 months)
    assert (per[P.PREDICTED_CLV] <= per[P.EXPECTED_SPEND] * per[P.PREDICTED_PURCHASES]
            * (1 + 1e-9)).all()
    assert set(frame[C.SEGMENT]) == {C.UNSEGMENTED, C.ALL_SEGMENTS}


# --- the KPI frame on one business unit of the sample data -------------------------------
@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    generate_sample(folder, n_customers=1500, seed=11)
    orders, customers = select_business_unit(read_dataset(folder), "Retail")
    summary = clv_summary(orders, "2026-10-01", customers)
    return summary, P.predictive_clv_kpis(summary)


def test_one_row_per_kpi_and_segment_plus_all(retail):
    summary, (frame, fit) = retail
    assert fit.ok, fit.note
    segments = sorted(summary[C.SEGMENT].unique())
    assert list(frame.columns) == list(C.KPI_FRAME_COLUMNS)
    for kpi in P.PREDICTIVE_KPIS:
        rows = frame[frame[C.KPI] == kpi]
        assert list(rows[C.SEGMENT]) == [*segments, C.ALL_SEGMENTS]
        assert (rows[C.VALUE] > 0).all()
        assert (rows[C.UNIT] == P.UNITS[kpi]).all()
        # value = numerator / denominator; denominators are the customers; All = sum
        np.testing.assert_allclose(rows[C.VALUE], rows[C.NUMERATOR] / rows[C.DENOMINATOR])
        counts = summary[C.SEGMENT].value_counts()
        assert list(rows[C.DENOMINATOR]) == [*(counts[s] for s in segments), len(summary)]
        inner = rows[rows[C.SEGMENT] != C.ALL_SEGMENTS]
        assert inner[C.NUMERATOR].sum() == pytest.approx(rows[C.NUMERATOR].iloc[-1])


def test_the_note_names_the_library_version_and_model(retail):
    _, (frame, fit) = retail
    clv_note = (f"BG/NBD + Gamma-Gamma via pymc-marketing {VERSION}, MAP fit, 12-month "
                "horizon, 10%/yr discount")
    assert set(frame.loc[frame[C.KPI] == P.PREDICTED_CLV, C.NOTE]) == {clv_note}
    assert fit.note == clv_note
    purchases_note = set(frame.loc[frame[C.KPI] == P.PREDICTED_PURCHASES, C.NOTE])
    assert purchases_note == {(f"BG/NBD via pymc-marketing {VERSION}, MAP fit, 12-month "
                               "horizon, undiscounted")}


def test_the_fit_info_has_the_parameters(retail):
    summary, (_, fit) = retail
    assert set(fit.params) == {"r", "alpha", "a", "b", "p", "q", "v"}
    assert all(math.isfinite(v) and v > 0 for v in fit.params.values())
    assert fit.params["q"] > 1
    assert fit.library == "pymc-marketing" and fit.library_version == VERSION
    assert fit.method == "map" and fit.time_unit == "D" and fit.horizon_months == 12
    assert fit.monthly_discount_rate == pytest.approx(1.1 ** (1 / 12) - 1)
    assert fit.customers == len(summary) == len(fit.per_customer)
    assert fit.fit_seconds > 0 and fit.compiledir


# --- failures never raise ------------------------------------------------------------------
def empty_values(frame: pd.DataFrame) -> bool:
    return frame[C.VALUE].isna().all() and frame[C.NOTE].str.startswith("not defined").all()


def test_no_customer_gives_empty_values_with_a_note():
    frame, fit = P.predictive_clv_kpis(clv_summary(ORDERS.iloc[:0], END),
                                       segments=["A", "B"])
    assert list(frame[C.SEGMENT]) == ["A", "B", C.ALL_SEGMENTS] * 2
    assert empty_values(frame) and not fit.ok
    assert "at least 50 customers" in fit.note and "there are 0" in fit.note


def test_too_few_customers_give_empty_values_with_a_note():
    frame, fit = P.predictive_clv_kpis(clv_summary(ORDERS, END, CUSTOMERS))
    assert empty_values(frame) and not fit.ok
    assert "at least 50 customers" in fit.note and "there are 5" in fit.note
    # the denominators still count the customers
    all_rows = frame[frame[C.SEGMENT] == C.ALL_SEGMENTS]
    assert (all_rows[C.DENOMINATOR] == 5).all()
    assert all(math.isnan(v) for v in fit.params.values())


def test_too_few_repeat_customers_give_empty_values_with_a_note():
    one_timers = pd.DataFrame({C.CUSTOMER_ID: [f"c{i}" for i in range(60)], FREQUENCY: 0,
                               RECENCY: 0.0, AGE: 100.0, MONETARY_VALUE: 0.0,
                               C.SEGMENT: "A"})
    frame, fit = P.predictive_clv_kpis(one_timers)
    assert empty_values(frame) and "repeat customers" in fit.note


def test_a_failing_fit_gives_empty_values_with_a_note(monkeypatch):
    from pymc_marketing.clv import BetaGeoModel

    def boom(self, *args, **kwargs):
        raise FloatingPointError("NaN in the log-likelihood")

    monkeypatch.setattr(BetaGeoModel, "fit", boom)
    summary = pd.DataFrame({C.CUSTOMER_ID: [f"c{i}" for i in range(60)],
                            FREQUENCY: np.arange(60) % 3,
                            RECENCY: (np.arange(60) % 3) * 10.0,
                            AGE: 100.0, MONETARY_VALUE: np.where(np.arange(60) % 3, 25.0, 0.0),
                            C.SEGMENT: "A"})
    frame, fit = P.predictive_clv_kpis(summary)
    assert empty_values(frame) and not fit.ok
    assert "BG/NBD fit failed (FloatingPointError: NaN in the log-likelihood)" in fit.note


@pytest.mark.parametrize("kwargs", [{"horizon_months": 0}, {"horizon_months": 1.5},
                                    {"annual_discount_rate": -0.1},
                                    {"annual_discount_rate": math.nan}, {"annual_discount_rate": "10%"},
                                    {"horizon_months": "12"}, {"time_unit": "Y"}])
def test_invalid_arguments_raise_a_config_error(kwargs):
    with pytest.raises(ConfigError):
        P.predictive_clv_kpis(EXPECTED, **kwargs)


# --- cards ---------------------------------------------------------------------------------
def test_both_kpis_have_a_card_with_the_shared_schema():
    text = files("segreport.kpis").joinpath("cards_predictive.yaml").read_text(encoding="utf-8")
    cards = yaml.safe_load(text)
    assert set(cards) == set(P.PREDICTIVE_KPIS)
    known = set(load_specs())
    for kpi, card in cards.items():
        for key in ("name", "unit", "higher_is_better", "definition", "formula",
                    "measurement", "diagnostics", "tips", "risks", "related"):
            assert card.get(key) not in (None, "", []), f"{kpi}: {key}"
        assert card["unit"] == P.UNITS[kpi]
        assert set(card["related"]) <= known, kpi
        assert kpi in known  # picked up by load_specs
    assert "pymc-marketing" in cards[P.PREDICTED_CLV]["measurement"]


# --- the fit cache -------------------------------------------------------------------------
# One real fit (the CDNOW sample, in days) fills a cache folder; the other calls either hit it
# or, to show that they miss, meet a BG/NBD fit that raises (a miss must try to fit).
class FitAttempted(Exception):
    """Raised by the patched BG/NBD fit: the call did not find its inputs in the cache."""


@pytest.fixture
def no_fit(monkeypatch):
    from pymc_marketing.clv import BetaGeoModel

    def refuse(self, *args, **kwargs):
        raise FitAttempted("a fit was attempted")

    monkeypatch.setattr(BetaGeoModel, "fit", refuse)


def attempted_fit(fit: P.PredictiveClvFit) -> bool:
    return not fit.ok and not fit.cached and "FitAttempted" in fit.note


@pytest.fixture(scope="module")
def cached_cdnow(tmp_path_factory):
    cache = tmp_path_factory.mktemp("clv-cache")
    summary = pd.read_csv(DATA / "cdnow_sample_summary.csv", dtype={C.CUSTOMER_ID: str})
    summary[C.SEGMENT] = np.where(summary[FREQUENCY] > 0, "repeat", "one-time")
    return summary, cache, P.predictive_clv_kpis(summary, cache_dir=cache)


def test_a_first_call_fits_and_writes_one_cache_entry(cached_cdnow):
    summary, cache, (_, fit) = cached_cdnow
    assert fit.ok and not fit.cached and not fit.sampled
    assert fit.fit_customers == fit.customers == len(summary)
    assert len(fit.fingerprint) == 64
    assert [p.name for p in cache.iterdir()] == [f"{fit.fingerprint}.parquet"]


def test_the_same_inputs_again_are_a_cache_hit_with_identical_output(cached_cdnow, no_fit):
    summary, cache, (frame, fit) = cached_cdnow
    again_frame, again = P.predictive_clv_kpis(summary, cache_dir=str(cache))  # str works too
    assert again.cached and again.ok and again.fingerprint == fit.fingerprint
    pd.testing.assert_frame_equal(again_frame, frame)
    pd.testing.assert_frame_equal(again.per_customer, fit.per_customer)
    assert again.params == fit.params
    assert (again.customers, again.fit_customers, again.spend_customers, again.note) == \
        (fit.customers, fit.fit_customers, fit.spend_customers, fit.note)
    assert again.fit_seconds == fit.fit_seconds  # those of the fit that wrote the entry


def test_row_order_and_segments_do_not_enter_the_key(cached_cdnow, no_fit):
    summary, cache, (_, fit) = cached_cdnow
    shuffled = summary.sample(frac=1, random_state=5)
    shuffled[C.SEGMENT] = np.where(shuffled[AGE] > 200, "early", "late")
    frame, again = P.predictive_clv_kpis(shuffled, cache_dir=cache)
    assert again.cached and again.fingerprint == fit.fingerprint
    # the predictions follow their customers into the new row order
    assert list(again.per_customer[C.CUSTOMER_ID]) == list(shuffled[C.CUSTOMER_ID])
    mine = again.per_customer.set_index(C.CUSTOMER_ID)
    theirs = fit.per_customer.set_index(C.CUSTOMER_ID).loc[mine.index]
    for column in P.PREDICTION_COLUMNS:
        np.testing.assert_array_equal(mine[column], theirs[column])
    assert sorted(set(frame[C.SEGMENT])) == [C.ALL_SEGMENTS, "early", "late"]


def _one_monetary_value_up_by_a_cent(summary):
    changed = summary.copy()
    row = changed.index[changed[FREQUENCY] > 0][10]
    changed.loc[row, MONETARY_VALUE] += 0.01
    return changed, {}


def _one_recency_down_a_day(summary):
    changed = summary.copy()
    row = changed.index[changed[RECENCY] > 0][0]
    changed.loc[row, RECENCY] -= 1
    return changed, {}


@pytest.mark.parametrize("change", [
    _one_monetary_value_up_by_a_cent,
    _one_recency_down_a_day,
    lambda s: (s, {"horizon_months": 13}),
    lambda s: (s, {"annual_discount_rate": 0.08}),
    lambda s: (s, {"time_unit": "W"}),
    lambda s: (s.iloc[1:], {}),
], ids=["monetary", "recency", "horizon", "discount", "time_unit", "one_customer_fewer"])
def test_any_change_to_the_inputs_of_the_fit_is_a_miss(cached_cdnow, no_fit, change):
    summary, cache, (_, fit) = cached_cdnow
    changed, kwargs = change(summary)
    _, again = P.predictive_clv_kpis(changed, cache_dir=cache, **kwargs)
    assert attempted_fit(again), again.note
    assert again.fingerprint and again.fingerprint != fit.fingerprint


def test_the_sampling_settings_enter_the_key_only_when_they_sample(cached_cdnow, no_fit):
    summary, cache, (_, fit) = cached_cdnow
    # 2,349 customers: a limit above that does not sample, so the entry still serves
    _, again = P.predictive_clv_kpis(summary, cache_dir=cache, max_fit_customers=5000, seed=1)
    assert again.cached
    _, one = P.predictive_clv_kpis(summary, cache_dir=cache, max_fit_customers=1000, seed=1)
    _, two = P.predictive_clv_kpis(summary, cache_dir=cache, max_fit_customers=1000, seed=2)
    assert attempted_fit(one) and attempted_fit(two)
    assert len({fit.fingerprint, one.fingerprint, two.fingerprint}) == 3


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"not a parquet file")


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _no_metadata(path: Path) -> None:
    pd.DataFrame({c: [1.0] for c in P.PREDICTION_COLUMNS}).to_parquet(path)


def _another_key(path: Path) -> None:  # a well-formed entry written for other inputs
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"segreport.predictive_clv"])
    meta["key"] = "0" * 64
    pq.write_table(table.replace_schema_metadata(
        {b"segreport.predictive_clv": json.dumps(meta).encode()}), path)


@pytest.mark.parametrize("damage", [_truncated, _garbage, _empty, _no_metadata, _another_key])
def test_a_damaged_entry_is_ignored_and_the_models_refitted(cached_cdnow, tmp_path, no_fit,
                                                            damage):
    summary, cache, (_, fit) = cached_cdnow
    entry = tmp_path / f"{fit.fingerprint}.parquet"
    shutil.copy(cache / entry.name, entry)
    damage(entry)
    _, again = P.predictive_clv_kpis(summary, cache_dir=tmp_path)
    assert attempted_fit(again), again.note


def test_a_corrupt_entry_is_refitted_and_rewritten(cached_cdnow, tmp_path):
    summary, cache, (frame, fit) = cached_cdnow
    entry = tmp_path / f"{fit.fingerprint}.parquet"
    shutil.copy(cache / entry.name, entry)
    _truncated(entry)
    refit_frame, refit = P.predictive_clv_kpis(summary, cache_dir=tmp_path)
    assert refit.ok and not refit.cached
    # the same data and optimiser give the same fit
    for name, value in fit.params.items():
        assert refit.params[name] == pytest.approx(value, rel=1e-9), name
    pd.testing.assert_frame_equal(refit_frame, frame, rtol=1e-9)
    # the entry is whole again, and no temporary file is left beside it
    assert [p.name for p in tmp_path.iterdir()] == [entry.name]
    _, third = P.predictive_clv_kpis(summary, cache_dir=tmp_path)
    assert third.cached and third.params == refit.params


def test_a_cache_hit_imports_neither_pymc_nor_pytensor(cached_cdnow, tmp_path):
    summary, cache, (frame, fit) = cached_cdnow
    summary.to_parquet(tmp_path / "summary.parquet")
    script = f"""
import json, sys
import pandas as pd
from segreport.kpis.predictive_clv import predictive_clv_kpis
summary = pd.read_parquet({str(tmp_path / "summary.parquet")!r})
frame, fit = predictive_clv_kpis(summary, cache_dir={str(cache)!r})
print(json.dumps({{"cached": fit.cached, "values": frame["value"].tolist(),
                   "loaded": sorted(m for m in ("pytensor", "pymc", "pymc_marketing")
                                    if m in sys.modules)}}))
"""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=root, timeout=120, check=True)
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got == {"cached": True, "values": frame[C.VALUE].tolist(), "loaded": []}


def test_an_unwritable_cache_warns_and_the_result_stands(cached_cdnow, tmp_path):
    summary, _, (frame, fit) = cached_cdnow
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.warns(RuntimeWarning, match="could not write the fit cache"):
        again_frame, again = P.predictive_clv_kpis(summary, cache_dir=not_a_folder)
    assert again.ok and not again.cached
    pd.testing.assert_frame_equal(again_frame, frame, rtol=1e-9)


def test_without_a_cache_folder_nothing_is_cached(cached_cdnow, no_fit):
    summary, _, _ = cached_cdnow
    _, fit = P.predictive_clv_kpis(summary)
    assert attempted_fit(fit)


# --- fitting on a sample above max_fit_customers -------------------------------------------
@pytest.fixture(scope="module")
def sampled(tmp_path_factory):
    """3,000 customers drawn from the models, fitted on a sample of 1,000, predicted in
    chunks of 700 (five library calls)."""
    summary = P.simulate_summary(3000, seed=7)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(P, "PREDICT_CHUNK", 700)
        result = P.predictive_clv_kpis(summary, max_fit_customers=1000, seed=3)
    return summary, result


def test_simulate_summary_is_a_valid_summary():
    summary = P.simulate_summary(500, seed=1)
    assert list(summary.columns) == list(SUMMARY_COLUMNS) and len(summary) == 500
    assert summary[C.CUSTOMER_ID].is_unique and summary[C.CUSTOMER_ID].is_monotonic_increasing
    assert (summary[RECENCY] <= summary[AGE]).all() and (summary[AGE] >= 1).all()
    repeat = summary[FREQUENCY] > 0
    assert (summary.loc[repeat, MONETARY_VALUE] > 0).all()
    assert (summary.loc[~repeat, [RECENCY, MONETARY_VALUE]] == 0).all().all()
    pd.testing.assert_frame_equal(P.simulate_summary(500, seed=1), summary)


def test_above_the_limit_the_fit_uses_a_sample_and_predicts_for_everyone(sampled):
    summary, (frame, fit) = sampled
    assert fit.ok, fit.note
    assert fit.sampled and fit.customers == 3000 and fit.fit_customers == 1000
    # the Gamma-Gamma model is fitted on the repeat customers of the sample only
    assert 0 < fit.spend_customers < (summary[FREQUENCY] > 0).sum()
    per = fit.per_customer
    assert list(per[C.CUSTOMER_ID]) == list(summary[C.CUSTOMER_ID])
    for column in P.PREDICTION_COLUMNS:
        assert np.isfinite(per[column]).all() and (per[column] >= 0).all(), column
    # one model for all: the same history gives the same prediction, in the sample or not,
    # and every one-time buyer gets the population mean spend p·v / (q − 1)
    spread = per.assign(**{c: summary[c] for c in (FREQUENCY, RECENCY, AGE)}) \
        .groupby([FREQUENCY, RECENCY, AGE])[P.PREDICTED_PURCHASES].agg(["min", "max", "size"])
    assert (spread["size"] > 1).sum() > 100  # many histories occur more than once
    np.testing.assert_allclose(spread["max"], spread["min"], rtol=1e-12)
    one_time = per[summary[FREQUENCY].to_numpy() == 0]
    np.testing.assert_allclose(one_time[P.EXPECTED_SPEND],
                               fit.params["p"] * fit.params["v"] / (fit.params["q"] - 1),
                               rtol=1e-9)
    # the KPI rows count every customer
    all_rows = frame[frame[C.SEGMENT] == C.ALL_SEGMENTS]
    assert (all_rows[C.DENOMINATOR] == 3000).all()


def test_the_note_says_the_fit_used_a_sample(sampled):
    _, (frame, fit) = sampled
    said = "fitted on a random sample of 1,000 of 3,000 customers"
    assert fit.note.endswith(said)
    assert frame[C.NOTE].str.endswith(said).all()


def test_the_sample_fit_is_deterministic_for_a_seed_and_chunking_changes_nothing(sampled):
    summary, (frame, fit) = sampled
    again_frame, again = P.predictive_clv_kpis(summary, max_fit_customers=1000, seed=3)
    assert again.params == fit.params
    pd.testing.assert_frame_equal(again.per_customer, fit.per_customer, rtol=1e-12)
    pd.testing.assert_frame_equal(again_frame, frame, rtol=1e-12)


def test_too_few_repeat_customers_in_the_sample_say_so(no_fit):
    summary = P.simulate_summary(400, seed=2)
    _, fit = P.predictive_clv_kpis(summary, max_fit_customers=60, min_repeat_customers=50)
    assert not fit.ok and fit.sampled and fit.fit_customers == 60
    assert f"there are {fit.spend_customers} in the random sample of 60" in fit.note


@pytest.mark.parametrize("kwargs", [{"max_fit_customers": 0}, {"max_fit_customers": 10.5},
                                    {"max_fit_customers": True}, {"max_fit_customers": 49},
                                    {"max_fit_customers": "1000"}, {"seed": -1},
                                    {"seed": 1.5}, {"seed": "a"}])
def test_invalid_sampling_arguments_raise_a_config_error(kwargs):
    with pytest.raises(ConfigError):
        P.predictive_clv_kpis(EXPECTED, **kwargs)
