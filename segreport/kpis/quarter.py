"""One quarter of one unit assembled per customer: facts → every KPI family, the
behavioural segmentation and the predicted CLV (:func:`build_quarter`).

The per-customer path, on a dataset in memory: it serves ``segment_by: rfm`` (cut per
customer at each quarter's end) and is the reference the engine's panel is compared
with. The families stay independent, pure and separately tested.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from segreport import columns as C
from segreport.data.dataset import Dataset
from segreport.data.facts import period_facts, select_business_unit
from segreport.errors import ConfigError
from segreport.kpis import ids
from segreport.kpis.base import base_kpis
from segreport.kpis.segment_by import check_targets_in, resegment, segment_names
from segreport.kpis.spec import missing_inputs
from segreport.kpis.value import value_kpis
from segreport.kpis.voice import voice_kpis
from segreport.palette import segment_colors
from segreport.period import Period
from segreport.segments import sorted_segments


def unit_facts(dataset: Dataset, period: Period, business_unit: str = "", active_window_days: int = 365,
               segment_by: str = C.SEGMENT) -> pd.DataFrame:
    """Per-customer facts of one unit for ``period``, segmented by ``segment_by``."""
    facts = period_facts(dataset, period, business_unit, active_window_days)
    return resegment(facts, dataset, segment_by, period.end)


def previous_facts(dataset: Dataset, period: Period, business_unit: str = "", active_window_days: int = 365,
                   segment_by: str = C.SEGMENT) -> pd.DataFrame | None:
    """Facts of the quarter before ``period``; ``None`` when the orders do not reach it."""
    try:
        return unit_facts(dataset, period.previous(), business_unit, active_window_days, segment_by)
    except ConfigError:
        return None


def report_kpis(facts: pd.DataFrame, prev_facts: pd.DataFrame | None, dataset: Dataset,
                period: Period, business_unit: str = "", gross_margin_pct: float = 30.0) -> pd.DataFrame:
    """Base, value and voice KPIs of one period in one tidy frame."""
    prev = period.previous()
    frames = [
        base_kpis(facts),
        value_kpis(facts, prev_facts, dataset.tables, period.label, business_unit, gross_margin_pct),
    ]
    if dataset.tables.get(C.SURVEYS) is not None:
        frames.append(voice_kpis(facts, dataset.tables[C.SURVEYS], dataset.customers, period.start,
                                 period.end, prev.start, prev.end))
    return pd.concat([f for f in frames if len(f)], ignore_index=True)


def with_previous(kpis: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """``kpis`` with a ``previous_value`` column: the same KPI and segment last quarter."""
    out = kpis.copy()
    if previous is None or previous.empty:
        out[C.PREVIOUS_VALUE] = math.nan
        return out
    prev = previous.set_index([C.KPI, C.SEGMENT])[C.VALUE]
    keys = pd.MultiIndex.from_frame(out[[C.KPI, C.SEGMENT]])
    out[C.PREVIOUS_VALUE] = prev.reindex(keys).to_numpy()
    return out


def quarter_kpis(dataset: Dataset, period: Period, business_unit: str = "",
                 active_window_days: int = 365, segment_by: str = C.SEGMENT,
                 gross_margin_pct: float = 30.0
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """The facts, the KPIs (with last quarter's values beside) and last quarter's facts."""
    facts = unit_facts(dataset, period, business_unit, active_window_days, segment_by)
    prev_facts = previous_facts(dataset, period, business_unit, active_window_days, segment_by)
    kpis = report_kpis(facts, prev_facts, dataset, period, business_unit, gross_margin_pct)
    previous = None
    if prev_facts is not None:
        before = previous_facts(dataset, period.previous(), business_unit, active_window_days, segment_by)
        previous = report_kpis(prev_facts, before, dataset, period.previous(), business_unit,
                               gross_margin_pct)
    return facts, with_previous(kpis, previous), prev_facts


def missing_for(dataset: Dataset, kpi_ids) -> dict[str, str]:
    """KPI → what input would enable it, for the KPIs whose optional table is absent
    (:func:`segreport.kpis.spec.missing_inputs`)."""
    return missing_inputs(dataset.tables, kpi_ids)


COHORT_QUARTERS = 8
"""Cohort heatmap: quarters since acquisition shown (0..8) and cohorts shown (the last 12)."""
COHORTS_SHOWN = 12


@dataclass
class Behaviour:
    """Behavioural segmentation of one unit at the period end (see
    :mod:`segreport.kpis.segmentation`): RFM scores, behaviour groups, the RFM migration
    since last quarter, and cohort retention."""

    rfm: pd.DataFrame
    clusters: object
    migration: pd.DataFrame
    migration_shares: pd.DataFrame
    cohorts: pd.DataFrame
    cohort_sizes: pd.Series


def behaviour(dataset: Dataset, facts: pd.DataFrame, prev_facts: pd.DataFrame | None,
              period: Period, business_unit: str = "") -> Behaviour:
    """RFM, behaviour clusters, RFM migration and the cohort retention of the unit."""
    from segreport.data.quarterly import (
        cohort_retention,
        cohort_sizes,
        customer_quarters,
    )

    orders, customers = select_business_unit(dataset, business_unit)
    quarters = customer_quarters(orders, customers)
    first = Period.parse(period.label)
    for _ in range(COHORTS_SHOWN - 1):
        first = first.previous()
    cohorts = cohort_retention(quarters, facts[C.ACQUIRED_AT], period.label, COHORT_QUARTERS,
                               first_quarter=first.label)
    sizes = cohort_sizes(facts[C.ACQUIRED_AT], period.label, first_quarter=first.label)
    return behaviour_of(facts, prev_facts, period, cohorts, sizes)


def behaviour_of(facts: pd.DataFrame, prev_facts: pd.DataFrame | None, period: Period,
                 cohorts: pd.DataFrame, sizes: pd.Series) -> Behaviour:
    """RFM, behaviour clusters and RFM migration of ``facts``, beside the given cohorts."""
    from segreport.kpis import segmentation as S

    rfm = S.rfm_scores(facts, period.end)
    clusters = S.behaviour_clusters(facts, period.end)
    now = rfm[S.RFM_SEGMENT]  # ordered categoricals: the matrix keeps the best-first order
    before = (S.rfm_scores(prev_facts, period.previous().end)[S.RFM_SEGMENT]
              if prev_facts is not None else now.iloc[:0])
    matrix = S.segment_migration(before, now)
    return Behaviour(rfm, clusters, matrix, S.migration_shares(matrix), cohorts, sizes)


@dataclass
class Quarter:
    """Everything the notebook shows for one period and unit."""

    period: Period
    business_unit: str
    facts: pd.DataFrame
    prev_facts: pd.DataFrame | None
    kpis: pd.DataFrame
    behaviour: Behaviour
    missing: dict[str, str]
    colors: dict[str, str]
    clv_fit: object = None
    history: pd.DataFrame | None = None
    """The unit's KPI panel: every KPI, segment and quarter of the window."""
    info: object = None
    """The dataset's :class:`segreport.data.read.DatasetInfo`."""


def predicted_clv(dataset: Dataset, facts: pd.DataFrame, period: Period, business_unit: str = "",
                  horizon_months: int = 12, annual_discount_rate: float = 0.10):
    """Predictive CLV (BG/NBD + Gamma-Gamma, pymc-marketing) per segment of ``facts``.

    Purchase histories up to the period end; each customer in the segment ``facts`` gives
    it. Returns the tidy frame and the fit information.
    """
    from segreport.data.rfm_summary import clv_summary

    orders, customers = select_business_unit(dataset, business_unit)
    return predicted_clv_of(clv_summary(orders, period.end, customers), facts, horizon_months,
                            annual_discount_rate)


def predicted_clv_of(summary: pd.DataFrame, facts: pd.DataFrame, horizon_months: int = 12,
                     annual_discount_rate: float = 0.10, cache_dir=None):
    """Predictive CLV per segment of ``facts`` from the purchase summary of its customers;
    a fit whose inputs are unchanged is read from ``cache_dir`` (``None``: no cache)."""
    from segreport.kpis.predictive_clv import predictive_clv_kpis

    summary = summary.copy()
    summary[C.SEGMENT] = facts[C.SEGMENT].reindex(summary[C.CUSTOMER_ID]).fillna(C.UNASSIGNED).to_numpy()
    segments = sorted_segments(facts[C.SEGMENT].unique())
    return predictive_clv_kpis(summary, horizon_months, annual_discount_rate, segments=segments,
                               cache_dir=cache_dir)


def build_quarter(dataset: Dataset, period: str, business_unit: str = "", active_window_days: int = 365,
                  segment_by: str = C.SEGMENT, gross_margin_pct: float = 30.0,
                  predictive: bool = True, clv_horizon_months: int = 12,
                  clv_discount_rate: float = 0.10, targets: dict | None = None) -> Quarter:
    """Facts, every KPI (with last quarter beside, and its target and status under
    ``targets``), the behavioural segmentation and, when ``predictive``, the predicted CLV."""
    from segreport.kpis.segmentation import segmentation_kpis
    from segreport.kpis.targets import with_targets

    p = Period.parse(period)
    info = dataset.info()
    check_targets_in(info, targets, segment_by)
    facts, kpis, prev_facts = quarter_kpis(dataset, p, business_unit, active_window_days, segment_by,
                                           gross_margin_pct)
    behave = behaviour(dataset, facts, prev_facts, p, business_unit)
    frames = [kpis, with_previous(segmentation_kpis(behave.clusters), None)]
    fit = None
    if predictive:
        predicted, fit = predicted_clv(dataset, facts, p, business_unit, clv_horizon_months,
                                       clv_discount_rate)
        frames.append(with_previous(predicted, None))
    kpis = with_targets(pd.concat(frames, ignore_index=True), targets, business_unit)
    all_ids = list(dict.fromkeys(list(ids.BASE_KPIS) + list(ids.VALUE_KPIS) + list(ids.VOICE_KPIS)))
    return Quarter(p, business_unit, facts, prev_facts, kpis, behave, missing_for(dataset, all_ids),
                   segment_colors(segment_names(info, segment_by)), fit)
