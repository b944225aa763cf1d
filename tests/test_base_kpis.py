"""Unit tests of the base KPIs (segreport.kpis.base) on small hand-made facts.

Most tests build the per-customer facts frame by hand (one row per customer, the columns
of :func:`segreport.data.facts.customer_facts`) so that |S|, |E|, |N|, revenue and orders
are visible in the test; a few go from orders through ``customer_facts``. Every expected
value is worked out by hand in the comment next to its assertion.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from segreport import columns as C
from segreport.data.facts import customer_facts, period_facts
from segreport.data.read import read_dataset
from segreport.errors import SegreportError
from segreport.kpis import ids
from segreport.kpis.base import base_kpis, segment_totals
from segreport.kpis.spec import band_for
from segreport.period import Period

START = pd.Timestamp("2026-07-01")
END = pd.Timestamp("2026-10-01")
RATES = (ids.SEGMENT_GROWTH_RATE, ids.ACQUISITION_RATE, ids.RETENTION_RATE, ids.CHURN_RATE)


# --- helpers -------------------------------------------------------------------------
def facts(rows: list[tuple]) -> pd.DataFrame:
    """``rows`` = (customer_id, segment, in S, in E, new, revenue, orders).

    Only the fact columns the base KPIs read; ``customer_facts`` has more."""
    frame = pd.DataFrame({
        C.SEGMENT: pd.Series([r[1] for r in rows], dtype=object),
        C.BUSINESS_UNIT: pd.Series(["u"] * len(rows), dtype=object),
        C.ACQUIRED_AT: pd.Series(
            [START if r[4] else START - pd.Timedelta(days=400) for r in rows],
            dtype="datetime64[ns]"),
        C.ACTIVE_START: pd.Series([bool(r[2]) for r in rows], dtype=bool),
        C.ACTIVE_END: pd.Series([bool(r[3]) for r in rows], dtype=bool),
        C.ACQUIRED_IN_PERIOD: pd.Series([bool(r[4]) for r in rows], dtype=bool),
        C.REVENUE: pd.Series([r[5] for r in rows], dtype="float64"),
        C.ORDER_COUNT: pd.Series([r[6] for r in rows], dtype="int64"),
    })
    frame.index = pd.Index([r[0] for r in rows], name=C.CUSTOMER_ID, dtype=object)
    return frame


def sized(segment: str, s: int, e: int) -> list[tuple]:
    """Customers of one segment with |S| = s and |E| = e: min(s, e) kept, the rest of S
    churned, the rest of E new."""
    kept = min(s, e)
    return ([(f"{segment}k{i}", segment, 1, 1, 0, 0.0, 0) for i in range(kept)]
            + [(f"{segment}c{i}", segment, 1, 0, 0, 0.0, 0) for i in range(s - kept)]
            + [(f"{segment}n{i}", segment, 0, 1, 1, 0.0, 0) for i in range(e - kept)])


def row(frame: pd.DataFrame, kpi: str, segment: str) -> pd.Series:
    hit = frame[(frame[C.KPI] == kpi) & (frame[C.SEGMENT] == segment)]
    assert len(hit) == 1, (kpi, segment, len(hit))
    return hit.iloc[0]


def value(frame: pd.DataFrame, kpi: str, segment: str) -> float:
    return row(frame, kpi, segment)[C.VALUE]


def make_orders(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame({
        C.ORDER_ID: pd.Series([f"o{i + 1}" for i in range(len(rows))], dtype=object),
        C.CUSTOMER_ID: pd.Series([r[0] for r in rows], dtype=object),
        C.ORDER_DATE: pd.Series(pd.to_datetime([r[1] for r in rows]), dtype="datetime64[ns]"),
        C.AMOUNT: pd.Series([r[2] for r in rows], dtype="float64"),
    })


def make_customers(rows: list[tuple], churn: bool = False) -> pd.DataFrame:
    """``rows`` = (customer_id, signup_date or None, segment[, churn_date])."""
    frame = pd.DataFrame({
        C.CUSTOMER_ID: pd.Series([r[0] for r in rows], dtype=object),
        C.SIGNUP_DATE: pd.Series(pd.to_datetime([r[1] for r in rows]), dtype="datetime64[ns]"),
        C.SEGMENT: pd.Series([r[2] for r in rows], dtype=object),
        C.BUSINESS_UNIT: pd.Series(["u"] * len(rows), dtype=object),
    })
    if churn:
        frame[C.CHURN_DATE] = pd.Series(pd.to_datetime([r[3] for r in rows]),
                                        dtype="datetime64[ns]")
    return frame


# --- a worked two-segment example ----------------------------------------------------
# segment a: a1 S E, a2 S (churned), a3 S E, a4 new E
#   |S| = 3, |E| = 3, |S∩E| = 2, |N| = 1; revenue 100 + 0 + 50 + 30 = 180, orders 2+0+1+1 = 4
# segment b: b1 S E, b2 new E, b3 new E (refund only)
#   |S| = 1, |E| = 3, |S∩E| = 1, |N| = 2; revenue 20 + 60 − 10 = 70, orders 1+2+0 = 3
# All: |S| = 4, |E| = 6, |S∩E| = 3, |N| = 3; revenue 250, orders 7
TWO_SEGMENTS = [
    ("a1", "a", 1, 1, 0, 100.0, 2),
    ("a2", "a", 1, 0, 0, 0.0, 0),
    ("a3", "a", 1, 1, 0, 50.0, 1),
    ("a4", "a", 0, 1, 1, 30.0, 1),
    ("b1", "b", 1, 1, 0, 20.0, 1),
    ("b2", "b", 0, 1, 1, 60.0, 2),
    ("b3", "b", 0, 1, 1, -10.0, 0),
]


@pytest.fixture
def two_segments() -> pd.DataFrame:
    return base_kpis(facts(TWO_SEGMENTS))


def test_the_frame_has_one_row_per_kpi_and_segment_with_all_last(two_segments):
    assert list(two_segments.columns) == list(C.KPI_FRAME_COLUMNS)
    assert set(C.KPI_FRAME_COLUMNS) >= {C.KPI, C.SEGMENT, C.VALUE, C.NUMERATOR, C.DENOMINATOR,
                                        C.UNIT, C.BAND, C.NOTE}
    # 11 base KPIs × (a, b, All)
    assert len(two_segments) == 11 * 3
    assert list(two_segments[C.SEGMENT].unique()) == ["a", "b", C.ALL_SEGMENTS]
    assert list(two_segments.loc[two_segments[C.SEGMENT] == "a", C.KPI]) == list(ids.BASE_KPIS)


def test_segment_totals_count_start_end_kept_new_revenue_and_orders():
    totals = segment_totals(facts(TWO_SEGMENTS))
    assert list(totals.index) == ["a", "b", C.ALL_SEGMENTS]
    assert list(totals.columns) == ["start", "end", "kept", "new", "revenue", "orders"]
    # see the comment above TWO_SEGMENTS
    assert totals.loc["a"].tolist() == [3, 3, 2, 1, 180.0, 4]
    assert totals.loc["b"].tolist() == [1, 3, 1, 2, 70.0, 3]
    assert totals.loc[C.ALL_SEGMENTS].tolist() == [4, 6, 3, 3, 250.0, 7]


def test_customer_counts_per_segment(two_segments):
    # customers_start = |S|, customers_end = |E|, new_customers = |N|
    assert value(two_segments, ids.CUSTOMERS_START, "a") == 3
    assert value(two_segments, ids.CUSTOMERS_END, "a") == 3
    assert value(two_segments, ids.NEW_CUSTOMERS, "a") == 1
    assert value(two_segments, ids.CUSTOMERS_START, "b") == 1
    assert value(two_segments, ids.CUSTOMERS_END, "b") == 3
    assert value(two_segments, ids.NEW_CUSTOMERS, "b") == 2
    assert value(two_segments, ids.CUSTOMERS_START, C.ALL_SEGMENTS) == 4
    assert value(two_segments, ids.CUSTOMERS_END, C.ALL_SEGMENTS) == 6
    assert value(two_segments, ids.NEW_CUSTOMERS, C.ALL_SEGMENTS) == 3


def test_rates_of_a_segment_follow_the_definitions(two_segments):
    # growth (3 − 3) / 3 × 100 = 0
    assert value(two_segments, ids.SEGMENT_GROWTH_RATE, "a") == 0.0
    # acquisition 1 / 3 × 100 = 33.33
    assert value(two_segments, ids.ACQUISITION_RATE, "a") == pytest.approx(100 / 3)
    # retention |S∩E| / |S| = 2 / 3 × 100 = 66.67
    assert value(two_segments, ids.RETENTION_RATE, "a") == pytest.approx(200 / 3)
    # churn |S∖E| / |S| = 1 / 3 × 100 = 33.33
    assert value(two_segments, ids.CHURN_RATE, "a") == pytest.approx(100 / 3)
    # b: growth (3 − 1) / 1 = 200, acquisition 2 / 1 = 200, retention 1 / 1 = 100, churn 0
    assert value(two_segments, ids.SEGMENT_GROWTH_RATE, "b") == pytest.approx(200.0)
    assert value(two_segments, ids.ACQUISITION_RATE, "b") == pytest.approx(200.0)
    assert value(two_segments, ids.RETENTION_RATE, "b") == pytest.approx(100.0)
    assert value(two_segments, ids.CHURN_RATE, "b") == 0.0


def test_rates_keep_their_numerator_and_denominator(two_segments):
    # growth of a: numerator |E| − |S| = 0, denominator |S| = 3
    growth = row(two_segments, ids.SEGMENT_GROWTH_RATE, "a")
    assert (growth[C.NUMERATOR], growth[C.DENOMINATOR]) == (0.0, 3.0)
    # churn of a: numerator |S∖E| = 1 (a2), denominator 3
    churn = row(two_segments, ids.CHURN_RATE, "a")
    assert (churn[C.NUMERATOR], churn[C.DENOMINATOR]) == (1.0, 3.0)
    # AOV of b: 70 / 3
    aov = row(two_segments, ids.AVERAGE_ORDER_VALUE, "b")
    assert (aov[C.NUMERATOR], aov[C.DENOMINATOR]) == (70.0, 3.0)
    assert aov[C.UNIT] == "currency per order"
    assert growth[C.UNIT] == "%"


def test_revenue_orders_and_average_order_value(two_segments):
    # a: revenue 180, 4 orders, AOV 45
    assert value(two_segments, ids.REVENUE, "a") == 180.0
    assert value(two_segments, ids.ORDERS, "a") == 4
    assert value(two_segments, ids.AVERAGE_ORDER_VALUE, "a") == pytest.approx(45.0)
    # b: revenue 20 + 60 − 10 = 70 (the refund is subtracted), 3 orders, AOV 23.33
    assert value(two_segments, ids.REVENUE, "b") == 70.0
    assert value(two_segments, ids.ORDERS, "b") == 3
    assert value(two_segments, ids.AVERAGE_ORDER_VALUE, "b") == pytest.approx(70 / 3)
    # All: 250 over 7 orders = 35.71
    assert value(two_segments, ids.AVERAGE_ORDER_VALUE, C.ALL_SEGMENTS) == pytest.approx(250 / 7)


def test_sales_contribution_is_the_share_of_unit_revenue(two_segments):
    # a 180 / 250 = 72 %, b 70 / 250 = 28 %, All 250 / 250 = 100 %
    assert value(two_segments, ids.SALES_CONTRIBUTION, "a") == pytest.approx(72.0)
    assert value(two_segments, ids.SALES_CONTRIBUTION, "b") == pytest.approx(28.0)
    assert value(two_segments, ids.SALES_CONTRIBUTION, C.ALL_SEGMENTS) == pytest.approx(100.0)


def test_all_is_computed_over_all_customers_not_as_a_mean_of_segment_rates(two_segments):
    # All growth (6 − 4) / 4 = 50 %, while the mean of segment growths is (0 + 200) / 2 = 100
    assert value(two_segments, ids.SEGMENT_GROWTH_RATE, C.ALL_SEGMENTS) == pytest.approx(50.0)
    # All retention 3 / 4 = 75 %, mean of segment retentions (66.67 + 100) / 2 = 83.33
    assert value(two_segments, ids.RETENTION_RATE, C.ALL_SEGMENTS) == pytest.approx(75.0)
    # All churn 1 / 4 = 25 %, acquisition 3 / 4 = 75 %
    assert value(two_segments, ids.CHURN_RATE, C.ALL_SEGMENTS) == pytest.approx(25.0)
    assert value(two_segments, ids.ACQUISITION_RATE, C.ALL_SEGMENTS) == pytest.approx(75.0)
    # All AOV 250 / 7 = 35.71, not the mean of (45 + 23.33) / 2 = 34.17
    assert value(two_segments, ids.AVERAGE_ORDER_VALUE, C.ALL_SEGMENTS) == pytest.approx(250 / 7)


def test_defined_values_have_no_note_and_only_growth_has_a_band(two_segments):
    assert (two_segments[C.NOTE] == "").all()
    assert not two_segments[C.VALUE].isna().any()
    # growth a 0 -> weak, b 200 -> strong, All 50 -> strong
    assert row(two_segments, ids.SEGMENT_GROWTH_RATE, "a")[C.BAND] == "weak"
    assert row(two_segments, ids.SEGMENT_GROWTH_RATE, "b")[C.BAND] == "strong"
    assert row(two_segments, ids.SEGMENT_GROWTH_RATE, C.ALL_SEGMENTS)[C.BAND] == "strong"
    others = two_segments[two_segments[C.KPI] != ids.SEGMENT_GROWTH_RATE]
    assert (others[C.BAND] == "").all()


# --- growth bands --------------------------------------------------------------------
@pytest.mark.parametrize(("value_", "band"), [
    (10.0, "strong"),       # ≥ 10
    (9.999999, "moderate"),  # just below 10
    (5.0, "moderate"),      # 5 to < 10
    (4.999999, "weak"),     # just below 5
    (0.0, "weak"),
    (-40.0, "weak"),        # shrinking
    (250.0, "strong"),
])
def test_band_for_growth_at_and_around_the_thresholds(value_, band):
    assert band_for(ids.SEGMENT_GROWTH_RATE, value_) == band


def test_band_for_an_empty_value_or_an_unbanded_kpi_is_empty():
    assert band_for(ids.SEGMENT_GROWTH_RATE, math.nan) == ""
    assert band_for(ids.SEGMENT_GROWTH_RATE, None) == ""
    assert band_for(ids.RETENTION_RATE, 95.0) == ""


@pytest.mark.parametrize(("s", "e", "growth", "band"), [
    (10, 11, 10.0, "strong"),     # (11 − 10) / 10 = 10 % exactly
    (30, 33, 10.0, "strong"),     # (33 − 30) / 30 = 10 % exactly
    (100, 109, 9.0, "moderate"),  # just below 10 with whole customers
    (20, 21, 5.0, "moderate"),    # (21 − 20) / 20 = 5 % exactly
    (60, 63, 5.0, "moderate"),    # (63 − 60) / 60 = 5 % exactly
    (100, 104, 4.0, "weak"),      # just below 5 with whole customers
    (1000, 1049, 4.9, "weak"),    # 4.9 %
    (8, 6, -25.0, "weak"),        # shrinking
])
def test_the_growth_row_band_at_the_exact_thresholds(s, e, growth, band):
    kpis = base_kpis(facts(sized("a", s, e)))
    g = row(kpis, ids.SEGMENT_GROWTH_RATE, "a")
    assert g[C.VALUE] == pytest.approx(growth)
    assert g[C.BAND] == band
    # one segment only: All has the same value and band
    assert row(kpis, ids.SEGMENT_GROWTH_RATE, C.ALL_SEGMENTS)[C.BAND] == band


# --- zero denominators ---------------------------------------------------------------
def test_a_segment_with_no_one_active_at_start_has_empty_rates_with_a_note():
    # segment "fresh": f1, f2 new and active at end; |S| = 0, |E| = 2, |N| = 2
    kpis = base_kpis(facts([("a1", "a", 1, 1, 0, 10.0, 1),
                            ("f1", "fresh", 0, 1, 1, 30.0, 1),
                            ("f2", "fresh", 0, 1, 1, 20.0, 1)]))
    for kpi in RATES:
        r = row(kpis, kpi, "fresh")
        assert math.isnan(r[C.VALUE]), kpi
        assert r[C.DENOMINATOR] == 0.0, kpi
        assert "no customers were active at the period start" in r[C.NOTE], kpi
        assert r[C.BAND] == "", kpi
    # the counts are still there: 0 at start, 2 at end, 2 new
    assert value(kpis, ids.CUSTOMERS_START, "fresh") == 0
    assert value(kpis, ids.CUSTOMERS_END, "fresh") == 2
    assert value(kpis, ids.NEW_CUSTOMERS, "fresh") == 2
    # growth numerator |E| − |S| = 2 is kept for the reader
    assert row(kpis, ids.SEGMENT_GROWTH_RATE, "fresh")[C.NUMERATOR] == 2.0
    # AOV 50 / 2 = 25 and contribution 50 / 60 are defined
    assert value(kpis, ids.AVERAGE_ORDER_VALUE, "fresh") == pytest.approx(25.0)
    assert value(kpis, ids.SALES_CONTRIBUTION, "fresh") == pytest.approx(50 / 60 * 100)
    # All: |S| = 1 (a1) -> growth (3 − 1) / 1 = 200 %, defined
    assert value(kpis, ids.SEGMENT_GROWTH_RATE, C.ALL_SEGMENTS) == pytest.approx(200.0)


def test_a_segment_without_orders_has_an_empty_average_order_value_with_a_note():
    # r1 has only a refund of 15 in P: revenue −15, 0 orders
    kpis = base_kpis(facts([("a1", "a", 1, 1, 0, 100.0, 2),
                            ("r1", "r", 1, 0, 0, -15.0, 0)]))
    aov = row(kpis, ids.AVERAGE_ORDER_VALUE, "r")
    assert math.isnan(aov[C.VALUE])
    assert "no orders" in aov[C.NOTE]
    # revenue −15 is still reported, and its contribution −15 / 85 × 100 = −17.65 %
    assert value(kpis, ids.REVENUE, "r") == -15.0
    assert value(kpis, ids.SALES_CONTRIBUTION, "r") == pytest.approx(-15 / 85 * 100)
    # a: 100 / 85 × 100 = 117.65 %; contributions still add up to 100
    assert value(kpis, ids.SALES_CONTRIBUTION, "a") == pytest.approx(100 / 85 * 100)


def test_zero_unit_revenue_gives_empty_contributions_with_a_note():
    # a +50, b −50 (a refund): unit revenue 0
    kpis = base_kpis(facts([("a1", "a", 1, 1, 0, 50.0, 1),
                            ("b1", "b", 1, 1, 0, -50.0, 0)]))
    assert value(kpis, ids.REVENUE, C.ALL_SEGMENTS) == 0.0
    for segment in ("a", "b", C.ALL_SEGMENTS):
        r = row(kpis, ids.SALES_CONTRIBUTION, segment)
        assert math.isnan(r[C.VALUE]), segment
        assert "net revenue in the period is 0" in r[C.NOTE], segment
    # All AOV: 0 / 1 = 0, defined (the denominator is the order count, 1)
    assert value(kpis, ids.AVERAGE_ORDER_VALUE, C.ALL_SEGMENTS) == 0.0


def test_cent_amounts_that_net_to_zero_give_empty_contributions_not_huge_ones():
    orders = make_orders([("A", "2026-07-05", 10.10), ("A", "2026-07-06", 20.20),
                          ("B", "2026-08-01", -30.30)])
    customers = make_customers([("A", "2025-01-01", "a"), ("B", "2025-01-01", "b")])
    kpis = base_kpis(customer_facts(orders, customers, START, END))
    # unit revenue 10.10 + 20.20 − 30.30 = 0.00 to the cent
    assert value(kpis, ids.REVENUE, C.ALL_SEGMENTS) == pytest.approx(0.0, abs=0.005)
    # so, as with an exact 0, no contribution is defined
    for segment in ("a", "b", C.ALL_SEGMENTS):
        r = row(kpis, ids.SALES_CONTRIBUTION, segment)
        assert math.isnan(r[C.VALUE]) and r[C.NOTE], (segment, r[C.VALUE])


def test_an_empty_segment_has_zero_counts_and_empty_rates():
    # segment "idle": one customer, acquired long ago, not active, no revenue, no order
    kpis = base_kpis(facts([("a1", "a", 1, 1, 0, 40.0, 2),
                            ("i1", "idle", 0, 0, 0, 0.0, 0)]))
    for kpi in (ids.CUSTOMERS_START, ids.CUSTOMERS_END, ids.NEW_CUSTOMERS, ids.REVENUE,
                ids.ORDERS):
        assert value(kpis, kpi, "idle") == 0, kpi
    for kpi in (*RATES, ids.AVERAGE_ORDER_VALUE):
        r = row(kpis, kpi, "idle")
        assert math.isnan(r[C.VALUE]) and r[C.NOTE], kpi
    # contribution 0 / 40 = 0 %, defined
    assert value(kpis, ids.SALES_CONTRIBUTION, "idle") == 0.0


def test_no_customers_at_all_gives_only_an_all_row_with_empty_rates():
    kpis = base_kpis(facts([]))
    assert set(kpis[C.SEGMENT]) == {C.ALL_SEGMENTS}
    assert len(kpis) == 11
    for kpi in (*RATES, ids.AVERAGE_ORDER_VALUE, ids.SALES_CONTRIBUTION):
        r = row(kpis, kpi, C.ALL_SEGMENTS)
        assert math.isnan(r[C.VALUE]) and r[C.NOTE], kpi


# --- from orders, through customer_facts ----------------------------------------------
def test_kpis_from_orders_in_transaction_mode():
    orders = make_orders([
        ("A", "2026-03-01", 100.0),  # A: in the start window [2025-07-01, 2026-07-01)
        ("A", "2026-08-01", 60.0),   # A: in P and in the end window
        ("B", "2025-07-01", 40.0),   # B: exactly start − 365 d -> active at start
        ("B", "2026-08-15", -40.0),  # B: refund in P: not an order, not an activity
        ("C", "2026-07-01", 25.0),   # C: signed up on start, order on start
        ("D", "2026-09-30", 15.0),   # D: last day of P, other segment
        ("D", "2026-10-01", 99.0),   # D: end date -> outside P
    ])
    customers = make_customers([("A", "2025-01-01", "x"), ("B", "2025-01-01", "x"),
                                ("C", "2026-07-01", "x"), ("D", None, "y")])
    kpis = base_kpis(customer_facts(orders, customers, START, END, active_window_days=365))
    # x: S = {A, B}; E = {A, C} (B's last order 2025-07-01 < 2025-10-01); N = {C}
    assert value(kpis, ids.CUSTOMERS_START, "x") == 2
    assert value(kpis, ids.CUSTOMERS_END, "x") == 2
    assert value(kpis, ids.NEW_CUSTOMERS, "x") == 1
    # growth (2 − 2) / 2 = 0; acquisition 1 / 2 = 50; retention |{A}| / 2 = 50; churn 50
    assert value(kpis, ids.SEGMENT_GROWTH_RATE, "x") == 0.0
    assert value(kpis, ids.ACQUISITION_RATE, "x") == 50.0
    assert value(kpis, ids.RETENTION_RATE, "x") == 50.0
    assert value(kpis, ids.CHURN_RATE, "x") == 50.0
    # x revenue 60 − 40 + 25 = 45 from 2 orders (A 08-01, C 07-01): AOV 22.5
    assert value(kpis, ids.REVENUE, "x") == 45.0
    assert value(kpis, ids.ORDERS, "x") == 2
    assert value(kpis, ids.AVERAGE_ORDER_VALUE, "x") == 22.5
    # y: D acquired at first order 2026-09-30 -> S = {}, E = {D}, N = {D}; revenue 15
    assert value(kpis, ids.CUSTOMERS_START, "y") == 0
    assert value(kpis, ids.CUSTOMERS_END, "y") == 1
    assert math.isnan(value(kpis, ids.SEGMENT_GROWTH_RATE, "y"))
    assert value(kpis, ids.REVENUE, "y") == 15.0
    # unit revenue 45 + 15 = 60: x 75 %, y 25 %
    assert value(kpis, ids.SALES_CONTRIBUTION, "x") == pytest.approx(75.0)
    assert value(kpis, ids.SALES_CONTRIBUTION, "y") == pytest.approx(25.0)
    # All: S = {A, B}, E = {A, C, D}, N = {C, D}: growth (3 − 2) / 2 = 50 %
    assert value(kpis, ids.SEGMENT_GROWTH_RATE, C.ALL_SEGMENTS) == 50.0
    assert value(kpis, ids.ACQUISITION_RATE, C.ALL_SEGMENTS) == 100.0


def test_kpis_from_orders_in_subscription_mode():
    orders = make_orders([("A", "2026-08-01", 30.0), ("C", "2026-09-01", 20.0)])
    customers = make_customers([
        ("A", "2025-01-01", "x", None),          # S and E (never churned)
        ("B", "2025-01-01", "x", "2026-07-01"),  # churn on start: in S, not in E
        ("C", "2026-07-01", "x", None),          # signup on start: new, E only
        ("D", "2025-01-01", "x", "2026-06-30"),  # churned the day before start: in neither
        ("E", "2025-01-01", "x", "2026-10-01"),  # churn on end: in S and in E
    ], churn=True)
    kpis = base_kpis(customer_facts(orders, customers, START, END))
    # S = {A, B, E}, E = {A, C, E}, S∩E = {A, E}, N = {C}
    assert value(kpis, ids.CUSTOMERS_START, "x") == 3
    assert value(kpis, ids.CUSTOMERS_END, "x") == 3
    assert value(kpis, ids.NEW_CUSTOMERS, "x") == 1
    # retention 2 / 3, churn 1 / 3 (B), acquisition 1 / 3, growth 0
    assert value(kpis, ids.RETENTION_RATE, "x") == pytest.approx(200 / 3)
    assert value(kpis, ids.CHURN_RATE, "x") == pytest.approx(100 / 3)
    assert value(kpis, ids.ACQUISITION_RATE, "x") == pytest.approx(100 / 3)
    assert value(kpis, ids.SEGMENT_GROWTH_RATE, "x") == 0.0
    # revenue 30 + 20 = 50 from 2 orders
    assert value(kpis, ids.REVENUE, "x") == 50.0
    assert value(kpis, ids.AVERAGE_ORDER_VALUE, "x") == 25.0


def test_without_a_customers_table_the_only_segment_is_unsegmented_and_equals_all():
    orders = make_orders([("A", "2026-01-01", 10.0), ("A", "2026-08-01", 10.0),
                          ("B", "2026-08-01", 30.0), ("C", "2026-02-01", 5.0)])
    kpis = base_kpis(customer_facts(orders, None, START, END))
    assert list(kpis[C.SEGMENT].unique()) == [C.UNSEGMENTED, C.ALL_SEGMENTS]
    # S = {A, C} (orders in the start window), E = {A, B, C}, N = {B}: growth 50 %
    assert value(kpis, ids.CUSTOMERS_START, C.UNSEGMENTED) == 2
    assert value(kpis, ids.CUSTOMERS_END, C.UNSEGMENTED) == 3
    assert value(kpis, ids.SEGMENT_GROWTH_RATE, C.UNSEGMENTED) == 50.0
    assert value(kpis, ids.SALES_CONTRIBUTION, C.UNSEGMENTED) == 100.0
    seg = kpis[kpis[C.SEGMENT] == C.UNSEGMENTED].reset_index(drop=True)
    unit = kpis[kpis[C.SEGMENT] == C.ALL_SEGMENTS].reset_index(drop=True)
    pd.testing.assert_frame_equal(seg.drop(columns=C.SEGMENT), unit.drop(columns=C.SEGMENT))


# --- a segment that happens to be called "All" ---------------------------------------
def test_a_segment_named_all_is_not_silently_replaced_by_the_unit_total(tmp_path):
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,order_date,amount\n"
        "o1,A,2026-03-01,10\n"
        "o2,B,2026-08-01,20\n", encoding="utf-8")
    (tmp_path / "customers.csv").write_text(
        "customer_id,signup_date,segment,business_unit\n"
        "A,2025-01-01,All,u\n"      # segment "All": S = {A}, E = {A}, revenue 0
        "B,2026-08-01,Other,u\n",   # segment "Other": N = {B}, E = {B}, revenue 20
        encoding="utf-8")
    try:
        kpis = base_kpis(period_facts(read_dataset(tmp_path), Period(2026, 3)))
    except SegreportError:
        return  # rejecting the reserved name with a clear message is an acceptable fix
    # otherwise segment "All" (1 active at end) and the unit (2 active at end) must both
    # be reported: two rows of customers_end besides Other's
    ends = kpis.loc[kpis[C.KPI] == ids.CUSTOMERS_END, C.VALUE].tolist()
    assert sorted(ends) == [1.0, 1.0, 2.0]
