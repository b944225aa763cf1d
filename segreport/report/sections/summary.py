"""The report's opening: its heading, the executive scorecard and the narrative."""
from __future__ import annotations

from html import escape
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from segreport import columns as C
from segreport.data.dataset import UNKNOWN_CUSTOMERS_PREFIX, Dataset
from segreport.kpis import ids
from segreport.narrative import decisions, narrative
from segreport.palette import segment_colors
from segreport.period import Period
from segreport.report.sections.kpi_blocks import kpi_table_html

SCORECARD_KPIS = (ids.CUSTOMERS_START, ids.CUSTOMERS_END, ids.NEW_CUSTOMERS,
                  ids.SEGMENT_GROWTH_RATE, ids.ACQUISITION_RATE, ids.RETENTION_RATE,
                  ids.CHURN_RATE, ids.REVENUE, ids.ORDERS, ids.AVERAGE_ORDER_VALUE,
                  ids.SALES_CONTRIBUTION)


def title(period: str, business_unit: str, data_dir: str, dataset: Dataset,
          active_window_days: int, segment_by: str = C.SEGMENT) -> HTML:
    """The report's heading: quarter with its dates, business unit, data and activity rule."""
    p = Period.parse(period)
    unit = business_unit or "All business units"
    if dataset.subscription_mode:
        rule = "a customer is active while not churned (subscription data: churn_date)"
    else:
        rule = (f"a customer is active when they ordered in the {active_window_days} days before "
                "the date")
    cut = "" if segment_by == C.SEGMENT else f" · segments: {escape(segment_by)}"
    set_aside = "".join(
        f"<p style='font-size:13px;color:#8a4b00'>Set aside: {q.rows_dropped:,} of {q.rows_read:,} "
        f"order rows ({q.rows_dropped / q.rows_read:.1%}) belong to no customer of the "
        f"customers table (see Data quality).</p>"
        for q in _unit_free_notes(dataset) if not business_unit)
    return HTML(
        f"<h1 style='margin-bottom:4px'>Customer segment report — {escape(p.label)}</h1>"
        f"<p style='font-size:16px;margin-top:0;color:#444'><b>{escape(unit)}</b> · quarter "
        f"{p.start:%d %b %Y} – {p.last_day:%d %b %Y}{cut}</p>"
        f"<p style='font-size:13px;color:#666'>Data: {escape(Path(data_dir).name or str(data_dir))}"
        f" · {escape(rule)}.</p>" + set_aside)


def _unit_free_notes(dataset) -> list:
    """The data-quality notes about order rows that belong to no customer (and so to no
    business unit): shown in the all-units report only."""
    return [q for q in dataset.quality if q.table == C.ORDERS and q.rows_dropped
            and q.note.startswith(UNKNOWN_CUSTOMERS_PREFIX)]


def scorecard(kpis: pd.DataFrame, colors: dict[str, str] | None = None,
              history: pd.DataFrame | None = None, quarter: str = "") -> HTML:
    """The executive scorecard: the base KPIs, one block each, every segment with its value,
    change on last quarter and on a year ago, and its trend (see :func:`kpi_table_html`)."""
    return HTML(kpi_table_html(kpis, SCORECARD_KPIS, colors, history=history,
                               quarter=Period.parse(quarter).label if quarter else "",
                               show_interval=False))


LEADS = ("Biggest move:", "Needs a decision:")


def narrative_html(kpis: pd.DataFrame, colors: dict[str, str] | None = None,
                   history: pd.DataFrame | None = None, quarter: str = "") -> HTML:
    """One paragraph per segment, the whole unit first, and after it what needs a decision
    (each piece of advice once, naming its segments; every missed target)."""
    colors = colors or segment_colors(kpis[C.SEGMENT])
    quarter = Period.parse(quarter).label if quarter else ""
    parts = []
    for seg, text in narrative(kpis, history, quarter).items():
        label = "The whole unit" if seg == C.ALL_SEGMENTS else seg
        body = escape(text)
        for lead in LEADS:  # the narrative's own words, bold so that the eye finds them
            body = body.replace(lead, f"<b>{lead}</b>")
        parts.append(f"<p style='border-left:4px solid {colors.get(seg, '#4d4d4d')};padding-left:10px;"
                     f"font-size:15px;line-height:1.45'><b>{escape(str(label))}.</b> {body}</p>")
        if seg == C.ALL_SEGMENTS or len(parts) == 1:
            todo = decisions(kpis)
            if todo:
                items = "".join(f"<li>{escape(t)}</li>" for t in todo)
                parts.append(f"<div style='font-size:15px;line-height:1.45;background:#f6f6f6;"
                             f"border-left:4px solid #999;padding:6px 10px;margin:0 0 14px;"
                             f"break-inside:avoid'>"
                             f"<b>To decide</b><ul style='margin:4px 0 2px;padding-left:20px'>"
                             f"{items}</ul></div>")
    return HTML("".join(parts))
