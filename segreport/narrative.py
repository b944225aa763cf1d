"""A short generated narrative per segment, built from the KPI frame and the bands."""
from __future__ import annotations

import math

import pandas as pd

from segreport import columns as C
from segreport.kpis import ids
from segreport.kpis.cards import band_meaning


def _value(kpis: pd.DataFrame, kpi: str, segment: str) -> float:
    hit = kpis[(kpis[C.KPI] == kpi) & (kpis[C.SEGMENT] == segment)][C.VALUE]
    return float(hit.iloc[0]) if len(hit) else math.nan


def _band(kpis: pd.DataFrame, kpi: str, segment: str) -> str:
    hit = kpis[(kpis[C.KPI] == kpi) & (kpis[C.SEGMENT] == segment)][C.BAND]
    return str(hit.iloc[0]) if len(hit) else ""


def segment_sentences(kpis: pd.DataFrame, segment: str) -> str:
    """Plain-text summary of one segment: growth band, customer flow, retention, revenue."""
    start = _value(kpis, ids.CUSTOMERS_START, segment)
    end = _value(kpis, ids.CUSTOMERS_END, segment)
    new = _value(kpis, ids.NEW_CUSTOMERS, segment)
    growth = _value(kpis, ids.SEGMENT_GROWTH_RATE, segment)
    retention = _value(kpis, ids.RETENTION_RATE, segment)
    churn = _value(kpis, ids.CHURN_RATE, segment)
    revenue = _value(kpis, ids.REVENUE, segment)
    share = _value(kpis, ids.SALES_CONTRIBUTION, segment)
    aov = _value(kpis, ids.AVERAGE_ORDER_VALUE, segment)

    if math.isnan(growth):
        first = (f"No customers were active at the start of the quarter, so growth, retention and "
                 f"churn rates are not defined; {int(end):,} were active at its end "
                 f"({int(new):,} acquired during the quarter).")
    else:
        band = _band(kpis, ids.SEGMENT_GROWTH_RATE, segment)
        meaning = band_meaning(ids.SEGMENT_GROWTH_RATE, band)
        first = (f"{band.capitalize()} growth ({growth:+.1f}%): active customers went from "
                 f"{int(start):,} to {int(end):,}, with {int(new):,} new customers and "
                 f"{churn:.1f}% of the starting base lost (retention {retention:.1f}%). "
                 f"{meaning}.")
    money = (f"Net revenue was {revenue:,.0f}"
             + ("" if math.isnan(share) or segment == C.ALL_SEGMENTS else f", {share:.1f}% of the unit's sales")
             + ("" if math.isnan(aov) else f", at {aov:,.2f} per order") + ".")
    return f"{first} {money}"


def narrative(kpis: pd.DataFrame) -> dict[str, str]:
    """Segment → summary, segments in the frame's order with ``All`` first."""
    segments = list(dict.fromkeys(kpis[C.SEGMENT]))
    order = [C.ALL_SEGMENTS] * (C.ALL_SEGMENTS in segments) + [s for s in segments if s != C.ALL_SEGMENTS]
    return {s: segment_sentences(kpis, s) for s in order}
