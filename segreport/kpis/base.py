"""Base KPIs: customer counts, growth, acquisition, retention, churn, revenue and orders.

Notation for one segment (or ``All``, the whole unit) and the period ``P = [start, end)``:
``S`` customers active at the start, ``E`` active at the end, ``N`` acquired within ``P``.
``All`` is computed from all customers exactly as a segment is, never as a sum of
segment values. Each KPI's unit is the one of its spec (:mod:`segreport.kpis.spec`).
"""
from __future__ import annotations

import pandas as pd

from segreport import columns as C
from segreport.kpis import ids
from segreport.kpis.frame import kpi_row, proportion_row, ratio_row, to_frame
from segreport.kpis.spec import units
from segreport.segments import sorted_segments

UNITS = units(ids.BASE_KPIS)
"""The unit of each base KPI, as written in the ``unit`` column (from its spec)."""

_NO_START = "no customers were active at the period start"


def segment_totals(facts: pd.DataFrame) -> pd.DataFrame:
    """Counts and sums per segment, plus a last row ``All`` over every customer.

    Returns
    -------
    DataFrame indexed by segment with columns ``start`` (|S|), ``end`` (|E|), ``kept``
    (|S ∩ E|), ``new`` (|N|), ``revenue`` (currency) and ``orders`` (count).
    """
    def totals(f: pd.DataFrame) -> pd.Series:
        return pd.Series({
            "start": int(f[C.ACTIVE_START].sum()),
            "end": int(f[C.ACTIVE_END].sum()),
            "kept": int((f[C.ACTIVE_START] & f[C.ACTIVE_END]).sum()),
            "new": int(f[C.ACQUIRED_IN_PERIOD].sum()),
            # rounded to 1e-6 currency units: cent amounts that net to zero give 0, not 1e-15
            "revenue": round(float(f[C.REVENUE].sum()), 6) + 0.0,
            "orders": int(f[C.ORDER_COUNT].sum()),
        }, dtype=object)

    segments = sorted_segments(facts[C.SEGMENT].unique())
    rows = {s: totals(facts[facts[C.SEGMENT] == s]) for s in segments}
    rows[C.ALL_SEGMENTS] = totals(facts)
    return pd.DataFrame.from_dict(rows, orient="index")


def base_kpis(facts: pd.DataFrame) -> pd.DataFrame:
    """The base KPIs per segment and for ``All``, as a tidy frame.

    Parameters
    ----------
    facts
        Output of :func:`segreport.data.facts.customer_facts`.

    Returns
    -------
    DataFrame with columns ``kpi, segment, value, numerator, denominator, unit, band, note``:

    * ``customers_start`` |S|, ``customers_end`` |E|, ``new_customers`` |N| (customers);
    * ``segment_growth_rate`` (|E| − |S|) / |S| × 100 (%), banded ≥10 strong, 5 to <10
      moderate, <5 weak;
    * ``acquisition_rate`` |N| / |S| × 100, ``retention_rate`` |S∩E| / |S| × 100,
      ``churn_rate`` |S∖E| / |S| × 100 (%);
    * ``revenue`` net sum of amounts in P (currency), ``orders`` rows in P with amount > 0;
    * ``average_order_value`` revenue / orders (currency per order);
    * ``sales_contribution`` segment revenue / unit revenue × 100 (%).

    A rate whose denominator is 0 has an empty value and a note saying why. Retention and
    churn carry a Wilson 95 % interval (``ci_low``, ``ci_high``) and ``small_sample`` when
    fewer than 30 customers were active at the start.
    """
    return base_kpis_from_totals(segment_totals(facts))


def base_kpis_from_totals(totals: pd.DataFrame) -> pd.DataFrame:
    """:func:`base_kpis` from :func:`segment_totals` (one row per segment, ``All`` last)."""
    unit_revenue = totals.loc[C.ALL_SEGMENTS, "revenue"]
    rows = []
    for segment, t in totals.iterrows():
        s, e, kept, new = t["start"], t["end"], t["kept"], t["new"]
        rows += [
            kpi_row(ids.CUSTOMERS_START, segment, s, UNITS[ids.CUSTOMERS_START], numerator=s),
            kpi_row(ids.CUSTOMERS_END, segment, e, UNITS[ids.CUSTOMERS_END], numerator=e),
            kpi_row(ids.NEW_CUSTOMERS, segment, new, UNITS[ids.NEW_CUSTOMERS], numerator=new),
            ratio_row(ids.SEGMENT_GROWTH_RATE, segment, e - s, s, when_zero=_NO_START),
            ratio_row(ids.ACQUISITION_RATE, segment, new, s, when_zero=_NO_START),
            proportion_row(ids.RETENTION_RATE, segment, kept, s, when_zero=_NO_START),
            proportion_row(ids.CHURN_RATE, segment, s - kept, s, when_zero=_NO_START),
            kpi_row(ids.REVENUE, segment, t["revenue"], UNITS[ids.REVENUE], numerator=t["revenue"]),
            kpi_row(ids.ORDERS, segment, t["orders"], UNITS[ids.ORDERS], numerator=t["orders"]),
            ratio_row(ids.AVERAGE_ORDER_VALUE, segment, t["revenue"], t["orders"],
                      scale=1.0, when_zero="no orders in the period"),
            ratio_row(ids.SALES_CONTRIBUTION, segment, t["revenue"], unit_revenue,
                      when_zero="the unit's net revenue in the period is 0"),
        ]
    return to_frame(rows)
