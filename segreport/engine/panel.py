"""The customer × quarter panel and the aggregates read off it, as Ibis expressions.

One expression over the orders (and customers and surveys) yields, for every customer and
every quarter of a window, what the per-customer facts of :mod:`segreport.data.facts`
hold for that quarter; everything else here aggregates it where the data lives. The
definitions are the facts' own, to the letter:

* an *order* is a row with ``amount > 0``; a refund (``amount < 0``) is never activity;
* acquisition date: ``signup_date``, else the customer's first order;
* active at ``t``: acquired before ``t`` and, with a ``churn_date`` column, not churned
  before ``t``; else an order dated in ``[t − active_window_days, t)``. That is "the last
  order before ``t`` is on or after ``t − active_window_days``", and the last order before
  a quarter's end is a running maximum over the quarters: no range join.

A quarter is an integer, the number of quarters since 1970Q1 (see
:func:`segreport.data.quarterly.quarter_index`).
"""
from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segreport import columns as C
from segreport.data.quarterly import quarter_label
from segreport.engine.tables import EngineData, register_frame
from segreport.kpis.voice import SURVEY_COUNTS, TRAILING_DAYS

QUARTER = "quarter_index"
START, END = "quarter_start", "quarter_end"
LAST_ORDER = "last_order_to_date"  # last order (amount > 0) before the quarter's end
LAST_RESPONSE = "last_response_to_date"
PROFILE_COMPLETE = "profile_complete"
RESPONDED_12M = "responded_12m"
TOTAL_COLUMNS = ("start", "end", "kept", "new", "revenue", "orders", "margin", "new_margin",
                 "new_revenue", "insight_hits")
"""Per unit × segment × quarter: customers active at the start, at the end, at both, new;
net revenue, orders, gross margin (all and new customers'), new customers' net revenue;
customers active at the end with a survey response in the trailing year and a complete
profile."""
TRAILING_YEAR_DAYS = 365


@dataclass(frozen=True)
class Window:
    """Quarters ``first..last`` (indices), both included."""

    first: int
    last: int

    @property
    def quarters(self) -> list[int]:
        return list(range(self.first, self.last + 1))


def quarter_of(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Quarters since 1970Q1 of a timestamp."""
    return ((ts.year() - 1970) * 4 + (ts.month() - 1) // 3).cast("int64")


def quarter_bounds(first: int, last: int) -> pd.DataFrame:
    """``quarter_index, quarter_start, quarter_end`` for quarters ``first..last``."""
    q = np.arange(first, last + 1)
    start = pd.to_datetime({"year": 1970 + q // 4, "month": q % 4 * 3 + 1, "day": 1})
    end = pd.to_datetime({"year": 1970 + (q + 1) // 4, "month": (q + 1) % 4 * 3 + 1, "day": 1})
    return pd.DataFrame({QUARTER: q.astype("int64"), START: start.astype("datetime64[us]"),
                         END: end.astype("datetime64[us]")})


def customer_base(data: EngineData, segment_by: str = C.SEGMENT) -> ir.Table:
    """One row per customer: ``customer_id, segment, business_unit, acquired_at,
    first_order_at`` (first order ever), ``churn_date`` (subscription data) and
    ``profile_complete``.

    With a customers table its rows are the customers and ``segment`` is the column
    ``segment_by`` (empty → ``Unassigned``); without one, every customer id of the orders,
    in ``Unsegmented`` and unit ``All``, acquired at the first order.
    """
    orders = data.tables[C.ORDERS]
    first = (orders.filter(orders[C.AMOUNT] > 0).group_by(C.CUSTOMER_ID)
             .aggregate(first_order_at=orders[C.ORDER_DATE].min()))
    cust = data.tables.get(C.CUSTOMERS)
    if cust is None:
        ids = orders.select(C.CUSTOMER_ID).distinct()
        base = ids.left_join(first, C.CUSTOMER_ID).select(
            C.CUSTOMER_ID, "first_order_at",
            **{C.SEGMENT: ibis.literal(C.UNSEGMENTED), C.BUSINESS_UNIT: ibis.literal(C.ALL_SEGMENTS),
               C.ACQUIRED_AT: first["first_order_at"], PROFILE_COMPLETE: ibis.literal(True)})
        return base
    profile = [c for c in C.PROFILE_COLUMNS if c in cust.columns]
    complete = ibis.literal(True)
    for col in profile:
        filled = cust[col].notnull()
        if cust[col].type().is_floating():
            filled = filled & ~cust[col].isnan().fill_null(False)
        complete = complete & filled
    extra = {C.CHURN_DATE: cust[C.CHURN_DATE]} if C.CHURN_DATE in cust.columns else {}
    joined = cust.left_join(first, C.CUSTOMER_ID)
    return joined.select(
        cust[C.CUSTOMER_ID], first["first_order_at"],
        **{C.SEGMENT: cust[segment_by].fill_null(C.UNASSIGNED).cast("string"),
           C.BUSINESS_UNIT: cust[C.BUSINESS_UNIT],
           C.ACQUIRED_AT: ibis.coalesce(cust[C.SIGNUP_DATE], first["first_order_at"]),
           PROFILE_COMPLETE: complete}, **extra)


def _bucketed(table: ir.Table, date_col: str, window: Window) -> ir.Table:
    """``table`` with ``quarter_index`` of ``date_col``; rows after the window dropped and
    rows before it put in the quarter just before it (they only feed running maxima)."""
    q = quarter_of(table[date_col])
    return (table.filter(q <= window.last)
            .mutate(**{QUARTER: ibis.greatest(q, ibis.literal(window.first - 1))}))


def panel(data: EngineData, window: Window, active_window_days: int = 365,
          segment_by: str = C.SEGMENT) -> ir.Table:
    """The customer × quarter panel: one row per customer and quarter of ``window``.

    Columns: ``customer_id, segment, business_unit, quarter_index, quarter_start,
    quarter_end, acquired_at, first_order_at``; ``revenue`` (net sum of the quarter's rows,
    currency), ``orders`` (rows with amount > 0), ``margin`` (sum of the margin column; NULL
    without one); ``last_order_to_date``; ``active_start``, ``active_end``,
    ``acquired_in_period`` (bool); with surveys, ``responded_12m`` (a response dated in the
    365 days before the quarter's end) and ``profile_complete``.
    """
    base = customer_base(data, segment_by)
    orders = _bucketed(data.tables[C.ORDERS], C.ORDER_DATE, window)
    has_margin = C.MARGIN in orders.columns
    positive = orders[C.AMOUNT] > 0
    sparse = orders.group_by([C.CUSTOMER_ID, QUARTER]).aggregate(
        revenue=orders[C.AMOUNT].sum(),
        orders=positive.cast("int64").sum(),
        margin=orders[C.MARGIN].sum() if has_margin else ibis.null("float64"),
        last_order=ibis.ifelse(positive, orders[C.ORDER_DATE], ibis.null("timestamp")).max())
    bounds = register_frame(data.con, "segreport_quarters",
                            quarter_bounds(window.first - 1, window.last))
    grid = base.cross_join(bounds)
    dense = grid.left_join(sparse, [C.CUSTOMER_ID, QUARTER]).drop(
        f"{C.CUSTOMER_ID}_right", f"{QUARTER}_right")
    w = ibis.window(group_by=C.CUSTOMER_ID, order_by=QUARTER, preceding=None, following=0)
    dense = dense.mutate(**{LAST_ORDER: dense["last_order"].max().over(w)})
    surveys = data.tables.get(C.SURVEYS)
    if surveys is not None:
        resp = _bucketed(surveys, C.RESPONSE_DATE, window)
        last_resp = resp.group_by([C.CUSTOMER_ID, QUARTER]).aggregate(
            last_response=resp[C.RESPONSE_DATE].max())
        dense = dense.left_join(last_resp, [C.CUSTOMER_ID, QUARTER]).drop(
            f"{C.CUSTOMER_ID}_right", f"{QUARTER}_right")
        dense = dense.mutate(**{LAST_RESPONSE: dense["last_response"].max().over(w)})
    before = ibis.window(group_by=C.CUSTOMER_ID, order_by=QUARTER)
    dense = dense.mutate(_last_before_start=dense[LAST_ORDER].lag().over(before))

    def active(t: ir.TimestampValue, last_before: ir.TimestampValue) -> ir.BooleanValue:
        acquired = (dense[C.ACQUIRED_AT] < t).fill_null(False)
        if C.CHURN_DATE in dense.columns:
            alive = dense[C.CHURN_DATE].isnull() | (dense[C.CHURN_DATE] >= t)
        else:
            alive = (last_before >= t - ibis.interval(days=active_window_days)).fill_null(False)
        return acquired & alive

    out = dense.mutate(
        revenue=dense["revenue"].fill_null(0.0),
        orders=dense["orders"].fill_null(0),
        margin=dense["margin"].fill_null(0.0) if has_margin else dense["margin"],
        active_start=active(dense[START], dense["_last_before_start"]),
        active_end=active(dense[END], dense[LAST_ORDER]),
        acquired_in_period=((dense[C.ACQUIRED_AT] >= dense[START])
                            & (dense[C.ACQUIRED_AT] < dense[END])).fill_null(False))
    if surveys is not None:
        out = out.mutate(**{RESPONDED_12M: (out[LAST_RESPONSE] >= out[END] - ibis.interval(
            days=TRAILING_DAYS)).fill_null(False)})
    drop = [c for c in ("last_order", "last_response", "_last_before_start") if c in out.columns]
    return out.filter(out[QUARTER] >= window.first).drop(*drop)


def segment_totals(panel_: ir.Table, has_margin: bool) -> pd.DataFrame:
    """:data:`TOTAL_COLUMNS` per ``business_unit, segment, quarter_index`` (a pandas
    frame: a few rows per quarter).

    Sums over disjoint customers, so a unit's or the business's totals are sums of these.
    ``margin`` and ``new_margin`` are NaN without a margin column.
    """
    p = panel_
    new = p["acquired_in_period"]
    hits = (p["active_end"] & p[RESPONDED_12M] & p[PROFILE_COMPLETE]) \
        if RESPONDED_12M in p.columns else p["active_end"] & ibis.literal(False)
    agg = p.group_by([C.BUSINESS_UNIT, C.SEGMENT, QUARTER]).aggregate(
        start=p["active_start"].cast("int64").sum(),
        end=p["active_end"].cast("int64").sum(),
        kept=(p["active_start"] & p["active_end"]).cast("int64").sum(),
        new=new.cast("int64").sum(),
        revenue=p["revenue"].sum(),
        orders=p["orders"].sum(),
        margin=p["margin"].sum(),
        new_margin=ibis.ifelse(new, p["margin"], 0.0).sum(),
        new_revenue=ibis.ifelse(new, p["revenue"], 0.0).sum(),
        insight_hits=hits.cast("int64").sum())
    out = agg.execute()
    if not has_margin:
        out["margin"] = out["new_margin"] = np.nan
    return out


def survey_counts(data: EngineData, window: Window, segment_by: str = C.SEGMENT) -> pd.DataFrame:
    """:data:`segreport.kpis.voice.SURVEY_COUNTS` per ``business_unit, segment,
    quarter_index`` for the quarters ``first − 1 .. last`` (the one before feeds NPS
    change), over responses of customers of the report (others are ignored)."""
    base = customer_base(data, segment_by).select(C.CUSTOMER_ID, C.SEGMENT, C.BUSINESS_UNIT)
    s = data.tables[C.SURVEYS]
    q = quarter_of(s[C.RESPONSE_DATE])
    s = s.filter((q >= window.first - 1) & (q <= window.last)).mutate(**{QUARTER: q})
    s = s.inner_join(base, C.CUSTOMER_ID)
    aware = s[C.AWARE] if C.AWARE in s.columns else None
    quality = s[C.PERCEIVED_QUALITY] if C.PERCEIVED_QUALITY in s.columns else None
    csat, nps = s[C.CSAT], s[C.NPS]
    agg = s.group_by([C.BUSINESS_UNIT, C.SEGMENT, QUARTER]).aggregate(
        responses=s.count(),
        csat_n=csat.count(),
        satisfied=(csat >= 4).cast("int64").sum(),
        csat_sum=csat.sum(),
        csat_sumsq=(csat * csat).sum(),
        nps_n=nps.count(),
        promoters=(nps >= 9).cast("int64").sum(),
        detractors=(nps <= 6).cast("int64").sum(),
        aware_n=aware.count() if aware is not None else ibis.null("int64"),
        aware_sum=aware.sum() if aware is not None else ibis.null("float64"),
        quality_n=quality.count() if quality is not None else ibis.null("int64"),
        quality_sum=quality.sum() if quality is not None else ibis.null("float64"))
    out = agg.execute()
    for col in SURVEY_COUNTS:
        out[col] = out[col].astype("float64")
    return out


def customer_facts_at(panel_: ir.Table, data: EngineData, quarter: int) -> pd.DataFrame:
    """The per-customer facts of one quarter (the columns of
    :func:`segreport.data.facts.customer_facts`, plus ``business_unit``), indexed by
    ``customer_id`` and sorted by it: for RFM scores, behaviour groups and migration."""
    p = panel_.filter(panel_[QUARTER] == quarter)
    orders = data.tables[C.ORDERS]
    end = p[END]
    bounds = quarter_bounds(quarter, quarter)
    end_ts = bounds[END].iloc[0].to_pydatetime()
    since = end_ts - pd.Timedelta(days=TRAILING_YEAR_DAYS)
    trailing = orders.filter((orders[C.ORDER_DATE] >= since) & (orders[C.ORDER_DATE] < end_ts))
    year = trailing.group_by(C.CUSTOMER_ID).aggregate(
        orders_12m=(trailing[C.AMOUNT] > 0).cast("int64").sum(),
        revenue_12m=trailing[C.AMOUNT].sum())
    joined = p.left_join(year, C.CUSTOMER_ID)
    out = joined.select(
        p[C.CUSTOMER_ID], p[C.SEGMENT], p[C.BUSINESS_UNIT], p[C.ACQUIRED_AT],
        p["active_start"], p["active_end"], p["acquired_in_period"], p["revenue"],
        p["orders"], p["margin"],
        first_order_at=ibis.ifelse(p["first_order_at"] < end, p["first_order_at"],
                                   ibis.null("timestamp")),
        last_order_at=p[LAST_ORDER],
        orders_12m=year["orders_12m"].fill_null(0),
        revenue_12m=year["revenue_12m"].fill_null(0.0)).order_by(C.CUSTOMER_ID).execute()
    out = out.set_index(C.CUSTOMER_ID)
    for col in (C.ACQUIRED_AT, C.FIRST_ORDER_AT, C.LAST_ORDER_AT):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    for col in ("active_start", "active_end", "acquired_in_period"):
        out[col] = out[col].astype(bool)
    for col, dtype in ((C.REVENUE, "float64"), (C.ORDER_COUNT, "int64"), (C.MARGIN_SUM, "float64"),
                       (C.ORDERS_12M, "int64"), (C.REVENUE_12M, "float64")):
        out[col] = out[col].astype(dtype)
    out[C.SEGMENT] = out[C.SEGMENT].astype(str)
    out[C.BUSINESS_UNIT] = out[C.BUSINESS_UNIT].astype(str)
    out.index = out.index.astype(object)
    return out


def cohort_counts(data: EngineData, last: int, max_since: int, first_cohort: int,
                  segment_by: str = C.SEGMENT) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Acquisition cohorts per unit: ``(cells, sizes)``.

    ``cells``: ``business_unit, cohort, since, customers`` — customers of cohort ``cohort``
    (acquisition quarter) with an order in quarter ``cohort + since``, for cohorts
    ``first_cohort..last``, ``0 ≤ since ≤ max_since`` and quarters up to ``last``.
    ``sizes``: ``business_unit, cohort, customers`` acquired in each cohort.
    """
    base = customer_base(data, segment_by)
    base = base.filter(base[C.ACQUIRED_AT].notnull()).mutate(
        cohort=quarter_of(base[C.ACQUIRED_AT]))
    base = base.filter((base["cohort"] >= first_cohort) & (base["cohort"] <= last))
    orders = data.tables[C.ORDERS]
    bought = orders.filter(orders[C.AMOUNT] > 0).mutate(q=quarter_of(orders[C.ORDER_DATE]))
    bought = bought.filter(bought["q"] <= last).select(C.CUSTOMER_ID, "q").distinct()
    cells = bought.inner_join(base.select(C.CUSTOMER_ID, C.BUSINESS_UNIT, "cohort"), C.CUSTOMER_ID)
    cells = cells.mutate(since=cells["q"] - cells["cohort"])
    cells = cells.filter((cells["since"] >= 0) & (cells["since"] <= max_since))
    counts = cells.group_by([C.BUSINESS_UNIT, "cohort", "since"]).aggregate(
        customers=cells.count()).execute()
    sizes = base.group_by([C.BUSINESS_UNIT, "cohort"]).aggregate(customers=base.count()).execute()
    return counts, sizes


def purchase_summary(data: EngineData, end: pd.Timestamp, segment_by: str = C.SEGMENT) -> pd.DataFrame:
    """:func:`segreport.data.rfm_summary.clv_summary` of every customer at ``end``
    (exclusive), plus ``business_unit``: purchase days (days with an order of amount > 0),
    refunds netted by day, sorted by ``customer_id``."""
    from segreport.data.rfm_summary import AGE, FREQUENCY, MONETARY_VALUE, RECENCY

    end = pd.Timestamp(end).normalize()
    orders = data.tables[C.ORDERS]
    rows = orders.filter(orders[C.ORDER_DATE] < end.to_pydatetime())
    rows = rows.mutate(day=rows[C.ORDER_DATE].truncate("D"))
    days = rows.group_by([C.CUSTOMER_ID, "day"]).aggregate(
        net=rows[C.AMOUNT].sum(), top=rows[C.AMOUNT].max())
    days = days.filter(days["top"] > 0)
    per = days.group_by(C.CUSTOMER_ID).aggregate(
        first_day=days["day"].min(), last_day=days["day"].max(), n=days.count(),
        total=days["net"].sum())
    first = days.inner_join(per, [days[C.CUSTOMER_ID] == per[C.CUSTOMER_ID],
                                  days["day"] == per["first_day"]])
    first = first.select(days[C.CUSTOMER_ID], first_net=days["net"])
    base = customer_base(data, segment_by).select(C.CUSTOMER_ID, C.SEGMENT, C.BUSINESS_UNIT)
    summary = per.inner_join(first, C.CUSTOMER_ID).left_join(base, C.CUSTOMER_ID)
    day_seconds = 86400.0
    freq = (summary["n"] - 1).cast("int64")
    out = summary.select(
        summary[C.CUSTOMER_ID],
        **{FREQUENCY: freq,
           RECENCY: (summary["last_day"].epoch_seconds() - summary["first_day"].epoch_seconds())
           / day_seconds,
           AGE: (ibis.literal(end.to_pydatetime()).epoch_seconds()
                 - summary["first_day"].epoch_seconds()) / day_seconds,
           MONETARY_VALUE: ibis.ifelse(freq > 0, (summary["total"] - summary["first_net"])
                                       / freq.cast("float64"), 0.0),
           C.SEGMENT: summary[C.SEGMENT].fill_null(C.UNASSIGNED),
           C.BUSINESS_UNIT: summary[C.BUSINESS_UNIT].fill_null(C.UNASSIGNED)},
    ).order_by(C.CUSTOMER_ID).execute()
    for col in (RECENCY, AGE, MONETARY_VALUE):
        out[col] = out[col].astype("float64")
    out[FREQUENCY] = out[FREQUENCY].astype("int64")
    out[C.CUSTOMER_ID] = out[C.CUSTOMER_ID].astype(str)
    return out


def quarter_labels(indices) -> list[str]:
    return list(quarter_label(np.asarray(indices, dtype="int64")))


__all__ = ["Window", "panel", "segment_totals", "survey_counts", "customer_facts_at",
           "cohort_counts", "purchase_summary", "customer_base", "quarter_of", "quarter_bounds",
           "TOTAL_COLUMNS"]
