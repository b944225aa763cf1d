"""kpi_history.csv: every KPI × segment × quarter a report shows, and the same numbers as
each of those quarters' own report."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segreport import columns as C
from segreport.pipeline import load_quarter, window_quarters
from segreport.prepared.build import prepare
from segreport.report.names import KPI_HISTORY_NAME
from segreport.report.sections import kpi_history_for_csv, kpis_for_csv, save_kpis
from segreport.sample import generate_sample

TARGETS = {"retention_rate": 80.0, "churn_rate": {"Retail": 20.0}}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """One small dataset, prepared as the 2026Q3 report and, separately, as the 2026Q2
    report would prepare it."""
    folder = tmp_path_factory.mktemp("history")
    data = generate_sample(folder / "data", n_customers=300, seed=5)["orders"].parent
    prepare(folder / "q3", data, ["2026Q3"])
    prepare(folder / "q2", data, ["2026Q2"])
    return folder


def test_the_window_is_the_reported_quarter_and_the_eight_before_it():
    assert window_quarters("2026Q3") == ["2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3",
                                         "2025Q4", "2026Q1", "2026Q2", "2026Q3"]


@pytest.mark.parametrize("unit", ["", "Retail"])
def test_a_past_quarter_in_the_history_equals_that_quarters_own_report(prepared, unit, tmp_path):
    q3 = load_quarter(prepared / "q3", "2026Q3", unit, predictive=False, targets=TARGETS)
    csv = tmp_path / "kpis.csv"
    save_kpis(q3.kpis, str(csv), "2026Q3", unit, q3.history)
    history = pd.read_csv(tmp_path / KPI_HISTORY_NAME, keep_default_na=False,
                          na_values=[""])
    assert list(history.columns) == [C.QUARTER] + list(C.KPI_CSV_COLUMNS)
    assert list(dict.fromkeys(history[C.QUARTER])) == window_quarters("2026Q3")
    assert set(history[C.PERIOD]) == {"2026Q3"}
    assert set(history[C.BUSINESS_UNIT]) == {unit or "All"}
    # one row per KPI × segment × quarter
    assert not history.duplicated([C.QUARTER, C.KPI, C.SEGMENT]).any()

    q2 = load_quarter(prepared / "q2", "2026Q2", unit, predictive=False, targets=TARGETS)
    own = kpis_for_csv(q2.kpis, "2026Q2", unit).set_index([C.KPI, C.SEGMENT])
    past = history[history[C.QUARTER] == "2026Q2"].set_index([C.KPI, C.SEGMENT])
    both = own.index.intersection(past.index)
    # every base, value and voice KPI of every segment (behaviour groups and predicted CLV
    # are made for the reported quarter only)
    assert len(both) == len(past) and len(both) > 100
    for col in (C.VALUE, C.NUMERATOR, C.DENOMINATOR, C.CI_LOW, C.CI_HIGH, C.PREVIOUS_VALUE,
                C.TARGET):
        a = own.loc[both, col].astype(float).to_numpy()
        b = past.loc[both, col].astype(float).to_numpy()
        same = np.isclose(a, b, rtol=1e-12, atol=0, equal_nan=True)
        assert same.all(), (col, both[~same].tolist()[:5])
    for col in (C.UNIT, C.BAND, C.STATUS):
        assert own.loc[both, col].fillna("").astype(str).tolist() == \
            past.loc[both, col].fillna("").astype(str).tolist(), col
    # the reported quarter's rows are kpis.csv's
    now = history[history[C.QUARTER] == "2026Q3"].set_index([C.KPI, C.SEGMENT])
    written = pd.read_csv(csv).set_index([C.KPI, C.SEGMENT])
    assert np.allclose(now[C.VALUE], written.loc[now.index, C.VALUE], rtol=0, atol=0,
                       equal_nan=True)


def test_history_rows_carry_the_targets_in_every_quarter(prepared):
    q3 = load_quarter(prepared / "q3", "2026Q3", "Retail", predictive=False, targets=TARGETS)
    out = kpi_history_for_csv(q3.history, "2026Q3", "Retail")
    retention = out[out[C.KPI] == "retention_rate"]
    assert (retention[C.TARGET] == 80.0).all()
    # status: on track exactly where the value reaches 80 (higher is better)
    expected = np.where(retention[C.VALUE] >= 80.0, "on track", "off track")
    assert retention[C.STATUS].tolist() == expected.tolist()
    assert (out.loc[out[C.KPI] == "churn_rate", C.TARGET] == 20.0).all()


def test_without_a_panel_the_history_is_the_header_alone():
    out = kpi_history_for_csv(pd.DataFrame(), "2026Q3", "")
    assert out.empty and list(out.columns) == list(C.KPI_HISTORY_COLUMNS)
