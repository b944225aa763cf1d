"""Trend charts: a KPI per segment over the last quarters (:func:`kpi_trend`, on one
axes), their small multiples (:func:`trend_panels`, a figure), and the scorecard's
sparklines (:func:`sparkline_png`, a tiny PNG)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from segreport import columns as C
from segreport.charts import chrome
from segreport.charts.figure_cache import compact_png
from segreport.charts.theme import ALL_COLOR, WIDTH, chart_axes, new_panels
from segreport.kpis import ids
from segreport.segments import all_last, segments_without_all

TOTALS = (ids.CUSTOMERS_START, ids.CUSTOMERS_END, ids.NEW_CUSTOMERS, ids.REVENUE, ids.ORDERS)
"""KPIs that add up over segments: the whole unit's line would dwarf the segments', so the
trend panels leave it out."""
TREND_WINDOW = 9
"""Quarters in a trend chart: the reported quarter and the 8 before it."""
REPORTED_SHADE = "#fff2cc"


def _quarter_tick(label: str) -> str:
    """``2026Q3`` → ``Q3\\n2026`` (two short lines under a tick)."""
    return f"{label[4:]}\n{label[:4]}"


def kpi_trend(history, kpi: str, colors: dict[str, str], quarter: str, ax: Axes | None = None,
              n: int = TREND_WINDOW, title: str | None = None, fontsize: float = 9) -> Axes:
    """One KPI per segment over the ``n`` quarters ending with ``quarter``: a line per
    segment in its colour, its 95 % band shaded where the panel has an interval, the
    reported quarter shaded and its values dotted.

    Parameters
    ----------
    history
        The unit's KPI panel (:attr:`segreport.kpis.report.Quarter.history`): the tidy KPI
        columns and ``quarter``.
    kpi
        The KPI id to draw.
    colors
        Segment → colour (:func:`segreport.charts.theme.segment_colors`); ``All`` is drawn
        dashed in grey, and left out for KPIs that add up over segments (:data:`TOTALS`).
    quarter
        The reported quarter, ``YYYYQn``.
    ax
        The axes to draw on; a new figure's when ``None``.
    n, title, fontsize
        Quarters shown, the panel title (default: the KPI's name), tick label size.

    Returns
    -------
    The :class:`matplotlib.axes.Axes`. Each segment's line has the segment as its label;
    the reported quarter's shading has the gid ``reported-quarter``.
    """
    from segreport.kpis.context import quarters_back
    from segreport.kpis.panel import QUARTER
    from segreport.kpis.spec import kpi_name

    ax = chart_axes(2.6, WIDTH / 2, ax=ax)
    labels = [quarters_back(quarter, k) for k in range(n - 1, -1, -1)]
    x = {q: i for i, q in enumerate(labels)}
    part = history[(history[C.KPI] == kpi) & history[QUARTER].isin(labels)]
    segments = segments_without_all(part[C.SEGMENT]) if kpi in TOTALS else all_last(part[C.SEGMENT])
    ax.axvspan(x[quarter] - 0.4, x[quarter] + 0.4, color=REPORTED_SHADE, zorder=0,
               gid="reported-quarter")
    unit = ""
    for seg in segments:
        rows = part[part[C.SEGMENT] == seg].set_index(QUARTER).reindex(labels)
        if rows[C.VALUE].isna().all():
            continue
        unit = unit or str(rows[C.UNIT].dropna().iloc[0])
        color = colors.get(seg, ALL_COLOR)
        whole = seg == C.ALL_SEGMENTS
        xs = list(range(len(labels)))
        low = rows[C.CI_LOW].astype(float)
        high = rows[C.CI_HIGH].astype(float)
        if (low.notna() & high.notna()).any():
            ax.fill_between(xs, low, high, color=color, alpha=0.14, lw=0, zorder=1)
        ax.plot(xs, rows[C.VALUE].astype(float).to_numpy(), color=color, lw=1.4 if whole else 1.8,
                ls="--" if whole else "-", label=seg, zorder=3)
        now = rows[C.VALUE].get(quarter)
        if not pd.isna(now):
            ax.scatter([x[quarter]], [now], s=22, color=color, zorder=4)
    ax.set_xticks(range(len(labels)), [_quarter_tick(q) for q in labels], fontsize=fontsize - 1)
    for tick, q in zip(ax.get_xticklabels(), labels):
        if q == quarter:
            tick.set_fontweight("bold")
    ax.set_xlim(-0.5, len(labels) - 0.5)
    ax.tick_params(axis="y", labelsize=fontsize)
    if unit:
        chrome.unit_axis(ax.yaxis, unit)
    chrome.grid(ax, "y")
    chrome.panel_title(ax, title or kpi_name(kpi), fontsize + 2)
    return ax


def trend_panels(history, kpi_ids, colors: dict[str, str], quarter: str, title: str,
                 names: dict[str, str] | None = None, columns: int = 2,
                 n: int = TREND_WINDOW) -> Figure:
    """Small multiples of :func:`kpi_trend`, one panel per KPI of ``kpi_ids`` that has a
    value in the window (the others are left out), with one legend of the segments.

    Returns
    -------
    The :class:`matplotlib.figure.Figure`.
    """
    from segreport.kpis.context import quarters_back
    from segreport.kpis.panel import QUARTER

    labels = {quarters_back(quarter, k) for k in range(n)}
    window = history[history[QUARTER].isin(labels)]
    shown = [k for k in kpi_ids if window.loc[window[C.KPI] == k, C.VALUE].notna().any()]
    fig, axes = new_panels(len(shown), columns, per_row=2.25, base=0.9)
    for ax, kpi in zip(axes, shown):
        kpi_trend(window, kpi, colors, quarter, ax=ax, n=n, title=(names or {}).get(kpi))
    segments = segments_without_all(window[C.SEGMENT])
    handles = [Line2D([], [], color=colors.get(s, ALL_COLOR), lw=2, label=s) for s in segments]
    if C.ALL_SEGMENTS in set(window[C.SEGMENT]):
        handles.append(Line2D([], [], color=ALL_COLOR, lw=1.4, ls="--", label="Whole unit"))
    handles.append(Patch(color=REPORTED_SHADE, label="reported quarter"))
    banded = window[window[C.KPI].isin(shown)][[C.CI_LOW, C.CI_HIGH]].notna().all(axis=1)
    if banded.any():
        handles.append(Patch(color="#bbbbbb", alpha=0.5, label="95% interval"))
    chrome.legend(fig, handles, loc="outside lower center", ncols=min(len(handles), 4))
    chrome.figure_title(fig, title)
    return fig


def sparkline_png(values, color: str, width: int = 72, height: int = 20) -> bytes:
    """A tiny line chart of ``values`` (oldest first) as PNG bytes, drawn at twice
    ``width`` × ``height`` pixels for sharp screens and print, the last value dotted;
    missing values leave gaps. No axes: it shows the shape of the trend, the table beside it
    gives the numbers. Drawn with Pillow, supersampled for smooth lines (a Matplotlib figure
    per sparkline would cost ~25 ms, and a scorecard has dozens).
    """
    import io

    from PIL import Image, ImageDraw

    scale = 4  # supersampling of the 2x image
    w, h = width * 2, height * 2
    big = Image.new("RGB", (w * scale, h * scale), "white")
    draw = ImageDraw.Draw(big)
    ys = np.asarray(list(values), dtype="float64")
    known = np.flatnonzero(~np.isnan(ys))
    line, dot = 2.4 * scale, 3.4 * scale  # px in the 2x image: line width, dot radius
    if len(known):
        low, high = np.nanmin(ys), np.nanmax(ys)
        span = high - low
        pad = dot + scale
        n = max(len(ys) - 1, 1)

        def point(i: int) -> tuple[float, float]:
            x = pad + (w * scale - 2 * pad) * i / n
            y = (h * scale) / 2 if span == 0 else pad + (h * scale - 2 * pad) * (high - ys[i]) / span
            return x, y

        run: list[tuple[float, float]] = []
        for i in range(len(ys)):
            if np.isnan(ys[i]):
                if len(run) > 1:
                    draw.line(run, fill=color, width=round(line), joint="curve")
                run = []
            else:
                run.append(point(i))
        if len(run) > 1:
            draw.line(run, fill=color, width=round(line), joint="curve")
        x, y = point(int(known[-1]))
        draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=color)
    raw = io.BytesIO()
    big.resize((w, h), Image.Resampling.LANCZOS).save(raw, format="PNG")
    return compact_png(raw.getvalue(), colors=32)


__all__ = ["REPORTED_SHADE", "TOTALS", "TREND_WINDOW", "kpi_trend", "sparkline_png", "trend_panels"]
