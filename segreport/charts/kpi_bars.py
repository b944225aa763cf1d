"""KPI bar charts: one bar per segment, in the segment's colour, the whole unit last.

Each ``*_plot`` function draws on one axes (``ax``, or a new figure's when ``None``) and
returns the :class:`~matplotlib.axes.Axes`; each ``*_chart`` and :func:`kpi_panels` returns
the report's :class:`~matplotlib.figure.Figure` (what the notebook shows).
"""
from __future__ import annotations

import math

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from segreport import columns as C
from segreport.charts import chrome
from segreport.charts.theme import (
    MUTED,
    TEXT,
    bar_rows_height,
    chart_axes,
    fill_of,
    new_panels,
)
from segreport.formatting import format_money, format_value
from segreport.kpis import ids
from segreport.kpis.spec import kpi_spec
from segreport.segments import all_last


def segment_rows(kpis: pd.DataFrame, kpi: str) -> pd.DataFrame:
    """The rows of one KPI indexed by segment, in the frame's order with ``All`` last."""
    part = kpis[kpis[C.KPI] == kpi].set_index(C.SEGMENT)
    return part.reindex(all_last(part.index))


def _values(kpis: pd.DataFrame, kpi: str) -> pd.Series:
    """Segment → value of one KPI (:func:`segment_rows`)."""
    return segment_rows(kpis, kpi)[C.VALUE]


def _segment_axis(ax: Axes, segments) -> None:
    """Segments down the y axis, the first on top; grid lines only across the values."""
    ax.set_yticks(list(range(len(segments))), list(segments))
    ax.invert_yaxis()
    chrome.grid(ax, "x")


def growth_plot(kpis: pd.DataFrame, colors: dict[str, str], ax: Axes | None = None) -> Axes:
    """Horizontal bars of ``segment_growth_rate`` (%) per segment, labelled with their
    signed value, with dashed lines at the bounds of the KPI's bands (5 % and 10 %)."""
    values = _values(kpis, ids.SEGMENT_GROWTH_RATE)
    ax = chart_axes(bar_rows_height(len(values)), ax=ax)
    y = range(len(values))
    shown = values.fillna(0)
    bounds = [b.min for b in kpi_spec(ids.SEGMENT_GROWTH_RATE).bands if b.min]
    ax.barh(list(y), shown, color=fill_of(colors, values.index), height=0.6)
    for bound in bounds:
        ax.axvline(bound, color="#888888", lw=1, ls="--", zorder=0)
        ax.text(bound, len(values) - 0.45, f" {bound:g}%", color="#666666", fontsize=9, va="bottom")
    ax.axvline(0, color="#444444", lw=0.8)
    span = max([abs(v) for v in shown] + bounds)
    for i, (seg, v) in enumerate(values.items()):
        label = "n/a" if math.isnan(v) else format_value(v, "%", signed=True)
        ax.text(shown[seg] + (0.01 * span if shown[seg] >= 0 else -0.01 * span), i, " " + label + " ",
                va="center", ha="left" if shown[seg] >= 0 else "right", fontsize=10)
    _segment_axis(ax, values.index)
    ax.set_xlim(min(0, shown.min()) - 0.15 * span, max([0, shown.max()] + bounds) + 0.2 * span)
    chrome.percent_axis(ax.xaxis)
    chrome.chart_title(ax, "Segment growth rate", "Change in active customers over the quarter; "
                       "dashed lines: moderate (5%) and strong (10%) bands")
    return ax


def retention_plot(kpis: pd.DataFrame, colors: dict[str, str], ax: Axes | None = None) -> Axes:
    """100 % bars: retained share (``retention_rate``, segment colour) and churned share
    (``churn_rate``, grey) of the customers active at the start, each labelled in %."""
    retained = _values(kpis, ids.RETENTION_RATE)
    churned = _values(kpis, ids.CHURN_RATE).reindex(retained.index)
    ax = chart_axes(bar_rows_height(len(retained)), ax=ax)
    y = list(range(len(retained)))
    ax.barh(y, retained.fillna(0), color=fill_of(colors, retained.index), height=0.6,
            label="retained")
    ax.barh(y, churned.fillna(0), left=retained.fillna(0), color=MUTED, height=0.6, label="churned")
    for i, seg in enumerate(retained.index):
        r, c = retained[seg], churned[seg]
        if math.isnan(r):
            ax.text(1, i, "n/a: no customers active at start", va="center", fontsize=10)
            continue
        ax.text(2, i, f"{r:.1f}% retained", va="center", color="white", fontsize=10, fontweight="bold")
        ax.text(101, i, f"{c:.1f}% churned", va="center", ha="left", color=TEXT, fontsize=10)
    _segment_axis(ax, retained.index)
    ax.set_xlim(0, 118)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    chrome.percent_axis(ax.xaxis)
    chrome.chart_title(ax, "Retention and churn", "Of the customers active at the start of the "
                       "quarter, the share still active at its end")
    return ax


def revenue_mix_plot(kpis: pd.DataFrame, colors: dict[str, str], ax: Axes | None = None) -> Axes:
    """Net revenue (money) per segment, each bar labelled with its amount and its
    contribution to the unit's revenue (``sales_contribution``, %); the whole unit's total
    in the subtitle."""
    revenue = _values(kpis, ids.REVENUE).drop(C.ALL_SEGMENTS, errors="ignore")
    share = _values(kpis, ids.SALES_CONTRIBUTION).reindex(revenue.index)
    total = _values(kpis, ids.REVENUE).get(C.ALL_SEGMENTS, math.nan)
    ax = chart_axes(bar_rows_height(len(revenue)), ax=ax)
    y = list(range(len(revenue)))
    ax.barh(y, revenue, color=fill_of(colors, revenue.index), height=0.6)
    top = max([abs(v) for v in revenue] + [1.0])
    for i, seg in enumerate(revenue.index):
        pct = "" if math.isnan(share[seg]) else f"  ({share[seg]:.1f}% of sales)"
        ax.text(max(revenue[seg], 0) + 0.01 * top, i, f" {format_money(revenue[seg])}{pct}",
                va="center", fontsize=10)
    _segment_axis(ax, revenue.index)
    ax.set_xlim(min(0, revenue.min() * 1.1), top * 1.45)
    chrome.money_axis(ax.xaxis)
    chrome.chart_title(ax, "Revenue mix", "Net revenue of the quarter by segment; unit total "
                       f"{format_money(total)}")
    return ax


def customer_flow_plot(kpis: pd.DataFrame, colors: dict[str, str], ax: Axes | None = None) -> Axes:
    """Grouped bars per segment (customers): active at start (faded), active at end
    (solid) and new in the quarter (hatched), each labelled with its count."""
    start = _values(kpis, ids.CUSTOMERS_START).drop(C.ALL_SEGMENTS, errors="ignore")
    end = _values(kpis, ids.CUSTOMERS_END).reindex(start.index)
    new = _values(kpis, ids.NEW_CUSTOMERS).reindex(start.index)
    ax = chart_axes(bar_rows_height(len(start) * 1.6), ax=ax)
    y = list(range(len(start)))
    h = 0.27
    segment_fill = fill_of(colors, start.index)
    ax.barh([v - h for v in y], start, height=h, color=segment_fill, alpha=0.45, label="active at start")
    ax.barh(y, end, height=h, color=segment_fill, label="active at end")
    ax.barh([v + h for v in y], new, height=h, color="white", edgecolor=segment_fill, hatch="///",
            label="new in quarter")
    top = max(list(start) + list(end) + [1])
    for i, seg in enumerate(start.index):
        for dy, val in ((-h, start[seg]), (0, end[seg]), (h, new[seg])):
            ax.text(val + 0.01 * top, i + dy, f"{int(val):,}", va="center", fontsize=8.5)
    _segment_axis(ax, start.index)
    ax.set_xlim(0, top * 1.15)
    chrome.count_axis(ax.xaxis)
    chrome.legend(ax, loc="lower right")
    chrome.chart_title(ax, "Customers by segment", "Faded bar: active at start; solid: active at "
                       "end; hatched: acquired during the quarter")
    return ax


def bar_notes(kpis: pd.DataFrame, kpi_ids) -> list[str]:
    """What the marks of the bars of ``kpi_ids`` mean, for those the frame has: whiskers
    (a 95 % interval), the black tick (last quarter's value), hatching (a small sample)."""
    part = kpis[kpis[C.KPI].isin(list(kpi_ids))]
    has_ci = C.CI_LOW in part and C.CI_HIGH in part and bool(
        (part[C.CI_LOW].notna() & part[C.CI_HIGH].notna()).any())
    has_previous = C.PREVIOUS_VALUE in part and bool(part[C.PREVIOUS_VALUE].notna().any())
    has_small = C.SMALL_SAMPLE in part and bool(part[C.SMALL_SAMPLE].fillna(False).astype(bool).any())
    notes = ["whiskers: 95% interval"] if has_ci else []
    notes += ["black tick: last quarter"] if has_previous else []
    notes += ["† hatched: small sample (<30)"] if has_small else []
    return notes


def kpi_bar_plot(kpis: pd.DataFrame, kpi: str, colors: dict[str, str], title: str | None = None,
                 subtitle: str = "", ax: Axes | None = None, fontsize: float = 10) -> Axes:
    """One KPI per segment: bars in segment colours (``All`` last), 95 % whiskers where
    the frame has an interval, hatching and † for a small sample, a black tick at last
    quarter's value, each bar labelled with its value in the KPI's unit (``fontsize`` pt).

    With a ``title``, the chart's title over ``subtitle`` and :func:`bar_notes`; without,
    no title (a panel of :func:`kpi_panels`).
    """
    part = segment_rows(kpis, kpi)
    ax = chart_axes(bar_rows_height(len(part)), ax=ax)
    y = list(range(len(part)))
    values = part[C.VALUE].astype(float)
    shown = values.fillna(0)
    small = (part[C.SMALL_SAMPLE].fillna(False).astype(bool) if C.SMALL_SAMPLE in part
             else pd.Series(False, index=part.index))
    ax.barh(y, shown, color=fill_of(colors, part.index), height=0.6,
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
    for i, seg in enumerate(part.index):
        v = values[seg]
        text = "n/a" if math.isnan(v) else format_value(v, unit, compact=True)
        text += " †" if small.iloc[i] else ""
        anchor = max(shown[seg], high[seg] if has_ci and not math.isnan(high[seg]) else 0,
                     previous[seg] if previous is not None and not math.isnan(previous[seg]) else 0)
        ax.text(max(anchor, 0) + 0.02 * top, i, text, va="center", fontsize=fontsize)
    _segment_axis(ax, part.index)
    ax.set_xlim(left - 0.05 * top if left < 0 else 0, right + 0.35 * top)
    ax.axvline(0, color="#444444", lw=0.8)
    if title is not None:
        chrome.chart_title(ax, title, "; ".join(x for x in [subtitle] + bar_notes(kpis, [kpi]) if x))
    return ax


def growth_chart(kpis: pd.DataFrame, colors: dict[str, str]) -> Figure:
    """The report's figure of :func:`growth_plot`."""
    return growth_plot(kpis, colors).figure


def retention_chart(kpis: pd.DataFrame, colors: dict[str, str]) -> Figure:
    """The report's figure of :func:`retention_plot`."""
    return retention_plot(kpis, colors).figure


def revenue_mix_chart(kpis: pd.DataFrame, colors: dict[str, str]) -> Figure:
    """The report's figure of :func:`revenue_mix_plot`."""
    return revenue_mix_plot(kpis, colors).figure


def customer_flow_chart(kpis: pd.DataFrame, colors: dict[str, str]) -> Figure:
    """The report's figure of :func:`customer_flow_plot`."""
    return customer_flow_plot(kpis, colors).figure


def kpi_bar_chart(kpis: pd.DataFrame, kpi: str, colors: dict[str, str], title: str,
                  subtitle: str = "") -> Figure:
    """The report's figure of :func:`kpi_bar_plot`, titled."""
    return kpi_bar_plot(kpis, kpi, colors, title, subtitle).figure


def kpi_panels(kpis: pd.DataFrame, kpi_ids, colors: dict[str, str], title: str,
               names: dict[str, str], columns: int = 2) -> Figure:
    """Small multiples: one :func:`kpi_bar_plot` per KPI of ``kpi_ids`` in the frame (the
    others are left out), each titled ``names[kpi]``, under one title and :func:`bar_notes`.

    Returns
    -------
    The :class:`matplotlib.figure.Figure`.
    """
    shown = [k for k in kpi_ids if (kpis[C.KPI] == k).any()]
    n_segments = max([int((kpis[C.KPI] == k).sum()) for k in shown] + [1])
    fig, axes = new_panels(len(shown), columns, per_row=0.9 + 0.32 * n_segments, base=0.8)
    for ax, kpi in zip(axes, shown):
        kpi_bar_plot(kpis, kpi, colors, ax=ax, fontsize=8.5)
        chrome.panel_title(ax, names.get(kpi, kpi), 11)
        ax.tick_params(axis="both", labelsize=8.5)
    chrome.figure_title(fig, title, bar_notes(kpis, shown))
    return fig


__all__ = ["bar_notes", "customer_flow_chart", "customer_flow_plot", "growth_chart", "growth_plot",
           "kpi_bar_chart", "kpi_bar_plot", "kpi_panels", "retention_chart", "retention_plot",
           "revenue_mix_chart", "revenue_mix_plot", "segment_rows"]
