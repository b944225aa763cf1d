"""The prepared folder: computed once, reused while the source files, settings and code are
unchanged, and checked against each request."""
from __future__ import annotations

import os

import pandas as pd
import pytest

from segreport.errors import ConfigError, DataError
from segreport.prepared.cached import cache_root, prepare_cached
from segreport.prepared.folder import INFO_FILE, PANEL_FILE
from segreport.sample import generate_sample


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGREPORT_CACHE_DIR", str(tmp_path / "cache"))
    return generate_sample(tmp_path / "data", n_customers=300, seed=3)["orders"].parent


def test_a_second_prepare_of_the_same_files_and_settings_reuses_the_folder(data):
    first = prepare_cached(data, ["2026Q3"])
    stamp = (first.folder / PANEL_FILE).stat().st_mtime_ns
    second = prepare_cached(data, ["2026Q3"], business_unit="Retail")  # any unit: one folder
    assert second.folder == first.folder
    assert (second.folder / PANEL_FILE).stat().st_mtime_ns == stamp  # not rewritten


def test_a_changed_source_file_or_setting_prepares_afresh(data):
    first = prepare_cached(data, ["2026Q3"])
    other_window = prepare_cached(data, ["2026Q3"], active_window_days=180)
    assert other_window.folder != first.folder
    orders = pd.read_parquet(data / "orders.parquet")
    orders.loc[0, "amount"] += 1.0
    orders.to_parquet(data / "orders.parquet", index=False)
    os.utime(data / "orders.parquet", ns=(1, 1))  # even an older modification time
    assert prepare_cached(data, ["2026Q3"]).folder not in (first.folder, other_window.folder)


def test_a_reused_folder_still_checks_the_unit_and_the_period(data):
    prepare_cached(data, ["2026Q3"])
    with pytest.raises(ConfigError, match="business_unit 'Nowhere' not found.*units present: "
                                          "Online, Retail, Wholesale"):
        prepare_cached(data, ["2026Q3"], business_unit="Nowhere")
    with pytest.raises(ConfigError, match="segment_by 'colour'"):
        prepare_cached(data, ["2026Q3"], segment_by="colour")


def test_the_cache_keeps_only_the_most_recent_folders(data):
    for days in (100, 200, 300):
        prepare_cached(data, ["2026Q3"], active_window_days=days, keep=2)
    kept = [p for p in cache_root().iterdir() if (p / INFO_FILE).is_file()]
    assert len(kept) == 2


def test_a_source_that_fails_its_checks_leaves_nothing_in_the_cache(data):
    customers = pd.read_parquet(data / "customers.parquet")
    pd.concat([customers, customers.head(1)]).to_parquet(data / "customers.parquet", index=False)
    with pytest.raises(DataError, match="customer id appears more than once"):
        prepare_cached(data, ["2026Q3"])
    assert [p.name for p in cache_root().iterdir()] == []
    assert oct(cache_root().stat().st_mode & 0o777) == "0o700"  # owner-only


def test_a_units_behaviour_groups_are_made_once_per_prepared_folder(data, monkeypatch):
    from segreport import pipeline
    from segreport.kpis import quarter
    from segreport.prepared.folder import behaviour_file

    folder = prepare_cached(data, ["2026Q3"]).folder
    made = []
    real = quarter.behaviour_of
    monkeypatch.setattr(quarter, "behaviour_of", lambda *a: made.append(1) or real(*a))
    first = pipeline.load_quarter(folder, "2026Q3", "Retail", predictive=False)
    again = pipeline.load_quarter(folder, "2026Q3", "Retail", predictive=False)
    other = pipeline.load_quarter(folder, "2026Q3", "Online", predictive=False)
    assert made == [1, 1]  # Retail once, then Online: the second Retail report read it
    assert (folder / behaviour_file("2026Q3", "Retail")).stat().st_mode & 0o077 == 0
    pd.testing.assert_frame_equal(again.behaviour.rfm, first.behaviour.rfm)
    assert again.behaviour.clusters.k == first.behaviour.clusters.k
    assert not other.behaviour.rfm.index.isin(first.behaviour.rfm.index).any()


def test_the_fit_made_from_the_early_purchase_summary_is_the_one_the_report_reads(data, tmp_path):
    # ``segreport run`` hands each period's purchase summary to the notebook's kernel as
    # soon as it is computed; the kernel fits and keeps the fit. The report must then read
    # that fit (a cache hit), not fit again: same customers, same settings, same key.
    from segreport.pipeline import fit_predicted_clv, load_quarter
    from segreport.prepared.folder import purchases_file

    seen = {}
    prepared = prepare_cached(data, ["2026Q3"], on_purchases=seen.__setitem__)
    assert list(seen) == ["2026Q3"]
    pd.testing.assert_frame_equal(seen["2026Q3"],
                                  pd.read_parquet(prepared.folder / purchases_file("2026Q3")))
    early = tmp_path / "early.parquet"
    seen["2026Q3"].to_parquet(early, index=False)
    assert fit_predicted_clv(early, "", clv_horizon_months=6, clv_discount_rate=0.05)
    q = load_quarter(prepared.folder, "2026Q3", "", clv_horizon_months=6, clv_discount_rate=0.05)
    assert q.clv_fit.ok and q.clv_fit.cached
    other = load_quarter(prepared.folder, "2026Q3", "", clv_horizon_months=12,
                         clv_discount_rate=0.05)
    assert other.clv_fit.ok and not other.clv_fit.cached  # another horizon is another fit


def test_a_folder_read_from_the_cache_hands_over_no_purchase_summary(data):
    prepare_cached(data, ["2026Q3"])
    seen = {}
    prepare_cached(data, ["2026Q3"], on_purchases=seen.__setitem__)
    assert seen == {}


def test_behaviour_groups_computed_early_from_copies_are_the_ones_the_report_takes(
        data, tmp_path, monkeypatch):
    # ``segreport run`` hands the customer facts to the notebook's kernel as soon as they
    # are written (``on_facts``, while the KPI panel is still being computed); the kernel
    # computes the behaviour groups from copies of the files and keeps them. The report
    # must take them, not compute them again, and only for the same quarter, unit and data.
    import shutil

    from segreport import pipeline
    from segreport.kpis import quarter
    from segreport.prepared.folder import COHORTS_FILE, behaviour_file

    handed = {}

    def on_facts(label, folder):
        copy = handed[label] = tmp_path / f"copy-{label}"
        copy.mkdir()
        for name in pipeline.behaviour_files(label):
            assert (folder / name).is_file()  # written before the callback
            shutil.copyfile(folder / name, copy / name)

    monkeypatch.setattr(pipeline, "_EARLY", {})
    prepared = prepare_cached(data, ["2026Q3"], on_facts=on_facts)
    assert list(handed) == ["2026Q3"]
    reference = pipeline.load_quarter(prepared.folder, "2026Q3", "Retail", predictive=False)
    (prepared.folder / behaviour_file("2026Q3", "Retail")).unlink()  # as if never reported

    pipeline.keep_behaviour_early(handed["2026Q3"], "2026Q3", "Retail")
    pipeline.keep_behaviour_early(handed["2026Q3"], "2026Q3", "Online")
    made = []
    real = quarter.behaviour_of
    monkeypatch.setattr(quarter, "behaviour_of", lambda *a: made.append(1) or real(*a))
    early = pipeline.load_quarter(prepared.folder, "2026Q3", "Retail", predictive=False)
    assert made == []  # taken, not computed
    pd.testing.assert_frame_equal(early.behaviour.rfm, reference.behaviour.rfm)
    pd.testing.assert_frame_equal(early.behaviour.clusters.profile,
                                  reference.behaviour.clusters.profile)
    assert (prepared.folder / behaviour_file("2026Q3", "Retail")).is_file()  # kept as usual

    # other data for the same quarter and unit: the early groups do not apply
    cohorts = pd.read_parquet(prepared.folder / COHORTS_FILE)
    cohorts.iloc[:0].to_parquet(prepared.folder / COHORTS_FILE, index=False)
    (prepared.folder / behaviour_file("2026Q3", "Online")).unlink(missing_ok=True)
    pipeline.load_quarter(prepared.folder, "2026Q3", "Online", predictive=False)
    assert made == [1]


def test_a_folder_read_from_the_cache_hands_over_no_customer_facts(data):
    prepare_cached(data, ["2026Q3"])
    seen = {}
    prepare_cached(data, ["2026Q3"], on_facts=seen.__setitem__)
    assert seen == {}


def test_behaviour_groups_kept_ahead_in_the_folder_are_read_by_the_report(data, monkeypatch):
    from segreport import pipeline
    from segreport.kpis import quarter
    from segreport.prepared.folder import behaviour_file

    folder = prepare_cached(data, ["2026Q3"]).folder
    pipeline.keep_behaviour(folder, "2026Q3", "Wholesale")
    assert (folder / behaviour_file("2026Q3", "Wholesale")).is_file()
    made = []
    real = quarter.behaviour_of
    monkeypatch.setattr(quarter, "behaviour_of", lambda *a: made.append(1) or real(*a))
    pipeline.keep_behaviour(folder, "2026Q3", "Wholesale")  # kept already: not made again
    q = pipeline.load_quarter(folder, "2026Q3", "Wholesale", predictive=False)
    assert made == [] and len(q.behaviour.rfm)
