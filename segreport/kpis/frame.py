"""The tidy KPI frame every KPI family returns, and the helpers that build its rows.

Columns: ``kpi, segment, value, numerator, denominator, unit, band, note, ci_low, ci_high,
small_sample, defined``. ``defined`` is False when the KPI cannot be computed: ``value`` is
then empty (NaN) and ``note`` says why (``not defined: …``). ``ci_low``/``ci_high`` bound a
95 % interval where the KPI is a proportion or a mean of a sample (NaN otherwise);
``small_sample`` flags a base too small to trust.
"""
from __future__ import annotations

import math

import pandas as pd

from segreport import columns as C
from segreport.kpis.spec import band_for, kpi_spec
from segreport.kpis.stats import is_small, wilson_interval


def kpi_row(kpi: str, segment: str, value: float, unit: str, numerator: float = math.nan,
            denominator: float = math.nan, note: str = "", ci_low: float = math.nan,
            ci_high: float = math.nan, small_sample: bool = False, defined: bool = True) -> dict:
    """One row of the tidy frame; the band is looked up from the KPI's spec. ``defined``
    False: the KPI cannot be computed for the row (see the module's docstring)."""
    return {C.KPI: kpi, C.SEGMENT: segment, C.VALUE: float(value), C.NUMERATOR: float(numerator),
            C.DENOMINATOR: float(denominator), C.UNIT: unit, C.BAND: band_for(kpi, value),
            C.NOTE: note, C.CI_LOW: float(ci_low), C.CI_HIGH: float(ci_high),
            C.SMALL_SAMPLE: bool(small_sample), C.DEFINED: bool(defined)}


def ratio_row(kpi: str, segment: str, numerator: float, denominator: float, *,
              unit: str | None = None, scale: float = 100.0, when_zero: str = "") -> dict:
    """``numerator / denominator × scale``; empty with a note when the denominator is 0.

    ``unit`` defaults to the KPI's unit in its spec (:func:`segreport.kpis.spec.kpi_spec`).
    """
    unit = kpi_spec(kpi).unit if unit is None else unit
    if denominator == 0 or pd.isna(denominator):
        return kpi_row(kpi, segment, math.nan, unit, numerator, denominator,
                       note=f"not defined: {when_zero or 'denominator is 0'}", defined=False)
    return kpi_row(kpi, segment, numerator / denominator * scale, unit, numerator, denominator)


def proportion_row(kpi: str, segment: str, successes: float, n: float, *,
                   when_zero: str = "") -> dict:
    """``successes / n × 100`` (the KPI's unit from its spec, a percentage) with its Wilson
    95 % interval and the small-sample flag."""
    row = ratio_row(kpi, segment, successes, n, when_zero=when_zero)
    if n > 0:
        low, high = wilson_interval(successes, n)
        row.update({C.CI_LOW: low, C.CI_HIGH: high, C.SMALL_SAMPLE: is_small(n)})
    return row


def to_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(C.KPI_FRAME_COLUMNS))
