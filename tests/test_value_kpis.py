"""Unit tests of the value and cost KPIs (segreport.kpis.value) on small hand-made facts.

Every expected value is worked out by hand in the comment next to its assertion. The period
is 2026Q3 and, unless a test says otherwise, the facts are FACTS below:

=====  =======  =====  ===  ===  =======  ======
id     segment  S      E    N    revenue  margin
=====  =======  =====  ===  ===  =======  ======
a1     A        yes    yes  no   100      40
a2     A        yes    yes  no   200      60
a3     A        yes    no   no   50       10
a4     A        yes    no   no   0        0
a5     A        no     yes  yes  150      30
b1     B        yes    yes  no   300      120
b2     B        yes    no   no   100      20
b3     B        no     yes  yes  60       12
b4     B        no     yes  yes  40       8
b5     B        yes    yes  no   0        0
=====  =======  =====  ===  ===  =======  ======

so, per segment (|S|, |E|, kept = |S ∩ E|, new = |N|, margin, margin of the new):

* A:   4, 3, 2, 1, 40+60+10+0+30 = 140, 30
* B:   3, 4, 2, 2, 120+20+12+8+0 = 160, 12+8 = 20
* All: 7, 7, 4, 3, 300, 50
"""
from __future__ import annotations

import math
from importlib.resources import files

import pandas as pd
import pytest
import yaml

from segreport import columns as C
from segreport.data.facts import FACT_COLUMNS
from segreport.kpis import value as V
from segreport.kpis.spec import band_for

PERIOD = "2026Q3"
PREVIOUS = "2026Q2"
IN_PERIOD = pd.Timestamp("2026-08-01")
BEFORE = pd.Timestamp("2025-01-01")

Row = tuple[str, str, bool, bool, bool, float, float]
FACT_ROWS: list[Row] = [
    # (customer_id, segment, active_start, active_end, acquired_in_period, revenue, margin)
    ("a1", "A", True, True, False, 100.0, 40.0),
    ("a2", "A", True, True, False, 200.0, 60.0),
    ("a3", "A", True, False, False, 50.0, 10.0),
    ("a4", "A", True, False, False, 0.0, 0.0),
    ("a5", "A", False, True, True, 150.0, 30.0),
    ("b1", "B", True, True, False, 300.0, 120.0),
    ("b2", "B", True, False, False, 100.0, 20.0),
    ("b3", "B", False, True, True, 60.0, 12.0),
    ("b4", "B", False, True, True, 40.0, 8.0),
    ("b5", "B", True, True, False, 0.0, 0.0),
]


def make_facts(rows: list[Row], unit: str = "North") -> pd.DataFrame:
    """A facts frame with every column of ``customer_facts``, one row per tuple."""
    ids = pd.Index([r[0] for r in rows], name=C.CUSTOMER_ID, dtype=object)
    revenue = pd.Series([r[5] for r in rows], index=ids, dtype="float64")
    orders = (revenue > 0).astype("int64")
    acquired = pd.Series([IN_PERIOD if r[4] else BEFORE for r in rows], index=ids)
    frame = pd.DataFrame({
        C.SEGMENT: pd.Series([r[1] for r in rows], index=ids, dtype=object),
        C.BUSINESS_UNIT: unit,
        C.ACQUIRED_AT: acquired,
        C.ACTIVE_START: pd.Series([r[2] for r in rows], index=ids, dtype=bool),
        C.ACTIVE_END: pd.Series([r[3] for r in rows], index=ids, dtype=bool),
        C.ACQUIRED_IN_PERIOD: pd.Series([r[4] for r in rows], index=ids, dtype=bool),
        C.REVENUE: revenue,
        C.ORDER_COUNT: orders,
        C.MARGIN_SUM: pd.Series([r[6] for r in rows], index=ids, dtype="float64"),
        C.FIRST_ORDER_AT: acquired.where(orders > 0),
        C.LAST_ORDER_AT: pd.Series(IN_PERIOD, index=ids).where(orders > 0),
        C.ORDERS_12M: orders,
        C.REVENUE_12M: revenue,
    }, index=ids)
    return frame[list(FACT_COLUMNS)]


def without_margin(facts: pd.DataFrame) -> pd.DataFrame:
    """The same facts as when the orders have no margin column."""
    out = facts.copy()
    out[C.MARGIN_SUM] = math.nan
    return out


FACTS = make_facts(FACT_ROWS)


def spend(rows: list[tuple], units: bool = True) -> pd.DataFrame:
    """marketing_spend from (period, segment, acquisition, retention[, business_unit])."""
    frame = pd.DataFrame({
        C.PERIOD: [r[0] for r in rows],
        C.SEGMENT: [r[1] for r in rows],
        C.ACQUISITION_SPEND: pd.Series([r[2] for r in rows], dtype="float64"),
        C.RETENTION_SPEND: pd.Series([r[3] for r in rows], dtype="float64"),
    })
    if units:
        frame[C.BUSINESS_UNIT] = [r[4] for r in rows]
    return frame


def market(rows: list[tuple]) -> pd.DataFrame:
    """market_size from (period, segment, market_customers)."""
    return pd.DataFrame({C.PERIOD: [r[0] for r in rows], C.SEGMENT: [r[1] for r in rows],
                         C.MARKET_CUSTOMERS: pd.Series([r[2] for r in rows], dtype="float64")})


def costs(rows: list[tuple]) -> pd.DataFrame:
    """segmentation_costs from (period, cost)."""
    return pd.DataFrame({C.PERIOD: [r[0] for r in rows],
                         C.COST: pd.Series([r[1] for r in rows], dtype="float64")})


# Spend of 2026Q3 split over two units, plus a 2026Q2 row that must be ignored:
# A: acquisition 60 + 30 = 90, retention 70 + 30 = 100; B: acquisition 100, retention 240.
SPEND = spend([
    (PERIOD, "A", 60.0, 70.0, "North"),
    (PERIOD, "A", 30.0, 30.0, "South"),
    (PERIOD, "B", 100.0, 240.0, "North"),
    (PREVIOUS, "A", 999.0, 999.0, "North"),
])
MARKET = market([(PERIOD, "A", 30.0), (PERIOD, "B", 16.0), (PREVIOUS, "A", 999.0)])
COSTS = costs([(PERIOD, 600.0), (PERIOD, 400.0), (PREVIOUS, 5000.0)])
TABLES = {C.MARKETING_SPEND: SPEND, C.MARKET_SIZE: MARKET, C.SEGMENTATION_COSTS: COSTS}


def kpis(facts: pd.DataFrame = FACTS, prev_facts: pd.DataFrame | None = None,
         tables: dict | None = None, **kwargs) -> pd.DataFrame:
    return V.value_kpis(facts, prev_facts, TABLES if tables is None else tables, PERIOD,
                        **kwargs)


def row(frame: pd.DataFrame, kpi: str, segment: str) -> pd.Series:
    hit = frame[(frame[C.KPI] == kpi) & (frame[C.SEGMENT] == segment)]
    assert len(hit) == 1, f"{len(hit)} rows for {kpi} / {segment}"
    return hit.iloc[0]


def value(frame: pd.DataFrame, kpi: str, segment: str) -> float:
    return row(frame, kpi, segment)[C.VALUE]


# --- the frame ---------------------------------------------------------------------------
def test_value_kpis_return_the_tidy_frame_with_every_kpi_and_segment():
    out = kpis(prev_facts=FACTS)
    assert list(out.columns) == list(C.KPI_FRAME_COLUMNS)
    assert set(out[C.KPI]) == set(V.VALUE_KPIS)
    # 6 per-segment KPIs × (A, B, All) + segmentation_efficiency for All only = 19 rows
    assert len(out) == 6 * 3 + 1


def test_kpi_ids_are_module_constants_listed_in_value_kpis():
    assert V.VALUE_KPIS == ("clv", "clv_growth", "cac", "cac_payback_months",
                            "retention_cost", "market_share", "segmentation_efficiency")


# --- CLV -----------------------------------------------------------------------------------
def test_clv_is_margin_per_active_customer_at_end_divided_by_churn_fraction():
    out = kpis()
    # A: margin 140 / |E| 3 = 46.667 per active customer; churn (4 − 2) / 4 = 0.5
    #    → CLV = 46.667 / 0.5 = 93.333
    a = row(out, V.CLV, "A")
    assert a[C.VALUE] == pytest.approx(280 / 3)
    assert a[C.NUMERATOR] == pytest.approx(140 / 3)
    assert a[C.DENOMINATOR] == pytest.approx(0.5)
    assert a[C.UNIT] == "currency"
    # B: 160 / 4 = 40; churn (3 − 2) / 3 = 1/3 → CLV = 40 × 3 = 120
    assert value(out, V.CLV, "B") == pytest.approx(120.0)


def test_clv_of_all_is_computed_over_all_customers_not_summed_from_segments():
    out = kpis()
    # All: margin 300 / |E| 7; churn (7 − 4) / 7 = 3/7 → CLV = (300/7) / (3/7) = 100
    # (sum of segments 93.333 + 120 = 213.333; their mean 106.667)
    assert value(out, V.CLV, C.ALL_SEGMENTS) == pytest.approx(100.0)


def test_clv_uses_the_margin_column_and_says_so():
    note = row(kpis(), V.CLV, "A")[C.NOTE]
    assert "margin column" in note
    assert "estimated" not in note


def test_clv_falls_back_to_revenue_times_gross_margin_pct_without_margin_column():
    out = kpis(facts=without_margin(FACTS), gross_margin_pct=30.0)
    # A: revenue 100+200+50+0+150 = 500 × 30 % = 150; 150 / 3 = 50; / 0.5 → 100
    assert value(out, V.CLV, "A") == pytest.approx(100.0)
    # B: revenue 300+100+60+40+0 = 500 × 30 % = 150; 150 / 4 = 37.5; / (1/3) → 112.5
    assert value(out, V.CLV, "B") == pytest.approx(112.5)
    # All: revenue 1000 × 30 % = 300 → (300/7) / (3/7) = 100
    assert value(out, V.CLV, C.ALL_SEGMENTS) == pytest.approx(100.0)
    assert "revenue × 30%" in row(out, V.CLV, "A")[C.NOTE]


def test_gross_margin_fills_only_customers_whose_margin_is_unknown():
    facts = FACTS.copy()
    facts.loc["a1", C.MARGIN_SUM] = math.nan
    margin, note = V.gross_margin(facts, 50.0)
    # a1: revenue 100 × 50 % = 50; a2 keeps its own 60
    assert margin["a1"] == pytest.approx(50.0)
    assert margin["a2"] == pytest.approx(60.0)
    assert "1 customer" in note


def test_clv_is_empty_with_a_note_when_nobody_churned():
    facts = make_facts([("c1", "C", True, True, False, 100.0, 30.0),
                        ("c2", "C", True, True, False, 50.0, 10.0)])
    c = row(kpis(facts=facts, tables={}), V.CLV, "C")
    # churn (2 − 2) / 2 = 0 → unbounded lifetime
    assert math.isnan(c[C.VALUE])
    assert "no customer churned" in c[C.NOTE]
    assert c[C.NUMERATOR] == pytest.approx(20.0)  # margin 40 / |E| 2


def test_clv_is_empty_with_a_note_when_nobody_was_active_at_start_or_end():
    facts = make_facts([("n1", "New", False, True, True, 10.0, 3.0),
                        ("g1", "Gone", True, False, False, 10.0, 3.0)])
    out = kpis(facts=facts, tables={})
    assert math.isnan(value(out, V.CLV, "New"))
    assert "active at the period start" in row(out, V.CLV, "New")[C.NOTE]
    assert math.isnan(value(out, V.CLV, "Gone"))
    assert "active at the period end" in row(out, V.CLV, "Gone")[C.NOTE]


def test_clv_is_flagged_small_sample_under_thirty_customers_at_start():
    assert bool(row(kpis(), V.CLV, "A")[C.SMALL_SAMPLE])  # |S| = 4 < 30


# --- CLV growth ----------------------------------------------------------------------------
def previous_facts() -> pd.DataFrame:
    """FACTS with A's margins halved and B's margins × 1.25."""
    prev = FACTS.copy()
    prev.loc[prev[C.SEGMENT] == "A", C.MARGIN_SUM] *= 0.5
    prev.loc[prev[C.SEGMENT] == "B", C.MARGIN_SUM] *= 1.25
    return prev


def test_clv_growth_compares_with_the_previous_period_clv_in_percent():
    out = kpis(prev_facts=previous_facts())
    # A: previous CLV (70 / 3) / 0.5 = 46.667; (93.333 − 46.667) / 46.667 × 100 = 100 %
    a = row(out, V.CLV_GROWTH, "A")
    assert a[C.VALUE] == pytest.approx(100.0)
    assert a[C.UNIT] == "%"
    assert a[C.BAND] == "growing"
    # B: previous CLV (200 / 4) / (1/3) = 150; (120 − 150) / 150 × 100 = −20 %
    b = row(out, V.CLV_GROWTH, "B")
    assert b[C.VALUE] == pytest.approx(-20.0)
    assert b[C.BAND] == "shrinking"
    # All: previous margin 70 + 200 = 270 → (270/7) / (3/7) = 90; (100 − 90) / 90 × 100
    #      = 11.111 % (not the sum 80 % nor the mean 40 % of the segments)
    assert value(out, V.CLV_GROWTH, C.ALL_SEGMENTS) == pytest.approx(100 / 9)


def test_clv_growth_is_empty_with_a_note_when_previous_clv_is_empty():
    # previous period: segment A nobody churned → previous CLV of A is empty
    prev = make_facts([("a1", "A", True, True, False, 100.0, 40.0)])
    a = row(kpis(prev_facts=prev), V.CLV_GROWTH, "A")
    assert math.isnan(a[C.VALUE])
    assert "previous" in a[C.NOTE]
    # B is absent from the previous facts altogether
    assert math.isnan(value(kpis(prev_facts=prev), V.CLV_GROWTH, "B"))


def test_clv_growth_is_empty_with_a_note_when_previous_clv_is_zero():
    prev = FACTS.copy()
    prev[C.MARGIN_SUM] = 0.0
    a = row(kpis(prev_facts=prev), V.CLV_GROWTH, "A")
    assert math.isnan(a[C.VALUE])
    assert "previous period's CLV is 0" in a[C.NOTE]


def test_clv_growth_is_empty_with_a_note_without_previous_facts():
    out = kpis(prev_facts=None)
    assert out[out[C.KPI] == V.CLV_GROWTH][C.VALUE].isna().all()
    assert "previous period" in row(out, V.CLV_GROWTH, C.ALL_SEGMENTS)[C.NOTE]


# --- CAC and payback --------------------------------------------------------------------
def test_cac_is_acquisition_spend_summed_over_units_per_new_customer():
    out = kpis()
    # A: (60 + 30) / 1 new = 90; B: 100 / 2 = 50; All: 190 / 3 = 63.333 (the 2026Q2 row
    # of 999 is ignored)
    assert value(out, V.CAC, "A") == pytest.approx(90.0)
    assert value(out, V.CAC, "B") == pytest.approx(50.0)
    all_ = row(out, V.CAC, C.ALL_SEGMENTS)
    assert all_[C.VALUE] == pytest.approx(190 / 3)
    assert (all_[C.NUMERATOR], all_[C.DENOMINATOR]) == (190.0, 3.0)


def test_cac_payback_divides_cac_by_average_monthly_margin_of_new_customers():
    out = kpis()
    # A: monthly margin (30 / 1) / 3 = 10; payback 90 / 10 = 9 months → fast (< 12)
    a = row(out, V.CAC_PAYBACK_MONTHS, "A")
    assert a[C.VALUE] == pytest.approx(9.0)
    assert a[C.DENOMINATOR] == pytest.approx(10.0)
    assert a[C.UNIT] == "months"
    assert a[C.BAND] == "fast"
    # B: (20 / 2) / 3 = 3.333; 50 / 3.333 = 15 months → acceptable (12 to < 18)
    b = row(out, V.CAC_PAYBACK_MONTHS, "B")
    assert b[C.VALUE] == pytest.approx(15.0)
    assert b[C.BAND] == "acceptable"
    # All: (50 / 3) / 3 = 5.556; 63.333 / 5.556 = 3 × 190 / 50 = 11.4 months
    assert value(out, V.CAC_PAYBACK_MONTHS, C.ALL_SEGMENTS) == pytest.approx(11.4)


def test_cac_payback_uses_gross_margin_pct_without_margin_column():
    out = kpis(facts=without_margin(FACTS), gross_margin_pct=30.0)
    # A: new revenue 150 × 30 % = 45; monthly 45 / 1 / 3 = 15; payback 90 / 15 = 6 months
    a = row(out, V.CAC_PAYBACK_MONTHS, "A")
    assert a[C.VALUE] == pytest.approx(6.0)
    assert "revenue × 30%" in a[C.NOTE]


def test_cac_payback_band_of_a_slow_segment_is_slow():
    slow = spend([(PERIOD, "A", 180.0, 0.0, "North"), (PERIOD, "B", 100.0, 0.0, "North")])
    # A: CAC 180 / 1; monthly margin 10 → 18 months → slow (≥ 18)
    a = row(kpis(tables={C.MARKETING_SPEND: slow}), V.CAC_PAYBACK_MONTHS, "A")
    assert a[C.VALUE] == pytest.approx(18.0)
    assert a[C.BAND] == "slow"


def test_cac_and_payback_are_empty_with_a_note_when_no_new_customers():
    facts = make_facts([("c1", "C", True, True, False, 100.0, 30.0),
                        ("c2", "C", True, False, False, 50.0, 10.0)])
    tables = {C.MARKETING_SPEND: spend([(PERIOD, "C", 500.0, 40.0, "North")])}
    out = kpis(facts=facts, tables=tables)
    cac = row(out, V.CAC, "C")
    assert math.isnan(cac[C.VALUE])
    assert "no new customers" in cac[C.NOTE]
    assert cac[C.NUMERATOR] == 500.0
    assert "no new customers" in row(out, V.CAC_PAYBACK_MONTHS, "C")[C.NOTE]
    # retention cost still defined: 40 / 1 kept = 40
    assert value(out, V.RETENTION_COST, "C") == pytest.approx(40.0)


def test_cac_payback_is_empty_when_new_customers_bring_no_margin():
    facts = make_facts([("c1", "C", True, False, False, 100.0, 30.0),
                        ("c2", "C", False, True, True, 0.0, 0.0)])
    tables = {C.MARKETING_SPEND: spend([(PERIOD, "C", 50.0, 0.0, "North")])}
    p = row(kpis(facts=facts, tables=tables), V.CAC_PAYBACK_MONTHS, "C")
    # CAC 50 / 1 = 50, monthly margin 0 / 1 / 3 = 0 → never paid back
    assert math.isnan(p[C.VALUE])
    assert p[C.NUMERATOR] == pytest.approx(50.0)
    assert "not paid back" in p[C.NOTE]


# --- retention cost ----------------------------------------------------------------------
def test_retention_cost_is_retention_spend_per_retained_customer():
    out = kpis()
    # A: (70 + 30) / 2 kept = 50; B: 240 / 2 = 120; All: 340 / 4 = 85 (not 50 + 120)
    assert value(out, V.RETENTION_COST, "A") == pytest.approx(50.0)
    assert value(out, V.RETENTION_COST, "B") == pytest.approx(120.0)
    assert value(out, V.RETENTION_COST, C.ALL_SEGMENTS) == pytest.approx(85.0)
    assert row(out, V.RETENTION_COST, "A")[C.UNIT] == "currency per retained customer"


def test_retention_cost_is_empty_with_a_note_when_nobody_was_retained():
    facts = make_facts([("c1", "C", True, False, False, 100.0, 30.0)])
    tables = {C.MARKETING_SPEND: spend([(PERIOD, "C", 0.0, 40.0, "North")])}
    r = row(kpis(facts=facts, tables=tables), V.RETENTION_COST, "C")
    assert math.isnan(r[C.VALUE])
    assert "no retained customers" in r[C.NOTE]


# --- market share -------------------------------------------------------------------------
def test_market_share_is_active_customers_at_end_over_market_customers_without_ci():
    out = kpis()
    # A: 3 / 30 × 100 = 10 %; B: 4 / 16 × 100 = 25 %; All: 7 / 46 × 100 = 15.217 %
    a = row(out, V.MARKET_SHARE, "A")
    assert a[C.VALUE] == pytest.approx(10.0)
    assert math.isnan(a[C.CI_LOW]) and math.isnan(a[C.CI_HIGH])
    assert value(out, V.MARKET_SHARE, "B") == pytest.approx(25.0)
    assert value(out, V.MARKET_SHARE, C.ALL_SEGMENTS) == pytest.approx(700 / 46)


def test_market_share_above_100_percent_says_the_market_size_is_understated():
    tables = {C.MARKET_SIZE: market([(PERIOD, "A", 2.0), (PERIOD, "B", 16.0)])}
    a = row(kpis(tables=tables), V.MARKET_SHARE, "A")
    # 3 / 2 × 100 = 150 %
    assert a[C.VALUE] == pytest.approx(150.0)
    assert "market size" in a[C.NOTE]


def test_market_share_of_a_segment_without_a_market_row_is_empty_and_all_says_so():
    tables = {C.MARKET_SIZE: market([(PERIOD, "A", 30.0)])}
    out = kpis(tables=tables)
    b = row(out, V.MARKET_SHARE, "B")
    assert math.isnan(b[C.VALUE])
    assert "no row for segment 'B'" in b[C.NOTE]
    # All: 7 / 30 × 100 = 23.333 %, with a note that B's market is missing
    all_ = row(out, V.MARKET_SHARE, C.ALL_SEGMENTS)
    assert all_[C.VALUE] == pytest.approx(70 / 3)
    assert "B" in all_[C.NOTE]


# --- segmentation efficiency ---------------------------------------------------------------
def test_segmentation_efficiency_is_period_cost_per_segment_with_customers_all_only():
    out = kpis()
    eff = out[out[C.KPI] == V.SEGMENTATION_EFFICIENCY]
    # (600 + 400) / 2 segments (A, B) = 500; the 2026Q2 cost of 5000 is ignored
    assert list(eff[C.SEGMENT]) == [C.ALL_SEGMENTS]
    assert eff.iloc[0][C.VALUE] == pytest.approx(500.0)
    assert (eff.iloc[0][C.NUMERATOR], eff.iloc[0][C.DENOMINATOR]) == (1000.0, 2.0)
    assert eff.iloc[0][C.UNIT] == "currency per segment"


# --- absent tables and periods without rows -----------------------------------------------
def test_kpis_of_an_absent_table_are_left_out():
    out = kpis(tables={C.MARKET_SIZE: MARKET})
    assert set(out[C.KPI]) == {V.CLV, V.CLV_GROWTH, V.MARKET_SHARE}


def test_missing_inputs_names_the_table_and_columns_that_enable_each_kpi():
    missing = V.missing_inputs([C.MARKET_SIZE])
    assert missing == {
        V.CAC: "cac needs marketing_spend (period, segment, acquisition_spend)",
        V.CAC_PAYBACK_MONTHS:
            "cac_payback_months needs marketing_spend (period, segment, acquisition_spend)",
        V.RETENTION_COST:
            "retention_cost needs marketing_spend (period, segment, retention_spend)",
        V.SEGMENTATION_EFFICIENCY:
            "segmentation_efficiency needs segmentation_costs (period, cost)",
    }


def test_missing_inputs_is_empty_when_every_table_is_present_and_counts_none_as_absent():
    assert V.missing_inputs(TABLES) == {}
    assert set(V.missing_inputs({**TABLES, C.MARKET_SIZE: None})) == {V.MARKET_SHARE}


def test_a_period_without_rows_gives_empty_values_with_a_note_naming_table_and_period():
    tables = {C.MARKETING_SPEND: spend([(PREVIOUS, "A", 10.0, 10.0, "North")]),
              C.SEGMENTATION_COSTS: costs([(PREVIOUS, 100.0)])}
    out = kpis(tables=tables)
    spend_rows = out[out[C.KPI].isin([V.CAC, V.CAC_PAYBACK_MONTHS, V.RETENTION_COST])]
    assert len(spend_rows) == 3 * 3  # three KPIs × (A, B, All)
    assert spend_rows[C.VALUE].isna().all()
    assert (spend_rows[C.NOTE]
            == "not defined: marketing_spend has no rows for period 2026Q3").all()
    eff = row(out, V.SEGMENTATION_EFFICIENCY, C.ALL_SEGMENTS)
    assert math.isnan(eff[C.VALUE])
    assert "segmentation_costs has no rows for period 2026Q3" in eff[C.NOTE]


def test_a_segment_without_a_spend_row_is_empty_with_a_note():
    tables = {C.MARKETING_SPEND: spend([(PERIOD, "A", 90.0, 100.0, "North")])}
    out = kpis(tables=tables)
    assert math.isnan(value(out, V.CAC, "B"))
    assert "no row for segment 'B'" in row(out, V.CAC, "B")[C.NOTE]
    # All spends what the rows hold: 90 / 3 new = 30, with a note naming B
    all_ = row(out, V.CAC, C.ALL_SEGMENTS)
    assert all_[C.VALUE] == pytest.approx(30.0)
    assert "B" in all_[C.NOTE]


# --- business units ------------------------------------------------------------------------
def test_a_business_unit_keeps_only_its_rows_of_the_tables():
    out = kpis(business_unit="North")
    # North: A acquisition 60 / 1 = 60, retention 70 / 2 = 35; B unchanged (100 / 2 = 50);
    # All: 160 / 3 = 53.333
    assert value(out, V.CAC, "A") == pytest.approx(60.0)
    assert value(out, V.RETENTION_COST, "A") == pytest.approx(35.0)
    assert value(out, V.CAC, "B") == pytest.approx(50.0)
    assert value(out, V.CAC, C.ALL_SEGMENTS) == pytest.approx(160 / 3)
    assert row(out, V.CAC, "A")[C.NOTE] == ""


def test_a_business_unit_uses_all_rows_of_a_table_without_unit_column_and_says_so():
    out = kpis(business_unit="North")
    # market_size has no business_unit column: A 3 / 30 = 10 % as without a unit
    a = row(out, V.MARKET_SHARE, "A")
    assert a[C.VALUE] == pytest.approx(10.0)
    assert "market_size has no business_unit column" in a[C.NOTE]
    assert "'North'" in a[C.NOTE]
    assert "segmentation_costs has no business_unit column" in row(
        out, V.SEGMENTATION_EFFICIENCY, C.ALL_SEGMENTS)[C.NOTE]


def test_a_business_unit_without_rows_for_the_period_names_the_unit():
    out = kpis(business_unit="West")
    cac = row(out, V.CAC, "A")
    assert math.isnan(cac[C.VALUE])
    assert cac[C.NOTE] == ("not defined: marketing_spend has no rows for period 2026Q3 and "
                           "business unit 'West'")


def test_the_period_label_is_normalised():
    out = V.value_kpis(FACTS, None, TABLES, "2026q3")
    assert value(out, V.CAC, "A") == pytest.approx(90.0)


# --- definition cards ----------------------------------------------------------------------
def load_yaml() -> dict:
    text = files("segreport.kpis").joinpath("cards_value.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def test_every_value_kpi_has_a_card_with_the_shared_schema():
    cards = load_yaml()
    assert set(cards) == set(V.VALUE_KPIS)
    for kpi, card in cards.items():
        for key in ("name", "unit", "higher_is_better", "definition", "formula",
                    "measurement", "diagnostics", "tips", "risks", "related"):
            assert card.get(key) not in (None, "", []), f"{kpi}: {key}"


def test_card_units_match_the_units_of_the_rows():
    cards = load_yaml()
    assert {kpi: card["unit"] for kpi, card in cards.items()} == V.UNITS
    out = kpis(prev_facts=previous_facts())
    for kpi, unit in out.groupby(C.KPI)[C.UNIT].first().items():
        assert cards[kpi]["unit"] == unit


def test_card_bands_run_top_down_with_an_open_last_band():
    for kpi, card in load_yaml().items():
        bands = card.get("bands")
        if not bands:
            continue
        mins = [b["min"] for b in bands]
        assert mins[-1] is None, kpi
        assert mins[:-1] == sorted(mins[:-1], reverse=True), kpi
        assert all(b["label"] and b["meaning"] for b in bands), kpi


def test_the_documented_active_customer_choice_is_in_the_clv_card():
    card = load_yaml()[V.CLV]
    assert "|E|" in card["formula"] and "|E|" in card["measurement"]


def test_payback_bands_follow_the_first_band_whose_min_is_reached():
    # 20 ≥ 18 → slow; 12 ≥ 12 → acceptable; 11.9 → fast
    assert band_for(V.CAC_PAYBACK_MONTHS, 20.0) == "slow"
    assert band_for(V.CAC_PAYBACK_MONTHS, 12.0) == "acceptable"
    assert band_for(V.CAC_PAYBACK_MONTHS, 11.9) == "fast"
    assert band_for(V.CAC_PAYBACK_MONTHS, math.nan) == ""
