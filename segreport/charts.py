"""Charts: one theme and one colour per segment, shared by every chart of the report.

Every function takes the tidy KPI frame (see :mod:`segreport.kpis.frame`) and a
segment→colour map from :func:`segreport.palette.segment_colors`, and returns a
:class:`matplotlib.figure.Figure` without showing it.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import inspect
import math
import pickle
import textwrap
import types

import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import TransformNode

from segreport import columns as C
from segreport.cache import read_entry, store_entry
from segreport.formatting import format_money, format_value
from segreport.kpis import ids
from segreport.kpis.cards import load_cards
from segreport.palette import ALL_COLOR
from segreport.palette import segment_colors as segment_colors
from segreport.segments import all_last

MUTED = "#d9d9d9"
TEXT = "#222222"
GOOD, MIDDLE, BAD = "#1a9850", "#f0a30a", "#d73027"
WIDTH = 9.0


def set_theme() -> None:
    """The report's look: seaborn's white grid, a readable font size, crisp PNGs."""
    sns.set_theme(style="whitegrid", context="notebook", rc={
        "figure.dpi": 110, "savefig.dpi": 160, "axes.edgecolor": "#bbbbbb",
        "axes.titleweight": "bold", "axes.titlesize": 13, "axes.titlelocation": "left",
        "font.family": "DejaVu Sans", "text.color": TEXT, "axes.labelcolor": TEXT,
        "xtick.color": TEXT, "ytick.color": TEXT, "grid.color": "#ececec",
        "axes.spines.top": False, "axes.spines.right": False,
    })


def band_color(kpi: str, band: str) -> str:
    """The colour of a band: green for the best band of its KPI, red for the worst, amber
    between (the card's band order and ``higher_is_better`` decide which is best)."""
    card = load_cards().get(kpi, {})
    labels = [b["label"] for b in card.get("bands", [])]
    if band not in labels:
        return "#888888"
    rank = labels.index(band) / max(len(labels) - 1, 1)  # 0 = top band (highest values)
    if card.get("higher_is_better") is False:
        rank = 1 - rank
    return GOOD if rank < 0.34 else (BAD if rank > 0.66 else MIDDLE)


def _values(kpis, kpi: str):
    """Segment → value of one KPI, segments in the frame's order, ``All`` last."""
    part = kpis[kpis[C.KPI] == kpi].set_index(C.SEGMENT)[C.VALUE]
    return part.reindex(all_last(part.index))


def _figure(n_rows: int) -> tuple[Figure, object]:
    fig = Figure(figsize=(WIDTH, 1.2 + 0.55 * max(n_rows, 1)), layout="constrained")
    return fig, fig.add_subplot()


def _chrome(ax, title: str, subtitle: str, width_share: float = 0.8) -> None:
    """Bold title and a grey subtitle above the plot, left-aligned on the axes.

    The subtitle is wrapped to the part of the figure right of the axes' left edge
    (``width_share`` of the figure width, about 13 characters per inch at 10 pt).
    """
    chars = max(30, int(ax.figure.get_figwidth() * width_share * 13.5))
    lines = textwrap.wrap(subtitle, chars) or [""]
    ax.set_title(title + "\n" * len(lines), loc="left")
    ax.text(0, 1.02, "\n".join(lines), transform=ax.transAxes, fontsize=10, color="#555555",
            va="bottom")


def growth_chart(kpis, colors: dict[str, str]) -> Figure:
    """Horizontal bars of ``segment_growth_rate`` per segment with the 5 % and 10 % band lines."""
    values = _values(kpis, ids.SEGMENT_GROWTH_RATE)
    fig, ax = _figure(len(values))
    y = range(len(values))
    shown = values.fillna(0)
    bounds = [b["min"] for b in load_cards()[ids.SEGMENT_GROWTH_RATE]["bands"] if b["min"]]
    ax.barh(list(y), shown, color=[colors.get(s, ALL_COLOR) for s in values.index], height=0.6)
    for bound in bounds:
        ax.axvline(bound, color="#888888", lw=1, ls="--", zorder=0)
        ax.text(bound, len(values) - 0.45, f" {bound:g}%", color="#666666", fontsize=9, va="bottom")
    ax.axvline(0, color="#444444", lw=0.8)
    span = max([abs(v) for v in shown] + bounds)
    for i, (seg, v) in enumerate(values.items()):
        label = "n/a" if math.isnan(v) else format_value(v, "%", signed=True)
        ax.text(shown[seg] + (0.01 * span if shown[seg] >= 0 else -0.01 * span), i, " " + label + " ",
                va="center", ha="left" if shown[seg] >= 0 else "right", fontsize=10)
    ax.set_yticks(list(y), list(values.index))
    ax.invert_yaxis()
    ax.set_xlim(min(0, shown.min()) - 0.15 * span, max([0, shown.max()] + bounds) + 0.2 * span)
    ax.xaxis.set_major_formatter(mticker.PercentFormatter(decimals=0))
    ax.grid(axis="y", visible=False)
    _chrome(ax, "Segment growth rate", "Change in active customers over the quarter; dashed lines: "
            "moderate (5%) and strong (10%) bands")
    return fig


def retention_chart(kpis, colors: dict[str, str]) -> Figure:
    """100 % bars: retained share (segment colour) and churned share (grey) of the start base."""
    retained = _values(kpis, ids.RETENTION_RATE)
    churned = _values(kpis, ids.CHURN_RATE).reindex(retained.index)
    fig, ax = _figure(len(retained))
    y = list(range(len(retained)))
    ax.barh(y, retained.fillna(0), color=[colors.get(s, ALL_COLOR) for s in retained.index], height=0.6,
            label="retained")
    ax.barh(y, churned.fillna(0), left=retained.fillna(0), color=MUTED, height=0.6, label="churned")
    for i, seg in enumerate(retained.index):
        r, c = retained[seg], churned[seg]
        if math.isnan(r):
            ax.text(1, i, "n/a: no customers active at start", va="center", fontsize=10)
            continue
        ax.text(2, i, f"{r:.1f}% retained", va="center", color="white", fontsize=10, fontweight="bold")
        ax.text(101, i, f"{c:.1f}% churned", va="center", ha="left", color=TEXT, fontsize=10)
    ax.set_yticks(y, list(retained.index))
    ax.invert_yaxis()
    ax.set_xlim(0, 118)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.xaxis.set_major_formatter(mticker.PercentFormatter(decimals=0))
    ax.grid(axis="y", visible=False)
    _chrome(ax, "Retention and churn", "Of the customers active at the start of the quarter, the "
            "share still active at its end")
    return fig


def revenue_mix_chart(kpis, colors: dict[str, str]) -> Figure:
    """Net revenue per segment with each segment's contribution to the unit's revenue."""
    revenue = _values(kpis, ids.REVENUE).drop(C.ALL_SEGMENTS, errors="ignore")
    share = _values(kpis, ids.SALES_CONTRIBUTION).reindex(revenue.index)
    total = _values(kpis, ids.REVENUE).get(C.ALL_SEGMENTS, math.nan)
    fig, ax = _figure(len(revenue))
    y = list(range(len(revenue)))
    ax.barh(y, revenue, color=[colors.get(s, ALL_COLOR) for s in revenue.index], height=0.6)
    top = max([abs(v) for v in revenue] + [1.0])
    for i, seg in enumerate(revenue.index):
        pct = "" if math.isnan(share[seg]) else f"  ({share[seg]:.1f}% of sales)"
        ax.text(max(revenue[seg], 0) + 0.01 * top, i, f" {format_money(revenue[seg])}{pct}",
                va="center", fontsize=10)
    ax.set_yticks(y, list(revenue.index))
    ax.invert_yaxis()
    ax.set_xlim(min(0, revenue.min() * 1.1), top * 1.45)
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(money_tick))
    ax.grid(axis="y", visible=False)
    _chrome(ax, "Revenue mix", f"Net revenue of the quarter by segment; unit total {format_money(total)}")
    return fig


def customer_flow_chart(kpis, colors: dict[str, str]) -> Figure:
    """Grouped bars: active customers at start and at end, and new customers, per segment."""
    start = _values(kpis, ids.CUSTOMERS_START).drop(C.ALL_SEGMENTS, errors="ignore")
    end = _values(kpis, ids.CUSTOMERS_END).reindex(start.index)
    new = _values(kpis, ids.NEW_CUSTOMERS).reindex(start.index)
    fig, ax = _figure(len(start) * 1.6)
    y = list(range(len(start)))
    h = 0.27
    segment_fill = [colors.get(s, ALL_COLOR) for s in start.index]
    ax.barh([v - h for v in y], start, height=h, color=segment_fill, alpha=0.45, label="active at start")
    ax.barh(y, end, height=h, color=segment_fill, label="active at end")
    ax.barh([v + h for v in y], new, height=h, color="white", edgecolor=segment_fill, hatch="///",
            label="new in quarter")
    top = max(list(start) + list(end) + [1])
    for i, seg in enumerate(start.index):
        for dy, val in ((-h, start[seg]), (0, end[seg]), (h, new[seg])):
            ax.text(val + 0.01 * top, i + dy, f"{int(val):,}", va="center", fontsize=8.5)
    ax.set_yticks(y, list(start.index))
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.15)
    ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(mticker.StrMethodFormatter("{x:,.0f}"))
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    _chrome(ax, "Customers by segment", "Faded bar: active at start; solid: active at end; "
            "hatched: acquired during the quarter")
    return fig


def _kpi_bars(ax, kpis, kpi: str, colors: dict[str, str], labels: bool = True,
              fontsize: float = 10) -> tuple[bool, bool]:
    """Draw one KPI per segment on ``ax``: bars in segment colours (``All`` last), 95 %
    whiskers where the frame has an interval, hatching and † for a small sample, and a
    black tick at last quarter's value. Returns (has interval, has small sample)."""
    part = kpis[kpis[C.KPI] == kpi].set_index(C.SEGMENT)
    part = part.reindex(all_last(part.index))
    y = list(range(len(part)))
    values = part[C.VALUE].astype(float)
    shown = values.fillna(0)
    small = (part[C.SMALL_SAMPLE].fillna(False).astype(bool) if C.SMALL_SAMPLE in part
             else pd.Series(False, index=part.index))
    ax.barh(y, shown, color=[colors.get(s, ALL_COLOR) for s in part.index], height=0.6,
            hatch=["//" if sm else "" for sm in small], edgecolor="white")
    low, high = part.get(C.CI_LOW), part.get(C.CI_HIGH)
    has_ci = low is not None and high is not None and bool((low.notna() & high.notna()).any())
    if has_ci:
        ok = (low.notna() & high.notna() & values.notna()).to_numpy()
        err = [(values - low).where(ok, 0).clip(lower=0), (high - values).where(ok, 0).clip(lower=0)]
        ax.errorbar(shown, y, xerr=err, fmt="none", ecolor="#333333", elinewidth=1.2, capsize=4)
    previous = part.get(C.PREVIOUS_VALUE)
    if previous is not None and previous.notna().any():
        ax.scatter(previous, y, marker="|", s=260, color="#111111", linewidths=2, zorder=5)
    unit = part[C.UNIT].dropna().iloc[0] if part[C.UNIT].notna().any() else ""
    bounds = list(shown) + (list(high.dropna()) + list(low.dropna()) if has_ci else [])
    bounds += list(previous.dropna()) if previous is not None else []
    top = max([abs(v) for v in bounds] + [1e-9])
    right, left = max([0.0] + bounds), min([0.0] + bounds)
    if labels:
        for i, seg in enumerate(part.index):
            v = values[seg]
            text = "n/a" if math.isnan(v) else format_value(v, unit, compact=True)
            text += " †" if small.iloc[i] else ""
            anchor = max(shown[seg], high[seg] if has_ci and not math.isnan(high[seg]) else 0,
                         previous[seg] if previous is not None and not math.isnan(previous[seg]) else 0)
            ax.text(max(anchor, 0) + 0.02 * top, i, text, va="center", fontsize=fontsize)
    ax.set_yticks(y, list(part.index))
    ax.invert_yaxis()
    ax.set_xlim(left - 0.05 * top if left < 0 else 0, right + 0.35 * top)
    ax.axvline(0, color="#444444", lw=0.8)
    ax.grid(axis="y", visible=False)
    return has_ci, bool(small.any())


def _legend_notes(has_ci: bool, has_small: bool, has_previous: bool) -> list[str]:
    notes = ["whiskers: 95% interval"] if has_ci else []
    notes += ["black tick: last quarter"] if has_previous else []
    notes += ["† hatched: small sample (<30)"] if has_small else []
    return notes


def _has_previous(kpis, kpi_ids) -> bool:
    part = kpis[kpis[C.KPI].isin(list(kpi_ids))]
    return C.PREVIOUS_VALUE in part and bool(part[C.PREVIOUS_VALUE].notna().any())


def kpi_bar_chart(kpis, kpi: str, colors: dict[str, str], title: str, subtitle: str = "") -> Figure:
    """Horizontal bars of one KPI per segment (``All`` last, in grey) with its 95 % interval
    as whiskers where the frame has one, last quarter as a tick, a small-sample base hatched
    and marked †."""
    n = int((kpis[C.KPI] == kpi).sum())
    fig, ax = _figure(n)
    has_ci, has_small = _kpi_bars(ax, kpis, kpi, colors)
    notes = _legend_notes(has_ci, has_small, _has_previous(kpis, [kpi]))
    _chrome(ax, title, "; ".join(x for x in [subtitle] + notes if x))
    return fig


def kpi_panels(kpis, kpi_ids, colors: dict[str, str], title: str, names: dict[str, str],
               columns: int = 2) -> Figure:
    """Small multiples: one panel per KPI (segments × value, as :func:`kpi_bar_chart`),
    each titled with ``names[kpi]``; KPIs absent from the frame are left out."""
    shown = [k for k in kpi_ids if (kpis[C.KPI] == k).any()]
    rows = max(1, math.ceil(len(shown) / columns))
    n_segments = max([int((kpis[C.KPI] == k).sum()) for k in shown] + [1])
    fig = Figure(figsize=(WIDTH, 0.8 + rows * (0.9 + 0.32 * n_segments)), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    flags = [False, False]
    for ax, kpi in zip(axes.flat, shown):
        has_ci, has_small = _kpi_bars(ax, kpis, kpi, colors, fontsize=8.5)
        flags = [flags[0] or has_ci, flags[1] or has_small]
        ax.set_title(names.get(kpi, kpi), loc="left", fontsize=11)
        ax.tick_params(axis="both", labelsize=8.5)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    notes = _legend_notes(flags[0], flags[1], _has_previous(kpis, shown))
    fig.suptitle(title + ("\n" + "; ".join(notes) if notes else ""), x=0.01, ha="left",
                 fontsize=12, fontweight="bold")
    return fig


# --------------------------------------------------------------------------- trends

TOTALS = (ids.CUSTOMERS_START, ids.CUSTOMERS_END, ids.NEW_CUSTOMERS, ids.REVENUE, ids.ORDERS)
"""KPIs that add up over segments: the whole unit's line would dwarf the segments', so the
trend panels leave it out."""
TREND_WINDOW = 9
"""Quarters in a trend chart: the reported quarter and the 8 before it."""
REPORTED_SHADE = "#fff2cc"


def money_tick(value: float, _pos=None) -> str:
    """A money tick label (a tick formatter, picklable so the chart can be cached)."""
    return format_money(value)


def _quarter_tick(label: str) -> str:
    """``2026Q3`` → ``Q3\\n2026`` (two short lines under a tick)."""
    return f"{label[4:]}\n{label[:4]}"


def _axis_value(value: float, _pos=None, *, unit: str) -> str:
    """A tick label: ``8%``, ``+40``, ``1.5M``, ``120`` (a tick formatter: ``pos`` unused)."""
    if unit == "points":
        return f"{value:+.0f}" if round(value) else "0"
    text = format_value(value, unit, compact=True)
    return text.replace(".0%", "%") if unit == "%" else text


def kpi_trend(history, kpi: str, colors: dict[str, str], quarter: str, ax=None,
              n: int = TREND_WINDOW, title: str | None = None, fontsize: float = 9):
    """One KPI per segment over the ``n`` quarters ending with ``quarter``: a line per
    segment in its colour, its 95 % band shaded where the panel has an interval, the
    reported quarter shaded and its values dotted.

    Parameters
    ----------
    history
        The unit's KPI panel (:attr:`segreport.kpis.quarter.Quarter.history`): the tidy KPI
        columns and ``quarter``.
    kpi
        The KPI id to draw.
    colors
        Segment → colour (:func:`segreport.palette.segment_colors`); ``All`` is drawn dashed in grey, and left
        out for KPIs that add up over segments (:data:`TOTALS`).
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
    from segreport.kpis.cards import kpi_name
    from segreport.kpis.context import quarters_back
    from segreport.kpis.panel import QUARTER

    if ax is None:
        ax = Figure(figsize=(WIDTH / 2, 2.6), layout="constrained").add_subplot()
    labels = [quarters_back(quarter, k) for k in range(n - 1, -1, -1)]
    x = {q: i for i, q in enumerate(labels)}
    part = history[(history[C.KPI] == kpi) & history[QUARTER].isin(labels)]
    segments = [s for s in dict.fromkeys(part[C.SEGMENT]) if s != C.ALL_SEGMENTS]
    if C.ALL_SEGMENTS in set(part[C.SEGMENT]) and kpi not in TOTALS:
        segments.append(C.ALL_SEGMENTS)
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
        ax.yaxis.set_major_formatter(mticker.FuncFormatter(functools.partial(_axis_value, unit=unit)))
        ax.yaxis.set_major_locator(mticker.MaxNLocator(5))
    ax.grid(axis="x", visible=False)
    ax.set_title(title or kpi_name(kpi), loc="left", fontsize=fontsize + 2)
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
    rows = max(1, math.ceil(len(shown) / columns))
    fig = Figure(figsize=(WIDTH, 0.9 + 2.25 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax, kpi in zip(axes.flat, shown):
        kpi_trend(window, kpi, colors, quarter, ax=ax, n=n, title=(names or {}).get(kpi))
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    segments = [s for s in dict.fromkeys(window[C.SEGMENT]) if s != C.ALL_SEGMENTS]
    handles = [Line2D([], [], color=colors.get(s, ALL_COLOR), lw=2, label=s) for s in segments]
    if C.ALL_SEGMENTS in set(window[C.SEGMENT]):
        handles.append(Line2D([], [], color=ALL_COLOR, lw=1.4, ls="--", label="Whole unit"))
    handles.append(Patch(color=REPORTED_SHADE, label="reported quarter"))
    banded = window[window[C.KPI].isin(shown)][[C.CI_LOW, C.CI_HIGH]].notna().all(axis=1)
    if banded.any():
        handles.append(Patch(color="#bbbbbb", alpha=0.5, label="95% interval"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4),
               frameon=False, fontsize=9)
    fig.suptitle(title, x=0.01, ha="left", fontsize=12, fontweight="bold")
    return fig


def sparkline_png(values, color: str, width: int = 72, height: int = 20) -> bytes:
    """A tiny line chart of ``values`` (oldest first) as PNG bytes, drawn at twice
    ``width`` × ``height`` pixels for sharp screens and print, the last value dotted;
    missing values leave gaps. No axes: it shows the shape of the trend, the table beside it
    gives the numbers. Drawn with Pillow, supersampled for smooth lines (a Matplotlib figure
    per sparkline would cost ~25 ms, and a scorecard has dozens).
    """
    import io

    import numpy as np
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


def compact_png(data: bytes, colors: int = 256) -> bytes:
    """``data`` (a PNG) re-encoded with a palette of at most ``colors`` colours (median cut,
    no dithering): charts are flat colours and their anti-aliased edges, so they look the
    same (white stays white) at about a third of the bytes; the report's HTML carries every
    chart inline."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                   dither=Image.Dither.NONE).save(out, format="PNG", compress_level=9)
    return out.getvalue()


FIGURE_CACHE = "figures"
FIGURES_KEPT = 2000
"""Chart images kept in the cache (about 30 KB each): the charts of some fifty reports."""


_BY_NAME = (type, types.FunctionType, types.BuiltinFunctionType, types.ModuleType)


def _method(owner: str, name: str) -> str:
    """Stands, in a figure's fingerprint, for a built-in method bound to a container."""
    return f"{owner}.{name}"


def _seen(index: int) -> int:
    """Stands, in a figure's fingerprint, for an object met before (its visit number)."""
    return index


class _FigureState(pickle.Pickler):
    """Pickles a figure to the same bytes whenever its content is the same, in any process
    and whichever way its data was computed.

    pickle's own memo refers back to any object met before, strings included, so the bytes
    would depend on which equal strings happen to be one object. Here the memo is off
    (``fast``): strings, numbers and tuples are always written out, and every other object
    met again is written as :func:`_seen` with the number of its first visit. The
    back-references transforms keep to their parents (keyed by object id) are left out, and
    arrays are written in C order."""

    def __init__(self, file) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.fast = True
        self._visits: dict[int, int] = {}
        self._alive: list = []  # keeps visited objects alive, so no id is reused

    def reducer_override(self, obj):
        if isinstance(obj, types.BuiltinMethodType) and not isinstance(
                getattr(obj, "__self__", None), (types.ModuleType, type(None))):
            # e.g. the ``list.remove`` an artist keeps to leave its parent's list: the list
            # is the parent's, pickled there; naming the method is enough
            return _method, (type(obj.__self__).__qualname__, obj.__name__)
        if isinstance(obj, _BY_NAME):
            return NotImplemented  # pickled as its name
        key = id(obj)
        if key in self._visits:
            return _seen, (self._visits[key],)
        self._visits[key] = len(self._visits)
        self._alive.append(obj)
        if isinstance(obj, np.ndarray) and not obj.flags.c_contiguous:
            return np.ascontiguousarray(obj).__reduce_ex__(pickle.HIGHEST_PROTOCOL)
        if not isinstance(obj, TransformNode):
            return NotImplemented
        reduced = obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
        if len(reduced) > 2 and isinstance(reduced[2], dict) and "_parents" in reduced[2]:
            state = {k: v for k, v in reduced[2].items() if k != "_parents"}
            return (*reduced[:2], state, *reduced[3:])
        return reduced


@functools.cache
def _image_code() -> str:
    """What else decides a chart's pixels: the drawing libraries' versions and the code
    that turns a figure into the report's PNG."""
    import matplotlib
    import PIL

    return "|".join([matplotlib.__version__, PIL.__version__, inspect.getsource(compact_png),
                     inspect.getsource(figure_png)])


def figure_fingerprint(fig: Figure, **kwargs) -> str | None:
    """SHA-256 of everything that decides the PNG of ``fig`` drawn with ``kwargs``: every
    artist's state (the figure pickled), the style settings, the print options and
    :func:`_image_code`; ``None`` when the figure cannot be pickled (e.g. it holds a
    lambda)."""
    import matplotlib

    digest = hashlib.sha256()
    try:
        _FigureState(_HashWriter(digest)).dump(fig)
    except (pickle.PicklingError, TypeError, AttributeError, ValueError, RecursionError):
        return None  # e.g. a lambda, or a cycle through a list
    digest.update(repr(sorted(kwargs.items())).encode())
    digest.update(repr(sorted((k, v) for k, v in matplotlib.rcParams.items()
                              if k != "backend")).encode())  # its default is an object
    digest.update(_image_code().encode())
    return digest.hexdigest()


class _HashWriter:
    """A file-like sink that feeds what is written into a hash."""

    def __init__(self, digest) -> None:
        self.write = digest.update


def figure_png(fig: Figure, **kwargs) -> str | None:
    """The notebook's PNG of ``fig`` (as IPython's inline backend draws it, ``kwargs``
    passed on to it) made compact by :func:`compact_png`, base64-encoded; ``None`` for an
    empty figure.

    A chart drawn before with the same state, style and options (see
    :func:`figure_fingerprint`) is read from the cache (``$SEGREPORT_CACHE_DIR/figures``)
    instead of being drawn again: re-running a report on the same data redraws only the
    charts that changed.
    """
    from IPython.core.pylabtools import print_figure

    key = figure_fingerprint(fig, **kwargs)
    data = read_entry(FIGURE_CACHE, f"{key}.png") if key else None
    if data is None:
        raw = print_figure(fig, fmt="png", **kwargs)
        if raw is None:
            return None
        data = compact_png(raw)
        if key:
            store_entry(FIGURE_CACHE, f"{key}.png", data, FIGURES_KEPT)
    return base64.b64encode(data).decode("ascii")


def use_compact_png(**kwargs) -> None:
    """Show every Figure in the running notebook as :func:`figure_png` (after the
    ``%config InlineBackend`` lines, which would replace it); outside IPython, nothing."""
    from functools import partial

    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["image/png"].for_type(
            Figure, partial(figure_png, **kwargs))
