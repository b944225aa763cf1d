"""The chrome every chart shares: title and subtitle, panel and figure titles, which grid
lines show, the legend, the tick formatters of money, percent, count and KPI axes, and the
message an empty chart shows.

Every function here only decorates: it draws no data. Tick formatters are module-level
functions (not lambdas) so that a chart pickles, and so is found in the chart cache
(:func:`segreport.charts.figure_cache.figure_fingerprint`).
"""
from __future__ import annotations

import functools
import textwrap

import matplotlib.ticker as mticker
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure

from segreport.formatting import format_money, format_value

SUBTITLE_COLOR = "#555555"
CHARS_PER_INCH = 13.5
"""Subtitle characters that fit in an inch at 10 pt."""


def chart_title(ax: Axes, title: str, subtitle: str = "", width_share: float = 0.8) -> None:
    """Bold title and a grey subtitle above the plot, left-aligned on the axes.

    The subtitle is wrapped to the part of the figure right of the axes' left edge:
    ``width_share`` × figure width (inches) × :data:`CHARS_PER_INCH` characters a line,
    at least 30.
    """
    chars = max(30, int(ax.figure.get_figwidth() * width_share * CHARS_PER_INCH))
    lines = textwrap.wrap(subtitle, chars) or [""]
    ax.set_title(title + "\n" * len(lines), loc="left")
    ax.text(0, 1.02, "\n".join(lines), transform=ax.transAxes, fontsize=10,
            color=SUBTITLE_COLOR, va="bottom")


def panel_title(ax: Axes, title: str, fontsize: float, fontweight: str | None = None) -> None:
    """A small multiple's own title, left-aligned, ``fontsize`` pt (bold unless
    ``fontweight`` says otherwise)."""
    extra = {} if fontweight is None else {"fontweight": fontweight}
    ax.set_title(title, loc="left", fontsize=fontsize, **extra)


def figure_title(fig: Figure, title: str, notes: list[str] | tuple[str, ...] = ()) -> None:
    """The title of a figure of several panels, left-aligned, with ``notes`` (what the
    marks mean) on a second line joined by ``; ``."""
    fig.suptitle(title + ("\n" + "; ".join(notes) if notes else ""), x=0.01, ha="left",
                 fontsize=12, fontweight="bold")


def message(ax: Axes, text: str) -> None:
    """Instead of a chart: ``text`` centred on an axes without axis lines."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=11, color=SUBTITLE_COLOR,
            wrap=True, transform=ax.transAxes)


def grid(ax: Axes, values: str | None) -> None:
    """Keep the theme's grid lines only across the value axis ``values`` (``"x"`` for
    horizontal bars, ``"y"`` for lines over time), or none when ``None`` (a heatmap)."""
    if values is None:
        ax.grid(False)
    else:
        ax.grid(axis={"x": "y", "y": "x"}[values], visible=False)


def legend(target: Axes | Figure, handles: list | None = None, loc: str = "best",
           ncols: int = 1) -> None:
    """A frameless 9 pt legend on an axes or a figure, of ``handles`` (default: the
    labelled artists)."""
    target.legend(handles=handles, loc=loc, ncols=ncols, frameon=False, fontsize=9)


def money_tick(value: float, _pos=None) -> str:
    """A money tick label (a tick formatter, picklable so the chart can be cached)."""
    return format_money(value)


def axis_value(value: float, _pos=None, *, unit: str) -> str:
    """A tick label: ``8%``, ``+40``, ``1.5M``, ``120`` (a tick formatter: ``pos`` unused)."""
    if unit == "points":
        return f"{value:+.0f}" if round(value) else "0"
    text = format_value(value, unit, compact=True)
    return text.replace(".0%", "%") if unit == "%" else text


def money_axis(axis: Axis, nbins: int | None = None) -> None:
    """Money ticks (:func:`money_tick`), at most ``nbins`` intervals when given."""
    if nbins is not None:
        axis.set_major_locator(mticker.MaxNLocator(nbins))
    axis.set_major_formatter(mticker.FuncFormatter(money_tick))


def percent_axis(axis: Axis) -> None:
    """Ticks of values in %: ``40%``."""
    axis.set_major_formatter(mticker.PercentFormatter(decimals=0))


def count_axis(axis: Axis) -> None:
    """Whole-number ticks with thousands separators: ``1,200``."""
    axis.set_major_locator(mticker.MaxNLocator(integer=True))
    axis.set_major_formatter(mticker.StrMethodFormatter("{x:,.0f}"))


def unit_axis(axis: Axis, unit: str, nbins: int = 5) -> None:
    """Ticks of a KPI in its ``unit`` (:func:`axis_value`), at most ``nbins`` intervals."""
    axis.set_major_formatter(mticker.FuncFormatter(functools.partial(axis_value, unit=unit)))
    axis.set_major_locator(mticker.MaxNLocator(nbins))


__all__ = ["axis_value", "chart_title", "count_axis", "figure_title", "grid", "legend",
           "message", "money_axis", "money_tick", "panel_title", "percent_axis", "unit_axis"]
