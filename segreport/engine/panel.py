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
:func:`segreport.data.quarterly.quarter_index`). The survey sums
(:mod:`segreport.engine.surveys`) and the purchase summaries
(:mod:`segreport.engine.purchases`) are read off the same customer base.
"""
from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segreport import columns as C
from segreport.data.quarterly import quarter_label
from segreport.engine.backend import EngineData, count_true, fetched
from segreport.period import TRAILING_YEAR_DAYS

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


@dataclass(frozen=True)
class Window:
    """Quarters ``first..last`` (indices), both included."""

    first: int
    last: int

    @property
    def quarters(self) -> list[int]:
        return list(range(self.first, self.last + 1))


def quarter_of(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Quarters since 1970Q1 of a timestamp (in integers: PostgreSQL's EXTRACT gives
    numeric, slow to compute with)."""
    return (ts.year().cast("int64") - 1970) * 4 + (ts.month().cast("int64") - 1) // 3


def quarter_bounds(first: int, last: int) -> pd.DataFrame:
    """``quarter_index, quarter_start, quarter_end`` for quarters ``first..last``."""
    q = np.arange(first, last + 1)
    start = pd.to_datetime({"year": 1970 + q // 4, "month": q % 4 * 3 + 1, "day": 1})
    end = pd.to_datetime({"year": 1970 + (q + 1) // 4, "month": (q + 1) % 4 * 3 + 1, "day": 1})
    return pd.DataFrame({QUARTER: q.astype("int64"), START: start.astype("datetime64[us]"),
                         END: end.astype("datetime64[us]")})


def customer_base(data: EngineData, segment_by: str = C.SEGMENT,
                  first: ir.Table | None = None) -> ir.Table:
    """One row per customer: ``customer_id, segment, business_unit, acquired_at,
    first_order_at`` (first order ever), ``churn_date`` (subscription data) and
    ``profile_complete``.

    With a customers table its rows are the customers and ``segment`` is the column
    ``segment_by`` (empty → ``Unassigned``); without one, every customer id of the orders,
    in ``Unsegmented`` and unit ``All``, acquired at the first order. ``first``: the
    first orders (``customer_id, first_order_at``) when already computed.
    """
    orders = data.tables[C.ORDERS]
    if first is None:
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


def _in_bucket(date: ir.TimestampValue, window: Window) -> list[ir.BooleanValue]:
    """Per bucket ``k``, whether ``date`` falls in it: bucket 0 holds any date before the
    window, bucket ``k`` the window's ``k``-th quarter (1 = ``window.first``), and a date
    after the window is in none. Written as comparisons with the quarters' boundaries: a
    database evaluates each aggregate's filter on its own (PostgreSQL does not share a
    computed bucket between them), and comparing two timestamps is far cheaper than
    extracting a quarter."""
    edges = _bucket_edges(window)
    return [date < edges[0]] + [(date >= edges[k]) & (date < edges[k + 1])
                                for k in range(len(edges) - 1)]


def _bucket_edges(window: Window) -> list[ir.TimestampScalar]:
    """The window's quarter starts and its end, as timestamps."""
    bounds = quarter_bounds(window.first, window.last)
    return [ibis.literal(t.to_pydatetime())
            for t in [*bounds[START], bounds[END].iloc[-1]]]


def _bucket(date: ir.TimestampValue, window: Window) -> ir.IntegerValue:
    """The bucket of ``date`` as a number (see :func:`_in_bucket`; -1 after the window):
    one ``CASE`` of comparisons with the quarters' boundaries."""
    return ibis.cases(*((date < edge, k) for k, edge in enumerate(_bucket_edges(window))),
                      else_=-1)


def customer_quarters_wide(data: EngineData, window: Window) -> ir.Table:
    """One row per customer with orders: ``first_order_at`` (first order with amount > 0,
    ever), per bucket ``j`` (see :func:`_in_bucket`) the last order (amount > 0)
    ``last_j``, and for the window's quarters the net revenue ``revenue_j``, orders
    ``orders_j`` and margin ``margin_j``.

    Two hash aggregations, no sort: the orders per customer and bucket (one bucket
    computed per row), then those few rows per customer spread into columns (filtering
    every order row once per column instead cost ~50 filters per row)."""
    orders = data.tables[C.ORDERS]
    has_margin = C.MARGIN in orders.columns
    date, amount = orders[C.ORDER_DATE], orders[C.AMOUNT]
    positive = amount > 0
    sums = {"revenue": amount.sum(), "orders": amount.count(where=positive)}
    if has_margin:
        sums["margin"] = orders[C.MARGIN].sum()
    sparse = orders.group_by([C.CUSTOMER_ID, _bucket(date, window).name("bucket")]).aggregate(
        first=date.min(where=positive), last=date.max(where=positive), **sums)
    # A customer has at most one row per bucket: its value is that row's (MAX of one
    # value), NULL without one; a count is then 0. MAX(CASE ...), not MAX(...) FILTER:
    # DuckDB spreads the ~50 columns in ~60 % of the time (the whole query ~75 %).
    aggs = {"first_order_at": sparse["first"].min()}
    for k in range(len(window.quarters) + 1):
        hit = sparse["bucket"] == k
        aggs[f"last_{k}"] = _value_where(sparse["last"], hit)
        if k == 0:
            continue
        aggs[f"revenue_{k}"] = _value_where(sparse["revenue"], hit)
        aggs[f"orders_{k}"] = _value_where(sparse["orders"], hit).fill_null(0)
        if has_margin:
            aggs[f"margin_{k}"] = _value_where(sparse["margin"], hit)
    return sparse.group_by(C.CUSTOMER_ID).aggregate(**aggs)


def _value_where(column: ir.Column, hit: ir.BooleanColumn) -> ir.Scalar:
    """``column`` of the group's one row where ``hit`` holds (NULL without one), as
    ``MAX(CASE WHEN hit THEN column END)``."""
    return ibis.ifelse(hit, column, ibis.null(column.type())).max()


def responses_wide(data: EngineData, window: Window) -> ir.Table:
    """One row per customer with survey answers: the last response date per bucket."""
    s = data.tables[C.SURVEYS]
    return s.group_by(C.CUSTOMER_ID).aggregate(**{
        f"response_{k}": s[C.RESPONSE_DATE].max(where=hit)
        for k, hit in enumerate(_in_bucket(s[C.RESPONSE_DATE], window))})


def _running_max(row: ir.Table, prefix: str, upto: int) -> ir.TimestampValue:
    """The latest of ``prefix_0 .. prefix_upto`` (NULLs ignored)."""
    values = [row[f"{prefix}_{k}"] for k in range(upto + 1)]
    return values[0] if len(values) == 1 else ibis.greatest(*values)


def panel(data: EngineData, window: Window, active_window_days: int = 365,
          segment_by: str = C.SEGMENT, wide: ir.Table | None = None) -> ir.Table:
    """The customer × quarter panel: one row per customer and quarter of ``window``.

    Columns: ``customer_id, segment, business_unit, quarter_index, quarter_start,
    quarter_end, acquired_at, first_order_at``; ``revenue`` (net sum of the quarter's rows,
    currency), ``orders`` (rows with amount > 0), ``margin`` (sum of the margin column; NULL
    without one); ``last_order_to_date``; ``active_start``, ``active_end``,
    ``acquired_in_period`` (bool); with surveys, ``responded_12m`` (a response dated in the
    365 days before the quarter's end) and ``profile_complete``.

    Built from :func:`customer_with_history` (``wide``, when already computed): one
    projection per quarter, their union; the last order before a quarter's start or end is
    the latest of the per-quarter last orders up to it.
    """
    wide = customer_with_history(data, window, segment_by) if wide is None else wide
    bounds = quarter_bounds(window.first, window.last)
    has_margin = any(c.startswith("margin_") for c in wide.columns)
    has_surveys = "response_0" in wide.columns
    keep = [c for c in (C.CUSTOMER_ID, C.SEGMENT, C.BUSINESS_UNIT, C.ACQUIRED_AT, "first_order_at",
                        C.CHURN_DATE, PROFILE_COMPLETE) if c in wide.columns]
    parts = []
    for k, row in enumerate(bounds.itertuples(index=False), start=1):
        start = ibis.literal(row.quarter_start.to_pydatetime())
        end = ibis.literal(row.quarter_end.to_pydatetime())

        def active(t, last_before):
            acquired = (wide[C.ACQUIRED_AT] < t).fill_null(False)
            if C.CHURN_DATE in wide.columns:
                alive = wide[C.CHURN_DATE].isnull() | (wide[C.CHURN_DATE] >= t)
            else:
                alive = (last_before >= t - ibis.interval(days=active_window_days)).fill_null(False)
            return acquired & alive

        last_to_date = _running_max(wide, "last", k)
        cols = {
            QUARTER: ibis.literal(int(row.quarter_index), "int64"),
            START: start, END: end,
            "revenue": wide[f"revenue_{k}"].fill_null(0.0),
            "orders": wide[f"orders_{k}"].fill_null(0).cast("int64"),
            "margin": (wide[f"margin_{k}"].fill_null(0.0) if has_margin
                       else ibis.null("float64")),
            LAST_ORDER: last_to_date,
            "active_start": active(start, _running_max(wide, "last", k - 1)),
            "active_end": active(end, last_to_date),
            "acquired_in_period": ((wide[C.ACQUIRED_AT] >= start)
                                   & (wide[C.ACQUIRED_AT] < end)).fill_null(False),
        }
        if has_surveys:
            cols[RESPONDED_12M] = (_running_max(wide, "response", k)
                                   >= end - ibis.interval(days=TRAILING_YEAR_DAYS)).fill_null(False)
        parts.append(wide.select(*keep, **cols))
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def customer_with_history(data: EngineData, window: Window,
                          segment_by: str = C.SEGMENT) -> ir.Table:
    """:func:`customer_base` joined with :func:`customer_quarters_wide` (and
    :func:`responses_wide` with surveys): one row per customer, everything the panel of
    ``window`` is made of."""
    orders = customer_quarters_wide(data, window)
    base = customer_base(data, segment_by, orders.select(C.CUSTOMER_ID, "first_order_at"))
    out = base.left_join(orders.drop("first_order_at"), C.CUSTOMER_ID).drop(
        f"{C.CUSTOMER_ID}_right")
    if C.SURVEYS in data.tables:
        responses = responses_wide(data, window)
        out = out.left_join(responses, C.CUSTOMER_ID).drop(f"{C.CUSTOMER_ID}_right")
    return out


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
        start=count_true(p["active_start"]),
        end=count_true(p["active_end"]),
        kept=count_true(p["active_start"] & p["active_end"]),
        new=count_true(new),
        revenue=p["revenue"].sum(),
        orders=p["orders"].sum(),
        margin=p["margin"].sum(),
        new_margin=ibis.ifelse(new, p["margin"], 0.0).sum(),
        new_revenue=ibis.ifelse(new, p["revenue"], 0.0).sum(),
        insight_hits=count_true(hits))
    out = sorted_rows(agg.execute(), [C.BUSINESS_UNIT, C.SEGMENT, QUARTER])
    if not has_margin:
        out["margin"] = out["new_margin"] = np.nan
    return out


def sorted_rows(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows in the order of ``keys`` (sorted here, not by the engine: a database sorts
    text by its collation)."""
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def trailing_year(data: EngineData, quarters: list[int]) -> ir.Table:
    """Per customer, for each quarter ``q`` of ``quarters``: ``orders_12m_q`` (rows with
    amount > 0) and ``revenue_12m_q`` (net sum) of the orders dated in the 365 days before
    the quarter's end; one scan of the orders for all of them."""
    orders = data.tables[C.ORDERS]
    ends = {q: quarter_bounds(q, q)[END].iloc[0].to_pydatetime() for q in quarters}
    year = pd.Timedelta(days=TRAILING_YEAR_DAYS)
    date = orders[C.ORDER_DATE]
    rows = orders.filter((date >= min(ends.values()) - year) & (date < max(ends.values())))
    date = rows[C.ORDER_DATE]
    aggs = {}
    for q, end in ends.items():
        inside = (date >= end - year) & (date < end)
        aggs[f"orders_12m_{q}"] = count_true(inside & (rows[C.AMOUNT] > 0))
        aggs[f"revenue_12m_{q}"] = ibis.ifelse(inside, rows[C.AMOUNT], 0.0).sum()
    return rows.group_by(C.CUSTOMER_ID).aggregate(**aggs)


def customer_facts_at(panel_: ir.Table, year: ir.Table, quarter: int) -> pd.DataFrame:
    """The per-customer facts of one quarter (the columns of
    :func:`segreport.data.facts.customer_facts`, plus ``business_unit``), indexed by
    ``customer_id`` and sorted by it: for RFM scores, behaviour groups and migration.
    ``year`` is :func:`trailing_year` of a list of quarters holding ``quarter``."""
    p = panel_.filter(panel_[QUARTER] == quarter)
    end = p[END]
    joined = p.left_join(year, C.CUSTOMER_ID)
    out = fetched(joined.select(
        p[C.CUSTOMER_ID], p[C.SEGMENT], p[C.BUSINESS_UNIT], p[C.ACQUIRED_AT],
        p["active_start"], p["active_end"], p["acquired_in_period"], p["revenue"],
        p["orders"], p["margin"],
        first_order_at=ibis.ifelse(p["first_order_at"] < end, p["first_order_at"],
                                   ibis.null("timestamp")),
        last_order_at=p[LAST_ORDER],
        orders_12m=year[f"orders_12m_{quarter}"].fill_null(0),
        revenue_12m=year[f"revenue_12m_{quarter}"].fill_null(0.0)))
    out[C.CUSTOMER_ID] = out[C.CUSTOMER_ID].astype(str)
    out = sorted_rows(out, [C.CUSTOMER_ID]).set_index(C.CUSTOMER_ID)
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


def cohort_counts(panel_: ir.Table, last: int, max_since: int,
                  first_cohort: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Acquisition cohorts per unit, from the panel: ``(cells, sizes)``.

    ``cells``: ``business_unit, cohort, since, customers`` — customers of cohort ``cohort``
    (acquisition quarter) with an order (amount > 0) in quarter ``cohort + since``, for
    cohorts ``first_cohort..last``, ``0 ≤ since ≤ max_since`` and quarters up to ``last``.
    ``sizes``: ``business_unit, cohort, customers`` acquired in each cohort. The panel must
    cover the quarters ``first_cohort..last``.
    """
    p = panel_.filter((panel_[QUARTER] <= last) & (panel_[QUARTER] >= first_cohort))
    p = p.mutate(cohort=quarter_of(p[C.ACQUIRED_AT]))
    p = p.filter((p["cohort"] >= first_cohort) & (p["cohort"] <= last))
    p = p.mutate(since=p[QUARTER] - p["cohort"])
    cells = p.filter((p["orders"] > 0) & (p["since"] >= 0) & (p["since"] <= max_since))
    counts = cells.group_by([C.BUSINESS_UNIT, "cohort", "since"]).aggregate(
        customers=cells.count()).execute()
    once = p.filter(p[QUARTER] == last)  # every customer appears once per quarter
    sizes = once.group_by([C.BUSINESS_UNIT, "cohort"]).aggregate(customers=once.count()).execute()
    return (sorted_rows(counts, [C.BUSINESS_UNIT, "cohort", "since"]),
            sorted_rows(sizes, [C.BUSINESS_UNIT, "cohort"]))


def quarter_labels(indices) -> list[str]:
    return list(quarter_label(np.asarray(indices, dtype="int64")))


__all__ = ["Window", "panel", "segment_totals", "customer_facts_at", "trailing_year",
           "customer_with_history", "cohort_counts", "customer_base", "quarter_of", "quarter_bounds",
           "sorted_rows", "TOTAL_COLUMNS"]
