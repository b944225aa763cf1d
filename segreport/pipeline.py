"""What the notebook shows, read from a prepared folder (see :mod:`segreport.prepared`).

:func:`load_quarter` reads one unit and quarter back into a
:class:`segreport.kpis.quarter.Quarter` for the notebook; it scans no orders. A notebook
opened on its own (in JupyterLab) calls :func:`load_report`, which prepares a folder itself
when it is given none.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from segreport import columns as C
from segreport.cache import cache_dir
from segreport.kpis.quarter import COHORT_QUARTERS
from segreport.kpis.segment_by import segment_names
from segreport.kpis.targets import with_targets
from segreport.palette import segment_colors
from segreport.period import Period
from segreport.prepared.build import HISTORY_QUARTERS, check_request, prepare
from segreport.prepared.cached import prepare_cached
from segreport.prepared.folder import (
    COHORT_SIZES_FILE,
    COHORTS_FILE,
    INFO_FILE,
    PANEL_FILE,
    REFERENCE_DIR,
    Prepared,
    behaviour_file,
    facts_file,
    purchases_file,
    read_info,
)


def _read_unit(path: Path, unit: str, **kwargs) -> pd.DataFrame:
    frame = pd.read_parquet(path, **kwargs)
    return frame if not unit else frame[frame[C.BUSINESS_UNIT] == unit]


def load_quarter(folder: str | Path, period: str, business_unit: str = "",
                 segment_by: str = C.SEGMENT, predictive: bool = True,
                 clv_horizon_months: int = 12, clv_discount_rate: float = 0.10,
                 targets: dict | None = None):
    """Everything the notebook shows for one quarter and unit, read from a prepared folder.

    Returns a :class:`segreport.kpis.quarter.Quarter` whose ``kpis`` hold last quarter's
    values in ``previous_value`` and whose ``history`` holds the unit's KPI panel (every
    quarter of the window; :func:`window_quarters` are those a report shows). Both have
    ``target`` and ``status`` (:func:`segreport.kpis.targets.with_targets`; the same
    ``targets`` for every quarter).
    """
    from segreport.kpis import ids
    from segreport.kpis.panel import quarter_kpis_from_panel
    from segreport.kpis.quarter import (
        Quarter,
        behaviour_of,
        missing_for,
        predicted_clv_of,
        with_previous,
    )
    from segreport.kpis.segmentation import segmentation_kpis

    folder = Path(folder)
    info, meta = read_info(folder)
    p = Period.parse(period)
    if meta["reference"]:
        return _load_reference(folder, info, p, business_unit, segment_by, predictive,
                               clv_horizon_months, clv_discount_rate, targets)
    panel = pd.read_parquet(folder / PANEL_FILE)
    history = panel[panel[C.BUSINESS_UNIT] == business_unit].reset_index(drop=True)
    kpis = quarter_kpis_from_panel(panel, p.label, business_unit)
    facts, prev_facts, cohorts, cohort_sizes = _behaviour_inputs(folder, p, business_unit)
    behave = _behaviour_kept(folder, p, business_unit,
                             lambda: behaviour_of(facts, prev_facts, p, cohorts, cohort_sizes))
    frames = [kpis, with_previous(segmentation_kpis(behave.clusters), None)]
    fit = None
    if predictive:
        summary = _read_unit(folder / purchases_file(p.label), business_unit)
        predicted, fit = predicted_clv_of(summary, facts, clv_horizon_months, clv_discount_rate,
                                          cache_dir("clv"))
        frames.append(with_previous(predicted, None))
    kpis = with_targets(pd.concat(frames, ignore_index=True), targets, business_unit)
    all_ids = list(dict.fromkeys(list(ids.BASE_KPIS) + list(ids.VALUE_KPIS) + list(ids.VOICE_KPIS)))
    q = Quarter(p, business_unit, facts, prev_facts, kpis, behave, missing_for(info, all_ids),
                segment_colors(segment_names(info, segment_by)), fit)
    q.history, q.info = with_targets(history, targets, business_unit), info
    return q


def window_quarters(period: str) -> list[str]:
    """The quarters a report of ``period`` shows: the :data:`HISTORY_QUARTERS` before it
    (the same quarter a year earlier among them) and ``period`` itself, oldest first.

    Examples
    --------
    >>> window_quarters("2026Q3")[0], window_quarters("2026Q3")[-1], len(window_quarters("2026Q3"))
    ('2024Q3', '2026Q3', 9)
    """
    last = Period.parse(period)
    return [last.shifted(-n).label for n in range(HISTORY_QUARTERS, -1, -1)]


def fit_predicted_clv(summary_file: str | Path, business_unit: str = "",
                      clv_horizon_months: int = 12, clv_discount_rate: float = 0.10) -> bool:
    """Fit the predictive-CLV models to ``business_unit``'s customers in the purchase
    summary ``summary_file`` (every unit, as the prepared folder holds it) and keep the fit
    in the fit cache, where :func:`load_quarter` then finds it (the fingerprint is that of
    the same customers and settings; segments are not in it). Returns whether a fit is
    now kept: a failed fit is not, and the report tries it again."""
    from segreport.kpis.predictive_clv import predictive_clv_kpis

    summary = _read_unit(Path(summary_file), business_unit)
    _, fit = predictive_clv_kpis(summary, clv_horizon_months, clv_discount_rate,
                                 cache_dir=cache_dir("clv"))
    return fit.ok


def _behaviour_inputs(folder: Path, p: Period, business_unit: str):
    """What the behaviour groups of ``business_unit`` in ``p`` are computed from, read from
    ``folder``: the customer facts at the end of ``p`` and of the quarter before (None when
    the folder has none), the cohort retention and the cohort sizes."""
    from segreport.data.quarterly import cohort_retention_from_counts

    facts = _read_unit(folder / facts_file(p.label), business_unit)
    prev_path = folder / facts_file(p.previous().label)
    prev_facts = _read_unit(prev_path, business_unit) if prev_path.exists() else None
    cells = _read_unit(folder / COHORTS_FILE, business_unit)
    sizes = _read_unit(folder / COHORT_SIZES_FILE, business_unit)
    cells, sizes = cells[cells["period"] == p.label], sizes[sizes["period"] == p.label]
    cohorts, cohort_sizes = cohort_retention_from_counts(cells, sizes, p.label, COHORT_QUARTERS)
    return facts, prev_facts, cohorts, cohort_sizes


def behaviour_files(period: str) -> list[str]:
    """The files of a prepared folder the behaviour groups of ``period`` are computed from
    (:func:`_behaviour_inputs`)."""
    p = Period.parse(period)
    return [facts_file(p.label), facts_file(p.previous().label), COHORTS_FILE,
            COHORT_SIZES_FILE]


_EARLY: dict[str, bytes] = {}
"""Behaviour groups computed ahead of the report in this process (:func:`keep_behaviour_early`),
pickled, by :func:`_behaviour_key`; each is taken by the first report that asks for it."""


def _behaviour_key(folder: Path, p: Period, business_unit: str) -> str:
    """SHA-256 of the quarter, the unit and the bytes of :func:`behaviour_files` in
    ``folder`` (an absent one counts as empty): equal keys, equal behaviour groups."""
    import hashlib

    digest = hashlib.sha256(json.dumps([p.label, business_unit]).encode())
    for name in behaviour_files(p.label):
        digest.update(name.encode())
        path = folder / name
        digest.update(path.read_bytes() if path.exists() else b"\0absent")
    return digest.hexdigest()


def keep_behaviour_early(folder: str | Path, period: str, business_unit: str = "") -> None:
    """Compute the behaviour groups of ``business_unit`` in ``period`` from ``folder`` (a
    prepared folder, or a copy of its :func:`behaviour_files`) and keep them in this
    process, where the report's :func:`load_quarter` takes them instead of computing them:
    a notebook kernel started early does this while the KPI panel is being prepared."""
    import pickle

    folder, p = Path(folder), Period.parse(period)
    _EARLY[_behaviour_key(folder, p, business_unit)] = pickle.dumps(
        _behaviour_from(folder, p, business_unit), protocol=pickle.HIGHEST_PROTOCOL)


def keep_behaviour(folder: str | Path, period: str, business_unit: str = "") -> None:
    """Compute the behaviour groups of ``business_unit`` in ``period`` and keep them in the
    prepared ``folder`` (unless kept there already), where every report of them reads them:
    ``segreport run`` does this while the notebook's kernel is still busy with its fit."""
    folder, p = Path(folder), Period.parse(period)
    _behaviour_kept(folder, p, business_unit, lambda: _behaviour_from(folder, p, business_unit))


def _behaviour_from(folder: Path, p: Period, business_unit: str):
    from segreport.kpis.quarter import behaviour_of

    facts, prev_facts, cohorts, cohort_sizes = _behaviour_inputs(folder, p, business_unit)
    return behaviour_of(facts, prev_facts, p, cohorts, cohort_sizes)


def _behaviour_kept(folder: Path, p: Period, business_unit: str, make):
    """``make()`` (RFM, behaviour groups, migration: seconds on a large unit) once per
    prepared folder, quarter and unit; later reports of it read the kept result. The
    folder is the cache of its data, settings and code, so what is kept cannot be stale.
    Groups computed ahead for the same inputs (:func:`keep_behaviour_early`) are taken
    instead of ``make()``."""
    import pickle

    from segreport.files import write_file_atomic

    path = folder / behaviour_file(p.label, business_unit)
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    kept = _EARLY.pop(_behaviour_key(folder, p, business_unit), None) if _EARLY else None
    if kept is None:
        kept = pickle.dumps(make(), protocol=pickle.HIGHEST_PROTOCOL)
    try:
        write_file_atomic(path, kept, 0o600)
    except OSError:  # a read-only prepared folder: the report is made all the same
        pass
    # what later reports will read: the same values laid out the same way, so their charts
    # are found in the chart cache
    return pickle.loads(kept)


def _load_reference(folder: Path, info, p: Period, business_unit: str,
                    segment_by: str, predictive: bool, horizon: int, rate: float,
                    targets: dict | None = None):
    from segreport.data.cache import read_validated
    from segreport.kpis.quarter import build_quarter

    ds = read_validated(folder / REFERENCE_DIR)
    q = build_quarter(ds, p.label, business_unit, segment_by=segment_by, predictive=predictive,
                      clv_horizon_months=horizon, clv_discount_rate=rate, targets=targets)
    q.history, q.info = pd.DataFrame(), info
    return q


def load_report(data_dir: str, period: str, business_unit: str = "", columns: dict | None = None,
                data_source: str = "", tables: dict | None = None,
                password_env: str = "SEGREPORT_DB_PASSWORD", active_window_days: int = 365,
                segment_by: str = C.SEGMENT, gross_margin_pct: float = 30.0,
                predictive_clv: bool = True, clv_horizon_months: int = 12,
                clv_discount_rate: float = 0.10, prepared_data: str = "",
                max_unknown_customer_pct: float | None = 1.0, engine: str = "duckdb",
                spark_master: str = "local[*]", targets: dict | None = None):
    """The notebook's one call: :func:`load_quarter` from ``prepared_data`` (as ``segreport
    run`` and ``batch`` pass it), else from a folder prepared here and now (JupyterLab),
    on ``engine``."""
    folder = Path(prepared_data) if prepared_data else None
    if folder is None or not (folder / INFO_FILE).is_file():
        folder = prepare_cached(data_source or data_dir, [period], business_unit,
                                targets=targets, columns=columns, tables=tables,
                                password_env=password_env,
                                active_window_days=active_window_days, segment_by=segment_by,
                                gross_margin_pct=gross_margin_pct,
                                max_unknown_customer_pct=max_unknown_customer_pct,
                                engine=engine, spark_master=spark_master).folder
    return load_quarter(folder, period, business_unit, segment_by, predictive_clv,
                        clv_horizon_months, clv_discount_rate, targets)


__all__ = ["HISTORY_QUARTERS", "Prepared", "behaviour_files", "check_request",
           "fit_predicted_clv", "keep_behaviour", "keep_behaviour_early", "load_quarter",
           "load_report", "prepare", "read_info", "window_quarters"]
