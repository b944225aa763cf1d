"""The KPI panel: every KPI × segment × business unit × quarter, from the engine's sums.

The engine (:mod:`segreport.engine.panel`) reduces the data to a few numbers per business
unit, segment and quarter (customers active at the start and end, new, revenue, margins,
survey counts). Every KPI of the base, value and voice families is computed from those
numbers by the same row functions the per-customer path uses
(:func:`segreport.kpis.base.base_kpis_from_totals`,
:func:`segreport.kpis.value.value_kpis_from_totals`, the ``*_from_counts`` rows of
:mod:`segreport.kpis.voice`), so both give the same values. A unit's (and the whole
business's) numbers are sums over disjoint customers; ``All`` is computed from those sums
exactly as a segment is, never from segment values.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from segreport import columns as C
from segreport.kpis import voice as V
from segreport.kpis.base import base_kpis_from_totals
from segreport.kpis.frame import to_frame
from segreport.kpis.value import gross_margin_note, value_kpis_from_totals

QUARTER = C.QUARTER
ALL_UNITS = ""
"""The business unit of the whole-business rows (``All`` in ``kpis.csv``)."""
_MARGINS = ("margin", "new_margin")
_SUMS = ("start", "end", "kept", "new", "revenue", "orders", "margin", "new_margin",
         "new_revenue", "insight_hits")


def unit_rows(frame: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Rows of one business unit (``""``: every unit)."""
    return frame if unit == ALL_UNITS else frame[frame[C.BUSINESS_UNIT] == unit]


def totals_by_segment(sums: pd.DataFrame, segments: list[str], columns=_SUMS) -> pd.DataFrame:
    """Per segment (every one of ``segments``, zeros where absent) and a last row ``All``:
    the sums of ``columns`` over ``sums``' rows (any number of units).

    Margins stay NaN for a segment without rows (unknown, not zero); every other sum is 0.
    """
    cols = list(columns)
    if not len(sums):
        by = pd.DataFrame(index=pd.Index(segments, name=C.SEGMENT), columns=cols, dtype="float64")
        all_row = pd.Series(0.0, index=cols)
    else:
        by = sums.groupby(C.SEGMENT)[cols].sum(min_count=1).reindex(segments)
        all_row = sums[cols].sum(min_count=1)
    by = by.fillna({c: 0.0 for c in cols if c not in _MARGINS})
    out = pd.concat([by, all_row.to_frame(C.ALL_SEGMENTS).T])
    out.index.name = by.index.name
    return out


def _with_margin(totals: pd.DataFrame, gross_margin_pct: float) -> tuple[pd.DataFrame, str]:
    """``totals`` with gross margins: the orders' margin column when known, else revenue ×
    ``gross_margin_pct`` / 100 (and its note)."""
    out = totals.copy()
    known = out["margin"].notna().all()
    if not known:
        out["margin"] = out["revenue"] * gross_margin_pct / 100
        out["new_margin"] = out["new_revenue"] * gross_margin_pct / 100
    counts = ("start", "end", "kept", "new", "orders")
    out[list(counts)] = out[list(counts)].astype("int64")
    out["revenue"] = out["revenue"].astype("float64").round(6) + 0.0
    return out, gross_margin_note(known, gross_margin_pct)


def voice_rows(counts: pd.DataFrame, previous: pd.DataFrame, totals: pd.DataFrame,
               has_profile: bool) -> list[dict]:
    """The survey KPIs per segment of ``totals`` (index, ``All`` last) from the survey
    counts of the quarter and of the one before (indexed by segment)."""
    zero = dict.fromkeys(C.SURVEY_COUNTS, 0.0)
    rows = []
    for segment, t in totals.iterrows():
        now = counts.loc[segment] if segment in counts.index else pd.Series(zero)
        before = previous.loc[segment] if segment in previous.index else pd.Series(zero)
        rows += [V.csat_row_from_counts(segment, now), V.csi_row_from_counts(segment, now),
                 V.nps_row_from_counts(segment, now),
                 V.nps_change_row_from_counts(segment, now, before),
                 V.brand_equity_row_from_counts(segment, now),
                 V.insight_penetration_from_counts(segment, int(t["insight_hits"]), int(t["end"]),
                                                   has_profile)]
    return rows


def _survey_totals(survey: pd.DataFrame, unit: str, quarter: int, segments: list[str]) -> pd.DataFrame:
    rows = unit_rows(survey, unit)
    rows = rows[rows["quarter_index"] == quarter]
    out = totals_by_segment(rows, segments, C.SURVEY_COUNTS)
    for key in ("aware", "quality"):  # absent column: NaN, not 0
        if rows[f"{key}_n"].isna().all():
            out[f"{key}_n"] = out[f"{key}_sum"] = math.nan
    return out


def kpi_panel(sums: pd.DataFrame, survey: pd.DataFrame | None, small: Mapping[str, pd.DataFrame],
              quarters: list[int], units: list[str], segments: Mapping[str, list[str]],
              gross_margin_pct: float = 30.0, has_profile: bool = True,
              first_data_quarter: int = 0) -> pd.DataFrame:
    """Every KPI × segment × unit × quarter.

    Parameters
    ----------
    sums
        :func:`segreport.engine.panel.segment_totals` (per unit, segment, quarter index),
        covering the quarter before the first of ``quarters`` too.
    survey
        :func:`segreport.engine.surveys.survey_counts`, or ``None`` without surveys.
    small
        The period tables (marketing spend, market size, segmentation costs) present.
    quarters
        Quarter indices to compute.
    units
        Business units; ``""`` is the whole business.
    segments
        Per unit, its segments (those with a customer).
    first_data_quarter
        The quarter of the first order: a quarter before it has no facts, so the first
        quarter's CLV growth is empty when it is the data's first.

    Returns
    -------
    The tidy KPI frame (:data:`segreport.columns.KPI_FRAME_COLUMNS`) with ``quarter``
    (``YYYYQn``) and ``business_unit`` (``""`` for the whole business) in front, and
    ``previous_value``: the same KPI, unit and segment in the previous quarter.
    """
    from segreport.engine.panel import quarter_labels

    frames = []
    for unit in units:
        mine = unit_rows(sums, unit)
        segs = segments[unit]
        first = quarters[0] - 1
        previous = None
        surveyed: dict[int, pd.DataFrame] = {}  # survey totals by quarter index
        if first >= first_data_quarter:
            previous = _with_margin(totals_by_segment(mine[mine["quarter_index"] == first], segs),
                                    gross_margin_pct)
        for q in quarters:
            label = quarter_labels([q])[0]
            totals, note = _with_margin(totals_by_segment(mine[mine["quarter_index"] == q], segs),
                                        gross_margin_pct)
            parts = [base_kpis_from_totals(totals),
                     value_kpis_from_totals(totals, note, previous, small, label, unit,
                                            len(segs))]
            if survey is not None:
                before = surveyed.get(q - 1)
                if before is None:
                    before = _survey_totals(survey, unit, q - 1, segs)
                now = surveyed[q] = _survey_totals(survey, unit, q, segs)
                parts.append(to_frame(voice_rows(now, before, totals, has_profile)))
            frame = pd.concat([p for p in parts if len(p)], ignore_index=True)
            frame.insert(0, C.BUSINESS_UNIT, unit)
            frame.insert(0, QUARTER, label)
            frames.append(frame)
            previous = (totals, note)
    panel = pd.concat(frames, ignore_index=True)
    return with_previous_quarter(panel)


def with_previous_quarter(panel: pd.DataFrame) -> pd.DataFrame:
    """``panel`` with ``previous_value``: the value of the same KPI, unit and segment in the
    quarter before (NaN where that quarter is not in the panel)."""
    from segreport.period import Period

    key = [C.KPI, C.BUSINESS_UNIT, C.SEGMENT, QUARTER]
    prev_label = {q: Period.parse(q).previous().label for q in panel[QUARTER].unique()}
    lookup = panel.set_index(key)[C.VALUE]
    wanted = pd.MultiIndex.from_arrays([panel[C.KPI], panel[C.BUSINESS_UNIT], panel[C.SEGMENT],
                                        panel[QUARTER].map(prev_label)])
    out = panel.copy()
    out[C.PREVIOUS_VALUE] = lookup.reindex(wanted).to_numpy()
    return out


def quarter_kpis_from_panel(panel: pd.DataFrame, quarter: str, unit: str) -> pd.DataFrame:
    """One quarter and unit of the KPI panel, in the tidy frame's columns plus
    ``previous_value``."""
    part = panel[(panel[QUARTER] == quarter) & (panel[C.BUSINESS_UNIT] == unit)]
    return part[list(C.KPI_FRAME_COLUMNS) + [C.PREVIOUS_VALUE]].reset_index(drop=True)


__all__ = ["ALL_UNITS", "QUARTER", "kpi_panel", "quarter_kpis_from_panel", "totals_by_segment",
           "unit_rows", "voice_rows", "with_previous_quarter"]
