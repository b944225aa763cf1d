"""The voice KPIs' formulas: one function per KPI giving one row of the tidy frame for
one segment (or ``All``), from its responses or from their :func:`survey_counts`; the unit
of each comes from its spec."""
from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from segreport import columns as C
from segreport.kpis import ids
from segreport.kpis.frame import kpi_row, proportion_row
from segreport.kpis.spec import units
from segreport.kpis.stats import Z95, is_small
from segreport.kpis.voice.responses import survey_counts
from segreport.kpis.voice.scores import nps_change_interval, nps_interval, nps_value, rescale_1_to_5

UNITS = units(ids.VOICE_KPIS)
"""The unit of each voice KPI, as written in the ``unit`` column (from its spec)."""

AWARENESS = "awareness"
PERCEIVED_QUALITY_COMPONENT = "perceived quality"
NPS_COMPONENT = "NPS"

_NO_RESPONSES = "no survey responses in the period"


def empty_row(kpi: str, segment: str, why: str, denominator: float = math.nan) -> dict:
    """An empty row of ``kpi`` (value NaN, not defined, the unit of its spec): ``not
    defined: why``."""
    return kpi_row(kpi, segment, math.nan, UNITS[kpi], denominator=denominator,
                   note=f"not defined: {why}", defined=False)


def nps_triple(counts) -> tuple[int, int, int]:
    """``(promoters, detractors, NPS answers)`` of :func:`survey_counts`."""
    return int(counts["promoters"]), int(counts["detractors"]), int(counts["nps_n"])


def csat_row(segment: str, responses: pd.DataFrame) -> dict:
    """``csat``: satisfied responses (CSAT 4–5) / responses with a CSAT score × 100 (%),
    with its Wilson 95 % interval."""
    return csat_row_from_counts(segment, survey_counts(responses))


def csat_row_from_counts(segment: str, counts) -> dict:
    """:func:`csat_row` from :func:`survey_counts`."""
    return proportion_row(ids.CSAT, segment, int(counts["satisfied"]), int(counts["csat_n"]),
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
        return empty_row(ids.CSI, segment,
                      "no survey responses with a CSAT score in the period", denominator=0)
    mean = counts["csat_sum"] / n
    low = high = math.nan
    if n >= 2:
        var = max(0.0, (counts["csat_sumsq"] - counts["csat_sum"] ** 2 / n) / (n - 1))
        half = Z95 * math.sqrt(var / n)
        low, high = max(0.0, rescale_1_to_5(mean - half)), min(100.0, rescale_1_to_5(mean + half))
    return kpi_row(ids.CSI, segment, rescale_1_to_5(mean), UNITS[ids.CSI], denominator=n,
                   ci_low=low, ci_high=high, small_sample=is_small(n))


def nps_row(segment: str, responses: pd.DataFrame) -> dict:
    """``nps``: % promoters − % detractors (points), numerator promoters − detractors,
    denominator answers, with :func:`nps_interval`."""
    return nps_row_from_counts(segment, survey_counts(responses))


def nps_row_from_counts(segment: str, counts) -> dict:
    """:func:`nps_row` from :func:`survey_counts`."""
    promoters, detractors, n = nps_triple(counts)
    if n == 0:
        return empty_row(ids.NPS, segment, _NO_RESPONSES, denominator=0)
    low, high = nps_interval(promoters, detractors, n)
    return kpi_row(ids.NPS, segment, nps_value(promoters, detractors, n), UNITS[ids.NPS],
                   numerator=promoters - detractors, denominator=n, ci_low=low, ci_high=high,
                   small_sample=is_small(n))


def nps_change_row(segment: str, current: pd.DataFrame, previous: pd.DataFrame) -> dict:
    """``nps_change``: NPS(period) − NPS(previous period) in points, with
    :func:`nps_change_interval`; small when either period has fewer than 30 answers."""
    return nps_change_row_from_counts(segment, survey_counts(current), survey_counts(previous))


def nps_change_row_from_counts(segment: str, current, previous) -> dict:
    """:func:`nps_change_row` from the :func:`survey_counts` of both periods."""
    now, before = nps_triple(current), nps_triple(previous)
    if now[2] == 0 or before[2] == 0:
        where = ("either period" if now[2] == before[2] == 0
                 else "the period" if now[2] == 0 else "the previous period")
        return empty_row(ids.NPS_CHANGE, segment, f"no survey responses in {where}")
    low, high = nps_change_interval(now, before)
    return kpi_row(ids.NPS_CHANGE, segment, nps_value(*now) - nps_value(*before),
                   UNITS[ids.NPS_CHANGE], ci_low=low, ci_high=high,
                   small_sample=is_small(now[2]) or is_small(before[2]))


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


def brand_equity_components_from_counts(counts) -> dict[str, float]:
    """:func:`brand_equity_components` from :func:`survey_counts`."""
    out: dict[str, float] = {}
    if counts["aware_n"] > 0:
        out[AWARENESS] = counts["aware_sum"] / counts["aware_n"] * 100.0
    if counts["quality_n"] > 0:
        out[PERCEIVED_QUALITY_COMPONENT] = rescale_1_to_5(counts["quality_sum"] / counts["quality_n"])
    promoters, detractors, n = nps_triple(counts)
    if n:
        out[NPS_COMPONENT] = (nps_value(promoters, detractors, n) + 100.0) / 2.0
    return out


def brand_equity_row(segment: str, responses: pd.DataFrame) -> dict:
    """``brand_equity_index``: mean of the available components of
    :func:`brand_equity_components` (index 0–100); the note lists the components used.
    Denominator: responses in the period. No interval (a composite)."""
    return brand_equity_row_from_counts(segment, survey_counts(responses))


def brand_equity_row_from_counts(segment: str, counts) -> dict:
    """:func:`brand_equity_row` from :func:`survey_counts`."""
    n = int(counts["responses"])
    if n == 0:
        return empty_row(ids.BRAND_EQUITY_INDEX, segment, _NO_RESPONSES, denominator=0)
    parts = brand_equity_components_from_counts(counts)
    if not parts:
        return empty_row(ids.BRAND_EQUITY_INDEX, segment,
                      "no brand-equity component has values in the period", denominator=n)
    value = sum(parts.values()) / len(parts)
    return kpi_row(ids.BRAND_EQUITY_INDEX, segment, value, UNITS[ids.BRAND_EQUITY_INDEX],
                   denominator=n, note=f"components: {', '.join(parts)}", small_sample=is_small(n))


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
    row = proportion_row(ids.CUSTOMER_INSIGHT_PENETRATION, segment, hits, active_end,
                         when_zero="no customers were active at the period end")
    if not has_profile:
        extra = "no profile columns in the customers table: only the survey condition applies"
        row[C.NOTE] = f"{row[C.NOTE]}; {extra}" if row[C.NOTE] else extra
    return row
