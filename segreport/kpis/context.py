"""The quarter in context: each KPI's change on last quarter and on the same quarter a year
earlier, whether that change is real, and its recent trend.

Pure functions over the tidy KPI frame of the reported quarter and the unit's KPI panel
(:attr:`segreport.kpis.quarter.Quarter.history`: the same rows for every quarter of the
window, with a ``quarter`` column). Read by the scorecard, the KPI tables and the narrative.

When is a change *called* a rise or a fall (an arrow, a colour, "up"/"down" in the text)?

- The KPI has a 95 % interval in both quarters (a proportion or mean of a sample: retention,
  churn, CSAT, NPS, ...): when the 95 % interval of the difference excludes 0. That
  interval combines the two quarters' intervals by Newcombe's method (MOVER, Newcombe 1998,
  method 10), which treats the two quarters as independent samples; as consecutive
  quarters share most customers, it is on the wide (cautious) side.
- The KPI has no interval in either quarter: it is counted over every customer and order of
  the unit (customers, revenue, orders and the rates made of them), not estimated from a
  sample, so any change that shows at the report's precision is real and is called.
- An interval in one quarter only (e.g. no survey answer a year ago): not called.
"""
from __future__ import annotations

import math

import pandas as pd

from segreport import columns as C
from segreport.formatting import format_change
from segreport.kpis.panel import QUARTER
from segreport.kpis.stats import excludes_zero
from segreport.kpis.targets import direction as higher_is_better
from segreport.period import Period

YEAR_AGO_VALUE = "year_ago_value"
CHANGE_PREVIOUS = "change_previous"
CHANGE_PREVIOUS_LOW = "change_previous_low"
CHANGE_PREVIOUS_HIGH = "change_previous_high"
CALLED_PREVIOUS = "called_previous"
CHANGE_YEAR = "change_year"
CHANGE_YEAR_LOW = "change_year_low"
CHANGE_YEAR_HIGH = "change_year_high"
CALLED_YEAR = "called_year"
CONTEXT_COLUMNS = (YEAR_AGO_VALUE, CHANGE_PREVIOUS, CHANGE_PREVIOUS_LOW, CHANGE_PREVIOUS_HIGH,
                   CALLED_PREVIOUS, CHANGE_YEAR, CHANGE_YEAR_LOW, CHANGE_YEAR_HIGH, CALLED_YEAR)
TREND_QUARTERS = 8
"""Quarters in a scorecard sparkline: the reported quarter and the 7 before it."""

HIGHER, LOWER, NEITHER = 1, -1, 0


def direction(kpi: str) -> int:
    """``1`` when a higher value is better (the card's ``higher_is_better: true``), ``-1``
    when lower is better (churn, CAC, payback, costs), ``0`` when neither is (e.g. a
    segment's share of sales) or the KPI has no card."""
    better = higher_is_better(kpi)
    return NEITHER if better is None else (HIGHER if better else LOWER)


def quarters_back(quarter: str, n: int) -> str:
    """The label of the quarter ``n`` quarters before ``quarter`` (``"2026Q3", 4`` →
    ``"2025Q3"``)."""
    p = Period.parse(quarter)
    for _ in range(n):
        p = p.previous()
    return p.label


def difference_interval(value: float, low: float, high: float, base: float, base_low: float,
                        base_high: float) -> tuple[float, float]:
    """95 % interval of ``value − base`` from each one's own 95 % interval.

    Newcombe's MOVER: with d = value − base,
    ``low = d − √((value − low)² + (base_high − base)²)`` and
    ``high = d + √((high − value)² + (base − base_low)²)``; exact for symmetric intervals of
    independent estimates, and keeps the asymmetry of Wilson intervals. NaN when any input is.

    Examples
    --------
    >>> difference_interval(94.0, 93.0, 95.0, 92.0, 91.0, 93.0)  # d = 2, half-widths 1 and 1
    (0.5857864376269049, 3.414213562373095)
    """
    parts = (value, low, high, base, base_low, base_high)
    if any(pd.isna(x) for x in parts):
        return math.nan, math.nan
    d = value - base
    return (d - math.hypot(value - low, base_high - base),
            d + math.hypot(high - value, base - base_low))


def call_change(change: float, unit: str, interval: tuple[float, float] | None) -> int:
    """``1`` (a real rise), ``-1`` (a real fall) or ``0`` (no change, or within the margin
    of error).

    Parameters
    ----------
    change
        The change in the KPI's unit.
    unit
        The KPI's unit: a change that rounds to zero as the report writes it is no change.
    interval
        The 95 % interval of the change; ``None`` when the KPI is not estimated from a sample
        (no interval in either quarter), NaNs when only one quarter has an interval.
    """
    if pd.isna(change) or format_change(change, unit) == format_change(0.0, unit):
        return 0
    if interval is not None and not excludes_zero(*interval):
        return 0
    return 1 if change > 0 else -1


def _has_interval(low: float, high: float) -> bool:
    return not (pd.isna(low) or pd.isna(high))


def kpi_context(kpis: pd.DataFrame, history: pd.DataFrame | None, quarter: str) -> pd.DataFrame:
    """``kpis`` with each KPI's change on last quarter and on the same quarter last year.

    Parameters
    ----------
    kpis
        The tidy KPI frame of ``quarter`` (one row per KPI × segment), with
        ``previous_value``.
    history
        The unit's KPI panel (the same columns and ``quarter``), or ``None``/empty when
        there is none: then last quarter comes from ``previous_value`` alone and the year-ago
        columns are empty.
    quarter
        The reported quarter, ``YYYYQn`` (empty: no history is used).

    Returns
    -------
    A new frame: ``kpis``'s columns and, in the KPI's unit, ``year_ago_value``;
    ``change_previous`` (value − last quarter) with its 95 % interval
    ``change_previous_low``/``change_previous_high`` (NaN without intervals) and
    ``called_previous`` (1 up, −1 down, 0 not called; see the module's rules); the same four
    ``change_year_*`` against the same quarter a year earlier.
    """
    out = kpis.copy()
    if C.PREVIOUS_VALUE not in out:
        out[C.PREVIOUS_VALUE] = math.nan
    keys = pd.MultiIndex.from_frame(out[[C.KPI, C.SEGMENT]])
    empty = pd.DataFrame(index=keys, columns=[C.VALUE, C.CI_LOW, C.CI_HIGH], dtype="float64")

    def quarter_rows(label: str) -> pd.DataFrame:
        rows = history[history[QUARTER] == label].set_index([C.KPI, C.SEGMENT])
        return rows[[C.VALUE, C.CI_LOW, C.CI_HIGH]].astype("float64").reindex(keys)

    if history is None or history.empty or not quarter:
        history = None  # last quarter's value (without its interval), no year ago
        previous = empty.assign(**{C.VALUE: out[C.PREVIOUS_VALUE].astype("float64").to_numpy()})
        year_ago = empty
    else:
        previous = quarter_rows(quarters_back(quarter, 1))
        year_ago = quarter_rows(quarters_back(quarter, 4))
    out[YEAR_AGO_VALUE] = year_ago[C.VALUE].to_numpy()
    for then, names in ((previous, (CHANGE_PREVIOUS, CHANGE_PREVIOUS_LOW, CHANGE_PREVIOUS_HIGH,
                                    CALLED_PREVIOUS)),
                        (year_ago, (CHANGE_YEAR, CHANGE_YEAR_LOW, CHANGE_YEAR_HIGH, CALLED_YEAR))):
        changes, lows, highs, calls = [], [], [], []
        for (_, now), (_, was) in zip(out.iterrows(), then.iterrows()):
            change = float(now[C.VALUE]) - float(was[C.VALUE])
            now_ci = _has_interval(now[C.CI_LOW], now[C.CI_HIGH])
            was_ci = _has_interval(was[C.CI_LOW], was[C.CI_HIGH])
            low, high = difference_interval(now[C.VALUE], now[C.CI_LOW], now[C.CI_HIGH],
                                            was[C.VALUE], was[C.CI_LOW], was[C.CI_HIGH])
            interval = None if not (now_ci or was_ci) else (low, high)
            changes.append(change)
            lows.append(low)
            highs.append(high)
            calls.append(call_change(change, str(now[C.UNIT]), interval))
        for name, values in zip(names, (changes, lows, highs, calls)):
            out[name] = values
    return out


def trend(history: pd.DataFrame | None, quarter: str, n: int = TREND_QUARTERS) -> pd.DataFrame:
    """Each KPI × segment's values over the ``n`` quarters ending with ``quarter``.

    Returns
    -------
    A frame indexed by (``kpi``, ``segment``) with one column per quarter label, oldest
    first (NaN where the panel has no value); no rows without a history.
    """
    if history is None or history.empty or not quarter:
        return pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=[C.KPI, C.SEGMENT]))
    labels = [quarters_back(quarter, k) for k in range(n - 1, -1, -1)]
    part = history[history[QUARTER].isin(labels)]
    wide = part.pivot_table(index=[C.KPI, C.SEGMENT], columns=QUARTER, values=C.VALUE,
                            aggfunc="first", dropna=False)
    return wide.reindex(columns=labels)


def usual_changes(history: pd.DataFrame | None, quarter: str, lag: int = 1) -> pd.Series:
    """Every KPI × segment's usual size of change before ``quarter``: the mean absolute
    change over ``lag`` quarters (1: quarter on quarter, 4: year on year) among the panel's
    quarters before ``quarter``; NaN with fewer than two such changes.

    Returns
    -------
    A Series indexed by (``kpi``, ``segment``), in the KPI's unit.
    """
    empty = pd.Series(dtype="float64", index=pd.MultiIndex.from_tuples([], names=[C.KPI, C.SEGMENT]))
    if history is None or history.empty or not quarter:
        return empty
    before = history[history[QUARTER] < quarter]
    if before.empty:
        return empty
    wide = before.pivot_table(index=[C.KPI, C.SEGMENT], columns=QUARTER, values=C.VALUE,
                              aggfunc="first", dropna=False)
    first, last = Period.parse(min(wide.columns)), Period.parse(max(wide.columns))
    labels = [first.label]
    while Period.parse(labels[-1]) < last:
        labels.append(Period.parse(labels[-1]).next().label)
    wide = wide.reindex(columns=labels).astype("float64")  # a missing quarter is a gap
    changes = (wide - wide.shift(lag, axis=1)).abs()
    return changes.mean(axis=1).where(changes.notna().sum(axis=1) >= 2)


def usual_change(history: pd.DataFrame | None, kpi: str, segment: str, quarter: str,
                 lag: int = 1) -> float:
    """One KPI × segment's :func:`usual_changes`.

    Examples
    --------
    Values 10, 12, 10, 12 then 20 in the reported quarter: earlier changes +2, −2, +2 → 2.0.
    """
    return float(usual_changes(history, quarter, lag).get((kpi, segment), math.nan))


__all__ = ["CONTEXT_COLUMNS", "TREND_QUARTERS", "call_change", "difference_interval",
           "direction", "kpi_context", "quarters_back", "trend", "usual_change", "usual_changes"]
