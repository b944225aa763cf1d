"""What each notebook cell shows: title, scorecard, narrative, data quality, definitions.

Each function returns an :class:`IPython.display.HTML` object built from the tidy KPI frame.
Styles are inline so that the same markup survives in an email body. Every text that comes
from the data (segment and unit names) is escaped.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from segreport import columns as C
from segreport.charts import band_color, segment_colors
from segreport.data.read import UNKNOWN_CUSTOMERS_PREFIX, Dataset
from segreport.formatting import format_value
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
          ids.AVERAGE_ORDER_VALUE: "Avg order value", ids.SALES_CONTRIBUTION: "Share of sales",
          ids.CLV: "CLV", ids.CLV_GROWTH: "CLV growth", ids.CAC: "CAC",
          ids.CAC_PAYBACK_MONTHS: "CAC payback", ids.RETENTION_COST: "Retention cost",
          ids.MARKET_SHARE: "Market share", ids.SEGMENTATION_EFFICIENCY: "Cost per segment",
          ids.CSAT: "CSAT", ids.CSI: "CSI", ids.NPS: "NPS", ids.NPS_CHANGE: "NPS change",
          ids.BRAND_EQUITY_INDEX: "Brand equity", ids.CUSTOMER_INSIGHT_PENETRATION: "Insight penetration",
          ids.PREDICTED_CLV: "Predicted CLV", ids.PREDICTED_PURCHASES: "Predicted purchases"}
ENABLES = {
    C.CUSTOMERS: ": would split the report by segment and business unit and date acquisition by "
                 "signup (without it everyone is one segment, acquired at the first order)",
    C.MARKETING_SPEND: ": would enable CAC, CAC payback and retention cost",
    C.SURVEYS: ": would enable CSAT, CSI, NPS, NPS change, brand equity and insight penetration",
    C.MARKET_SIZE: ": would enable market share",
    C.SEGMENTATION_COSTS: ": would enable segmentation efficiency",
}
_CELL = "padding:4px 6px;border-bottom:1px solid #e5e5e5;text-align:right;white-space:nowrap"
_HEAD = ("padding:4px 6px;border-bottom:2px solid #444;text-align:right;font-weight:600;"
         "vertical-align:bottom")
_TABLE = "border-collapse:collapse;font-size:13px;font-family:Helvetica,Arial,sans-serif"


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


def _box(text: str) -> str:
    return (f"<p style='font-size:14px;background:#f6f6f6;border-left:4px solid #999;"
            f"padding:8px 12px'>{text}</p>")


def _missing_html(missing: dict[str, str]) -> str:
    items = "".join(f"<li><b>{escape(_SHORT.get(k, kpi_name(k)))}</b>: {escape(v)}</li>"
                    for k, v in missing.items())
    return (f"<div style='font-size:13px;background:#f6f6f6;border-left:4px solid #999;padding:6px 12px'>"
            f"Not shown for lack of input data — add these to the data folder to enable them:"
            f"<ul style='margin:4px 0'>{items}</ul></div>")


def kpi_section(q, kpi_ids: Sequence[str]) -> HTML:
    """A table of the given KPIs, and what input would enable those that are missing."""
    missing = {k: q.missing[k] for k in kpi_ids if k in q.missing}
    present = [k for k in kpi_ids if k not in missing and k in set(q.kpis[C.KPI])]
    html = kpi_table_html(q.kpis, present, q.colors) if present else ""
    return HTML(html + (_missing_html(missing) if missing else ""))


def kpi_chart(q, kpi: str, title_text: str, subtitle: str = ""):
    """The KPI's bar chart with intervals, or a line saying why it is not shown."""
    from segreport.charts import kpi_bar_chart

    if kpi in q.missing:
        return HTML(_missing_html({kpi: q.missing[kpi]}))
    part = q.kpis[q.kpis[C.KPI] == kpi]
    if part.empty or part[C.VALUE].isna().all():
        why = part[C.NOTE].dropna().iloc[0] if len(part) and part[C.NOTE].notna().any() else "no data"
        return HTML(_box(f"{escape(title_text)}: no value to chart ({escape(str(why))})."))
    return kpi_bar_chart(q.kpis, kpi, q.colors, title_text, subtitle)


def predictive_clv_section(q) -> HTML:
    """Predicted CLV per segment, with the model, library and fitted parameters stated."""
    fit = q.clv_fit
    if fit is None:
        return HTML(_box("Predictive CLV is switched off (parameter <code>predictive_clv: false</code>)."))
    table = kpi_table_html(q.kpis, ids.PREDICTIVE_KPIS, q.colors, show_previous=False)
    if not fit.ok:
        return HTML(table + _box(f"No model fit: {escape(fit.note)}"))
    params = ", ".join(f"{k} = {v:.3g}" for k, v in fit.params.items())
    return HTML(
        f"<p style='font-size:13px;color:#444'>Expected value of each customer over the next "
        f"{fit.horizon_months} months, discounted at {fit.annual_discount_rate:.0%} a year, from the "
        f"buy-till-you-die models BG/NBD (Fader, Hardie &amp; Lee 2005: how often customers buy and "
        f"when they silently leave) and Gamma-Gamma (how much they spend), fitted with "
        f"<b>{escape(fit.library)} {escape(fit.library_version)}</b> ({escape(fit.method)}) on "
        f"{fit.customers:,} customers of the unit ({fit.spend_customers:,} repeat buyers for spend)"
        + (f", the models fitted on a random sample of {fit.fit_customers:,} of them and applied "
           f"to every customer" if fit.sampled else "") + ". "
        f"Net revenue, not margin: compare it with historical CLV with that in mind. "
        f"Fitted parameters: {escape(params)}.</p>" + table)


def kpi_panels(q, kpi_ids: Sequence[str], title_text: str):
    """Small-multiple bar charts of several KPIs (those with data), or why none is shown."""
    from segreport.charts import kpi_panels as panels

    present = [k for k in kpi_ids if k not in q.missing
               and q.kpis.loc[q.kpis[C.KPI] == k, C.VALUE].notna().any()]
    if not present:
        return HTML(_box(f"{escape(title_text)}: no values to chart."))
    names = {k: _SHORT.get(k, kpi_name(k)) for k in present}
    return panels(q.kpis, present, q.colors, title_text, names)


def rfm_intro(q) -> HTML:
    """How the RFM scores are made and how many customers were scored."""
    from segreport.kpis.segmentation import RFM_CONVENTION

    n = len(q.behaviour.rfm)
    return HTML(f"<p style='font-size:13px;color:#444'>{n:,} customers with an order in the 12 months "
                f"before the quarter end are scored. {escape(RFM_CONVENTION)}</p>")


def cluster_summary(q) -> HTML:
    """Chosen number of behaviour groups, the quality measure, and a profile table."""
    result = q.behaviour.clusters
    if result.empty:
        return HTML(_box(f"No behaviour groups: {escape(result.reason)}"))
    from segreport.kpis import segmentation as S

    tried = ", ".join(f"k={k}: {v:.2f}" for k, v in sorted(result.silhouettes.items()))
    p = result.profile
    head = ("Group", "Customers", "Days since last order<br>mean · median",
            "Orders, 12 months<br>mean · median", "Net spend, 12 months<br>mean · median",
            "Most common segment")
    rows = []
    for name, r in p.iterrows():
        rows.append(
            f"<tr><th style='{_CELL};text-align:left'>{int(r[S.GROUP])}. {escape(str(name))}</th>"
            f"<td style='{_CELL}'>{int(r[S.CUSTOMERS]):,} ({r[S.SHARE]:.0f}%)</td>"
            f"<td style='{_CELL}'>{r[S.RECENCY_MEAN]:,.0f} · {r[S.RECENCY_MEDIAN]:,.0f}</td>"
            f"<td style='{_CELL}'>{r[S.FREQUENCY_MEAN]:,.1f} · {r[S.FREQUENCY_MEDIAN]:,.0f}</td>"
            f"<td style='{_CELL}'>{r[S.MONETARY_MEAN]:,.0f} · {r[S.MONETARY_MEDIAN]:,.0f}</td>"
            f"<td style='{_CELL};text-align:left'>{escape(str(r[S.DOMINANT_SEGMENT]))} "
            f"({r[S.DOMINANT_SHARE]:.0f}%)</td></tr>")
    table = (f"<table style='{_TABLE}'><thead><tr>"
             + "".join(f"<th style='{_HEAD}'>{h}</th>" for h in head)
             + f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return HTML(
        f"<p style='font-size:14px'>k-means on log recency, frequency and spend found "
        f"<b>{result.k} groups</b> among {result.n_customers:,} customers; the number of groups "
        f"(3 to 5) was chosen by the highest <b>silhouette score</b> (−1 to 1; higher = better "
        f"separated), computed on {result.sample_size:,} customers: {tried}. "
        f"Segment count and separation are also in kpis.csv (<code>segment_count</code>, "
        f"<code>segment_separation</code>).</p><div style='font-size:12px;overflow-x:auto'>{table}</div>")


def migration_section(q):
    """The RFM migration heatmap, or why there is none."""
    from segreport.charts_segmentation import migration_heatmap

    if q.prev_facts is None:
        return HTML(_box("No previous quarter in the data, so no migration to show."))
    return migration_heatmap(q.behaviour.migration_shares, q.behaviour.migration)


def _kpi_cell(row: pd.Series | None, show_previous: bool) -> str:
    if row is None:
        return f"<td style='{_CELL}'>—</td>"
    kpi, value, unit = row[C.KPI], row[C.VALUE], row[C.UNIT]
    text = format_value(value, unit, signed=kpi == ids.SEGMENT_GROWTH_RATE)
    style = _CELL
    band = row[C.BAND]
    if band:
        color = band_color(kpi, band)
        style += f";background:{color}22;border-left:4px solid {color}"
        text += (f"<br><span style='font-size:10px;color:{color};font-weight:700;letter-spacing:.5px'>"
                 f"{escape(band.upper())}</span>")
    if bool(row.get(C.SMALL_SAMPLE, False)):
        text += " †"
    if isinstance(row[C.NOTE], str) and row[C.NOTE].startswith("not defined"):
        text += " *"
    extra = []
    low, high = row.get(C.CI_LOW, math.nan), row.get(C.CI_HIGH, math.nan)
    if not (pd.isna(low) or pd.isna(high)):
        extra.append(f"{format_value(low, unit)} to {format_value(high, unit)}")
    prev = row.get(C.PREVIOUS_VALUE, math.nan)
    if show_previous and not pd.isna(prev):
        extra.append(f"prev {format_value(prev, unit)}")
    if extra:
        text += f"<br><span style='font-size:10.5px;color:#666'>{'<br>'.join(extra)}</span>"
    return f"<td style='{style}'>{text}</td>"


def _segments_in_order(kpis: pd.DataFrame) -> list[str]:
    segments = [s for s in dict.fromkeys(kpis[C.SEGMENT]) if s != C.ALL_SEGMENTS]
    return segments + ([C.ALL_SEGMENTS] if C.ALL_SEGMENTS in set(kpis[C.SEGMENT]) else [])


def kpi_table_html(kpis: pd.DataFrame, kpi_ids: Sequence[str], colors: dict[str, str] | None = None,
                   show_previous: bool = True) -> str:
    """Segments × the given KPIs as an HTML table.

    Each cell shows the value, its band (coloured), the 95 % interval where there is one,
    the previous quarter's value, † for a small sample and * for an undefined value; the
    notes and the bands are explained under the table.
    """
    colors = colors or segment_colors(kpis[C.SEGMENT])
    shown = [k for k in kpi_ids if k in set(kpis[C.KPI])]
    part = kpis[kpis[C.KPI].isin(shown)]
    lookup = {(r[C.SEGMENT], r[C.KPI]): r for _, r in part.iterrows()}
    head = "".join(f"<th style='{_HEAD}'>{escape(_SHORT.get(k, kpi_name(k)))}</th>" for k in shown)
    body = []
    for seg in _segments_in_order(part):
        label = "All (whole unit)" if seg == C.ALL_SEGMENTS else seg
        swatch = (f"<span style='display:inline-block;width:10px;height:10px;border-radius:2px;"
                  f"background:{colors.get(seg, '#4d4d4d')};margin-right:6px'></span>")
        weight = "font-weight:700;border-top:2px solid #444;" if seg == C.ALL_SEGMENTS else ""
        cells = "".join(_kpi_cell(lookup.get((seg, k)), show_previous) for k in shown)
        body.append(f"<tr style='{weight}'><th style='{_CELL};text-align:left;{weight}'>{swatch}"
                    f"{escape(str(label))}</th>{cells}</tr>")
    return (f"<table style='{_TABLE}'><thead><tr><th style='{_HEAD};text-align:left'>Segment</th>"
            f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{_table_notes(part, shown)}")


def _table_notes(part: pd.DataFrame, shown: Sequence[str]) -> str:
    cards = load_cards()
    lines = []
    for kpi in shown:
        bands = cards.get(kpi, {}).get("bands")
        if bands:
            text = ", ".join(
                f"<span style='border-left:4px solid {band_color(kpi, b['label'])};padding-left:4px'>"
                f"{escape(b['label'])}</span> "
                + (f"≥ {b['min']:g}" if b["min"] is not None else "below") for b in bands)
            lines.append(f"{escape(_SHORT.get(kpi, kpi_name(kpi)))} bands: {text}.")
    if part[C.SMALL_SAMPLE].fillna(False).astype(bool).any():
        lines.append("† small sample: fewer than 30 observations behind the value; read it with "
                     "its interval.")
    if (part[C.CI_LOW].notna()).any():
        lines.append("Second line: 95% interval.")
    undefined = part[part[C.NOTE].fillna("").str.startswith("not defined")]
    items = []
    for note, group in undefined.groupby(C.NOTE, sort=False):
        where = "; ".join(f"{escape(str(seg))}: {', '.join(_SHORT.get(k, kpi_name(k)).lower() for k in g[C.KPI])}"
                          for seg, g in group.groupby(C.SEGMENT, sort=False))
        items.append(f"<li>{escape(note)} — {where}</li>")
    other = part[part[C.NOTE].fillna("").ne("") & ~part[C.NOTE].fillna("").str.startswith("not defined")]
    for note, group in other.groupby(C.NOTE, sort=False):
        who = ", ".join(sorted({escape(str(s)) for s in group[C.SEGMENT]}))
        kpi_names = ", ".join(sorted({_SHORT.get(k, kpi_name(k)) for k in group[C.KPI]}))
        items.append(f"<li>{escape(kpi_names)} ({who}): {escape(note)}</li>")
    out = "".join(f"<p style='font-size:12px;color:#555;margin:4px 0'>{line}</p>" for line in lines)
    if items:
        marker = " (* = not defined)" if len(undefined) else ""
        out += (f"<p style='font-size:12px;color:#555;margin:6px 0 0'>Notes{marker}:</p>"
                f"<ul style='font-size:12px;color:#555;margin-top:2px'>{''.join(items)}</ul>")
    return out


def scorecard(kpis: pd.DataFrame, colors: dict[str, str] | None = None) -> HTML:
    """The executive scorecard: segments × the base KPIs."""
    return HTML(kpi_table_html(kpis, SCORECARD_KPIS, colors))


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
    """Rows read per file, rows dropped and why, and how many customers the report covers.

    A unit's report counts the unit's rows only (its customers, their orders and survey
    answers); orders that belong to no customer are shown in the report of every unit only.
    """
    q = dataset.quality_frame(business_unit)
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
    missing = ""
    if absent:
        items = "".join(
            f"<li><b>{escape(t)}</b> ({escape(', '.join(C.CONTRACT[t].required_columns))})"
            f"{escape(ENABLES.get(t, ''))}</li>" for t in absent)
        missing = (f"<p style='font-size:13px'>Optional tables not provided: {escape(', '.join(absent))}."
                   f"</p><ul style='font-size:13px'>{items}</ul>")
    return HTML(f"<table style='{_TABLE}'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
                f"<p style='font-size:13px'>{scope}{len(facts):,} customers in the report.{extra}</p>"
                f"{missing}")


def definitions(kpis: pd.DataFrame) -> HTML:
    """The definition card of every KPI in the frame: definition, formula, measurement,
    bands, diagnostic questions, tips, risks and related KPIs."""
    cards = load_cards()
    parts = []
    for kpi in dict.fromkeys(kpis[C.KPI]):
        if kpi not in cards:
            continue
        c = card(kpi)
        rows = [f"<b style='font-size:14px'>{escape(c['name'])}</b> <code>{kpi}</code> "
                f"<span style='color:#666'>({escape(str(c.get('unit', '')))}"
                + ("" if "higher_is_better" not in c else
                   (", higher is better" if c["higher_is_better"] else ", lower is better"))
                + f")</span><br>{escape(c.get('definition', ''))}",
                f"<i>Formula:</i> {escape(c.get('formula', ''))}"]
        if c.get("measurement"):
            rows.append(f"<i>Measurement:</i> {escape(c['measurement'])}")
        if c.get("bands"):
            rows.append("<i>Bands:</i> " + "; ".join(
                f"{escape(b['label'])} "
                + (f"≥ {b['min']:g}" if b["min"] is not None else "below")
                + (f" — {escape(b['meaning'])}" if b.get("meaning") else "") for b in c["bands"]))
        for key, label in (("diagnostics", "Questions to ask"), ("tips", "What to do"),
                           ("risks", "Watch out")):
            if c.get(key):
                rows.append(f"<i>{label}:</i> " + " · ".join(escape(t) for t in c[key]))
        if c.get("related"):
            rows.append("<i>Related:</i> " + ", ".join(escape(kpi_name(r)) for r in c["related"]))
        parts.append("<div style='font-size:12.5px;margin:0 0 14px;break-inside:avoid'>"
                     + "<br>".join(rows) + "</div>")
    return HTML("".join(parts))


KPI_HISTORY_NAME = "kpi_history.csv"
"""Beside ``kpis.csv``: the same columns plus ``quarter``, for every quarter the report shows."""


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
