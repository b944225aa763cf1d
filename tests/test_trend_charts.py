"""Trend charts: each segment's line is the panel's values, in the segment's colour, with its
95 % band where the KPI has one, and the reported quarter marked."""
from __future__ import annotations

import math

import matplotlib.colors as mcolors
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from segreport import columns as C
from segreport.charts import (
    ALL_COLOR,
    kpi_trend,
    segment_colors,
    sparkline_png,
    trend_panels,
)
from segreport.kpis import ids
from segreport.kpis.frame import kpi_row
from segreport.kpis.panel import QUARTER

NOW = "2026Q3"
NINE = ["2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", NOW]
RETENTION = {"Gold": [90, 91, 92, 93, 94, 93, 92, 93, 95.0],
             "Silver": [80, 82, 81, 83, 84, 85, 84, 86, 85.0],
             C.ALL_SEGMENTS: [85, 86, 86, 88, 89, 89, 88, 89, 90.0]}
REVENUE = {"Gold": [100, 120, 110, 130, 140, 150, 160, 150, 170.0],
           "Silver": [50, 55, 60, 58, 62, 64, 70, 72, 75.0],
           C.ALL_SEGMENTS: [150, 175, 170, 188, 202, 214, 230, 222, 245.0]}
COLORS = segment_colors(["Gold", "Silver"])


@pytest.fixture(scope="module")
def history():
    rows = []
    # an extra, older quarter that the nine-quarter window must leave out
    for quarter, i in [("2024Q2", None)] + list(zip(NINE, range(9))):
        for seg in RETENTION:
            r = 70.0 if i is None else RETENTION[seg][i]
            rows.append(dict(kpi_row(ids.RETENTION_RATE, seg, r, "%", ci_low=r - 1.5, ci_high=r + 1.0),
                             **{QUARTER: quarter}))
            v = 1.0 if i is None else REVENUE[seg][i]
            rows.append(dict(kpi_row(ids.REVENUE, seg, v, "currency"), **{QUARTER: quarter}))
    return pd.DataFrame(rows)


def lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_each_segment_line_draws_the_panel_values_of_the_nine_quarters(history):
    ax = kpi_trend(history, ids.RETENTION_RATE, COLORS, NOW)
    drawn = lines(ax)
    for seg, values in RETENTION.items():
        assert list(drawn[seg].get_ydata()) == values  # 2024Q2 (70) left out
        assert list(drawn[seg].get_xdata()) == list(range(9))
    assert [t.get_text() for t in ax.get_xticklabels()][::4] == ["Q3\n2024", "Q3\n2025", "Q3\n2026"]


def test_each_segment_has_its_colour_and_the_whole_unit_is_grey_and_dashed(history):
    drawn = lines(kpi_trend(history, ids.RETENTION_RATE, COLORS, NOW))
    assert mcolors.to_hex(drawn["Gold"].get_color()) == COLORS["Gold"]
    assert mcolors.to_hex(drawn["Silver"].get_color()) == COLORS["Silver"]
    assert mcolors.to_hex(drawn[C.ALL_SEGMENTS].get_color()) == ALL_COLOR
    assert drawn[C.ALL_SEGMENTS].get_linestyle() == "--"


def test_the_95_percent_band_is_shaded_where_the_kpi_has_one(history):
    ax = kpi_trend(history, ids.RETENTION_RATE, COLORS, NOW)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 3  # Gold, Silver, whole unit
    gold = next(b for b in bands if mcolors.to_hex(b.get_facecolor()[0]) == COLORS["Gold"])
    ys = gold.get_paths()[0].vertices[:, 1]
    # the band spans value - 1.5 to value + 1.0: Gold's 2024Q3 (90) gives 88.5 and 91.0
    assert min(ys) == pytest.approx(88.5) and max(ys) == pytest.approx(96.0)
    revenue = kpi_trend(history, ids.REVENUE, COLORS, NOW)
    assert not [c for c in revenue.collections if isinstance(c, PolyCollection)]


def test_the_reported_quarter_is_marked(history):
    ax = kpi_trend(history, ids.RETENTION_RATE, COLORS, NOW)
    shade = [p for p in ax.patches if p.get_gid() == "reported-quarter"]
    assert len(shade) == 1
    x0, x1 = shade[0].get_extents().x0, shade[0].get_extents().x1  # display units
    left, right = ax.transData.transform([(7.5, 0), (8.5, 0)])[:, 0]
    assert left < x0 < x1 < right  # around x = 8, the ninth quarter
    bold = [t.get_text() for t in ax.get_xticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["Q3\n2026"]
    # the reported quarter's values are dotted
    dots = [c for c in ax.collections if not isinstance(c, PolyCollection)]
    assert sorted(float(d.get_offsets()[0][1]) for d in dots) == [85.0, 90.0, 95.0]


def test_a_total_leaves_the_whole_unit_out(history):
    drawn = lines(kpi_trend(history, ids.REVENUE, COLORS, NOW))
    assert set(drawn) == {"Gold", "Silver"}
    assert list(drawn["Gold"].get_ydata()) == REVENUE["Gold"]


def test_kpi_trend_draws_on_the_axes_it_is_given(history):
    fig = Figure()
    ax = fig.add_subplot()
    assert kpi_trend(history, ids.REVENUE, COLORS, NOW, ax=ax) is ax


def test_the_panels_leave_out_a_kpi_without_values_and_title_the_others(history):
    fig = trend_panels(history, [ids.RETENTION_RATE, ids.NPS, ids.REVENUE], COLORS, NOW,
                       "Key KPIs", {ids.RETENTION_RATE: "Retention", ids.REVENUE: "Revenue"})
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in visible] == ["Retention", "Revenue"]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:3] == ["Gold", "Silver", "Whole unit"] and "reported quarter" in legend


def test_a_missing_quarter_leaves_a_gap_not_a_zero(history):
    gap = history[~((history[QUARTER] == "2025Q3") & (history[C.SEGMENT] == "Gold"))]
    ys = lines(kpi_trend(gap, ids.REVENUE, COLORS, NOW))["Gold"].get_ydata()
    assert math.isnan(ys[4]) and ys[3] == 130.0


def test_a_sparkline_is_a_small_png():
    png = sparkline_png([1, 2, math.nan, 4, 3, 5, 6, 5], "#0173b2")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 2000
