"""The behavioural segmentation: how RFM scores are made, the behaviour groups found by
k-means, and the migration between RFM segments."""
from __future__ import annotations

from html import escape

from IPython.display import HTML

from segreport.report.sections.html import CELL, HEAD, TABLE, box


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
        return HTML(box(f"No behaviour groups: {escape(result.reason)}"))
    from segreport.kpis import segmentation as S

    tried = ", ".join(f"k={k}: {v:.2f}" for k, v in sorted(result.silhouettes.items()))
    p = result.profile
    head = ("Group", "Customers", "Days since last order<br>mean · median",
            "Orders, 12 months<br>mean · median", "Net spend, 12 months<br>mean · median",
            "Most common segment")
    rows = []
    for name, r in p.iterrows():
        rows.append(
            f"<tr><th style='{CELL};text-align:left'>{int(r[S.GROUP])}. {escape(str(name))}</th>"
            f"<td style='{CELL}'>{int(r[S.CUSTOMERS]):,} ({r[S.SHARE]:.0f}%)</td>"
            f"<td style='{CELL}'>{r[S.RECENCY_MEAN]:,.0f} · {r[S.RECENCY_MEDIAN]:,.0f}</td>"
            f"<td style='{CELL}'>{r[S.FREQUENCY_MEAN]:,.1f} · {r[S.FREQUENCY_MEDIAN]:,.0f}</td>"
            f"<td style='{CELL}'>{r[S.MONETARY_MEAN]:,.0f} · {r[S.MONETARY_MEDIAN]:,.0f}</td>"
            f"<td style='{CELL};text-align:left'>{escape(str(r[S.DOMINANT_SEGMENT]))} "
            f"({r[S.DOMINANT_SHARE]:.0f}%)</td></tr>")
    table = (f"<table style='{TABLE}'><thead><tr>"
             + "".join(f"<th style='{HEAD}'>{h}</th>" for h in head)
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
        return HTML(box("No previous quarter in the data, so no migration to show."))
    return migration_heatmap(q.behaviour.migration_shares, q.behaviour.migration)
