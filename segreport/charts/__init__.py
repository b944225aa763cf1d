"""Charts: one theme and one colour per segment, shared by every chart of the report.

The modules, one job each:

- :mod:`~segreport.charts.theme`: the seaborn theme, the colours, a segment's colour
  (:func:`segment_colors`), a new figure;
- :mod:`~segreport.charts.chrome`: titles, grid, legend, tick formatters (every chart's);
- :mod:`~segreport.charts.kpi_bars`: a KPI per segment as bars, and their panels;
- :mod:`~segreport.charts.trends`: a KPI per segment over the quarters, and sparklines;
- :mod:`~segreport.charts.heatmap`: the annotated heatmap;
- :mod:`~segreport.charts.segmentation`: RFM segments, behaviour groups, migration, cohorts;
- :mod:`~segreport.charts.figure_cache`: a chart's compact PNG, kept by its fingerprint.

Seaborn's two kinds of function: an axes-level chart (``*_plot``, :func:`kpi_trend`,
:func:`~segreport.charts.heatmap.annotated_heatmap`) takes ``ax=None``, draws on that axes
(on a new figure's when ``None``) and returns the :class:`~matplotlib.axes.Axes`; a
figure-level chart (``*_chart``, ``*_panels``, ``*_heatmap``) returns the report's
:class:`~matplotlib.figure.Figure`, the one the notebook shows: one axes-level chart on its
own figure, or several composed by passing their axes. None shows what it draws.
"""
from __future__ import annotations

from segreport.charts.chrome import money_tick
from segreport.charts.figure_cache import (
    FIGURE_CACHE,
    FIGURES_KEPT,
    compact_png,
    figure_fingerprint,
    figure_png,
    use_compact_png,
)
from segreport.charts.kpi_bars import (
    customer_flow_chart,
    customer_flow_plot,
    growth_chart,
    growth_plot,
    kpi_bar_chart,
    kpi_bar_plot,
    kpi_panels,
    retention_chart,
    retention_plot,
    revenue_mix_chart,
    revenue_mix_plot,
)
from segreport.charts.theme import (
    ALL_COLOR,
    BAD,
    GOOD,
    MIDDLE,
    MUTED,
    TEXT,
    WIDTH,
    band_color,
    segment_colors,
    set_theme,
)
from segreport.charts.trends import (
    REPORTED_SHADE,
    TOTALS,
    TREND_WINDOW,
    kpi_trend,
    sparkline_png,
    trend_panels,
)

__all__ = ["ALL_COLOR", "BAD", "FIGURES_KEPT", "FIGURE_CACHE", "GOOD", "MIDDLE", "MUTED",
           "REPORTED_SHADE", "TEXT", "TOTALS", "TREND_WINDOW", "WIDTH", "band_color",
           "compact_png", "customer_flow_chart", "customer_flow_plot", "figure_fingerprint",
           "figure_png", "growth_chart", "growth_plot", "kpi_bar_chart", "kpi_bar_plot",
           "kpi_panels", "kpi_trend", "money_tick", "retention_chart", "retention_plot",
           "revenue_mix_chart", "revenue_mix_plot", "segment_colors", "set_theme",
           "sparkline_png", "trend_panels", "use_compact_png"]
