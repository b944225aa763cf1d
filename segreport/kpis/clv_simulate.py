"""A synthetic purchase summary drawn from the BG/NBD and Gamma-Gamma models themselves,
for tests, benchmarks and the tiny fit that loads the models."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from segreport import columns as C
from segreport.data.rfm_summary import AGE, FREQUENCY, MONETARY_VALUE, RECENCY
from segreport.kpis.clv_fit import SAMPLE_SEED


def simulate_summary(n_customers: int, *, seed: int = SAMPLE_SEED,
                     params: dict[str, float] | None = None, max_age: int = 273,
                     segments: Sequence[str] = ("North", "South", "West")) -> pd.DataFrame:
    """A synthetic per-customer summary drawn from the BG/NBD and Gamma-Gamma models
    themselves, in days, for tests and benchmarks.

    ``params`` (r, alpha, a, b, p, q, v; alpha in days) default to Fader, Hardie & Lee's
    CDNOW estimates (alpha = 4.414 weeks × 7). Each customer: age T uniform in 1..``max_age``
    whole days; purchase rate λ ~ Gamma(r, α) and dropout probability p ~ Beta(a, b); N
    repeat purchases by a Poisson(λT) count, of which the customer lives through the first
    J ~ Geometric(p): frequency = min(N, J); recency = the frequency-th of N uniform purchase
    times, i.e. T × Beta(x, N − x + 1), floored to whole days; spend per purchase
    Gamma(p, ν) with ν ~ Gamma(q, v), so the mean of x purchases is Gamma(p·x, ν·x).
    Customers ``C00000000``, … in order; segments drawn uniformly from ``segments``.
    """
    values = {"r": 0.243, "alpha": 4.414 * 7, "a": 0.793, "b": 2.426,
              "p": 6.25, "q": 3.74, "v": 15.44} | dict(params or {})
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    age = rng.integers(1, max_age + 1, n).astype("float64")
    rate = rng.gamma(values["r"], 1.0 / values["alpha"], n)
    dropout = rng.beta(values["a"], values["b"], n)
    bought = rng.poisson(rate * age)
    lived = rng.geometric(dropout)
    frequency = np.minimum(bought, lived)
    repeat = frequency > 0
    recency = np.where(repeat, np.floor(age * rng.beta(np.maximum(frequency, 1),
                                                       np.maximum(bought - frequency + 1, 1))),
                       0.0)
    nu = rng.gamma(values["q"], 1.0 / values["v"], n)
    spend = rng.gamma(values["p"] * np.maximum(frequency, 1),
                      1.0 / (nu * np.maximum(frequency, 1)))
    width = max(8, len(str(max(n - 1, 0))))
    return pd.DataFrame({
        C.CUSTOMER_ID: [f"C{i:0{width}d}" for i in range(n)],
        FREQUENCY: frequency.astype("int64"),
        RECENCY: recency,
        AGE: age,
        MONETARY_VALUE: np.where(repeat, spend, 0.0),
        C.SEGMENT: np.asarray(segments, dtype=object)[rng.integers(0, len(segments), n)],
    })
