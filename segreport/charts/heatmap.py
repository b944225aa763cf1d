"""The annotated heatmap of the report (segment migration, cohort retention): every cell
carries its value, so no colour bar is needed."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from segreport.charts import chrome
from segreport.charts.theme import WIDTH, bar_rows_height, chart_axes


def cell_labels(data: pd.DataFrame, fmt: str = "{:.0f}%") -> np.ndarray:
    """Each cell's value written with ``fmt`` (:meth:`str.format`), empty where missing."""
    values = data.to_numpy(dtype="float64")
    return np.array([["" if math.isnan(v) else fmt.format(v) for v in row] for row in values],
                    dtype=object).reshape(values.shape)


def annotated_heatmap(data: pd.DataFrame, *, cmap: str, title: str, subtitle: str, empty: str,
                      xlabel: str, ylabel: str, row_labels: list[str] | None = None,
                      column_labels: list[str] | None = None, width_share: float = 0.8,
                      fmt: str = "{:.0f}%", vmin: float = 0, vmax: float = 100,
                      ax: Axes | None = None) -> Axes:
    """``data`` as a heatmap on ``cmap`` from ``vmin`` to ``vmax``, each cell annotated
    with its value (:func:`cell_labels` with ``fmt``), under a title and subtitle.

    Parameters
    ----------
    data
        The cells: rows down, columns across (values in %, by default).
    cmap, title, subtitle, xlabel, ylabel
        The colour map's name and the chart's texts.
    empty
        What the chart says instead when ``data`` has no cell.
    row_labels
        The rows' tick labels (default: the index as text).
    column_labels
        The columns' tick labels, slanted 30°; default: seaborn's, from the columns.
    width_share
        The share of the figure width right of the axes' left edge that the subtitle may
        fill (the row labels take the rest); an empty chart's subtitle has the default.
    ax
        The axes to draw on; a new figure's (:data:`WIDTH` wide, 0.42 in a row) when ``None``.

    Returns
    -------
    The :class:`matplotlib.axes.Axes`; its ``texts`` hold the cell annotations.
    """
    ax = chart_axes(bar_rows_height(len(data), 0.42, 2.2), WIDTH, ax=ax)
    if data.empty:
        chrome.message(ax, empty)
        chrome.chart_title(ax, title, subtitle)
        return ax
    sns.heatmap(data.astype("float64"), ax=ax, cmap=cmap, vmin=vmin, vmax=vmax,
                annot=cell_labels(data, fmt), fmt="", annot_kws={"fontsize": 9}, linewidths=0.5,
                linecolor="white", cbar=False)
    ax.tick_params(axis="both", length=0)
    chrome.grid(ax, None)
    rows = list(map(str, data.index)) if row_labels is None else row_labels
    ax.set_yticks(np.arange(len(rows)) + 0.5, rows, rotation=0)
    if column_labels is not None:
        ax.set_xticks(np.arange(len(column_labels)) + 0.5, column_labels, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    chrome.chart_title(ax, title, subtitle, width_share=width_share)
    return ax


__all__ = ["annotated_heatmap", "cell_labels"]
