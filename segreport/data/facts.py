"""Per-customer facts: the only step that scans the raw orders.

Everything downstream (every KPI, chart and narrative) works on the one-row-per-customer
frame built here.

Definitions (followed to the letter)
---------------------------------------------
* An *order* is an order row with ``amount > 0``; a row with ``amount < 0`` is a refund.
* Acquisition date: ``signup_date``, or the customer's first order date when the
  customers table is absent or the signup date is empty.
* A customer is *active at time t* when acquired before t and
  - subscription mode (the customers table has ``churn_date``): ``churn_date`` is empty or
    ≥ t;
  - transaction mode: it has an order dated in ``[t - active_window_days, t)``.
"""
from __future__ import annotations

import pandas as pd

from segreport import columns as C
from segreport.data.dataset import Dataset
from segreport.errors import ConfigError
from segreport.period import TRAILING_YEAR_DAYS, Period

FACT_COLUMNS = (C.SEGMENT, C.BUSINESS_UNIT, C.ACQUIRED_AT, C.ACTIVE_START, C.ACTIVE_END,
                C.ACQUIRED_IN_PERIOD, C.REVENUE, C.ORDER_COUNT, C.MARGIN_SUM, C.FIRST_ORDER_AT,
                C.LAST_ORDER_AT, C.ORDERS_12M, C.REVENUE_12M)


def select_business_unit(ds: Dataset, business_unit: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Orders and customers of one business unit (all of them when ``business_unit`` is empty).

    Raises
    ------
    ConfigError
        when a unit is asked for but there is no customers table, or no customer has it.
    """
    orders, customers = ds.orders, ds.customers
    if not business_unit:
        return orders, customers
    if customers is None:
        raise no_customers_for_unit(business_unit, ds.data_dir)
    units = customers[C.BUSINESS_UNIT].unique()
    if business_unit not in set(units):
        raise unit_not_found(business_unit, ds.user_column(C.CUSTOMERS, C.BUSINESS_UNIT),
                             ds.file_of(C.CUSTOMERS), sorted(map(str, units)))
    customers = customers[customers[C.BUSINESS_UNIT] == business_unit]
    orders = orders[orders[C.CUSTOMER_ID].isin(customers[C.CUSTOMER_ID])]
    return orders, customers


def no_customers_for_unit(business_unit: str, data_dir) -> ConfigError:
    return ConfigError(
        f"business_unit {business_unit!r}: the data folder {data_dir} has no customers "
        "table, so customers cannot be split by business unit")


def unit_not_found(business_unit: str, column: str, file: str, units: list[str]) -> ConfigError:
    return ConfigError(f"business_unit {business_unit!r} not found in column '{column}' of "
                       f"{file}; units present: {', '.join(units)}")


def check_period_reached(period: Period, first_order, last_order, orders_file: str) -> None:
    """Reject a period that starts after the last order or ends before the first."""
    if period.start > last_order:
        raise ConfigError(
            f"period {period}: starts {period.start:%Y-%m-%d}, after the last order in "
            f"{orders_file} ({last_order:%Y-%m-%d})")
    if period.end <= first_order:
        raise ConfigError(
            f"period {period}: ends {period.last_day:%Y-%m-%d}, before the first order in "
            f"{orders_file} ({first_order:%Y-%m-%d})")


def check_period_in_data(ds: Dataset, period: Period) -> None:
    """Reject a period that the orders do not reach at all."""
    dates = ds.orders[C.ORDER_DATE]
    check_period_reached(period, dates.min(), dates.max(), ds.file_of(C.ORDERS))


def _active_by_orders(orders: pd.DataFrame, t: pd.Timestamp, window_days: int) -> pd.Index:
    """Customers with an order (amount > 0) dated in ``[t - window_days, t)``."""
    d = orders[C.ORDER_DATE]
    hit = (d >= t - pd.Timedelta(days=window_days)) & (d < t) & (orders[C.AMOUNT] > 0)
    return pd.Index(orders.loc[hit, C.CUSTOMER_ID].unique())


def customer_facts(orders: pd.DataFrame, customers: pd.DataFrame | None, start: pd.Timestamp,
                   end: pd.Timestamp, active_window_days: int = 365) -> pd.DataFrame:
    """One row per customer for the period ``[start, end)``.

    Parameters
    ----------
    orders
        ``customer_id, order_date, amount`` (contract names, validated types).
    customers
        ``customer_id, signup_date, segment, business_unit`` and optionally ``churn_date``;
        ``None`` puts every customer in one segment, ``Unsegmented``.
    start, end
        The period, start inclusive, end exclusive.
    active_window_days
        Transaction mode: how far back an order keeps a customer active, in days.

    Returns
    -------
    DataFrame indexed by ``customer_id`` with columns

    * ``segment``, ``business_unit`` — text;
    * ``acquired_at`` — acquisition date (NaT if the customer has neither a signup date nor
      an order);
    * ``active_start``, ``active_end`` — bool, active at ``start`` / at ``end``;
    * ``acquired_in_period`` — bool, ``start <= acquired_at < end``;
    * ``revenue`` — net sum of ``amount`` of rows dated in the period (refunds included), in
      currency units;
    * ``orders`` — number of rows dated in the period with ``amount > 0``;
    * ``margin`` — sum of ``margin`` of rows dated in the period (NaN when the orders have no
      margin column), in currency units;
    * ``first_order_at``, ``last_order_at`` — first and last order (``amount > 0``) dated
      before ``end`` (NaT when none);
    * ``orders_12m``, ``revenue_12m`` — orders and net revenue in the 365 days before ``end``
      (the trailing year used by RFM scores).

    The input frames are not modified.
    """
    positive = orders[orders[C.AMOUNT] > 0]
    first_order = positive.groupby(C.CUSTOMER_ID)[C.ORDER_DATE].min()
    if customers is None:
        ids = pd.Index(orders[C.CUSTOMER_ID].unique(), name=C.CUSTOMER_ID)
        facts = pd.DataFrame({C.SEGMENT: C.UNSEGMENTED, C.BUSINESS_UNIT: C.ALL_SEGMENTS,
                              C.SIGNUP_DATE: pd.NaT}, index=ids)
    else:
        keep = [C.CUSTOMER_ID, C.SEGMENT, C.BUSINESS_UNIT, C.SIGNUP_DATE]
        keep += [C.CHURN_DATE] if C.CHURN_DATE in customers else []
        facts = customers[keep].set_index(C.CUSTOMER_ID)
    facts[C.SIGNUP_DATE] = pd.to_datetime(facts[C.SIGNUP_DATE])
    acquired = facts[C.SIGNUP_DATE].fillna(first_order.reindex(facts.index))

    def active_at(t: pd.Timestamp) -> pd.Series:
        before = acquired < t
        if customers is not None and C.CHURN_DATE in customers:
            churn = facts[C.CHURN_DATE]
            return before & (churn.isna() | (churn >= t))
        return before & facts.index.isin(_active_by_orders(orders, t, active_window_days))

    in_period = (orders[C.ORDER_DATE] >= start) & (orders[C.ORDER_DATE] < end)
    period_rows = orders[in_period]
    by_customer = period_rows.groupby(C.CUSTOMER_ID)
    revenue = by_customer[C.AMOUNT].sum()
    order_count = period_rows[period_rows[C.AMOUNT] > 0].groupby(C.CUSTOMER_ID).size()
    if C.MARGIN in orders:
        margin = by_customer[C.MARGIN].sum().reindex(facts.index, fill_value=0.0)
    else:
        margin = pd.Series(float("nan"), index=facts.index)

    before_end = orders[orders[C.ORDER_DATE] < end]
    positive_before_end = before_end[before_end[C.AMOUNT] > 0].groupby(C.CUSTOMER_ID)[C.ORDER_DATE]
    trailing = before_end[before_end[C.ORDER_DATE] >= end - pd.Timedelta(days=TRAILING_YEAR_DAYS)]
    revenue_12m = trailing.groupby(C.CUSTOMER_ID)[C.AMOUNT].sum()
    orders_12m = trailing[trailing[C.AMOUNT] > 0].groupby(C.CUSTOMER_ID).size()

    out = pd.DataFrame({
        C.SEGMENT: facts[C.SEGMENT].astype(str),
        C.BUSINESS_UNIT: facts[C.BUSINESS_UNIT].astype(str),
        C.ACQUIRED_AT: acquired,
        C.ACTIVE_START: active_at(start),
        C.ACTIVE_END: active_at(end),
        C.ACQUIRED_IN_PERIOD: (acquired >= start) & (acquired < end),
        C.REVENUE: revenue.reindex(facts.index, fill_value=0.0).astype("float64"),
        C.ORDER_COUNT: order_count.reindex(facts.index, fill_value=0).astype("int64"),
        C.MARGIN_SUM: margin.astype("float64"),
        C.FIRST_ORDER_AT: positive_before_end.min().reindex(facts.index),
        C.LAST_ORDER_AT: positive_before_end.max().reindex(facts.index),
        C.ORDERS_12M: orders_12m.reindex(facts.index, fill_value=0).astype("int64"),
        C.REVENUE_12M: revenue_12m.reindex(facts.index, fill_value=0.0).astype("float64"),
    }, index=facts.index)
    out.index.name = C.CUSTOMER_ID
    return out


def period_facts(ds: Dataset, period: Period, business_unit: str = "",
                 active_window_days: int = 365) -> pd.DataFrame:
    """:func:`customer_facts` for one period and business unit of a dataset, after checking
    that the orders reach the period and the unit exists."""
    check_period_in_data(ds, period)
    orders, customers = select_business_unit(ds, business_unit)
    return customer_facts(orders, customers, period.start, period.end, active_window_days)


__all__ = ["customer_facts", "period_facts", "select_business_unit", "check_period_in_data",
           "FACT_COLUMNS"]
