"""Behavioural segmentation: RFM scores, k-means behaviour groups and segment migration.

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

Behaviour groups
----------------
:func:`behaviour_clusters` runs k-means on the standardised ``log1p`` of R, F and M
(M clipped at 0 first) for each k tried and keeps the k with the highest silhouette score.
Groups are numbered by mean monetary value (1 = highest) and named in plain words from
their centre (see :func:`behaviour_clusters`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from segreport import columns as C
from segreport.kpis.frame import kpi_row, to_frame
from segreport.kpis.stats import is_small

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

GROUP = "group"  # behaviour group number, 1 = highest mean monetary value
GROUP_NAME = "name"
CUSTOMERS = "customers"
SHARE = "share"  # % of the clustered customers
RECENCY_MEAN, RECENCY_MEDIAN = "recency_mean", "recency_median"
FREQUENCY_MEAN, FREQUENCY_MEDIAN = "frequency_mean", "frequency_median"
MONETARY_MEAN, MONETARY_MEDIAN = "monetary_mean", "monetary_median"
DOMINANT_SEGMENT = "dominant_segment"
DOMINANT_SHARE = "dominant_segment_share"  # % of the group in its dominant segment
PROFILE_COLUMNS = (GROUP, CUSTOMERS, SHARE, RECENCY_MEAN, RECENCY_MEDIAN, FREQUENCY_MEAN,
                   FREQUENCY_MEDIAN, MONETARY_MEAN, MONETARY_MEDIAN, DOMINANT_SEGMENT,
                   DOMINANT_SHARE)

# --- KPI ids ------------------------------------------------------------------------------
from segreport.kpis.ids import SEGMENT_COUNT, SEGMENT_SEPARATION  # noqa: E402

NONE_LABEL = "(none)"
"""Migration row/column of customers without a label in one of the two periods."""

SCORE_BINS = 5
TRAILING_DAYS = 365
SILHOUETTE_SAMPLE = 5_000
KMEANS_SAMPLE = 100_000
"""Above this many customers, k-means finds its centres on a seeded random sample of this
size and then assigns every customer to the nearest centre. On the 273,592 recent customers
of a 10M-order sample, four groups from three samples of 100,000 gave the same grouping as
a sample of 200,000 (adjusted Rand index 0.98–0.99, as two samples of 200,000 agree with
each other: 0.97–0.99); samples of 50,000 agreed less (0.93–0.97)."""
NAME_THRESHOLD = 0.5
"""A group centre this many standard deviations from the mean earns a word in its name."""

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


# --- RFM ----------------------------------------------------------------------------------
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
    """RFM scores and named RFM segment of each customer with an order in the trailing year.

    Parameters
    ----------
    facts
        Output of :func:`segreport.data.facts.customer_facts` for a period ending at ``end``.
    end
        The period end (exclusive), the reference date of recency.

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


# --- behaviour clusters -------------------------------------------------------------------
@dataclass(frozen=True)
class ClusterResult:
    """Outcome of :func:`behaviour_clusters`.

    Attributes
    ----------
    labels
        Group name per customer (index ``customer_id``), an ordered categorical whose
        categories are the group names by group number.
    k
        Chosen number of groups; ``None`` when no clustering was possible.
    silhouettes
        Silhouette score of every k tried (NaN when it could not be computed).
    profile
        One row per group (index: group name, in group order), columns
        :data:`PROFILE_COLUMNS`.
    n_customers
        Customers clustered (those with an order in the trailing year).
    sample_size
        Customers in the fixed random sample the silhouettes were computed on.
    reason
        Why the result is empty (``""`` otherwise).
    """

    labels: pd.Series
    k: int | None
    silhouettes: dict[int, float] = field(default_factory=dict)
    profile: pd.DataFrame = field(default_factory=lambda: _empty_profile())
    n_customers: int = 0
    sample_size: int = 0
    reason: str = ""

    @property
    def empty(self) -> bool:
        return self.k is None

    @property
    def silhouette(self) -> float:
        """Silhouette of the chosen k (NaN when empty)."""
        return math.nan if self.k is None else self.silhouettes[self.k]


def _empty_profile() -> pd.DataFrame:
    frame = pd.DataFrame(columns=list(PROFILE_COLUMNS))
    frame.index.name = GROUP_NAME
    return frame


def _empty_result(n: int, reason: str, silhouettes: dict[int, float] | None = None,
                  sample_size: int = 0) -> ClusterResult:
    labels = pd.Series([], dtype=object, name=GROUP_NAME,
                       index=pd.Index([], dtype=object, name=C.CUSTOMER_ID))
    return ClusterResult(labels, None, dict(silhouettes or {}), _empty_profile(), n, sample_size,
                         reason)


def behaviour_features(rfm: pd.DataFrame) -> np.ndarray:
    """Standardised ``log1p`` of recency, frequency and monetary (clipped at 0), n × 3.

    Each column is centred on its mean and divided by its (population) standard
    deviation; a constant column becomes all zeros.
    """
    raw = np.column_stack([
        np.log1p(rfm[RECENCY_DAYS].to_numpy(dtype="float64")),
        np.log1p(rfm[FREQUENCY].to_numpy(dtype="float64")),
        np.log1p(np.clip(rfm[MONETARY].to_numpy(dtype="float64"), 0, None)),
    ]) if len(rfm) else np.empty((0, 3))
    if len(raw) == 0:
        return raw
    std = raw.std(axis=0)
    return (raw - raw.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _words(centre: np.ndarray) -> str:
    """Plain name of a group from its centre ``(z_recency, z_frequency, z_monetary)``."""
    z_r, z_f, z_m = centre
    parts = []
    if z_r <= -NAME_THRESHOLD:
        parts.append("recent")
    elif z_r >= NAME_THRESHOLD:
        parts.append("lapsing")
    if z_f >= NAME_THRESHOLD:
        parts.append("frequent")
    elif z_f <= -NAME_THRESHOLD:
        parts.append("occasional")
    if z_m >= NAME_THRESHOLD:
        parts.append("high spenders")
    elif z_m <= -NAME_THRESHOLD:
        parts.append("low spenders")
    else:
        parts.append("mid spenders")
    text = " ".join(parts)
    return text[0].upper() + text[1:]


def _qualifier(profile_row: pd.Series, dim: int) -> str:
    if dim == 0:
        return f"last order ~{profile_row[RECENCY_MEDIAN]:.0f} days ago"
    if dim == 1:
        return f"~{profile_row[FREQUENCY_MEAN]:.1f} orders"
    return f"~{profile_row[MONETARY_MEAN]:,.0f} spent"


def _group_names(centres: np.ndarray, profile: pd.DataFrame) -> list[str]:
    """Unique plain names, one per group (row of ``centres``, in group order).

    Groups whose words coincide get the typical value of the dimension in which their
    centres differ most, e.g. ``"Lapsing low spenders (last order ~200 days ago)"``;
    a group number is added in the unlikely case that this still does not separate them.
    """
    names = [_words(c) for c in centres]
    for name in set(names):
        same = [i for i, n in enumerate(names) if n == name]
        if len(same) < 2:
            continue
        dim = int(np.argmax(np.ptp(centres[same], axis=0)))
        for i in same:
            names[i] = f"{name} ({_qualifier(profile.iloc[i], dim)})"
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        seen[name] = seen.get(name, 0) + 1
    return [f"{n} (group {i + 1})" if seen[n] > 1 else n for i, n in enumerate(names)]


def _feasible_k(k_range, n: int, n_distinct: int) -> list[int]:
    """k values that can be fitted and scored: 2 ≤ k, at least 2 customers per group on
    average (2k ≤ n) and no more groups than distinct customers."""
    return sorted({int(k) for k in k_range
                   if 2 <= int(k) and 2 * int(k) <= n and int(k) <= n_distinct})


def behaviour_clusters(facts: pd.DataFrame, end: pd.Timestamp | str, k_range=(3, 4, 5),
                       seed: int = 0) -> ClusterResult:
    """Behaviour groups: k-means on the customers' recency, frequency and monetary value.

    Method
    ------
    1. Customers: those with an order in the 365 days before ``end`` (as in
       :func:`rfm_scores`). Features: ``log1p`` of ``recency_days``, ``frequency`` and
       ``monetary`` (clipped at 0), each standardised (mean 0, standard deviation 1).
    2. For each feasible k of ``k_range``: ``KMeans(k, n_init=10, random_state=seed)`` on
       every customer, run on one thread (above :data:`KMEANS_SAMPLE` customers the
       centres come from a seeded sample of that size); silhouette score (−1..1, higher = better
       separated) on one fixed random sample of at most 5,000 customers (drawn once with
       ``seed``, the same for every k). Feasible: ``2 ≤ k``, ``2k ≤ n`` and ``k ≤`` the
       number of distinct customers.
    3. The k with the highest silhouette wins (ties: the smaller k).
    4. Groups are numbered 1..k by mean ``monetary`` (highest first) and named from their
       centre in standard deviations: recency ≤ −0.5 "recent", ≥ +0.5 "lapsing";
       frequency ≥ +0.5 "frequent", ≤ −0.5 "occasional"; monetary ≥ +0.5 "high spenders",
       ≤ −0.5 "low spenders", otherwise "mid spenders" — e.g. "Recent frequent high
       spenders", "Lapsing low spenders". Equal names are told apart by their typical
       value (see :func:`_group_names`).

    Parameters
    ----------
    facts
        Output of :func:`segreport.data.facts.customer_facts` for a period ending at ``end``.
    end
        The period end (exclusive).
    k_range
        Numbers of groups to try.
    seed
        Seed of k-means and of the silhouette sample; the same seed gives the same result.

    Returns
    -------
    ClusterResult
        Empty (``k is None``, ``reason`` says why) when no k of ``k_range`` is feasible
        or no silhouette could be computed.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    rfm = rfm_base(facts, end)
    n = len(rfm)
    tried = ", ".join(str(k) for k in k_range)
    if n == 0:
        return _empty_result(0, "no customer ordered in the 12 months before the period end")
    x = behaviour_features(rfm)
    n_distinct = len(np.unique(x.round(12), axis=0))
    ks = _feasible_k(k_range, n, n_distinct)
    if not ks:
        return _empty_result(
            n, f"too few customers to form {tried} groups: {n:,} customers "
               f"({n_distinct:,} distinct) with an order in the 12 months before the period "
               "end; each group needs 2 customers on average")

    rng = np.random.default_rng(seed)
    sample = (np.sort(rng.choice(n, SILHOUETTE_SAMPLE, replace=False))
              if n > SILHOUETTE_SAMPLE else np.arange(n))
    fits: dict[int, np.ndarray] = {}
    silhouettes: dict[int, float] = {}
    # One thread: as fast as two on a busy machine (OpenMP threads spin when cores are
    # shared) and the same floating-point sums on every machine.
    fit_rows = (np.sort(rng.choice(n, KMEANS_SAMPLE, replace=False))
                if n > KMEANS_SAMPLE else None)
    with threadpool_limits(limits=1):
        for k in ks:
            model = KMeans(n_clusters=k, n_init=10, random_state=seed)
            if fit_rows is None:
                labels = model.fit_predict(x)
            else:  # centres from a seeded sample, every customer assigned to the nearest
                labels = model.fit(x[fit_rows]).predict(x)
            fits[k] = labels
            in_sample = labels[sample]
            distinct = len(np.unique(in_sample))
            silhouettes[k] = (float(silhouette_score(x[sample], in_sample))
                              if 2 <= distinct <= len(sample) - 1 else math.nan)
    scored = {k: s for k, s in silhouettes.items() if not math.isnan(s)}
    if not scored:
        return _empty_result(n, f"no silhouette could be computed for k = {tried} "
                                "(the customers are too alike)", silhouettes, len(sample))
    best = max(scored.values())
    k = min(kk for kk, s in scored.items() if s == best)
    raw_labels = fits[k]

    # Number the groups by mean monetary value, highest first (ties: lower k-means label).
    used = np.unique(raw_labels)
    means = np.array([rfm[MONETARY].to_numpy()[raw_labels == lab].mean() for lab in used])
    ranked = used[np.lexsort((used, -means))]
    number = np.empty(ranked.max() + 1, dtype="int64")
    number[ranked] = np.arange(1, len(ranked) + 1)
    group = number[raw_labels]

    profile = _profile(rfm, group, len(ranked))
    centres = np.array([x[group == g].mean(axis=0) for g in range(1, len(ranked) + 1)])
    names = _group_names(centres, profile)
    profile.index = pd.Index(names, name=GROUP_NAME)
    labels = pd.Series(pd.Categorical(np.array(names, dtype=object)[group - 1],
                                      categories=names, ordered=True),
                       index=rfm.index, name=GROUP_NAME)
    return ClusterResult(labels, k, silhouettes, profile, n, len(sample))


def _profile(rfm: pd.DataFrame, group: np.ndarray, k: int) -> pd.DataFrame:
    """Size, share, mean/median R, F, M and dominant own segment of groups ``1..k``."""
    frame = rfm.assign(**{GROUP: group})
    by = frame.groupby(GROUP)
    stats = by[[RECENCY_DAYS, FREQUENCY, MONETARY]].agg(["mean", "median"])
    size = by.size()
    seg_counts = frame.groupby([GROUP, C.SEGMENT]).size().unstack(fill_value=0)
    # dominant segment: the most customers; ties by segment name
    seg_counts = seg_counts[sorted(seg_counts.columns)]
    dominant = seg_counts.idxmax(axis=1)
    dominant_n = seg_counts.max(axis=1)
    out = pd.DataFrame({
        GROUP: np.arange(1, k + 1),
        CUSTOMERS: size.reindex(range(1, k + 1)).to_numpy().astype("int64"),
    })
    out[SHARE] = out[CUSTOMERS] / len(rfm) * 100
    for col, mean_col, median_col in ((RECENCY_DAYS, RECENCY_MEAN, RECENCY_MEDIAN),
                                      (FREQUENCY, FREQUENCY_MEAN, FREQUENCY_MEDIAN),
                                      (MONETARY, MONETARY_MEAN, MONETARY_MEDIAN)):
        out[mean_col] = stats[(col, "mean")].to_numpy()
        out[median_col] = stats[(col, "median")].to_numpy()
    out[DOMINANT_SEGMENT] = dominant.to_numpy().astype(object)
    out[DOMINANT_SHARE] = dominant_n.to_numpy() / out[CUSTOMERS].to_numpy() * 100
    return out[list(PROFILE_COLUMNS)]


def segmentation_kpis(result: ClusterResult, segment_label: str = C.ALL_SEGMENTS) -> pd.DataFrame:
    """Tidy KPI rows of a behaviour segmentation.

    * ``segment_count`` — the chosen number of groups k (unit ``segments``); 3–5 distinct
      groups is the usual target;
    * ``segment_separation`` — the silhouette score of the chosen k (unit
      ``silhouette (-1..1)``): the mean over customers of ``(b − a) / max(a, b)``, ``a`` the
      mean distance to the own group, ``b`` to the nearest other group, in the
      standardised feature space; above ~0.5 well separated, below ~0.25 weak.

    Both are empty (NaN) with the reason in ``note`` when the result is empty; both carry
    ``small_sample`` when fewer than 30 customers were clustered.
    """
    n = result.n_customers
    small = is_small(n)
    if result.empty:
        note = f"not defined: {result.reason}"
        return to_frame([
            kpi_row(SEGMENT_COUNT, segment_label, math.nan, "segments", note=note,
                    small_sample=small, defined=False),
            kpi_row(SEGMENT_SEPARATION, segment_label, math.nan, "silhouette (-1..1)", note=note,
                    small_sample=small, defined=False),
        ])
    tried = ", ".join(f"{k}: {s:.2f}" for k, s in sorted(result.silhouettes.items()))
    return to_frame([
        kpi_row(SEGMENT_COUNT, segment_label, result.k, "segments", numerator=result.k,
                denominator=n,
                note=f"k-means on recency, frequency and monetary value of {n:,} customers; "
                     f"k chosen by silhouette ({tried})",
                small_sample=small),
        kpi_row(SEGMENT_SEPARATION, segment_label, result.silhouette, "silhouette (-1..1)",
                denominator=result.sample_size,
                note=f"silhouette of k = {result.k} on a sample of {result.sample_size:,} "
                     f"of {n:,} customers",
                small_sample=small),
    ])


# --- migration ----------------------------------------------------------------------------
def _label_order(*series: pd.Series) -> list[str]:
    """Categories in their categorical order (first series first), else sorted."""
    order: list[str] = []
    plain: set[str] = set()
    for s in series:
        if isinstance(s.dtype, pd.CategoricalDtype):
            order += [str(c) for c in s.cat.categories if str(c) not in order]
        else:
            plain |= {str(v) for v in s.dropna().unique()}
    return order + sorted(plain - set(order) - {NONE_LABEL})


def segment_migration(prev_labels: pd.Series, labels: pd.Series) -> pd.DataFrame:
    """Customers moving between segments from one period to the next, as counts.

    Parameters
    ----------
    prev_labels, labels
        Segment (RFM segment, behaviour group, ...) per customer, indexed by
        ``customer_id``, of the previous and of this period. A customer missing from one
        side, or with an empty label, counts as ``(none)`` on that side.

    Returns
    -------
    Square DataFrame of counts: rows = previous segment (index name ``previous``),
    columns = this period's segment (``current``), the same labels on both axes in the
    categorical order of the inputs (else sorted) with ``(none)`` last. Row ``(none)``
    holds the customers who entered, column ``(none)`` those who left; the cell
    ``(none) → (none)`` is 0.
    """
    order = _label_order(prev_labels, labels) + [NONE_LABEL]
    both = pd.concat([prev_labels.astype(object).rename("previous"),
                      labels.astype(object).rename("current")], axis=1, join="outer")
    both = both.where(both.notna(), NONE_LABEL).astype(str)
    counts = both.groupby(["previous", "current"]).size()
    matrix = (counts.unstack(fill_value=0)
              .reindex(index=order, columns=order, fill_value=0).astype("int64"))
    matrix.index.name, matrix.columns.name = "previous", "current"
    return matrix


def migration_shares(matrix: pd.DataFrame) -> pd.DataFrame:
    """Row percentages of a migration matrix: of the customers in a previous segment, the
    % in each segment now. Rows sum to 100; an empty row is NaN."""
    totals = matrix.sum(axis=1)
    return matrix.div(totals.where(totals > 0), axis=0) * 100


__all__ = ["RFM_CONVENTION", "RFM_SEGMENTS", "RFM_GRID", "ClusterResult", "rfm_base",
           "rfm_scores", "rfm_segment_counts", "rfm_segment_names", "ntile_scores",
           "behaviour_clusters", "behaviour_features", "segmentation_kpis",
           "segment_migration", "migration_shares", "SEGMENT_COUNT", "SEGMENT_SEPARATION",
           "NONE_LABEL"]
