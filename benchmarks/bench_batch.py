"""Batch of every business unit against running the units one by one.

Usage: .venv/bin/python benchmarks/bench_batch.py [--data data/sample] [--workers 2]

Prints wall-clock seconds for
  1. `segreport run` once per unit, one after the other (each reads and checks the data);
  2. `segreport batch --workers N --force` (data read and checked once, units in parallel);
  3. `segreport batch` again with nothing changed (every unit skipped).
Each run writes into a fresh temporary output folder.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

SEGREPORT = [sys.executable, "-m", "segreport.cli"]


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="data/sample")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--period", default="2026Q3")
    args = parser.parse_args()
    data = Path(args.data)
    customers = next(data.glob("customers.*"))
    read = pd.read_parquet if customers.suffix == ".parquet" else pd.read_csv
    units = sorted(read(customers)["business_unit"].dropna().unique())
    orders = len(read(next(data.glob("orders.*"))))
    print(f"data: {data} ({orders:,} order rows), units: {', '.join(units)}, "
          f"workers: {args.workers}")
    with tempfile.TemporaryDirectory() as tmp:
        params = Path(tmp) / "params.yaml"
        params.write_text(f"data_dir: {data.resolve()}\nperiod: {args.period}\n")
        one_by_one = sum(timed(SEGREPORT + ["run", "--params", str(params), "--set",
                                            f"output_dir={tmp}/seq", "--set", f"business_unit={u}"])
                         for u in units)
        batch = timed(SEGREPORT + ["batch", "--params", str(params), "--set", f"output_dir={tmp}/batch",
                                   "--workers", str(args.workers), "--force"])
        rerun = timed(SEGREPORT + ["batch", "--params", str(params), "--set", f"output_dir={tmp}/batch",
                                   "--workers", str(args.workers)])
    print(f"one by one ({len(units)} x segreport run): {one_by_one:6.1f} s")
    print(f"segreport batch --workers {args.workers}:        {batch:6.1f} s  "
          f"({one_by_one / batch:.1f}x faster)")
    print(f"segreport batch, nothing changed:  {rerun:6.1f} s  (every unit skipped)")


if __name__ == "__main__":
    main()
