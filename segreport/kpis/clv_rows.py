"""The predictive KPIs as tidy rows: the mean per customer of each prediction, per segment
and ``All``; the unit of each comes from its spec."""
from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from segreport import columns as C
from segreport.kpis.frame import kpi_row, to_frame
from segreport.kpis.ids import PREDICTIVE_KPIS
from segreport.kpis.spec import units
from segreport.kpis.stats import is_small
from segreport.segments import sorted_segments

UNITS = units(PREDICTIVE_KPIS)
"""The unit of each predictive KPI, as written in the ``unit`` column (from its spec)."""


def report_segments(per_customer: pd.DataFrame, segments: Iterable[str] | None) -> list[str]:
    """The segments of the customers and those ``segments`` lists, sorted."""
    present = set(pd.unique(per_customer[C.SEGMENT]))
    listed = set(segments) if segments is not None else set()
    return sorted_segments(present | listed)


def predictive_rows(per_customer: pd.DataFrame, segments: list[str], notes: dict[str, str],
                    ok: dict[str, bool]) -> pd.DataFrame:
    """Mean per customer of each KPI (the column of the same name of ``per_customer``), per
    segment and ``All``; empty with the KPI's note where not ``ok``."""
    rows = []
    for kpi in PREDICTIVE_KPIS:
        for segment in [*segments, C.ALL_SEGMENTS]:
            mine = (per_customer if segment == C.ALL_SEGMENTS
                    else per_customer[per_customer[C.SEGMENT] == segment])
            n = len(mine)
            if not ok[kpi]:
                rows.append(kpi_row(kpi, segment, math.nan, UNITS[kpi], denominator=n,
                                    note=notes[kpi], defined=False))
            elif n == 0:
                rows.append(kpi_row(kpi, segment, math.nan, UNITS[kpi], denominator=0,
                                    note="not defined: no customer of the segment has a "
                                         "purchase before the period end", defined=False))
            else:
                total = float(mine[kpi].sum())
                rows.append(kpi_row(kpi, segment, total / n, UNITS[kpi], numerator=total,
                                    denominator=n, note=notes[kpi], small_sample=is_small(n)))
    return to_frame(rows)


__all__ = ["UNITS", "predictive_rows", "report_segments"]
