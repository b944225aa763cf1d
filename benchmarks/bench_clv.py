"""Time the predictive CLV: a cold fit, a cached call, and a fit on a sample of 1M customers.

Usage::

    PYTHONPATH=. python benchmarks/bench_clv.py [--customers N] [--large N]

Each timed call runs in a fresh Python process, as in a notebook kernel, on a summary drawn
from the models (:func:`segreport.kpis.predictive_clv.simulate_summary`) and written to
Parquet beforehand, so reading it is not timed. A temporary fit cache is used and removed.
Prints, for ``--customers`` (default 50,000) customers:

* the cold fit: the first call in a fresh process (imports pymc-marketing, builds and loads
  pytensor's compiled graphs, fits, predicts, writes the cache entry). pytensor's own compile
  cache (``~/.cache/segreport/pytensor``) is used as it is: on a machine where it is empty
  the first fit also compiles (~30 s);
* the cached call in another fresh process (no pymc/pytensor import);

and for ``--large`` (default 1,000,000) customers the fit on a random sample of
:data:`~segreport.kpis.predictive_clv.MAX_FIT_CUSTOMERS` with predictions for all, its peak
memory, and the cached call.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = """
import json, resource, sys, time
began = time.perf_counter()
import pandas as pd
from segreport.kpis.predictive_clv import predictive_clv_kpis
imported = time.perf_counter() - began
summary = pd.read_parquet(sys.argv[1])
began = time.perf_counter()
frame, fit = predictive_clv_kpis(summary, cache_dir=sys.argv[2])
seconds = time.perf_counter() - began
print(json.dumps({"seconds": seconds, "import_seconds": imported, "ok": fit.ok,
                  "cached": fit.cached, "sampled": fit.sampled,
                  "fit_customers": fit.fit_customers, "note": fit.note,
                  "pytensor_loaded": "pytensor" in sys.modules,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _call(summary: pathlib.Path, cache: pathlib.Path) -> tuple[dict, float]:
    """One call of predictive_clv_kpis in a fresh process: its report and the wall clock
    of the whole process."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, str(summary), str(cache)],
                          capture_output=True, text=True, cwd=ROOT, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(done.stdout.strip().splitlines()[-1]), time.perf_counter() - began


def _line(what: str, got: dict, wall: float) -> str:
    return (f"  {what:<34} {got['seconds']:7.2f} s in the call, {wall:6.2f} s for the process "
            f"(imports {got['import_seconds']:.2f} s), peak {got['peak_mb']:,.0f} MB, "
            f"cached={got['cached']}, pytensor loaded={got['pytensor_loaded']}")


def main(argv: list[str] | None = None) -> int:
    """Run the timed calls one after another and print the figures."""
    from segreport.kpis.predictive_clv import MAX_FIT_CUSTOMERS, simulate_summary

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="segreport-bench-clv-") as tmp:
        folder = pathlib.Path(tmp)
        cache = folder / "clv-cache"
        for n, title in ((args.customers, "all customers fitted"),
                         (args.large, f"fitted on a sample of {MAX_FIT_CUSTOMERS:,}")):
            path = folder / f"summary-{n}.parquet"
            simulate_summary(n).to_parquet(path)
            print(f"{n:,} customers ({title}):")
            cold, wall = _call(path, cache)
            print(_line("cold fit, fresh process", cold, wall))
            hit, wall = _call(path, cache)
            print(_line("cached call, fresh process", hit, wall))
            print(f"  note: {cold['note']}")
        entries = sorted(cache.glob("*.parquet"))
        sizes = ", ".join(f"{p.stat().st_size / 1e6:.1f} MB" for p in entries)
        print(f"cache entries: {len(entries)} ({sizes})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
