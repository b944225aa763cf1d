"""A prepared folder computed from the source: :func:`prepare` opens and checks the source
in the engine, builds the customer × quarter panel for every quarter of the window and every
business unit in one pass, and writes what every report of the run reads (see
:mod:`segreport.prepared.folder`).

``segment_by: rfm`` re-cuts every KPI by each customer's RFM segment at each quarter's end;
that cut is made per customer (:func:`segreport.kpis.quarter.build_quarter`), so for it
the folder keeps the checked tables instead.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from segreport import columns as C
from segreport.data.dataset import DatasetInfo
from segreport.data.quarterly import parse_quarter
from segreport.errors import ConfigError, DataError
from segreport.kpis.quarter import COHORT_QUARTERS, COHORTS_SHOWN
from segreport.kpis.segment_by import RFM, check_segment_by, check_targets_in
from segreport.period import Period
from segreport.prepared.folder import (
    COHORT_SIZES_FILE,
    COHORTS_FILE,
    PANEL_FILE,
    REFERENCE_DIR,
    Prepared,
    facts_file,
    period_labels,
    purchases_file,
    write_info,
)

MATERIALIZE_ROWS = 30_000_000
"""Up to this many order rows the checked orders are copied into the engine's memory once,
since several queries scan them; above it each query reads the source again."""
HISTORY_QUARTERS = 8
"""Quarters shown before the reported one (the same quarter a year earlier among them)."""


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
            spark_master: str = "local[*]", targets: dict | None = None,
            on_purchases: Callable[[str, pd.DataFrame], None] | None = None,
            on_facts: Callable[[str, Path], None] | None = None) -> Prepared:
    """Check the source and write everything the reports of ``periods`` need to ``folder``.

    ``targets`` (the params' ``targets:``) are checked against the data's segments and
    units before any work; they change no number, so nothing of them is written.

    ``on_purchases(period, summary)`` is called with each period's purchase summary (every
    unit) as soon as it is computed, before the KPI panel: what needs only the summary
    (the predictive-CLV fit) can start while the rest is prepared. ``on_facts(period,
    folder)`` is called for each period once its customer facts (and those of the quarter
    before) and its cohort counts are in ``folder``, before the KPI panel: what needs only
    those (the behaviour groups) can start too.

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
                        gross_margin_pct, targets, on_purchases, on_facts)
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
             gross_margin_pct, targets=None, on_purchases=None, on_facts=None) -> Prepared:
    from segreport.engine import panel as P
    from segreport.engine.backend import materialize
    from segreport.engine.purchases import purchase_summary
    from segreport.engine.surveys import survey_counts
    from segreport.kpis.panel import kpi_panel

    orders = data.tables[C.ORDERS]
    span = orders.aggregate(lo=orders[C.ORDER_DATE].min(), hi=orders[C.ORDER_DATE].max()).execute()
    first_order, last_order = pd.Timestamp(span["lo"].iloc[0]), pd.Timestamp(span["hi"].iloc[0])
    periods = period_labels(periods)
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
    # where it is), without the order ids no later query reads (a quarter of the memory).
    if data.backend != "postgres" and data.rows.get(C.ORDERS, 0) <= MATERIALIZE_ROWS:
        for name in (C.ORDERS, C.CUSTOMERS):
            if name in data.tables:
                table = data.tables[name]
                if C.ORDER_ID in table.columns:
                    table = table.drop(C.ORDER_ID)
                data.tables[name] = materialize(data, table, f"checked_{name}")
    history = materialize(data, P.customer_with_history(data, window, segment_by), "history")
    for label in periods:
        summary = purchase_summary(data, Period.parse(label).end, segment_by, history)
        summary.to_parquet(folder / purchases_file(label), index=False)
        if on_purchases is not None:
            on_purchases(label, summary)
        del summary
    panel = P.panel(data, window, active_window_days, segment_by, wide=history)
    if data.backend == "pyspark":  # a union of a projection per quarter, planned per query
        panel = materialize(data, panel, "panel")
    # The per-customer frames first: what is computed from them alone (the behaviour groups)
    # can start while the KPI panel is computed.
    _write_customer_frames(folder, data, panel, window, periods, reported)
    if on_facts is not None:
        for label in periods:
            on_facts(label, folder)
    sums = P.segment_totals(panel, C.MARGIN in data.columns_of(C.ORDERS))
    survey = (survey_counts(data, window, segment_by, history) if C.SURVEYS in data.tables
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

    write_info(folder, info, periods, first_data, span)
    return Prepared(folder, info, periods)


def _write_customer_frames(folder: Path, data, panel, window, periods: list[str],
                           reported: list[int]) -> None:
    """The customer facts at the end of each reported quarter and of the one before, and
    each reported quarter's cohort counts."""
    from segreport.engine import panel as P
    from segreport.engine.backend import materialize

    cells, sizes = [], []
    wanted = sorted({q for r in reported for q in (r, r - 1) if q >= window.first})
    year = materialize(data, P.trailing_year(data, wanted), "trailing_year")
    for quarter in wanted:
        P.customer_facts_at(panel, year, quarter).to_parquet(
            folder / facts_file(Period.from_index(quarter).label))
    for label, q in zip(periods, reported):
        c, s = P.cohort_counts(panel, q, COHORT_QUARTERS, q - COHORTS_SHOWN + 1)
        cells.append(c.assign(period=label))
        sizes.append(s.assign(period=label))
    pd.concat(cells).to_parquet(folder / COHORTS_FILE, index=False)
    pd.concat(sizes).to_parquet(folder / COHORT_SIZES_FILE, index=False)


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
    from segreport.engine.backend import fetched

    frames = {name: fetched(t) for name, t in data.tables.items()} | dict(data.small)
    for frame in frames.values():
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col]):
                frame[col] = frame[col].astype("datetime64[ns]")
            elif pd.api.types.is_string_dtype(frame[col]):
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    ds = Dataset(Path(data.info.data_dir), frames, {k: Path(v) for k, v in data.info.files.items()},
                 list(data.info.quality), data.info.column_names)
    write_validated(ds, folder / REFERENCE_DIR)
    write_info(folder, data.info, periods, 0, span, reference=True)
    return Prepared(folder, data.info, periods)
