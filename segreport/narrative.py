"""A short generated narrative per segment, built from the KPI frame and the bands.

A change is called a rise or a fall only when its 95 % interval excludes zero; otherwise the
text says it is within the margin of error.
"""
from __future__ import annotations

import math

import pandas as pd

from segreport import columns as C
from segreport.formatting import format_value
from segreport.kpis import ids
from segreport.kpis.cards import band_meaning
from segreport.kpis.stats import excludes_zero


def _row(kpis: pd.DataFrame, kpi: str, segment: str) -> pd.Series | None:
    hit = kpis[(kpis[C.KPI] == kpi) & (kpis[C.SEGMENT] == segment)]
    return hit.iloc[0] if len(hit) else None


def _value(kpis: pd.DataFrame, kpi: str, segment: str) -> float:
    row = _row(kpis, kpi, segment)
    return float(row[C.VALUE]) if row is not None else math.nan


def _band(kpis: pd.DataFrame, kpi: str, segment: str) -> str:
    row = _row(kpis, kpi, segment)
    return str(row[C.BAND]) if row is not None and isinstance(row[C.BAND], str) else ""


def _advice(kpi: str, band: str) -> str:
    """The action half of a band's meaning ("Weak growth; reevaluate …" → "Reevaluate …")."""
    meaning = band_meaning(kpi, band)
    action = meaning.split(";", 1)[1].strip() if ";" in meaning else meaning
    return action[:1].upper() + action[1:] + "." if action else ""


def growth_sentence(kpis: pd.DataFrame, segment: str) -> str:
    start = _value(kpis, ids.CUSTOMERS_START, segment)
    end = _value(kpis, ids.CUSTOMERS_END, segment)
    new = _value(kpis, ids.NEW_CUSTOMERS, segment)
    growth = _value(kpis, ids.SEGMENT_GROWTH_RATE, segment)
    retention = _value(kpis, ids.RETENTION_RATE, segment)
    churn = _value(kpis, ids.CHURN_RATE, segment)
    if math.isnan(growth):
        return (f"No customers were active at the start of the quarter, so growth, retention and "
                f"churn rates are not defined; {int(end):,} were active at its end "
                f"({int(new):,} acquired during the quarter).")
    band = _band(kpis, ids.SEGMENT_GROWTH_RATE, segment)
    return (f"{band.capitalize()} growth ({format_value(growth, '%', signed=True)}): active customers went from "
            f"{int(start):,} to {int(end):,}, with {int(new):,} new customers while "
            f"{churn:.1f}% of the starting base lapsed (retention {retention:.1f}%). "
            f"{_advice(ids.SEGMENT_GROWTH_RATE, band)}")


def revenue_sentence(kpis: pd.DataFrame, segment: str) -> str:
    revenue = _value(kpis, ids.REVENUE, segment)
    share = _value(kpis, ids.SALES_CONTRIBUTION, segment)
    aov = _value(kpis, ids.AVERAGE_ORDER_VALUE, segment)
    return (f"Net revenue was {revenue:,.0f}"
            + ("" if math.isnan(share) or segment == C.ALL_SEGMENTS else f", {share:.1f}% of the unit's sales")
            + ("" if math.isnan(aov) else f", at {aov:,.2f} per order") + ".")


def value_sentence(kpis: pd.DataFrame, segment: str) -> str:
    clv = _value(kpis, ids.CLV, segment)
    if math.isnan(clv):
        return ""
    growth = _value(kpis, ids.CLV_GROWTH, segment)
    text = f"Historical CLV is {clv:,.0f}"
    if not math.isnan(growth):
        text += f" ({format_value(growth, '%', signed=True)} on last quarter)"
    payback = _value(kpis, ids.CAC_PAYBACK_MONTHS, segment)
    if not math.isnan(payback):
        text += f"; acquisition cost is repaid in {payback:.1f} months of margin"
    return text + "."


def nps_sentence(kpis: pd.DataFrame, segment: str) -> str:
    nps = _row(kpis, ids.NPS, segment)
    if nps is None or pd.isna(nps[C.VALUE]):
        return ""
    text = f"NPS is {nps[C.VALUE]:+.0f} ({nps[C.BAND]})" if nps[C.BAND] else f"NPS is {nps[C.VALUE]:+.0f}"
    change = _row(kpis, ids.NPS_CHANGE, segment)
    if change is not None and not pd.isna(change[C.VALUE]):
        if excludes_zero(change[C.CI_LOW], change[C.CI_HIGH]):
            verb = "up" if change[C.VALUE] > 0 else "down"
            text += f", {verb} {abs(change[C.VALUE]):.1f} points on last quarter"
        else:
            text += (f", {change[C.VALUE]:+.1f} points on last quarter, within the margin of error "
                     f"(95% interval {change[C.CI_LOW]:+.1f} to {change[C.CI_HIGH]:+.1f}), so no real change")
    if bool(nps.get(C.SMALL_SAMPLE, False)):
        text += "; few responses, read with care"
    return text + "."


def segment_sentences(kpis: pd.DataFrame, segment: str) -> str:
    """Plain-text summary of one segment: growth band, customer flow, revenue, value, NPS."""
    parts = [growth_sentence(kpis, segment), revenue_sentence(kpis, segment),
             value_sentence(kpis, segment), nps_sentence(kpis, segment)]
    return " ".join(p for p in parts if p)


def narrative(kpis: pd.DataFrame) -> dict[str, str]:
    """Segment → summary, the whole unit first, then the segments in the frame's order."""
    segments = [s for s in dict.fromkeys(kpis.loc[kpis[C.KPI] == ids.CUSTOMERS_END, C.SEGMENT])]
    order = [C.ALL_SEGMENTS] * (C.ALL_SEGMENTS in segments) + [s for s in segments if s != C.ALL_SEGMENTS]
    return {s: segment_sentences(kpis, s) for s in order}
