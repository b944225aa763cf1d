"""The value and cost KPIs' formulas: one pure function per KPI, each giving one row of the
tidy frame for one segment (or ``All``); the unit of each comes from its spec.

Notation as in :mod:`segreport.kpis.value`: ``S`` customers active at the start, ``E``
active at the end, ``N`` acquired within the period.
"""
from __future__ import annotations

import math

import pandas as pd

from segreport import columns as C
from segreport.kpis.frame import kpi_row, ratio_row
from segreport.kpis.ids import (
    CAC,
    CAC_PAYBACK_MONTHS,
    CLV,
    CLV_GROWTH,
    MARKET_SHARE,
    RETENTION_COST,
    SEGMENTATION_EFFICIENCY,
    VALUE_KPIS,
)
from segreport.kpis.spec import units
from segreport.kpis.stats import is_small

UNITS = units(VALUE_KPIS)
"""The unit of each value KPI, as written in the ``unit`` column (from its spec)."""

MONTHS_PER_PERIOD = 3
"""A reporting period is a calendar quarter: three months."""


def empty_row(kpi: str, segment: str, note: str, numerator: float = math.nan,
              denominator: float = math.nan) -> dict:
    """An empty row of ``kpi`` (value NaN, not defined) with ``note`` saying why."""
    return kpi_row(kpi, segment, math.nan, UNITS[kpi], numerator, denominator, note=note,
                   defined=False)


def join_notes(*notes: str) -> str:
    """The non-empty ``notes`` joined with ``"; "``."""
    return "; ".join(n for n in notes if n)


def clv_row(segment: str, margin: float, start: int, end: int, kept: int,
            margin_note: str = "") -> dict:
    """Historical customer lifetime value of one segment.

    ``CLV = (M / |E|) / c`` in currency, where

    * ``M`` is the gross margin of all the segment's customers in the period (currency);
    * ``|E|``, the customers active at the period end, stands for "active customers": the
      average gross margin per active customer per period is ``M / |E|``;
    * ``c = |S ∖ E| / |S|`` is the churn rate per period, as a fraction (not %).

    With a constant churn rate a customer stays ``1 / c`` periods on average, so CLV is the
    average margin of a period times the expected lifetime in periods. ``numerator`` holds
    ``M / |E|`` and ``denominator`` ``c``. Empty with a note when ``|S| = 0``, ``|E| = 0``
    or nobody churned (``c = 0``: the lifetime is unbounded). ``small_sample`` when
    ``|S| < 30`` (the churn rate rests on few customers).
    """
    if start == 0:
        return empty_row(CLV, segment,
                      join_notes("not defined: no customers were active at the period start",
                            margin_note))
    churn = (start - kept) / start
    if end == 0:
        return empty_row(CLV, segment,
                      join_notes("not defined: no customers were active at the period end",
                            margin_note), denominator=churn)
    per_customer = margin / end
    if churn == 0:
        return empty_row(CLV, segment,
                      join_notes("not defined: no customer churned in the period (churn rate 0), "
                            "so the expected lifetime is unbounded", margin_note),
                      numerator=per_customer, denominator=churn)
    return kpi_row(CLV, segment, per_customer / churn, UNITS[CLV], per_customer, churn,
                   note=margin_note, small_sample=is_small(start))


def clv_growth_row(segment: str, clv: float, previous_clv: float, *,
                   small_sample: bool = False) -> dict:
    """CLV growth of one segment: ``(CLV − CLV_prev) / CLV_prev × 100`` (%).

    ``numerator`` holds ``CLV − CLV_prev`` and ``denominator`` ``CLV_prev`` (currency).
    Empty with a note when either CLV is empty or the previous one is 0.
    """
    if pd.isna(previous_clv):
        return empty_row(CLV_GROWTH, segment, "not defined: the previous period's CLV is empty")
    if pd.isna(clv):
        return empty_row(CLV_GROWTH, segment, "not defined: this period's CLV is empty",
                      denominator=previous_clv)
    row = ratio_row(CLV_GROWTH, segment, clv - previous_clv, previous_clv,
                    unit=UNITS[CLV_GROWTH], when_zero="the previous period's CLV is 0")
    row[C.SMALL_SAMPLE] = bool(small_sample) and not pd.isna(row[C.VALUE])
    return row


def cac_row(segment: str, acquisition_spend: float, new: int) -> dict:
    """Customer acquisition cost: ``acquisition spend / |N|`` (currency per new customer).

    Empty with a note when the segment acquired no customer in the period.
    """
    return ratio_row(CAC, segment, acquisition_spend, new, unit=UNITS[CAC],
                     scale=1.0, when_zero="no new customers in the period")


def cac_payback_row(segment: str, acquisition_spend: float, new: int, new_margin: float,
                    margin_note: str = "") -> dict:
    """CAC payback period in months: ``CAC / m``.

    ``m = (G_N / |N|) / 3`` is the average monthly gross margin of a new customer, with
    ``G_N`` the gross margin of the period's new customers in the period (currency) and
    3 the months in a quarter; ``CAC = acquisition spend / |N|``. ``numerator`` holds CAC
    and ``denominator`` ``m``. Empty with a note when ``|N| = 0`` or ``m ≤ 0`` (the spend
    is never paid back at that margin).
    """
    if new == 0:
        return empty_row(CAC_PAYBACK_MONTHS, segment,
                      join_notes("not defined: no new customers in the period", margin_note))
    cac = acquisition_spend / new
    monthly = new_margin / new / MONTHS_PER_PERIOD
    if monthly <= 0:
        return empty_row(CAC_PAYBACK_MONTHS, segment,
                      join_notes("not defined: the new customers' gross margin in the period is "
                            "not positive, so the acquisition spend is not paid back",
                            margin_note), numerator=cac, denominator=monthly)
    return kpi_row(CAC_PAYBACK_MONTHS, segment, cac / monthly, UNITS[CAC_PAYBACK_MONTHS], cac,
                   monthly, note=margin_note)


def retention_cost_row(segment: str, retention_spend: float, kept: int) -> dict:
    """Retention cost: ``retention spend / |S ∩ E|`` (currency per retained customer).

    Empty with a note when no customer active at the start was still active at the end.
    """
    return ratio_row(RETENTION_COST, segment, retention_spend, kept,
                     unit=UNITS[RETENTION_COST], scale=1.0,
                     when_zero="no retained customers (active at both start and end)")


def market_share_row(segment: str, end: int, market_customers: float) -> dict:
    """Market share: ``|E| / market customers × 100`` (%).

    ``market_customers`` is the size of the segment's market (customers, ours included).
    A census, not a sample: no confidence interval. Empty with a note when the market size
    is 0; a note when the share exceeds 100 % (the market size is understated).
    """
    row = ratio_row(MARKET_SHARE, segment, end, market_customers, unit=UNITS[MARKET_SHARE],
                    when_zero="the market size is 0")
    if row[C.VALUE] > 100:
        row[C.NOTE] = ("more active customers than the market size: check market_size "
                       f"({C.MARKET_CUSTOMERS})")
    return row


def segmentation_efficiency_row(cost: float, segments: int) -> dict:
    """Segmentation efficiency: ``segmentation cost / number of segments`` (currency per
    segment, lower is better), one row for ``All``.

    The segments counted are those with at least one customer in the facts. Empty with a
    note when there is none.
    """
    return ratio_row(SEGMENTATION_EFFICIENCY, C.ALL_SEGMENTS, cost, segments,
                     unit=UNITS[SEGMENTATION_EFFICIENCY], scale=1.0, when_zero="no segments")
