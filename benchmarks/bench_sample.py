"""Time the sample-data generator at its default size.

Usage::

    PYTHONPATH=. python benchmarks/bench_sample.py [--customers N] [--format parquet|csv]

Generates the sample data set into a temporary directory (removed afterwards) and prints
the time taken and the number of rows of every table.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import pyarrow.parquet as pq  # noqa: E402

from segreport.data.sample import FORMATS, generate_sample  # noqa: E402


def _rows(path: pathlib.Path) -> int:
    if path.suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    with path.open("rb") as handle:
        return sum(1 for _ in handle) - 1


def main(argv: list[str] | None = None) -> int:
    """Generate the data set once and report time and row counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", choices=FORMATS, default="parquet")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="segreport-bench-") as tmp:
        began = time.perf_counter()
        paths = generate_sample(tmp, n_customers=args.customers, seed=args.seed,
                                fmt=args.format)
        elapsed = time.perf_counter() - began
        print(f"generate_sample(n_customers={args.customers:,}, fmt={args.format!r}): "
              f"{elapsed:.2f} s")
        for name, path in paths.items():
            size = path.stat().st_size / 1e6
            print(f"  {name:<20} {_rows(path):>10,} rows  {size:8.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
