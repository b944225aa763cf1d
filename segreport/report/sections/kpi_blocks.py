"""The KPI tables: one compact block per KPI, a row per segment with its value, band,
interval and target, its changes on last quarter and a year ago and its trend, and the
notes under the blocks."""
from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from html import escape

import pandas as pd

from segreport import columns as C
from segreport.charts import BAD, GOOD, TEXT, band_color, sparkline_png
from segreport.formatting import format_change, format_value
from segreport.kpis import ids
from segreport.kpis.context import (
    CALLED_PREVIOUS,
    CALLED_YEAR,
    CHANGE_PREVIOUS,
    CHANGE_YEAR,
    HIGHER,
    LOWER,
    direction,
    kpi_context,
    trend,
)
from segreport.kpis.spec import kpi_spec, short_label
from segreport.palette import ALL_COLOR, segment_colors
from segreport.report.sections.html import TABLE
from segreport.segments import all_last

UP, DOWN = "▴", "▾"
_CHANGE_COLORS = {1: GOOD, -1: BAD, 0: TEXT}
"""Change colour by (direction × sign): better, worse, neither way better."""
BLOCK_WIDTH = 460
"""Widest a KPI's block may be (px): two side by side in the HTML, one on a 600 px phone."""
SPARK_WIDTH, SPARK_HEIGHT = 72, 20
KPI_BLOCK_CLASS = "segreport-kpi"
SPARK_CLASS = "segreport-spark"
_BCELL = "padding:3px 5px;border-bottom:1px solid #e5e5e5;text-align:right;white-space:nowrap"
"""A cell of a KPI block (styles inline, for the e-mail, and short: 11 blocks × 5 rows ×
5 cells go into its body)."""
_BHEAD = "padding:0 5px 2px;border-bottom:1px solid #bbb;text-align:right;font-size:10px;color:#666"


def _defined(kpis: pd.DataFrame | pd.Series):
    """The ``defined`` flag of a KPI row, or of every row of a frame (unknown: defined)."""
    if isinstance(kpis, pd.Series):
        flag = kpis.get(C.DEFINED, True)
        return True if pd.isna(flag) else bool(flag)
    return kpis[C.DEFINED].astype("boolean").fillna(True).astype(bool)


def _has_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _target_line(row: pd.Series) -> str:
    """``target 93.0%`` over ``on track`` (green) / ``off track`` (red), on two short lines
    that fit the value column; empty without a target."""
    target, status = row.get(C.TARGET, math.nan), row.get(C.STATUS, "")
    if pd.isna(target) and not _has_text(status):
        return ""
    color = GOOD if status == C.ON_TRACK else (BAD if status == C.OFF_TRACK else "#666")
    parts = ([f"target {format_value(target, row[C.UNIT])}"] if not pd.isna(target) else []) + \
        ([escape(str(status))] if _has_text(status) else [])
    return "".join(f"<br><span style='font-size:10.5px;color:{color};font-weight:600'>{part}</span>"
                   for part in parts)


def _value_cell(row: pd.Series | None, show_interval: bool) -> str:
    if row is None:
        return f"<td style='{_BCELL}'>—</td>"
    kpi, value, unit = row[C.KPI], row[C.VALUE], row[C.UNIT]
    text = format_value(value, unit, signed=kpi == ids.SEGMENT_GROWTH_RATE)
    style = _BCELL
    band = row[C.BAND]
    if bool(row.get(C.SMALL_SAMPLE, False)):
        text += " †"
    if not _defined(row):
        text += " *"
    if _has_text(band):
        color = band_color(kpi, band)
        style += f";background:{color}22;border-left:4px solid {color}"
        text += (f"<br><span style='font-size:10px;color:{color};font-weight:700;letter-spacing:.5px'>"
                 f"{escape(band.upper())}</span>")
    low, high = row.get(C.CI_LOW, math.nan), row.get(C.CI_HIGH, math.nan)
    if show_interval and not (pd.isna(low) or pd.isna(high)):
        text += (f"<br><span style='font-size:10.5px;color:#666'>{format_value(low, unit)} to "
                 f"{format_value(high, unit)}</span>")
    return f"<td style='{style}'>{text}{_target_line(row)}</td>"


def _change_cell(row: pd.Series | None, change: str, called: str) -> str:
    """The change in the KPI's unit: arrow and colour (green better, red worse, dark when
    neither way is better) only when it is called; grey and no arrow otherwise."""
    if row is None or pd.isna(row.get(change, math.nan)):
        return f"<td style='{_BCELL};color:#999'>—</td>"
    text = format_change(row[change], row[C.UNIT])
    sign = int(row.get(called, 0) or 0)
    if not sign:
        return f"<td style='{_BCELL};color:#888'>{text}</td>"
    color = _CHANGE_COLORS[sign * direction(row[C.KPI])]
    return (f"<td style='{_BCELL};color:{color};font-weight:600'>"
            f"{UP if sign > 0 else DOWN}{text}</td>")


def _spark_cell(values: pd.Series | None, color: str) -> str:
    if values is None or values.notna().sum() < 2:
        return f"<td style='{_BCELL};color:#999'>—</td>"
    data = base64.b64encode(sparkline_png(values, color, SPARK_WIDTH, SPARK_HEIGHT)).decode("ascii")
    return (f"<td style='padding:2px 4px;border-bottom:1px solid #e5e5e5'>"
            f"<img src='data:image/png;base64,{data}' "
            f"width='{SPARK_WIDTH}' height='{SPARK_HEIGHT}' alt='' class='{SPARK_CLASS}' "
            f"style='display:block;border:0'></td>")


def _segments_in_order(kpis: pd.DataFrame) -> list[str]:
    return all_last(kpis[C.SEGMENT])


def _swatch(color: str) -> str:
    return (f"<span style='display:inline-block;width:10px;height:10px;border-radius:2px;"
            f"background:{color};margin-right:5px'></span>")


def _kpi_block(kpi: str, lookup: dict, segments: Sequence[str], colors: dict[str, str],
               in_context: bool, spark: pd.DataFrame, quarter: str, show_interval: bool) -> str:
    """One KPI: a row per segment (whole unit last) with value, changes and trend."""
    sub = {HIGHER: "higher is better", LOWER: "lower is better"}.get(direction(kpi), "")
    heads = [quarter or "Value"]
    if in_context:
        heads += ["vs last qtr", "vs a year ago"] + ([f"{len(spark.columns)} quarters"] if len(spark) else [])
    head = (f"<tr><th colspan='{len(heads) + 1}' style='padding:4px 5px 0;text-align:left;"
            f"font-size:13.5px'>{escape(short_label(kpi))}"
            + (f" <span style='font-size:10.5px;font-weight:400;color:#777'>{sub}</span>" if sub else "")
            + f"</th></tr><tr><th style='{_BHEAD}'></th>"
            + "".join(f"<th style='{_BHEAD};font-weight:400'>{escape(h)}</th>" for h in heads)
            + "</tr>")
    body = []
    for seg in segments:
        row = lookup.get((seg, kpi))
        whole = seg == C.ALL_SEGMENTS
        label = "Whole unit" if whole else str(seg)
        # white rows: no zebra stripes behind the sparklines
        weight = "font-weight:700;border-top:1px solid #444" if whole else "font-weight:400"
        cells = _value_cell(row, show_interval)
        if in_context:
            key = (kpi, seg)
            cells += (_change_cell(row, CHANGE_PREVIOUS, CALLED_PREVIOUS)
                      + _change_cell(row, CHANGE_YEAR, CALLED_YEAR)
                      + (_spark_cell(spark.loc[key] if key in spark.index else None,
                                     colors.get(seg, ALL_COLOR)) if len(spark) else ""))
        wrap = "nowrap" if len(label) <= 18 else "normal"
        body.append(f"<tr style='{weight};background:#fff'><th style='padding:3px 5px;"
                    f"border-bottom:1px solid #e5e5e5;text-align:left;white-space:{wrap};{weight}'>"
                    f"{_swatch(colors.get(seg, ALL_COLOR))}{escape(label)}</th>{cells}</tr>")
    return (f"<div class='{KPI_BLOCK_CLASS}' style='display:inline-block;vertical-align:top;"
            f"width:100%;max-width:{BLOCK_WIDTH if in_context else BLOCK_WIDTH * 2 // 3}px;"
            f"margin:0 18px 16px 0'>"
            f"<table style='{TABLE};width:100%'><thead>{head}</thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def kpi_table_html(kpis: pd.DataFrame, kpi_ids: Sequence[str], colors: dict[str, str] | None = None,
                   show_previous: bool = True, history: pd.DataFrame | None = None,
                   quarter: str = "", show_interval: bool = True) -> str:
    """The given KPIs, one compact block each: a row per segment (the whole unit last).

    Parameters
    ----------
    kpis
        The tidy KPI frame of the reported quarter (with ``previous_value``; ``target`` and
        ``status`` are shown when present).
    kpi_ids
        The KPIs to show, in order; those absent from ``kpis`` are skipped.
    colors
        Segment → colour (:func:`segreport.palette.segment_colors`).
    show_previous
        Show the changes on last quarter and a year ago, and the trend; off for KPIs that
        exist for the reported quarter only.
    history, quarter
        The unit's KPI panel and the reported quarter: the year-ago change and the
        sparkline of the last 8 quarters come from there; without them those columns
        are empty and the notes say so.
    show_interval
        Write each value's 95 % interval under it.

    Returns
    -------
    HTML: the blocks (each at most :data:`BLOCK_WIDTH` px wide, so one fits a 600 px
    phone screen and two sit side by side on a wider one) and the notes under them. Each
    cell shows the value, its band (coloured), † for a small sample, * for an undefined
    value and the target when there is one; the change cells carry an arrow and a colour
    only when the change is called (:mod:`segreport.kpis.context`).
    """
    colors = colors or segment_colors(kpis[C.SEGMENT])
    shown = [k for k in kpi_ids if k in set(kpis[C.KPI])]
    part = kpis[kpis[C.KPI].isin(shown)]
    if show_previous:
        part = kpi_context(part, history, quarter)
    spark = trend(history, quarter) if show_previous else trend(None, "")
    lookup = {(r[C.SEGMENT], r[C.KPI]): r for _, r in part.iterrows()}
    segments = _segments_in_order(part)
    blocks = "".join(_kpi_block(k, lookup, segments, colors, show_previous, spark, quarter,
                                show_interval) for k in shown)
    has_history = len(spark) > 0
    return (f"<div style='max-width:{2 * BLOCK_WIDTH + 40}px'>{blocks}</div>"
            + _table_notes(part, shown, show_interval, show_previous, has_history,
                           spark.columns if has_history else ()))


def _table_notes(part: pd.DataFrame, shown: Sequence[str], show_interval: bool = True,
                 in_context: bool = False, has_history: bool = False,
                 quarters: Sequence[str] = ()) -> str:
    lines = []
    for kpi in shown:
        bands = kpi_spec(kpi).bands
        if bands:
            text = ", ".join(
                f"<span style='border-left:4px solid {band_color(kpi, b.label)};padding-left:4px'>"
                f"{escape(b.label)}</span> "
                + (f"≥ {b.min:g}" if b.min is not None else "below") for b in bands)
            lines.append(f"{escape(short_label(kpi))} bands: {text}.")
    if part[C.SMALL_SAMPLE].fillna(False).astype(bool).any():
        lines.append("† small sample: fewer than 30 observations behind the value; read it with "
                     "its interval.")
    if show_interval and (part[C.CI_LOW].notna()).any():
        lines.append("Under a value: its 95% interval.")
    if in_context:
        lines.append(
            f"<span style='color:{GOOD}'>{UP}</span>/<span style='color:{BAD}'>{DOWN}</span> a real "
            "change, green when it is for the better, red for the worse: beyond its 95% interval "
            "for the KPIs estimated from a sample (retention, churn, survey scores); for those "
            "counted over every customer and order, any change. Grey, no arrow: within the "
            "margin of error or none. Changes are in the KPI's unit (pts: percentage points).")
        if has_history:
            lines.append(f"Trend: {escape(quarters[0])} to {escape(quarters[-1])}, the last dot "
                         "is this quarter.")
        else:
            lines.append("No quarterly history for this cut of the segments: changes on a year "
                         "ago and trends are not available.")
    defined = _defined(part)
    undefined = part[~defined]
    items = []
    for note, group in undefined.groupby(C.NOTE, sort=False):
        where = "; ".join(f"{escape(str(seg))}: {', '.join(short_label(k).lower() for k in g[C.KPI])}"
                          for seg, g in group.groupby(C.SEGMENT, sort=False))
        items.append(f"<li>{escape(note)} — {where}</li>")
    other = part[part[C.NOTE].fillna("").ne("") & defined]
    for note, group in other.groupby(C.NOTE, sort=False):
        who = ", ".join(sorted({escape(str(s)) for s in group[C.SEGMENT]}))
        kpi_names = ", ".join(sorted({short_label(k) for k in group[C.KPI]}))
        items.append(f"<li>{escape(kpi_names)} ({who}): {escape(note)}</li>")
    out = "".join(f"<p style='font-size:12px;color:#555;margin:4px 0'>{line}</p>" for line in lines)
    if items:
        marker = " (* = not defined)" if len(undefined) else ""
        # one block, so that a page break never leaves the heading alone at a page's foot
        out += (f"<div style='break-inside:avoid'>"
                f"<p style='font-size:12px;color:#555;margin:6px 0 0'>Notes{marker}:</p>"
                f"<ul style='font-size:12px;color:#555;margin-top:2px'>{''.join(items)}</ul>"
                "</div>")
    return out
