"""``kpis.csv`` and ``kpi_history.csv``: the tidy KPI frame in the columns of the
files."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from segreport import columns as C
from segreport.period import Period
from segreport.report.names import KPI_HISTORY_NAME


def kpis_for_csv(kpis: pd.DataFrame, period: str, business_unit: str) -> pd.DataFrame:
    """The tidy frame in the column order of ``kpis.csv``."""
    out = kpis.assign(**{C.PERIOD: Period.parse(period).label,
                         C.BUSINESS_UNIT: business_unit or C.ALL_SEGMENTS})
    for col, empty in ((C.PREVIOUS_VALUE, math.nan), (C.TARGET, math.nan), (C.STATUS, "")):
        if col not in out:
            out[col] = empty
    return out[list(C.KPI_CSV_COLUMNS)]


def kpi_history_for_csv(history: pd.DataFrame | None, period: str,
                        business_unit: str) -> pd.DataFrame:
    """``kpi_history.csv``: one row per KPI × segment × quarter the report of ``period``
    shows (:func:`segreport.pipeline.window_quarters`, oldest first), in the columns of
    ``kpis.csv`` with ``quarter`` in front; ``period`` is the report's quarter in every row.

    ``history`` is the unit's KPI panel (``Quarter.history``); empty or ``None`` (under
    ``segment_by: rfm``, which has no panel) gives the header alone.
    """
    from segreport.pipeline import window_quarters

    if history is None or history.empty:
        return pd.DataFrame(columns=list(C.KPI_HISTORY_COLUMNS))
    part = history[history[C.QUARTER].isin(window_quarters(period))]
    part = part.sort_values(C.QUARTER, kind="stable")  # YYYYQn labels sort in time order
    out = kpis_for_csv(part, period, business_unit)
    out.insert(0, C.QUARTER, part[C.QUARTER].to_numpy())
    return out.reset_index(drop=True)


def save_kpis(kpis: pd.DataFrame, path: str, period: str, business_unit: str,
              history: pd.DataFrame | None = None) -> None:
    """Write ``kpis.csv`` and, beside it, ``kpi_history.csv`` from ``history`` (the
    unit's KPI panel); nothing when ``path`` is empty, e.g. in JupyterLab."""
    if path:
        kpis_for_csv(kpis, period, business_unit).to_csv(path, index=False)
        if history is not None:
            kpi_history_for_csv(history, period, business_unit).to_csv(
                Path(path).with_name(KPI_HISTORY_NAME), index=False)
