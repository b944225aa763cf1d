"""`prepared.build.prepare` on each engine: embedded DuckDB, PostgreSQL, local Spark.

Usage: .venv/bin/python benchmarks/bench_engines.py [--data data/sample] [--repeat 2]
       [--spark-master local[2]] [--skip postgres,pyspark]

One process, the same Parquet folder (the 1M-order sample by default) and the same report
period. Prints wall-clock seconds of `prepare` (checks, panel, KPI panel, facts, cohorts,
purchase summary) per engine and run, and the ratio of each engine's best run to DuckDB's.
Not counted in `prepare`, printed apart:

* PostgreSQL: starting a throwaway server (Debian's packages, as the tests do) and loading
  the tables into it (`COPY`; dates as DATE, amounts as NUMERIC(14,2));
* Spark: starting the session (a JVM; `local[2]`, UI off, 4 shuffle partitions).

The first run on Spark also pays for the JVM's warm-up (class loading, code generation);
later runs in the same session show the steady state.
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from segreport.prepared.build import prepare
from segreport.prepared.folder import PANEL_FILE

NUMERIC = {"orders": {"amount": "numeric(14,2)", "margin": "numeric(14,2)"}}


def timed_prepare(out: Path, source: str, period: str, **kwargs) -> float:
    started = time.perf_counter()
    prepare(out, source, [period], **kwargs)
    return time.perf_counter() - started


def same_panel(a: Path, b: Path) -> str:
    keys = ["kpi", "business_unit", "segment", "quarter"]
    x = pd.read_parquet(a / PANEL_FILE).sort_values(keys).reset_index(drop=True)
    y = pd.read_parquet(b / PANEL_FILE).sort_values(keys).reset_index(drop=True)
    numbers = x.select_dtypes("number").columns
    # to 6 decimals first: sums in another order must not round 33.245 both ways
    same = x.drop(columns=numbers).equals(y.drop(columns=numbers)) and \
        x[numbers].round(6).round(2).equals(y[numbers].round(6).round(2))
    return "same KPI panel as DuckDB (to the cent)" if same else "KPI PANEL DIFFERS FROM DUCKDB"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="data/sample")
    parser.add_argument("--period", default="2026Q3")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--skip", default="", help="engines to leave out: postgres,pyspark")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    data = Path(args.data).resolve()
    orders = pd.read_parquet(data / "orders.parquet", columns=["order_id"])
    print(f"data: {data} ({len(orders):,} order rows), period {args.period}, "
          f"{args.repeat} run(s) per engine")
    runs: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        out = {}

        runs["duckdb"] = [timed_prepare(tmp / f"duckdb{i}", str(data), args.period)
                          for i in range(args.repeat)]
        out["duckdb"] = tmp / "duckdb0"

        if "postgres" not in skip:
            import os

            import pgcluster

            started = time.perf_counter()
            cluster = pgcluster.start()
            up = time.perf_counter() - started
            try:
                started = time.perf_counter()
                url = pgcluster.load_folder(cluster, "bench", data, NUMERIC)
                load = time.perf_counter() - started
                print(f"postgres: server started in {up:.1f} s; tables loaded in {load:.1f} s "
                      "(not counted)")
                os.environ["SEGREPORT_DB_PASSWORD"] = pgcluster.PASSWORD
                runs["postgres"] = [timed_prepare(tmp / f"postgres{i}", url, args.period)
                                    for i in range(args.repeat)]
                out["postgres"] = tmp / "postgres0"
            finally:
                cluster.stop()

        if "pyspark" not in skip:
            from pyspark.sql import SparkSession

            logging.getLogger("py4j").setLevel(logging.ERROR)
            started = time.perf_counter()
            spark = (SparkSession.builder.master(args.spark_master).appName("bench")
                     .config("spark.ui.enabled", "false")
                     .config("spark.ui.showConsoleProgress", "false")
                     .config("spark.sql.shuffle.partitions", "4").getOrCreate())
            spark.sparkContext.setLogLevel("ERROR")
            print(f"pyspark: session ({args.spark_master}) started in "
                  f"{time.perf_counter() - started:.1f} s (not counted)")
            runs["pyspark"] = [timed_prepare(tmp / f"pyspark{i}", str(data), args.period,
                                             engine="pyspark", spark_master=args.spark_master)
                               for i in range(args.repeat)]
            out["pyspark"] = tmp / "pyspark0"
            spark.stop()

        base = min(runs["duckdb"])
        print(f"{'engine':10} {'runs (s)':>24} {'best':>7} {'vs DuckDB':>10}")
        for name, times in runs.items():
            shown = ", ".join(f"{t:.1f}" for t in times)
            check = "" if name == "duckdb" else "  " + same_panel(out["duckdb"], out[name])
            print(f"{name:10} {shown:>24} {min(times):7.1f} {min(times) / base:9.1f}x{check}")


if __name__ == "__main__":
    main()
