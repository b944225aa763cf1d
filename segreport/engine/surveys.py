"""The survey answers summed per business unit, segment and quarter, where the data lives."""
from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from segreport import columns as C
from segreport.engine.backend import EngineData, count_true
from segreport.engine.panel import QUARTER, Window, customer_base, quarter_of, sorted_rows


def survey_counts(data: EngineData, window: Window, segment_by: str = C.SEGMENT,
                  base: ir.Table | None = None) -> pd.DataFrame:
    """:data:`segreport.columns.SURVEY_COUNTS` per ``business_unit, segment,
    quarter_index`` for the quarters ``first − 1 .. last`` (the one before feeds NPS
    change), over responses of customers of the report (others are ignored)."""
    base = (customer_base(data, segment_by) if base is None else base).select(
        C.CUSTOMER_ID, C.SEGMENT, C.BUSINESS_UNIT)
    s = data.tables[C.SURVEYS]
    q = quarter_of(s[C.RESPONSE_DATE])
    s = s.filter((q >= window.first - 1) & (q <= window.last)).mutate(**{QUARTER: q})
    s = s.inner_join(base, C.CUSTOMER_ID)
    aware = s[C.AWARE] if C.AWARE in s.columns else None
    quality = s[C.PERCEIVED_QUALITY] if C.PERCEIVED_QUALITY in s.columns else None
    csat, nps = s[C.CSAT], s[C.NPS]
    agg = s.group_by([C.BUSINESS_UNIT, C.SEGMENT, QUARTER]).aggregate(
        responses=s.count(),
        csat_n=csat.count(),
        satisfied=count_true(csat >= 4),
        csat_sum=csat.sum(),
        csat_sumsq=(csat * csat).sum(),
        nps_n=nps.count(),
        promoters=count_true(nps >= 9),
        detractors=count_true(nps <= 6),
        aware_n=aware.count() if aware is not None else ibis.null("int64"),
        aware_sum=aware.sum() if aware is not None else ibis.null("float64"),
        quality_n=quality.count() if quality is not None else ibis.null("int64"),
        quality_sum=quality.sum() if quality is not None else ibis.null("float64"))
    out = sorted_rows(agg.execute(), [C.BUSINESS_UNIT, C.SEGMENT, QUARTER])
    for col in C.SURVEY_COUNTS:
        out[col] = out[col].astype("float64")
    return out


__all__ = ["survey_counts"]
