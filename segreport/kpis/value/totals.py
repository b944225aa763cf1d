"""Per-customer gross margin and the per-segment totals the value KPIs are computed from.

Gross margin of a customer in the period is the facts' ``margin`` (the sum of the orders'
margin column); when the orders have no margin column it is estimated as
``revenue × gross_margin_pct / 100``.
"""
from __future__ import annotations

import pandas as pd

from segreport import columns as C
from segreport.kpis.base import segment_totals


def gross_margin(facts: pd.DataFrame, gross_margin_pct: float = 30.0) -> tuple[pd.Series, str]:
    """Gross margin per customer in the period (currency), and a note saying its source.

    The facts' ``margin`` when it is known; where it is NaN (the orders have no margin
    column) ``revenue × gross_margin_pct / 100``.
    """
    margin = facts[C.MARGIN_SUM].astype("float64")
    estimate = facts[C.REVENUE].astype("float64") * gross_margin_pct / 100
    unknown = margin.isna()
    if not unknown.any():
        return margin, gross_margin_note(True, gross_margin_pct)
    if unknown.all():
        return estimate, gross_margin_note(False, gross_margin_pct)
    return (margin.where(~unknown, estimate),
            f"gross margin from the orders' margin column, {_estimated(gross_margin_pct)} for "
            f"{int(unknown.sum())} customer(s) without one")


def _estimated(gross_margin_pct: float) -> str:
    return f"gross margin estimated as revenue × {gross_margin_pct:g}%"


def gross_margin_note(from_column: bool, gross_margin_pct: float = 30.0) -> str:
    """Where the gross margin came from: the orders' margin column, or an estimate."""
    if from_column:
        return "gross margin from the orders' margin column"
    return f"{_estimated(gross_margin_pct)} (the orders have no margin column)"


def value_totals(facts: pd.DataFrame, gross_margin_pct: float = 30.0) -> tuple[pd.DataFrame, str]:
    """Counts and gross margins per segment, plus a last row ``All`` over every customer.

    Returns
    -------
    ``(totals, margin_note)``: ``totals`` is indexed by segment with the columns of
    :func:`segreport.kpis.base.segment_totals` (``start`` |S|, ``end`` |E|, ``kept``
    |S ∩ E|, ``new`` |N|, ...) plus ``margin`` (gross margin of all the segment's customers
    in the period) and ``new_margin`` (gross margin of its new customers), in currency;
    ``margin_note`` says where the gross margin came from (see :func:`gross_margin`).
    """
    totals = segment_totals(facts)
    margin, note = gross_margin(facts, gross_margin_pct)
    new = facts[C.ACQUIRED_IN_PERIOD].astype(bool)
    by_segment = margin.groupby(facts[C.SEGMENT]).sum()
    new_by_segment = margin[new].groupby(facts.loc[new, C.SEGMENT]).sum()
    totals["margin"] = by_segment.reindex(totals.index, fill_value=0.0).astype("float64")
    totals["new_margin"] = new_by_segment.reindex(totals.index, fill_value=0.0).astype("float64")
    totals.loc[C.ALL_SEGMENTS, "margin"] = float(margin.sum())
    totals.loc[C.ALL_SEGMENTS, "new_margin"] = float(margin[new].sum())
    return totals, note
