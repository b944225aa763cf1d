"""The voice KPIs of every segment and ``All`` assembled into one tidy frame."""
from __future__ import annotations

import pandas as pd

from segreport import columns as C
from segreport.kpis.frame import to_frame
from segreport.kpis.ids import VOICE_KPIS
from segreport.kpis.voice.responses import profile_columns, profile_complete, unit_responses
from segreport.kpis.voice.rows import (
    brand_equity_row,
    csat_row,
    csi_row,
    empty_row,
    insight_penetration_row,
    nps_change_row,
    nps_row,
)
from segreport.period import TRAILING_YEAR_DAYS
from segreport.segments import sorted_segments

_NO_SURVEYS = "no survey data"


def voice_kpis(facts: pd.DataFrame, surveys: pd.DataFrame | None,
               customers: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp,
               prev_start: pd.Timestamp, prev_end: pd.Timestamp) -> pd.DataFrame:
    """The survey KPIs per segment and for ``All``, as a tidy frame.

    Parameters
    ----------
    facts
        Output of :func:`segreport.data.facts.customer_facts` for the period (indexed by
        ``customer_id``; ``segment``, ``active_end`` are used).
    surveys
        ``customer_id, response_date, nps`` (0–10), ``csat`` (1–5) and optionally ``aware``
        (0/1), ``perceived_quality`` (1–5); validated. ``None`` or empty: every KPI is
        empty with the note "no survey data".
    customers
        The customers table (``customer_id`` and the profile columns present), or ``None``.
    start, end
        The period ``[start, end)``; responses dated in it count.
    prev_start, prev_end
        The previous period, for ``nps_change``.

    Returns
    -------
    DataFrame with columns ``kpi, segment, value, numerator, denominator, unit, band, note,
    ci_low, ci_high, small_sample``; for every segment of ``facts`` (sorted) and then
    ``All``, one row per KPI of :data:`VOICE_KPIS`:

    * ``csat`` responses with CSAT 4–5 / responses with a CSAT score × 100 (%), Wilson CI;
    * ``csi`` (mean CSAT − 1) / 4 × 100 (index 0–100), CI of the mean rescaled alike;
    * ``nps`` % promoters (9–10) − % detractors (0–6) (points), :func:`nps_interval`;
    * ``nps_change`` NPS − NPS of the previous period (points), :func:`nps_change_interval`;
    * ``brand_equity_index`` mean of awareness %, perceived quality rescaled to 0–100 and
      (NPS + 100) / 2, over the components available (index 0–100; note lists them);
    * ``customer_insight_penetration`` customers active at the end with a response in
      ``[end − 365 d, end)`` and every profile column filled / customers active at the end
      × 100 (%), Wilson CI.

    A KPI that cannot be computed (no responses, no active customers) has an empty value
    and a note saying why. ``small_sample`` flags fewer than 30 responses (customers).
    """
    segments = sorted_segments(facts[C.SEGMENT].unique())
    groups = [(s, facts[C.SEGMENT] == s) for s in segments]
    groups.append((C.ALL_SEGMENTS, pd.Series(True, index=facts.index)))

    if surveys is None or surveys.empty:
        return to_frame([empty_row(k, s, _NO_SURVEYS) for s, _ in groups
                         for k in VOICE_KPIS])

    current = unit_responses(surveys, facts, start, end)
    previous = unit_responses(surveys, facts, prev_start, prev_end)
    trailing = unit_responses(surveys, facts, end - pd.Timedelta(days=TRAILING_YEAR_DAYS), end)
    cols = profile_columns(customers)
    complete = profile_complete(customers, facts.index)

    rows = []
    for segment, member in groups:
        ids = facts.index[member.to_numpy()]
        now = current[current[C.CUSTOMER_ID].isin(ids)]
        before = previous[previous[C.CUSTOMER_ID].isin(ids)]
        active_end = facts.index[(member & facts[C.ACTIVE_END]).to_numpy()]
        responders = pd.Index(trailing.loc[trailing[C.CUSTOMER_ID].isin(ids), C.CUSTOMER_ID])
        rows += [
            csat_row(segment, now),
            csi_row(segment, now),
            nps_row(segment, now),
            nps_change_row(segment, now, before),
            brand_equity_row(segment, now),
            insight_penetration_row(segment, active_end, responders, complete, cols),
        ]
    return to_frame(rows)
