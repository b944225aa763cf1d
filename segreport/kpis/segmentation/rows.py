"""The behaviour segmentation as tidy KPI rows: how many groups, how well separated."""
from __future__ import annotations

import math

import pandas as pd

from segreport import columns as C
from segreport.kpis.frame import kpi_row, to_frame
from segreport.kpis.ids import SEGMENT_COUNT, SEGMENT_SEPARATION, SEGMENTATION_KPIS
from segreport.kpis.segmentation.clusters import ClusterResult
from segreport.kpis.spec import units
from segreport.kpis.stats import is_small

UNITS = units(SEGMENTATION_KPIS)
"""The unit of each segmentation KPI, as written in the ``unit`` column (from its spec)."""


def segmentation_kpis(result: ClusterResult, segment_label: str = C.ALL_SEGMENTS) -> pd.DataFrame:
    """Tidy KPI rows of a behaviour segmentation.

    * ``segment_count`` — the chosen number of groups k (unit ``segments``); 3–5 distinct
      groups is the usual target;
    * ``segment_separation`` — the silhouette score of the chosen k (unit
      ``silhouette (-1..1)``): the mean over customers of ``(b − a) / max(a, b)``, ``a`` the
      mean distance to the own group, ``b`` to the nearest other group, in the
      standardised feature space; above ~0.5 well separated, below ~0.25 weak.

    Both are empty (NaN) with the reason in ``note`` when the result is empty; both carry
    ``small_sample`` when fewer than 30 customers were clustered.
    """
    n = result.n_customers
    small = is_small(n)
    if result.empty:
        note = f"not defined: {result.reason}"
        return to_frame([
            kpi_row(SEGMENT_COUNT, segment_label, math.nan, UNITS[SEGMENT_COUNT], note=note,
                    small_sample=small, defined=False),
            kpi_row(SEGMENT_SEPARATION, segment_label, math.nan, UNITS[SEGMENT_SEPARATION], note=note,
                    small_sample=small, defined=False),
        ])
    tried = ", ".join(f"{k}: {s:.2f}" for k, s in sorted(result.silhouettes.items()))
    return to_frame([
        kpi_row(SEGMENT_COUNT, segment_label, result.k, UNITS[SEGMENT_COUNT], numerator=result.k,
                denominator=n,
                note=f"k-means on recency, frequency and monetary value of {n:,} customers; "
                     f"k chosen by silhouette ({tried})",
                small_sample=small),
        kpi_row(SEGMENT_SEPARATION, segment_label, result.silhouette, UNITS[SEGMENT_SEPARATION],
                denominator=result.sample_size,
                note=f"silhouette of k = {result.k} on a sample of {result.sample_size:,} "
                     f"of {n:,} customers",
                small_sample=small),
    ])
