"""Tests of the behavioural segmentation (RFM, behaviour groups, migration) and of the
customer × quarter activity and cohort retention, on small hand-made tables.

Every expected value is worked out by hand in the comment next to its assertion. Unless a
test says otherwise the period ends at END = 2026-10-01 (exclusive), the reference date
of recency.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from segreport import columns as C
from segreport.charts import segmentation as CS
from segreport.data.facts import customer_facts
from segreport.data.quarterly import (
    ACQUISITION_QUARTER,
    QUARTER,
    cohort_retention,
    cohort_sizes,
    customer_quarters,
)
from segreport.kpis import segmentation as S
from segreport.kpis.segmentation import clusters

END = pd.Timestamp("2026-10-01")


# --- hand-made inputs -----------------------------------------------------------------
def make_facts(rows: list[tuple]) -> pd.DataFrame:
    """``rows`` = (customer_id, last_order_at or None, orders_12m, revenue_12m[, segment]):
    the columns of customer_facts that the segmentation reads."""
    return pd.DataFrame({
        C.SEGMENT: np.array([r[4] if len(r) > 4 else "Standard" for r in rows], dtype=object),
        C.LAST_ORDER_AT: pd.to_datetime([r[1] for r in rows]).as_unit("ns"),
        C.ORDERS_12M: np.array([r[2] for r in rows], dtype="int64"),
        C.REVENUE_12M: np.array([r[3] for r in rows], dtype="float64"),
    }, index=pd.Index([r[0] for r in rows], dtype=object, name=C.CUSTOMER_ID))


def make_orders(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """``rows`` = (customer_id, order_date, amount)."""
    return pd.DataFrame({
        C.ORDER_ID: pd.Series([f"o{i + 1}" for i in range(len(rows))], dtype=object),
        C.CUSTOMER_ID: pd.Series([r[0] for r in rows], dtype=object),
        C.ORDER_DATE: pd.Series(pd.to_datetime([r[1] for r in rows]), dtype="datetime64[ns]"),
        C.AMOUNT: pd.Series([r[2] for r in rows], dtype="float64"),
    })


def acquired(mapping: dict[str, str | None]) -> pd.Series:
    return pd.Series(pd.to_datetime(list(mapping.values())), dtype="datetime64[ns]",
                     index=pd.Index(list(mapping), dtype=object, name=C.CUSTOMER_ID))


# Six customers with an order in the trailing year and one without; listed out of id order
# so that ties must be broken by customer id, not by row order. Recency = END − last order:
#   c1 2026-09-30 →   1 d   c2 2026-09-01 →  30 d   c3 2026-09-01 →  30 d
#   c4 2026-06-03 → 120 d   c5 2025-12-05 → 300 d   c6 2026-09-21 →  10 d
SIX = make_facts([
    ("c3", "2026-09-01", 5, 200.0),
    ("c1", "2026-09-30", 10, 1000.0),
    ("c6", "2026-09-21", 3, 500.0),
    ("c2", "2026-09-01", 2, 200.0),
    ("c5", "2025-12-05", 1, 80.0),
    ("c7", "2025-01-01", 0, 0.0),  # no order in the trailing year: not scored
    ("c4", "2026-06-03", 2, 50.0),
])


# --- RFM scores -----------------------------------------------------------------------
def test_rfm_scores_only_customers_with_an_order_in_the_trailing_year_sorted_by_id():
    rfm = S.rfm_scores(SIX, END)
    assert list(rfm.index) == ["c1", "c2", "c3", "c4", "c5", "c6"]
    assert list(rfm.columns) == list(S.RFM_COLUMNS)
    # recency in whole days from the last order to END, as worked out above SIX
    assert rfm[S.RECENCY_DAYS].to_dict() == {"c1": 1, "c2": 30, "c3": 30, "c4": 120, "c5": 300,
                                             "c6": 10}
    assert rfm[S.FREQUENCY].to_dict() == {"c1": 10, "c2": 2, "c3": 5, "c4": 2, "c5": 1, "c6": 3}
    assert rfm.loc["c3", S.MONETARY] == 200.0


def test_a_more_recent_customer_gets_a_higher_recency_score_and_ties_go_by_customer_id():
    r = S.rfm_scores(SIX, END)[S.R_SCORE].to_dict()
    # 6 customers in 5 NTILE groups: sizes 2,1,1,1,1 (the extra one in the lowest score).
    # Worst (longest recency) first, equal recencies in id order:
    #   c5 300, c4 120, c2 30, c3 30, c6 10, c1 1  →  1, 1, 2, 3, 4, 5
    # c2 and c3 both ordered 30 days ago: c2 (smaller id) comes first and scores lower.
    assert r == {"c5": 1, "c4": 1, "c2": 2, "c3": 3, "c6": 4, "c1": 5}


def test_frequency_and_monetary_scores_rise_with_the_value_and_split_ties_by_customer_id():
    rfm = S.rfm_scores(SIX, END)
    # F ascending, ties in id order: c5 1, c2 2, c4 2, c6 3, c3 5, c1 10 → 1, 1, 2, 3, 4, 5
    assert rfm[S.F_SCORE].to_dict() == {"c5": 1, "c2": 1, "c4": 2, "c6": 3, "c3": 4, "c1": 5}
    # M ascending: c4 50, c5 80, c2 200, c3 200, c6 500, c1 1000 → 1, 1, 2, 3, 4, 5
    assert rfm[S.M_SCORE].to_dict() == {"c4": 1, "c5": 1, "c2": 2, "c3": 3, "c6": 4, "c1": 5}
    # rfm_score = R×100 + F×10 + M, e.g. c3: R3 F4 M3 → 343
    assert rfm[S.RFM_SCORE].to_dict() == {"c1": 555, "c2": 212, "c3": 343, "c4": 121,
                                          "c5": 111, "c6": 434}


def test_rfm_segments_of_the_six_customers_follow_the_r_and_f_grid():
    segments = S.rfm_scores(SIX, END)[S.RFM_SEGMENT].astype(str).to_dict()
    # c1 R5 F5 Champions; c2 R2 F1, c4 R1 F2, c5 R1 F1 Hibernating; c3 R3 F4 Loyal customers;
    # c6 R4 F3 Potential loyalists
    assert segments == {"c1": S.CHAMPIONS, "c2": S.HIBERNATING, "c3": S.LOYAL,
                        "c4": S.HIBERNATING, "c5": S.HIBERNATING, "c6": S.POTENTIAL_LOYALISTS}


def test_rfm_scores_do_not_depend_on_the_row_order_of_the_facts():
    shuffled = SIX.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(S.rfm_scores(shuffled, END), S.rfm_scores(SIX, END))


def _expected_name(r: int, f: int) -> str:
    """The grid written as the ranges of the module docstring."""
    if r == 5 and f >= 4:
        return S.CHAMPIONS
    if r in (3, 4) and f >= 4:
        return S.LOYAL
    if r >= 4 and f in (2, 3):
        return S.POTENTIAL_LOYALISTS
    if r == 5 and f == 1:
        return S.NEW_CUSTOMERS
    if r == 4 and f == 1:
        return S.PROMISING
    if r == 3 and f == 3:
        return S.NEED_ATTENTION
    if r == 3 and f <= 2:
        return S.ABOUT_TO_SLEEP
    if r <= 2 and f in (3, 4):
        return S.AT_RISK
    if r <= 2 and f == 5:
        return S.CANT_LOSE
    return S.HIBERNATING  # r ≤ 2 and f ≤ 2


def test_every_r_and_f_cell_has_the_named_segment_of_the_documented_grid():
    r, f = np.meshgrid(np.arange(1, 6), np.arange(1, 6), indexing="ij")
    names = S.rfm_segment_names(r.ravel(), f.ravel())
    expected = [_expected_name(int(a), int(b)) for a, b in zip(r.ravel(), f.ravel())]
    assert list(names) == expected
    assert set(names) == set(S.RFM_SEGMENTS)  # all ten names are used, none other


@pytest.mark.parametrize(("r", "f", "name"), [
    (5, 5, "Champions"), (5, 1, "New customers"), (4, 1, "Promising"), (3, 3, "Need attention"),
    (1, 5, "Can't lose them"), (2, 3, "At risk"), (1, 1, "Hibernating"), (3, 4, "Loyal customers"),
])
def test_named_segment_of_a_few_well_known_cells(r, f, name):
    assert S.rfm_segment_names(np.array([r]), np.array([f]))[0] == name


def test_ntile_gives_the_extra_customers_to_the_lowest_scores():
    # 7 values in 5 groups: 7 = 5×1 + 2, so groups 1 and 2 hold 2 customers, 3-5 hold 1
    assert S.ntile_scores(np.arange(7)).tolist() == [1, 1, 2, 2, 3, 4, 5]
    # 10 values: two per quintile
    assert S.ntile_scores(np.arange(10)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_fewer_than_five_customers_use_fewer_score_bins_without_error():
    facts = make_facts([("a", "2026-09-01", 1, 10.0), ("b", "2026-08-01", 2, 20.0),
                        ("c", "2026-07-01", 3, 30.0)])
    rfm = S.rfm_scores(facts, END)
    # 3 customers → 3 groups of one: scores 1..3; c ordered longest ago → R 1
    assert rfm[S.R_SCORE].to_dict() == {"a": 3, "b": 2, "c": 1}
    assert rfm[S.F_SCORE].to_dict() == {"a": 1, "b": 2, "c": 3}
    one = S.rfm_scores(facts.iloc[:1], END)
    assert one[[S.R_SCORE, S.F_SCORE, S.M_SCORE]].iloc[0].tolist() == [1, 1, 1]


def test_no_customer_with_an_order_in_the_trailing_year_gives_an_empty_rfm_frame():
    facts = make_facts([("a", "2024-01-01", 0, 0.0), ("b", None, 0, 0.0)])
    rfm = S.rfm_scores(facts, END)
    assert rfm.empty and list(rfm.columns) == list(S.RFM_COLUMNS)
    counts = S.rfm_segment_counts(rfm)
    assert counts[S.CUSTOMERS].sum() == 0 and counts[S.SHARE].isna().all()


def test_rfm_segment_counts_list_every_segment_best_first_with_shares():
    counts = S.rfm_segment_counts(S.rfm_scores(SIX, END))
    assert list(counts.index) == list(S.RFM_SEGMENTS)
    # 3 Hibernating of 6 customers = 50 %
    assert counts.loc[S.HIBERNATING, S.CUSTOMERS] == 3
    assert counts.loc[S.HIBERNATING, S.SHARE] == pytest.approx(50.0)
    assert counts.loc[S.NEW_CUSTOMERS, S.CUSTOMERS] == 0


def test_rfm_recency_comes_from_the_orders_through_customer_facts():
    orders = make_orders([
        ("a", "2026-09-30", 100.0),  # recency 1 day
        ("a", "2026-09-30", -100.0),  # a refund is not an order: still recency 1
        ("b", "2026-07-02", 50.0),  # 2026-07-02 → 2026-10-01: 29 + 31 + 30 = 91 days
        ("b", "2026-09-25", -20.0),  # refund after the last order does not refresh recency
        ("z", "2025-09-30", 70.0),  # 366 days before END: outside the trailing year
    ])
    facts = customer_facts(orders, None, pd.Timestamp("2026-07-01"), END)
    rfm = S.rfm_scores(facts, END)
    assert rfm[S.RECENCY_DAYS].to_dict() == {"a": 1, "b": 91}
    # a: net revenue 100 − 100 = 0; b: 50 − 20 = 30
    assert rfm[S.MONETARY].to_dict() == {"a": 0.0, "b": 30.0}


def test_rfm_convention_is_a_short_printable_text():
    assert "NTILE(5)" in S.RFM_CONVENTION and "customer id" in S.RFM_CONVENTION
    assert all(name in S.RFM_CONVENTION for name in S.RFM_SEGMENTS)
    assert len(S.RFM_CONVENTION) < 1000


# --- behaviour clusters ---------------------------------------------------------------
def three_blobs(n_per_blob: int = 60, seed: int = 1) -> pd.DataFrame:
    """Three clearly separated groups (small noise on a log scale):
    A recency ~5 d, ~20 orders, ~5,000; B ~60 d, ~5 orders, ~500; C ~300 d, 1 order, ~30."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, (recency, orders, spend) in {"A": (5, 20, 5000), "B": (60, 5, 500),
                                           "C": (300, 1, 30)}.items():
        for i in range(n_per_blob):
            days = max(1, round(recency * math.exp(rng.normal(0, 0.08))))
            count = max(1, round(orders * math.exp(rng.normal(0, 0.08))))
            money = round(spend * math.exp(rng.normal(0, 0.08)), 2)
            rows.append((f"{name}{i:03d}", END - pd.Timedelta(days=days), count, money,
                         {"A": "Premium", "B": "Standard", "C": "Value"}[name]))
    return make_facts(rows)


@pytest.fixture(scope="module")
def blobs_result() -> S.ClusterResult:
    return S.behaviour_clusters(three_blobs(), END)


def test_silhouette_chooses_three_groups_for_three_clear_blobs(blobs_result):
    assert blobs_result.k == 3
    assert set(blobs_result.silhouettes) == {3, 4, 5}
    assert blobs_result.silhouettes[3] == max(blobs_result.silhouettes.values())
    assert blobs_result.silhouettes[3] > 0.7
    assert blobs_result.n_customers == 180 and blobs_result.sample_size == 180


def test_behaviour_groups_are_numbered_by_spend_and_named_by_their_profile(blobs_result):
    profile = blobs_result.profile
    # z-scores of the blob centres (log1p, population s.d.):
    #   recency  log 6, 61, 301 = 1.79, 4.11, 5.71 → z −1.29, +0.15, +1.14
    #   orders   log 21, 6, 2   = 3.04, 1.79, 0.69 → z +1.25, −0.05, −1.20
    #   spend    log 5001, 501, 31 = 8.52, 6.22, 3.43 → z +1.18, +0.08, −1.26
    # ±0.5 earns a word; group 1 = highest mean spend.
    assert list(profile.index) == ["Recent frequent high spenders", "Mid spenders",
                                   "Lapsing occasional low spenders"]
    assert profile[S.GROUP].tolist() == [1, 2, 3]
    assert profile[S.CUSTOMERS].tolist() == [60, 60, 60]
    assert profile[S.SHARE].tolist() == pytest.approx([100 / 3] * 3)
    assert profile[S.DOMINANT_SEGMENT].tolist() == ["Premium", "Standard", "Value"]
    assert profile[S.DOMINANT_SHARE].tolist() == [100.0, 100.0, 100.0]
    assert profile.loc["Mid spenders", S.FREQUENCY_MEDIAN] == pytest.approx(5, abs=1)
    labels = blobs_result.labels
    assert labels["A000"] == "Recent frequent high spenders" and labels["C059"] == (
        "Lapsing occasional low spenders")
    assert list(labels.cat.categories) == list(profile.index)


def test_behaviour_clusters_are_reproducible_with_the_same_seed(blobs_result):
    again = S.behaviour_clusters(three_blobs(), END)
    pd.testing.assert_series_equal(again.labels, blobs_result.labels)
    assert again.silhouettes == blobs_result.silhouettes


def test_above_the_kmeans_sample_size_centres_come_from_a_sample_and_every_customer_is_grouped(
        blobs_result, monkeypatch):
    monkeypatch.setattr(clusters, "KMEANS_SAMPLE", 30)  # 30 of the 180 customers find the centres
    sampled = S.behaviour_clusters(three_blobs(), END)
    # the blobs lie far apart: centres from any 30 of them group all 180 as the full fit does
    assert sampled.k == 3 and sampled.n_customers == 180
    assert sampled.labels.index.tolist() == blobs_result.labels.index.tolist()
    assert (sampled.labels.astype(str) == blobs_result.labels.astype(str)).all()
    assert sampled.profile[S.CUSTOMERS].tolist() == [60, 60, 60]


def test_too_few_customers_for_any_k_gives_an_empty_result_with_a_reason():
    facts = three_blobs().iloc[[0, 1, 60, 61, 120]]  # 5 customers: k = 3 needs 6
    result = S.behaviour_clusters(facts, END)
    assert result.empty and result.k is None and math.isnan(result.silhouette)
    assert "too few customers" in result.reason and result.labels.empty
    assert result.profile.empty and result.n_customers == 5


def test_only_the_feasible_k_are_tried_when_customers_are_few():
    facts = three_blobs().iloc[[0, 1, 2, 60, 61, 62, 120, 121]]  # 8 customers: 2k ≤ 8 → k 3, 4
    result = S.behaviour_clusters(facts, END)
    assert set(result.silhouettes) == {3, 4}
    assert result.k == 3


def test_no_customer_at_all_gives_an_empty_cluster_result():
    result = S.behaviour_clusters(make_facts([("a", None, 0, 0.0)]), END)
    assert result.empty and result.n_customers == 0 and result.reason


def test_segmentation_kpis_report_the_chosen_k_and_its_silhouette(blobs_result):
    kpis = S.segmentation_kpis(blobs_result).set_index(C.KPI)
    assert list(kpis.columns) == list(C.KPI_FRAME_COLUMNS)[1:]
    assert kpis.loc[S.SEGMENT_COUNT, C.VALUE] == 3
    assert kpis.loc[S.SEGMENT_COUNT, C.UNIT] == "segments"
    assert kpis.loc[S.SEGMENT_SEPARATION, C.VALUE] == pytest.approx(blobs_result.silhouettes[3])
    assert kpis.loc[S.SEGMENT_SEPARATION, C.UNIT] == "silhouette (-1..1)"
    assert set(kpis[C.SEGMENT]) == {C.ALL_SEGMENTS}
    assert not kpis[C.SMALL_SAMPLE].any()  # 180 customers


def test_segmentation_kpis_of_an_empty_result_are_empty_with_the_reason():
    result = S.behaviour_clusters(make_facts([("a", "2026-09-01", 1, 5.0)]), END)
    kpis = S.segmentation_kpis(result, segment_label="Retail")
    assert kpis[C.VALUE].isna().all()
    assert kpis[C.NOTE].str.contains("too few customers").all()
    assert set(kpis[C.SEGMENT]) == {"Retail"} and kpis[C.SMALL_SAMPLE].all()


# --- migration ------------------------------------------------------------------------
def test_migration_counts_customers_who_move_enter_and_leave():
    # previous: a X, b X, c Y, d Y;  now: a X, b Y, c Y, e X  (d left, e entered)
    prev = pd.Series({"a": "X", "b": "X", "c": "Y", "d": "Y"})
    now = pd.Series({"a": "X", "b": "Y", "c": "Y", "e": "X"})
    matrix = S.segment_migration(prev, now)
    # rows previous, columns now:   X  Y  (none)
    #   X       a→X, b→Y           1  1  0
    #   Y       c→Y, d left        0  1  1
    #   (none)  e entered          1  0  0
    expected = pd.DataFrame([[1, 1, 0], [0, 1, 1], [1, 0, 0]],
                            index=["X", "Y", S.NONE_LABEL], columns=["X", "Y", S.NONE_LABEL])
    pd.testing.assert_frame_equal(matrix, expected, check_names=False)
    assert matrix.index.name == "previous" and matrix.columns.name == "current"


def test_migration_shares_are_row_percentages():
    prev = pd.Series({"a": "X", "b": "X", "c": "Y", "d": "Y"})
    now = pd.Series({"a": "X", "b": "Y", "c": "Y", "e": "X"})
    shares = S.migration_shares(S.segment_migration(prev, now))
    # X: 1 of 2 stayed, 1 of 2 moved to Y → 50, 50, 0; (none): the 1 entrant went to X → 100
    assert shares.loc["X"].tolist() == [50.0, 50.0, 0.0]
    assert shares.loc["Y"].tolist() == [0.0, 50.0, 50.0]
    assert shares.loc[S.NONE_LABEL].tolist() == [100.0, 0.0, 0.0]


def test_migration_keeps_the_categorical_order_and_an_empty_row_is_nan():
    order = list(S.RFM_SEGMENTS)
    prev = pd.Series(pd.Categorical([S.HIBERNATING], categories=order), index=["a"])
    now = pd.Series(pd.Categorical([S.CHAMPIONS], categories=order), index=["a"])
    matrix = S.segment_migration(prev, now)
    assert list(matrix.index) == order + [S.NONE_LABEL]
    assert matrix.loc[S.HIBERNATING, S.CHAMPIONS] == 1 and matrix.to_numpy().sum() == 1
    shares = S.migration_shares(matrix)
    assert shares.loc[S.CHAMPIONS].isna().all()  # nobody was a Champion before


# --- customer quarters and cohorts ----------------------------------------------------
def test_customer_quarters_put_april_first_in_q2_and_ignore_refund_only_quarters():
    orders = make_orders([
        ("x", "2026-03-31", 10.0),  # last day of Q1
        ("x", "2026-04-01", 20.0),  # first day of Q2
        ("x", "2026-04-15", -5.0),  # refund in Q2: lowers revenue, not an order
        ("y", "2026-05-01", -7.0),  # y's only Q2 row is a refund: no Q2 row for y
        ("y", "2026-07-01", 30.0),
    ])
    cq = customer_quarters(orders)
    assert list(zip(cq[C.CUSTOMER_ID], cq[QUARTER])) == [("x", "2026Q1"), ("x", "2026Q2"),
                                                         ("y", "2026Q3")]
    assert cq[C.ORDER_COUNT].tolist() == [1, 1, 1]
    # x Q2 net revenue: 20 − 5 = 15
    assert cq[C.REVENUE].tolist() == [10.0, 15.0, 30.0]
    assert set(cq[C.SEGMENT]) == {C.UNSEGMENTED}


def test_customer_quarters_with_a_customers_table_keep_its_customers_and_segments():
    orders = make_orders([("x", "2026-01-05", 10.0), ("x", "2026-01-06", 5.0),
                          ("q", "2026-01-07", 99.0)])
    customers = pd.DataFrame({C.CUSTOMER_ID: ["x"], C.SEGMENT: ["Premium"]})
    cq = customer_quarters(orders, customers)
    assert cq[C.CUSTOMER_ID].tolist() == ["x"]  # q is not in the customers table
    assert cq[C.SEGMENT].tolist() == ["Premium"] and cq[C.ORDER_COUNT].tolist() == [2]
    assert customer_quarters(orders.iloc[:0]).empty


def test_cohort_retention_half_of_a_two_customer_cohort_ordering_again_is_50_percent():
    # Cohort 2026Q1 = {a, b}: both order in Q1; a orders again in Q2, b only has a refund.
    # Cohort 2026Q2 = {c}: orders on 2026-04-01 and again in Q3 (after last_quarter).
    orders = make_orders([
        ("a", "2026-01-20", 10.0), ("a", "2026-04-10", 12.0),
        ("b", "2026-02-01", 8.0), ("b", "2026-05-05", -8.0),
        ("c", "2026-04-01", 9.0), ("c", "2026-09-30", 9.0),
    ])
    acq = acquired({"a": "2026-01-15", "b": "2026-02-01", "c": "2026-04-01"})
    table = cohort_retention(customer_quarters(orders), acq, "2026Q2", max_quarters=2)
    assert list(table.index) == ["2026Q1", "2026Q2"]
    assert table.index.name == ACQUISITION_QUARTER and list(table.columns) == [0, 1, 2]
    # 2026Q1: q0 2/2 = 100 %, q1 (2026Q2) 1/2 = 50 %, q2 (2026Q3) after last_quarter → NaN
    assert table.loc["2026Q1", 0] == 100.0 and table.loc["2026Q1", 1] == 50.0
    assert math.isnan(table.loc["2026Q1", 2])
    # 2026Q2: q0 1/1 = 100 %; q1 is 2026Q3, after last_quarter → NaN though c ordered then
    assert table.loc["2026Q2", 0] == 100.0 and table.loc["2026Q2"].iloc[1:].isna().all()


def test_customers_who_never_order_still_count_in_their_cohort():
    orders = make_orders([("a", "2026-01-20", 10.0), ("a", "2026-04-10", 12.0)])
    # cohort 2026Q1 = {a, d, e}; only a orders: q0 1/3 = 33.3 %, q1 1/3; f has no date
    acq = acquired({"a": "2026-01-15", "d": "2026-02-01", "e": "2026-03-31", "f": None})
    table = cohort_retention(customer_quarters(orders), acq, "2026Q3", max_quarters=3)
    assert table.loc["2026Q1", [0, 1, 2]].tolist() == pytest.approx([100 / 3, 100 / 3, 0.0])
    assert math.isnan(table.loc["2026Q1", 3])  # 2026Q1 + 3 = 2026Q4 > 2026Q3
    assert cohort_sizes(acq, "2026Q3").to_dict() == {"2026Q1": 3}


def test_cohort_retention_leaves_out_cohorts_outside_the_quarters_asked_for():
    orders = make_orders([("a", "2025-11-20", 10.0), ("b", "2026-01-20", 10.0),
                          ("c", "2026-04-20", 10.0)])
    acq = acquired({"a": "2025-11-20", "b": "2026-01-20", "c": "2026-04-20"})
    table = cohort_retention(customer_quarters(orders), acq, "2026Q1", first_quarter="2026Q1")
    assert list(table.index) == ["2026Q1"]  # 2025Q4 before first_quarter, 2026Q2 after last
    assert list(table.columns) == list(range(9))
    empty = cohort_retention(customer_quarters(orders), acq, "2024Q1")
    assert empty.empty and list(empty.columns) == list(range(9))


# --- charts ---------------------------------------------------------------------------
def _title(fig: Figure) -> str:
    return fig.axes[0].get_title(loc="left").strip()


def test_rfm_chart_returns_a_titled_figure():
    fig = CS.rfm_chart(S.rfm_scores(SIX, END))
    assert isinstance(fig, Figure) and _title(fig) == "RFM segments"
    assert _title(CS.rfm_chart(S.rfm_scores(SIX.iloc[:0], END))) == "RFM segments"


def test_cluster_profile_chart_returns_a_titled_figure(blobs_result):
    fig = CS.cluster_profile_chart(blobs_result)
    assert isinstance(fig, Figure) and _title(fig) == "Behaviour groups"
    empty = CS.cluster_profile_chart(S.behaviour_clusters(SIX.iloc[:0], END))
    assert _title(empty) == "Behaviour groups"


def test_migration_heatmap_returns_a_titled_figure():
    matrix = S.segment_migration(pd.Series({"a": "X", "b": "Y"}), pd.Series({"a": "Y", "c": "X"}))
    fig = CS.migration_heatmap(S.migration_shares(matrix), matrix)
    assert isinstance(fig, Figure) and _title(fig) == "Segment migration"
    assert any(t.get_text() == "100%" for t in fig.axes[0].texts)


def test_cohort_heatmap_returns_a_titled_figure():
    orders = make_orders([("a", "2026-01-20", 10.0), ("a", "2026-04-10", 12.0),
                          ("b", "2026-02-01", 8.0)])
    acq = acquired({"a": "2026-01-15", "b": "2026-02-01"})
    table = cohort_retention(customer_quarters(orders), acq, "2026Q2", max_quarters=2)
    fig = CS.cohort_heatmap(table, cohort_sizes(acq, "2026Q2"))
    assert isinstance(fig, Figure) and _title(fig) == "Cohort retention"
    assert "50%" in {t.get_text() for t in fig.axes[0].texts}
    assert _title(CS.cohort_heatmap(table.iloc[:0])) == "Cohort retention"
