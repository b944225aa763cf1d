"""What each notebook cell shows: title, scorecard, narrative, data quality, definitions.

Each function returns an :class:`IPython.display.HTML` object built from the tidy KPI frame.
Styles are inline so that the same markup survives in an email body. Every text that comes
from the data (segment and unit names) is escaped.
"""
from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from html import escape
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from segreport import columns as C
from segreport.charts import BAD, GOOD, TEXT, band_color, sparkline_png
from segreport.data.dataset import UNKNOWN_CUSTOMERS_PREFIX, Dataset
from segreport.formatting import format_change, format_value
from segreport.kpis import ids
from segreport.kpis.context import (
    CALLED_PREVIOUS,
    CALLED_YEAR,
    CHANGE_PREVIOUS,
    CHANGE_YEAR,
    HIGHER,
    LOWER,
    direction,
    kpi_context,
    trend,
)
from segreport.kpis.spec import (
    in_words,
    kpi_name,
    kpi_spec,
    kpis_reading,
    load_specs,
    short_label,
)
from segreport.narrative import decisions, narrative
from segreport.palette import ALL_COLOR, segment_colors
from segreport.period import Period
from segreport.report.names import KPI_HISTORY_NAME
from segreport.segments import all_last

SCORECARD_KPIS = (ids.CUSTOMERS_START, ids.CUSTOMERS_END, ids.NEW_CUSTOMERS,
                  ids.SEGMENT_GROWTH_RATE, ids.ACQUISITION_RATE, ids.RETENTION_RATE,
                  ids.CHURN_RATE, ids.REVENUE, ids.ORDERS, ids.AVERAGE_ORDER_VALUE,
                  ids.SALES_CONTRIBUTION)
_NO_CUSTOMERS = (": would split the report by segment and business unit and date acquisition "
                 "by signup (without it everyone is one segment, acquired at the first order)")


def enables(table: str) -> str:
    """What an absent optional table would enable, as ``: would enable CAC, …`` (the short
    labels of the KPIs that read it, :func:`segreport.kpis.spec.kpis_reading`)."""
    if table == C.CUSTOMERS:
        return _NO_CUSTOMERS
    kpis = kpis_reading(table)
    return f": would enable {in_words([short_label(k) for k in kpis], capital=False)}" if kpis else ""


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
    items = "".join(f"<li><b>{escape(short_label(k))}</b>: {escape(v)}</li>"
                    for k, v in missing.items())
    return (f"<div style='font-size:13px;background:#f6f6f6;border-left:4px solid #999;padding:6px 12px'>"
            f"Not shown for lack of input data — add these to the data folder to enable them:"
            f"<ul style='margin:4px 0'>{items}</ul></div>")


def kpi_section(q, kpi_ids: Sequence[str]) -> HTML:
    """A table of the given KPIs, and what input would enable those that are missing."""
    missing = {k: q.missing[k] for k in kpi_ids if k in q.missing}
    present = [k for k in kpi_ids if k not in missing and k in set(q.kpis[C.KPI])]
    html = kpi_table_html(q.kpis, present, q.colors, history=q.history,
                          quarter=q.period.label) if present else ""
    return HTML(html + (_missing_html(missing) if missing else ""))


def kpi_chart(q, kpi: str, title_text: str | None = None, subtitle: str | None = None):
    """The KPI's bar chart with intervals, or a line saying why it is not shown.

    ``title_text`` and ``subtitle`` default to the spec's ``chart_title`` and
    ``chart_subtitle``.
    """
    from segreport.charts import kpi_bar_chart

    spec = kpi_spec(kpi)
    title_text = spec.chart_title if title_text is None else title_text
    subtitle = spec.chart_subtitle if subtitle is None else subtitle
    if kpi in q.missing:
        return HTML(_missing_html({kpi: q.missing[kpi]}))
    part = q.kpis[q.kpis[C.KPI] == kpi]
    if part.empty or part[C.VALUE].isna().all():
        why = part[C.NOTE].dropna().iloc[0] if len(part) and part[C.NOTE].notna().any() else "no data"
        return HTML(_box(f"{escape(title_text)}: no value to chart ({escape(str(why))})."))
    return kpi_bar_chart(q.kpis, kpi, q.colors, title_text, subtitle)


TREND_KPIS = (ids.CUSTOMERS_END, ids.SEGMENT_GROWTH_RATE, ids.RETENTION_RATE, ids.REVENUE,
              ids.AVERAGE_ORDER_VALUE, ids.CLV, ids.NPS, ids.CSAT)
"""The KPIs of the trends section, in panel order."""
CUSTOMER_VALUE_KPIS = (ids.CLV, ids.CLV_GROWTH, ids.CAC, ids.CAC_PAYBACK_MONTHS,
                       ids.RETENTION_COST, ids.MARKET_SHARE)
"""The KPIs of the customer value and cost section, in table order."""
SEGMENTATION_EFFICIENCY_KPIS = (ids.SEGMENTATION_EFFICIENCY, ids.SEGMENT_COUNT,
                                ids.SEGMENT_SEPARATION)
"""The KPIs of the segmentation efficiency section, in table order."""
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
        return HTML(_box(escape(NO_HISTORY)))
    present = [k for k in kpi_ids if k not in q.missing
               and window.loc[window[C.KPI] == k, C.VALUE].notna().any()]
    if not present:
        return HTML(_box(f"{escape(title_text)}: no values to chart."))
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
    html = _missing_html(missing) if missing else ""
    if empty:
        html += _box(f"No value between {labels[0]} and {labels[-1]}, so no trend: "
                     + escape(", ".join(short_label(k) for k in empty)) + ".")
    return HTML(html)


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


def kpi_panels(q, kpi_ids: Sequence[str], title_text: str | None = None):
    """Small-multiple bar charts of several KPIs (those with data), or why none is shown.

    Each panel is titled with its KPI's short label; ``title_text`` defaults to the KPIs'
    chart titles in words (``Acquisition rate and average order value``).
    """
    from segreport.charts import kpi_panels as panels

    if title_text is None:
        title_text = in_words([kpi_spec(k).chart_title for k in kpi_ids])
    present = [k for k in kpi_ids if k not in q.missing
               and q.kpis.loc[q.kpis[C.KPI] == k, C.VALUE].notna().any()]
    if not present:
        return HTML(_box(f"{escape(title_text)}: no values to chart."))
    names = {k: short_label(k) for k in present}
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
    from segreport.charts.segmentation import migration_heatmap

    if q.prev_facts is None:
        return HTML(_box("No previous quarter in the data, so no migration to show."))
    return migration_heatmap(q.behaviour.migration_shares, q.behaviour.migration)


UP, DOWN = "▴", "▾"
_CHANGE_COLORS = {1: GOOD, -1: BAD, 0: TEXT}
"""Change colour by (direction × sign): better, worse, neither way better."""
BLOCK_WIDTH = 460
"""Widest a KPI's block may be (px): two side by side in the HTML, one on a 600 px phone."""
SPARK_WIDTH, SPARK_HEIGHT = 72, 20
KPI_BLOCK_CLASS = "segreport-kpi"
SPARK_CLASS = "segreport-spark"
_BCELL = "padding:3px 5px;border-bottom:1px solid #e5e5e5;text-align:right;white-space:nowrap"
"""A cell of a KPI block (styles inline, for the e-mail, and short: 11 blocks × 5 rows ×
5 cells go into its body)."""
_BHEAD = "padding:0 5px 2px;border-bottom:1px solid #bbb;text-align:right;font-size:10px;color:#666"


def _defined(kpis: pd.DataFrame | pd.Series):
    """The ``defined`` flag of a KPI row, or of every row of a frame (unknown: defined)."""
    if isinstance(kpis, pd.Series):
        flag = kpis.get(C.DEFINED, True)
        return True if pd.isna(flag) else bool(flag)
    return kpis[C.DEFINED].astype("boolean").fillna(True).astype(bool)


def _has_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _target_line(row: pd.Series) -> str:
    """``target 93.0%`` over ``on track`` (green) / ``off track`` (red), on two short lines
    that fit the value column; empty without a target."""
    target, status = row.get(C.TARGET, math.nan), row.get(C.STATUS, "")
    if pd.isna(target) and not _has_text(status):
        return ""
    color = GOOD if status == C.ON_TRACK else (BAD if status == C.OFF_TRACK else "#666")
    parts = ([f"target {format_value(target, row[C.UNIT])}"] if not pd.isna(target) else []) + \
        ([escape(str(status))] if _has_text(status) else [])
    return "".join(f"<br><span style='font-size:10.5px;color:{color};font-weight:600'>{part}</span>"
                   for part in parts)


def _value_cell(row: pd.Series | None, show_interval: bool) -> str:
    if row is None:
        return f"<td style='{_BCELL}'>—</td>"
    kpi, value, unit = row[C.KPI], row[C.VALUE], row[C.UNIT]
    text = format_value(value, unit, signed=kpi == ids.SEGMENT_GROWTH_RATE)
    style = _BCELL
    band = row[C.BAND]
    if bool(row.get(C.SMALL_SAMPLE, False)):
        text += " †"
    if not _defined(row):
        text += " *"
    if _has_text(band):
        color = band_color(kpi, band)
        style += f";background:{color}22;border-left:4px solid {color}"
        text += (f"<br><span style='font-size:10px;color:{color};font-weight:700;letter-spacing:.5px'>"
                 f"{escape(band.upper())}</span>")
    low, high = row.get(C.CI_LOW, math.nan), row.get(C.CI_HIGH, math.nan)
    if show_interval and not (pd.isna(low) or pd.isna(high)):
        text += (f"<br><span style='font-size:10.5px;color:#666'>{format_value(low, unit)} to "
                 f"{format_value(high, unit)}</span>")
    return f"<td style='{style}'>{text}{_target_line(row)}</td>"


def _change_cell(row: pd.Series | None, change: str, called: str) -> str:
    """The change in the KPI's unit: arrow and colour (green better, red worse, dark when
    neither way is better) only when it is called; grey and no arrow otherwise."""
    if row is None or pd.isna(row.get(change, math.nan)):
        return f"<td style='{_BCELL};color:#999'>—</td>"
    text = format_change(row[change], row[C.UNIT])
    sign = int(row.get(called, 0) or 0)
    if not sign:
        return f"<td style='{_BCELL};color:#888'>{text}</td>"
    color = _CHANGE_COLORS[sign * direction(row[C.KPI])]
    return (f"<td style='{_BCELL};color:{color};font-weight:600'>"
            f"{UP if sign > 0 else DOWN}{text}</td>")


def _spark_cell(values: pd.Series | None, color: str) -> str:
    if values is None or values.notna().sum() < 2:
        return f"<td style='{_BCELL};color:#999'>—</td>"
    data = base64.b64encode(sparkline_png(values, color, SPARK_WIDTH, SPARK_HEIGHT)).decode("ascii")
    return (f"<td style='padding:2px 4px;border-bottom:1px solid #e5e5e5'>"
            f"<img src='data:image/png;base64,{data}' "
            f"width='{SPARK_WIDTH}' height='{SPARK_HEIGHT}' alt='' class='{SPARK_CLASS}' "
            f"style='display:block;border:0'></td>")


def _segments_in_order(kpis: pd.DataFrame) -> list[str]:
    return all_last(kpis[C.SEGMENT])


def _swatch(color: str) -> str:
    return (f"<span style='display:inline-block;width:10px;height:10px;border-radius:2px;"
            f"background:{color};margin-right:5px'></span>")


def _kpi_block(kpi: str, lookup: dict, segments: Sequence[str], colors: dict[str, str],
               in_context: bool, spark: pd.DataFrame, quarter: str, show_interval: bool) -> str:
    """One KPI: a row per segment (whole unit last) with value, changes and trend."""
    sub = {HIGHER: "higher is better", LOWER: "lower is better"}.get(direction(kpi), "")
    heads = [quarter or "Value"]
    if in_context:
        heads += ["vs last qtr", "vs a year ago"] + ([f"{len(spark.columns)} quarters"] if len(spark) else [])
    head = (f"<tr><th colspan='{len(heads) + 1}' style='padding:4px 5px 0;text-align:left;"
            f"font-size:13.5px'>{escape(short_label(kpi))}"
            + (f" <span style='font-size:10.5px;font-weight:400;color:#777'>{sub}</span>" if sub else "")
            + f"</th></tr><tr><th style='{_BHEAD}'></th>"
            + "".join(f"<th style='{_BHEAD};font-weight:400'>{escape(h)}</th>" for h in heads)
            + "</tr>")
    body = []
    for seg in segments:
        row = lookup.get((seg, kpi))
        whole = seg == C.ALL_SEGMENTS
        label = "Whole unit" if whole else str(seg)
        # white rows: no zebra stripes behind the sparklines
        weight = "font-weight:700;border-top:1px solid #444" if whole else "font-weight:400"
        cells = _value_cell(row, show_interval)
        if in_context:
            key = (kpi, seg)
            cells += (_change_cell(row, CHANGE_PREVIOUS, CALLED_PREVIOUS)
                      + _change_cell(row, CHANGE_YEAR, CALLED_YEAR)
                      + (_spark_cell(spark.loc[key] if key in spark.index else None,
                                     colors.get(seg, ALL_COLOR)) if len(spark) else ""))
        wrap = "nowrap" if len(label) <= 18 else "normal"
        body.append(f"<tr style='{weight};background:#fff'><th style='padding:3px 5px;"
                    f"border-bottom:1px solid #e5e5e5;text-align:left;white-space:{wrap};{weight}'>"
                    f"{_swatch(colors.get(seg, ALL_COLOR))}{escape(label)}</th>{cells}</tr>")
    return (f"<div class='{KPI_BLOCK_CLASS}' style='display:inline-block;vertical-align:top;"
            f"width:100%;max-width:{BLOCK_WIDTH if in_context else BLOCK_WIDTH * 2 // 3}px;"
            f"margin:0 18px 16px 0'>"
            f"<table style='{_TABLE};width:100%'><thead>{head}</thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def kpi_table_html(kpis: pd.DataFrame, kpi_ids: Sequence[str], colors: dict[str, str] | None = None,
                   show_previous: bool = True, history: pd.DataFrame | None = None,
                   quarter: str = "", show_interval: bool = True) -> str:
    """The given KPIs, one compact block each: a row per segment (the whole unit last).

    Parameters
    ----------
    kpis
        The tidy KPI frame of the reported quarter (with ``previous_value``; ``target`` and
        ``status`` are shown when present).
    kpi_ids
        The KPIs to show, in order; those absent from ``kpis`` are skipped.
    colors
        Segment → colour (:func:`segreport.palette.segment_colors`).
    show_previous
        Show the changes on last quarter and a year ago, and the trend; off for KPIs that
        exist for the reported quarter only.
    history, quarter
        The unit's KPI panel and the reported quarter: the year-ago change and the
        sparkline of the last 8 quarters come from there; without them those columns
        are empty and the notes say so.
    show_interval
        Write each value's 95 % interval under it.

    Returns
    -------
    HTML: the blocks (each at most :data:`BLOCK_WIDTH` px wide, so one fits a 600 px
    phone screen and two sit side by side on a wider one) and the notes under them. Each
    cell shows the value, its band (coloured), † for a small sample, * for an undefined
    value and the target when there is one; the change cells carry an arrow and a colour
    only when the change is called (:mod:`segreport.kpis.context`).
    """
    colors = colors or segment_colors(kpis[C.SEGMENT])
    shown = [k for k in kpi_ids if k in set(kpis[C.KPI])]
    part = kpis[kpis[C.KPI].isin(shown)]
    if show_previous:
        part = kpi_context(part, history, quarter)
    spark = trend(history, quarter) if show_previous else trend(None, "")
    lookup = {(r[C.SEGMENT], r[C.KPI]): r for _, r in part.iterrows()}
    segments = _segments_in_order(part)
    blocks = "".join(_kpi_block(k, lookup, segments, colors, show_previous, spark, quarter,
                                show_interval) for k in shown)
    has_history = len(spark) > 0
    return (f"<div style='max-width:{2 * BLOCK_WIDTH + 40}px'>{blocks}</div>"
            + _table_notes(part, shown, show_interval, show_previous, has_history,
                           spark.columns if has_history else ()))


def _table_notes(part: pd.DataFrame, shown: Sequence[str], show_interval: bool = True,
                 in_context: bool = False, has_history: bool = False,
                 quarters: Sequence[str] = ()) -> str:
    lines = []
    for kpi in shown:
        bands = kpi_spec(kpi).bands
        if bands:
            text = ", ".join(
                f"<span style='border-left:4px solid {band_color(kpi, b.label)};padding-left:4px'>"
                f"{escape(b.label)}</span> "
                + (f"≥ {b.min:g}" if b.min is not None else "below") for b in bands)
            lines.append(f"{escape(short_label(kpi))} bands: {text}.")
    if part[C.SMALL_SAMPLE].fillna(False).astype(bool).any():
        lines.append("† small sample: fewer than 30 observations behind the value; read it with "
                     "its interval.")
    if show_interval and (part[C.CI_LOW].notna()).any():
        lines.append("Under a value: its 95% interval.")
    if in_context:
        lines.append(
            f"<span style='color:{GOOD}'>{UP}</span>/<span style='color:{BAD}'>{DOWN}</span> a real "
            "change, green when it is for the better, red for the worse: beyond its 95% interval "
            "for the KPIs estimated from a sample (retention, churn, survey scores); for those "
            "counted over every customer and order, any change. Grey, no arrow: within the "
            "margin of error or none. Changes are in the KPI's unit (pts: percentage points).")
        if has_history:
            lines.append(f"Trend: {escape(quarters[0])} to {escape(quarters[-1])}, the last dot "
                         "is this quarter.")
        else:
            lines.append("No quarterly history for this cut of the segments: changes on a year "
                         "ago and trends are not available.")
    defined = _defined(part)
    undefined = part[~defined]
    items = []
    for note, group in undefined.groupby(C.NOTE, sort=False):
        where = "; ".join(f"{escape(str(seg))}: {', '.join(short_label(k).lower() for k in g[C.KPI])}"
                          for seg, g in group.groupby(C.SEGMENT, sort=False))
        items.append(f"<li>{escape(note)} — {where}</li>")
    other = part[part[C.NOTE].fillna("").ne("") & defined]
    for note, group in other.groupby(C.NOTE, sort=False):
        who = ", ".join(sorted({escape(str(s)) for s in group[C.SEGMENT]}))
        kpi_names = ", ".join(sorted({short_label(k) for k in group[C.KPI]}))
        items.append(f"<li>{escape(kpi_names)} ({who}): {escape(note)}</li>")
    out = "".join(f"<p style='font-size:12px;color:#555;margin:4px 0'>{line}</p>" for line in lines)
    if items:
        marker = " (* = not defined)" if len(undefined) else ""
        out += (f"<p style='font-size:12px;color:#555;margin:6px 0 0'>Notes{marker}:</p>"
                f"<ul style='font-size:12px;color:#555;margin-top:2px'>{''.join(items)}</ul>")
    return out


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
            f"{escape(enables(t))}</li>" for t in absent)
        missing = (f"<p style='font-size:13px'>Optional tables not provided: {escape(', '.join(absent))}."
                   f"</p><ul style='font-size:13px'>{items}</ul>")
    return HTML(f"<table style='{_TABLE}'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
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
