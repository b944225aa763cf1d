"""The simulated business: its parameters, calendar and signup and order intensities."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from segreport import columns as col

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
