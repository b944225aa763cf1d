"""KPI identifiers, as they appear in the ``kpi`` column of ``kpis.csv``."""

CUSTOMERS_START = "customers_start"
CUSTOMERS_END = "customers_end"
NEW_CUSTOMERS = "new_customers"
SEGMENT_GROWTH_RATE = "segment_growth_rate"
ACQUISITION_RATE = "acquisition_rate"
RETENTION_RATE = "retention_rate"
CHURN_RATE = "churn_rate"
REVENUE = "revenue"
ORDERS = "orders"
AVERAGE_ORDER_VALUE = "average_order_value"
SALES_CONTRIBUTION = "sales_contribution"

BASE_KPIS = (CUSTOMERS_START, CUSTOMERS_END, NEW_CUSTOMERS, SEGMENT_GROWTH_RATE,
             ACQUISITION_RATE, RETENTION_RATE, CHURN_RATE, REVENUE, ORDERS,
             AVERAGE_ORDER_VALUE, SALES_CONTRIBUTION)
