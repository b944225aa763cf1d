"""The report's look: its seaborn theme, its colours, one colour per segment, and the
figure of a chart drawn on its own (the report's width, a height by its rows)."""
from __future__ import annotations

import math
from collections.abc import Iterable

import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from segreport.kpis.spec import load_specs
from segreport.palette import ALL_COLOR as ALL_COLOR
from segreport.palette import PALETTE as PALETTE
from segreport.palette import segment_colors as segment_colors

MUTED = "#d9d9d9"
TEXT = "#222222"
GOOD, MIDDLE, BAD = "#1a9850", "#f0a30a", "#d73027"
WIDTH = 9.0
"""Width of a report chart, inches."""


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
    between (the spec's band order and ``higher_is_better`` decide which is best)."""
    spec = load_specs().get(kpi)
    labels = [b.label for b in spec.bands] if spec else []
    if band not in labels:
        return "#888888"
    rank = labels.index(band) / max(len(labels) - 1, 1)  # 0 = top band (highest values)
    if spec.higher_is_better is False:
        rank = 1 - rank
    return GOOD if rank < 0.34 else (BAD if rank > 0.66 else MIDDLE)


def fill_of(colors: dict[str, str], segments: Iterable[str]) -> list[str]:
    """The colour of each of ``segments`` in ``colors`` (:func:`segment_colors`), grey for
    a segment it does not have."""
    return [colors.get(s, ALL_COLOR) for s in segments]


def chart_axes(height: float, width: float = WIDTH, ax: Axes | None = None) -> Axes:
    """The axes a chart draws on: ``ax`` when given, else the one axes of a new figure,
    ``width`` × ``height`` inches, laid out by matplotlib's constrained layout."""
    if ax is not None:
        return ax
    return Figure(figsize=(width, height), layout="constrained").add_subplot()


def bar_rows_height(n_rows: float, per_row: float = 0.55, base: float = 1.2) -> float:
    """Height of a chart of ``n_rows`` horizontal bars (at least one), inches:
    ``base + per_row × n_rows``."""
    return base + per_row * max(n_rows, 1)


def new_panels(n_panels: int, columns: int, per_row: float, base: float) -> tuple[Figure, list[Axes]]:
    """A new figure of small multiples: ``n_panels`` axes in rows of ``columns`` (the
    grid's spare cells hidden), :data:`WIDTH` wide and ``base + per_row × rows`` inches
    high.

    Returns
    -------
    The figure and its ``n_panels`` visible axes, row by row.
    """
    rows = max(1, math.ceil(n_panels / columns))
    fig = Figure(figsize=(WIDTH, bar_rows_height(rows, per_row, base)), layout="constrained")
    axes = list(fig.subplots(rows, columns, squeeze=False).flat)
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]
