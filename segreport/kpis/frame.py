"""The tidy KPI frame every KPI family returns, and the helpers that build its rows.

Columns: ``kpi, segment, value, numerator, denominator, unit, band, note``. ``value`` is
empty (NaN) when the KPI cannot be computed, and ``note`` then says why.
"""
from __future__ import annotations

import math

import pandas as pd

from segreport import columns as C
from segreport.kpis.cards import band_for

PERCENT = "%"


def kpi_row(kpi: str, segment: str, value: float, unit: str, numerator: float = math.nan,
            denominator: float = math.nan, note: str = "") -> dict:
    """One row of the tidy frame; the band is looked up from the KPI's card."""
    return {C.KPI: kpi, C.SEGMENT: segment, C.VALUE: float(value), C.NUMERATOR: float(numerator),
            C.DENOMINATOR: float(denominator), C.UNIT: unit, C.BAND: band_for(kpi, value),
            C.NOTE: note}


def ratio_row(kpi: str, segment: str, numerator: float, denominator: float, *, unit: str = PERCENT,
              scale: float = 100.0, when_zero: str = "") -> dict:
    """``numerator / denominator × scale``; empty with a note when the denominator is 0."""
    if denominator == 0 or pd.isna(denominator):
        return kpi_row(kpi, segment, math.nan, unit, numerator, denominator,
                       note=f"not defined: {when_zero or 'denominator is 0'}")
    return kpi_row(kpi, segment, numerator / denominator * scale, unit, numerator, denominator)


def to_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(C.KPI_FRAME_COLUMNS))
