"""The sample's quarter tables (spend, market size, segmentation costs) and surveys."""
from __future__ import annotations

import numpy as np
import pandas as pd

from segreport import columns as col
from segreport.sample.model import (
    _BU_CAC,
    _BU_RETENTION,
    _BU_SEGMENTATION_COST,
    _DAYS_PER_YEAR,
    _INFLATION,
    _REFERENCE_CUSTOMERS,
    _SEG_AWARE,
    _SEG_CAC,
    _SEG_MARKET_GROWTH,
    _SEG_MARKET_MULT,
    _SEG_NPS,
    _SEG_NPS_TREND,
    _SEG_QUALITY,
    _SEG_RETENTION,
    _SURVEY_PROB,
    BUSINESS_UNITS,
    SEGMENTS,
    _Calendar,
    _ids,
)


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


def _marketing_spend(rng: np.random.Generator, cal: _Calendar, new: np.ndarray,
                     active: np.ndarray) -> pd.DataFrame:
    """Spend from the new and active customers per (quarter, segment, business unit)."""
    cac = _SEG_CAC[None, :, None] * _BU_CAC[None, None, :]
    keep = _SEG_RETENTION[None, :, None] * _BU_RETENTION[None, None, :]
    q4 = np.where(cal.q_of_year == 3, 1.15, 1.0)[:, None, None]
    acquisition = cac * (new + 1) * q4 * np.exp(rng.normal(0.0, 0.12, new.shape))
    retention = keep * (active + 1) * q4 * np.exp(rng.normal(0.0, 0.08, new.shape))
    return pd.DataFrame({**_cells(cal),
                         col.ACQUISITION_SPEND: np.round(acquisition, 2).ravel(),
                         col.RETENTION_SPEND: np.round(retention, 2).ravel()})


def _market_size(rng: np.random.Generator, cal: _Calendar, active: np.ndarray) -> pd.DataFrame:
    """Addressable customers from the active customers per (quarter, segment, unit)."""
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


def _surveys(rng: np.random.Generator, cal: _Calendar, cust: dict[str, np.ndarray],
             width: int) -> pd.DataFrame:
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
        col.CUSTOMER_ID: _ids("C", cust["number"][who], width),
        col.RESPONSE_DATE: cal.dates(day),
        col.NPS: nps,
        col.CSAT: csat,
        col.AWARE: aware,
        col.PERCEIVED_QUALITY: quality,
    })
