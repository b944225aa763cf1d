"""The sample's customers: signup, business unit, segment, churn and profile."""
from __future__ import annotations

import numpy as np
import pandas as pd

from segreport import columns as col
from segreport.sample.model import (
    _AGE,
    _BU_CHANNEL_P,
    _BU_CHURN_SCALE,
    _BU_REGION_P,
    _CHANNEL,
    _CHANNELS,
    _CHURN_SHAPE,
    _DAYS_PER_YEAR,
    _GENDER,
    _GENDER_P,
    _GENDERS,
    _INCOME,
    _MISSING_RATE,
    _OPENING_BASE_SHARE,
    _REGION,
    _REGIONS,
    _SEG_AGE,
    _SEG_CHURN_SCALE,
    _SEG_INCOME,
    BUSINESS_UNITS,
    SEGMENTS,
    _Calendar,
    _draw,
    _ids,
    _Model,
)


def _simulate_customers(rngs: dict[str, np.random.Generator], model: _Model, cal: _Calendar,
                        n: int, first_number: int) -> dict[str, np.ndarray]:
    """Signup day, business unit, segment and latent churn day of ``n`` customers.

    Customers are returned in signup order and numbered in that order from
    ``first_number`` on (their ids).
    """
    rng = rngs["customers"]
    n_base = int(round(_OPENING_BASE_SHARE * n))
    n_new = n - n_base
    pick = rng.choice(model.signup_p.size, size=n_new, p=model.signup_p)
    bu_new, seg_new, day_new = np.unravel_index(pick, model.signup_shape)

    pick = rng.choice(model.opening_p.size, size=n_base, p=model.opening_p)
    bu_base, seg_base, since = np.unravel_index(pick, model.opening_shape)
    day_base = -model.tenure[since]

    bu = np.concatenate([bu_base, bu_new])
    seg = np.concatenate([seg_base, seg_new])
    signup = np.concatenate([day_base, day_new]).astype(np.int64)
    order = np.lexsort((rng.random(n), signup))
    bu, seg, signup = bu[order], seg[order], signup[order]

    # latent churn: Weibull, conditioned on surviving to ``start`` for the opening base
    rng = rngs["churn"]
    scale = _SEG_CHURN_SCALE[seg] * _BU_CHURN_SCALE[bu] * _DAYS_PER_YEAR
    survived = np.maximum(-signup, 0) / scale
    life = scale * (survived ** _CHURN_SHAPE + rng.exponential(1.0, n)) ** (1 / _CHURN_SHAPE)
    churn = signup + np.ceil(life).astype(np.int64)
    churn = np.maximum(churn, np.maximum(signup, 0) + 1)

    first = np.maximum(signup, 0)                      # first active day in the window
    stop = np.minimum(churn, cal.n_days)               # one past the last active day
    return {"bu": bu, "seg": seg, "signup": signup, "churn": churn,
            "first": first, "stop": stop,
            "number": np.arange(first_number, first_number + n, dtype=np.int64)}


def _customers_frame(rng: np.random.Generator, cal: _Calendar, cust: dict[str, np.ndarray],
                     subscription: bool, width: int) -> pd.DataFrame:
    seg, bu = cust["seg"], cust["bu"]
    n = len(seg)
    age = np.clip(np.rint(rng.normal(_SEG_AGE[seg, 0], _SEG_AGE[seg, 1])), 18, 85)
    income = np.round(_SEG_INCOME[seg] * np.exp(rng.normal(0.0, 0.35, n)), -2)
    gender = np.asarray(_GENDERS, dtype=object)[_draw(rng, _GENDER_P, np.zeros(n, int))]
    region = np.asarray(_REGIONS, dtype=object)[_draw(rng, _BU_REGION_P, bu)]
    channel = np.asarray(_CHANNELS, dtype=object)[_draw(rng, _BU_CHANNEL_P, bu)]

    frame = {
        col.CUSTOMER_ID: _ids("C", cust["number"], width),
        col.SIGNUP_DATE: cal.dates(cust["signup"]),
        col.SEGMENT: pd.Series(np.asarray(SEGMENTS)[seg], dtype="str"),
        col.BUSINESS_UNIT: pd.Series(np.asarray(BUSINESS_UNITS)[bu], dtype="str"),
    }
    if subscription:
        churn = cal.dates(cust["churn"])
        churn[cust["churn"] >= cal.n_days] = np.datetime64("NaT")
        frame[col.CHURN_DATE] = churn
    profile = {
        _AGE: pd.array(age.astype(np.int64), dtype="Int64"),
        _GENDER: pd.array(gender, dtype="str"),
        _INCOME: income,
        _REGION: pd.array(region, dtype="str"),
        _CHANNEL: pd.array(channel, dtype="str"),
    }
    for name in col.PROFILE_COLUMNS:
        values = pd.Series(profile[name])
        values[rng.random(n) < _MISSING_RATE[name]] = None
        frame[name] = values
    return pd.DataFrame(frame)
