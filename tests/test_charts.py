"""Each chart draws the numbers it is given: bar lengths, line values and heatmap cells
equal the input, labels and ticks write them, a segment has one colour in every chart, and
a chart given an axes draws on it and returns it."""
from __future__ import annotations

import math

import matplotlib.colors as mcolors
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import QuadMesh
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from segreport import charts
from segreport import columns as C
from segreport.charts import chrome, heatmap, kpi_bars, segmentation, trends
from segreport.charts.theme import ALL_COLOR, MUTED, PALETTE, chart_axes, segment_colors
from segreport.formatting import format_money
from segreport.kpis import ids
from segreport.kpis import segmentation as S
from segreport.kpis.frame import kpi_row, to_frame
from segreport.kpis.panel import QUARTER

SEGMENTS = ["Silver", "Gold", "Bronze"]
"""Out of name order: a segment's colour follows its name, not its place in the frame."""
COLORS = segment_colors(SEGMENTS)
VALUES = {  # KPI → (unit, value per segment of SEGMENTS, the whole unit's)
    ids.SEGMENT_GROWTH_RATE: ("%", [4.0, 12.5, -3.0], 5.2),
    ids.RETENTION_RATE: ("%", [82.0, 91.5, 70.25], 84.0),
    ids.CHURN_RATE: ("%", [18.0, 8.5, 29.75], 16.0),
    ids.REVENUE: ("currency", [1200.0, 5400.0, 400.0], 7000.0),
    ids.SALES_CONTRIBUTION: ("%", [17.1, 77.2, 5.7], 100.0),
    ids.CUSTOMERS_START: ("customers", [300.0, 120.0, 80.0], 500.0),
    ids.CUSTOMERS_END: ("customers", [310.0, 125.0, 60.0], 495.0),
    ids.NEW_CUSTOMERS: ("customers", [40.0, 12.0, 5.0], 57.0),
    ids.CSAT: ("%", [78.0, 88.0, 64.0], 80.0),
}
CSAT_CI = {"Silver": (75.0, 81.0), "Gold": (84.0, 91.0), "Bronze": (50.0, 76.0), C.ALL_SEGMENTS: (78.0, 82.0)}
CSAT_PREVIOUS = {"Silver": 77.0, "Gold": 90.0, "Bronze": 66.0, C.ALL_SEGMENTS: 79.0}


@pytest.fixture(scope="module")
def kpis() -> pd.DataFrame:
    rows = []
    for kpi, (unit, values, whole) in VALUES.items():
        for seg, value in list(zip(SEGMENTS, values)) + [(C.ALL_SEGMENTS, whole)]:
            extra = {}
            if kpi == ids.CSAT:
                low, high = CSAT_CI[seg]
                extra = {"ci_low": low, "ci_high": high, "small_sample": seg == "Bronze"}
            rows.append(kpi_row(kpi, seg, value, unit, **extra))
    frame = to_frame(rows)
    previous = frame[C.SEGMENT].map(CSAT_PREVIOUS).where(frame[C.KPI] == ids.CSAT)
    return frame.assign(**{C.PREVIOUS_VALUE: previous})


def bars(ax: Axes, which: int = 0) -> list:
    """The rectangles of the ``which``-th bar call on ``ax``."""
    return list([c for c in ax.containers if isinstance(c, BarContainer)][which])


def widths(ax: Axes, which: int = 0) -> list[float]:
    return [float(b.get_width()) for b in bars(ax, which)]


def fills(ax: Axes, which: int = 0) -> list[str]:
    return [mcolors.to_hex(b.get_facecolor()) for b in bars(ax, which)]


def texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


def title(ax: Axes) -> str:
    return ax.get_title(loc="left").strip()


def subtitle(ax: Axes) -> str:
    """The chart's subtitle, unwrapped (:func:`chrome.chart_title` writes it at y = 1.02)."""
    return " ".join(t.get_text().replace("\n", " ") for t in ax.texts if t.get_position() == (0, 1.02))


def yticks(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


# --- KPI bars ---------------------------------------------------------------------------
def test_growth_bars_are_the_growth_rates_labelled_signed_in_segment_colours(kpis):
    ax = kpi_bars.growth_plot(kpis, COLORS)
    assert widths(ax) == [4.0, 12.5, -3.0, 5.2]  # the frame's order, the whole unit last
    assert yticks(ax) == SEGMENTS + [C.ALL_SEGMENTS]
    assert fills(ax) == [COLORS[s] for s in SEGMENTS] + [ALL_COLOR]
    assert {" +4.0% ", " +12.5% ", " -3.0% ", " +5.2% "} <= set(texts(ax))
    assert title(ax) == "Segment growth rate" and "dashed lines" in subtitle(ax)
    assert ax.xaxis.get_major_formatter()(10) == "10%"


def test_retention_bars_stack_the_retained_and_the_churned_share(kpis):
    ax = kpi_bars.retention_plot(kpis, COLORS)
    retained, churned = VALUES[ids.RETENTION_RATE], VALUES[ids.CHURN_RATE]
    assert widths(ax, 0) == retained[1] + [retained[2]]
    assert widths(ax, 1) == churned[1] + [churned[2]]
    assert [b.get_x() for b in bars(ax, 1)] == widths(ax, 0)  # churned starts where retained ends
    assert fills(ax, 0) == [COLORS[s] for s in SEGMENTS] + [ALL_COLOR]
    assert set(fills(ax, 1)) == {MUTED}
    assert "91.5% retained" in texts(ax) and "29.8% churned" in texts(ax)
    assert title(ax) == "Retention and churn"


def test_revenue_bars_are_the_segments_revenue_with_money_ticks(kpis):
    ax = kpi_bars.revenue_mix_plot(kpis, COLORS)
    assert widths(ax) == VALUES[ids.REVENUE][1]  # the whole unit is in the subtitle
    assert yticks(ax) == SEGMENTS
    assert fills(ax) == [COLORS[s] for s in SEGMENTS]
    assert " 5.4k  (77.2% of sales)" in texts(ax)
    assert subtitle(ax).endswith("unit total 7.0k")
    assert ax.xaxis.get_major_formatter()(2500) == format_money(2500) == "2.5k"


def test_customer_flow_draws_start_end_and_new_customers(kpis):
    ax = kpi_bars.customer_flow_plot(kpis, COLORS)
    assert [widths(ax, i) for i in range(3)] == [VALUES[k][1] for k in (
        ids.CUSTOMERS_START, ids.CUSTOMERS_END, ids.NEW_CUSTOMERS)]
    assert fills(ax, 1) == [COLORS[s] for s in SEGMENTS]
    assert [mcolors.to_hex(b.get_edgecolor()) for b in bars(ax, 2)] == [COLORS[s] for s in SEGMENTS]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "active at start", "active at end", "new in quarter"]
    assert not ax.get_legend().get_frame_on()
    assert ax.xaxis.get_major_formatter()(1200) == "1,200"


def test_kpi_bars_draw_value_interval_last_quarter_and_small_sample(kpis):
    ax = kpi_bars.kpi_bar_plot(kpis, ids.CSAT, COLORS, "CSAT", "Share of 4 and 5")
    order = SEGMENTS + [C.ALL_SEGMENTS]
    assert widths(ax) == VALUES[ids.CSAT][1] + [VALUES[ids.CSAT][2]]
    whiskers = ax.collections[0].get_segments()  # one horizontal line per bar
    assert [(s[0][0], s[1][0]) for s in whiskers] == [CSAT_CI[s] for s in order]
    ticks = ax.collections[1].get_offsets()  # last quarter's values
    assert [float(x) for x in ticks[:, 0]] == [CSAT_PREVIOUS[s] for s in order]
    assert [b.get_hatch() for b in bars(ax)] == ["", "", "//", ""]  # Bronze: small sample
    assert texts(ax)[:4] == ["78.0%", "88.0%", "64.0% †", "80.0%"]
    assert title(ax) == "CSAT"
    assert subtitle(ax) == ("Share of 4 and 5; whiskers: 95% interval; black tick: last quarter; "
                            "† hatched: small sample (<30)")


def test_kpi_bars_without_a_title_have_none(kpis):
    ax = kpi_bars.kpi_bar_plot(kpis, ids.REVENUE, COLORS)
    assert title(ax) == "" and texts(ax) == ["1.2k", "5.4k", "400", "7.0k"]


def test_kpi_panels_compose_one_kpi_bar_plot_per_kpi_in_the_frame(kpis):
    fig = kpi_bars.kpi_panels(kpis, [ids.CSAT, ids.NPS, ids.REVENUE], COLORS, "Two KPIs",
                              {ids.CSAT: "CSAT", ids.REVENUE: "Revenue"})
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in shown] == ["CSAT", "Revenue"]  # NPS: no rows
    assert widths(shown[1]) == VALUES[ids.REVENUE][1] + [VALUES[ids.REVENUE][2]]
    assert fig.get_suptitle() == ("Two KPIs\nwhiskers: 95% interval; black tick: last quarter; "
                                  "† hatched: small sample (<30)")


# --- a segment's colour -----------------------------------------------------------------
def test_a_segment_has_the_same_colour_in_every_chart(kpis):
    history = pd.concat([kpis.assign(**{QUARTER: q}) for q in ("2026Q2", "2026Q3")])
    trend = {line.get_label(): mcolors.to_hex(line.get_color())
             for line in trends.kpi_trend(history, ids.CSAT, COLORS, "2026Q3").get_lines()}
    drawn = [dict(zip(yticks(ax), fills(ax, which))) for ax, which in [
        (kpi_bars.growth_plot(kpis, COLORS), 0), (kpi_bars.retention_plot(kpis, COLORS), 0),
        (kpi_bars.revenue_mix_plot(kpis, COLORS), 0), (kpi_bars.customer_flow_plot(kpis, COLORS), 1),
        (kpi_bars.kpi_bar_plot(kpis, ids.CSAT, COLORS), 0)]] + [trend]
    for seg in SEGMENTS:
        assert {chart[seg] for chart in drawn} == {COLORS[seg]}
    assert COLORS == {"Bronze": PALETTE[0], "Gold": PALETTE[1], "Silver": PALETTE[2],
                      C.ALL_SEGMENTS: ALL_COLOR}


# --- given an axes, a chart draws on it ---------------------------------------------------
@pytest.mark.parametrize("draw", [
    lambda kpis, ax: kpi_bars.growth_plot(kpis, COLORS, ax=ax),
    lambda kpis, ax: kpi_bars.retention_plot(kpis, COLORS, ax=ax),
    lambda kpis, ax: kpi_bars.revenue_mix_plot(kpis, COLORS, ax=ax),
    lambda kpis, ax: kpi_bars.customer_flow_plot(kpis, COLORS, ax=ax),
    lambda kpis, ax: kpi_bars.kpi_bar_plot(kpis, ids.CSAT, COLORS, "CSAT", ax=ax),
    lambda kpis, ax: segmentation.rfm_plot(rfm_frame({S.CHAMPIONS: 2}), ax=ax),
    lambda kpis, ax: segmentation.cluster_measure_plot(PROFILE, S.CUSTOMERS, ax=ax),
    lambda kpis, ax: segmentation.migration_plot(SHARES, ax=ax),
    lambda kpis, ax: segmentation.cohort_plot(COHORTS, ax=ax),
    lambda kpis, ax: heatmap.annotated_heatmap(COHORTS, cmap="Blues", title="t", subtitle="s",
                                               empty="e", xlabel="x", ylabel="y", ax=ax),
], ids=["growth", "retention", "revenue", "flow", "kpi", "rfm", "cluster", "migration",
        "cohort", "heatmap"])
def test_a_chart_given_an_axes_draws_on_it_and_returns_it(kpis, draw):
    fig = Figure()
    ax = fig.add_subplot()
    assert draw(kpis, ax) is ax
    assert fig.axes == [ax] and (ax.patches or ax.collections or ax.texts)
    own = draw(kpis, None)  # without one: a new figure's only axes
    assert isinstance(own, Axes) and own.figure is not fig and own.figure.axes == [own]


@pytest.mark.parametrize("name", ["growth", "retention", "revenue_mix", "customer_flow"])
def test_the_report_chart_is_the_figure_of_its_plot(kpis, name):
    fig = getattr(charts, f"{name}_chart")(kpis, COLORS)
    ax = getattr(charts, f"{name}_plot")(kpis, COLORS)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    assert widths(fig.axes[0]) == widths(ax) and title(fig.axes[0]) == title(ax)
    assert tuple(fig.get_size_inches()) == tuple(ax.figure.get_size_inches())


# --- segmentation -------------------------------------------------------------------------
def rfm_frame(counts: dict[str, int]) -> pd.DataFrame:
    names = [seg for seg, n in counts.items() for _ in range(n)]
    return pd.DataFrame({S.RFM_SEGMENT: pd.Categorical(names, categories=list(S.RFM_SEGMENTS))})


PROFILE = pd.DataFrame({S.GROUP: [1, 2], S.CUSTOMERS: [30, 70], S.SHARE: [30.0, 70.0],
                        S.RECENCY_MEAN: [12.0, 140.0], S.FREQUENCY_MEAN: [8.5, 1.5],
                        S.MONETARY_MEAN: [2400.0, 150.0]},
                       index=pd.Index(["Recent high spenders", "Lapsing low spenders"],
                                      name=S.GROUP_NAME))
SHARES = pd.DataFrame([[75.0, 25.0], [10.0, 90.0]], index=["X", "Y"], columns=["X", "Y"])
COHORTS = pd.DataFrame([[100.0, 50.0, 33.3333], [100.0, 62.5, math.nan]],
                       index=["2026Q1", "2026Q2"], columns=[0, 1, 2])


def test_rfm_bars_are_the_customers_of_each_named_segment():
    ax = segmentation.rfm_plot(rfm_frame({S.CHAMPIONS: 3, S.AT_RISK: 1}))
    counts = [3 if s == S.CHAMPIONS else 1 if s == S.AT_RISK else 0 for s in S.RFM_SEGMENTS]
    assert widths(ax) == counts and yticks(ax) == list(S.RFM_SEGMENTS)
    assert fills(ax) == [segmentation.RFM_COLORS[s] for s in S.RFM_SEGMENTS]
    assert " 3  (75.0%)" in texts(ax) and title(ax) == "RFM segments"


def test_cluster_profile_draws_each_measure_of_each_group_in_its_colour():
    result = S.ClusterResult(labels=pd.Series(dtype=object), k=2, silhouettes={2: 0.61},
                             profile=PROFILE, n_customers=100)
    fig = segmentation.cluster_profile_chart(result)
    head, *panels = fig.axes
    assert title(head) == "Behaviour groups" and "silhouette 0.61" in subtitle(head)
    assert [p.get_title(loc="left") for p in panels] == [
        label for label, _ in segmentation.PROFILE_MEASURES.values()]
    for panel, column in zip(panels, segmentation.PROFILE_MEASURES):
        assert widths(panel) == list(PROFILE[column].astype(float))
        assert fills(panel) == segmentation.group_colors(2) == PALETTE[:2]
    assert texts(panels[0]) == [" 30 (30%)", " 70 (70%)"]
    assert texts(panels[3]) == [" 2.4k", " 150"]
    assert yticks(panels[0]) == ["1. Recent high spenders", "2. Lapsing low spenders"]


def cells(ax: Axes) -> list[float]:
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    return [float(v) for v in mesh.get_array().filled(math.nan).ravel()]


def same(a: list[float], b: list[float]) -> bool:
    return all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b, strict=True))


def test_the_heatmap_cells_and_their_texts_are_the_input_numbers():
    ax = heatmap.annotated_heatmap(COHORTS, cmap="YlGnBu", title="T", subtitle="S", empty="E",
                                   xlabel="x", ylabel="y", row_labels=["a", "b"])
    assert same(cells(ax), list(COHORTS.to_numpy().ravel()))
    assert texts(ax)[:5] == ["100%", "50%", "33%", "100%", "62%"]  # the missing cell has none
    assert yticks(ax) == ["a", "b"] and ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    assert title(ax) == "T" and subtitle(ax) == "S"
    empty = heatmap.annotated_heatmap(COHORTS.iloc[:0], cmap="YlGnBu", title="T", subtitle="S",
                                      empty="E", xlabel="x", ylabel="y")
    assert "E" in texts(empty) and not empty.axison and title(empty) == "T"


def test_migration_and_cohorts_are_the_one_annotated_heatmap(monkeypatch):
    calls = []
    real = segmentation.annotated_heatmap
    monkeypatch.setattr(segmentation, "annotated_heatmap",
                        lambda data, **kw: calls.append(data) or real(data, **kw))
    matrix = pd.DataFrame([[3, 1], [1, 9]], index=["X", "Y"], columns=["X", "Y"])
    migration = segmentation.migration_plot(SHARES, matrix)
    cohorts = segmentation.cohort_plot(COHORTS, pd.Series({"2026Q1": 1200, "2026Q2": 8}))
    assert [id(c) for c in calls] == [id(SHARES), id(COHORTS)]
    assert same(cells(migration), [75.0, 25.0, 10.0, 90.0])
    assert texts(migration)[:4] == ["75%", "25%", "10%", "90%"]
    assert yticks(migration) == ["X (4)", "Y (10)"]
    assert [t.get_text() for t in migration.get_xticklabels()] == ["X", "Y"]
    assert title(migration) == "Segment migration" and migration.get_ylabel() == "previous period"
    assert yticks(cohorts) == ["2026Q1 (1,200)", "2026Q2 (8)"]
    assert title(cohorts) == "Cohort retention"
    assert cohorts.get_xlabel() == "quarters since acquisition"
    assert cohorts.get_ylabel() == "acquisition quarter"


# --- chrome -------------------------------------------------------------------------------
def test_the_chrome_titles_wraps_and_formats():
    ax = chart_axes(3.0, 4.0)
    chrome.chart_title(ax, "Title", "word " * 30)
    lines = next(t for t in ax.texts if t.get_position() == (0, 1.02)).get_text().split("\n")
    assert len(lines) == 4 and all(len(line) <= 43 for line in lines)  # 4 in × 0.8 × 13.5
    assert ax.get_title(loc="left") == "Title" + "\n" * len(lines)
    ax.grid(True)
    chrome.grid(ax, "x")
    assert all(line.get_visible() for line in ax.xaxis.get_gridlines())
    assert not any(line.get_visible() for line in ax.yaxis.get_gridlines())
    chrome.percent_axis(ax.yaxis)
    assert ax.yaxis.get_major_formatter()(42) == "42%"
    assert chrome.money_tick(3_400_000) == "3.4M"
    assert chrome.axis_value(40, unit="points") == "+40" and chrome.axis_value(8, unit="%") == "8%"
    chrome.unit_axis(ax.xaxis, "points")
    assert ax.xaxis.get_major_formatter()(-5) == "-5"
    fig = Figure()
    chrome.figure_title(fig, "Panels", ["a", "b"])
    assert fig.get_suptitle() == "Panels\na; b"
