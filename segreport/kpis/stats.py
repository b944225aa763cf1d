"""Uncertainty of KPIs that are proportions or means of a sample.

All intervals are two-sided 95 % intervals, returned in the KPI's own unit.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054
SMALL_BASE = 30
"""Fewer observations than this and a KPI is flagged as resting on a small sample."""


def is_small(n: float) -> bool:
    """True when a base of ``n`` observations is too small to trust (``n < 30``)."""
    return n < SMALL_BASE


def wilson_interval(successes: float, n: float, scale: float = 100.0) -> tuple[float, float]:
    """Wilson score interval of the proportion ``successes / n``, times ``scale``.

    ``(nan, nan)`` when ``n`` is 0.
    """
    if n <= 0:
        return math.nan, math.nan
    p = successes / n
    z2 = Z95 ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half) * scale, min(1.0, centre + half) * scale


def mean_interval(values: Sequence[float], scale: float = 1.0) -> tuple[float, float]:
    """Normal-approximation interval of the mean: mean ± 1.96 × s / √n (sample s.d.).

    ``(nan, nan)`` with fewer than 2 values.
    """
    n = len(values)
    if n < 2:
        return math.nan, math.nan
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = Z95 * math.sqrt(var / n)
    return (mean - half) * scale, (mean + half) * scale


def excludes_zero(low: float, high: float) -> bool:
    """True when the interval lies wholly above or wholly below 0 (a real rise or fall)."""
    return not (math.isnan(low) or math.isnan(high)) and (low > 0 or high < 0)
