"""Voice-of-the-customer KPIs from survey answers: satisfaction, NPS, brand equity, insight.

Notation for one segment (or ``All``, the whole unit) and the period ``P = [start, end)``:
``R`` is the set of survey responses dated in ``P`` whose customer is in the unit's facts
(responses of other customers belong to another business unit and are ignored). Each
response counts once, so a customer who answered twice weighs twice. A response belongs to
the segment its customer has in ``facts`` (the current period's segment, also for the
previous period's responses). ``All`` is computed from all responses and customers exactly
as a segment is, never from segment values.

NPS scores are 0–10: promoters answer 9–10, passives 7–8, detractors 0–6. CSAT scores are
1–5 and a response is *satisfied* with a 4 or 5. Intervals are two-sided 95 % intervals in
the KPI's own unit; ``small_sample`` flags a base of fewer than 30 responses (customers for
insight penetration).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import pandas as pd

from segreport import columns as C
from segreport.kpis.frame import PERCENT, kpi_row, proportion_row, to_frame

# --- KPI ids (column ``kpi`` of the tidy frame) ------------------------------------------
from segreport.kpis.ids import (  # noqa: E402
    BRAND_EQUITY_INDEX,
    CSAT,
    CSI,
    CUSTOMER_INSIGHT_PENETRATION,
    NPS,
    NPS_CHANGE,
    VOICE_KPIS,
)
from segreport.kpis.stats import Z95, is_small, mean_interval
from segreport.period import TRAILING_YEAR_DAYS
from segreport.segments import sorted_segments

# --- units ---------------------------------------------------------------------------------
INDEX_UNIT = "index (0-100)"
POINTS = "points"

# --- scale anchors ---------------------------------------------------------------------------
PROMOTER_MIN = 9  # NPS 9–10
DETRACTOR_MAX = 6  # NPS 0–6
SATISFIED_MIN = 4  # CSAT 4–5

AWARENESS = "awareness"
PERCEIVED_QUALITY_COMPONENT = "perceived quality"
NPS_COMPONENT = "NPS"

_NO_RESPONSES = "no survey responses in the period"
_NO_SURVEYS = "no survey data"


# --- small pure helpers ------------------------------------------------------------------
def rescale_1_to_5(score: float) -> float:
    """A score on the 1–5 scale mapped onto 0–100: ``(score − 1) / 4 × 100``.

    1 → 0, 3 → 50, 4 → 75, 5 → 100.
    """
    return (score - 1.0) / 4.0 * 100.0


def nps_counts(scores: Iterable[float]) -> tuple[int, int, int]:
    """``(promoters, detractors, n)`` of NPS answers (0–10); missing answers are skipped.

    Promoters answer 9–10, detractors 0–6; ``n`` counts every answer, passives included.
    """
    s = pd.Series(list(scores), dtype="float64").dropna()
    return int((s >= PROMOTER_MIN).sum()), int((s <= DETRACTOR_MAX).sum()), int(len(s))


def nps_value(promoters: float, detractors: float, n: float) -> float:
    """Net Promoter Score in points (−100..100): ``(promoters − detractors) / n × 100``.

    NaN when ``n`` is 0.
    """
    if n <= 0:
        return math.nan
    return (promoters - detractors) / n * 100.0


def nps_variance(promoters: float, detractors: float, n: float) -> float:
    """Variance of the NPS *as a fraction* (−1..1), from the multinomial distribution.

    With ``p⁺ = promoters / n`` and ``p⁻ = detractors / n``::

        var = [p⁺ + p⁻ − (p⁺ − p⁻)²] / n

    (the variance of one answer scored +1 / 0 / −1, divided by ``n``). NaN when ``n`` is 0.
    Multiply ``√var`` by 100 to get points.
    """
    if n <= 0:
        return math.nan
    pp, pd_ = promoters / n, detractors / n
    return (pp + pd_ - (pp - pd_) ** 2) / n


def nps_interval(promoters: float, detractors: float, n: float) -> tuple[float, float]:
    """95 % interval of the NPS, in points (Wald interval, multinomial variance).

    ``nps ± 1.96 × √var × 100`` with ``var`` from :func:`nps_variance` (1.96 is
    :data:`segreport.kpis.stats.Z95`), clipped to the scale's range −100..100.
    ``(nan, nan)`` when ``n`` is 0.

    Examples
    --------
    10 answers, 5 promoters and 2 detractors: NPS = 30; var = (0.5 + 0.2 − 0.3²) / 10 =
    0.061; half-width = 1.96 × √0.061 × 100 ≈ 48.4, so about (−18.4, 78.4).
    """
    if n <= 0:
        return math.nan, math.nan
    nps = nps_value(promoters, detractors, n)
    half = Z95 * math.sqrt(nps_variance(promoters, detractors, n)) * 100.0
    return max(-100.0, nps - half), min(100.0, nps + half)


def nps_change_interval(current: tuple[float, float, float],
                        previous: tuple[float, float, float]) -> tuple[float, float]:
    """95 % interval of ``NPS(current) − NPS(previous)`` in points, for independent samples.

    ``current`` and ``previous`` are ``(promoters, detractors, n)``. The change ± 1.96 ×
    √(var₁ + var₂) × 100, with each ``var`` from :func:`nps_variance`, clipped to
    −200..200. ``(nan, nan)`` when either ``n`` is 0.
    """
    if current[2] <= 0 or previous[2] <= 0:
        return math.nan, math.nan
    change = nps_value(*current) - nps_value(*previous)
    half = Z95 * math.sqrt(nps_variance(*current) + nps_variance(*previous)) * 100.0
    return max(-200.0, change - half), min(200.0, change + half)


def csi_interval(scores: Sequence[float]) -> tuple[float, float]:
    """95 % interval of the CSI: the interval of the mean CSAT (mean ± 1.96 × s / √n),
    both ends rescaled with :func:`rescale_1_to_5` and clipped to 0..100.

    ``(nan, nan)`` with fewer than 2 scores.
    """
    low, high = mean_interval(list(scores))
    if math.isnan(low):
        return math.nan, math.nan
    return max(0.0, rescale_1_to_5(low)), min(100.0, rescale_1_to_5(high))


def brand_equity_components(responses: pd.DataFrame) -> dict[str, float]:
    """The available brand-equity components of a set of responses, each on 0–100.

    * ``awareness`` — mean of ``aware`` (0/1) × 100 (recognition);
    * ``perceived quality`` — mean ``perceived_quality`` (1–5) rescaled, (mean − 1) / 4 × 100
      (perception);
    * ``NPS`` — (NPS + 100) / 2 (loyalty).

    A component whose column is absent or has no values among ``responses`` is left out, so
    the result may have 0 to 3 entries, in the order above.
    """
    return brand_equity_components_from_counts(survey_counts(responses))


def profile_columns(customers: pd.DataFrame | None) -> list[str]:
    """The columns of :data:`segreport.columns.PROFILE_COLUMNS` present in ``customers``."""
    if customers is None:
        return []
    return [c for c in C.PROFILE_COLUMNS if c in customers]


def profile_complete(customers: pd.DataFrame | None, index: pd.Index) -> pd.Series:
    """Per customer of ``index``: True when every profile column of ``customers`` is filled.

    A value is missing when it is NaN/None or blank text. A customer absent from
    ``customers`` has no profile (False). With no profile column at all every customer
    counts as complete (the condition is vacuous).
    """
    cols = profile_columns(customers)
    if not cols:
        return pd.Series(True, index=index)
    profile = customers.drop_duplicates(C.CUSTOMER_ID).set_index(C.CUSTOMER_ID)[cols]
    filled = profile.notna()
    for c in cols:
        if profile[c].dtype == object or pd.api.types.is_string_dtype(profile[c]):
            filled[c] &= profile[c].astype("string").str.strip().fillna("") != ""
    return filled.all(axis=1).reindex(index, fill_value=False).astype(bool)


def unit_responses(surveys: pd.DataFrame | None, facts: pd.DataFrame, start: pd.Timestamp,
                   end: pd.Timestamp) -> pd.DataFrame:
    """Responses dated in ``[start, end)`` of customers in ``facts``, with their ``segment``.

    Responses of customers not in ``facts`` (another business unit) are dropped. The
    input frames are not modified.
    """
    if surveys is None or surveys.empty:
        return pd.DataFrame(columns=[C.CUSTOMER_ID, C.RESPONSE_DATE, C.NPS, C.CSAT, C.SEGMENT])
    dates = surveys[C.RESPONSE_DATE]
    keep = (dates >= start) & (dates < end) & surveys[C.CUSTOMER_ID].isin(facts.index)
    out = surveys[keep].copy()
    out[C.SEGMENT] = out[C.CUSTOMER_ID].map(facts[C.SEGMENT])
    return out


# --- one row per KPI and segment -----------------------------------------------------------
def _empty(kpi: str, segment: str, unit: str, why: str, denominator: float = math.nan) -> dict:
    return kpi_row(kpi, segment, math.nan, unit, denominator=denominator,
                   note=f"not defined: {why}", defined=False)


def survey_counts(responses: pd.DataFrame) -> dict[str, float]:
    """:data:`segreport.columns.SURVEY_COUNTS` of a set of responses: ``responses`` rows;
    ``csat_n`` CSAT answers, ``satisfied`` those of 4–5, ``csat_sum`` and ``csat_sumsq`` their sum and sum
    of squares; ``nps_n`` NPS answers, ``promoters`` (9–10), ``detractors`` (0–6);
    ``aware_n``/``aware_sum`` and ``quality_n``/``quality_sum`` the answers and sums of
    the optional columns (``aware_n`` is NaN when the column is absent)."""
    csat = responses[C.CSAT].dropna() if C.CSAT in responses else pd.Series(dtype="float64")
    promoters, detractors, n_nps = nps_counts(responses[C.NPS] if C.NPS in responses else [])
    out = {"responses": len(responses), "csat_n": len(csat),
           "satisfied": int((csat >= SATISFIED_MIN).sum()), "csat_sum": float(csat.sum()),
           "csat_sumsq": float((csat ** 2).sum()), "nps_n": n_nps, "promoters": promoters,
           "detractors": detractors}
    for col, key in ((C.AWARE, "aware"), (C.PERCEIVED_QUALITY, "quality")):
        values = responses[col].dropna() if col in responses else None
        out[f"{key}_n"] = math.nan if values is None else len(values)
        out[f"{key}_sum"] = math.nan if values is None else float(values.sum())
    return out


def csat_row(segment: str, responses: pd.DataFrame) -> dict:
    """``csat``: satisfied responses (CSAT 4–5) / responses with a CSAT score × 100 (%),
    with its Wilson 95 % interval."""
    return csat_row_from_counts(segment, survey_counts(responses))


def csat_row_from_counts(segment: str, counts) -> dict:
    """:func:`csat_row` from :func:`survey_counts`."""
    return proportion_row(CSAT, segment, int(counts["satisfied"]), int(counts["csat_n"]),
                          when_zero="no survey responses with a CSAT score in the period")


def csi_row(segment: str, responses: pd.DataFrame) -> dict:
    """``csi``: (mean CSAT − 1) / 4 × 100 (index 0–100), with the rescaled interval of the
    mean."""
    return csi_row_from_counts(segment, survey_counts(responses))


def csi_row_from_counts(segment: str, counts) -> dict:
    """:func:`csi_row` from :func:`survey_counts`: mean = sum / n; the interval of the mean
    from the sample variance (sum of squares − sum² / n) / (n − 1)."""
    n = int(counts["csat_n"])
    if n == 0:
        return _empty(CSI, segment, INDEX_UNIT,
                      "no survey responses with a CSAT score in the period", denominator=0)
    mean = counts["csat_sum"] / n
    low = high = math.nan
    if n >= 2:
        var = max(0.0, (counts["csat_sumsq"] - counts["csat_sum"] ** 2 / n) / (n - 1))
        half = Z95 * math.sqrt(var / n)
        low, high = max(0.0, rescale_1_to_5(mean - half)), min(100.0, rescale_1_to_5(mean + half))
    return kpi_row(CSI, segment, rescale_1_to_5(mean), INDEX_UNIT, denominator=n, ci_low=low,
                   ci_high=high, small_sample=is_small(n))


def _nps_triple(counts) -> tuple[int, int, int]:
    return int(counts["promoters"]), int(counts["detractors"]), int(counts["nps_n"])


def nps_row(segment: str, responses: pd.DataFrame) -> dict:
    """``nps``: % promoters − % detractors (points), numerator promoters − detractors,
    denominator answers, with :func:`nps_interval`."""
    return nps_row_from_counts(segment, survey_counts(responses))


def nps_row_from_counts(segment: str, counts) -> dict:
    """:func:`nps_row` from :func:`survey_counts`."""
    promoters, detractors, n = _nps_triple(counts)
    if n == 0:
        return _empty(NPS, segment, POINTS, _NO_RESPONSES, denominator=0)
    low, high = nps_interval(promoters, detractors, n)
    return kpi_row(NPS, segment, nps_value(promoters, detractors, n), POINTS,
                   numerator=promoters - detractors, denominator=n, ci_low=low, ci_high=high,
                   small_sample=is_small(n))


def nps_change_row(segment: str, current: pd.DataFrame, previous: pd.DataFrame) -> dict:
    """``nps_change``: NPS(period) − NPS(previous period) in points, with
    :func:`nps_change_interval`; small when either period has fewer than 30 answers."""
    return nps_change_row_from_counts(segment, survey_counts(current), survey_counts(previous))


def nps_change_row_from_counts(segment: str, current, previous) -> dict:
    """:func:`nps_change_row` from the :func:`survey_counts` of both periods."""
    now, before = _nps_triple(current), _nps_triple(previous)
    if now[2] == 0 or before[2] == 0:
        where = ("either period" if now[2] == before[2] == 0
                 else "the period" if now[2] == 0 else "the previous period")
        return _empty(NPS_CHANGE, segment, POINTS, f"no survey responses in {where}")
    low, high = nps_change_interval(now, before)
    return kpi_row(NPS_CHANGE, segment, nps_value(*now) - nps_value(*before), POINTS,
                   ci_low=low, ci_high=high, small_sample=is_small(now[2]) or is_small(before[2]))


def brand_equity_row(segment: str, responses: pd.DataFrame) -> dict:
    """``brand_equity_index``: mean of the available components of
    :func:`brand_equity_components` (index 0–100); the note lists the components used.
    Denominator: responses in the period. No interval (a composite)."""
    return brand_equity_row_from_counts(segment, survey_counts(responses))


def brand_equity_components_from_counts(counts) -> dict[str, float]:
    """:func:`brand_equity_components` from :func:`survey_counts`."""
    out: dict[str, float] = {}
    if counts["aware_n"] > 0:
        out[AWARENESS] = counts["aware_sum"] / counts["aware_n"] * 100.0
    if counts["quality_n"] > 0:
        out[PERCEIVED_QUALITY_COMPONENT] = rescale_1_to_5(counts["quality_sum"] / counts["quality_n"])
    promoters, detractors, n = _nps_triple(counts)
    if n:
        out[NPS_COMPONENT] = (nps_value(promoters, detractors, n) + 100.0) / 2.0
    return out


def brand_equity_row_from_counts(segment: str, counts) -> dict:
    """:func:`brand_equity_row` from :func:`survey_counts`."""
    n = int(counts["responses"])
    if n == 0:
        return _empty(BRAND_EQUITY_INDEX, segment, INDEX_UNIT, _NO_RESPONSES, denominator=0)
    parts = brand_equity_components_from_counts(counts)
    if not parts:
        return _empty(BRAND_EQUITY_INDEX, segment, INDEX_UNIT,
                      "no brand-equity component has values in the period", denominator=n)
    value = sum(parts.values()) / len(parts)
    return kpi_row(BRAND_EQUITY_INDEX, segment, value, INDEX_UNIT, denominator=n,
                   note=f"components: {', '.join(parts)}", small_sample=is_small(n))


def insight_penetration_row(segment: str, active_end: pd.Index, responders: pd.Index,
                            complete: pd.Series, profile_cols: Sequence[str]) -> dict:
    """``customer_insight_penetration``: customers active at the end with a response in the
    trailing 365 days and a complete profile / customers active at the end × 100 (%), with
    its Wilson 95 % interval.

    Parameters
    ----------
    active_end
        Ids of the segment's customers active at the period end (the base).
    responders
        Ids of customers with a survey response dated in ``[end − 365 d, end)``.
    complete
        Per customer id, True when every profile column is filled
        (:func:`profile_complete`).
    profile_cols
        The profile columns checked; empty means only the survey condition applies.
    """
    hit = active_end.isin(responders) & complete.reindex(active_end, fill_value=False).to_numpy()
    return insight_penetration_from_counts(segment, int(hit.sum()), len(active_end),
                                           bool(profile_cols))


def insight_penetration_from_counts(segment: str, hits: int, active_end: int,
                                    has_profile: bool) -> dict:
    """:func:`insight_penetration_row` from the count of qualifying customers (``hits``)
    and of customers active at the period end."""
    row = proportion_row(CUSTOMER_INSIGHT_PENETRATION, segment, hits, active_end,
                         when_zero="no customers were active at the period end")
    if not has_profile:
        extra = "no profile columns in the customers table: only the survey condition applies"
        row[C.NOTE] = f"{row[C.NOTE]}; {extra}" if row[C.NOTE] else extra
    return row


# --- the family ----------------------------------------------------------------------------
def voice_kpis(facts: pd.DataFrame, surveys: pd.DataFrame | None,
               customers: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp,
               prev_start: pd.Timestamp, prev_end: pd.Timestamp) -> pd.DataFrame:
    """The survey KPIs per segment and for ``All``, as a tidy frame.

    Parameters
    ----------
    facts
        Output of :func:`segreport.data.facts.customer_facts` for the period (indexed by
        ``customer_id``; ``segment``, ``active_end`` are used).
    surveys
        ``customer_id, response_date, nps`` (0–10), ``csat`` (1–5) and optionally ``aware``
        (0/1), ``perceived_quality`` (1–5); validated. ``None`` or empty: every KPI is
        empty with the note "no survey data".
    customers
        The customers table (``customer_id`` and the profile columns present), or ``None``.
    start, end
        The period ``[start, end)``; responses dated in it count.
    prev_start, prev_end
        The previous period, for ``nps_change``.

    Returns
    -------
    DataFrame with columns ``kpi, segment, value, numerator, denominator, unit, band, note,
    ci_low, ci_high, small_sample``; for every segment of ``facts`` (sorted) and then
    ``All``, one row per KPI of :data:`VOICE_KPIS`:

    * ``csat`` responses with CSAT 4–5 / responses with a CSAT score × 100 (%), Wilson CI;
    * ``csi`` (mean CSAT − 1) / 4 × 100 (index 0–100), CI of the mean rescaled alike;
    * ``nps`` % promoters (9–10) − % detractors (0–6) (points), :func:`nps_interval`;
    * ``nps_change`` NPS − NPS of the previous period (points), :func:`nps_change_interval`;
    * ``brand_equity_index`` mean of awareness %, perceived quality rescaled to 0–100 and
      (NPS + 100) / 2, over the components available (index 0–100; note lists them);
    * ``customer_insight_penetration`` customers active at the end with a response in
      ``[end − 365 d, end)`` and every profile column filled / customers active at the end
      × 100 (%), Wilson CI.

    A KPI that cannot be computed (no responses, no active customers) has an empty value
    and a note saying why. ``small_sample`` flags fewer than 30 responses (customers).
    """
    segments = sorted_segments(facts[C.SEGMENT].unique())
    groups = [(s, facts[C.SEGMENT] == s) for s in segments]
    groups.append((C.ALL_SEGMENTS, pd.Series(True, index=facts.index)))

    if surveys is None or surveys.empty:
        units = {CSAT: PERCENT, CSI: INDEX_UNIT, NPS: POINTS, NPS_CHANGE: POINTS,
                 BRAND_EQUITY_INDEX: INDEX_UNIT, CUSTOMER_INSIGHT_PENETRATION: PERCENT}
        return to_frame([_empty(k, s, units[k], _NO_SURVEYS) for s, _ in groups
                         for k in VOICE_KPIS])

    current = unit_responses(surveys, facts, start, end)
    previous = unit_responses(surveys, facts, prev_start, prev_end)
    trailing = unit_responses(surveys, facts, end - pd.Timedelta(days=TRAILING_YEAR_DAYS), end)
    cols = profile_columns(customers)
    complete = profile_complete(customers, facts.index)

    rows = []
    for segment, member in groups:
        ids = facts.index[member.to_numpy()]
        now = current[current[C.CUSTOMER_ID].isin(ids)]
        before = previous[previous[C.CUSTOMER_ID].isin(ids)]
        active_end = facts.index[(member & facts[C.ACTIVE_END]).to_numpy()]
        responders = pd.Index(trailing.loc[trailing[C.CUSTOMER_ID].isin(ids), C.CUSTOMER_ID])
        rows += [
            csat_row(segment, now),
            csi_row(segment, now),
            nps_row(segment, now),
            nps_change_row(segment, now, before),
            brand_equity_row(segment, now),
            insight_penetration_row(segment, active_end, responders, complete, cols),
        ]
    return to_frame(rows)


__all__ = ["voice_kpis", "VOICE_KPIS", "CSAT", "CSI", "NPS", "NPS_CHANGE", "BRAND_EQUITY_INDEX",
           "CUSTOMER_INSIGHT_PENETRATION", "nps_interval", "nps_variance", "nps_value",
           "nps_counts", "nps_change_interval", "csi_interval", "rescale_1_to_5",
           "brand_equity_components", "profile_columns", "profile_complete", "unit_responses"]
