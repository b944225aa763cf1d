"""Deterministic, realistic sample data for the segment KPI report.

The generator simulates a multi-year business with three business units and four
customer segments, then writes one file per table of the data contract
(:data:`segreport.columns.CONTRACT`). It is seeded (one :class:`numpy.random.Generator`
per stage, all derived from ``seed``) and fully vectorised, so the default size
(50,000 customers, about a million order rows) takes a few seconds, and the same seed
always gives the same content.

Tables
------
customers
    One row per customer: ``customer_id`` (``"C000001"``, numbered in signup order),
    ``signup_date``, ``segment``, ``business_unit`` and the profile columns ``age``
    (integer), ``gender``, ``income``, ``region`` and ``acquisition_channel``. About 5-10 %
    of every profile column is missing; required columns are never missing. With
    ``subscription=True`` a ``churn_date`` column holds the latent churn date, empty when
    the customer has not churned by ``end``.
orders
    One row per order or refund: ``order_id`` (``"O0000001"``, numbered by order date),
    ``customer_id``, ``order_date``, ``amount`` (rounded to cents) and ``margin`` (gross
    margin, 25-45 % of the amount). About 3 % of the rows are refunds: a negative amount
    and margin, dated after the original order and reusing its ``order_id``.
marketing_spend
    One row per quarter x segment x business unit: ``acquisition_spend`` (driven by the
    quarter's new customers) and ``retention_spend`` (driven by the quarter's active
    customers).
surveys
    Survey answers from a few percent of the active customers each quarter:
    ``customer_id``, ``response_date``, ``nps`` (0-10), ``csat`` (1-5), ``aware`` (0/1) and
    ``perceived_quality`` (1-5).
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
import pathlib

import numpy as np
import pandas as pd

from segreport import columns as col
from segreport.errors import ConfigError

__all__ = ["BUSINESS_UNITS", "FORMATS", "SEGMENTS", "generate_sample", "sample_tables"]

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


def generate_sample(out_dir: str | pathlib.Path, n_customers: int = 50_000, seed: int = 42,
                    start: str | _dt.date = "2022-01-01", end: str | _dt.date = "2026-09-30",
                    fmt: str = "parquet",
                    subscription: bool = False) -> dict[str, pathlib.Path]:
    """Write a deterministic sample data set, one file per table, into ``out_dir``.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Directory to write into; created (with its parents) if missing. Existing files of
        the same names are overwritten.
    n_customers : int, default 50_000
        Number of customers. The default gives roughly one million order rows.
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
    tables = sample_tables(n_customers=n_customers, seed=seed, start=start, end=end,
                           subscription=subscription)
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, pathlib.Path] = {}
    for name, frame in tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            frame.to_parquet(path, index=False, engine="pyarrow")
        else:
            frame.to_csv(path, index=False, date_format="%Y-%m-%d", lineterminator="\n")
        paths[name] = path
    return paths


def sample_tables(n_customers: int = 50_000, seed: int = 42,
                  start: str | _dt.date = "2022-01-01", end: str | _dt.date = "2026-09-30",
                  subscription: bool = False) -> dict[str, pd.DataFrame]:
    """Simulate the sample data set and return it as data frames.

    Parameters are those of :func:`generate_sample` (without the output options).

    Returns
    -------
    dict of str to pandas.DataFrame
        One frame per table of the contract, keyed by table name. Date columns are
        ``datetime64[ms]`` (midnight), ids and labels are strings, ``age`` is ``Int64``.
    """
    n_customers = int(n_customers)
    if n_customers < 1:
        raise ConfigError(f"n_customers must be at least 1, not {n_customers}")
    try:
        start_day = np.datetime64(pd.Timestamp(start).date(), "D")
        end_day = np.datetime64(pd.Timestamp(end).date(), "D")
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"sample start/end must be dates: {exc}") from None
    if end_day < start_day:
        raise ConfigError(f"sample end {end_day} is before start {start_day}")

    rngs = dict(zip(_STAGES, (np.random.default_rng(s) for s in
                              np.random.SeedSequence(int(seed)).spawn(len(_STAGES)))))
    cal = _Calendar(start_day, end_day)
    cust = _simulate_customers(rngs, cal, n_customers)
    orders = _simulate_orders(rngs, cal, cust)

    tables = {
        col.ORDERS: orders,
        col.CUSTOMERS: _customers_frame(rngs["profile"], cal, cust, subscription),
        col.MARKETING_SPEND: _marketing_spend(rngs["spend"], cal, cust),
        col.SURVEYS: _surveys(rngs["surveys"], cal, cust),
        col.MARKET_SIZE: _market_size(rngs["market"], cal, cust),
        col.SEGMENTATION_COSTS: _segmentation_costs(rngs["costs"], cal, n_customers),
    }
    return tables


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


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` followed by ``1 .. n`` zero-padded to at least ``width`` digits."""
    width = max(width, len(str(n)))
    if n == 0:
        return np.array([], dtype=f"<U{len(prefix) + width}")
    digits = np.arange(1, n + 1).astype(str)
    return np.char.add(prefix, np.char.zfill(digits, width))


def _draw(rng: np.random.Generator, probs: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Index of a categorical draw per row, with probabilities ``probs[group]``."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0
    return (rng.random(len(group))[:, None] >= cum[group]).sum(axis=1)


# ----------------------------------------------------------------------------------------
# customers
# ----------------------------------------------------------------------------------------
def _simulate_customers(rngs: dict[str, np.random.Generator], cal: _Calendar,
                        n: int) -> dict[str, np.ndarray]:
    """Signup day, business unit, segment and latent churn day of every customer.

    Customers are returned in signup order (their id order).
    """
    rng = rngs["customers"]
    n_seg = len(SEGMENTS)

    # daily signup intensity per (business unit, segment, day)
    shocks = np.exp(rng.normal(0.0, 1.0, (n_seg, cal.n_quarters)) * _SEG_SHOCK_SD[:, None])
    wave = 1.0 + _SEG_WAVE[:, None] * np.sin(2 * np.pi * cal.years[None, :] / 1.5 + 1.0)
    seg_day = (np.exp(_SEG_GROWTH[:, None] * cal.years) * wave
               * _seasonal(_MONTHS_SIGNUP)[:, cal.month] * shocks[:, cal.quarter])
    bu_day = np.exp(_BU_GROWTH[:, None] * cal.years)
    weight = (_BU_SHARE[:, None, None] * _BU_SEGMENT_MIX[:, :, None]
              * bu_day[:, None, :] * seg_day[None, :, :])

    n_base = int(round(_OPENING_BASE_SHARE * n))
    n_new = n - n_base
    flat = weight.ravel()
    pick = rng.choice(flat.size, size=n_new, p=flat / flat.sum())
    bu_new, seg_new, day_new = np.unravel_index(pick, weight.shape)

    # the opening base: signup mix at ``start`` times the chance to survive until then
    tenure = np.arange(1, int(_OPENING_BASE_YEARS * 365) + 1)
    scale = _SEG_CHURN_SCALE[None, :] * _BU_CHURN_SCALE[:, None] * _DAYS_PER_YEAR
    survival = np.exp(-(tenure / scale[:, :, None]) ** _CHURN_SHAPE)
    opening = (weight[:, :, :1] * survival).ravel()
    pick = rng.choice(opening.size, size=n_base, p=opening / opening.sum())
    bu_base, seg_base, since = np.unravel_index(pick, survival.shape)
    day_base = -tenure[since]

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
            "first": first, "stop": stop, "ids": _ids("C", n, 6)}


def _customers_frame(rng: np.random.Generator, cal: _Calendar, cust: dict[str, np.ndarray],
                     subscription: bool) -> pd.DataFrame:
    seg, bu = cust["seg"], cust["bu"]
    n = len(seg)
    age = np.clip(np.rint(rng.normal(_SEG_AGE[seg, 0], _SEG_AGE[seg, 1])), 18, 85)
    income = np.round(_SEG_INCOME[seg] * np.exp(rng.normal(0.0, 0.35, n)), -2)
    gender = np.asarray(_GENDERS, dtype=object)[_draw(rng, _GENDER_P, np.zeros(n, int))]
    region = np.asarray(_REGIONS, dtype=object)[_draw(rng, _BU_REGION_P, bu)]
    channel = np.asarray(_CHANNELS, dtype=object)[_draw(rng, _BU_CHANNEL_P, bu)]

    frame = {
        col.CUSTOMER_ID: pd.Series(cust["ids"], dtype="str"),
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
def _simulate_orders(rngs: dict[str, np.random.Generator], cal: _Calendar,
                     cust: dict[str, np.ndarray]) -> pd.DataFrame:
    rng = rngs["orders"]
    seg, bu, first, stop = cust["seg"], cust["bu"], cust["first"], cust["stop"]
    n, n_seg = len(seg), len(SEGMENTS)

    # cumulative order intensity per (business unit, segment) cell, mean one per day
    season = _seasonal(_MONTHS_ORDER)[:, cal.month]                       # (seg, day)
    weekday = (_BU_WEEKDAY / _BU_WEEKDAY.mean(axis=1, keepdims=True))[:, cal.weekday]
    daily = (weekday[:, None, :] * season[None, :, :]).reshape(-1, cal.n_days)
    cum = np.zeros((daily.shape[0], cal.n_days + 1))
    np.cumsum(daily, axis=1, out=cum[:, 1:])
    cell = bu * n_seg + seg
    lo, hi = cum[cell, first], cum[cell, stop]

    frailty = rng.gamma(_FRAILTY_SHAPE, 1.0 / _FRAILTY_SHAPE, n)
    rate = _SEG_FREQ[seg] * _BU_FREQ[bu] * frailty / _DAYS_PER_YEAR
    n_orders = rng.poisson(rate * (hi - lo))
    owner = np.repeat(np.arange(n), n_orders)
    # invert the cumulative intensity: rows are shifted so one search covers all cells
    shift = np.arange(cum.shape[0]) * (cum[:, -1].max() + 1.0)
    target = lo[owner] + rng.random(owner.size) * (hi - lo)[owner] + shift[cell[owner]]
    pos = np.searchsorted((cum + shift[:, None]).ravel(), target, side="right") - 1
    day = np.clip(pos - cell[owner] * (cal.n_days + 1), first[owner], stop[owner] - 1)

    # acquisition orders on the signup day of new customers
    buyer = np.flatnonzero((cust["signup"] >= 0) & (rng.random(n) < _ACQUISITION_ORDER_PROB))
    owner = np.concatenate([owner, buyer])
    day = np.concatenate([day, cust["signup"][buyer]])
    order = np.lexsort((owner, day))
    owner, day = owner[order], day[order]

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
    margin = np.round(amount * rate, 2)
    order_ids = _ids("O", owner.size, 7)

    # refunds: after the order, before churn and ``end``; full or partial
    rng = rngs["refunds"]
    src = np.flatnonzero(rng.random(owner.size) < _REFUND_PROB)
    refund_day = day[src] + np.minimum(rng.geometric(0.12, src.size), 90)
    share = np.where(rng.random(src.size) < 0.75, 1.0, rng.uniform(0.1, 0.9, src.size))
    keep = refund_day < stop[owner[src]]
    src, refund_day, share = src[keep], refund_day[keep], share[keep]
    refund = np.maximum(np.round(amount[src] * share, 2), 0.01)
    refund_margin = np.round(refund * rate[src], 2)

    all_owner = np.concatenate([owner, owner[src]])
    all_day = np.concatenate([day, refund_day])
    all_id = np.concatenate([order_ids, order_ids[src]])
    all_amount = np.concatenate([amount, -refund])
    all_margin = np.concatenate([margin, -refund_margin])
    order = np.argsort(all_day, kind="stable")
    return pd.DataFrame({
        col.ORDER_ID: pd.Series(all_id[order], dtype="str"),
        col.CUSTOMER_ID: pd.Series(cust["ids"][all_owner[order]], dtype="str"),
        col.ORDER_DATE: cal.dates(all_day[order]),
        col.AMOUNT: all_amount[order],
        col.MARGIN: all_margin[order],
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


def _marketing_spend(rng: np.random.Generator, cal: _Calendar,
                     cust: dict[str, np.ndarray]) -> pd.DataFrame:
    new, active = _quarter_counts(cal, cust)
    cac = _SEG_CAC[None, :, None] * _BU_CAC[None, None, :]
    keep = _SEG_RETENTION[None, :, None] * _BU_RETENTION[None, None, :]
    q4 = np.where(cal.q_of_year == 3, 1.15, 1.0)[:, None, None]
    acquisition = cac * (new + 1) * q4 * np.exp(rng.normal(0.0, 0.12, new.shape))
    retention = keep * (active + 1) * q4 * np.exp(rng.normal(0.0, 0.08, new.shape))
    return pd.DataFrame({**_cells(cal),
                         col.ACQUISITION_SPEND: np.round(acquisition, 2).ravel(),
                         col.RETENTION_SPEND: np.round(retention, 2).ravel()})


def _market_size(rng: np.random.Generator, cal: _Calendar,
                 cust: dict[str, np.ndarray]) -> pd.DataFrame:
    _, active = _quarter_counts(cal, cust)
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


def _surveys(rng: np.random.Generator, cal: _Calendar,
             cust: dict[str, np.ndarray]) -> pd.DataFrame:
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
        col.CUSTOMER_ID: pd.Series(cust["ids"][who], dtype="str"),
        col.RESPONSE_DATE: cal.dates(day),
        col.NPS: nps,
        col.CSAT: csat,
        col.AWARE: aware,
        col.PERCEIVED_QUALITY: quality,
    })
