"""Property tests of the per-customer facts and the base KPIs on small random data.

Hypothesis draws a handful of customers (segments a/b/c, optional signup and churn dates)
and orders (whole-currency amounts, refunds and zero rows included, dated 2025-01-01 to
2026-12-31) in one of three modes: transaction (customers table without churn_date),
subscription (with churn_date) and no customers table. The period is 2026Q3 and the
activity window one of 30, 91 or 365 days. Amounts are whole numbers so that sums are
exact and "unit revenue ≠ 0" is not an artefact of rounding.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segreport import columns as C
from segreport.data.facts import customer_facts
from segreport.kpis import ids
from segreport.kpis.base import base_kpis

START = pd.Timestamp("2026-07-01")
END = pd.Timestamp("2026-10-01")
DAY0 = pd.Timestamp("2025-01-01")
LAST_DAY = 729  # DAY0 + 729 d = 2026-12-31
SEGMENTS = ("a", "b", "c")

SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@dataclass
class Case:
    mode: str  # "transaction", "subscription" or "none"
    window: int
    orders: pd.DataFrame
    customers: pd.DataFrame | None

    def facts(self) -> pd.DataFrame:
        return customer_facts(self.orders, self.customers, START, END,
                              active_window_days=self.window)


def day(offset: int | None):
    return pd.NaT if offset is None else DAY0 + pd.Timedelta(days=offset)


def offset_of(t: pd.Timestamp) -> int:
    return (t - DAY0).days


def days(window: int) -> st.SearchStrategy[int]:
    """Any day, with the boundaries (start, end, start/end − window, each ± 1 day) often."""
    edges = sorted({offset_of(t) + k for t in (START, END, START - pd.Timedelta(days=window),
                                               END - pd.Timedelta(days=window))
                    for k in (-1, 0, 1)})
    return st.integers(0, LAST_DAY) | st.sampled_from([e for e in edges if 0 <= e <= LAST_DAY])


@st.composite
def cases(draw) -> Case:
    mode = draw(st.sampled_from(["transaction", "subscription", "none"]))
    window = draw(st.sampled_from([30, 91, 365]))
    n = draw(st.integers(1, 8))
    cids = [f"c{i}" for i in range(n)]
    customers = None
    if mode != "none":
        rows = []
        for cid in cids:
            signup = draw(st.none() | days(window))
            churn = None
            if mode == "subscription" and draw(st.booleans()):
                # the reader rejects a churn date before the signup date
                churn = draw(days(window).filter(lambda d, lo=signup or 0: d >= lo))
            rows.append((cid, signup, draw(st.sampled_from(SEGMENTS)), churn))
        customers = pd.DataFrame({
            C.CUSTOMER_ID: pd.Series([r[0] for r in rows], dtype=object),
            C.SIGNUP_DATE: pd.Series([day(r[1]) for r in rows], dtype="datetime64[ns]"),
            C.SEGMENT: pd.Series([r[2] for r in rows], dtype=object),
            C.BUSINESS_UNIT: pd.Series(["u"] * n, dtype=object),
        })
        if mode == "subscription":
            customers[C.CHURN_DATE] = pd.Series([day(r[3]) for r in rows],
                                                dtype="datetime64[ns]")
    order_rows = draw(st.lists(
        st.tuples(st.sampled_from(cids), days(window),
                  st.integers(-100, 300) | st.sampled_from([0, -50, 50])),
        min_size=1 if mode == "none" else 0, max_size=16))
    orders = pd.DataFrame({
        C.ORDER_ID: pd.Series([f"o{i}" for i in range(len(order_rows))], dtype=object),
        C.CUSTOMER_ID: pd.Series([r[0] for r in order_rows], dtype=object),
        C.ORDER_DATE: pd.Series([day(r[1]) for r in order_rows], dtype="datetime64[ns]"),
        C.AMOUNT: pd.Series([float(r[2]) for r in order_rows], dtype="float64"),
    })
    return Case(mode, window, orders, customers)


def values(kpis: pd.DataFrame, kpi: str) -> pd.Series:
    """Values of one KPI indexed by segment."""
    rows = kpis[kpis[C.KPI] == kpi]
    return pd.Series(rows[C.VALUE].to_numpy(), index=rows[C.SEGMENT].to_numpy())


def segments_only(s: pd.Series) -> pd.Series:
    return s.drop(C.ALL_SEGMENTS)


# --- the facts against a direct reading of the definitions ---------------------------
def expected_facts(case: Case) -> dict[str, dict]:
    """Per customer, the facts computed row by row from the spec's definitions."""
    rows = list(case.orders.itertuples(index=False))
    if case.customers is None:
        people = {r.customer_id: (pd.NaT, C.UNSEGMENTED, pd.NaT) for r in rows}
    else:
        people = {c[C.CUSTOMER_ID]: (c[C.SIGNUP_DATE], c[C.SEGMENT],
                                     c.get(C.CHURN_DATE, pd.NaT))
                  for _, c in case.customers.iterrows()}
    out = {}
    for cid, (signup, segment, churn) in people.items():
        mine = [r for r in rows if r.customer_id == cid]
        order_dates = [r.order_date for r in mine if r.amount > 0]
        acquired = signup if not pd.isna(signup) else (min(order_dates) if order_dates else pd.NaT)

        def active(t, acquired=acquired, churn=churn, order_dates=order_dates):
            if pd.isna(acquired) or not acquired < t:
                return False
            if case.mode == "subscription":
                return pd.isna(churn) or churn >= t
            return any(t - pd.Timedelta(days=case.window) <= d < t for d in order_dates)

        in_p = [r for r in mine if START <= r.order_date < END]
        out[cid] = {
            C.SEGMENT: segment,
            C.ACTIVE_START: active(START),
            C.ACTIVE_END: active(END),
            C.ACQUIRED_IN_PERIOD: (not pd.isna(acquired)) and START <= acquired < END,
            C.REVENUE: float(sum(r.amount for r in in_p)),
            C.ORDER_COUNT: sum(1 for r in in_p if r.amount > 0),
        }
    return out


@SETTINGS
@given(cases())
def test_facts_agree_with_a_row_by_row_reading_of_the_definitions(case):
    facts = case.facts()
    expected = expected_facts(case)
    assert sorted(facts.index) == sorted(expected)
    for cid, want in expected.items():
        got = facts.loc[cid]
        for col, v in want.items():
            assert got[col] == v, (cid, col, got[col], v)


@SETTINGS
@given(cases())
def test_new_customers_are_never_active_at_start(case):
    facts = case.facts()
    assert not (facts[C.ACQUIRED_IN_PERIOD] & facts[C.ACTIVE_START]).any()


# --- the base KPIs -------------------------------------------------------------------
@SETTINGS
@given(cases())
def test_retention_plus_churn_is_100_for_every_segment_with_customers_at_start(case):
    kpis = base_kpis(case.facts())
    start = values(kpis, ids.CUSTOMERS_START)
    retention, churn = values(kpis, ids.RETENTION_RATE), values(kpis, ids.CHURN_RATE)
    for segment, s in start.items():
        if s > 0:
            assert retention[segment] + churn[segment] == pytest.approx(100.0), segment
            assert 0.0 <= retention[segment] <= 100.0
        else:
            assert math.isnan(retention[segment]) and math.isnan(churn[segment]), segment


@SETTINGS
@given(cases())
def test_sales_contributions_of_the_segments_sum_to_100_when_unit_revenue_is_not_0(case):
    kpis = base_kpis(case.facts())
    unit_revenue = values(kpis, ids.REVENUE)[C.ALL_SEGMENTS]
    contribution = values(kpis, ids.SALES_CONTRIBUTION)
    if unit_revenue != 0:
        assert segments_only(contribution).sum() == pytest.approx(100.0)
        assert contribution[C.ALL_SEGMENTS] == pytest.approx(100.0)
    else:
        assert contribution.isna().all()


@SETTINGS
@given(cases())
def test_growth_is_consistent_with_the_customer_counts(case):
    kpis = base_kpis(case.facts())
    start, end = values(kpis, ids.CUSTOMERS_START), values(kpis, ids.CUSTOMERS_END)
    growth = values(kpis, ids.SEGMENT_GROWTH_RATE)
    for segment, s in start.items():
        if s > 0:
            assert end[segment] == pytest.approx(s * (1 + growth[segment] / 100)), segment
        else:
            assert math.isnan(growth[segment]), segment


@SETTINGS
@given(cases())
def test_all_counts_and_sums_equal_the_sum_over_segments(case):
    kpis = base_kpis(case.facts())
    for kpi in (ids.CUSTOMERS_START, ids.CUSTOMERS_END, ids.NEW_CUSTOMERS, ids.REVENUE,
                ids.ORDERS):
        v = values(kpis, kpi)
        # whole-number amounts: the sums are exact
        assert v[C.ALL_SEGMENTS] == segments_only(v).sum(), kpi


@SETTINGS
@given(cases())
def test_no_kpi_value_is_infinite(case):
    kpis = base_kpis(case.facts())
    for col in (C.VALUE, C.NUMERATOR, C.DENOMINATOR):
        assert not kpis[col].isin([math.inf, -math.inf]).any(), col


@SETTINGS
@given(cases())
def test_an_empty_value_always_has_a_note_and_a_defined_value_has_none(case):
    kpis = base_kpis(case.facts())
    empty = kpis[C.VALUE].isna()
    assert (kpis.loc[empty, C.NOTE].str.len() > 0).all()
    assert (kpis.loc[~empty, C.NOTE] == "").all()
    # an empty value is never banded
    assert (kpis.loc[empty, C.BAND] == "").all()


@SETTINGS
@given(cases())
def test_every_segment_and_all_report_every_base_kpi_once(case):
    facts = case.facts()
    kpis = base_kpis(facts)
    segments = sorted(set(facts[C.SEGMENT])) + [C.ALL_SEGMENTS]
    assert list(kpis[C.SEGMENT].unique()) == segments
    assert len(kpis) == len(ids.BASE_KPIS) * len(segments)
    assert not kpis.duplicated([C.KPI, C.SEGMENT]).any()
