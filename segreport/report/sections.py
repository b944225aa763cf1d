"""What each notebook cell shows: title, scorecard, narrative, data quality, definitions.

Each function returns an :class:`IPython.display.HTML` object built from the tidy KPI frame.
Styles are inline so that the same markup survives in an email body. Every text that comes
from the data (segment and unit names) is escaped.
"""
from __future__ import annotations

import math
from html import escape
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from segreport import columns as C
from segreport.charts import BAND_COLORS, segment_colors
from segreport.data.read import Dataset
from segreport.kpis import ids
from segreport.kpis.cards import card, kpi_name, load_cards
from segreport.narrative import narrative
from segreport.period import Period

SCORECARD_KPIS = (ids.CUSTOMERS_START, ids.CUSTOMERS_END, ids.NEW_CUSTOMERS,
                  ids.SEGMENT_GROWTH_RATE, ids.ACQUISITION_RATE, ids.RETENTION_RATE,
                  ids.CHURN_RATE, ids.REVENUE, ids.ORDERS, ids.AVERAGE_ORDER_VALUE,
                  ids.SALES_CONTRIBUTION)
_SHORT = {ids.CUSTOMERS_START: "Active at start", ids.CUSTOMERS_END: "Active at end",
          ids.NEW_CUSTOMERS: "New", ids.SEGMENT_GROWTH_RATE: "Growth",
          ids.ACQUISITION_RATE: "Acquisition", ids.RETENTION_RATE: "Retention",
          ids.CHURN_RATE: "Churn", ids.REVENUE: "Net revenue", ids.ORDERS: "Orders",
          ids.AVERAGE_ORDER_VALUE: "Avg order value", ids.SALES_CONTRIBUTION: "Share of sales"}
_CELL = "padding:5px 7px;border-bottom:1px solid #e5e5e5;text-align:right;white-space:nowrap"
_HEAD = ("padding:5px 7px;border-bottom:2px solid #444;text-align:right;font-weight:600;"
         "vertical-align:bottom")
_TABLE = "border-collapse:collapse;font-size:13px;font-family:Helvetica,Arial,sans-serif"


def format_value(value: float, unit: str) -> str:
    """A KPI value as the report prints it; ``—`` when it is not defined."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "%":
        return f"{value:.1f}%"
    if unit in ("customers", "orders"):
        return f"{value:,.0f}"
    if unit == "currency":
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def title(period: str, business_unit: str, data_dir: str, dataset: Dataset,
          active_window_days: int) -> HTML:
    """The report's heading: quarter with its dates, business unit, data and activity rule."""
    p = Period.parse(period)
    unit = business_unit or "All business units"
    if dataset.subscription_mode:
        rule = "a customer is active while not churned (subscription data: churn_date)"
    else:
        rule = (f"a customer is active when they ordered in the {active_window_days} days before "
                "the date")
    return HTML(
        f"<h1 style='margin-bottom:4px'>Customer segment report — {escape(p.label)}</h1>"
        f"<p style='font-size:16px;margin-top:0;color:#444'><b>{escape(unit)}</b> · quarter "
        f"{p.start:%d %b %Y} – {p.last_day:%d %b %Y}</p>"
        f"<p style='font-size:13px;color:#666'>Data: {escape(Path(data_dir).name or str(data_dir))}"
        f" · {escape(rule)}.</p>")


def _kpi_cell(row: pd.Series | None) -> str:
    if row is None:
        return f"<td style='{_CELL}'>—</td>"
    text = format_value(row[C.VALUE], row[C.UNIT])
    if row[C.KPI] == ids.SEGMENT_GROWTH_RATE and not math.isnan(row[C.VALUE]):
        text = f"{row[C.VALUE]:+.1f}%"
    band = row[C.BAND]
    style = _CELL
    if band:
        color = BAND_COLORS.get(band, "#888")
        style += f";background:{color}22;border-left:4px solid {color}"
        text += (f"<br><span style='font-size:10px;color:{color};font-weight:700;letter-spacing:.5px'>"
                 f"{escape(band.upper())}</span>")
    marker = " *" if isinstance(row[C.NOTE], str) and row[C.NOTE] else ""
    return f"<td style='{style}'>{text}{marker}</td>"


def scorecard_html(kpis: pd.DataFrame, colors: dict[str, str] | None = None) -> str:
    """Segments × KPIs as an HTML table; growth cells coloured by band; notes underneath."""
    colors = colors or segment_colors(kpis[C.SEGMENT])
    shown = [k for k in SCORECARD_KPIS if k in set(kpis[C.KPI])]
    segments = [s for s in dict.fromkeys(kpis[C.SEGMENT]) if s != C.ALL_SEGMENTS]
    segments += [C.ALL_SEGMENTS] if C.ALL_SEGMENTS in set(kpis[C.SEGMENT]) else []
    lookup = {(r[C.SEGMENT], r[C.KPI]): r for _, r in kpis.iterrows()}
    head = "".join(f"<th style='{_HEAD}'>{escape(_SHORT.get(k, kpi_name(k)))}</th>" for k in shown)
    body = []
    for seg in segments:
        label = "All (whole unit)" if seg == C.ALL_SEGMENTS else seg
        swatch = (f"<span style='display:inline-block;width:10px;height:10px;border-radius:2px;"
                  f"background:{colors.get(seg, '#4d4d4d')};margin-right:6px'></span>")
        weight = "font-weight:700;border-top:2px solid #444;" if seg == C.ALL_SEGMENTS else ""
        cells = "".join(_kpi_cell(lookup.get((seg, k))) for k in shown)
        body.append(f"<tr style='{weight}'><th style='{_CELL};text-align:left;{weight}'>{swatch}"
                    f"{escape(str(label))}</th>{cells}</tr>")
    notes = kpis[(kpis[C.NOTE].fillna("") != "") & kpis[C.KPI].isin(shown)]
    foot = ""
    if len(notes):
        items = []
        for note, part in notes.groupby(C.NOTE, sort=False):
            where = "; ".join(f"{escape(str(seg))}: {', '.join(_SHORT.get(k, k).lower() for k in g[C.KPI])}"
                              for seg, g in part.groupby(C.SEGMENT, sort=False))
            items.append(f"<li>{escape(note)} — {where}</li>")
        foot = ("<p style='font-size:12px;color:#555;margin:6px 0 0'>* Empty cells (—):</p>"
                f"<ul style='font-size:12px;color:#555;margin-top:2px'>{''.join(items)}</ul>")
    legend = " ".join(
        f"<span style='border-left:4px solid {c};background:{c}22;padding:1px 6px;margin-right:6px'>"
        f"{b}</span>" for b, c in BAND_COLORS.items())
    return (f"<table style='{_TABLE}'><thead><tr><th style='{_HEAD};text-align:left'>Segment</th>"
            f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<p style='font-size:12px;color:#555'>Growth bands (seed definition): strong ≥ 10%, "
            f"moderate 5% to &lt;10%, weak &lt; 5%. {legend}</p>{foot}")


def scorecard(kpis: pd.DataFrame, colors: dict[str, str] | None = None) -> HTML:
    return HTML(scorecard_html(kpis, colors))


def narrative_html(kpis: pd.DataFrame, colors: dict[str, str] | None = None) -> HTML:
    """One paragraph per segment, the whole unit first."""
    colors = colors or segment_colors(kpis[C.SEGMENT])
    parts = []
    for seg, text in narrative(kpis).items():
        label = "The whole unit" if seg == C.ALL_SEGMENTS else seg
        parts.append(f"<p style='border-left:4px solid {colors.get(seg, '#4d4d4d')};padding-left:10px;"
                     f"font-size:15px;line-height:1.45'><b>{escape(str(label))}.</b> {escape(text)}</p>")
    return HTML("".join(parts))


def data_quality(dataset: Dataset, facts: pd.DataFrame, business_unit: str = "") -> HTML:
    """Rows read per file, rows dropped and why, and how many customers the report covers."""
    q = dataset.quality_frame()
    rows = "".join(
        f"<tr><td style='{_CELL};text-align:left'>{escape(r.table)}</td>"
        f"<td style='{_CELL};text-align:left'>{escape(r.file)}</td><td style='{_CELL}'>{r.rows_read:,}</td>"
        f"<td style='{_CELL}'>{r.rows_dropped:,}</td><td style='{_CELL};text-align:left;white-space:normal'>"
        f"{escape(r.note) or 'read and checked'}</td></tr>" for r in q.itertuples())
    head = "".join(f"<th style='{_HEAD};text-align:left'>{h}</th>"
                   for h in ("Table", "File", "Rows read", "Rows dropped", "Note"))
    scope = (f"Business unit {escape(business_unit)}: " if business_unit else "All business units: ")
    no_acq = int(facts[C.ACQUIRED_AT].isna().sum())
    extra = (f" {no_acq:,} customers have neither a signup date nor an order and are never active."
             if no_acq else "")
    absent = [t for t in C.CONTRACT if t not in dataset.tables]
    missing = (f"<p style='font-size:13px'>Optional tables not provided: {escape(', '.join(absent))}.</p>"
               if absent else "")
    return HTML(f"<table style='{_TABLE}'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
                f"<p style='font-size:13px'>{scope}{len(facts):,} customers in the report.{extra}</p>"
                f"{missing}")


def definitions(kpis: pd.DataFrame) -> HTML:
    """The definition card of every KPI in the frame: definition, formula, bands."""
    cards = load_cards()
    parts = []
    for kpi in dict.fromkeys(kpis[C.KPI]):
        if kpi not in cards:
            continue
        c = card(kpi)
        bands = c.get("bands")
        band_text = ("<br><i>Bands:</i> " + "; ".join(
            f"{escape(b['label'])} {'≥ ' + format(b['min'], 'g') + '%' if b['min'] is not None else 'below'}"
            f" — {escape(b.get('meaning', ''))}" for b in bands)) if bands else ""
        parts.append(f"<p style='font-size:13px'><b>{escape(c['name'])}</b> (<code>{kpi}</code>, "
                     f"{escape(c['unit'])}): {escape(c['definition'])}<br><i>Formula:</i> "
                     f"{escape(c['formula'])}{band_text}</p>")
    return HTML("".join(parts))


def kpis_for_csv(kpis: pd.DataFrame, period: str, business_unit: str) -> pd.DataFrame:
    """The tidy frame in the column order of ``kpis.csv``."""
    out = kpis.assign(**{C.PERIOD: Period.parse(period).label,
                         C.BUSINESS_UNIT: business_unit or C.ALL_SEGMENTS})
    return out[list(C.KPI_CSV_COLUMNS)]


def save_kpis(kpis: pd.DataFrame, path: str, period: str, business_unit: str) -> None:
    """Write ``kpis.csv`` (nothing when ``path`` is empty, e.g. in JupyterLab)."""
    if path:
        kpis_for_csv(kpis, period, business_unit).to_csv(path, index=False)
