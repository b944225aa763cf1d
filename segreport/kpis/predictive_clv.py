"""Predictive CLV from the buy-till-you-die models, per segment (issue 3).

The models come from a maintained library of the field, **pymc-marketing**
(``pymc_marketing.clv``, the successor of ``lifetimes``), not from code of our own:

* **BG/NBD** (Fader, Hardie & Lee 2005, ``BetaGeoModel``) for the number of future purchase
  days: while alive a customer buys as a Poisson process whose rate is Gamma(r, α)
  distributed across customers; after each purchase the customer drops out with a
  probability that is Beta(a, b) distributed across customers.
* **Gamma-Gamma** (Fader & Hardie 2013, ``GammaGammaModel``) for the expected value of a
  purchase day, shrinking each customer's mean repeat spend towards the population mean.
* ``GammaGammaModel.expected_customer_lifetime_value`` (which calls
  ``pymc_marketing.clv.customer_lifetime_value``) for the discounted CLV over the horizon:
  the sum over months m = 1..H of expected spend × expected purchases in month m /
  (1 + monthly rate)^m, the monthly rate being ``(1 + annual rate)^(1/12) − 1``.

Both models are fitted by maximum a posteriori (``method="map"``) with flat priors
(``HalfFlat``), i.e. maximum likelihood, as in the published papers; one fit of each per
call, on every customer of the summary (one business unit); segments are then read off the
per-customer predictions. The input is :func:`segreport.data.rfm_summary.clv_summary`.

Time units: the library counts a month as 30 days (``time_unit="D"``) or 4.345 weeks
(``"W"``); the horizon in purchases (:data:`PREDICTED_PURCHASES`) uses the same length.

pytensor compiles the models' C code on first use (about 30 s) into a cache; unless
``PYTENSOR_FLAGS`` already names a compile dir, the cache is ``~/.cache/segreport/pytensor``
(set when this module is imported; it only takes effect if pytensor is imported later).
The compiled code is specific to the number of customers: the first fit of a new size
compiles a little again (a few seconds).
"""
from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from segreport import columns as C
from segreport.data.rfm_summary import (
    AGE,
    FREQUENCY,
    MONETARY_VALUE,
    RECENCY,
    SUMMARY_COLUMNS,
)
from segreport.errors import ConfigError
from segreport.kpis.frame import kpi_row, to_frame

# --- KPI ids ---------------------------------------------------------------------------
from segreport.kpis.ids import PREDICTED_CLV, PREDICTED_PURCHASES, PREDICTIVE_KPIS  # noqa: E402
from segreport.kpis.stats import is_small

# --- units -----------------------------------------------------------------------------
CURRENCY = "currency"
PURCHASES = "purchases"
UNITS = {PREDICTED_CLV: CURRENCY, PREDICTED_PURCHASES: PURCHASES}

LIBRARY = "pymc-marketing"
MONTH_LENGTH = {"D": 30.0, "W": 4.345, "M": 1.0}
"""Time units per month, as in ``pymc_marketing.clv.customer_lifetime_value``."""

MIN_CUSTOMERS = 50
"""Fewer customers (with a purchase before the period end) and no model is fitted."""
MIN_REPEAT_CUSTOMERS = 20
"""Fewer repeat customers (frequency > 0, monetary value > 0) and no model is fitted."""

BG_NBD_PARAMS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMS = ("p", "q", "v")

# per-customer prediction columns (PredictiveClvFit.per_customer)
EXPECTED_SPEND = "expected_spend"

_CACHE_DIR = Path.home() / ".cache" / "segreport" / "pytensor"


@dataclass
class PredictiveClvFit:
    """What the fit did, for the report.

    ``ok`` is True when both models were fitted and give finite, positive predictions;
    ``note`` is then the model note of the KPI rows, else why a KPI is empty.
    ``params`` holds r, alpha (in ``time_unit``), a, b (BG/NBD) and p, q, v (Gamma-Gamma,
    currency), NaN where not fitted. ``per_customer`` has one row per customer of the
    summary (``customer_id, segment``) and, where fitted, ``predicted_purchases`` (BG/NBD),
    ``expected_spend`` (Gamma-Gamma, currency per purchase day) and ``predicted_clv``.
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


def _library_version() -> str:
    try:
        return metadata.version(LIBRARY)
    except metadata.PackageNotFoundError:
        return ""


def _ensure_compiledir() -> None:
    """Point pytensor's compile cache at ``~/.cache/segreport/pytensor`` unless the user's
    ``PYTENSOR_FLAGS`` already chooses one."""
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "compiledir" in flags:
        return
    os.environ["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, f"base_compiledir={_CACHE_DIR}")
                                            if f)


_ensure_compiledir()  # at import too, in case pytensor is imported before the first fit


def monthly_rate(annual_discount_rate: float) -> float:
    """The monthly rate equivalent to an annual one: ``(1 + annual)^(1/12) − 1``."""
    return (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0


def model_note(version: str, horizon_months: int, annual_discount_rate: float,
               kpi: str = PREDICTED_CLV) -> str:
    """``"BG/NBD + Gamma-Gamma via pymc-marketing 0.19.2, MAP fit, 12-month horizon,
    10%/yr discount"`` (the purchases KPI: BG/NBD only, undiscounted)."""
    if kpi == PREDICTED_PURCHASES:
        return (f"BG/NBD via {LIBRARY} {version}, MAP fit, {horizon_months}-month horizon, "
                "undiscounted")
    return (f"BG/NBD + Gamma-Gamma via {LIBRARY} {version}, MAP fit, {horizon_months}-month "
            f"horizon, {annual_discount_rate * 100:g}%/yr discount")


def _check_args(horizon_months: int, annual_discount_rate: float, time_unit: str) -> None:
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


def _segments(per_customer: pd.DataFrame, segments: Iterable[str] | None) -> list[str]:
    present = set(per_customer[C.SEGMENT])
    listed = set(segments) if segments is not None else set()
    return sorted((present | listed) - {C.ALL_SEGMENTS})


def _rows(per_customer: pd.DataFrame, segments: list[str], notes: dict[str, str],
          ok: dict[str, bool]) -> pd.DataFrame:
    """Mean per customer of each KPI (the column of the same name of ``per_customer``), per
    segment and ``All``; empty with the KPI's note where not ``ok``."""
    rows = []
    for kpi in PREDICTIVE_KPIS:
        for segment in [*segments, C.ALL_SEGMENTS]:
            mine = (per_customer if segment == C.ALL_SEGMENTS
                    else per_customer[per_customer[C.SEGMENT] == segment])
            n = len(mine)
            if not ok[kpi]:
                rows.append(kpi_row(kpi, segment, math.nan, UNITS[kpi], denominator=n,
                                    note=notes[kpi]))
            elif n == 0:
                rows.append(kpi_row(kpi, segment, math.nan, UNITS[kpi], denominator=0,
                                    note="not defined: no customer of the segment has a "
                                         "purchase before the period end"))
            else:
                total = float(mine[kpi].sum())
                rows.append(kpi_row(kpi, segment, total / n, UNITS[kpi], numerator=total,
                                    denominator=n, note=notes[kpi], small_sample=is_small(n)))
    return to_frame(rows)


def _scalar(posterior, name: str) -> float:
    return float(np.asarray(posterior[name].values).reshape(-1)[0])


def _first_draw(values) -> np.ndarray:
    """Per-customer values of a MAP prediction (chain and draw have length 1)."""
    arr = values.transpose(..., C.CUSTOMER_ID)
    return np.asarray(arr.values, dtype="float64").reshape(-1, arr.sizes[C.CUSTOMER_ID])[0]


def _error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def predictive_clv_kpis(summary: pd.DataFrame, horizon_months: int = 12,
                        annual_discount_rate: float = 0.10, time_unit: str = "D", *,
                        segments: Iterable[str] | None = None,
                        min_customers: int = MIN_CUSTOMERS,
                        min_repeat_customers: int = MIN_REPEAT_CUSTOMERS,
                        ) -> tuple[pd.DataFrame, PredictiveClvFit]:
    """Predicted CLV and purchases per customer over the horizon, per segment and ``All``.

    Parameters
    ----------
    summary
        :func:`segreport.data.rfm_summary.clv_summary` of one business unit (``customer_id,
        frequency, recency, T, monetary_value, segment``), ``recency`` and ``T`` in
        ``time_unit``.
    horizon_months
        Whole months ahead.
    annual_discount_rate
        Yearly discount rate as a fraction (0.10 = 10 %/yr), applied monthly.
    time_unit
        ``"D"`` (days, as :func:`clv_summary` gives), ``"W"`` (weeks) or ``"M"``.
    segments
        Segments to report besides those of the summary (e.g. the facts' segments); one
        without customers gets empty values and a note.
    min_customers, min_repeat_customers
        Below these counts (all customers / customers with frequency > 0 and
        monetary_value > 0) no model is fitted and the KPIs are empty with a note.

    Returns
    -------
    ``(frame, fit)``: ``frame`` has the columns of :func:`segreport.kpis.frame.to_frame`,
    one row per KPI and segment plus ``All``:

    * ``predicted_clv`` (currency): mean over the segment's customers of the expected
      discounted net revenue over the horizon; ``numerator`` = sum, ``denominator`` =
      customers (with a purchase before the period end);
    * ``predicted_purchases`` (purchases): mean expected purchase days per customer over
      the horizon (undiscounted), same numerator and denominator.

    ``fit`` is a :class:`PredictiveClvFit` with the fitted parameters. A fit that fails
    (too few customers, an optimiser error, non-finite or invalid parameters) never raises:
    the affected KPI values are empty and ``note`` says why.

    Raises
    ------
    ConfigError
        for an invalid ``horizon_months``, ``annual_discount_rate`` or ``time_unit``.
    """
    _check_args(horizon_months, annual_discount_rate, time_unit)
    horizon_months = int(horizon_months)
    version = _library_version()
    fit = PredictiveClvFit(ok=False, note="", library_version=version, time_unit=time_unit,
                           horizon_months=horizon_months,
                           annual_discount_rate=float(annual_discount_rate),
                           monthly_discount_rate=monthly_rate(annual_discount_rate))
    notes = {PREDICTED_CLV: model_note(version, horizon_months, annual_discount_rate),
             PREDICTED_PURCHASES: model_note(version, horizon_months, annual_discount_rate,
                                             PREDICTED_PURCHASES)}
    ok = {PREDICTED_CLV: False, PREDICTED_PURCHASES: False}

    if summary.empty:
        summary = summary.reindex(columns=list(SUMMARY_COLUMNS))
    segment = (summary[C.SEGMENT].astype(str).to_numpy() if C.SEGMENT in summary
               else C.UNSEGMENTED)
    per_customer = pd.DataFrame({C.CUSTOMER_ID: summary[C.CUSTOMER_ID].to_numpy(),
                                 C.SEGMENT: segment})
    fit.per_customer = per_customer
    segment_list = _segments(per_customer, segments)

    def fail(reason: str, kpis=PREDICTIVE_KPIS):
        for k in kpis:
            notes[k] = f"not defined: {reason}"
            ok[k] = False
        fit.note = notes[PREDICTED_CLV]
        return _rows(per_customer, segment_list, notes, ok), fit

    data = pd.DataFrame({
        C.CUSTOMER_ID: summary[C.CUSTOMER_ID].to_numpy(),
        FREQUENCY: summary[FREQUENCY].astype("float64").to_numpy(),
        RECENCY: summary[RECENCY].astype("float64").to_numpy(),
        AGE: summary[AGE].astype("float64").to_numpy(),
        MONETARY_VALUE: summary[MONETARY_VALUE].astype("float64").to_numpy(),
    })
    spend = data[(data[FREQUENCY] > 0) & (data[MONETARY_VALUE] > 0)]
    fit.customers, fit.spend_customers = len(data), len(spend)
    what = "BG/NBD + Gamma-Gamma"
    if not version:
        return fail(f"{LIBRARY} is not installed (pip install {LIBRARY})")
    if len(data) < min_customers:
        return fail(f"{what} needs at least {min_customers} customers with a purchase before "
                    f"the period end; there are {len(data)}")
    if len(spend) < min_repeat_customers:
        return fail(f"{what} needs at least {min_repeat_customers} repeat customers "
                    f"(frequency > 0, mean repeat spend > 0); there are {len(spend)}")
    if not np.isfinite(data[[FREQUENCY, RECENCY, AGE]].to_numpy()).all() or (
            data[RECENCY] > data[AGE]).any() or (data[FREQUENCY] < 0).any():
        return fail("the summary has non-finite values, negative frequencies or recency > T")

    started = time.perf_counter()
    _ensure_compiledir()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pytensor
            from pymc_extras.prior import Prior
            from pymc_marketing.clv import BetaGeoModel, GammaGammaModel
            fit.compiledir = str(pytensor.config.compiledir)
            flat = {k: Prior("HalfFlat") for k in BG_NBD_PARAMS}
            bg = BetaGeoModel(model_config=flat)
            bg.fit(data=data[[C.CUSTOMER_ID, FREQUENCY, RECENCY, AGE]], method="map",
                   progressbar=False)
            for k in BG_NBD_PARAMS:
                fit.params[k] = _scalar(bg.idata.posterior, k)
            purchases = _first_draw(bg.expected_purchases(
                data=data[[C.CUSTOMER_ID, FREQUENCY, RECENCY, AGE]],
                future_t=horizon_months * MONTH_LENGTH[time_unit]))
    except Exception as exc:  # noqa: BLE001 - any library failure leaves the KPIs empty
        fit.fit_seconds = time.perf_counter() - started
        return fail(f"the BG/NBD fit failed ({_error(exc)})")
    bg_params = np.array([fit.params[k] for k in BG_NBD_PARAMS])
    if not (np.isfinite(bg_params).all() and (bg_params > 0).all()) or not (
            np.isfinite(purchases).all() and (purchases >= 0).all()):
        fit.fit_seconds = time.perf_counter() - started
        return fail("the BG/NBD fit did not converge to valid parameters ("
                    + ", ".join(f"{k}={fit.params[k]:.4g}" for k in BG_NBD_PARAMS) + ")")
    ok[PREDICTED_PURCHASES] = True
    per_customer[PREDICTED_PURCHASES] = purchases

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gg = GammaGammaModel()
            gg.fit(data=spend[[C.CUSTOMER_ID, FREQUENCY, MONETARY_VALUE]], method="map",
                   progressbar=False)
            for k in GAMMA_GAMMA_PARAMS:
                fit.params[k] = _scalar(gg.idata.posterior, k)
            # a repeat customer whose refunds outweigh the orders has a mean repeat spend
            # ≤ 0, outside the Gamma-Gamma model: predict with an observed mean of 0
            predict = data.assign(**{MONETARY_VALUE: data[MONETARY_VALUE].clip(lower=0.0)})
            expected_spend = _first_draw(gg.expected_customer_spend(data=predict))
            clv = _first_draw(gg.expected_customer_lifetime_value(
                transaction_model=bg, data=predict.copy(), future_t=horizon_months,
                discount_rate=fit.monthly_discount_rate, time_unit=time_unit))
    except Exception as exc:  # noqa: BLE001
        fit.fit_seconds = time.perf_counter() - started
        return fail(f"the Gamma-Gamma fit failed ({_error(exc)})", (PREDICTED_CLV,))
    fit.fit_seconds = time.perf_counter() - started
    gg_params = np.array([fit.params[k] for k in GAMMA_GAMMA_PARAMS])
    if not (np.isfinite(gg_params).all() and (gg_params > 0).all() and fit.params["q"] > 1) \
            or not (np.isfinite(clv).all() and np.isfinite(expected_spend).all()):
        return fail("the Gamma-Gamma fit did not give a finite mean spend ("
                    + ", ".join(f"{k}={fit.params[k]:.4g}" for k in GAMMA_GAMMA_PARAMS)
                    + "; q must exceed 1)", (PREDICTED_CLV,))
    ok[PREDICTED_CLV] = True
    per_customer[EXPECTED_SPEND] = expected_spend
    per_customer[PREDICTED_CLV] = clv
    fit.ok, fit.note = True, notes[PREDICTED_CLV]
    return _rows(per_customer, segment_list, notes, ok), fit


__all__ = [
    "LIBRARY",
    "MIN_CUSTOMERS",
    "MIN_REPEAT_CUSTOMERS",
    "MONTH_LENGTH",
    "PREDICTED_CLV",
    "PREDICTED_PURCHASES",
    "PREDICTIVE_KPIS",
    "UNITS",
    "PredictiveClvFit",
    "model_note",
    "monthly_rate",
    "predictive_clv_kpis",
]
