"""The appendix: data quality (rows read and dropped, optional tables not provided and
what they would enable) and the definition card of every KPI."""
from __future__ import annotations

from html import escape

import pandas as pd
from IPython.display import HTML

from segreport import columns as C
from segreport.data.dataset import Dataset
from segreport.kpis.spec import in_words, kpi_name, kpis_reading, load_specs, short_label
from segreport.report.sections.html import CELL, HEAD, TABLE

_NO_CUSTOMERS = (": would split the report by segment and business unit and date acquisition "
                 "by signup (without it everyone is one segment, acquired at the first order)")


def enables(table: str) -> str:
    """What an absent optional table would enable, as ``: would enable CAC, …`` (the short
    labels of the KPIs that read it, :func:`segreport.kpis.spec.kpis_reading`)."""
    if table == C.CUSTOMERS:
        return _NO_CUSTOMERS
    kpis = kpis_reading(table)
    return f": would enable {in_words([short_label(k) for k in kpis], capital=False)}" if kpis else ""


def data_quality(dataset: Dataset, facts: pd.DataFrame, business_unit: str = "") -> HTML:
    """Rows read per file, rows dropped and why, and how many customers the report covers.

    A unit's report counts the unit's rows only (its customers, their orders and survey
    answers); orders that belong to no customer are shown in the report of every unit only.
    """
    q = dataset.quality_frame(business_unit)
    rows = "".join(
        f"<tr><td style='{CELL};text-align:left'>{escape(r.table)}</td>"
        f"<td style='{CELL};text-align:left'>{escape(r.file)}</td><td style='{CELL}'>{r.rows_read:,}</td>"
        f"<td style='{CELL}'>{r.rows_dropped:,}</td><td style='{CELL};text-align:left;white-space:normal'>"
        f"{escape(r.note) or 'read and checked'}</td></tr>" for r in q.itertuples())
    head = "".join(f"<th style='{HEAD};text-align:left'>{h}</th>"
                   for h in ("Table", "File", "Rows read", "Rows dropped", "Note"))
    scope = (f"Business unit {escape(business_unit)}: " if business_unit else "All business units: ")
    no_acq = int(facts[C.ACQUIRED_AT].isna().sum())
    extra = (f" {no_acq:,} customers have neither a signup date nor an order and are never active."
             if no_acq else "")
    absent = [t for t in C.CONTRACT if t not in dataset.tables]
    missing = ""
    if absent:
        items = "".join(
            f"<li><b>{escape(t)}</b> ({escape(', '.join(C.CONTRACT[t].required_columns))})"
            f"{escape(enables(t))}</li>" for t in absent)
        missing = (f"<p style='font-size:13px'>Optional tables not provided: {escape(', '.join(absent))}."
                   f"</p><ul style='font-size:13px'>{items}</ul>")
    return HTML(f"<table style='{TABLE}'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
                f"<p style='font-size:13px'>{scope}{len(facts):,} customers in the report.{extra}</p>"
                f"{missing}")


def definitions(kpis: pd.DataFrame) -> HTML:
    """The definition card of every KPI in the frame: definition, formula, measurement,
    bands, diagnostic questions, tips, risks and related KPIs."""
    specs = load_specs()
    parts = []
    for kpi in dict.fromkeys(kpis[C.KPI]):
        if kpi not in specs:
            continue
        c = specs[kpi]
        rows = [f"<b style='font-size:14px'>{escape(c.name)}</b> <code>{kpi}</code> "
                f"<span style='color:#666'>({escape(c.unit)}"
                + (f", {c.direction} is better" if c.direction else "")
                + f")</span><br>{escape(c.definition)}",
                f"<i>Formula:</i> {escape(c.formula)}"]
        if c.measurement:
            rows.append(f"<i>Measurement:</i> {escape(c.measurement)}")
        if c.bands:
            rows.append("<i>Bands:</i> " + "; ".join(
                f"{escape(b.label)} "
                + (f"≥ {b.min:g}" if b.min is not None else "below")
                + (f" — {escape(b.meaning)}" if b.meaning else "") for b in c.bands))
        for items, label in ((c.diagnostics, "Questions to ask"), (c.tips, "What to do"),
                             (c.risks, "Watch out")):
            if items:
                rows.append(f"<i>{label}:</i> " + " · ".join(escape(t) for t in items))
        if c.related:
            rows.append("<i>Related:</i> " + ", ".join(escape(kpi_name(r)) for r in c.related))
        parts.append("<div style='font-size:12.5px;margin:0 0 14px;break-inside:avoid'>"
                     + "<br>".join(rows) + "</div>")
    return HTML("".join(parts))
