"""RFM scores and the named RFM segments of the customers active in the trailing year.

Population
----------
Both methods look at the customers with at least one order (``amount > 0``) in the 365
days before the period end ``end`` (``orders_12m > 0`` in
:func:`segreport.data.facts.customer_facts`), and describe each by

* ``recency_days`` R = ``end − last_order_at`` in whole days (1 = ordered on the last day of
  the period; at most 365);
* ``frequency`` F = ``orders_12m``, orders in those 365 days;
* ``monetary`` M = ``revenue_12m``, net revenue (refunds included) in those 365 days, in
  currency units. It can be 0 or negative when refunds outweigh the orders.

RFM scores (see :data:`RFM_CONVENTION`)
---------------------------------------
R, F and M are each scored 1–5 by quintile, 5 being the best: the most recent, the most
frequent, the biggest spenders. The customers are put in order (R: longest recency first;
F, M: smallest value first) and cut into 5 groups of equal size the way SQL's
``NTILE(5)`` does: group sizes differ by at most one, and the first groups (the low scores)
take the extra customers. *Ties*: customers with equal values are ordered by
``customer_id`` (ascending), i.e. ``rank(method="first")`` on the frame sorted by customer
id, so equal values can get different scores; the score of a customer never depends on
the row order of the input. *Small populations*: with ``n < 5`` customers only ``n``
groups are formed and the scores are ``1..n``; with no customer the frame is empty. This
is the convention of openretailscience's ``RFMSegmentation`` (``NTILE`` over the value
then the customer id), with 5 bins instead of 10.

Named RFM segments come from the R and F scores through the widely used 10-segment RFM
grid (R first, F second): Champions R5 F4–5; Loyal customers R3–4 F4–5; Potential loyalists
R4–5 F2–3; New customers R5 F1; Promising R4 F1; Need attention R3 F3; About to sleep
R3 F1–2; At risk R1–2 F3–4; Can't lose them R1–2 F5; Hibernating R1–2 F1–2. Every one of
the 25 (R, F) cells has exactly one name.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from segreport import columns as C

# --- column names of the frames built here ------------------------------------------------
RECENCY_DAYS = "recency_days"
FREQUENCY = "frequency"
MONETARY = "monetary"
R_SCORE = "r_score"
F_SCORE = "f_score"
M_SCORE = "m_score"
RFM_SCORE = "rfm_score"  # R × 100 + F × 10 + M, e.g. 545
RFM_SEGMENT = "rfm_segment"
RFM_COLUMNS = (C.SEGMENT, RECENCY_DAYS, FREQUENCY, MONETARY, R_SCORE, F_SCORE, M_SCORE,
               RFM_SCORE, RFM_SEGMENT)
CUSTOMERS = "customers"
SHARE = "share"  # % of the scored (or clustered) customers

SCORE_BINS = 5

# --- the named-segment grid ---------------------------------------------------------------
CHAMPIONS = "Champions"
LOYAL = "Loyal customers"
POTENTIAL_LOYALISTS = "Potential loyalists"
NEW_CUSTOMERS = "New customers"
PROMISING = "Promising"
NEED_ATTENTION = "Need attention"
ABOUT_TO_SLEEP = "About to sleep"
AT_RISK = "At risk"
CANT_LOSE = "Can't lose them"
HIBERNATING = "Hibernating"
RFM_SEGMENTS = (CHAMPIONS, LOYAL, POTENTIAL_LOYALISTS, NEW_CUSTOMERS, PROMISING, NEED_ATTENTION,
                ABOUT_TO_SLEEP, AT_RISK, CANT_LOSE, HIBERNATING)
"""Named RFM segments, from the best to the worst (the order of charts and tables)."""

# RFM_GRID[r - 1][f - 1] is the name of the cell (R = r, F = f).
RFM_GRID: tuple[tuple[str, ...], ...] = (
    #  F=1          F=2                  F=3                  F=4        F=5
    (HIBERNATING, HIBERNATING, AT_RISK, AT_RISK, CANT_LOSE),  # R=1
    (HIBERNATING, HIBERNATING, AT_RISK, AT_RISK, CANT_LOSE),  # R=2
    (ABOUT_TO_SLEEP, ABOUT_TO_SLEEP, NEED_ATTENTION, LOYAL, LOYAL),  # R=3
    (PROMISING, POTENTIAL_LOYALISTS, POTENTIAL_LOYALISTS, LOYAL, LOYAL),  # R=4
    (NEW_CUSTOMERS, POTENTIAL_LOYALISTS, POTENTIAL_LOYALISTS, CHAMPIONS, CHAMPIONS),  # R=5
)

RFM_CONVENTION = (
    "RFM: customers with an order in the 12 months before the period end. "
    "R = days since the last order, F = orders and M = net revenue in those 12 months. "
    "Each is scored 1-5 by quintile (5 = most recent / most frequent / highest spend), "
    "cut like SQL NTILE(5); equal values are split by customer id, so groups differ in "
    "size by at most one; with fewer than 5 customers only scores 1..n occur. "
    "Named segments from R and F: Champions R5 F4-5; Loyal customers R3-4 F4-5; "
    "Potential loyalists R4-5 F2-3; New customers R5 F1; Promising R4 F1; "
    "Need attention R3 F3; About to sleep R3 F1-2; At risk R1-2 F3-4; "
    "Can't lose them R1-2 F5; Hibernating R1-2 F1-2."
)


def rfm_base(facts: pd.DataFrame, end: pd.Timestamp | str) -> pd.DataFrame:
    """Recency, frequency and monetary value of the customers with an order in the trailing year.

    Parameters
    ----------
    facts
        Output of :func:`segreport.data.facts.customer_facts` for a period ending at ``end``.
    end
        The period end (exclusive), the reference date of recency.

    Returns
    -------
    DataFrame indexed by ``customer_id`` (sorted), customers with ``orders_12m > 0`` only,
    with columns ``segment`` (the customer's own segment), ``recency_days`` (int, days),
    ``frequency`` (int, orders) and ``monetary`` (float, currency).
    """
    end = pd.Timestamp(end)
    active = facts[facts[C.ORDERS_12M] > 0].sort_index()
    recency = (end - pd.to_datetime(active[C.LAST_ORDER_AT])).dt.days
    out = pd.DataFrame({
        C.SEGMENT: active[C.SEGMENT].astype(object),
        RECENCY_DAYS: recency.astype("int64"),
        FREQUENCY: active[C.ORDERS_12M].astype("int64"),
        MONETARY: active[C.REVENUE_12M].astype("float64"),
    }, index=active.index)
    out.index.name = C.CUSTOMER_ID
    return out


def ntile_scores(values: np.ndarray, bins: int = SCORE_BINS,
                 higher_is_better: bool = True) -> np.ndarray:
    """Scores ``1..bins`` of ``values`` by equal-count groups, like SQL ``NTILE(bins)``.

    The values are ordered worst first (ascending when ``higher_is_better``, descending
    otherwise) with a *stable* sort, so equal values keep their input order: pass them
    sorted by customer id to break ties by customer id. With ``n`` values, ``n % bins``
    groups hold ``n // bins + 1`` values and the others ``n // bins``; the larger groups
    come first (low scores). With ``n < bins`` the scores are ``1..n``.

    Examples
    --------
    >>> ntile_scores(np.array([10, 20, 20, 30, 40, 50])).tolist()
    [1, 1, 2, 3, 4, 5]
    """
    values = np.asarray(values, dtype="float64")
    n = len(values)
    scores = np.empty(n, dtype="int64")
    if n == 0:
        return scores
    order = np.argsort(values if higher_is_better else -values, kind="stable")
    position = np.arange(n)
    size, big = divmod(n, bins)
    if size == 0:
        bucket = position
    else:
        cut = big * (size + 1)
        bucket = np.where(position < cut, position // (size + 1),
                          big + (position - cut) // max(size, 1))
    scores[order] = bucket + 1
    return scores


def rfm_segment_names(r: np.ndarray, f: np.ndarray) -> np.ndarray:
    """The named segment of each (R, F) score pair through :data:`RFM_GRID`."""
    grid = np.array(RFM_GRID, dtype=object)
    r = np.clip(np.asarray(r, dtype="int64"), 1, SCORE_BINS) - 1
    f = np.clip(np.asarray(f, dtype="int64"), 1, SCORE_BINS) - 1
    return grid[r, f]


def rfm_scores(facts: pd.DataFrame, end: pd.Timestamp | str) -> pd.DataFrame:
    """RFM scores and named RFM segment of each customer with an order in the trailing year
    (``facts`` and ``end`` as for :func:`rfm_base`).

    Returns
    -------
    DataFrame indexed by ``customer_id`` (sorted) with the columns of :func:`rfm_base` and

    * ``r_score``, ``f_score``, ``m_score`` — 1 to 5, 5 = best (see :data:`RFM_CONVENTION`):
      R from ``recency_days`` (fewer days = higher), F from ``frequency``, M from
      ``monetary``;
    * ``rfm_score`` — ``R × 100 + F × 10 + M`` (e.g. 545);
    * ``rfm_segment`` — the named segment of (R, F), one of :data:`RFM_SEGMENTS`,
      as an ordered categorical (best first).

    Customers without an order in the 365 days before ``end`` are left out; with no such
    customer the frame is empty (same columns).
    """
    out = rfm_base(facts, end)
    out[R_SCORE] = ntile_scores(out[RECENCY_DAYS].to_numpy(), higher_is_better=False)
    out[F_SCORE] = ntile_scores(out[FREQUENCY].to_numpy())
    out[M_SCORE] = ntile_scores(out[MONETARY].to_numpy())
    out[RFM_SCORE] = out[R_SCORE] * 100 + out[F_SCORE] * 10 + out[M_SCORE]
    names = rfm_segment_names(out[R_SCORE].to_numpy(), out[F_SCORE].to_numpy())
    out[RFM_SEGMENT] = pd.Categorical(names, categories=list(RFM_SEGMENTS), ordered=True)
    return out[list(RFM_COLUMNS)]


def rfm_segment_counts(rfm: pd.DataFrame) -> pd.DataFrame:
    """Customers per named RFM segment, every segment of :data:`RFM_SEGMENTS` in order.

    Returns
    -------
    DataFrame indexed by ``rfm_segment`` with ``customers`` (count) and ``share``
    (% of the scored customers; NaN when there are none).
    """
    counts = (pd.Series(np.asarray(rfm[RFM_SEGMENT], dtype=object)).value_counts()
              .reindex(list(RFM_SEGMENTS), fill_value=0).astype("int64"))
    total = int(counts.sum())
    share = counts / total * 100 if total else counts * math.nan
    out = pd.DataFrame({CUSTOMERS: counts, SHARE: share.astype("float64")})
    out.index.name = RFM_SEGMENT
    return out
