"""The segmentation charts under the name the notebook imports: see
:mod:`segreport.charts.segmentation`."""
from __future__ import annotations

from segreport.charts.segmentation import (
    cluster_profile_chart,
    cohort_heatmap,
    migration_heatmap,
    rfm_chart,
)

__all__ = ["rfm_chart", "cluster_profile_chart", "migration_heatmap", "cohort_heatmap"]
