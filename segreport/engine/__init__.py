"""The compute engine: the user's tables opened where they live, checked there, and the
one pass over the orders that yields every quarter and business unit at once.

* :mod:`segreport.engine.tables` opens a source as typed Ibis tables — DuckDB (embedded)
  or Spark for a folder of files, PostgreSQL itself for a PostgreSQL URL — and runs the
  data contract's checks as queries (:mod:`~segreport.engine.checks`), then cleans the
  tables (:mod:`~segreport.engine.clean`); :mod:`segreport.engine.backend` holds the
  connections, the engine's own failures and the intermediate tables;
* :mod:`segreport.engine.panel` builds the customer × quarter panel and the aggregates
  read off it (segment totals, per-customer facts, cohorts);
  :mod:`segreport.engine.surveys` sums the survey answers and
  :mod:`segreport.engine.purchases` summarises every customer's purchases;
* :mod:`segreport.engine.spark` starts (or reuses) the Spark session of ``engine:
  pyspark``; :mod:`segreport.engine.options` checks the ``engine`` parameters.

Only aggregates and the few per-customer frames a chart or model needs leave the engine.
"""
from __future__ import annotations

__all__ = ["EngineData", "open_engine"]


def __getattr__(name: str):
    # Lazy: importing segreport.engine.options (for the parameters) needs no engine.
    if name in __all__:
        from segreport.engine import tables

        return getattr(tables, name)
    raise AttributeError(name)
