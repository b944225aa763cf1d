"""A predictive CLV fit described: its settings checked, what it produced
(:class:`PredictiveClvFit`) and its KPI note; the fit itself is
:func:`segreport.kpis.predictive_clv.predictive_clv_kpis`."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import metadata

import numpy as np
import pandas as pd

from segreport.errors import ConfigError
from segreport.kpis.ids import PREDICTED_CLV, PREDICTED_PURCHASES

LIBRARY = "pymc-marketing"
VERSIONED = (LIBRARY, "pymc", "pytensor", "scipy")
"""The libraries whose versions enter the fit cache's key."""
MONTH_LENGTH = {"D": 30.0, "W": 4.345, "M": 1.0}
"""Time units per month, as in ``pymc_marketing.clv.customer_lifetime_value``."""

BG_NBD_PARAMS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMS = ("p", "q", "v")

# per-customer prediction columns (PredictiveClvFit.per_customer)
EXPECTED_SPEND = "expected_spend"
PREDICTION_COLUMNS = (PREDICTED_PURCHASES, EXPECTED_SPEND, PREDICTED_CLV)

SAMPLE_SEED = 20050101
"""Default random seed of the sample a large summary is fitted on (any fixed number: the
sample, and so the fit, is the same on every run)."""


@dataclass
class PredictiveClvFit:
    """What the fit did, for the report.

    ``ok`` is True when both models were fitted and give finite, positive predictions;
    ``note`` is then the model note of the KPI rows, else why a KPI is empty.
    ``params`` holds r, alpha (in ``time_unit``), a, b (BG/NBD) and p, q, v (Gamma-Gamma,
    currency), NaN where not fitted. ``per_customer`` has one row per customer of the
    summary (``customer_id, segment``) and, where fitted, ``predicted_purchases`` (BG/NBD),
    ``expected_spend`` (Gamma-Gamma, currency per purchase day) and ``predicted_clv``.

    ``customers`` counts the customers of the summary, ``fit_customers`` those the BG/NBD
    model was fitted on (all of them, or a random sample when ``sampled``) and
    ``spend_customers`` the repeat customers among them the Gamma-Gamma model was fitted on.
    ``fingerprint`` is the cache key of the inputs (see the module notes); ``cached`` is
    True when the result was read from the cache, and ``fit_seconds``/``compiledir`` are
    then those of the fit that wrote it.
    """

    ok: bool
    note: str
    library: str = LIBRARY
    library_version: str = ""
    method: str = "map"
    time_unit: str = "D"
    horizon_months: int = 12
    annual_discount_rate: float = 0.10
    monthly_discount_rate: float = math.nan
    customers: int = 0
    spend_customers: int = 0
    params: dict[str, float] = field(
        default_factory=lambda: {k: math.nan for k in BG_NBD_PARAMS + GAMMA_GAMMA_PARAMS})
    fit_seconds: float = math.nan
    compiledir: str = ""
    per_customer: pd.DataFrame = field(default_factory=pd.DataFrame)
    fit_customers: int = 0
    sampled: bool = False
    cached: bool = False
    fingerprint: str = ""


def monthly_rate(annual_discount_rate: float) -> float:
    """The monthly rate equivalent to an annual one: ``(1 + annual)^(1/12) − 1``."""
    return (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0


def model_note(version: str, horizon_months: int, annual_discount_rate: float,
               kpi: str = PREDICTED_CLV, *, sample: tuple[int, int] | None = None) -> str:
    """``"BG/NBD + Gamma-Gamma via pymc-marketing 0.19.2, MAP fit, 12-month horizon,
    10%/yr discount"`` (the purchases KPI: BG/NBD only, undiscounted).

    ``sample=(fitted, customers)`` adds ``", fitted on a random sample of 100,000 of
    2,345,678 customers"``.
    """
    if kpi == PREDICTED_PURCHASES:
        note = (f"BG/NBD via {LIBRARY} {version}, MAP fit, {horizon_months}-month horizon, "
                "undiscounted")
    else:
        note = (f"BG/NBD + Gamma-Gamma via {LIBRARY} {version}, MAP fit, {horizon_months}-month "
                f"horizon, {annual_discount_rate * 100:g}%/yr discount")
    if sample is not None:
        note += f", fitted on a random sample of {sample[0]:,} of {sample[1]:,} customers"
    return note


def _version(name: str) -> str:
    """The installed version of ``name`` (``""`` when it is not installed)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def library_version() -> str:
    """The installed version of pymc-marketing (``""``: not installed)."""
    return _version(LIBRARY)


def versions() -> dict[str, str]:
    """The installed versions of :data:`VERSIONED` (they enter the fit cache's key)."""
    return {name: _version(name) for name in VERSIONED}


def _is_whole(value, minimum: int) -> bool:
    return (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            and value >= minimum)


def check_settings(horizon_months: int, annual_discount_rate: float, time_unit: str,
                   max_fit_customers: int, seed: int, min_customers: int) -> None:
    """Reject a horizon, discount rate, time unit, sample size or seed the fit cannot use
    (:class:`segreport.errors.ConfigError` naming the setting)."""
    if time_unit not in MONTH_LENGTH:
        raise ConfigError(f"predictive CLV: time_unit {time_unit!r} is not one of "
                          f"{', '.join(MONTH_LENGTH)}")
    try:
        whole = float(horizon_months).is_integer() and horizon_months >= 1
        rate_ok = annual_discount_rate >= 0 and math.isfinite(annual_discount_rate)
    except (TypeError, ValueError):
        whole = rate_ok = False
    if not whole or isinstance(horizon_months, bool):
        raise ConfigError(f"predictive CLV: horizon_months must be a whole number of months "
                          f"≥ 1, got {horizon_months!r}")
    if not rate_ok or isinstance(annual_discount_rate, bool):
        raise ConfigError(f"predictive CLV: annual_discount_rate must be ≥ 0 (0.10 = 10 %), "
                          f"got {annual_discount_rate!r}")
    least = max(1, int(min_customers)) if _is_whole(min_customers, 0) else 1
    if not _is_whole(max_fit_customers, least):
        raise ConfigError(f"predictive CLV: max_fit_customers must be a whole number ≥ {least} "
                          f"(and ≥ min_customers), got {max_fit_customers!r}")
    if not _is_whole(seed, 0):
        raise ConfigError(f"predictive CLV: seed must be a whole number ≥ 0, got {seed!r}")
