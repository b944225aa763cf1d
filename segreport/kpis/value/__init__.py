"""Value and cost KPIs: historical CLV and its growth, CAC and its payback, retention cost,
market share and segmentation efficiency.

Notation for one segment (or ``All``, the whole unit) and the period ``P = [start, end)``,
as in :mod:`segreport.kpis.base`: ``S`` customers active at the start, ``E`` active at the
end, ``N`` acquired within ``P``; ``S ∩ E`` are the *retained* customers and ``S ∖ E`` the
*churned* ones. ``All`` is computed from all customers exactly as a segment is, never as a
sum of segment values; its spend, market size and cost are the sums over every row of the
period (and unit) in the input table.

Gross margin of a customer in ``P`` is the facts' ``margin`` (the sum of the orders' margin
column); when the orders have no margin column it is estimated as
``revenue × gross_margin_pct / 100``. Every row that uses gross margin says which in its
``note``.

Input tables (already validated, contract names, see :mod:`segreport.columns`):
``marketing_spend`` (period, segment, acquisition_spend, retention_spend[, business_unit]),
``market_size`` (period, segment, market_customers[, business_unit]) and
``segmentation_costs`` (period, cost[, business_unit]). A KPI whose table is absent is
absent from the output (:func:`missing_inputs` says what would enable it); a table without
rows for the period gives the KPI an empty value and a note.

The package's modules: :mod:`~segreport.kpis.value.totals` (gross margin and per-segment
totals), :mod:`~segreport.kpis.value.rows` (one formula per KPI),
:mod:`~segreport.kpis.value.period_tables` (the optional input tables) and
:mod:`~segreport.kpis.value.assemble` (the tidy frames); this module re-exports their
public names.
"""
from segreport.kpis.value.assemble import (
    clv_growth_from_clv,
    clv_growth_kpis,
    clv_kpis,
    clv_kpis_from_totals,
    market_share_from_totals,
    market_share_kpis,
    segmentation_efficiency_from_count,
    segmentation_efficiency_kpis,
    spend_kpis,
    spend_kpis_from_totals,
    value_kpis,
    value_kpis_from_totals,
)
from segreport.kpis.value.period_tables import missing_inputs, period_rows
from segreport.kpis.value.rows import (
    CAC,
    CAC_PAYBACK_MONTHS,
    CLV,
    CLV_GROWTH,
    MARKET_SHARE,
    MONTHS_PER_PERIOD,
    RETENTION_COST,
    SEGMENTATION_EFFICIENCY,
    UNITS,
    VALUE_KPIS,
    cac_payback_row,
    cac_row,
    clv_growth_row,
    clv_row,
    market_share_row,
    retention_cost_row,
    segmentation_efficiency_row,
)
from segreport.kpis.value.totals import gross_margin, gross_margin_note, value_totals

__all__ = ["VALUE_KPIS", "CLV", "CLV_GROWTH", "CAC", "CAC_PAYBACK_MONTHS", "RETENTION_COST",
           "MARKET_SHARE", "SEGMENTATION_EFFICIENCY", "UNITS", "MONTHS_PER_PERIOD", "value_kpis",
           "value_kpis_from_totals", "missing_inputs", "gross_margin", "gross_margin_note",
           "value_totals", "period_rows", "clv_row", "clv_growth_row", "cac_row",
           "cac_payback_row", "retention_cost_row", "market_share_row",
           "segmentation_efficiency_row", "clv_kpis", "clv_kpis_from_totals", "clv_growth_kpis",
           "clv_growth_from_clv", "spend_kpis", "spend_kpis_from_totals", "market_share_kpis",
           "market_share_from_totals", "segmentation_efficiency_kpis",
           "segmentation_efficiency_from_count"]
