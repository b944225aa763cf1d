"""Charts of the behavioural segmentation: RFM segments, behaviour groups, migration, cohorts.

Each ``*_plot`` function draws on one axes (``ax``, or a new figure's when ``None``) and
returns the :class:`~matplotlib.axes.Axes`; :func:`rfm_chart`, :func:`migration_heatmap`,
:func:`cohort_heatmap` and :func:`cluster_profile_chart` (several axes) return the report's
:class:`~matplotlib.figure.Figure` (what the notebook shows).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from segreport.charts import chrome
from segreport.charts.heatmap import annotated_heatmap
from segreport.charts.theme import PALETTE, WIDTH, bar_rows_height, chart_axes
from segreport.data.quarterly import ACQUISITION_QUARTER, QUARTERS_SINCE
from segreport.formatting import format_money
from segreport.kpis import segmentation as S

RFM_COLORS = dict(zip(S.RFM_SEGMENTS, sns.color_palette("RdYlGn_r", len(S.RFM_SEGMENTS)).as_hex()))
"""Named RFM segment → colour: the best segment green, the worst red, so the reader sees
where the customers sit at a glance."""


def group_colors(k: int) -> list[str]:
    """The colours of behaviour groups 1 to ``k``, in order (the report's palette)."""
    return [PALETTE[i % len(PALETTE)] for i in range(k)]


def rfm_plot(rfm: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Customers per named RFM segment, horizontal bars from Champions to Hibernating,
    each labelled with its count and share (%), in :data:`RFM_COLORS`.

    Parameters
    ----------
    rfm
        Output of :func:`segreport.kpis.segmentation.rfm_scores`.
    ax
        The axes to draw on; a new figure's when ``None``.
    """
    counts = S.rfm_segment_counts(rfm)
    ax = chart_axes(bar_rows_height(len(counts), 0.45, 1.6), ax=ax)
    total = int(counts[S.CUSTOMERS].sum())
    subtitle = (f"{total:,} customers with an order in the last 12 months, by recency (R) and "
                "frequency (F) score")
    if total == 0:
        chrome.message(ax, "No customer ordered in the last 12 months")
        chrome.chart_title(ax, "RFM segments", subtitle)
        return ax
    y = list(range(len(counts)))
    ax.barh(y, counts[S.CUSTOMERS], color=[RFM_COLORS[s] for s in counts.index], height=0.65)
    top = max(int(counts[S.CUSTOMERS].max()), 1)
    for i, (n, share) in enumerate(zip(counts[S.CUSTOMERS], counts[S.SHARE])):
        ax.text(n + 0.01 * top, i, f" {n:,}  ({share:.1f}%)", va="center", fontsize=10)
    ax.set_yticks(y, list(counts.index))
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.25)
    chrome.count_axis(ax.xaxis)
    ax.set_xlabel("customers")
    chrome.grid(ax, "x")
    chrome.chart_title(ax, "RFM segments", subtitle)
    return ax


PROFILE_MEASURES = {
    S.CUSTOMERS: ("Customers", lambda v, row: f"{v:,.0f} ({row[S.SHARE]:.0f}%)"),
    S.RECENCY_MEAN: ("Days since last order", lambda v, row: f"{v:.0f}"),
    S.FREQUENCY_MEAN: ("Orders, 12 months", lambda v, row: f"{v:.1f}"),
    S.MONETARY_MEAN: ("Net spend, 12 months", lambda v, row: format_money(v)),
}
"""The panels of :func:`cluster_profile_chart`: profile column → (panel title, bar label
from the value and the group's profile row)."""


def cluster_measure_plot(profile: pd.DataFrame, column: str, ax: Axes | None = None,
                         labels: bool = True) -> Axes:
    """One measure of :data:`PROFILE_MEASURES` per behaviour group: a bar per group in its
    colour (:func:`group_colors`), labelled with its value.

    Parameters
    ----------
    profile
        :attr:`segreport.kpis.segmentation.ClusterResult.profile`.
    column
        The measure, a key of :data:`PROFILE_MEASURES`.
    ax
        The axes to draw on; a new figure's when ``None``.
    labels
        Write the groups down the y axis, group 1 on top; ``False`` for a panel that
        shares its y axis with one that has them.
    """
    title, fmt = PROFILE_MEASURES[column]
    k = len(profile)
    ax = chart_axes(bar_rows_height(k, 0.6, 1.9), WIDTH / 2, ax=ax)
    y = list(range(k))
    values = profile[column].astype("float64").to_numpy()
    ax.barh(y, values, color=group_colors(k), height=0.6)
    top = max(float(np.nanmax(values)) if len(values) else 0.0, 1e-9)
    for i, (v, (_, row)) in enumerate(zip(values, profile.iterrows())):
        ax.text(v + 0.02 * top, i, " " + fmt(v, row), va="center", fontsize=9.5)
    ax.set_xlim(0, top * 1.55)
    chrome.panel_title(ax, title, 10.5, fontweight="normal")
    chrome.money_axis(ax.xaxis, nbins=3)
    chrome.grid(ax, "x")
    if labels:
        ax.set_yticks(y, [f"{g}. {name}" for g, name in zip(profile[S.GROUP], profile.index)])
        ax.invert_yaxis()
    else:
        ax.tick_params(axis="y", labelleft=False)
    return ax


def cluster_profile_chart(result: S.ClusterResult) -> Figure:
    """Size and mean recency, frequency and monetary value of each behaviour group.

    One panel per measure (:func:`cluster_measure_plot`), the groups as rows (group 1, the
    highest spenders, on top), each group in its own colour and each bar labelled with its
    value.

    Returns
    -------
    The :class:`matplotlib.figure.Figure`.
    """
    profile = result.profile
    k = len(profile)
    fig = Figure(figsize=(WIDTH + 2, bar_rows_height(k, 0.6, 1.9)), layout="constrained")
    title = "Behaviour groups"
    if result.empty or k == 0:
        ax = fig.add_subplot()
        chrome.message(ax, f"No behaviour groups: {result.reason}")
        chrome.chart_title(ax, title, "k-means on recency, frequency and monetary value")
        return fig
    grid = fig.add_gridspec(2, len(PROFILE_MEASURES), height_ratios=[0.001, 1])
    head = fig.add_subplot(grid[0, :])
    head.set_axis_off()
    chrome.chart_title(head, title, f"{k} groups of {result.n_customers:,} customers with an "
                       f"order in the last 12 months (k-means, silhouette {result.silhouette:.2f}); "
                       "group means")
    first = None
    for j, column in enumerate(PROFILE_MEASURES):
        ax = fig.add_subplot(grid[1, j], sharey=first)
        first = first or ax
        cluster_measure_plot(profile, column, ax=ax, labels=j == 0)
    return fig


MIGRATION_SUBTITLE = ("Of the customers in each segment last period (rows), the share in each "
                      "segment now (columns); (none): not in the population on that side")


def migration_plot(shares: pd.DataFrame, matrix: pd.DataFrame | None = None,
                   ax: Axes | None = None) -> Axes:
    """Row percentages of a migration matrix as an :func:`annotated_heatmap`.

    Parameters
    ----------
    shares
        Output of :func:`segreport.kpis.segmentation.migration_shares`: rows = previous
        segment, columns = this period's segment, values in %.
    matrix
        Optional counts (:func:`segreport.kpis.segmentation.segment_migration`); when given
        the row labels show how many customers each previous segment had.
    ax
        The axes to draw on; a new figure's (wide enough for the columns) when ``None``.
    """
    n = max(len(shares.index), len(shares.columns))
    ax = chart_axes(bar_rows_height(n, 0.5, 2.4), max(WIDTH, 1.5 + 0.95 * len(shares.columns)),
                  ax=ax)
    rows = list(map(str, shares.index))
    if matrix is not None:
        totals = matrix.sum(axis=1).reindex(shares.index).fillna(0)
        rows = [f"{r} ({int(t):,})" for r, t in zip(rows, totals)]
    return annotated_heatmap(shares, cmap="Blues", title="Segment migration",
                             subtitle=MIGRATION_SUBTITLE, empty="No customers to compare",
                             xlabel="this period", ylabel="previous period", row_labels=rows,
                             column_labels=list(map(str, shares.columns)), width_share=0.6, ax=ax)


COHORT_SUBTITLE = ("Share of each acquisition cohort ordering in each quarter after acquisition "
                   "(0 = the acquisition quarter)")


def cohort_plot(cohorts: pd.DataFrame, sizes: pd.Series | None = None,
                ax: Axes | None = None) -> Axes:
    """Cohort retention as an :func:`annotated_heatmap`: acquisition quarter × quarters
    since, in %.

    Parameters
    ----------
    cohorts
        Output of :func:`segreport.data.quarterly.cohort_retention` (%).
    sizes
        Optional cohort sizes (:func:`segreport.data.quarterly.cohort_sizes`), shown in the
        row labels.
    ax
        The axes to draw on; a new figure's when ``None``.
    """
    rows = list(map(str, cohorts.index))
    if sizes is not None:
        sized = sizes.reindex(cohorts.index)
        rows = [r if pd.isna(n) else f"{r} ({int(n):,})" for r, n in zip(rows, sized)]
    return annotated_heatmap(cohorts, cmap="YlGnBu", title="Cohort retention",
                             subtitle=COHORT_SUBTITLE, empty="No acquisition cohort in the data",
                             xlabel=QUARTERS_SINCE.replace("_", " "),
                             ylabel=ACQUISITION_QUARTER.replace("_", " "), row_labels=rows,
                             width_share=0.65, ax=ax)


def rfm_chart(rfm: pd.DataFrame) -> Figure:
    """The report's figure of :func:`rfm_plot`."""
    return rfm_plot(rfm).figure


def migration_heatmap(shares: pd.DataFrame, matrix: pd.DataFrame | None = None) -> Figure:
    """The report's figure of :func:`migration_plot`."""
    return migration_plot(shares, matrix).figure


def cohort_heatmap(cohorts: pd.DataFrame, sizes: pd.Series | None = None) -> Figure:
    """The report's figure of :func:`cohort_plot`."""
    return cohort_plot(cohorts, sizes).figure


__all__ = ["COHORT_SUBTITLE", "MIGRATION_SUBTITLE", "PROFILE_MEASURES", "RFM_COLORS",
           "cluster_measure_plot", "cluster_profile_chart", "cohort_heatmap", "cohort_plot",
           "group_colors", "migration_heatmap", "migration_plot", "rfm_chart", "rfm_plot"]
