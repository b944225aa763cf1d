"""Time the segmentation steps on the sample data at its default size.

Usage::

    PYTHONPATH=. python benchmarks/bench_segmentation.py [--customers N] [--repeat R]
        [--period 2026Q3]

Generates the sample data set (about a million order rows for 50,000 customers) into a
temporary directory (removed afterwards), reads it, builds the per-customer facts of the
period, then prints the best and the median wall time over ``--repeat`` runs of
``customer_quarters``, ``cohort_retention``, ``rfm_scores`` and ``behaviour_clusters``.
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from segreport import columns as C  # noqa: E402
from segreport.data import read_dataset  # noqa: E402
from segreport.data.facts import customer_facts  # noqa: E402
from segreport.data.quarterly import cohort_retention, customer_quarters  # noqa: E402
from segreport.kpis.segmentation import behaviour_clusters, rfm_scores  # noqa: E402
from segreport.period import Period  # noqa: E402
from segreport.sample import generate_sample  # noqa: E402


def _time(label: str, repeat: int, fn):
    """Run ``fn`` ``repeat`` times; print best and median seconds; return the last result."""
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    print(f"  {label:<22} best {min(times):6.3f} s   median {statistics.median(times):6.3f} s"
          f"   ({repeat} run{'s' if repeat > 1 else ''})")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--period", default="2026Q3")
    args = parser.parse_args(argv)
    period = Period.parse(args.period)

    with tempfile.TemporaryDirectory(prefix="segreport-bench-") as tmp:
        began = time.perf_counter()
        generate_sample(tmp, n_customers=args.customers)
        ds = read_dataset(tmp)
        orders, customers = ds.orders, ds.customers
        facts = customer_facts(orders, customers, period.start, period.end)
        print(f"setup (generate, read, facts): {time.perf_counter() - began:.1f} s; "
              f"{len(orders):,} order rows, {len(facts):,} customers, "
              f"{int((facts[C.ORDERS_12M] > 0).sum()):,} with an order in the trailing year")

        cq = _time("customer_quarters", args.repeat, lambda: customer_quarters(orders, customers))
        cohorts = _time("cohort_retention", args.repeat,
                        lambda: cohort_retention(cq, facts[C.ACQUIRED_AT], period.label))
        rfm = _time("rfm_scores", args.repeat, lambda: rfm_scores(facts, period.end))
        result = _time("behaviour_clusters", max(1, args.repeat - 1),
                       lambda: behaviour_clusters(facts, period.end))
        print(f"customer quarters: {len(cq):,} rows; cohorts: {len(cohorts)}; RFM customers: "
              f"{len(rfm):,}; k = {result.k}, silhouettes "
              + ", ".join(f"{k}: {s:.3f}" for k, s in result.silhouettes.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
