"""Time the sample-data generator and measure its peak memory.

Usage::

    PYTHONPATH=. python benchmarks/bench_sample.py [--customers N ...] [--format parquet|csv]
                                                   [--out DIR]

By default generates about 1 million and 10 million order rows (50,000 and 500,000
customers). Every size runs in a child process of its own, so the peak memory reported
(the child's maximum resident set size) belongs to that size alone. Prints, per size,
the time taken by ``generate_sample`` (and the child's wall-clock and CPU time, start-up
included: on a shared machine CPU time varies less), the peak memory, the order rows per
second and the rows and file size of every table. The files go to a temporary directory
(removed afterwards) unless ``--out`` names a folder to keep them in (one sub-folder per
size, or ``--out`` itself when a single size is given).
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

import pyarrow.parquet as pq  # noqa: E402

from segreport.sample import FORMATS, generate_sample  # noqa: E402

DEFAULT_CUSTOMERS = (50_000, 500_000)     # ~1M and ~10M order rows


def _rows(path: pathlib.Path) -> int:
    if path.suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    with path.open("rb") as handle:
        return sum(1 for _ in handle) - 1


def _child(args: argparse.Namespace) -> int:
    """Generate one size (in the child process) and print the paths and time as JSON."""
    began = time.perf_counter()
    paths = generate_sample(args.child, n_customers=args.customers[0], seed=args.seed,
                            fmt=args.format)
    elapsed = time.perf_counter() - began
    print(json.dumps({"seconds": elapsed, "paths": {k: str(v) for k, v in paths.items()}}))
    return 0


def _measure(n_customers: int, out: pathlib.Path, args: argparse.Namespace) -> None:
    """Run one size in a child process; report its time, peak memory and tables."""
    command = [sys.executable, __file__, "--child", str(out), "--customers", str(n_customers),
               "--seed", str(args.seed), "--format", args.format]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    began = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, env=env)
    stdout = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"generating {n_customers:,} customers failed "
                         f"(exit code {child.returncode})")
    result = json.loads(stdout)
    paths = {name: pathlib.Path(p) for name, p in result["paths"].items()}
    rows = {name: _rows(path) for name, path in paths.items()}
    peak_mb = usage.ru_maxrss / 1024                     # Linux reports KiB
    seconds = result["seconds"]
    total_mb = sum(p.stat().st_size for p in paths.values()) / 1e6
    cpu = usage.ru_utime + usage.ru_stime               # whole child, with start-up
    print(f"generate_sample(n_customers={n_customers:,}, fmt={args.format!r}): "
          f"{seconds:.2f} s ({wall:.2f} s with start-up, CPU {cpu:.2f} s), "
          f"peak memory {peak_mb:,.0f} MB, {rows['orders'] / seconds:,.0f} order rows/s")
    for name, path in paths.items():
        size = path.stat().st_size / 1e6
        print(f"  {name:<20} {rows[name]:>12,} rows  {size:10.1f} MB")
    print(f"  {'all files':<20} {'':>12}       {total_mb:10.1f} MB", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Generate the data set once per size and report time, memory and row counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=list(DEFAULT_CUSTOMERS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", choices=FORMATS, default="parquet")
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="keep the files in this folder")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args)

    with tempfile.TemporaryDirectory(prefix="segreport-bench-") as tmp:
        base = args.out if args.out is not None else pathlib.Path(tmp)
        for n_customers in args.customers:
            single = args.out is not None and len(args.customers) == 1
            _measure(n_customers, base if single else base / f"customers{n_customers}", args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
