"""Customer × quarter activity and acquisition-cohort retention.

Quarters are calendar quarters labelled ``YYYYQn`` (as :class:`segreport.period.Period`).
Internally a quarter is an integer, the number of quarters since 1970Q1, so that
"quarters since acquisition" is a subtraction; everything is vectorised (one pass of
``factorize`` and ``bincount`` over the orders).

An *order* is an order row with ``amount > 0``; a row with ``amount < 0`` is a refund and
never makes a customer active in a quarter (as in :mod:`segreport.data.facts`).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from segreport import columns as C
from segreport.errors import ConfigError
from segreport.period import Period, quarter_number

QUARTER = "quarter"
ACQUISITION_QUARTER = "acquisition_quarter"
QUARTERS_SINCE = "quarters_since_acquisition"
COHORT_CUSTOMERS = "customers"  # cohort size, customers
CUSTOMER_QUARTER_COLUMNS = (C.CUSTOMER_ID, QUARTER, C.SEGMENT, C.ORDER_COUNT, C.REVENUE)

_LABEL = re.compile(r"^(\d{4})Q([1-4])$")


def quarter_index(dates) -> np.ndarray:
    """Quarters since 1970Q1 of datetime values (int64; NaT is not allowed)."""
    months = np.asarray(dates, dtype="datetime64[ns]").astype("datetime64[M]").astype("int64")
    return months // 3


def quarter_label(index) -> np.ndarray:
    """``YYYYQn`` labels of quarter indices (quarters since 1970Q1), as an object array."""
    index = np.asarray(index, dtype="int64")
    uniques, inverse = np.unique(index, return_inverse=True)
    labels = np.array([Period.from_index(q).label for q in uniques.tolist()], dtype=object)
    return labels[inverse.reshape(-1)] if len(index) else np.array([], dtype=object)


def parse_quarter(value, where: str = "quarter") -> int:
    """Quarter index of ``"2026Q1"``, a :class:`Period`, a :class:`pandas.Period` or a date."""
    if isinstance(value, (Period, pd.Period)):
        return quarter_number(value.year, value.quarter)
    if isinstance(value, str):
        return parse_quarter(Period.parse(value, where=where))
    return int(quarter_index([pd.Timestamp(value)])[0])


def _quarter_index_of_labels(labels: pd.Series) -> np.ndarray:
    """Quarter indices of a column of ``YYYYQn`` labels or pandas quarterly Periods."""
    codes, uniques = pd.factorize(labels)
    if (codes < 0).any():
        raise ConfigError(f"column '{QUARTER}' has empty quarters")
    values = []
    for u in uniques:
        match = _LABEL.match(str(u))
        if match is None:
            values.append(parse_quarter(u, where=f"column '{QUARTER}'"))
        else:
            values.append(quarter_number(int(match.group(1)), int(match.group(2))))
    return np.asarray(values, dtype="int64")[codes]


def customer_quarters(orders: pd.DataFrame, customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per customer and calendar quarter in which the customer ordered.

    Parameters
    ----------
    orders
        ``customer_id, order_date, amount`` (contract names, validated types).
    customers
        Optional customers table (``customer_id, segment``). When given, only its
        customers are kept and their segment is attached; otherwise every customer is in
        ``Unsegmented`` (as in :func:`segreport.data.facts.customer_facts`).

    Returns
    -------
    DataFrame with columns

    * ``customer_id``;
    * ``quarter`` — ``YYYYQn`` of the order date (2026-03-31 is 2026Q1, 2026-04-01 2026Q2);
    * ``segment`` — the customer's segment;
    * ``orders`` — rows with ``amount > 0`` in the quarter (at least 1);
    * ``revenue`` — net sum of ``amount`` of the customer's rows dated in the quarter,
      refunds included (currency units; can be below the orders' amounts).

    Sorted by customer id, then quarter. A quarter in which a customer only has refunds has
    no row. The input frames are not modified.
    """
    if customers is not None:
        orders = orders[orders[C.CUSTOMER_ID].isin(customers[C.CUSTOMER_ID])]
    if len(orders) == 0:
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in zip(
            CUSTOMER_QUARTER_COLUMNS, (object, object, object, "int64", "float64"))})
    codes, ids = pd.factorize(orders[C.CUSTOMER_ID], sort=True)
    quarter = quarter_index(orders[C.ORDER_DATE].to_numpy())
    first = quarter.min()
    span = int(quarter.max() - first + 1)
    key = codes.astype("int64") * span + (quarter - first)
    amount = orders[C.AMOUNT].to_numpy(dtype="float64")
    keys, inverse = np.unique(key, return_inverse=True)
    n_orders = np.bincount(inverse, weights=(amount > 0), minlength=len(keys)).astype("int64")
    revenue = np.bincount(inverse, weights=amount, minlength=len(keys))
    keep = n_orders > 0
    keys, n_orders, revenue = keys[keep], n_orders[keep], revenue[keep]
    customer = np.asarray(ids, dtype=object)[keys // span]
    if customers is None:
        segment = np.full(len(keys), C.UNSEGMENTED, dtype=object)
    else:
        lookup = customers.drop_duplicates(C.CUSTOMER_ID).set_index(C.CUSTOMER_ID)[C.SEGMENT]
        segment = lookup.astype(object).to_numpy()[lookup.index.get_indexer(ids)][keys // span]
    return pd.DataFrame({
        C.CUSTOMER_ID: customer,
        QUARTER: quarter_label(keys % span + first),
        C.SEGMENT: segment,
        C.ORDER_COUNT: n_orders,
        C.REVENUE: revenue,
    })


def _acquisition_index(acquired_at: pd.Series) -> pd.Series:
    known = acquired_at.dropna()
    return pd.Series(quarter_index(pd.to_datetime(known).to_numpy()), index=known.index)


def cohort_sizes(acquired_at: pd.Series, last_quarter, first_quarter=None) -> pd.Series:
    """Customers acquired in each quarter from ``first_quarter`` (default: the first
    acquisition) to ``last_quarter``, indexed by ``YYYYQn``; quarters without an acquisition
    are left out. Customers without an acquisition date are not counted."""
    acquired = _acquisition_index(acquired_at)
    last = parse_quarter(last_quarter, where="last_quarter")
    lo = parse_quarter(first_quarter, where="first_quarter") if first_quarter is not None else None
    acquired = acquired[(acquired <= last) & ((acquired >= lo) if lo is not None else True)]
    if acquired.empty:
        return pd.Series([], dtype="int64", name=COHORT_CUSTOMERS,
                         index=pd.Index([], dtype=object, name=ACQUISITION_QUARTER))
    first = int(acquired.min())
    counts = np.bincount(acquired.to_numpy() - first)
    present = np.flatnonzero(counts)
    return pd.Series(counts[present].astype("int64"), name=COHORT_CUSTOMERS,
                     index=pd.Index(quarter_label(present + first), name=ACQUISITION_QUARTER))


def cohort_retention(customer_quarters: pd.DataFrame, acquired_at: pd.Series, last_quarter,
                     max_quarters: int = 8, first_quarter=None) -> pd.DataFrame:
    """Share of each acquisition cohort ordering in each quarter after its acquisition.

    Parameters
    ----------
    customer_quarters
        Output of :func:`customer_quarters` (``customer_id``, ``quarter``).
    acquired_at
        Acquisition date per customer, indexed by ``customer_id`` (e.g. the ``acquired_at``
        column of :func:`segreport.data.facts.customer_facts`). It defines the cohorts and
        their sizes; customers without a date are left out.
    last_quarter
        The last quarter with data (``"2026Q3"``, a Period, ...): cohorts after it are
        left out and cells after it are NaN.
    max_quarters
        Columns ``0..max_quarters``.
    first_quarter
        Optional first cohort (e.g. to leave out cohorts acquired before the order data
        starts, whose early quarters would read as 0 %).

    Returns
    -------
    DataFrame, index ``acquisition_quarter`` (``YYYYQn``, cohorts with at least one
    customer), columns ``0..max_quarters`` (``quarters_since_acquisition``):

        value(c, j) = customers of cohort c with an order in quarter c + j
                      / customers of cohort c × 100   (%),

    NaN when ``c + j`` is after ``last_quarter``. Column 0 is the acquisition quarter
    itself (below 100 % when some customers did not order when they signed up). Orders
    dated before a customer's acquisition quarter are ignored.
    """
    columns = pd.RangeIndex(max_quarters + 1, name=QUARTERS_SINCE)
    sizes = cohort_sizes(acquired_at, last_quarter, first_quarter)
    if sizes.empty:
        return pd.DataFrame(index=sizes.index, columns=columns, dtype="float64")
    last = parse_quarter(last_quarter, where="last_quarter")
    cohort_index = _quarter_index_of_labels(pd.Series(sizes.index))
    first = int(cohort_index.min())
    n_rows = int(cohort_index.max()) - first + 1

    acquired = _acquisition_index(acquired_at)
    position = acquired.index.get_indexer(customer_quarters[C.CUSTOMER_ID])
    known = position >= 0
    quarter = _quarter_index_of_labels(customer_quarters[QUARTER])[known]
    cohort = acquired.to_numpy()[position[known]]
    since = quarter - cohort
    hit = (since >= 0) & (since <= max_quarters) & (quarter <= last) & (cohort >= first) \
        & (cohort <= first + n_rows - 1)
    # one customer counts once per quarter even if the frame has duplicate rows
    cell = np.unique((cohort[hit] - first) * (max_quarters + 1) + since[hit]
                     + position[known][hit].astype("int64") * n_rows * (max_quarters + 1))
    cell = cell % (n_rows * (max_quarters + 1))
    counts = np.bincount(cell, minlength=n_rows * (max_quarters + 1)).reshape(n_rows, -1)
    counts = counts[cohort_index - first].astype("float64")
    share = counts / sizes.to_numpy()[:, None] * 100
    after = (cohort_index[:, None] + np.arange(max_quarters + 1)[None, :]) > last
    share[after] = np.nan
    return pd.DataFrame(share, index=sizes.index, columns=columns)


def cohort_retention_from_counts(cells: pd.DataFrame, sizes: pd.DataFrame, last_quarter,
                                 max_quarters: int = 8) -> tuple[pd.DataFrame, pd.Series]:
    """:func:`cohort_retention` and :func:`cohort_sizes` from counts made by the engine.

    Parameters
    ----------
    cells
        ``cohort, since, customers`` (quarter indices; any number of rows per cell, e.g. one
        per business unit: they are summed): customers of the cohort with an order in
        quarter ``cohort + since``.
    sizes
        ``cohort, customers``: customers acquired in each cohort (summed likewise).
    last_quarter
        The last quarter with data: cells after it are NaN.

    Returns
    -------
    ``(retention, sizes)`` shaped as :func:`cohort_retention` and :func:`cohort_sizes`.
    """
    columns = pd.RangeIndex(max_quarters + 1, name=QUARTERS_SINCE)
    size = sizes.groupby("cohort")["customers"].sum()
    size = size[size > 0].sort_index()
    labels = pd.Index(quarter_label(size.index.to_numpy()), name=ACQUISITION_QUARTER)
    out_sizes = pd.Series(size.to_numpy().astype("int64"), index=labels, name=COHORT_CUSTOMERS)
    if size.empty:
        return pd.DataFrame(index=labels, columns=columns, dtype="float64"), out_sizes
    counts = (cells.groupby(["cohort", "since"])["customers"].sum().unstack("since")
              .reindex(index=size.index, columns=columns).fillna(0.0).astype("float64"))
    share = counts.to_numpy() / size.to_numpy()[:, None] * 100
    last = parse_quarter(last_quarter, where="last_quarter")
    after = (size.index.to_numpy()[:, None] + np.arange(max_quarters + 1)[None, :]) > last
    share[after] = np.nan
    return pd.DataFrame(share, index=labels, columns=columns), out_sizes


__all__ = ["cohort_retention_from_counts", "customer_quarters", "cohort_retention", "cohort_sizes", "quarter_index",
           "quarter_label", "parse_quarter", "QUARTER", "ACQUISITION_QUARTER", "QUARTERS_SINCE"]
