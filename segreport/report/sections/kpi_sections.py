"""The KPI sections: a table of KPIs, a KPI's chart, small multiples of several, and
predictive CLV with its model stated."""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

from IPython.display import HTML

from segreport import columns as C
from segreport.kpis import ids
from segreport.kpis.spec import in_words, kpi_spec, short_label
from segreport.report.sections.html import box, missing_html
from segreport.report.sections.kpi_blocks import kpi_table_html


def kpi_section(q, kpi_ids: Sequence[str]) -> HTML:
    """A table of the given KPIs, and what input would enable those that are missing."""
    missing = {k: q.missing[k] for k in kpi_ids if k in q.missing}
    present = [k for k in kpi_ids if k not in missing and k in set(q.kpis[C.KPI])]
    html = kpi_table_html(q.kpis, present, q.colors, history=q.history,
                          quarter=q.period.label) if present else ""
    return HTML(html + (missing_html(missing) if missing else ""))


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
        return HTML(missing_html({kpi: q.missing[kpi]}))
    part = q.kpis[q.kpis[C.KPI] == kpi]
    if part.empty or part[C.VALUE].isna().all():
        why = part[C.NOTE].dropna().iloc[0] if len(part) and part[C.NOTE].notna().any() else "no data"
        return HTML(box(f"{escape(title_text)}: no value to chart ({escape(str(why))})."))
    return kpi_bar_chart(q.kpis, kpi, q.colors, title_text, subtitle)


CUSTOMER_VALUE_KPIS = (ids.CLV, ids.CLV_GROWTH, ids.CAC, ids.CAC_PAYBACK_MONTHS,
                       ids.RETENTION_COST, ids.MARKET_SHARE)
"""The KPIs of the customer value and cost section, in table order."""
SEGMENTATION_EFFICIENCY_KPIS = (ids.SEGMENTATION_EFFICIENCY, ids.SEGMENT_COUNT,
                                ids.SEGMENT_SEPARATION)
"""The KPIs of the segmentation efficiency section, in table order."""


def predictive_clv_section(q) -> HTML:
    """Predicted CLV per segment, with the model, library and fitted parameters stated."""
    fit = q.clv_fit
    if fit is None:
        return HTML(box("Predictive CLV is switched off (parameter <code>predictive_clv: false</code>)."))
    table = kpi_table_html(q.kpis, ids.PREDICTIVE_KPIS, q.colors, show_previous=False)
    if not fit.ok:
        return HTML(table + box(f"No model fit: {escape(fit.note)}"))
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
        return HTML(box(f"{escape(title_text)}: no values to chart."))
    names = {k: short_label(k) for k in present}
    return panels(q.kpis, present, q.colors, title_text, names)
