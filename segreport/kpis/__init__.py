"""KPI families: pure functions, per-customer facts in, tidy KPI frame out."""
from segreport.kpis.base import base_kpis, segment_totals

__all__ = ["base_kpis", "segment_totals"]
