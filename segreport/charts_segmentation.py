"""The segmentation charts under the name the notebook imports: see
:mod:`segreport.charts.segmentation`."""
from __future__ import annotations

from segreport.charts.segmentation import (
    cluster_profile_chart,
    cohort_heatmap,
    migration_heatmap,
    rfm_chart,
)

__all__ = ["cluster_profile_chart", "cohort_heatmap", "migration_heatmap", "rfm_chart"]
