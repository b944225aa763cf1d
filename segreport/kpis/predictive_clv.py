"""Predictive CLV from the buy-till-you-die models, per segment.

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
call, on the customers of the summary (one business unit); segments are then read off the
per-customer predictions (:mod:`segreport.kpis.clv_rows`). The input is
:func:`segreport.data.rfm_summary.clv_summary`.

Making it cheap
---------------
* **Fit cache.** With ``cache_dir`` set, a call whose inputs have not changed reuses the
  earlier result without importing pymc or pytensor (:mod:`segreport.kpis.clv_cache`).
* **Sampling.** Above :data:`MAX_FIT_CUSTOMERS` customers (a parameter) the models are fitted
  on a seeded random sample of that many customers (Gamma-Gamma on the repeat customers of
  the sample) and the fitted models predict for every customer, in chunks of
  :data:`PREDICT_CHUNK` customers so that memory stays flat. The KPI note says so.

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
from segreport.kpis.clv_cache import (
    CACHE_FORMAT,
    cache_file,
    canonical_order,
    fingerprint,
    read_cache,
    write_cache,
)
from segreport.kpis.clv_fit import (
    BG_NBD_PARAMS,
    EXPECTED_SPEND,
    GAMMA_GAMMA_PARAMS,
    LIBRARY,
    MONTH_LENGTH,
    PREDICTION_COLUMNS,
    SAMPLE_SEED,
    PredictiveClvFit,
    check_settings,
    library_version,
    model_note,
    monthly_rate,
    versions,
)
from segreport.kpis.clv_predict import predict_purchases, predict_value, scalar
from segreport.kpis.clv_rows import UNITS, predictive_rows, report_segments
from segreport.kpis.clv_simulate import simulate_summary
from segreport.kpis.ids import PREDICTED_CLV, PREDICTED_PURCHASES, PREDICTIVE_KPIS

MIN_CUSTOMERS = 50
"""Fewer customers (with a purchase before the period end) and no model is fitted."""
MIN_REPEAT_CUSTOMERS = 20
"""Fewer repeat customers (frequency > 0, monetary value > 0) and no model is fitted."""

MAX_FIT_CUSTOMERS = 100_000
"""Above this many customers the models are fitted on a random sample of this many (and
predict for all). A fit of that size takes ~3 s on 2 cores. On a summary simulated with the
CDNOW parameters, three samples of 100,000 gave r and alpha within about 1 % of each other,
p, q and v within 2–3 % and the dropout parameters a and b within 4–5 % (the least
determined); raise it where those matter more than the time."""
PREDICT_CHUNK = 500_000
"""Customers per prediction call of the library: bounds the memory of the predictions
(~50 MB more at 500,000 than at 200,000). Each call pays a per-call cost in the library
(xarray alignment of every intermediate): for 484,300 customers one call took 6.9–7.6 s
and three of 200,000 8.1–9.4 s, with the same values."""

_CACHE_DIR = Path.home() / ".cache" / "segreport" / "pytensor"


def _ensure_compiledir() -> None:
    """Point pytensor's compile cache at ``~/.cache/segreport/pytensor`` unless the user's
    ``PYTENSOR_FLAGS`` already chooses one."""
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "compiledir" in flags:
        return
    os.environ["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, f"base_compiledir={_CACHE_DIR}")
                                            if f)


_ensure_compiledir()  # at import too, in case pytensor is imported before the first fit


def _error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def predictive_clv_kpis(summary: pd.DataFrame, horizon_months: int = 12,
                        annual_discount_rate: float = 0.10, time_unit: str = "D", *,
                        segments: Iterable[str] | None = None,
                        min_customers: int = MIN_CUSTOMERS,
                        min_repeat_customers: int = MIN_REPEAT_CUSTOMERS,
                        cache_dir: str | Path | None = None,
                        max_fit_customers: int = MAX_FIT_CUSTOMERS,
                        seed: int = SAMPLE_SEED,
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
        monetary_value > 0 among those fitted on) no model is fitted and the KPIs are empty
        with a note.
    cache_dir
        Folder of the fit cache (e.g. ``~/.cache/segreport/clv``; created when needed), or
        None for no cache. A successful fit is stored there; a later call with the same
        fingerprint (see the module notes) returns the same frame and predictions without
        fitting or importing pymc/pytensor, with ``fit.cached`` set.
    max_fit_customers
        With more customers than this, both models are fitted on a random sample of this
        many customers (Gamma-Gamma on the sample's repeat customers) and predict for every
        customer; the note says so. At least ``min_customers``.
    seed
        Seed of that random sample: the same summary and seed give the same sample and fit.

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
    the affected KPI values are empty and ``note`` says why. Only successful fits are cached.
    A cache folder that cannot be written gives a ``RuntimeWarning``, not an error.

    Raises
    ------
    ConfigError
        for an invalid ``horizon_months``, ``annual_discount_rate``, ``time_unit``,
        ``max_fit_customers`` or ``seed``.
    """
    check_settings(horizon_months, annual_discount_rate, time_unit, max_fit_customers, seed,
                min_customers)
    horizon_months = int(horizon_months)
    version = library_version()
    fit = PredictiveClvFit(ok=False, note="", library_version=version, time_unit=time_unit,
                           horizon_months=horizon_months,
                           annual_discount_rate=float(annual_discount_rate),
                           monthly_discount_rate=monthly_rate(annual_discount_rate))
    ok = {PREDICTED_CLV: False, PREDICTED_PURCHASES: False}

    if summary.empty:
        summary = summary.reindex(columns=list(SUMMARY_COLUMNS))
    # .array, not .to_numpy(): no round trip of a million strings through Python objects
    segment = (summary[C.SEGMENT].astype(str).array if C.SEGMENT in summary
               else C.UNSEGMENTED)
    per_customer = pd.DataFrame({C.CUSTOMER_ID: summary[C.CUSTOMER_ID].array,
                                 C.SEGMENT: segment})
    fit.per_customer = per_customer
    segment_list = report_segments(per_customer, segments)

    # The models see the customers sorted by customer_id, numbered 0..n−1: the fit, the
    # sample and the cache key do not depend on the row order of the summary.
    order = canonical_order(summary[C.CUSTOMER_ID])
    rows = summary if order is None else summary.iloc[order]
    n = len(rows)
    data = pd.DataFrame({
        C.CUSTOMER_ID: np.arange(n),
        FREQUENCY: rows[FREQUENCY].astype("float64").to_numpy(),
        RECENCY: rows[RECENCY].astype("float64").to_numpy(),
        AGE: rows[AGE].astype("float64").to_numpy(),
        MONETARY_VALUE: rows[MONETARY_VALUE].astype("float64").to_numpy(),
    })
    fit.customers = n
    fit.sampled = n > max_fit_customers
    if fit.sampled:
        chosen = np.sort(np.random.default_rng(seed).choice(n, size=max_fit_customers,
                                                            replace=False))
        fit_data = data.iloc[chosen]
    else:
        fit_data = data
    spend = fit_data[(fit_data[FREQUENCY] > 0) & (fit_data[MONETARY_VALUE] > 0)]
    fit.fit_customers, fit.spend_customers = len(fit_data), len(spend)
    sample = (len(fit_data), n) if fit.sampled else None
    notes = {PREDICTED_CLV: model_note(version, horizon_months, annual_discount_rate,
                                       sample=sample),
             PREDICTED_PURCHASES: model_note(version, horizon_months, annual_discount_rate,
                                             PREDICTED_PURCHASES, sample=sample)}

    def fail(reason: str, kpis=PREDICTIVE_KPIS):
        for k in kpis:
            notes[k] = f"not defined: {reason}"
            ok[k] = False
        fit.note = notes[PREDICTED_CLV]
        return predictive_rows(per_customer, segment_list, notes, ok), fit

    def to_summary_order(values: np.ndarray) -> np.ndarray:
        if order is None:
            return values
        out = np.empty_like(values)
        out[order] = values
        return out

    what = "BG/NBD + Gamma-Gamma"
    if not version:
        return fail(f"{LIBRARY} is not installed (pip install {LIBRARY})")
    if n < min_customers:
        return fail(f"{what} needs at least {min_customers} customers with a purchase before "
                    f"the period end; there are {n}")
    if len(spend) < min_repeat_customers:
        where = f" in the random sample of {len(fit_data):,}" if fit.sampled else ""
        return fail(f"{what} needs at least {min_repeat_customers} repeat customers "
                    f"(frequency > 0, mean repeat spend > 0); there are {len(spend)}{where}")
    if not np.isfinite(data[[FREQUENCY, RECENCY, AGE]].to_numpy()).all() or (
            data[RECENCY] > data[AGE]).any() or (data[FREQUENCY] < 0).any():
        return fail("the summary has non-finite values, negative frequencies or recency > T")

    settings = {
        "format": CACHE_FORMAT, "customers": n, "horizon_months": horizon_months,
        "annual_discount_rate": float(annual_discount_rate), "time_unit": time_unit,
        "sample": ({"max_fit_customers": int(max_fit_customers), "seed": int(seed)}
                   if fit.sampled else None),
        "versions": versions(),
    }
    fit.fingerprint = fingerprint(data, settings)
    entry = cache_file(cache_dir, fit.fingerprint) if cache_dir is not None else None
    hit = read_cache(entry, fit.fingerprint, n) if entry is not None else None
    if hit is not None:
        meta, values = hit
        fit.params.update(meta["params"])
        fit.fit_seconds = float(meta.get("fit_seconds", math.nan))
        fit.compiledir = str(meta.get("compiledir", ""))
        fit.cached = True
        for column in PREDICTION_COLUMNS:
            per_customer[column] = to_summary_order(values[column])
        ok[PREDICTED_PURCHASES] = ok[PREDICTED_CLV] = True
        fit.ok, fit.note = True, notes[PREDICTED_CLV]
        return predictive_rows(per_customer, segment_list, notes, ok), fit

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
            bg.fit(data=fit_data[[C.CUSTOMER_ID, FREQUENCY, RECENCY, AGE]], method="map",
                   progressbar=False)
            for k in BG_NBD_PARAMS:
                fit.params[k] = scalar(bg.idata.posterior, k)
            purchases = predict_purchases(bg, data,
                                           horizon_months * MONTH_LENGTH[time_unit],
                                           PREDICT_CHUNK)
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
    per_customer[PREDICTED_PURCHASES] = to_summary_order(purchases)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gg = GammaGammaModel()
            gg.fit(data=spend[[C.CUSTOMER_ID, FREQUENCY, MONETARY_VALUE]], method="map",
                   progressbar=False)
            for k in GAMMA_GAMMA_PARAMS:
                fit.params[k] = scalar(gg.idata.posterior, k)
            expected_spend, clv = predict_value(gg, bg, data, horizon_months,
                                                 fit.monthly_discount_rate, time_unit,
                                                 PREDICT_CHUNK)
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
    per_customer[EXPECTED_SPEND] = to_summary_order(expected_spend)
    per_customer[PREDICTED_CLV] = to_summary_order(clv)
    fit.ok, fit.note = True, notes[PREDICTED_CLV]

    if entry is not None:
        meta = {"format": CACHE_FORMAT, "key": fit.fingerprint, "settings": settings,
                "customers": n, "fit_customers": fit.fit_customers,
                "spend_customers": fit.spend_customers, "sampled": fit.sampled,
                "params": fit.params, "fit_seconds": fit.fit_seconds,
                "compiledir": fit.compiledir, "library_version": version}
        try:
            write_cache(entry, meta, {PREDICTED_PURCHASES: purchases,
                                       EXPECTED_SPEND: expected_spend, PREDICTED_CLV: clv})
        except Exception as exc:  # noqa: BLE001 - the result stands without the cache
            warnings.warn(f"predictive CLV: could not write the fit cache {entry} "
                          f"({_error(exc)})", RuntimeWarning, stacklevel=2)
    return predictive_rows(per_customer, segment_list, notes, ok), fit


def load_models() -> None:
    """Import the models' libraries (pymc-marketing, pymc, pytensor: ~4 s, once per
    process), so that a fit that follows pays only for fitting. A notebook kernel started
    early does this while the data is prepared (:func:`segreport.report.kernel.warm_up`)."""
    _ensure_compiledir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pymc_extras.prior  # noqa: F401
        import pymc_marketing.clv  # noqa: F401


__all__ = [
    "CACHE_FORMAT",
    "LIBRARY",
    "MAX_FIT_CUSTOMERS",
    "MIN_CUSTOMERS",
    "MIN_REPEAT_CUSTOMERS",
    "MONTH_LENGTH",
    "PREDICTED_CLV",
    "PREDICTED_PURCHASES",
    "PREDICTIVE_KPIS",
    "PREDICT_CHUNK",
    "SAMPLE_SEED",
    "UNITS",
    "PredictiveClvFit",
    "model_note",
    "monthly_rate",
    "predictive_clv_kpis",
    "simulate_summary",
]
