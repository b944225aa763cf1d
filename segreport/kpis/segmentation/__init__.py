"""Behavioural segmentation: RFM scores, k-means behaviour groups and segment migration.

* :mod:`~segreport.kpis.segmentation.rfm` — RFM scores and the named RFM segments;
* :mod:`~segreport.kpis.segmentation.clusters` — behaviour groups (k-means on R, F, M);
* :mod:`~segreport.kpis.segmentation.migration` — customers moving between segments;
* :mod:`~segreport.kpis.segmentation.rows` — the segmentation's tidy KPI rows.

Each module does one of these; this package gathers their public names.
"""
from segreport.kpis.ids import SEGMENT_COUNT, SEGMENT_SEPARATION
from segreport.kpis.segmentation.clusters import (
    DOMINANT_SEGMENT,
    DOMINANT_SHARE,
    FREQUENCY_MEAN,
    FREQUENCY_MEDIAN,
    GROUP,
    GROUP_NAME,
    KMEANS_SAMPLE,
    MONETARY_MEAN,
    MONETARY_MEDIAN,
    NAME_THRESHOLD,
    PROFILE_COLUMNS,
    RECENCY_MEAN,
    RECENCY_MEDIAN,
    SILHOUETTE_SAMPLE,
    ClusterResult,
    behaviour_clusters,
    behaviour_features,
)
from segreport.kpis.segmentation.migration import (
    NONE_LABEL,
    migration_shares,
    segment_migration,
)
from segreport.kpis.segmentation.rfm import (
    ABOUT_TO_SLEEP,
    AT_RISK,
    CANT_LOSE,
    CHAMPIONS,
    CUSTOMERS,
    F_SCORE,
    FREQUENCY,
    HIBERNATING,
    LOYAL,
    M_SCORE,
    MONETARY,
    NEED_ATTENTION,
    NEW_CUSTOMERS,
    POTENTIAL_LOYALISTS,
    PROMISING,
    R_SCORE,
    RECENCY_DAYS,
    RFM_COLUMNS,
    RFM_CONVENTION,
    RFM_GRID,
    RFM_SCORE,
    RFM_SEGMENT,
    RFM_SEGMENTS,
    SCORE_BINS,
    SHARE,
    ntile_scores,
    rfm_base,
    rfm_scores,
    rfm_segment_counts,
    rfm_segment_names,
)
from segreport.kpis.segmentation.rows import segmentation_kpis

__all__ = [
    "ABOUT_TO_SLEEP", "AT_RISK", "CANT_LOSE", "CHAMPIONS", "CUSTOMERS", "DOMINANT_SEGMENT",
    "DOMINANT_SHARE", "FREQUENCY", "FREQUENCY_MEAN", "FREQUENCY_MEDIAN", "F_SCORE", "GROUP",
    "GROUP_NAME", "HIBERNATING", "KMEANS_SAMPLE", "LOYAL", "MONETARY", "MONETARY_MEAN",
    "MONETARY_MEDIAN", "M_SCORE", "NAME_THRESHOLD", "NEED_ATTENTION", "NEW_CUSTOMERS",
    "NONE_LABEL", "POTENTIAL_LOYALISTS", "PROFILE_COLUMNS", "PROMISING", "RECENCY_DAYS",
    "RECENCY_MEAN", "RECENCY_MEDIAN", "RFM_COLUMNS", "RFM_CONVENTION", "RFM_GRID",
    "RFM_SCORE", "RFM_SEGMENT", "RFM_SEGMENTS", "R_SCORE", "SCORE_BINS", "SEGMENT_COUNT",
    "SEGMENT_SEPARATION", "SHARE", "SILHOUETTE_SAMPLE", "ClusterResult", "behaviour_clusters",
    "behaviour_features", "migration_shares", "ntile_scores", "rfm_base", "rfm_scores",
    "rfm_segment_counts", "rfm_segment_names", "segment_migration", "segmentation_kpis"
]
