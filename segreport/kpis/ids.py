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

# --- value and cost (segreport.kpis.value) ----------------------------------------------
CLV = "clv"
CLV_GROWTH = "clv_growth"
CAC = "cac"
CAC_PAYBACK_MONTHS = "cac_payback_months"
RETENTION_COST = "retention_cost"
MARKET_SHARE = "market_share"
SEGMENTATION_EFFICIENCY = "segmentation_efficiency"
VALUE_KPIS = (CLV, CLV_GROWTH, CAC, CAC_PAYBACK_MONTHS, RETENTION_COST, MARKET_SHARE,
              SEGMENTATION_EFFICIENCY)

# --- voice of the customer (segreport.kpis.voice) ----------------------------------------
CSAT = "csat"
CSI = "csi"
NPS = "nps"
NPS_CHANGE = "nps_change"
BRAND_EQUITY_INDEX = "brand_equity_index"
CUSTOMER_INSIGHT_PENETRATION = "customer_insight_penetration"
VOICE_KPIS = (CSAT, CSI, NPS, NPS_CHANGE, BRAND_EQUITY_INDEX, CUSTOMER_INSIGHT_PENETRATION)

# --- behavioural segmentation (segreport.kpis.segmentation) ------------------------------
SEGMENT_COUNT = "segment_count"
SEGMENT_SEPARATION = "segment_separation"
SEGMENTATION_KPIS = (SEGMENT_COUNT, SEGMENT_SEPARATION)

# --- predictive CLV (segreport.kpis.predictive_clv) ---------------------------------------
PREDICTED_CLV = "predicted_clv"
PREDICTED_PURCHASES = "predicted_purchases"
PREDICTIVE_KPIS = (PREDICTED_CLV, PREDICTED_PURCHASES)

ALL_KPIS = BASE_KPIS + VALUE_KPIS + VOICE_KPIS + SEGMENTATION_KPIS + PREDICTIVE_KPIS
"""Every KPI id, family by family."""
