"""A short generated narrative per segment, built from the KPI frame, its history and the
bands.

Each segment's paragraph leads with what moved most (on last quarter or on the same
quarter a year earlier), then what needs a decision (a change for the worse, a missed
target), then the customer flow, revenue, value and NPS. The whole unit's paragraph first
says which segments drove its change in revenue and in active customers. The band advice ("reevaluate customer
segmentation strategies") is said once, naming every segment it applies to
(:func:`decisions`), not repeated per segment.

A change is called a rise or a fall only when it is real (:mod:`segreport.kpis.context`:
beyond its 95 % interval for a KPI estimated from a sample); otherwise the text says it is
within the margin of error.
"""
from __future__ import annotations

import math

import pandas as pd

from segreport import columns as C
from segreport.formatting import format_change, format_value
from segreport.kpis import ids
from segreport.kpis.context import (
    CALLED_PREVIOUS,
    CALLED_YEAR,
    CHANGE_PREVIOUS,
    CHANGE_YEAR,
    YEAR_AGO_VALUE,
    direction,
    kpi_context,
    usual_changes,
)
from segreport.kpis.spec import band_meaning, in_text, kpi_spec
from segreport.kpis.stats import excludes_zero
from segreport.segments import all_first, segments_without_all

MOVER_KPIS = (ids.CUSTOMERS_END, ids.NEW_CUSTOMERS, ids.ACQUISITION_RATE, ids.RETENTION_RATE,
              ids.CHURN_RATE, ids.REVENUE, ids.ORDERS, ids.AVERAGE_ORDER_VALUE, ids.CLV, ids.CAC,
              ids.CAC_PAYBACK_MONTHS, ids.RETENTION_COST, ids.MARKET_SHARE, ids.CSAT, ids.NPS)
"""The KPIs a segment's lead sentence may name, each by its spec's ``in_text`` (growth,
shares and changes of changes are left out: their moves are those of these)."""
_COMPARISONS = ((CHANGE_PREVIOUS, CALLED_PREVIOUS, 1, "on last quarter", "quarterly"),
                (CHANGE_YEAR, CALLED_YEAR, 4, "year on year", "year-on-year"))
ADVICE_KPIS = (ids.SEGMENT_GROWTH_RATE, ids.CLV_GROWTH, ids.CAC_PAYBACK_MONTHS, ids.CSAT, ids.NPS)
"""The KPIs whose band advice the narrative passes on (every band but the best)."""
DRIVERS_LISTED = 4
"""Segments named one by one in the whole unit's drivers; the others are summed."""
NOTABLE = 1.0
"""A change at least this many times the KPI's usual change is notable (named beyond the
lead and among what needs a decision)."""
NOTABLE_WITHOUT_HISTORY = 0.05
"""Without a history: a change of at least 5 % of last quarter's value is notable."""


def _row(kpis: pd.DataFrame, kpi: str, segment: str) -> pd.Series | None:
    hit = kpis[(kpis[C.KPI] == kpi) & (kpis[C.SEGMENT] == segment)]
    return hit.iloc[0] if len(hit) else None


def _value(kpis: pd.DataFrame, kpi: str, segment: str) -> float:
    row = _row(kpis, kpi, segment)
    return float(row[C.VALUE]) if row is not None else math.nan


def _band(kpis: pd.DataFrame, kpi: str, segment: str) -> str:
    row = _row(kpis, kpi, segment)
    return str(row[C.BAND]) if row is not None and isinstance(row[C.BAND], str) else ""


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
    return (f"{band.capitalize()} growth ({format_value(growth, '%', signed=True)}): "
            f"active customers went from {int(start):,} to {int(end):,}, "
            f"with {int(new):,} new customers while {churn:.1f}% of the starting base lapsed "
            f"(retention {retention:.1f}%).")


def revenue_sentence(kpis: pd.DataFrame, segment: str) -> str:
    revenue = _value(kpis, ids.REVENUE, segment)
    share = _value(kpis, ids.SALES_CONTRIBUTION, segment)
    aov = _value(kpis, ids.AVERAGE_ORDER_VALUE, segment)
    return (f"Net revenue was {revenue:,.0f}"
            + ("" if math.isnan(share) or segment == C.ALL_SEGMENTS
               else f", {share:.1f}% of the unit's sales")
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


def _words(kpi: str) -> str:
    """How the text names ``kpi``: its spec's ``in_text``."""
    return in_text(kpi)


def _change_words(row: pd.Series, change: str, called: str, when: str) -> str:
    """``up 1.9 pts on last quarter`` / ``+0.4 pts year on year, within the margin of
    error``."""
    text = format_change(row[change], row[C.UNIT])
    sign = int(row[called])
    if sign:
        return f"{'up' if sign > 0 else 'down'} {text.lstrip('+-')} {when}"
    return f"{text} {when}, within the margin of error"


def _usual(history: pd.DataFrame | None, quarter: str) -> dict[int, pd.Series]:
    """Lag → :func:`segreport.kpis.context.usual_changes`, for :func:`moves`."""
    return {lag: usual_changes(history, quarter, lag) for *_, lag, _, _ in _COMPARISONS}


def moves(kpis: pd.DataFrame, segment: str, history: pd.DataFrame | None = None,
          quarter: str = "", usual: dict[int, pd.Series] | None = None) -> list[dict]:
    """The segment's real changes (called up or down, see :mod:`segreport.kpis.context`)
    among :data:`MOVER_KPIS`, biggest first.

    A change's size is its ratio to the KPI's usual change of the same kind in this segment
    (the mean absolute quarter-on-quarter or year-on-year change before the reported
    quarter, :func:`segreport.kpis.context.usual_changes`, passed as ``usual`` when
    already computed), so that a churn rate and a revenue compare; without a history, its
    ratio to last quarter's value.

    Returns
    -------
    A list of dicts: ``kpi``, ``change`` (column name), ``called``, ``when`` (words),
    ``kind`` (``quarterly``/``year-on-year``), ``times`` (the ratio), ``notable`` (at least
    :data:`NOTABLE` times the usual change; without a history, at least
    :data:`NOTABLE_WITHOUT_HISTORY` of last quarter's value), ``better`` (1 for the better,
    −1 for the worse, 0 when neither way is better) and ``row``.
    """
    ctx = kpis if CHANGE_PREVIOUS in kpis else kpi_context(kpis, history, quarter)
    usual_of = usual if usual is not None else _usual(history, quarter)
    found = []
    for _, row in ctx[(ctx[C.SEGMENT] == segment) & ctx[C.KPI].isin(MOVER_KPIS)].iterrows():
        for change, called, lag, when, kind in _COMPARISONS:
            if change not in row or pd.isna(row[change]) or not int(row[called]):
                continue
            usual = float(usual_of[lag].get((row[C.KPI], segment), math.nan))
            threshold = NOTABLE
            if math.isnan(usual) or usual == 0:
                base = row[C.PREVIOUS_VALUE] if lag == 1 else row.get(YEAR_AGO_VALUE, math.nan)
                usual = abs(base) if not pd.isna(base) and base != 0 else math.nan
                threshold = NOTABLE_WITHOUT_HISTORY
            if math.isnan(usual):
                continue
            times = abs(row[change]) / usual
            found.append({C.KPI: row[C.KPI], "change": change, "called": called, "when": when,
                          "kind": kind, "times": times, "notable": times >= threshold,
                          "better": int(row[called]) * direction(row[C.KPI]), "row": row})
    return sorted(found, key=lambda m: -m["times"])


def _in_lead(found: list[dict]) -> list[dict]:
    """The moves the lead sentence names: the biggest, then up to two more notable ones of
    other KPIs."""
    named, out = set(), []
    for m in found:
        if m[C.KPI] not in named and (not out or (m["notable"] and len(out) < 3)):
            named.add(m[C.KPI])
            out.append(m)
    return out


def lead_sentence(kpis: pd.DataFrame, segment: str, history: pd.DataFrame | None = None,
                  quarter: str = "", found: list[dict] | None = None) -> str:
    """What moved most: ``Biggest move: churn up 1.9 pts on last quarter to 7.5%, 3.1 times
    its usual quarterly change.`` (and the next two real moves, briefly); or that nothing
    moved beyond its margin of error. ``found``: :func:`moves`, when already computed."""
    found = moves(kpis, segment, history, quarter) if found is None else found
    if not found:
        return "No KPI moved beyond its margin of error on last quarter or year on year."
    top = found[0]
    row = top["row"]
    text = (f"Biggest move: {_words(top[C.KPI])} "
            f"{_change_words(row, top['change'], top['called'], top['when'])} to "
            f"{format_value(row[C.VALUE], row[C.UNIT])}")
    if history is not None and not history.empty:
        text += f", {top['times']:.1f} times its usual {top['kind']} change"
    others = _in_lead(found)[1:]
    if others:
        text += "; also " + " and ".join(
            f"{_words(m[C.KPI])} {_change_words(m['row'], m['change'], m['called'], m['when'])}"
            for m in others)
    return text + "."


def _target_misses(kpis: pd.DataFrame, segment: str) -> list[str]:
    if C.STATUS not in kpis:
        return []
    rows = kpis[(kpis[C.SEGMENT] == segment) & (kpis[C.STATUS] == C.OFF_TRACK)]
    return [f"{_words(r[C.KPI])} {format_value(r[C.VALUE], r[C.UNIT])} against a target of "
            f"{format_value(r[C.TARGET], r[C.UNIT])}" for _, r in rows.iterrows()]


def decision_sentence(kpis: pd.DataFrame, segment: str, history: pd.DataFrame | None = None,
                      quarter: str = "", found: list[dict] | None = None) -> str:
    """What needs a decision in the segment: every missed target and the notable real
    changes for the worse (those the lead sentence told, by name only); empty when there is
    none.
    ``found``: :func:`moves`, when already computed."""
    items = [f"off target on {m}" for m in _target_misses(kpis, segment)]
    found = moves(kpis, segment, history, quarter) if found is None else found
    told = {m[C.KPI] for m in _in_lead(found)}
    seen = set()
    for m in found:
        if m["better"] >= 0 or not m["notable"] or m[C.KPI] in seen:
            continue
        seen.add(m[C.KPI])
        items.append(_words(m[C.KPI]) if m[C.KPI] in told else  # described just before
                     f"{_words(m[C.KPI])} {_change_words(m['row'], m['change'], m['called'], m['when'])}")
    return f"Needs a decision: {'; '.join(items)}." if items else ""


def _change_of(ctx: pd.DataFrame, kpi: str, segment: str, change: str) -> float:
    row = _row(ctx, kpi, segment)
    return float(row[change]) if row is not None and change in row else math.nan


def driver_sentence(kpis: pd.DataFrame, kpi: str, history: pd.DataFrame | None = None,
                    quarter: str = "", change: str = CHANGE_PREVIOUS) -> str:
    """Which segments drove the whole unit's change in ``kpi`` (a total that adds up over
    segments: revenue, active customers): each segment's change and its share of the
    unit's, biggest first, e.g. ``Net revenue rose 417.1k (+6.2%) on last quarter, driven
    most by Premium: Premium +238.2k (57%), Standard +136.7k (33%), … of the change.``
    Empty when the unit did not change or there is only one segment."""
    ctx = kpis if change in kpis else kpi_context(kpis, history, quarter)
    total = _change_of(ctx, kpi, C.ALL_SEGMENTS, change)
    segments = segments_without_all(ctx.loc[ctx[C.KPI] == kpi, C.SEGMENT])
    unit = str(_row(ctx, kpi, C.ALL_SEGMENTS)[C.UNIT]) if _row(ctx, kpi, C.ALL_SEGMENTS) is not None else ""
    if math.isnan(total) or len(segments) < 2 or format_change(total, unit) == format_change(0.0, unit):
        return ""
    sign = 1 if total > 0 else -1
    parts = sorted(((s, _change_of(ctx, kpi, s, change)) for s in segments),
                   key=lambda p: math.inf if math.isnan(p[1]) else -sign * p[1])
    when = "on last quarter" if change == CHANGE_PREVIOUS else "year on year"
    known = [(seg, v) for seg, v in parts if not math.isnan(v)]
    listed = ", ".join(f"{seg} {format_change(v, unit)} ({v / total * 100:.0f}%)"
                       for seg, v in known[:DRIVERS_LISTED])
    rest = known[DRIVERS_LISTED:]
    if rest:
        others = sum(v for _, v in rest)
        listed += (f", the other {len(rest)} together {format_change(others, unit)} "
                   f"({others / total * 100:.0f}%)")
    verb = "rose" if total > 0 else "fell"
    lead = parts[0][0]
    whole = _row(ctx, kpi, C.ALL_SEGMENTS)
    base = whole[C.VALUE] - total
    pct = f" ({total / base * 100:+.1f}%)" if base > 0 else ""
    return (f"{_words(kpi).capitalize()} {verb} {format_change(total, unit).lstrip('+-')}{pct} "
            f"{when}, driven most by {lead}: {listed} of the change.")


def segment_sentences(kpis: pd.DataFrame, segment: str, history: pd.DataFrame | None = None,
                      quarter: str = "", ctx: pd.DataFrame | None = None,
                      usual: dict[int, pd.Series] | None = None) -> str:
    """Plain-text summary of one segment: what moved most, what needs a decision, then
    growth band and customer flow, revenue, value and NPS (the whole unit: which segments
    drove its change first). ``ctx`` (:func:`segreport.kpis.context.kpi_context` of
    ``kpis``) and ``usual`` (see :func:`moves`) when already computed."""
    ctx = kpi_context(kpis, history, quarter) if ctx is None else ctx
    found = moves(ctx, segment, history, quarter, usual)
    parts = []
    if segment == C.ALL_SEGMENTS:
        parts += [driver_sentence(ctx, ids.REVENUE), driver_sentence(ctx, ids.CUSTOMERS_END)]
    parts += [lead_sentence(ctx, segment, history, quarter, found),
              decision_sentence(ctx, segment, history, quarter, found),
              growth_sentence(kpis, segment), revenue_sentence(kpis, segment),
              value_sentence(kpis, segment), nps_sentence(kpis, segment)]
    return " ".join(p for p in parts if p)


def narrative(kpis: pd.DataFrame, history: pd.DataFrame | None = None,
              quarter: str = "") -> dict[str, str]:
    """Segment → summary, the whole unit first, then the segments in the frame's order.

    Parameters
    ----------
    kpis
        The tidy KPI frame of the reported quarter (with ``previous_value``; ``target`` and
        ``status`` when targets are set).
    history, quarter
        The unit's KPI panel and the reported quarter, for the changes on a year earlier and
        the usual size of each KPI's changes; without them only last quarter is compared.
    """
    order = all_first(kpis.loc[kpis[C.KPI] == ids.CUSTOMERS_END, C.SEGMENT])
    ctx, usual = kpi_context(kpis, history, quarter), _usual(history, quarter)
    return {s: segment_sentences(kpis, s, history, quarter, ctx, usual) for s in order}


def _names(segments: list[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``; the whole unit as ``the whole unit``, last."""
    names = segments_without_all(segments)
    names += ["the whole unit"] * (C.ALL_SEGMENTS in segments)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def decisions(kpis: pd.DataFrame) -> list[str]:
    """What the report asks of its readers, each said once.

    One sentence per band with advice of the :data:`ADVICE_KPIS` but their best band,
    naming every segment in it (``Weak growth in Standard, Students and the whole unit:
    reevaluate customer segmentation strategies.``), worst band first; and, when targets
    are set, one naming every missed target, the whole unit's first (``Missed targets:
    Premium retention 92.5% against a target of 93.0%; …``).
    """
    out = []
    for kpi in [k for k in ADVICE_KPIS if k in set(kpis[C.KPI])]:
        spec = kpi_spec(kpi)
        labels = [b.label for b in spec.bands]
        if spec.higher_is_better is False:
            labels.reverse()  # best first
        rows = kpis[(kpis[C.KPI] == kpi) & kpis[C.BAND].isin(labels)]
        for label in reversed(labels[1:]):  # the worst band first, the best one needs nothing
            segs = list(dict.fromkeys(rows.loc[rows[C.BAND] == label, C.SEGMENT]))
            meaning = band_meaning(kpi, label)
            if not segs or ";" not in meaning:
                continue
            what, action = (t.strip() for t in meaning.split(";", 1))
            out.append(f"{what} in {_names(segs)}: {action}.")
    misses = [f"{'the whole unit' if s == C.ALL_SEGMENTS else s} {m}"
              for s in all_first(kpis[C.SEGMENT]) for m in _target_misses(kpis, s)]
    if misses:
        out.append("Missed targets: " + "; ".join(misses) + ".")
    return out
