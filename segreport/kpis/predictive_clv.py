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
per-customer predictions. The input is :func:`segreport.data.rfm_summary.clv_summary`.

Making it cheap
---------------
* **Sampling.** Above :data:`MAX_FIT_CUSTOMERS` customers (a parameter) the models are fitted
  on a seeded random sample of that many customers (Gamma-Gamma on the repeat customers of
  the sample) and the fitted models predict for every customer, in chunks of
  :data:`PREDICT_CHUNK` customers so that memory stays flat. The KPI note says so.
* **Fit cache.** With ``cache_dir`` set, a call whose inputs have not changed reuses the
  earlier result without importing pymc or pytensor. The key is the sha256 of the columns
  that enter the fit (frequency, recency, T, monetary value, customers sorted by
  ``customer_id``), the horizon, the discount rate, the time unit, the sampling settings
  (when they apply) and the versions of pymc-marketing, pymc, pytensor and scipy. One entry
  is one Parquet file ``<key>.parquet``: the per-customer predictions in that order, with the
  fitted parameters as JSON in the file's metadata. Entries are written atomically (temporary
  file + rename); an unreadable or inconsistent entry is ignored and the models refitted.
  Segments do not enter the key: re-segmenting the same customers is a cache hit. Nothing
  prunes the folder.

Time units: the library counts a month as 30 days (``time_unit="D"``) or 4.345 weeks
(``"W"``); the horizon in purchases (:data:`PREDICTED_PURCHASES`) uses the same length.

pytensor compiles the models' C code on first use (about 30 s) into a cache; unless
``PYTENSOR_FLAGS`` already names a compile dir, the cache is ``~/.cache/segreport/pytensor``
(set when this module is imported; it only takes effect if pytensor is imported later).
The compiled code is specific to the number of customers: the first fit of a new size
compiles a little again (a few seconds).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import time
import warnings
from collections.abc import Iterable, Sequence
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
from segreport.kpis.spec import units
from segreport.kpis.stats import is_small

# --- units -----------------------------------------------------------------------------
UNITS = units(PREDICTIVE_KPIS)
"""The unit of each predictive KPI, as written in the ``unit`` column (from its spec)."""

LIBRARY = "pymc-marketing"
MONTH_LENGTH = {"D": 30.0, "W": 4.345, "M": 1.0}
"""Time units per month, as in ``pymc_marketing.clv.customer_lifetime_value``."""

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
SAMPLE_SEED = 20050101
"""Default random seed of that sample (any fixed number: the sample, and so the fit, is
the same on every run)."""
PREDICT_CHUNK = 200_000
"""Customers per prediction call of the library: bounds the memory of the predictions."""
CACHE_FORMAT = 1
"""Version of the cache entries and of the fitting code; a change makes every entry a miss."""

BG_NBD_PARAMS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMS = ("p", "q", "v")

# per-customer prediction columns (PredictiveClvFit.per_customer)
EXPECTED_SPEND = "expected_spend"
PREDICTION_COLUMNS = (PREDICTED_PURCHASES, EXPECTED_SPEND, PREDICTED_CLV)

_CACHE_DIR = Path.home() / ".cache" / "segreport" / "pytensor"
_CACHE_META = b"segreport.predictive_clv"
_FIT_COLUMNS = (FREQUENCY, RECENCY, AGE, MONETARY_VALUE)
_VERSIONED = (LIBRARY, "pymc", "pytensor", "scipy")


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


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def _library_version() -> str:
    return _version(LIBRARY)


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


def _is_whole(value, minimum: int) -> bool:
    return (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            and value >= minimum)


def _check_args(horizon_months: int, annual_discount_rate: float, time_unit: str,
                max_fit_customers: int = MAX_FIT_CUSTOMERS, seed: int = SAMPLE_SEED,
                min_customers: int = MIN_CUSTOMERS) -> None:
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


def _segments(per_customer: pd.DataFrame, segments: Iterable[str] | None) -> list[str]:
    present = set(pd.unique(per_customer[C.SEGMENT]))
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
                                    note=notes[kpi], defined=False))
            elif n == 0:
                rows.append(kpi_row(kpi, segment, math.nan, UNITS[kpi], denominator=0,
                                    note="not defined: no customer of the segment has a "
                                         "purchase before the period end", defined=False))
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


# --- canonical order, fingerprint and cache ------------------------------------------------
def _canonical_order(ids: pd.Series) -> np.ndarray | None:
    """Positions that sort the customers by ``customer_id`` (stable), or None when they are
    sorted already."""
    ids = pd.Series(ids).reset_index(drop=True)
    try:
        if ids.is_monotonic_increasing:
            return None
        return ids.argsort(kind="stable").to_numpy()
    except TypeError:  # ids of mixed types: sort their text
        return ids.astype(str).argsort(kind="stable").to_numpy()


def _fingerprint(data: pd.DataFrame, settings: dict) -> str:
    """sha256 of ``settings`` (as sorted JSON) and of the fit columns of ``data`` (float64,
    in the canonical order, −0.0 counted as 0.0)."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for column in _FIT_COLUMNS:
        values = np.ascontiguousarray(data[column].to_numpy(dtype="float64")) + 0.0
        digest.update(column.encode() + b"\0")
        digest.update(values.tobytes())
    return digest.hexdigest()


def _cache_file(cache_dir: str | Path, key: str) -> Path:
    return Path(cache_dir).expanduser() / f"{key}.parquet"


def _read_cache(path: Path, key: str, customers: int) -> tuple[dict, dict[str, np.ndarray]] | None:
    """The entry's metadata and predictions (canonical order), or None when there is no
    usable entry (missing, unreadable, for other inputs, or with invalid numbers)."""
    try:
        if not path.is_file():
            return None
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[_CACHE_META])
        if (meta.get("format") != CACHE_FORMAT or meta.get("key") != key
                or table.num_rows != customers or meta.get("customers") != customers):
            return None
        values = {c: table.column(c).to_numpy().astype("float64", copy=False)
                  for c in PREDICTION_COLUMNS}
        params = {k: float(meta["params"][k]) for k in BG_NBD_PARAMS + GAMMA_GAMMA_PARAMS}
        if not all(math.isfinite(v) and v > 0 for v in params.values()) or not all(
                v.shape == (customers,) and np.isfinite(v).all() for v in values.values()):
            return None
        meta["params"] = params
        return meta, values
    except Exception:  # noqa: BLE001 - any broken entry is a miss: refit and overwrite it
        return None


def _write_cache(path: Path, meta: dict, values: dict[str, np.ndarray]) -> None:
    """Write the entry to a temporary file in the same folder, then rename it into place."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({c: values[c] for c in PREDICTION_COLUMNS})
    table = table.replace_schema_metadata({_CACHE_META: json.dumps(meta).encode()})
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            pq.write_table(table, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- predictions in chunks ----------------------------------------------------------------
def _chunks(n: int, size: int) -> Iterable[slice]:
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


def _predict_purchases(bg, data: pd.DataFrame, future_t: float, chunk: int) -> np.ndarray:
    columns = [C.CUSTOMER_ID, FREQUENCY, RECENCY, AGE]
    return np.concatenate([
        _first_draw(bg.expected_purchases(data=data.iloc[part][columns], future_t=future_t))
        for part in _chunks(len(data), chunk)])


def _predict_value(gg, bg, data: pd.DataFrame, horizon_months: int, monthly_discount: float,
                   time_unit: str, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """Expected spend per purchase day and discounted CLV of every customer of ``data``."""
    spend, clv = [], []
    for part in _chunks(len(data), chunk):
        # a repeat customer whose refunds outweigh the orders has a mean repeat spend ≤ 0,
        # outside the Gamma-Gamma model: predict with an observed mean of 0
        piece = data.iloc[part]
        piece = piece.assign(**{MONETARY_VALUE: piece[MONETARY_VALUE].clip(lower=0.0)})
        spend.append(_first_draw(gg.expected_customer_spend(data=piece)))
        clv.append(_first_draw(gg.expected_customer_lifetime_value(
            transaction_model=bg, data=piece.copy(), future_t=horizon_months,
            discount_rate=monthly_discount, time_unit=time_unit)))
    return np.concatenate(spend), np.concatenate(clv)


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
    _check_args(horizon_months, annual_discount_rate, time_unit, max_fit_customers, seed,
                min_customers)
    horizon_months = int(horizon_months)
    version = _library_version()
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
    segment_list = _segments(per_customer, segments)

    # The models see the customers sorted by customer_id, numbered 0..n−1: the fit, the
    # sample and the cache key do not depend on the row order of the summary.
    order = _canonical_order(summary[C.CUSTOMER_ID])
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
        return _rows(per_customer, segment_list, notes, ok), fit

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
        "versions": {name: _version(name) for name in _VERSIONED},
    }
    fit.fingerprint = _fingerprint(data, settings)
    entry = _cache_file(cache_dir, fit.fingerprint) if cache_dir is not None else None
    hit = _read_cache(entry, fit.fingerprint, n) if entry is not None else None
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
        return _rows(per_customer, segment_list, notes, ok), fit

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
                fit.params[k] = _scalar(bg.idata.posterior, k)
            purchases = _predict_purchases(bg, data,
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
                fit.params[k] = _scalar(gg.idata.posterior, k)
            expected_spend, clv = _predict_value(gg, bg, data, horizon_months,
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
            _write_cache(entry, meta, {PREDICTED_PURCHASES: purchases,
                                       EXPECTED_SPEND: expected_spend, PREDICTED_CLV: clv})
        except Exception as exc:  # noqa: BLE001 - the result stands without the cache
            warnings.warn(f"predictive CLV: could not write the fit cache {entry} "
                          f"({_error(exc)})", RuntimeWarning, stacklevel=2)
    return _rows(per_customer, segment_list, notes, ok), fit


WARM_UP_CUSTOMERS = 200
"""Customers of the tiny fit that loads the models' compiled code (:func:`load_models`)."""


def load_models() -> None:
    """Fit both models once to a tiny simulated summary and discard the result: pytensor
    loads the models' compiled code (~4 s, once per process), so that a later fit in the
    same process pays only for fitting. A notebook kernel started early does this while
    the data is prepared (:func:`segreport.report.kernel.warm_up`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predictive_clv_kpis(simulate_summary(WARM_UP_CUSTOMERS))


def simulate_summary(n_customers: int, *, seed: int = SAMPLE_SEED,
                     params: dict[str, float] | None = None, max_age: int = 273,
                     segments: Sequence[str] = ("North", "South", "West")) -> pd.DataFrame:
    """A synthetic per-customer summary drawn from the BG/NBD and Gamma-Gamma models
    themselves, in days, for tests and benchmarks.

    ``params`` (r, alpha, a, b, p, q, v; alpha in days) default to Fader, Hardie & Lee's
    CDNOW estimates (alpha = 4.414 weeks × 7). Each customer: age T uniform in 1..``max_age``
    whole days; purchase rate λ ~ Gamma(r, α) and dropout probability p ~ Beta(a, b); N
    repeat purchases by a Poisson(λT) count, of which the customer lives through the first
    J ~ Geometric(p): frequency = min(N, J); recency = the frequency-th of N uniform purchase
    times, i.e. T × Beta(x, N − x + 1), floored to whole days; spend per purchase
    Gamma(p, ν) with ν ~ Gamma(q, v), so the mean of x purchases is Gamma(p·x, ν·x).
    Customers ``C00000000``, … in order; segments drawn uniformly from ``segments``.
    """
    values = {"r": 0.243, "alpha": 4.414 * 7, "a": 0.793, "b": 2.426,
              "p": 6.25, "q": 3.74, "v": 15.44} | dict(params or {})
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    age = rng.integers(1, max_age + 1, n).astype("float64")
    rate = rng.gamma(values["r"], 1.0 / values["alpha"], n)
    dropout = rng.beta(values["a"], values["b"], n)
    bought = rng.poisson(rate * age)
    lived = rng.geometric(dropout)
    frequency = np.minimum(bought, lived)
    repeat = frequency > 0
    recency = np.where(repeat, np.floor(age * rng.beta(np.maximum(frequency, 1),
                                                       np.maximum(bought - frequency + 1, 1))),
                       0.0)
    nu = rng.gamma(values["q"], 1.0 / values["v"], n)
    spend = rng.gamma(values["p"] * np.maximum(frequency, 1),
                      1.0 / (nu * np.maximum(frequency, 1)))
    width = max(8, len(str(max(n - 1, 0))))
    return pd.DataFrame({
        C.CUSTOMER_ID: [f"C{i:0{width}d}" for i in range(n)],
        FREQUENCY: frequency.astype("int64"),
        RECENCY: recency,
        AGE: age,
        MONETARY_VALUE: np.where(repeat, spend, 0.0),
        C.SEGMENT: np.asarray(segments, dtype=object)[rng.integers(0, len(segments), n)],
    })


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
