"""Voice-of-the-customer KPIs from survey answers: satisfaction, NPS, brand equity, insight.

Notation for one segment (or ``All``, the whole unit) and the period ``P = [start, end)``:
``R`` is the set of survey responses dated in ``P`` whose customer is in the unit's facts
(responses of other customers belong to another business unit and are ignored). Each
response counts once, so a customer who answered twice weighs twice. A response belongs to
the segment its customer has in ``facts`` (the current period's segment, also for the
previous period's responses). ``All`` is computed from all responses and customers exactly
as a segment is, never from segment values.

NPS scores are 0–10: promoters answer 9–10, passives 7–8, detractors 0–6. CSAT scores are
1–5 and a response is *satisfied* with a 4 or 5. Intervals are two-sided 95 % intervals in
the KPI's own unit; ``small_sample`` flags a base of fewer than 30 responses (customers for
insight penetration).

The package's modules: :mod:`~segreport.kpis.voice.scores` (the scales, the NPS and its
intervals), :mod:`~segreport.kpis.voice.responses` (a unit's responses, complete profiles,
the sums of a set of responses), :mod:`~segreport.kpis.voice.rows` (one formula per KPI)
and :mod:`~segreport.kpis.voice.assemble` (the tidy frame); this module re-exports their
public names.
"""
from segreport.kpis.ids import (
    BRAND_EQUITY_INDEX,
    CSAT,
    CSI,
    CUSTOMER_INSIGHT_PENETRATION,
    NPS,
    NPS_CHANGE,
    VOICE_KPIS,
)
from segreport.kpis.voice.assemble import voice_kpis
from segreport.kpis.voice.responses import (
    profile_columns,
    profile_complete,
    survey_counts,
    unit_responses,
)
from segreport.kpis.voice.rows import (
    AWARENESS,
    NPS_COMPONENT,
    PERCEIVED_QUALITY_COMPONENT,
    UNITS,
    brand_equity_components,
    brand_equity_components_from_counts,
    brand_equity_row,
    brand_equity_row_from_counts,
    csat_row,
    csat_row_from_counts,
    csi_row,
    csi_row_from_counts,
    insight_penetration_from_counts,
    insight_penetration_row,
    nps_change_row,
    nps_change_row_from_counts,
    nps_row,
    nps_row_from_counts,
)
from segreport.kpis.voice.scores import (
    DETRACTOR_MAX,
    PROMOTER_MIN,
    SATISFIED_MIN,
    csi_interval,
    nps_change_interval,
    nps_counts,
    nps_interval,
    nps_value,
    nps_variance,
    rescale_1_to_5,
)

__all__ = ["voice_kpis", "VOICE_KPIS", "CSAT", "CSI", "NPS", "NPS_CHANGE", "BRAND_EQUITY_INDEX",
           "CUSTOMER_INSIGHT_PENETRATION", "UNITS", "PROMOTER_MIN", "DETRACTOR_MAX",
           "SATISFIED_MIN", "AWARENESS", "PERCEIVED_QUALITY_COMPONENT", "NPS_COMPONENT",
           "nps_interval", "nps_variance", "nps_value", "nps_counts", "nps_change_interval",
           "csi_interval", "rescale_1_to_5", "brand_equity_components",
           "brand_equity_components_from_counts", "profile_columns", "profile_complete",
           "unit_responses", "survey_counts", "csat_row", "csat_row_from_counts", "csi_row",
           "csi_row_from_counts", "nps_row", "nps_row_from_counts", "nps_change_row",
           "nps_change_row_from_counts", "brand_equity_row", "brand_equity_row_from_counts",
           "insight_penetration_row", "insight_penetration_from_counts"]
