"""From a source to what the notebook shows: computed once, read by every report.

:func:`prepare` opens and checks the source in the engine, builds the customer × quarter
panel for every quarter of the window and every business unit in one pass, and writes to a
folder (Parquet and JSON):

* ``kpi_panel.parquet`` — every KPI × segment × unit × quarter: each reported quarter,
  the 8 before it (so the same quarter a year earlier too) and the one before those, with
  ``previous_value``;
* ``facts_<quarter>.parquet`` — per-customer facts of each reported quarter and of the one
  before it (RFM, behaviour groups, migration);
* ``cohorts.parquet``, ``cohort_sizes.parquet`` — acquisition-cohort counts;
* ``purchases_<quarter>.parquet`` — the purchase summary of BG/NBD and Gamma-Gamma;
* ``info.json`` — tables, columns, data-quality notes, segments and units.

:func:`load_quarter` reads one unit and quarter back into a :class:`segreport.kpis.report.Quarter`
for the notebook; it scans no orders. A notebook opened on its own (in JupyterLab) calls
:func:`load_report`, which prepares a folder itself when it is given none.

``segment_by: rfm`` re-cuts every KPI by each customer's RFM segment at each quarter's
end; that cut is made per customer, by the reference functions of
:mod:`segreport.kpis.report`, on the checked data in memory.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from segreport import columns as C
from segreport.cache import cache_dir
from segreport.data.quarterly import parse_quarter, quarter_label
from segreport.data.dataset import DatasetInfo
from segreport.errors import ConfigError, DataError
from segreport.kpis.report import RFM, check_segment_by, check_targets_in, segment_names
from segreport.kpis.targets import with_targets
from segreport.period import Period

PANEL_FILE = "kpi_panel.parquet"
INFO_FILE = "info.json"
COHORTS_FILE = "cohorts.parquet"
COHORT_SIZES_FILE = "cohort_sizes.parquet"
REFERENCE_DIR = "checked"
MATERIALIZE_ROWS = 30_000_000
"""Up to this many order rows the checked orders are copied into the engine's memory once,
since several queries scan them; above it each query reads the source again."""
HISTORY_QUARTERS = 8
"""Quarters shown before the reported one (the same quarter a year earlier among them)."""
COHORT_QUARTERS = 8
COHORTS_SHOWN = 12


def facts_file(quarter: str) -> str:
    return f"facts_{quarter}.parquet"


def purchases_file(quarter: str) -> str:
    return f"purchases_{quarter}.parquet"


@dataclass
class Prepared:
    """What :func:`prepare` wrote: the folder and the dataset's description."""

    folder: Path
    info: DatasetInfo
    periods: list[str] = field(default_factory=list)


def check_request(info: DatasetInfo, first_order, last_order, periods: list[str],
                  business_unit: str = "", segment_by: str = C.SEGMENT,
                  targets: dict | None = None) -> None:
    """Reject a period the orders do not reach, an unknown business unit or segment_by,
    with the messages of the reference checks, and targets naming a segment or unit the
    data does not have."""
    from segreport.data.facts import (
        check_period_reached,
        no_customers_for_unit,
        unit_not_found,
    )

    for label in periods:
        check_period_reached(Period.parse(label), first_order, last_order,
                             info.file_of(C.ORDERS))
    if business_unit:
        if C.CUSTOMERS not in info.tables:
            raise no_customers_for_unit(business_unit, info.data_dir)
        if business_unit not in info.units:
            raise unit_not_found(business_unit, info.user_column(C.CUSTOMERS, C.BUSINESS_UNIT),
                                 info.file_of(C.CUSTOMERS), info.units)
    check_segment_by(info, segment_by)
    check_targets_in(info, targets, segment_by)


def prepare(folder: str | Path, data_source: str | Path, periods: list[str],
            business_unit: str = "", columns: dict | None = None, tables: dict | None = None,
            password_env: str = "SEGREPORT_DB_PASSWORD", active_window_days: int = 365,
            segment_by: str = C.SEGMENT, gross_margin_pct: float = 30.0,
            max_unknown_customer_pct: float | None = None, engine: str = "duckdb",
            spark_master: str = "local[*]", targets: dict | None = None) -> Prepared:
    """Check the source and write everything the reports of ``periods`` need to ``folder``.

    ``targets`` (the params' ``targets:``) are checked against the data's segments and
    units before any work; they change no number, so nothing of them is written.

    ``engine`` (``duckdb`` or ``pyspark``) and ``spark_master`` say where a folder of files
    is computed; a PostgreSQL ``data_source`` is computed in PostgreSQL (see
    :func:`segreport.engine.tables.open_engine`).

    Raises
    ------
    DataError, ConfigError
        bad input, with the message naming file, column and values (nothing is written).
    EngineError
        the engine failed (out of memory, a file it could not read or write, a lost
        database connection), with what to do.
    """
    from segreport.engine import open_engine
    from segreport.engine.backend import engine_failure

    data = open_engine(data_source, columns, tables, password_env, engine, spark_master,
                       max_unknown_customer_pct=max_unknown_customer_pct)
    try:
        return _prepare(folder, data, periods, business_unit, active_window_days, segment_by,
                        gross_margin_pct, targets)
    except (DataError, ConfigError):
        raise
    except Exception as exc:
        failure = engine_failure(exc, data.con, data.info.data_dir)
        if failure is None:
            raise
        raise failure from exc
    finally:
        data.close()


def _prepare(folder, data, periods, business_unit, active_window_days, segment_by,
             gross_margin_pct, targets=None) -> Prepared:
    from segreport.engine import panel as P
    from segreport.engine.backend import materialize
    from segreport.kpis.panel import kpi_panel

    orders = data.tables[C.ORDERS]
    span = orders.aggregate(lo=orders[C.ORDER_DATE].min(), hi=orders[C.ORDER_DATE].max()).execute()
    first_order, last_order = pd.Timestamp(span["lo"].iloc[0]), pd.Timestamp(span["hi"].iloc[0])
    periods = sorted({Period.parse(p).label for p in periods})
    check_request(data.info, first_order, last_order, periods, business_unit, segment_by,
                  targets)
    check_orders_in(data, periods, first_order, last_order)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    span = {"first_order": str(first_order), "last_order": str(last_order)}
    if segment_by == RFM:
        return _prepare_reference(folder, data, periods, span)

    reported = [parse_quarter(p) for p in periods]
    first_data = parse_quarter(first_order)
    first = max(first_data, min(reported) - HISTORY_QUARTERS - 1)
    window = P.Window(min(first - 1, min(reported) - COHORTS_SHOWN + 1), max(reported))
    # Several scans follow: the files are read and typed once (a database table is read
    # where it is).
    if data.backend != "postgres" and data.rows.get(C.ORDERS, 0) <= MATERIALIZE_ROWS:
        for name in (C.ORDERS, C.CUSTOMERS):
            if name in data.tables:
                data.tables[name] = materialize(data, data.tables[name], f"checked_{name}")
    history = materialize(data, P.customer_with_history(data, window, segment_by), "history")
    panel = P.panel(data, window, active_window_days, segment_by, wide=history)
    if data.backend == "pyspark":  # a union of a projection per quarter, planned per query
        panel = materialize(data, panel, "panel")
    sums = P.segment_totals(panel, C.MARGIN in data.columns_of(C.ORDERS))
    survey = (P.survey_counts(data, window, segment_by, history) if C.SURVEYS in data.tables
              else None)
    info = data.info
    units = [""] + list(info.units)
    segments = {u: sorted(map(str, (sums if not u else sums[sums[C.BUSINESS_UNIT] == u])[C.SEGMENT]
                              .unique())) for u in units}
    has_profile = any(c in data.columns_of(C.CUSTOMERS) for c in C.PROFILE_COLUMNS) \
        or C.CUSTOMERS not in data.tables
    kpis = kpi_panel(sums, survey, data.small, list(range(first, window.last + 1)), units,
                     segments, gross_margin_pct, has_profile, first_data)
    kpis.to_parquet(folder / PANEL_FILE, index=False)

    cells, sizes = [], []
    wanted = sorted({q for r in reported for q in (r, r - 1) if q >= window.first})
    year = materialize(data, P.trailing_year(data, wanted), "trailing_year")
    for quarter in wanted:
        P.customer_facts_at(panel, year, quarter).to_parquet(
            folder / facts_file(P.quarter_labels([quarter])[0]))
    for label, q in zip(periods, reported):
        c, s = P.cohort_counts(panel, q, COHORT_QUARTERS, q - COHORTS_SHOWN + 1)
        cells.append(c.assign(period=label))
        sizes.append(s.assign(period=label))
        P.purchase_summary(data, Period.parse(label).end, segment_by, history).to_parquet(
            folder / purchases_file(label), index=False)
    pd.concat(cells).to_parquet(folder / COHORTS_FILE, index=False)
    pd.concat(sizes).to_parquet(folder / COHORT_SIZES_FILE, index=False)
    _write_info(folder, info, periods, first_data, span)
    return Prepared(folder, info, periods)


def cache_root() -> Path:
    """Where prepared folders are kept between runs: ``$SEGREPORT_CACHE_DIR/prepared``, by
    default ``~/.cache/segreport/prepared`` (owner-only); model fits go beside it, in
    ``clv``."""
    return cache_dir("prepared")


def source_fingerprint(data_source: str | Path, **settings) -> str | None:
    """What a prepared folder depends on: the source files (name, size, modification time),
    the settings and the package's computing code. ``None`` for a database, which has no
    files to look at (it is prepared afresh each time)."""
    from segreport.secret_params import is_url

    text = str(data_source)
    path = Path(text)
    if is_url(text) or not path.exists():
        return None
    files = [path] if path.is_file() else sorted(
        p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for f in files:
        st = f.stat()
        h.update(f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    package = Path(__file__).parent
    for f in sorted(package.rglob("*.py")):
        if "report" not in f.relative_to(package).parts[:1]:
            h.update(f.read_bytes())
    return h.hexdigest()[:32]


def prepare_cached(data_source: str | Path, periods: list[str], business_unit: str = "",
                   keep: int = 6, targets: dict | None = None, **settings) -> Prepared:
    """:func:`prepare`, or the folder it wrote before for the same source files, settings
    and code (see :func:`source_fingerprint`). New folders are written under a temporary
    name and renamed into place; the ``keep`` most recent are kept. Every business unit is
    prepared, so the folder serves the report of any unit; the period, unit,
    ``segment_by`` and the names in ``targets`` are checked against the data each time."""
    periods = _period_labels(periods)
    fingerprint = _prepared_key(data_source, periods, settings)
    root = cache_root()
    if fingerprint is None:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder = Path(tempfile.mkdtemp(prefix="uncached-", dir=root))
        try:
            prepared = prepare(folder, data_source, periods, business_unit, targets=targets,
                               **settings)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        _evict(root, keep)
        return prepared
    final = root / fingerprint
    if (final / INFO_FILE).is_file():
        info, meta = read_info(final)
        check_request(info, pd.Timestamp(meta["first_order"]), pd.Timestamp(meta["last_order"]),
                      periods, business_unit, settings.get("segment_by", C.SEGMENT), targets)
        os.utime(final)
        return Prepared(final, info, meta["periods"])
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    work = Path(tempfile.mkdtemp(prefix=".new-", dir=root))
    try:
        prepared = prepare(work, data_source, periods, business_unit, targets=targets,
                           **settings)
        os.replace(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _evict(root, keep)
    return Prepared(final, prepared.info, prepared.periods)


def is_prepared(data_source: str | Path, periods: list[str], **settings) -> bool:
    """Whether :func:`prepare_cached` would read a folder prepared before (without
    reading anything but the source files' names, sizes and times)."""
    key = _prepared_key(data_source, _period_labels(periods), settings)
    return key is not None and (cache_root() / key / INFO_FILE).is_file()


def _period_labels(periods: list[str]) -> list[str]:
    """The quarters a prepared folder is for, as sorted unique labels (its key's part)."""
    return sorted({Period.parse(p).label for p in periods})


def _prepared_key(data_source: str | Path, periods: list[str], settings: dict) -> str | None:
    return source_fingerprint(data_source, periods=periods, **_settings(**settings))


def _settings(columns: dict | None = None, tables: dict | None = None,
              password_env: str = "SEGREPORT_DB_PASSWORD", active_window_days: int = 365,
              segment_by: str = C.SEGMENT, gross_margin_pct: float = 30.0,
              max_unknown_customer_pct: float | None = None, engine: str = "duckdb",
              spark_master: str = "local[*]") -> dict:
    """:func:`prepare`'s settings with every default filled in (one fingerprint whichever
    way they were given)."""
    return {"columns": columns or {}, "tables": tables or {}, "password_env": password_env,
            "active_window_days": int(active_window_days), "segment_by": segment_by,
            "gross_margin_pct": float(gross_margin_pct),
            "max_unknown_customer_pct": max_unknown_customer_pct, "engine": engine,
            "spark_master": spark_master}


def _evict(root: Path, keep: int) -> None:
    folders = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime,
                     reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def _write_info(folder: Path, info: DatasetInfo, periods: list[str], first_data: int,
                span: dict, reference: bool = False) -> None:
    payload = {"info": info.to_json(), "periods": periods, "first_data_quarter": first_data,
               "reference": reference, **span}
    (folder / INFO_FILE).write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")


def check_orders_in(data, periods: list[str], first_order, last_order) -> None:
    """Refuse a reported quarter in which no order (amount > 0) is dated: its report would
    be all zeros (e.g. a gap in an export)."""
    orders = data.tables[C.ORDERS]
    for label in periods:
        p = Period.parse(label)
        dates = orders[C.ORDER_DATE]
        inside = (dates >= p.start.to_pydatetime()) & (dates < p.end.to_pydatetime()) \
            & (orders[C.AMOUNT] > 0)
        if int(orders.filter(inside).count().execute()) == 0:
            raise ConfigError(
                f"period {p}: no order is dated in it in {data.info.file_of(C.ORDERS)} (the "
                f"orders run from {first_order:%Y-%m-%d} to {last_order:%Y-%m-%d}, with a "
                "gap here); choose a quarter with orders, or check the export")


def _prepare_reference(folder: Path, data, periods: list[str], span: dict) -> Prepared:
    """For ``segment_by: rfm``: the checked tables, for the per-customer reference path."""
    from segreport.data.cache import write_validated
    from segreport.data.dataset import Dataset

    frames = {name: t.execute() for name, t in data.tables.items()} | dict(data.small)
    for frame in frames.values():
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col]):
                frame[col] = frame[col].astype("datetime64[ns]")
            elif pd.api.types.is_string_dtype(frame[col]):
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    ds = Dataset(Path(data.info.data_dir), frames, {k: Path(v) for k, v in data.info.files.items()},
                 list(data.info.quality), data.info.column_names)
    write_validated(ds, folder / REFERENCE_DIR)
    _write_info(folder, data.info, periods, 0, span, reference=True)
    return Prepared(folder, data.info, periods)


def read_info(folder: str | Path) -> tuple[DatasetInfo, dict]:
    payload = json.loads((Path(folder) / INFO_FILE).read_text(encoding="utf-8"))
    return DatasetInfo.from_json(payload["info"]), payload


def _read_unit(path: Path, unit: str, **kwargs) -> pd.DataFrame:
    frame = pd.read_parquet(path, **kwargs)
    return frame if not unit else frame[frame[C.BUSINESS_UNIT] == unit]


def load_quarter(folder: str | Path, period: str, business_unit: str = "",
                 segment_by: str = C.SEGMENT, predictive: bool = True,
                 clv_horizon_months: int = 12, clv_discount_rate: float = 0.10,
                 targets: dict | None = None):
    """Everything the notebook shows for one quarter and unit, read from a prepared folder.

    Returns a :class:`segreport.kpis.report.Quarter` whose ``kpis`` hold last quarter's
    values in ``previous_value`` and whose ``history`` holds the unit's KPI panel (every
    quarter of the window; :func:`window_quarters` are those a report shows). Both have
    ``target`` and ``status`` (:func:`segreport.kpis.targets.with_targets`; the same
    ``targets`` for every quarter).
    """
    from segreport.charts import segment_colors
    from segreport.data.quarterly import cohort_retention_from_counts
    from segreport.kpis import ids
    from segreport.kpis.panel import quarter_kpis_from_panel
    from segreport.kpis.report import (
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
    facts = _read_unit(folder / facts_file(p.label), business_unit)
    prev_path = folder / facts_file(p.previous().label)
    prev_facts = _read_unit(prev_path, business_unit) if prev_path.exists() else None
    cells = _read_unit(folder / COHORTS_FILE, business_unit)
    sizes = _read_unit(folder / COHORT_SIZES_FILE, business_unit)
    cells, sizes = cells[cells["period"] == p.label], sizes[sizes["period"] == p.label]
    cohorts, cohort_sizes = cohort_retention_from_counts(cells, sizes, p.label, COHORT_QUARTERS)
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
    last = parse_quarter(period)
    return list(quarter_label(range(last - HISTORY_QUARTERS, last + 1)))


_KEPT = "kept_"


def behaviour_file(period: str, business_unit: str) -> str:
    """Where a prepared folder keeps a unit's behaviour groups of ``period`` once made."""
    unit = hashlib.sha256(business_unit.encode("utf-8")).hexdigest()[:16]
    return f"{_KEPT}behaviour_{period}_{unit}.pickle"


def prepared_files(folder: str | Path) -> list[Path]:
    """The files :func:`prepare` wrote to ``folder`` (not what reports kept there since:
    it is derived from them), sorted."""
    return sorted(p for p in Path(folder).rglob("*")
                  if p.is_file() and not p.name.startswith((_KEPT, ".")))


def _behaviour_kept(folder: Path, p: Period, business_unit: str, make):
    """``make()`` (RFM, behaviour groups, migration: seconds on a large unit) once per
    prepared folder, quarter and unit; later reports of it read the kept result. The
    folder is the cache of its data, settings and code, so what is kept cannot be stale."""
    import pickle

    from segreport.files import write_file_atomic

    path = folder / behaviour_file(p.label, business_unit)
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    kept = pickle.dumps(make(), protocol=pickle.HIGHEST_PROTOCOL)
    try:
        write_file_atomic(path, kept, 0o600)
    except OSError:  # a read-only prepared folder: the report is made all the same
        pass
    # what later reports will read: the same values laid out the same way, so their charts
    # are found in the chart cache
    return pickle.loads(kept)


def _load_reference(folder: Path, info: DatasetInfo, p: Period, business_unit: str,
                    segment_by: str, predictive: bool, horizon: int, rate: float,
                    targets: dict | None = None):
    from segreport.data.cache import read_validated
    from segreport.kpis.report import build_quarter

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


__all__ = ["HISTORY_QUARTERS", "Prepared", "check_request", "load_quarter", "load_report",
           "prepare", "read_info", "window_quarters"]
