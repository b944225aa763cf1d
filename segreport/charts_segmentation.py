"""Charts of the behavioural segmentation: RFM segments, behaviour groups, migration, cohorts.

Same look as :mod:`segreport.charts` (its theme, title and subtitle); every function
returns a :class:`matplotlib.figure.Figure` without showing it.
"""
from __future__ import annotations

import math

import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from segreport.charts import WIDTH, _chrome, money_tick
from segreport.data.quarterly import ACQUISITION_QUARTER, QUARTERS_SINCE
from segreport.formatting import format_money
from segreport.kpis import segmentation as S

# Best segment green, worst red: the reader sees where the customers sit at a glance.
_RFM_COLORS = dict(zip(S.RFM_SEGMENTS, sns.color_palette("RdYlGn_r", len(S.RFM_SEGMENTS)).as_hex()))
_GROUP_PALETTE = sns.color_palette("colorblind", 10).as_hex()


def _message(ax, text: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=11, color="#555555", wrap=True,
            transform=ax.transAxes)


def _height(rows: int, per_row: float = 0.45, base: float = 1.6) -> float:
    return base + per_row * max(rows, 1)


def rfm_chart(rfm: pd.DataFrame) -> Figure:
    """Customers per named RFM segment, horizontal bars from Champions to Hibernating.

    Parameters
    ----------
    rfm
        Output of :func:`segreport.kpis.segmentation.rfm_scores`.
    """
    counts = S.rfm_segment_counts(rfm)
    fig = Figure(figsize=(WIDTH, _height(len(counts))), layout="constrained")
    ax = fig.add_subplot()
    total = int(counts[S.CUSTOMERS].sum())
    subtitle = (f"{total:,} customers with an order in the last 12 months, by recency (R) and "
                "frequency (F) score")
    if total == 0:
        _message(ax, "No customer ordered in the last 12 months")
        _chrome(ax, "RFM segments", subtitle)
        return fig
    y = list(range(len(counts)))
    ax.barh(y, counts[S.CUSTOMERS], color=[_RFM_COLORS[s] for s in counts.index], height=0.65)
    top = max(int(counts[S.CUSTOMERS].max()), 1)
    for i, (n, share) in enumerate(zip(counts[S.CUSTOMERS], counts[S.SHARE])):
        ax.text(n + 0.01 * top, i, f" {n:,}  ({share:.1f}%)", va="center", fontsize=10)
    ax.set_yticks(y, list(counts.index))
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.25)
    ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(mticker.StrMethodFormatter("{x:,.0f}"))
    ax.set_xlabel("customers")
    ax.grid(axis="y", visible=False)
    _chrome(ax, "RFM segments", subtitle)
    return fig


_PROFILE_PANELS = (
    (S.CUSTOMERS, "Customers", lambda v, row: f"{v:,.0f} ({row[S.SHARE]:.0f}%)"),
    (S.RECENCY_MEAN, "Days since last order", lambda v, row: f"{v:.0f}"),
    (S.FREQUENCY_MEAN, "Orders, 12 months", lambda v, row: f"{v:.1f}"),
    (S.MONETARY_MEAN, "Net spend, 12 months", lambda v, row: format_money(v)),
)


def cluster_profile_chart(result: S.ClusterResult) -> Figure:
    """Size and mean recency, frequency and monetary value of each behaviour group.

    One panel per measure, the groups as rows (group 1, the highest spenders, on top),
    each group in its own colour and each bar labelled with its value.
    """
    profile = result.profile
    k = len(profile)
    fig = Figure(figsize=(WIDTH + 2, _height(k, 0.6, 1.9)), layout="constrained")
    title = "Behaviour groups"
    if result.empty or k == 0:
        ax = fig.add_subplot()
        _message(ax, f"No behaviour groups: {result.reason}")
        _chrome(ax, title, "k-means on recency, frequency and monetary value")
        return fig
    grid = fig.add_gridspec(2, len(_PROFILE_PANELS), height_ratios=[0.001, 1])
    head = fig.add_subplot(grid[0, :])
    head.set_axis_off()
    _chrome(head, title, f"{k} groups of {result.n_customers:,} customers with an order in the "
                         f"last 12 months (k-means, silhouette {result.silhouette:.2f}); "
                         "group means")
    colors = [_GROUP_PALETTE[i % len(_GROUP_PALETTE)] for i in range(k)]
    y = list(range(k))
    first = None
    for j, (col, label, fmt) in enumerate(_PROFILE_PANELS):
        ax = fig.add_subplot(grid[1, j], sharey=first)
        first = first or ax
        values = profile[col].astype("float64").to_numpy()
        ax.barh(y, values, color=colors, height=0.6)
        top = max(float(np.nanmax(values)) if len(values) else 0.0, 1e-9)
        for i, (v, (_, row)) in enumerate(zip(values, profile.iterrows())):
            ax.text(v + 0.02 * top, i, " " + fmt(v, row), va="center", fontsize=9.5)
        ax.set_xlim(0, top * 1.55)
        ax.set_title(label, fontsize=10.5, fontweight="normal", loc="left")
        ax.xaxis.set_major_locator(mticker.MaxNLocator(3))
        ax.xaxis.set_major_formatter(mticker.FuncFormatter(money_tick))
        ax.grid(axis="y", visible=False)
        if j == 0:
            ax.set_yticks(y, [f"{g}. {name}" for g, name in zip(profile[S.GROUP], profile.index)])
            ax.invert_yaxis()
        else:
            ax.tick_params(axis="y", labelleft=False)
    return fig


def _heatmap(ax, data: pd.DataFrame, cmap: str, labels: np.ndarray) -> None:
    """0–100 % heatmap; every cell carries its value, so no colour bar is needed."""
    sns.heatmap(data.astype("float64"), ax=ax, cmap=cmap, vmin=0, vmax=100, annot=labels, fmt="",
                annot_kws={"fontsize": 9}, linewidths=0.5, linecolor="white", cbar=False)
    ax.tick_params(axis="both", length=0)
    ax.grid(False)


def _percent_labels(data: pd.DataFrame) -> np.ndarray:
    values = data.to_numpy(dtype="float64")
    return np.array([["" if math.isnan(v) else f"{v:.0f}%" for v in row] for row in values],
                    dtype=object).reshape(values.shape)


def migration_heatmap(shares: pd.DataFrame, matrix: pd.DataFrame | None = None) -> Figure:
    """Row percentages of a migration matrix as an annotated heatmap.

    Parameters
    ----------
    shares
        Output of :func:`segreport.kpis.segmentation.migration_shares`: rows = previous
        segment, columns = this period's segment, values in %.
    matrix
        Optional counts (:func:`segreport.kpis.segmentation.segment_migration`); when given
        the row labels show how many customers each previous segment had.
    """
    n = max(len(shares.index), len(shares.columns))
    fig = Figure(figsize=(max(WIDTH, 1.5 + 0.95 * len(shares.columns)), _height(n, 0.5, 2.4)),
                 layout="constrained")
    ax = fig.add_subplot()
    subtitle = ("Of the customers in each segment last period (rows), the share in each segment "
                "now (columns); (none): not in the population on that side")
    if shares.empty:
        _message(ax, "No customers to compare")
        _chrome(ax, "Segment migration", subtitle)
        return fig
    _heatmap(ax, shares, "Blues", _percent_labels(shares))
    rows = list(map(str, shares.index))
    if matrix is not None:
        totals = matrix.sum(axis=1).reindex(shares.index).fillna(0)
        rows = [f"{r} ({int(t):,})" for r, t in zip(rows, totals)]
    ax.set_yticks(np.arange(len(rows)) + 0.5, rows, rotation=0)
    ax.set_xticks(np.arange(len(shares.columns)) + 0.5, list(map(str, shares.columns)),
                  rotation=30, ha="right")
    ax.set_ylabel("previous period")
    ax.set_xlabel("this period")
    _chrome(ax, "Segment migration", subtitle, width_share=0.6)
    return fig


def cohort_heatmap(cohorts: pd.DataFrame, sizes: pd.Series | None = None) -> Figure:
    """Cohort retention as an annotated heatmap: acquisition quarter × quarters since.

    Parameters
    ----------
    cohorts
        Output of :func:`segreport.data.quarterly.cohort_retention` (%).
    sizes
        Optional cohort sizes (:func:`segreport.data.quarterly.cohort_sizes`), shown in the
        row labels.
    """
    fig = Figure(figsize=(WIDTH, _height(len(cohorts), 0.42, 2.2)), layout="constrained")
    ax = fig.add_subplot()
    subtitle = ("Share of each acquisition cohort ordering in each quarter after acquisition "
                "(0 = the acquisition quarter)")
    if cohorts.empty:
        _message(ax, "No acquisition cohort in the data")
        _chrome(ax, "Cohort retention", subtitle)
        return fig
    _heatmap(ax, cohorts, "YlGnBu", _percent_labels(cohorts))
    rows = list(map(str, cohorts.index))
    if sizes is not None:
        sized = sizes.reindex(cohorts.index)
        rows = [r if pd.isna(n) else f"{r} ({int(n):,})" for r, n in zip(rows, sized)]
    ax.set_yticks(np.arange(len(rows)) + 0.5, rows, rotation=0)
    ax.set_ylabel(ACQUISITION_QUARTER.replace("_", " "))
    ax.set_xlabel(QUARTERS_SINCE.replace("_", " "))
    _chrome(ax, "Cohort retention", subtitle, width_share=0.65)
    return fig


__all__ = ["rfm_chart", "cluster_profile_chart", "migration_heatmap", "cohort_heatmap"]
