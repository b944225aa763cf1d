"""The survey scales and the statistics of their scores: NPS (0–10) promoters and
detractors, the NPS and its variance and intervals, CSAT (1–5) rescaled to 0–100."""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import pandas as pd

from segreport.kpis.stats import Z95, mean_interval

PROMOTER_MIN = 9  # NPS 9–10
DETRACTOR_MAX = 6  # NPS 0–6
SATISFIED_MIN = 4  # CSAT 4–5


def rescale_1_to_5(score: float) -> float:
    """A score on the 1–5 scale mapped onto 0–100: ``(score − 1) / 4 × 100``.

    1 → 0, 3 → 50, 4 → 75, 5 → 100.
    """
    return (score - 1.0) / 4.0 * 100.0


def nps_counts(scores: Iterable[float]) -> tuple[int, int, int]:
    """``(promoters, detractors, n)`` of NPS answers (0–10); missing answers are skipped.

    Promoters answer 9–10, detractors 0–6; ``n`` counts every answer, passives included.
    """
    s = pd.Series(list(scores), dtype="float64").dropna()
    return int((s >= PROMOTER_MIN).sum()), int((s <= DETRACTOR_MAX).sum()), int(len(s))


def nps_value(promoters: float, detractors: float, n: float) -> float:
    """Net Promoter Score in points (−100..100): ``(promoters − detractors) / n × 100``.

    NaN when ``n`` is 0.
    """
    if n <= 0:
        return math.nan
    return (promoters - detractors) / n * 100.0


def nps_variance(promoters: float, detractors: float, n: float) -> float:
    """Variance of the NPS *as a fraction* (−1..1), from the multinomial distribution.

    With ``p⁺ = promoters / n`` and ``p⁻ = detractors / n``::

        var = [p⁺ + p⁻ − (p⁺ − p⁻)²] / n

    (the variance of one answer scored +1 / 0 / −1, divided by ``n``). NaN when ``n`` is 0.
    Multiply ``√var`` by 100 to get points.
    """
    if n <= 0:
        return math.nan
    pp, pd_ = promoters / n, detractors / n
    return (pp + pd_ - (pp - pd_) ** 2) / n


def nps_interval(promoters: float, detractors: float, n: float) -> tuple[float, float]:
    """95 % interval of the NPS, in points (Wald interval, multinomial variance).

    ``nps ± 1.96 × √var × 100`` with ``var`` from :func:`nps_variance` (1.96 is
    :data:`segreport.kpis.stats.Z95`), clipped to the scale's range −100..100.
    ``(nan, nan)`` when ``n`` is 0.

    Examples
    --------
    10 answers, 5 promoters and 2 detractors: NPS = 30; var = (0.5 + 0.2 − 0.3²) / 10 =
    0.061; half-width = 1.96 × √0.061 × 100 ≈ 48.4, so about (−18.4, 78.4).
    """
    if n <= 0:
        return math.nan, math.nan
    nps = nps_value(promoters, detractors, n)
    half = Z95 * math.sqrt(nps_variance(promoters, detractors, n)) * 100.0
    return max(-100.0, nps - half), min(100.0, nps + half)


def nps_change_interval(current: tuple[float, float, float],
                        previous: tuple[float, float, float]) -> tuple[float, float]:
    """95 % interval of ``NPS(current) − NPS(previous)`` in points, for independent samples.

    ``current`` and ``previous`` are ``(promoters, detractors, n)``. The change ± 1.96 ×
    √(var₁ + var₂) × 100, with each ``var`` from :func:`nps_variance`, clipped to
    −200..200. ``(nan, nan)`` when either ``n`` is 0.
    """
    if current[2] <= 0 or previous[2] <= 0:
        return math.nan, math.nan
    change = nps_value(*current) - nps_value(*previous)
    half = Z95 * math.sqrt(nps_variance(*current) + nps_variance(*previous)) * 100.0
    return max(-200.0, change - half), min(200.0, change + half)


def csi_interval(scores: Sequence[float]) -> tuple[float, float]:
    """95 % interval of the CSI: the interval of the mean CSAT (mean ± 1.96 × s / √n),
    both ends rescaled with :func:`rescale_1_to_5` and clipped to 0..100.

    ``(nan, nan)`` with fewer than 2 scores.
    """
    low, high = mean_interval(list(scores))
    if math.isnan(low):
        return math.nan, math.nan
    return max(0.0, rescale_1_to_5(low)), min(100.0, rescale_1_to_5(high))
