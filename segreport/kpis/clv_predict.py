"""Predictions of fitted BG/NBD and Gamma-Gamma models, in chunks of customers so that
memory stays flat."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from segreport import columns as C
from segreport.data.rfm_summary import AGE, FREQUENCY, MONETARY_VALUE, RECENCY


def scalar(posterior, name: str) -> float:
    return float(np.asarray(posterior[name].values).reshape(-1)[0])


def first_draw(values) -> np.ndarray:
    """Per-customer values of a MAP prediction (chain and draw have length 1)."""
    arr = values.transpose(..., C.CUSTOMER_ID)
    return np.asarray(arr.values, dtype="float64").reshape(-1, arr.sizes[C.CUSTOMER_ID])[0]


def chunks(n: int, size: int) -> Iterable[slice]:
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


def predict_purchases(bg, data: pd.DataFrame, future_t: float, chunk: int) -> np.ndarray:
    columns = [C.CUSTOMER_ID, FREQUENCY, RECENCY, AGE]
    return np.concatenate([
        first_draw(bg.expected_purchases(data=data.iloc[part][columns], future_t=future_t))
        for part in chunks(len(data), chunk)])


def predict_value(gg, bg, data: pd.DataFrame, horizon_months: int, monthly_discount: float,
                   time_unit: str, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """Expected spend per purchase day and discounted CLV of every customer of ``data``."""
    spend, clv = [], []
    for part in chunks(len(data), chunk):
        # a repeat customer whose refunds outweigh the orders has a mean repeat spend ≤ 0,
        # outside the Gamma-Gamma model: predict with an observed mean of 0
        piece = data.iloc[part]
        piece = piece.assign(**{MONETARY_VALUE: piece[MONETARY_VALUE].clip(lower=0.0)})
        spend.append(first_draw(gg.expected_customer_spend(data=piece)))
        clv.append(first_draw(gg.expected_customer_lifetime_value(
            transaction_model=bg, data=piece.copy(), future_t=horizon_months,
            discount_rate=monthly_discount, time_unit=time_unit)))
    return np.concatenate(spend), np.concatenate(clv)
