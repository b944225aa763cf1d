"""The trends section: the KPIs over the last nine quarters, and what is not drawn."""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

import pandas as pd
from IPython.display import HTML

from segreport import columns as C
from segreport.kpis import ids
from segreport.kpis.spec import kpi_name, short_label
from segreport.report.sections.html import box, missing_html

TREND_KPIS = (ids.CUSTOMERS_END, ids.SEGMENT_GROWTH_RATE, ids.RETENTION_RATE, ids.REVENUE,
              ids.AVERAGE_ORDER_VALUE, ids.CLV, ids.NPS, ids.CSAT)
"""The KPIs of the trends section, in panel order."""


NO_HISTORY = ("No quarterly history for this cut of the segments (RFM segments are recomputed "
              "each quarter), so there are no trends to show.")


def _trend_window(q) -> tuple[pd.DataFrame, list[str]]:
    """The unit's history over the trend window and the window's quarter labels."""
    from segreport.charts import TREND_WINDOW
    from segreport.kpis.context import quarters_back
    from segreport.kpis.panel import QUARTER

    labels = [quarters_back(q.period.label, k) for k in range(TREND_WINDOW - 1, -1, -1)]
    history = q.history if q.history is not None else pd.DataFrame()
    if history.empty:
        return history, labels
    return history[history[QUARTER].isin(labels)], labels


def trend_chart(q, kpi_ids: Sequence[str] = TREND_KPIS,
                title_text: str = "Key KPIs over the last nine quarters"):
    """Line charts of ``kpi_ids`` per segment over the last 9 quarters
    (:func:`segreport.charts.trend_panels`), or a line saying why there are none."""
    from segreport.charts import trend_panels

    window, labels = _trend_window(q)
    if window.empty:
        return HTML(box(escape(NO_HISTORY)))
    present = [k for k in kpi_ids if k not in q.missing
               and window.loc[window[C.KPI] == k, C.VALUE].notna().any()]
    if not present:
        return HTML(box(f"{escape(title_text)}: no values to chart."))
    names = {k: kpi_name(k) for k in present}
    return trend_panels(window, present, q.colors, q.period.label,
                        f"{title_text} ({labels[0]} to {labels[-1]})", names)


def trend_notes(q, kpi_ids: Sequence[str] = TREND_KPIS) -> HTML:
    """Which KPIs of the trends section are not drawn and what would enable them (nothing
    when every one is drawn)."""
    window, labels = _trend_window(q)
    if window.empty:
        return HTML("")
    missing = {k: q.missing[k] for k in kpi_ids if k in q.missing}
    empty = [k for k in kpi_ids if k not in missing
             and not window.loc[window[C.KPI] == k, C.VALUE].notna().any()]
    html = missing_html(missing) if missing else ""
    if empty:
        html += box(f"No value between {labels[0]} and {labels[-1]}, so no trend: "
                     + escape(", ".join(short_label(k) for k in empty)) + ".")
    return HTML(html)
