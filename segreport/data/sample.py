"""Deterministic, realistic sample data for the segment KPI report.

The generator simulates a multi-year business with three business units and four
customer segments, then writes one file per table of the data contract
(:data:`segreport.columns.CONTRACT`). It is seeded (one :class:`numpy.random.Generator`
per stage, all derived from ``seed``) and fully vectorised, so the default size
(50,000 customers, about a million order rows) takes a few seconds, and the same seed
always gives the same content.

Customers are simulated in blocks of :data:`BLOCK_CUSTOMERS` (250,000; about 5 million
order rows) and every table is streamed to its file block by block (Parquet row groups of
1,048,576 rows, CSV appended), so memory stays around 1 GB at any size: 5,000,000
customers give about 100 million order rows. A sample of at most one block is simulated
exactly as it always was. Each further block has its own random streams, derived from
``seed`` and the block number; what concerns the whole business (the quarterly signup
shocks, the spend, market and cost noise) is drawn once, and the quarter tables are built
from counts summed over the blocks.

Tables
------
customers
    One row per customer: ``customer_id`` (``"C000001"``, numbered in signup order
    within a block, the next block continuing the numbering; more digits from a million
    customers on),
    ``signup_date``, ``segment``, ``business_unit`` and the profile columns ``age``
    (integer), ``gender``, ``income``, ``region`` and ``acquisition_channel``. About 5-10 %
    of every profile column is missing; required columns are never missing. With
    ``subscription=True`` a ``churn_date`` column holds the latent churn date, empty when
    the customer has not churned by ``end``.
orders
    One row per order or refund: ``order_id`` (``"O0000001"``, numbered by order date
    within a block of customers, the next block continuing the numbering; more digits
    from ten million orders on), ``customer_id``, ``order_date``, ``amount`` (rounded to
    cents) and ``margin`` (gross margin, 25-45 % of the amount). About 3 % of the rows
    are refunds: a negative amount and margin, dated after the original order and reusing
    its ``order_id``. Rows are sorted by ``order_date`` within each block of customers:
    a sample of one block (up to 250,000 customers) is sorted by date as a whole, a
    larger one is a sequence of date-sorted runs, one per block (an order and its refunds
    are always in the same run, the refunds after the order).
marketing_spend
    One row per quarter x segment x business unit: ``acquisition_spend`` (driven by the
    quarter's new customers) and ``retention_spend`` (driven by the quarter's active
    customers).
surveys
    Survey answers from a few percent of the active customers each quarter:
    ``customer_id``, ``response_date``, ``nps`` (0-10), ``csat`` (1-5), ``aware`` (0/1) and
    ``perceived_quality`` (1-5). Sorted by ``response_date`` within each block, like the
    orders.
market_size
    One row per quarter x segment x business unit: ``market_customers``, the addressable
    customers, a few times the active base and growing slowly.
segmentation_costs
    One row per quarter x business unit: ``cost`` of running the segmentation programme.

Periods are strings such as ``"2026Q3"``. Parquet files hold real timestamp columns
(midnight); CSV files hold ISO dates ``YYYY-MM-DD`` and empty cells for missing values.

Simulated behaviour
-------------------
* **Business units and segments.** ``Retail``, ``Wholesale`` and ``Online`` differ in size,
  growth, segment mix (Wholesale has almost no Students, Online many), order frequency,
  basket size, weekly pattern (Wholesale orders on weekdays) and acquisition channels.
  ``Premium``, ``Standard``, ``Value`` and ``Students`` differ in size, signup growth
  (Premium fast, Standard moderate, Value flat, Students declining and volatile), churn
  hazard, order frequency, basket size, margin rate, survey scores and profile.
* **Signups.** About 35 % of the customers form an opening base that signed up in the
  four years before ``start`` and is still active at ``start`` (their orders before
  ``start`` are outside the extract). The others sign up between ``start`` and ``end``
  with a daily intensity that follows the segment and business-unit growth trends and a
  monthly seasonality (Q4 peak; back-to-school peak for Students).
* **Churn.** Every customer has a latent churn time drawn from a Weibull distribution
  (shape below one: new customers churn most) whose scale depends on segment and business
  unit. No order, refund or survey answer is dated on or after it.
* **Orders.** Most new customers order on their signup day; on top of that each customer
  orders as an inhomogeneous Poisson process from signup (or ``start``) until churn (or
  ``end``), with a per-customer frequency (segment x business unit x gamma frailty), a
  monthly seasonality (Q4 peak, Students peak in September) and a day-of-week pattern.
  Basket sizes are log-normal around a segment x business-unit x customer level, with
  a December uplift and 3 % yearly price inflation. Refunds follow an order by one day
  to a few weeks and are full or partial.
* **Spend, market and costs** are derived from the simulated customers, with noise, and
  scale with ``n_customers`` so that the ratios stay plausible at any size.

Examples
--------
>>> from segreport.data.sample import generate_sample
>>> paths = generate_sample("data/sample", n_customers=5_000)  # doctest: +SKIP
>>> sorted(paths)  # doctest: +SKIP
['customers', 'market_size', 'marketing_spend', 'orders', 'segmentation_costs', 'surveys']
"""
from __future__ import annotations

import datetime as _dt
import os
import pathlib
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segreport import columns as col
from segreport.errors import ConfigError

__all__ = ["BLOCK_CUSTOMERS", "BUSINESS_UNITS", "FORMATS", "SEGMENTS", "generate_sample",
           "sample_tables"]

BUSINESS_UNITS: tuple[str, ...] = ("Retail", "Wholesale", "Online")
SEGMENTS: tuple[str, ...] = ("Premium", "Standard", "Value", "Students")
FORMATS = ("parquet", "csv")

_DAYS_PER_YEAR = 365.25
_OPENING_BASE_SHARE = 0.35          # customers already there at ``start``
_OPENING_BASE_YEARS = 4             # ... who signed up at most this long before ``start``
_ACQUISITION_ORDER_PROB = 0.85      # new customers ordering on their signup day
_REFUND_PROB = 0.032                # per order; some fall after churn/end and are dropped
_SURVEY_PROB = 0.03                 # per active customer and quarter
_REFERENCE_CUSTOMERS = 50_000       # money amounts in the aggregate tables scale from here

# --- business units (index b) -----------------------------------------------------------
_BU_SHARE = np.array([0.45, 0.17, 0.38])
_BU_GROWTH = np.array([-0.02, 0.02, 0.10])           # log-growth of signups per year
_BU_CHURN_SCALE = np.array([1.0, 1.6, 0.8])          # multiplies the churn time scale
_BU_FREQ = np.array([1.0, 0.7, 1.2])                 # multiplies order frequency
_BU_BASKET = np.array([1.0, 4.5, 0.85])              # multiplies basket size
_BU_MARGIN_SHIFT = np.array([0.0, -0.04, 0.01])
_BU_CAC = np.array([1.0, 2.5, 0.8])
_BU_RETENTION = np.array([1.0, 1.8, 0.7])
_BU_SEGMENTATION_COST = np.array([40_000.0, 18_000.0, 30_000.0])  # per quarter at 50k
# segment mix of the signups at ``start`` (rows: business unit, columns: segment)
_BU_SEGMENT_MIX = np.array([
    [0.16, 0.40, 0.29, 0.15],
    [0.32, 0.43, 0.22, 0.03],
    [0.20, 0.30, 0.20, 0.30],
])
# day-of-week order pattern, Monday first
_BU_WEEKDAY = np.array([
    [0.90, 0.90, 0.95, 1.00, 1.10, 1.35, 0.80],
    [1.25, 1.30, 1.30, 1.30, 1.20, 0.05, 0.03],
    [1.10, 1.00, 1.00, 1.00, 0.95, 0.90, 1.05],
])

# --- segments (index s) -----------------------------------------------------------------
_SEG_GROWTH = np.array([0.22, 0.07, -0.04, -0.15])     # log-growth of signups per year
_SEG_SHOCK_SD = np.array([0.05, 0.05, 0.06, 0.25])    # quarterly log-noise on signups
_SEG_WAVE = np.array([0.0, 0.0, 0.0, 0.30])           # 18-month wave on signups
_SEG_CHURN_SCALE = np.array([5.0, 3.5, 2.5, 1.8])     # Weibull scale, years
_CHURN_SHAPE = 0.8
_SEG_FREQ = np.array([14.0, 11.0, 9.0, 9.0])          # orders per active year
_SEG_BASKET = np.array([80.0, 50.0, 32.0, 28.0])      # typical basket, currency units
_BASKET_SD = 0.45                                     # order-level log-sd
_CUSTOMER_BASKET_SD = 0.30                            # customer-level log-sd
_FRAILTY_SHAPE = 2.0                                  # gamma frailty of the frequency
_INFLATION = 0.03
_SEG_MARGIN = np.array([0.41, 0.35, 0.28, 0.31])
_SEG_CAC = np.array([140.0, 70.0, 35.0, 25.0])
_SEG_RETENTION = np.array([9.0, 5.0, 2.5, 2.0])       # per active customer and quarter
_SEG_MARKET_MULT = np.array([4.0, 5.0, 6.0, 8.0])     # addressable / peak active base
_SEG_MARKET_GROWTH = np.array([0.04, 0.02, 0.01, 0.005])
_SEG_NPS = np.array([8.3, 7.4, 6.6, 6.9])
_SEG_NPS_TREND = np.array([0.10, 0.0, -0.05, -0.25])  # per year
_SEG_QUALITY = np.array([0.5, 0.1, -0.4, -0.1])
_SEG_AWARE = np.array([0.82, 0.70, 0.55, 0.62])

_MONTHS_SIGNUP = np.array([
    [1.00, 0.85, 0.90, 0.90, 0.90, 0.85, 0.85, 0.90, 1.00, 1.10, 1.35, 1.40],
    [1.10, 0.80, 0.70, 0.70, 0.60, 0.60, 0.80, 1.50, 1.80, 1.10, 0.90, 0.90],
])
_MONTHS_ORDER = np.array([
    [0.85, 0.80, 0.92, 0.95, 1.00, 0.95, 0.92, 0.95, 1.00, 1.05, 1.25, 1.40],
    [1.00, 0.90, 0.95, 0.95, 0.90, 0.70, 0.60, 1.20, 1.40, 1.10, 1.05, 1.15],
])
_MONTHS_BASKET = np.array([0.92, 0.97, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.08, 1.15])
_STUDENTS = SEGMENTS.index("Students")

# --- profile ----------------------------------------------------------------------------
_AGE, _GENDER, _INCOME, _REGION, _CHANNEL = col.PROFILE_COLUMNS
_MISSING_RATE = {_AGE: 0.06, _GENDER: 0.05, _INCOME: 0.10, _REGION: 0.05, _CHANNEL: 0.07}
_SEG_AGE = np.array([[46.0, 11.0], [41.0, 12.0], [38.0, 13.0], [21.5, 2.5]])  # mean, sd
_SEG_INCOME = np.array([95_000.0, 62_000.0, 42_000.0, 14_000.0])          # median
_GENDERS = ("female", "male", "non-binary")
_GENDER_P = np.array([[0.50, 0.47, 0.03]])
_REGIONS = ("North", "South", "East", "West", "Central")
_BU_REGION_P = np.array([
    [0.22, 0.24, 0.18, 0.16, 0.20],
    [0.30, 0.15, 0.25, 0.10, 0.20],
    [0.18, 0.20, 0.22, 0.25, 0.15],
])
_CHANNELS = ("Store", "Paid search", "Social", "Referral", "Email", "Sales rep")
_BU_CHANNEL_P = np.array([
    [0.45, 0.15, 0.12, 0.13, 0.10, 0.05],
    [0.05, 0.10, 0.03, 0.25, 0.12, 0.45],
    [0.02, 0.38, 0.30, 0.15, 0.14, 0.01],
])

_STAGES = ("customers", "churn", "profile", "orders", "refunds", "spend", "surveys",
           "market", "costs")

BLOCK_CUSTOMERS = 250_000           # customers simulated (and held in memory) at a time
_ROW_GROUP_ROWS = 1024 * 1024       # Parquet row group size (pyarrow's default)
_CUSTOMER_ID_DIGITS = 6             # "C000001"; more digits only when the size needs them
_ORDER_ID_DIGITS = 7                # "O0000001"; likewise
_TABLES = (col.ORDERS, col.CUSTOMERS, col.MARKETING_SPEND, col.SURVEYS, col.MARKET_SIZE,
           col.SEGMENTATION_COSTS)
_CSV_OPTIONS = {"index": False, "date_format": "%Y-%m-%d", "lineterminator": "\n"}


def generate_sample(out_dir: str | pathlib.Path, n_customers: int = 50_000, seed: int = 42,
                    start: str | _dt.date = "2022-01-01", end: str | _dt.date = "2026-09-30",
                    fmt: str = "parquet", subscription: bool = False, *,
                    block_customers: int = BLOCK_CUSTOMERS) -> dict[str, pathlib.Path]:
    """Write a deterministic sample data set, one file per table, into ``out_dir``.

    The customers are simulated ``block_customers`` at a time and every table is streamed
    to its file block by block, so the memory used does not grow with ``n_customers``
    (about 1 GB at the default block size, for any number of customers).

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Directory to write into; created (with its parents) if missing. Existing files of
        the same names are overwritten. Each file is written under a hidden temporary name
        and renamed when all tables are complete, so an interrupted run leaves the old
        files in place.
    n_customers : int, default 50_000
        Number of customers. The default gives roughly one million order rows; 5,000,000
        give about 100 million.
    seed : int, default 42
        Seed of the random generators. The same seed (and the same other arguments) gives
        the same content.
    start, end : str or date, default "2022-01-01" and "2026-09-30"
        First and last day of the data (inclusive). No order is dated after ``end``.
    fmt : {"parquet", "csv"}, default "parquet"
        File format. Parquet stores dates as timestamps, CSV as ``YYYY-MM-DD``.
    subscription : bool, default False
        Add a ``churn_date`` column to the customers table (the latent churn date, empty
        for customers who have not churned by ``end``), as a subscription business would
        know it.
    block_customers : int, default 250_000
        Customers simulated at a time; it bounds the memory used. Samples of at most this
        many customers are one block. A larger sample is a sequence of blocks, each with
        its own random streams, so its content depends on the block size: keep the default
        to get comparable data.

    Returns
    -------
    dict of str to pathlib.Path
        The path written for each table, keyed by table name (``"orders"``, ...).

    Raises
    ------
    segreport.errors.ConfigError
        If an argument is invalid (unknown format, ``end`` before ``start``, ...).

    See Also
    --------
    sample_tables : the same tables as data frames, without writing them.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"sample format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    sim = _Simulation(n_customers, seed, start, end, subscription, block_customers)
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    writers = {name: _TableWriter(out / f"{name}.{fmt}", fmt) for name in _TABLES}
    try:
        for tables in sim.blocks():
            for name in list(tables):
                writers[name].write(tables.pop(name))
        for name, frame in sim.aggregates().items():
            writers[name].write(frame)
        for writer in writers.values():
            writer.close()
    except BaseException:
        for writer in writers.values():
            writer.discard()
        raise
    for writer in writers.values():
        writer.commit()
    return {name: writer.path for name, writer in writers.items()}


def sample_tables(n_customers: int = 50_000, seed: int = 42,
                  start: str | _dt.date = "2022-01-01", end: str | _dt.date = "2026-09-30",
                  subscription: bool = False, *,
                  block_customers: int = BLOCK_CUSTOMERS) -> dict[str, pd.DataFrame]:
    """Simulate the sample data set and return it as data frames.

    Parameters are those of :func:`generate_sample` (without the output options). The
    frames hold exactly what :func:`generate_sample` writes, in the same row order, but
    all in memory at once: use :func:`generate_sample` for large samples.

    Returns
    -------
    dict of str to pandas.DataFrame
        One frame per table of the contract, keyed by table name. Date columns are
        ``datetime64[ms]`` (midnight), ids and labels are strings, ``age`` is ``Int64``.
    """
    sim = _Simulation(n_customers, seed, start, end, subscription, block_customers)
    parts: dict[str, list[pd.DataFrame]] = {}
    for tables in sim.blocks():
        for name, frame in tables.items():
            parts.setdefault(name, []).append(frame)
    tables = {name: frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
              for name, frames in parts.items()}
    tables.update(sim.aggregates())
    return {name: tables[name] for name in _TABLES}


# ----------------------------------------------------------------------------------------
# blocks
# ----------------------------------------------------------------------------------------
class _Simulation:
    """The sample as a sequence of blocks of customers, plus the aggregate tables.

    Block ``b`` holds customers ``b * block_customers + 1`` onwards. Block 0 uses the
    random streams of ``seed`` itself (one per stage), so a sample of one block is
    what the generator has always written for that seed. Block ``b >= 1`` uses, for stage
    ``i``, child ``b`` of that stream (``SeedSequence(seed, spawn_key=(i, b))``). What is
    shared by the whole business -- the quarterly signup shocks, drawn first from block
    0's ``customers`` stream, and the spend, market and cost noise -- is drawn once.

    Customer and order numbers continue from block to block. Orders are numbered by date
    within a block, so the number of orders in every block must be known before the
    first is written (for the id width and each block's first number): with more than
    one block, :meth:`blocks` first replays the cheap draws that fix the order counts.
    """

    def __init__(self, n_customers: int, seed: int, start: str | _dt.date,
                 end: str | _dt.date, subscription: bool, block_customers: int):
        n_customers, block_customers = int(n_customers), int(block_customers)
        if n_customers < 1:
            raise ConfigError(f"n_customers must be at least 1, not {n_customers}")
        if block_customers < 1:
            raise ConfigError(f"block_customers must be at least 1, not {block_customers}")
        try:
            start_day = np.datetime64(pd.Timestamp(start).date(), "D")
            end_day = np.datetime64(pd.Timestamp(end).date(), "D")
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"sample start/end must be dates: {exc}") from None
        if end_day < start_day:
            raise ConfigError(f"sample end {end_day} is before start {start_day}")
        self.n = n_customers
        self.seed = int(seed)
        self.subscription = bool(subscription)
        self.cal = _Calendar(start_day, end_day)
        self.model = _Model(self.cal, _signup_shocks(self._rngs(0)["customers"], self.cal))
        self.customer_width = max(_CUSTOMER_ID_DIGITS, len(str(n_customers)))
        self.first = np.arange(0, n_customers, block_customers)     # customers before a block
        self.sizes = np.diff(np.append(self.first, n_customers))
        shape = (self.cal.n_quarters, len(SEGMENTS), len(BUSINESS_UNITS))
        self.new = np.zeros(shape, np.int64)
        self.active = np.zeros(shape, np.int64)
        self.done = False

    def _rngs(self, block: int) -> dict[str, np.random.Generator]:
        if block == 0:
            seqs = np.random.SeedSequence(self.seed).spawn(len(_STAGES))
        else:
            seqs = [np.random.SeedSequence(self.seed, spawn_key=(i, block))
                    for i in range(len(_STAGES))]
        return dict(zip(_STAGES, map(np.random.default_rng, seqs)))

    def _customers(self, block: int) -> tuple[dict[str, np.random.Generator],
                                              dict[str, np.ndarray]]:
        rngs = self._rngs(block)
        if block == 0:
            _signup_shocks(rngs["customers"], self.cal)      # drawn once, in self.model
        cust = _simulate_customers(rngs, self.model, self.cal, int(self.sizes[block]),
                                   int(self.first[block]) + 1)
        return rngs, cust

    def _order_count(self, block: int) -> int:
        rngs, cust = self._customers(block)
        *_, owner, _, buyer = _order_draws(rngs["orders"], self.model, cust)
        return owner.size + buyer.size

    def blocks(self) -> Iterator[dict[str, pd.DataFrame]]:
        """The orders, customers and surveys of every block, one block at a time."""
        self.new[:] = 0
        self.active[:] = 0
        if len(self.sizes) > 1:
            counts = np.array([self._order_count(b) for b in range(len(self.sizes))])
        else:
            counts = None
        for block in range(len(self.sizes)):
            yield self._block(block, counts)
        self.done = True

    def _block(self, block: int, counts: np.ndarray | None) -> dict[str, pd.DataFrame]:
        rngs, cust = self._customers(block)
        new, active = _quarter_counts(self.cal, cust)
        self.new += new
        self.active += active
        orders = _simulate_orders(rngs, self.model, self.cal, cust)
        if counts is None:
            first_order, total = 0, orders["count"]
        else:
            assert orders["count"] == counts[block], "order count changed between passes"
            first_order, total = int(counts[:block].sum()), int(counts.sum())
        width = max(_ORDER_ID_DIGITS, len(str(total)))
        return {
            col.ORDERS: _orders_frame(self.cal, orders, first_order, width,
                                      self.customer_width, cust["number"]),
            col.CUSTOMERS: _customers_frame(rngs["profile"], self.cal, cust,
                                            self.subscription, self.customer_width),
            col.SURVEYS: _surveys(rngs["surveys"], self.cal, cust, self.customer_width),
        }

    def aggregates(self) -> dict[str, pd.DataFrame]:
        """The quarter tables; call after :meth:`blocks` has run to the end."""
        if not self.done:
            raise RuntimeError("aggregates() needs every block simulated first")
        rngs = self._rngs(0)
        return {
            col.MARKETING_SPEND: _marketing_spend(rngs["spend"], self.cal, self.new,
                                                  self.active),
            col.MARKET_SIZE: _market_size(rngs["market"], self.cal, self.active),
            col.SEGMENTATION_COSTS: _segmentation_costs(rngs["costs"], self.cal, self.n),
        }


class _TableWriter:
    """One table's file, written a frame at a time as if the frames were one table.

    Parquet rows are collected into row groups of :data:`_ROW_GROUP_ROWS` rows across
    frames, so the file has the same row groups (and bytes) as ``DataFrame.to_parquet``
    of all the frames concatenated; CSV frames are appended after one header. The file is
    written under a hidden temporary name; :meth:`commit` renames it.
    """

    def __init__(self, path: pathlib.Path, fmt: str):
        self.path = path
        self.fmt = fmt
        self.tmp = path.with_name(f".{path.name}.partial")
        self._handle = None                  # open CSV file
        self._parquet = None                 # pyarrow.parquet.ParquetWriter
        self._pending: list[pa.Table] = []   # Parquet rows not yet in a row group
        self._pending_rows = 0
        self._groups = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.fmt == "csv":
            header = self._handle is None
            if header:
                self._handle = open(self.tmp, "w", encoding="utf-8", newline="")
            frame.to_csv(self._handle, header=header, **_CSV_OPTIONS)
            return
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.tmp, table.schema, compression="snappy")
        self._pending.append(table)
        self._pending_rows += table.num_rows
        if self._pending_rows >= _ROW_GROUP_ROWS:
            while self._pending_rows >= _ROW_GROUP_ROWS:
                self._write_group(_ROW_GROUP_ROWS)
            # keep a copy of the rest, not the whole frame it is a slice of
            rest = pa.concat_tables(self._pending)
            self._pending = [rest.take(np.arange(rest.num_rows))]

    def _write_group(self, rows: int) -> None:
        """Write the first ``rows`` pending rows as one row group."""
        pieces, taken = [], 0
        while taken < rows:
            head = self._pending[0]
            take = min(rows - taken, head.num_rows)
            pieces.append(head.slice(0, take))
            taken += take
            if take == head.num_rows:
                self._pending.pop(0)
            else:
                self._pending[0] = head.slice(take)
        if not pieces:                                     # no rows at all
            pieces = [self._pending[0].slice(0, 0)]
        group = pa.concat_tables(pieces).combine_chunks()
        self._parquet.write_table(group, row_group_size=_ROW_GROUP_ROWS)
        self._pending_rows -= rows
        self._groups += 1

    def close(self) -> None:
        """Finish the temporary file."""
        if self._handle is not None:
            self._handle.close()
        if self._parquet is not None:
            if self._pending_rows or not self._groups:     # the last (or only, empty) group
                self._write_group(self._pending_rows)
            self._parquet.close()

    def discard(self) -> None:
        """Close and delete the temporary file (after an error)."""
        try:
            if self._handle is not None:
                self._handle.close()
            if self._parquet is not None:
                self._parquet.close()
        finally:
            self.tmp.unlink(missing_ok=True)

    def commit(self) -> None:
        """Move the finished file to its name."""
        os.replace(self.tmp, self.path)


# ----------------------------------------------------------------------------------------
# calendar
# ----------------------------------------------------------------------------------------
class _Calendar:
    """Days of the window as integers ``0 .. n_days - 1`` (``0`` is ``start``)."""

    def __init__(self, start: np.datetime64, end: np.datetime64):
        self.start = start
        self.n_days = int((end - start).astype(np.int64)) + 1
        days = start + np.arange(self.n_days)
        months = days.astype("datetime64[M]").astype(np.int64)    # months since 1970-01
        self.month = months % 12                                   # 0 = January
        self.weekday = (days.astype(np.int64) + 3) % 7             # 0 = Monday
        self.years = np.arange(self.n_days) / _DAYS_PER_YEAR       # time since start
        quarters = months // 3
        self.quarter = quarters - quarters[0]                      # quarter index of a day
        self.n_quarters = int(self.quarter[-1]) + 1
        firsts = np.searchsorted(self.quarter, np.arange(self.n_quarters))
        self.q_start = firsts                                      # first day (clipped)
        self.q_stop = np.append(firsts[1:], self.n_days)           # one past the last day
        self.q_years = self.years[firsts]
        self.q_of_year = (quarters[firsts] % 4)                    # 3 = Q4
        self.periods = pd.period_range(str(start), str(end), freq="Q").astype(str).to_numpy()
        assert len(self.periods) == self.n_quarters

    def dates(self, day: np.ndarray) -> np.ndarray:
        """Window days (may be negative) as ``datetime64[ms]``."""
        return (self.start + day.astype("timedelta64[D]")).astype("datetime64[ms]")



def _seasonal(table: np.ndarray) -> np.ndarray:
    """Monthly factors per segment (Students have their own row), mean one."""
    rows = np.where(np.arange(len(SEGMENTS)) == _STUDENTS, 1, 0)
    out = table[rows]
    return out / out.mean(axis=1, keepdims=True)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """``prefix`` followed by each of ``numbers`` zero-padded to ``width`` digits.

    Built as one fixed-width Arrow string buffer (fast, and no Python objects); the same
    values and dtype as ``pd.Series(<numpy strings>, dtype="str")``.
    """
    numbers = np.asarray(numbers, dtype=np.int64)
    size = len(prefix) + width
    chars = np.empty((numbers.size, size), dtype=np.uint8)
    chars[:, :len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    rest = numbers.copy()
    for j in range(size - 1, len(prefix) - 1, -1):
        chars[:, j] = ord("0") + rest % 10
        rest //= 10
    if rest.any() or (numbers < 0).any():
        raise ValueError(f"numbers do not fit in {width} digits")
    offsets = np.arange(0, (numbers.size + 1) * size, size, dtype=np.int64)
    array = pa.Array.from_buffers(pa.large_string(), numbers.size,
                                  [None, pa.py_buffer(offsets), pa.py_buffer(chars)])
    return pd.Series(array, dtype="str")


def _draw(rng: np.random.Generator, probs: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Index of a categorical draw per row, with probabilities ``probs[group]``."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0
    return (rng.random(len(group))[:, None] >= cum[group]).sum(axis=1)


# ----------------------------------------------------------------------------------------
# what all blocks share
# ----------------------------------------------------------------------------------------
def _signup_shocks(rng: np.random.Generator, cal: _Calendar) -> np.ndarray:
    """Quarterly log-noise of the signups per segment: the first draw of the stream."""
    return np.exp(rng.normal(0.0, 1.0, (len(SEGMENTS), cal.n_quarters))
                  * _SEG_SHOCK_SD[:, None])


class _Model:
    """Signup and order intensities of the whole business, shared by all blocks."""

    def __init__(self, cal: _Calendar, shocks: np.ndarray):
        n_seg = len(SEGMENTS)
        # daily signup intensity per (business unit, segment, day)
        wave = 1.0 + _SEG_WAVE[:, None] * np.sin(2 * np.pi * cal.years[None, :] / 1.5 + 1.0)
        seg_day = (np.exp(_SEG_GROWTH[:, None] * cal.years) * wave
                   * _seasonal(_MONTHS_SIGNUP)[:, cal.month] * shocks[:, cal.quarter])
        bu_day = np.exp(_BU_GROWTH[:, None] * cal.years)
        weight = (_BU_SHARE[:, None, None] * _BU_SEGMENT_MIX[:, :, None]
                  * bu_day[:, None, :] * seg_day[None, :, :])
        flat = weight.ravel()
        self.signup_shape = weight.shape
        self.signup_p = flat / flat.sum()

        # the opening base: signup mix at ``start`` times the chance to survive until then
        self.tenure = np.arange(1, int(_OPENING_BASE_YEARS * 365) + 1)
        scale = _SEG_CHURN_SCALE[None, :] * _BU_CHURN_SCALE[:, None] * _DAYS_PER_YEAR
        survival = np.exp(-(self.tenure / scale[:, :, None]) ** _CHURN_SHAPE)
        opening = (weight[:, :, :1] * survival).ravel()
        self.opening_shape = survival.shape
        self.opening_p = opening / opening.sum()

        # cumulative order intensity per (business unit, segment) cell, mean one per day
        season = _seasonal(_MONTHS_ORDER)[:, cal.month]                       # (seg, day)
        weekday = (_BU_WEEKDAY / _BU_WEEKDAY.mean(axis=1, keepdims=True))[:, cal.weekday]
        daily = (weekday[:, None, :] * season[None, :, :]).reshape(-1, cal.n_days)
        cum = np.zeros((daily.shape[0], cal.n_days + 1))
        np.cumsum(daily, axis=1, out=cum[:, 1:])
        self.n_seg = n_seg
        self.cum = cum
        # rows shifted apart so that one search inverts the intensity of every cell
        self.shift = np.arange(cum.shape[0]) * (cum[:, -1].max() + 1.0)
        self.shifted = (cum + self.shift[:, None]).ravel()


# ----------------------------------------------------------------------------------------
# customers
# ----------------------------------------------------------------------------------------
def _simulate_customers(rngs: dict[str, np.random.Generator], model: _Model, cal: _Calendar,
                        n: int, first_number: int) -> dict[str, np.ndarray]:
    """Signup day, business unit, segment and latent churn day of ``n`` customers.

    Customers are returned in signup order and numbered in that order from
    ``first_number`` on (their ids).
    """
    rng = rngs["customers"]
    n_base = int(round(_OPENING_BASE_SHARE * n))
    n_new = n - n_base
    pick = rng.choice(model.signup_p.size, size=n_new, p=model.signup_p)
    bu_new, seg_new, day_new = np.unravel_index(pick, model.signup_shape)

    pick = rng.choice(model.opening_p.size, size=n_base, p=model.opening_p)
    bu_base, seg_base, since = np.unravel_index(pick, model.opening_shape)
    day_base = -model.tenure[since]

    bu = np.concatenate([bu_base, bu_new])
    seg = np.concatenate([seg_base, seg_new])
    signup = np.concatenate([day_base, day_new]).astype(np.int64)
    order = np.lexsort((rng.random(n), signup))
    bu, seg, signup = bu[order], seg[order], signup[order]

    # latent churn: Weibull, conditioned on surviving to ``start`` for the opening base
    rng = rngs["churn"]
    scale = _SEG_CHURN_SCALE[seg] * _BU_CHURN_SCALE[bu] * _DAYS_PER_YEAR
    survived = np.maximum(-signup, 0) / scale
    life = scale * (survived ** _CHURN_SHAPE + rng.exponential(1.0, n)) ** (1 / _CHURN_SHAPE)
    churn = signup + np.ceil(life).astype(np.int64)
    churn = np.maximum(churn, np.maximum(signup, 0) + 1)

    first = np.maximum(signup, 0)                      # first active day in the window
    stop = np.minimum(churn, cal.n_days)               # one past the last active day
    return {"bu": bu, "seg": seg, "signup": signup, "churn": churn,
            "first": first, "stop": stop,
            "number": np.arange(first_number, first_number + n, dtype=np.int64)}


def _customers_frame(rng: np.random.Generator, cal: _Calendar, cust: dict[str, np.ndarray],
                     subscription: bool, width: int) -> pd.DataFrame:
    seg, bu = cust["seg"], cust["bu"]
    n = len(seg)
    age = np.clip(np.rint(rng.normal(_SEG_AGE[seg, 0], _SEG_AGE[seg, 1])), 18, 85)
    income = np.round(_SEG_INCOME[seg] * np.exp(rng.normal(0.0, 0.35, n)), -2)
    gender = np.asarray(_GENDERS, dtype=object)[_draw(rng, _GENDER_P, np.zeros(n, int))]
    region = np.asarray(_REGIONS, dtype=object)[_draw(rng, _BU_REGION_P, bu)]
    channel = np.asarray(_CHANNELS, dtype=object)[_draw(rng, _BU_CHANNEL_P, bu)]

    frame = {
        col.CUSTOMER_ID: _ids("C", cust["number"], width),
        col.SIGNUP_DATE: cal.dates(cust["signup"]),
        col.SEGMENT: pd.Series(np.asarray(SEGMENTS)[seg], dtype="str"),
        col.BUSINESS_UNIT: pd.Series(np.asarray(BUSINESS_UNITS)[bu], dtype="str"),
    }
    if subscription:
        churn = cal.dates(cust["churn"])
        churn[cust["churn"] >= cal.n_days] = np.datetime64("NaT")
        frame[col.CHURN_DATE] = churn
    profile = {
        _AGE: pd.array(age.astype(np.int64), dtype="Int64"),
        _GENDER: pd.array(gender, dtype="str"),
        _INCOME: income,
        _REGION: pd.array(region, dtype="str"),
        _CHANNEL: pd.array(channel, dtype="str"),
    }
    for name in col.PROFILE_COLUMNS:
        values = pd.Series(profile[name])
        values[rng.random(n) < _MISSING_RATE[name]] = None
        frame[name] = values
    return pd.DataFrame(frame)


# ----------------------------------------------------------------------------------------
# orders
# ----------------------------------------------------------------------------------------
def _order_draws(rng: np.random.Generator, model: _Model,
                 cust: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """The first draws of the orders stream, which fix how many orders there are.

    Returns the customers' intensity cell and cumulative intensity at their first and
    stop day, the owner of every repeat order (customer index, ascending), the uniform
    placing each repeat order in time, and the new customers who order on their signup day.
    """
    seg, bu, first, stop = cust["seg"], cust["bu"], cust["first"], cust["stop"]
    n = len(seg)
    cell = bu * model.n_seg + seg
    lo, hi = model.cum[cell, first], model.cum[cell, stop]
    frailty = rng.gamma(_FRAILTY_SHAPE, 1.0 / _FRAILTY_SHAPE, n)
    rate = _SEG_FREQ[seg] * _BU_FREQ[bu] * frailty / _DAYS_PER_YEAR
    n_orders = rng.poisson(rate * (hi - lo))
    owner = np.repeat(np.arange(n), n_orders)
    where = rng.random(owner.size)
    # acquisition orders on the signup day of new customers
    buyer = np.flatnonzero((cust["signup"] >= 0) & (rng.random(n) < _ACQUISITION_ORDER_PROB))
    return cell, lo, hi, owner, where, buyer


def _simulate_orders(rngs: dict[str, np.random.Generator], model: _Model, cal: _Calendar,
                     cust: dict[str, np.ndarray]) -> dict[str, np.ndarray | int]:
    """Orders and refunds of a block of customers, sorted by date.

    Orders are numbered ``0 .. count - 1`` by (date, customer); a refund reuses the
    number of its order. Returns ``count`` and, per row, ``number``, ``owner`` (customer
    index in the block), ``day``, ``amount`` and ``margin``.
    """
    rng = rngs["orders"]
    seg, bu, first, stop = cust["seg"], cust["bu"], cust["first"], cust["stop"]
    n = len(seg)
    n_days = cal.n_days
    cell, lo, hi, owner, where, buyer = _order_draws(rng, model, cust)
    # invert the cumulative intensity of each order's cell
    target = lo[owner] + where * (hi - lo)[owner] + model.shift[cell[owner]]
    del where
    pos = np.searchsorted(model.shifted, target, side="right") - 1
    del target
    day = np.clip(pos - cell[owner] * (n_days + 1), first[owner], stop[owner] - 1)
    del pos

    owner = np.concatenate([owner, buyer])
    day = np.concatenate([day, cust["signup"][buyer]])
    order = np.lexsort((owner, day))
    owner, day = owner[order], day[order]
    del order

    # basket size and margin
    s, b = seg[owner], bu[owner]
    level = _SEG_BASKET * np.exp(-_BASKET_SD ** 2 / 2)
    cust_level = np.exp(rng.normal(-_CUSTOMER_BASKET_SD ** 2 / 2, _CUSTOMER_BASKET_SD, n))
    amount = (level[s] * _BU_BASKET[b] * cust_level[owner] * _MONTHS_BASKET[cal.month[day]]
              * (1 + _INFLATION) ** cal.years[day]
              * np.exp(rng.normal(0.0, _BASKET_SD, owner.size)))
    amount = np.maximum(np.round(amount, 2), 1.0)
    rate = np.clip(_SEG_MARGIN[s] + _BU_MARGIN_SHIFT[b] + rng.normal(0.0, 0.025, owner.size),
                   0.25, 0.45)
    del s, b
    margin = np.round(amount * rate, 2)

    # refunds: after the order, before churn and ``end``; full or partial
    rng = rngs["refunds"]
    src = np.flatnonzero(rng.random(owner.size) < _REFUND_PROB)
    refund_day = day[src] + np.minimum(rng.geometric(0.12, src.size), 90)
    share = np.where(rng.random(src.size) < 0.75, 1.0, rng.uniform(0.1, 0.9, src.size))
    keep = refund_day < stop[owner[src]]
    src, refund_day, share = src[keep], refund_day[keep], share[keep]
    refund = np.maximum(np.round(amount[src] * share, 2), 0.01)
    refund_margin = np.round(refund * rate[src], 2)
    del rate

    count = owner.size
    all_day = np.concatenate([day, refund_day])
    order = np.argsort(all_day, kind="stable")
    return {
        "count": count,
        "number": np.concatenate([np.arange(count), src])[order],
        "owner": np.concatenate([owner, owner[src]])[order],
        "day": all_day[order],
        "amount": np.concatenate([amount, -refund])[order],
        "margin": np.concatenate([margin, -refund_margin])[order],
    }


def _orders_frame(cal: _Calendar, orders: dict[str, np.ndarray | int], first_order: int,
                  order_width: int, customer_width: int, cust_number: np.ndarray
                  ) -> pd.DataFrame:
    return pd.DataFrame({
        col.ORDER_ID: _ids("O", orders["number"] + (first_order + 1), order_width),
        col.CUSTOMER_ID: _ids("C", cust_number[orders["owner"]], customer_width),
        col.ORDER_DATE: cal.dates(orders["day"]),
        col.AMOUNT: orders["amount"],
        col.MARGIN: orders["margin"],
    })


# ----------------------------------------------------------------------------------------
# aggregate tables
# ----------------------------------------------------------------------------------------
def _quarter_counts(cal: _Calendar, cust: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """New and active customers per (quarter, segment, business unit)."""
    n_seg, n_bu = len(SEGMENTS), len(BUSINESS_UNITS)
    shape = (cal.n_quarters, n_seg, n_bu)
    new = np.zeros(shape, np.int64)
    fresh = cust["signup"] >= 0
    np.add.at(new, (cal.quarter[cust["signup"][fresh]], cust["seg"][fresh],
                    cust["bu"][fresh]), 1)
    delta = np.zeros((cal.n_quarters + 1, n_seg, n_bu), np.int64)
    np.add.at(delta, (cal.quarter[cust["first"]], cust["seg"], cust["bu"]), 1)
    np.add.at(delta, (cal.quarter[cust["stop"] - 1] + 1, cust["seg"], cust["bu"]), -1)
    active = np.cumsum(delta, axis=0)[:-1]
    return new, active


def _cells(cal: _Calendar) -> dict[str, np.ndarray]:
    """Period, segment and business-unit columns of a quarter x segment x unit table."""
    q, s, b = np.meshgrid(np.arange(cal.n_quarters), np.arange(len(SEGMENTS)),
                          np.arange(len(BUSINESS_UNITS)), indexing="ij")
    return {col.PERIOD: pd.Series(cal.periods[q.ravel()], dtype="str"),
            col.SEGMENT: pd.Series(np.asarray(SEGMENTS)[s.ravel()], dtype="str"),
            col.BUSINESS_UNIT: pd.Series(np.asarray(BUSINESS_UNITS)[b.ravel()], dtype="str")}


def _marketing_spend(rng: np.random.Generator, cal: _Calendar, new: np.ndarray,
                     active: np.ndarray) -> pd.DataFrame:
    """Spend from the new and active customers per (quarter, segment, business unit)."""
    cac = _SEG_CAC[None, :, None] * _BU_CAC[None, None, :]
    keep = _SEG_RETENTION[None, :, None] * _BU_RETENTION[None, None, :]
    q4 = np.where(cal.q_of_year == 3, 1.15, 1.0)[:, None, None]
    acquisition = cac * (new + 1) * q4 * np.exp(rng.normal(0.0, 0.12, new.shape))
    retention = keep * (active + 1) * q4 * np.exp(rng.normal(0.0, 0.08, new.shape))
    return pd.DataFrame({**_cells(cal),
                         col.ACQUISITION_SPEND: np.round(acquisition, 2).ravel(),
                         col.RETENTION_SPEND: np.round(retention, 2).ravel()})


def _market_size(rng: np.random.Generator, cal: _Calendar, active: np.ndarray) -> pd.DataFrame:
    """Addressable customers from the active customers per (quarter, segment, unit)."""
    peak = np.maximum(active.max(axis=0), 1)                        # (seg, bu)
    years_to_end = cal.q_years - cal.q_years[-1]                    # <= 0
    growth = np.exp(_SEG_MARKET_GROWTH[None, :, None] * years_to_end[:, None, None])
    market = (_SEG_MARKET_MULT[None, :, None] * peak[None] * growth
              * np.exp(rng.normal(0.0, 0.01, active.shape)))
    return pd.DataFrame({**_cells(cal),
                         col.MARKET_CUSTOMERS: np.rint(market).astype(np.int64).ravel()})


def _segmentation_costs(rng: np.random.Generator, cal: _Calendar, n: int) -> pd.DataFrame:
    q, b = np.meshgrid(np.arange(cal.n_quarters), np.arange(len(BUSINESS_UNITS)),
                       indexing="ij")
    setup = np.where(q < 2, 1.5, 1.0)
    q4 = np.where(cal.q_of_year[q] == 3, 1.1, 1.0)
    cost = (_BU_SEGMENTATION_COST[b] * (n / _REFERENCE_CUSTOMERS) * setup * q4
            * (1 + _INFLATION + 0.01) ** cal.q_years[q] * np.exp(rng.normal(0.0, 0.06, q.shape)))
    return pd.DataFrame({
        col.PERIOD: pd.Series(cal.periods[q.ravel()], dtype="str"),
        col.BUSINESS_UNIT: pd.Series(np.asarray(BUSINESS_UNITS)[b.ravel()], dtype="str"),
        col.COST: np.round(cost, 2).ravel(),
    })


def _surveys(rng: np.random.Generator, cal: _Calendar, cust: dict[str, np.ndarray],
             width: int) -> pd.DataFrame:
    seg, first, stop, churn = cust["seg"], cust["first"], cust["stop"], cust["churn"]
    n = len(seg)
    q_first, q_last = cal.quarter[first], cal.quarter[stop - 1]
    spans = q_last - q_first + 1
    who = np.repeat(np.arange(n), spans)
    quarter = q_first[who] + (np.arange(who.size) - np.repeat(np.cumsum(spans) - spans, spans))
    answered = rng.random(who.size) < _SURVEY_PROB
    who, quarter = who[answered], quarter[answered]
    lo = np.maximum(first[who], cal.q_start[quarter])
    hi = np.minimum(stop[who], cal.q_stop[quarter])
    day = rng.integers(lo, hi)
    order = np.lexsort((who, day))
    who, day = who[order], day[order]

    s, m = seg[who], who.size
    person = rng.normal(0.0, 1.0, n)[who]
    leaving = (churn[who] - day) <= 180
    latent = (_SEG_NPS[s] + _SEG_NPS_TREND[s] * cal.years[day] + person
              - 1.5 * leaving + rng.normal(0.0, 1.3, m))
    nps = np.clip(np.rint(latent), 0, 10).astype(np.int64)
    csat = np.clip(np.rint(1 + 0.4 * latent + rng.normal(0.0, 0.5, m)), 1, 5).astype(np.int64)
    quality = np.clip(np.rint(1.0 + 0.3 * latent + _SEG_QUALITY[s] + rng.normal(0.0, 0.7, m)),
                      1, 5).astype(np.int64)
    tenure = (day - cust["signup"][who]) / _DAYS_PER_YEAR
    aware = (rng.random(m) < np.minimum(_SEG_AWARE[s] + 0.04 * tenure, 0.97)).astype(np.int64)
    return pd.DataFrame({
        col.CUSTOMER_ID: _ids("C", cust["number"][who], width),
        col.RESPONSE_DATE: cal.dates(day),
        col.NPS: nps,
        col.CSAT: csat,
        col.AWARE: aware,
        col.PERCEIVED_QUALITY: quality,
    })
