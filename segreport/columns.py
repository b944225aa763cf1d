"""Column names and the data contract, in one place.

Every other module refers to a column through these constants, never through a string
literal. The contract says, per table, which columns exist, their kind and whether they are
required. User files may name columns differently: ``columns:`` in the params file maps our
names (the keys here) to theirs.
"""
from __future__ import annotations

from dataclasses import dataclass

# --- orders ---------------------------------------------------------------------------
ORDER_ID = "order_id"
CUSTOMER_ID = "customer_id"
ORDER_DATE = "order_date"
AMOUNT = "amount"
MARGIN = "margin"

# --- customers ------------------------------------------------------------------------
SIGNUP_DATE = "signup_date"
SEGMENT = "segment"
BUSINESS_UNIT = "business_unit"
CHURN_DATE = "churn_date"
PROFILE_COLUMNS = ("age", "gender", "income", "region", "acquisition_channel")

# --- marketing_spend / market_size / segmentation_costs / surveys ---------------------
PERIOD = "period"
ACQUISITION_SPEND = "acquisition_spend"
RETENTION_SPEND = "retention_spend"
MARKET_CUSTOMERS = "market_customers"
COST = "cost"
RESPONSE_DATE = "response_date"
NPS = "nps"
CSAT = "csat"
AWARE = "aware"
PERCEIVED_QUALITY = "perceived_quality"

# --- table names ----------------------------------------------------------------------
ORDERS = "orders"
CUSTOMERS = "customers"
MARKETING_SPEND = "marketing_spend"
SURVEYS = "surveys"
MARKET_SIZE = "market_size"
SEGMENTATION_COSTS = "segmentation_costs"


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    ``kind`` is one of ``"id"`` (kept as text), ``"date"`` (ISO date), ``"number"``,
    ``"text"`` or ``"period"`` (a quarter such as ``2026Q3``).
    """

    name: str
    kind: str
    required: bool = True
    low: float | None = None
    """Smallest value a number may take (``None``: no bound)."""
    high: float | None = None
    """Largest value a number may take (``None``: no bound)."""

    @property
    def range_text(self) -> str:
        """``from 0 to 10``, ``0 or more``: the documented range of a number column."""
        if self.low is not None and self.high is not None:
            return f"from {self.low:g} to {self.high:g}"
        return f"{self.low:g} or more" if self.low is not None else f"{self.high:g} or less"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    required: bool = False

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


CONTRACT: dict[str, Table] = {
    ORDERS: Table(
        ORDERS,
        (
            Column(ORDER_ID, "id"),
            Column(CUSTOMER_ID, "id"),
            Column(ORDER_DATE, "date"),
            Column(AMOUNT, "number"),
            Column(MARGIN, "number", required=False),
        ),
        required=True,
    ),
    CUSTOMERS: Table(
        CUSTOMERS,
        (
            Column(CUSTOMER_ID, "id"),
            Column(SIGNUP_DATE, "date"),
            Column(SEGMENT, "text"),
            Column(BUSINESS_UNIT, "text"),
            Column(CHURN_DATE, "date", required=False),
            *(Column(c, "number", required=False, low=0) if c in ("age", "income")
              else Column(c, "text", required=False) for c in PROFILE_COLUMNS),
        ),
    ),
    MARKETING_SPEND: Table(
        MARKETING_SPEND,
        (
            Column(PERIOD, "period"),
            Column(SEGMENT, "text"),
            Column(ACQUISITION_SPEND, "number", low=0),
            Column(RETENTION_SPEND, "number", low=0),
            Column(BUSINESS_UNIT, "text", required=False),
        ),
    ),
    SURVEYS: Table(
        SURVEYS,
        (
            Column(CUSTOMER_ID, "id"),
            Column(RESPONSE_DATE, "date"),
            Column(NPS, "number", low=0, high=10),
            Column(CSAT, "number", low=1, high=5),
            Column(AWARE, "number", required=False, low=0, high=1),
            Column(PERCEIVED_QUALITY, "number", required=False, low=1, high=5),
        ),
    ),
    MARKET_SIZE: Table(
        MARKET_SIZE,
        (
            Column(PERIOD, "period"),
            Column(SEGMENT, "text"),
            Column(MARKET_CUSTOMERS, "number", low=0),
            Column(BUSINESS_UNIT, "text", required=False),
        ),
    ),
    SEGMENTATION_COSTS: Table(
        SEGMENTATION_COSTS,
        (
            Column(PERIOD, "period"),
            Column(COST, "number", low=0),
            Column(BUSINESS_UNIT, "text", required=False),
        ),
    ),
}

# --- derived per-customer facts (segreport.data.facts) --------------------------------
ACQUIRED_AT = "acquired_at"
ACTIVE_START = "active_start"
ACTIVE_END = "active_end"
ACQUIRED_IN_PERIOD = "acquired_in_period"
REVENUE = "revenue"
ORDER_COUNT = "orders"
MARGIN_SUM = "margin"  # gross margin of the period's rows (NaN without a margin column)
FIRST_ORDER_AT = "first_order_at"  # first order (amount > 0) ever, before the period end
LAST_ORDER_AT = "last_order_at"  # last order (amount > 0) before the period end
ORDERS_12M = "orders_12m"  # orders in the 365 days before the period end
REVENUE_12M = "revenue_12m"  # net revenue in the 365 days before the period end

# --- tidy KPI frame (segreport.kpis) ---------------------------------------------------
KPI = "kpi"
VALUE = "value"
NUMERATOR = "numerator"
DENOMINATOR = "denominator"
UNIT = "unit"
BAND = "band"
NOTE = "note"
CI_LOW = "ci_low"
CI_HIGH = "ci_high"
SMALL_SAMPLE = "small_sample"
DEFINED = "defined"  # False: the KPI cannot be computed for the row (value empty, note says why)
PREVIOUS_VALUE = "previous_value"  # the same KPI and segment in the previous quarter
TARGET = "target"  # the params' target for the row (NaN: none; segreport.kpis.targets)
STATUS = "status"  # "on track", "off track", or "" without a target or a value
ON_TRACK, OFF_TRACK = "on track", "off track"
QUARTER = "quarter"  # kpi_history.csv: the quarter of the row (period: the report's)
KPI_FRAME_COLUMNS = (KPI, SEGMENT, VALUE, NUMERATOR, DENOMINATOR, UNIT, BAND, NOTE, CI_LOW,
                     CI_HIGH, SMALL_SAMPLE, DEFINED)
KPI_CSV_COLUMNS = (KPI, PERIOD, BUSINESS_UNIT, SEGMENT, VALUE, NUMERATOR, DENOMINATOR, UNIT, BAND,
                   CI_LOW, CI_HIGH, SMALL_SAMPLE, PREVIOUS_VALUE, TARGET, STATUS)
KPI_HISTORY_COLUMNS = (QUARTER,) + KPI_CSV_COLUMNS

# --- survey sums per segment and quarter (segreport.engine.panel, segreport.kpis.voice) -----
SURVEY_COUNTS = ("responses", "csat_n", "satisfied", "csat_sum", "csat_sumsq", "nps_n",
                 "promoters", "detractors", "aware_n", "aware_sum", "quality_n", "quality_sum")
"""The sums every survey KPI is computed from (a response set reduced to numbers)."""

ALL_SEGMENTS = "All"
UNSEGMENTED = "Unsegmented"
UNASSIGNED = "Unassigned"
