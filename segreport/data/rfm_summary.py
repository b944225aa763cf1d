"""Per-customer recency/frequency/monetary summary for the buy-till-you-die CLV models.

The BG/NBD model (Fader, Hardie & Lee 2005) and the Gamma-Gamma spend model (Fader & Hardie
2013) do not read orders: they read, per customer, the summary built here, in the layout
``pymc_marketing.clv`` expects (``customer_id, frequency, recency, T, monetary_value``).

Definitions (calibration window: every order dated before ``end``, ``end`` exclusive)
--------------------------------------------------------------------------------------
* A *purchase day* of a customer is a calendar day on which the customer has at least one
  order row with ``amount > 0``. Several orders on the same day are one purchase day (the
  models count purchase occasions, and same-day orders are usually one basket split up).
* The *value* of a purchase day is the net sum of ``amount`` of all the customer's rows of
  that day, refunds (``amount < 0``) included: refunds are netted by day. A refund dated on
  a day without an order is not a purchase day and enters neither the count nor the value.
* ``frequency`` = purchase days − 1, the number of *repeat* purchase days.
* ``recency`` = days from the first to the last purchase day (0 with one purchase day).
* ``T`` = days from the first purchase day to ``end`` (the customer's age).
* ``monetary_value`` = mean value of the repeat purchase days (the first day excluded, as
  in the Gamma-Gamma model), in currency units; 0 when ``frequency`` is 0. It can be ≤ 0
  when refunds on purchase days outweigh the orders.

Customers without a purchase day before ``end`` are not in the summary: the models condition
on a first purchase.

Why not ``pymc_marketing.clv.rfm_summary``: run on the raw orders it counts a refund-only day
as a purchase (it groups every row by day whatever its sign) and keeps rows dated on the
observation end (its cut-off is inclusive). After reducing the orders to purchase days as
above it gives the same numbers as this function (the tests check that), but the reduction
is most of the work, so the summary is computed here directly, vectorised.
"""
from __future__ import annotations

import pandas as pd

from segreport import columns as C

# Column names of the summary: the names pymc_marketing.clv requires.
FREQUENCY = "frequency"
RECENCY = "recency"
AGE = "T"
MONETARY_VALUE = "monetary_value"
SUMMARY_COLUMNS = (C.CUSTOMER_ID, FREQUENCY, RECENCY, AGE, MONETARY_VALUE, C.SEGMENT)

_DAY = "_day"
_NET = "_net"
_BOUGHT = "_bought"


def _empty_summary() -> pd.DataFrame:
    frame = pd.DataFrame({C.CUSTOMER_ID: pd.Series(dtype=str),
                          FREQUENCY: pd.Series(dtype="int64"),
                          RECENCY: pd.Series(dtype="float64"),
                          AGE: pd.Series(dtype="float64"),
                          MONETARY_VALUE: pd.Series(dtype="float64"),
                          C.SEGMENT: pd.Series(dtype=str)})
    return frame[list(SUMMARY_COLUMNS)]


def clv_summary(orders: pd.DataFrame, end: pd.Timestamp | str,
                customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Frequency, recency, age and mean repeat spend per customer, up to ``end`` (exclusive).

    Parameters
    ----------
    orders
        ``customer_id, order_date, amount`` (contract names, validated types); rows dated on
        or after ``end`` are ignored.
    end
        End of the calibration window, exclusive (e.g. the first day after the quarter).
    customers
        ``customer_id, segment`` (the customers table); ``None`` puts every customer in
        segment ``Unsegmented``. A customer with orders but no row here is ``Unassigned``.

    Returns
    -------
    DataFrame with one row per customer with a purchase day before ``end``, sorted by
    ``customer_id``, default index, columns

    * ``customer_id`` — text;
    * ``frequency`` — repeat purchase days (int);
    * ``recency`` — days between the first and the last purchase day (float);
    * ``T`` — days between the first purchase day and ``end`` (float, ≥ ``recency``);
    * ``monetary_value`` — mean net value of the repeat purchase days, in currency units
      (0 when ``frequency`` is 0);
    * ``segment`` — text.

    Divide ``recency`` and ``T`` by 7 for weeks (the unit of the published CDNOW
    estimates). The input frames are not modified.
    """
    end = pd.Timestamp(end).normalize()
    rows = orders.loc[orders[C.ORDER_DATE] < end, [C.CUSTOMER_ID, C.ORDER_DATE, C.AMOUNT]]
    if rows.empty:
        return _empty_summary()
    rows = pd.DataFrame({C.CUSTOMER_ID: rows[C.CUSTOMER_ID].astype(str),
                         _DAY: pd.to_datetime(rows[C.ORDER_DATE]).dt.normalize(),
                         _NET: rows[C.AMOUNT].astype("float64")})
    by_day = rows.groupby([C.CUSTOMER_ID, _DAY], sort=True)[_NET]
    days = pd.DataFrame({_NET: by_day.sum(), _BOUGHT: by_day.max() > 0})
    days = days[days[_BOUGHT]].reset_index()
    if days.empty:
        return _empty_summary()

    # days are sorted by customer, then day: first() is the first purchase day's value
    per_customer = days.groupby(C.CUSTOMER_ID, sort=True)
    first_day = per_customer[_DAY].min()
    last_day = per_customer[_DAY].max()
    n_days = per_customer.size()
    repeat_value = per_customer[_NET].sum() - per_customer[_NET].first()
    frequency = (n_days - 1).astype("int64")
    one_day = pd.Timedelta(days=1)
    monetary = (repeat_value / frequency.where(frequency > 0)).fillna(0.0)

    out = pd.DataFrame({
        C.CUSTOMER_ID: first_day.index.astype(str),
        FREQUENCY: frequency.to_numpy(),
        RECENCY: ((last_day - first_day) / one_day).astype("float64").to_numpy(),
        AGE: ((end - first_day) / one_day).astype("float64").to_numpy(),
        MONETARY_VALUE: monetary.astype("float64").to_numpy(),
    })
    if customers is None:
        out[C.SEGMENT] = C.UNSEGMENTED
    else:
        ids = customers[C.CUSTOMER_ID].astype(str)
        segment = customers[C.SEGMENT].set_axis(ids)
        segment = segment[~segment.index.duplicated()]
        out[C.SEGMENT] = (segment.reindex(out[C.CUSTOMER_ID]).fillna(C.UNASSIGNED)
                          .astype(str).to_numpy())
    return out[list(SUMMARY_COLUMNS)]


__all__ = ["AGE", "FREQUENCY", "MONETARY_VALUE", "RECENCY", "SUMMARY_COLUMNS", "clv_summary"]
