"""Unit tests of the survey KPIs (segreport.kpis.voice) on small hand-made tables.

Every expected value is worked out by hand in the comment next to its assertion.
The period is 2026Q3, P = [2026-07-01, 2026-10-01); the previous period is 2026Q2,
[2026-04-01, 2026-07-01); the insight window is [2026-10-01 − 365 d, 2026-10-01) =
[2025-10-01, 2026-10-01). z = 1.959964 (z² = 3.841459).

The unit (``facts``) has segment A = a1, a2, a3; B = b1, b2; C = c1, c2. Customer x9
answers surveys but belongs to another business unit (not in ``facts``).
Responses (customer, date, nps, csat, aware, perceived_quality):

    a1 2026-07-01  10  5  1  5    on the start: counts
    a2 2026-08-15   9  4  1  4
    a3 2026-09-30   3  2  0  1
    a1 2026-10-01   0  1  0  1    on the end: next period, ignored
    b1 2026-07-10   7  3  1  3
    b2 2026-07-20   6  4  0  4
    x9 2026-08-01   0  1  0  1    not in facts: ignored
    a1 2026-04-01  10  5  1  5    previous period
    a2 2026-06-30   0  1  0  1    previous period (last day)
    a3 2026-05-01   8  4  1  4    previous period
    c1 2025-09-30  10  5  1  5    one day before the insight window
    c2 2025-10-01  10  5  1  5    first day of the insight window
"""
from __future__ import annotations

import math
from importlib.resources import files

import pandas as pd
import pytest
import yaml

from segreport import columns as C
from segreport.data.facts import customer_facts
from segreport.kpis import voice as V
from segreport.kpis.spec import load_specs

START, END = pd.Timestamp("2026-07-01"), pd.Timestamp("2026-10-01")
PREV_START, PREV_END = pd.Timestamp("2026-04-01"), pd.Timestamp("2026-07-01")
Z = 1.959963984540054
ABS = 0.01  # hand-worked values are rounded to 2 decimals

SURVEY_ROWS = [
    ("a1", "2026-07-01", 10, 5, 1, 5),
    ("a2", "2026-08-15", 9, 4, 1, 4),
    ("a3", "2026-09-30", 3, 2, 0, 1),
    ("a1", "2026-10-01", 0, 1, 0, 1),
    ("b1", "2026-07-10", 7, 3, 1, 3),
    ("b2", "2026-07-20", 6, 4, 0, 4),
    ("x9", "2026-08-01", 0, 1, 0, 1),
    ("a1", "2026-04-01", 10, 5, 1, 5),
    ("a2", "2026-06-30", 0, 1, 0, 1),
    ("a3", "2026-05-01", 8, 4, 1, 4),
    ("c1", "2025-09-30", 10, 5, 1, 5),
    ("c2", "2025-10-01", 10, 5, 1, 5),
]


# --- hand-made tables with the contract's names and types --------------------------------
def make_surveys(rows, *, aware: bool = True, quality: bool = True) -> pd.DataFrame:
    """``rows`` = (customer_id, response_date, nps, csat, aware, perceived_quality)."""
    frame = pd.DataFrame({
        C.CUSTOMER_ID: pd.Series([r[0] for r in rows], dtype=object),
        C.RESPONSE_DATE: pd.Series(pd.to_datetime([r[1] for r in rows]), dtype="datetime64[ns]"),
        C.NPS: pd.Series([r[2] for r in rows], dtype="float64"),
        C.CSAT: pd.Series([r[3] for r in rows], dtype="float64"),
    })
    if aware:
        frame[C.AWARE] = pd.Series([r[4] for r in rows], dtype="float64")
    if quality:
        frame[C.PERCEIVED_QUALITY] = pd.Series([r[5] for r in rows], dtype="float64")
    return frame


def make_facts(rows) -> pd.DataFrame:
    """``rows`` = (customer_id, segment, active_end); a minimal customer_facts frame."""
    index = pd.Index([r[0] for r in rows], name=C.CUSTOMER_ID, dtype=object)
    return pd.DataFrame({
        C.SEGMENT: [r[1] for r in rows],
        C.ACTIVE_START: True,
        C.ACTIVE_END: pd.Series([r[2] for r in rows], dtype=bool).to_numpy(),
    }, index=index)


def make_customers(rows, profile: bool = True) -> pd.DataFrame:
    """``rows`` = (customer_id, segment, age, gender, income, region, channel)."""
    frame = pd.DataFrame({
        C.CUSTOMER_ID: pd.Series([r[0] for r in rows], dtype=object),
        C.SEGMENT: pd.Series([r[1] for r in rows], dtype=object),
    })
    if profile:
        for i, name in enumerate(C.PROFILE_COLUMNS):
            kind = "float64" if i in (0, 2) else object
            frame[name] = pd.Series([r[2 + i] for r in rows], dtype=kind)
    return frame


# a3 is no longer active at the end; everyone else is.
FACTS = make_facts([("a1", "A", True), ("a2", "A", True), ("a3", "A", False),
                    ("b1", "B", True), ("b2", "B", True), ("c1", "C", True), ("c2", "C", True)])
# b1 has no region: its profile is incomplete. Everyone else is complete.
CUSTOMERS = make_customers([
    ("a1", "A", 30, "f", 50_000, "north", "web"),
    ("a2", "A", 41, "m", 62_000, "south", "store"),
    ("a3", "A", 55, "f", 48_000, "east", "web"),
    ("b1", "B", 23, "m", 31_000, None, "web"),
    ("b2", "B", 37, "f", 70_000, "west", "partner"),
    ("c1", "C", 61, "m", 90_000, "north", "store"),
    ("c2", "C", 45, "f", 55_000, "south", "web"),
])


def run(surveys=None, facts=FACTS, customers=CUSTOMERS) -> pd.DataFrame:
    surveys = make_surveys(SURVEY_ROWS) if surveys is None else surveys
    return V.voice_kpis(facts, surveys, customers, START, END, PREV_START, PREV_END)


@pytest.fixture(scope="module")
def kpis() -> pd.DataFrame:
    return run()


def row(frame: pd.DataFrame, kpi: str, segment: str) -> pd.Series:
    hit = frame[(frame[C.KPI] == kpi) & (frame[C.SEGMENT] == segment)]
    assert len(hit) == 1, (kpi, segment)
    return hit.iloc[0]


# --- shape ---------------------------------------------------------------------------------
def test_the_frame_has_the_tidy_columns_and_one_row_per_kpi_for_each_segment_then_all(kpis):
    assert tuple(kpis.columns) == C.KPI_FRAME_COLUMNS
    # 3 segments + All, 6 KPIs each
    assert len(kpis) == 4 * 6
    assert list(kpis[C.SEGMENT].unique()) == ["A", "B", "C", C.ALL_SEGMENTS]
    assert tuple(kpis[C.KPI].unique()) == V.VOICE_KPIS


def test_the_kpi_ids_are_module_constants():
    assert V.VOICE_KPIS == ("csat", "csi", "nps", "nps_change", "brand_equity_index",
                            "customer_insight_penetration")


# --- csat ----------------------------------------------------------------------------------
def test_csat_is_the_share_of_responses_scoring_4_or_5(kpis):
    # A: 3 responses (a1 5, a2 4, a3 2) -> 2 of 3 satisfied = 66.67 %
    a = row(kpis, V.CSAT, "A")
    assert a[C.VALUE] == pytest.approx(200 / 3)
    assert (a[C.NUMERATOR], a[C.DENOMINATOR]) == (2, 3)
    assert a[C.UNIT] == "%"
    # B: b1 3, b2 4 -> 1 of 2 = 50 %
    assert row(kpis, V.CSAT, "B")[C.VALUE] == pytest.approx(50.0)
    # All: 5, 4, 2, 3, 4 -> 3 of 5 = 60 % (computed over all responses, not from segments)
    assert row(kpis, V.CSAT, C.ALL_SEGMENTS)[C.VALUE] == pytest.approx(60.0)


def test_csat_carries_a_wilson_interval_worked_out_by_hand(kpis):
    # A: p = 2/3, n = 3, z²/n = 1.280486, z²/(2n) = 0.640243
    # centre = (0.666667 + 0.640243) / (1 + 1.280486) = 1.306910 / 2.280486 = 0.573084
    # half = z × √(p(1−p)/n + z²/(4n²)) / 2.280486
    #      = 1.959964 × √(0.074074 + 0.106707) / 2.280486
    #      = 1.959964 × 0.425183 / 2.280486 = 0.365425
    # -> (0.207659, 0.938509) = (20.77 %, 93.85 %)
    a = row(kpis, V.CSAT, "A")
    assert a[C.CI_LOW] == pytest.approx(20.77, abs=ABS)
    assert a[C.CI_HIGH] == pytest.approx(93.85, abs=ABS)


# --- csi -----------------------------------------------------------------------------------
def test_csi_is_the_mean_csat_rescaled_to_0_100(kpis):
    # A: mean(5, 4, 2) = 11/3 = 3.6667 -> (3.6667 − 1) / 4 × 100 = 66.67
    a = row(kpis, V.CSI, "A")
    assert a[C.VALUE] == pytest.approx(200 / 3)
    assert a[C.DENOMINATOR] == 3
    # B: mean(3, 4) = 3.5 -> 2.5 / 4 × 100 = 62.5
    assert row(kpis, V.CSI, "B")[C.VALUE] == pytest.approx(62.5)
    # All: mean(5, 4, 2, 3, 4) = 18/5 = 3.6 -> 2.6 / 4 × 100 = 65
    assert row(kpis, V.CSI, C.ALL_SEGMENTS)[C.VALUE] == pytest.approx(65.0)


def test_csi_interval_is_the_interval_of_the_mean_rescaled(kpis):
    # B: scores 3, 4: mean 3.5, s² = (0.25 + 0.25) / 1 = 0.5, s/√n = √(0.5/2) = 0.5
    # mean ± 1.959964 × 0.5 = (2.520018, 4.479982)
    # rescaled: (1.520018 / 4 × 100, 3.479982 / 4 × 100) = (38.00, 87.00)
    b = row(kpis, V.CSI, "B")
    assert b[C.CI_LOW] == pytest.approx(38.00, abs=ABS)
    assert b[C.CI_HIGH] == pytest.approx(87.00, abs=ABS)


def test_csi_interval_is_clipped_to_the_scale(kpis):
    # A: s² = (1.3333² + 0.3333² + 1.6667²) / 2 = 2.3333, s/√3 = 0.881917,
    # half = 1.728525 -> mean interval (1.938142, 5.395192)
    # rescaled (23.45, 109.88) -> the top is clipped to 100
    a = row(kpis, V.CSI, "A")
    assert a[C.CI_LOW] == pytest.approx(23.45, abs=ABS)
    assert a[C.CI_HIGH] == 100.0


# --- nps -----------------------------------------------------------------------------------
def test_nps_is_percent_promoters_minus_percent_detractors(kpis):
    # A: 10, 9, 3 -> 2 promoters, 1 detractor of 3 -> (2 − 1) / 3 × 100 = 33.33 points
    a = row(kpis, V.NPS, "A")
    assert a[C.VALUE] == pytest.approx(100 / 3)
    assert (a[C.NUMERATOR], a[C.DENOMINATOR]) == (1, 3)
    assert a[C.UNIT] == "points"
    # B: 7 (passive), 6 (detractor) -> (0 − 1) / 2 × 100 = −50
    assert row(kpis, V.NPS, "B")[C.VALUE] == pytest.approx(-50.0)
    # All: 10, 9, 3, 7, 6 -> 2 promoters, 2 detractors of 5 -> 0
    assert row(kpis, V.NPS, C.ALL_SEGMENTS)[C.VALUE] == pytest.approx(0.0)


def test_nps_interval_uses_the_multinomial_variance_worked_out_by_hand(kpis):
    # All: p⁺ = 2/5 = 0.4, p⁻ = 0.4, n = 5
    # var = [0.4 + 0.4 − (0.4 − 0.4)²] / 5 = 0.16, √var = 0.4
    # half = 1.959964 × 0.4 × 100 = 78.40 -> (−78.40, 78.40)
    a = row(kpis, V.NPS, C.ALL_SEGMENTS)
    assert a[C.CI_LOW] == pytest.approx(-78.40, abs=ABS)
    assert a[C.CI_HIGH] == pytest.approx(78.40, abs=ABS)


def test_nps_interval_function_matches_the_formula():
    # 10 answers, 5 promoters, 2 detractors: NPS = (5 − 2) / 10 × 100 = 30
    # var = [0.5 + 0.2 − (0.5 − 0.2)²] / 10 = (0.7 − 0.09) / 10 = 0.061
    # half = 1.959964 × √0.061 × 100 = 1.959964 × 0.246982 × 100 = 48.41
    # -> (30 − 48.41, 30 + 48.41) = (−18.41, 78.41)
    assert V.nps_variance(5, 2, 10) == pytest.approx(0.061)
    low, high = V.nps_interval(5, 2, 10)
    assert low == pytest.approx(-18.41, abs=ABS)
    assert high == pytest.approx(78.41, abs=ABS)
    assert V.nps_interval(0, 0, 0) == (pytest.approx(math.nan, nan_ok=True),) * 2


def test_nps_interval_is_clipped_to_minus_100_and_100(kpis):
    # A: p⁺ = 2/3, p⁻ = 1/3: var = (1 − 1/9) / 3 = 8/27, half = 1.959964 × 0.544331 × 100
    # = 106.69 -> (33.33 − 106.69, 33.33 + 106.69) = (−73.35, 140.02) -> top clipped to 100
    a = row(kpis, V.NPS, "A")
    assert a[C.CI_LOW] == pytest.approx(-73.35, abs=ABS)
    assert a[C.CI_HIGH] == 100.0


# --- nps_change ----------------------------------------------------------------------------
def test_nps_change_is_this_periods_nps_minus_the_previous_one(kpis):
    # previous A: a1 10, a2 0, a3 8 -> 1 promoter, 1 detractor of 3 -> 0
    # (a2's answer dated 2026-06-30 belongs to the previous period, not to this one)
    # A: 33.33 − 0 = 33.33 points
    assert row(kpis, V.NPS_CHANGE, "A")[C.VALUE] == pytest.approx(100 / 3)
    # All: previous = A's (only A answered) = 0; now 0 -> change 0
    assert row(kpis, V.NPS_CHANGE, C.ALL_SEGMENTS)[C.VALUE] == pytest.approx(0.0)
    assert row(kpis, V.NPS_CHANGE, "A")[C.UNIT] == "points"


def test_nps_change_interval_adds_the_two_variances(kpis):
    # All now: var₁ = 0.16 (above); previous: p⁺ = p⁻ = 1/3, n = 3:
    # var₂ = (2/3 − 0) / 3 = 0.222222; √(0.16 + 0.222222) = √0.382222 = 0.618241
    # half = 1.959964 × 0.618241 × 100 = 121.17 -> (−121.17, 121.17)
    a = row(kpis, V.NPS_CHANGE, C.ALL_SEGMENTS)
    assert a[C.CI_LOW] == pytest.approx(-121.17, abs=ABS)
    assert a[C.CI_HIGH] == pytest.approx(121.17, abs=ABS)


def test_nps_change_is_empty_with_a_note_when_the_previous_period_has_no_responses(kpis):
    b = row(kpis, V.NPS_CHANGE, "B")
    assert math.isnan(b[C.VALUE])
    assert b[C.NOTE] == "not defined: no survey responses in the previous period"
    assert math.isnan(b[C.CI_LOW]) and math.isnan(b[C.CI_HIGH])


def test_nps_change_is_empty_when_this_period_has_no_responses_but_the_previous_one_has():
    # only previous-period answers remain
    surveys = make_surveys([r for r in SURVEY_ROWS if r[1] < "2026-07-01"])
    a = row(run(surveys), V.NPS_CHANGE, "A")
    assert math.isnan(a[C.VALUE])
    assert a[C.NOTE] == "not defined: no survey responses in the period"


# --- brand equity --------------------------------------------------------------------------
def test_brand_equity_is_the_mean_of_the_three_rescaled_components(kpis):
    # A: awareness (1 + 1 + 0) / 3 × 100 = 66.67
    #    perceived quality mean (5 + 4 + 1) / 3 = 3.3333 -> 2.3333 / 4 × 100 = 58.33
    #    NPS 33.33 -> (33.33 + 100) / 2 = 66.67
    #    index = (66.67 + 58.33 + 66.67) / 3 = 191.67 / 3 = 63.89
    a = row(kpis, V.BRAND_EQUITY_INDEX, "A")
    assert a[C.VALUE] == pytest.approx(575 / 9)
    assert a[C.NOTE] == "components: awareness, perceived quality, NPS"
    assert a[C.DENOMINATOR] == 3
    assert math.isnan(a[C.CI_LOW])


def test_brand_equity_leaves_out_an_absent_component_and_says_so():
    # no aware column -> A = (58.33 + 66.67) / 2 = 62.5
    frame = run(make_surveys(SURVEY_ROWS, aware=False))
    a = row(frame, V.BRAND_EQUITY_INDEX, "A")
    assert a[C.VALUE] == pytest.approx(62.5)
    assert a[C.NOTE] == "components: perceived quality, NPS"


def test_brand_equity_leaves_out_a_component_without_values_in_the_period():
    # perceived_quality present but empty for every answer, no aware column -> NPS only
    # A: (33.33 + 100) / 2 = 66.67
    surveys = make_surveys(SURVEY_ROWS, aware=False)
    surveys[C.PERCEIVED_QUALITY] = math.nan
    a = row(run(surveys), V.BRAND_EQUITY_INDEX, "A")
    assert a[C.VALUE] == pytest.approx(200 / 3)
    assert a[C.NOTE] == "components: NPS"


def test_brand_equity_components_are_each_on_0_to_100():
    # aware 1, 0 -> 50; quality 5, 3 -> mean 4 -> 75; nps 10, 0 -> 0 -> (0 + 100)/2 = 50
    responses = make_surveys([("a1", "2026-07-01", 10, 5, 1, 5), ("a2", "2026-07-02", 0, 1, 0, 3)])
    assert V.brand_equity_components(responses) == {
        "awareness": pytest.approx(50.0), "perceived quality": pytest.approx(75.0),
        "NPS": pytest.approx(50.0)}


# --- customer insight penetration ----------------------------------------------------------
def test_insight_penetration_counts_active_customers_with_a_recent_response_and_full_profile(kpis):
    # A: active at end a1, a2 (a3 is not); both answered in the window, profiles full -> 2/2
    a = row(kpis, V.CUSTOMER_INSIGHT_PENETRATION, "A")
    assert a[C.VALUE] == pytest.approx(100.0)
    assert (a[C.NUMERATOR], a[C.DENOMINATOR]) == (2, 2)
    # B: b1 answered but has no region; b2 answered, full profile -> 1/2 = 50 %
    assert row(kpis, V.CUSTOMER_INSIGHT_PENETRATION, "B")[C.VALUE] == pytest.approx(50.0)
    # C: c1 answered 2025-09-30, one day before the window: no; c2 answered 2025-10-01,
    # first day of the window: yes -> 1/2 = 50 %
    assert row(kpis, V.CUSTOMER_INSIGHT_PENETRATION, "C")[C.VALUE] == pytest.approx(50.0)
    # All: a1, a2, b2, c2 of 6 active (a1 a2 b1 b2 c1 c2) -> 4/6 = 66.67 %
    assert row(kpis, V.CUSTOMER_INSIGHT_PENETRATION, C.ALL_SEGMENTS)[C.VALUE] == \
        pytest.approx(200 / 3)


def test_insight_penetration_treats_blank_profile_text_as_missing():
    customers = CUSTOMERS.copy()
    customers.loc[customers[C.CUSTOMER_ID] == "b2", C.PROFILE_COLUMNS[1]] = "  "
    # B: b1 no region, b2 blank gender -> 0/2
    b = row(run(customers=customers), V.CUSTOMER_INSIGHT_PENETRATION, "B")
    assert b[C.VALUE] == 0.0


def test_insight_penetration_without_profile_columns_uses_only_the_survey_condition():
    # B: b1, b2 answered -> 2/2 = 100 %; the note says profiles were not checked
    for customers in (make_customers([("b1", "B"), ("b2", "B")], profile=False), None):
        b = row(run(customers=customers), V.CUSTOMER_INSIGHT_PENETRATION, "B")
        assert b[C.VALUE] == pytest.approx(100.0)
        assert b[C.NOTE] == ("no profile columns in the customers table: only the survey "
                             "condition applies")


def test_insight_penetration_is_empty_with_a_note_when_no_customer_is_active_at_the_end():
    facts = make_facts([("a1", "A", True), ("b1", "B", False)])
    b = row(run(facts=facts), V.CUSTOMER_INSIGHT_PENETRATION, "B")
    assert math.isnan(b[C.VALUE])
    assert b[C.NOTE] == "not defined: no customers were active at the period end"


# --- boundaries and other units ------------------------------------------------------------
def test_a_response_on_the_start_counts_and_one_on_the_end_does_not(kpis):
    # A's period answers: a1 2026-07-01 (counts), a2, a3; a1 2026-10-01 does not ->
    # n = 3. Were the end answer counted, csat would be 2 of 4 = 50 %.
    assert row(kpis, V.CSAT, "A")[C.DENOMINATOR] == 3
    # Without the start answer, A's csat would be 1 of 2 (4, 2) = 50 %.
    moved = [("a1", "2026-06-30", *r[2:]) if r[:2] == ("a1", "2026-07-01") else r
             for r in SURVEY_ROWS]
    assert row(run(make_surveys(moved)), V.CSAT, "A")[C.VALUE] == pytest.approx(50.0)


def test_responses_of_customers_not_in_the_facts_are_ignored(kpis):
    # x9 (csat 1, nps 0) would make All csat 3 of 6 = 50 % and NPS (2 − 3)/6 = −16.67
    a = row(kpis, V.CSAT, C.ALL_SEGMENTS)
    assert (a[C.NUMERATOR], a[C.DENOMINATOR]) == (3, 5)
    assert row(kpis, V.NPS, C.ALL_SEGMENTS)[C.DENOMINATOR] == 5


def test_a_segment_without_responses_has_empty_values_and_notes(kpis):
    # C answered only before the period
    expected = {
        V.CSAT: "not defined: no survey responses with a CSAT score in the period",
        V.CSI: "not defined: no survey responses with a CSAT score in the period",
        V.NPS: "not defined: no survey responses in the period",
        V.NPS_CHANGE: "not defined: no survey responses in either period",
        V.BRAND_EQUITY_INDEX: "not defined: no survey responses in the period",
    }
    for kpi, note in expected.items():
        c = row(kpis, kpi, "C")
        assert math.isnan(c[C.VALUE]), kpi
        assert c[C.NOTE] == note, kpi
        assert not c[C.SMALL_SAMPLE], kpi
    assert not kpis[C.VALUE].isin([math.inf, -math.inf]).any()


@pytest.mark.parametrize("surveys", [None, "empty"])
def test_an_empty_surveys_frame_gives_empty_values_with_notes(surveys):
    if surveys == "empty":
        surveys = make_surveys([])
    frame = V.voice_kpis(FACTS, surveys, CUSTOMERS, START, END, PREV_START, PREV_END)
    assert len(frame) == 4 * 6
    assert frame[C.VALUE].isna().all()
    assert (frame[C.NOTE] == "not defined: no survey data").all()


# --- small samples -------------------------------------------------------------------------
def test_small_sample_flags_fewer_than_30_responses(kpis):
    for kpi in (V.CSAT, V.CSI, V.NPS, V.NPS_CHANGE, V.BRAND_EQUITY_INDEX,
                V.CUSTOMER_INSIGHT_PENETRATION):
        assert row(kpis, kpi, "A")[C.SMALL_SAMPLE], kpi  # 3 responses, 2 customers


def big_unit(n_now: int, n_before: int):
    """One segment S of 40 active customers; n_now answers this period, n_before before."""
    ids = [f"s{i}" for i in range(40)]
    facts = make_facts([(i, "S", True) for i in ids])
    rows = [(ids[i], "2026-08-01", 9, 5, 1, 5) for i in range(n_now)]
    rows += [(ids[i], "2026-05-01", 9, 5, 1, 5) for i in range(n_before)]
    return facts, make_surveys(rows)


def test_thirty_responses_are_not_a_small_sample_but_twenty_nine_are():
    facts, surveys = big_unit(30, 30)
    frame = V.voice_kpis(facts, surveys, None, START, END, PREV_START, PREV_END)
    for kpi in (V.CSAT, V.CSI, V.NPS, V.NPS_CHANGE, V.BRAND_EQUITY_INDEX,
                V.CUSTOMER_INSIGHT_PENETRATION):  # 40 active customers
        assert not row(frame, kpi, "S")[C.SMALL_SAMPLE], kpi
    facts, surveys = big_unit(29, 30)
    frame = V.voice_kpis(facts, surveys, None, START, END, PREV_START, PREV_END)
    for kpi in (V.CSAT, V.CSI, V.NPS, V.NPS_CHANGE, V.BRAND_EQUITY_INDEX):
        assert row(frame, kpi, "S")[C.SMALL_SAMPLE], kpi


def test_nps_change_is_a_small_sample_when_the_previous_period_is_small():
    facts, surveys = big_unit(30, 29)
    frame = V.voice_kpis(facts, surveys, None, START, END, PREV_START, PREV_END)
    assert not row(frame, V.NPS, "S")[C.SMALL_SAMPLE]
    assert row(frame, V.NPS_CHANGE, "S")[C.SMALL_SAMPLE]


# --- integration with the real facts and purity ---------------------------------------------
def test_works_on_customer_facts_output_and_does_not_modify_its_inputs():
    orders = pd.DataFrame({
        C.ORDER_ID: pd.Series(["o1", "o2"], dtype=object),
        C.CUSTOMER_ID: pd.Series(["a1", "b1"], dtype=object),
        C.ORDER_DATE: pd.Series(pd.to_datetime(["2026-08-01", "2026-08-02"]),
                                dtype="datetime64[ns]"),
        C.AMOUNT: pd.Series([10.0, 20.0]),
    })
    customers = CUSTOMERS[CUSTOMERS[C.CUSTOMER_ID].isin(["a1", "b1"])].copy()
    customers[C.SIGNUP_DATE] = pd.Series(pd.to_datetime(["2025-01-01", "2025-01-01"]),
                                         dtype="datetime64[ns]", index=customers.index)
    customers[C.BUSINESS_UNIT] = "u"
    facts = customer_facts(orders, customers, START, END)
    surveys = make_surveys(SURVEY_ROWS)
    before = (facts.copy(), surveys.copy(), customers.copy())
    frame = V.voice_kpis(facts, surveys, customers, START, END, PREV_START, PREV_END)
    # A = a1 only: csat 5 -> 1 of 1 = 100 %; B = b1 only: csat 3 -> 0 %
    assert row(frame, V.CSAT, "A")[C.VALUE] == 100.0
    assert row(frame, V.CSAT, "B")[C.VALUE] == 0.0
    # a1 active at end (ordered 2026-08-01), answered, full profile -> 100 %;
    # b1 active, answered, no region -> 0 %
    assert row(frame, V.CUSTOMER_INSIGHT_PENETRATION, "A")[C.VALUE] == 100.0
    assert row(frame, V.CUSTOMER_INSIGHT_PENETRATION, "B")[C.VALUE] == 0.0
    pd.testing.assert_frame_equal(facts, before[0])
    pd.testing.assert_frame_equal(surveys, before[1])
    pd.testing.assert_frame_equal(customers, before[2])


# --- definition cards ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def voice_cards() -> dict:
    text = files("segreport.kpis").joinpath("cards_voice.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def test_every_voice_kpi_has_a_complete_card(voice_cards):
    assert set(voice_cards) == set(V.VOICE_KPIS)
    for kpi, card in voice_cards.items():
        for key in ("name", "unit", "higher_is_better", "definition", "formula", "measurement",
                    "diagnostics", "tips", "risks", "related"):
            assert card.get(key), (kpi, key)


def test_card_units_match_the_units_of_the_rows(voice_cards, kpis):
    for kpi, card in voice_cards.items():
        assert set(kpis.loc[kpis[C.KPI] == kpi, C.UNIT]) == {card["unit"]}, kpi


def test_card_bands_run_top_down_and_end_without_a_lower_bound(voice_cards):
    for kpi, card in voice_cards.items():
        bands = card.get("bands")
        if not bands:
            continue
        mins = [b["min"] for b in bands]
        assert mins[-1] is None and None not in mins[:-1], kpi
        assert mins[:-1] == sorted(mins[:-1], reverse=True), kpi
        assert all(b["label"] and b["meaning"] for b in bands), kpi


def test_related_kpis_exist_in_some_card(voice_cards):
    known = set(voice_cards) | set(load_specs())
    for kpi, card in voice_cards.items():
        assert set(card["related"]) <= known, kpi


def test_the_voice_specs_band_the_rows(voice_cards):
    assert set(voice_cards) <= set(load_specs())
    frame = run()
    # A: NPS 33.33 -> good (≥ 30); B: −50 -> poor; All: 0 -> fair (≥ 0)
    assert row(frame, V.NPS, "A")[C.BAND] == "good"
    assert row(frame, V.NPS, "B")[C.BAND] == "poor"
    assert row(frame, V.NPS, C.ALL_SEGMENTS)[C.BAND] == "fair"
    # csat A 66.67 -> moderate; B 50 -> low; csi A 66.67 -> moderate (50 to < 75)
    assert row(frame, V.CSAT, "A")[C.BAND] == "moderate"
    assert row(frame, V.CSAT, "B")[C.BAND] == "low"
    assert row(frame, V.CSI, "A")[C.BAND] == "moderate"
    # an empty value has no band
    assert row(frame, V.NPS, "C")[C.BAND] == ""
