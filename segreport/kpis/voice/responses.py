"""The survey responses and customer profiles the voice KPIs count: a unit's responses
in a period, whose profile is complete, and the sums per set of responses."""
from __future__ import annotations

import math

import pandas as pd

from segreport import columns as C
from segreport.kpis.voice.scores import SATISFIED_MIN, nps_counts


def profile_columns(customers: pd.DataFrame | None) -> list[str]:
    """The columns of :data:`segreport.columns.PROFILE_COLUMNS` present in ``customers``."""
    if customers is None:
        return []
    return [c for c in C.PROFILE_COLUMNS if c in customers]


def profile_complete(customers: pd.DataFrame | None, index: pd.Index) -> pd.Series:
    """Per customer of ``index``: True when every profile column of ``customers`` is filled.

    A value is missing when it is NaN/None or blank text. A customer absent from
    ``customers`` has no profile (False). With no profile column at all every customer
    counts as complete (the condition is vacuous).
    """
    cols = profile_columns(customers)
    if not cols:
        return pd.Series(True, index=index)
    profile = customers.drop_duplicates(C.CUSTOMER_ID).set_index(C.CUSTOMER_ID)[cols]
    filled = profile.notna()
    for c in cols:
        if profile[c].dtype == object or pd.api.types.is_string_dtype(profile[c]):
            filled[c] &= profile[c].astype("string").str.strip().fillna("") != ""
    return filled.all(axis=1).reindex(index, fill_value=False).astype(bool)


def unit_responses(surveys: pd.DataFrame | None, facts: pd.DataFrame, start: pd.Timestamp,
                   end: pd.Timestamp) -> pd.DataFrame:
    """Responses dated in ``[start, end)`` of customers in ``facts``, with their ``segment``.

    Responses of customers not in ``facts`` (another business unit) are dropped. The
    input frames are not modified.
    """
    if surveys is None or surveys.empty:
        return pd.DataFrame(columns=[C.CUSTOMER_ID, C.RESPONSE_DATE, C.NPS, C.CSAT, C.SEGMENT])
    dates = surveys[C.RESPONSE_DATE]
    keep = (dates >= start) & (dates < end) & surveys[C.CUSTOMER_ID].isin(facts.index)
    out = surveys[keep].copy()
    out[C.SEGMENT] = out[C.CUSTOMER_ID].map(facts[C.SEGMENT])
    return out


def survey_counts(responses: pd.DataFrame) -> dict[str, float]:
    """:data:`segreport.columns.SURVEY_COUNTS` of a set of responses: ``responses`` rows;
    ``csat_n`` CSAT answers, ``satisfied`` those of 4–5, ``csat_sum`` and ``csat_sumsq`` their sum and sum
    of squares; ``nps_n`` NPS answers, ``promoters`` (9–10), ``detractors`` (0–6);
    ``aware_n``/``aware_sum`` and ``quality_n``/``quality_sum`` the answers and sums of
    the optional columns (``aware_n`` is NaN when the column is absent)."""
    csat = responses[C.CSAT].dropna() if C.CSAT in responses else pd.Series(dtype="float64")
    promoters, detractors, n_nps = nps_counts(responses[C.NPS] if C.NPS in responses else [])
    out = {"responses": len(responses), "csat_n": len(csat),
           "satisfied": int((csat >= SATISFIED_MIN).sum()), "csat_sum": float(csat.sum()),
           "csat_sumsq": float((csat ** 2).sum()), "nps_n": n_nps, "promoters": promoters,
           "detractors": detractors}
    for col, key in ((C.AWARE, "aware"), (C.PERCEIVED_QUALITY, "quality")):
        values = responses[col].dropna() if col in responses else None
        out[f"{key}_n"] = math.nan if values is None else len(values)
        out[f"{key}_sum"] = math.nan if values is None else float(values.sum())
    return out
