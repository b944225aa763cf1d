"""The sample data set as a sequence of blocks of customers, written or returned."""
from __future__ import annotations

import datetime as _dt
import pathlib
from collections.abc import Iterator

import numpy as np
import pandas as pd

from segreport import columns as col
from segreport.errors import ConfigError
from segreport.sample.customers import _customers_frame, _simulate_customers
from segreport.sample.model import (
    BUSINESS_UNITS,
    FORMATS,
    SEGMENTS,
    _Calendar,
    _Model,
    _signup_shocks,
)
from segreport.sample.orders import _order_draws, _orders_frame, _simulate_orders
from segreport.sample.side_tables import (
    _market_size,
    _marketing_spend,
    _quarter_counts,
    _segmentation_costs,
    _surveys,
)
from segreport.sample.writer import _TableWriter

_STAGES = ("customers", "churn", "profile", "orders", "refunds", "spend", "surveys",
           "market", "costs")

BLOCK_CUSTOMERS = 250_000           # customers simulated (and held in memory) at a time
_CUSTOMER_ID_DIGITS = 6             # "C000001"; more digits only when the size needs them
_ORDER_ID_DIGITS = 7                # "O0000001"; likewise
_TABLES = (col.ORDERS, col.CUSTOMERS, col.MARKETING_SPEND, col.SURVEYS, col.MARKET_SIZE,
           col.SEGMENTATION_COSTS)


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
        for writer in writers.values():
            writer.commit()
    except BaseException:  # a committed table's temporary file is gone already
        for writer in writers.values():
            writer.discard()
        raise
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
