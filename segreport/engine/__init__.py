"""The compute engine: the user's tables opened where they live, checked there, and the
one pass over the orders that yields every quarter and business unit at once.

* :mod:`segreport.engine.tables` opens a source as typed Ibis tables (DuckDB for files and
  DuckDB databases) and runs the data contract's checks as queries;
* :mod:`segreport.engine.panel` builds the customer × quarter panel and the aggregates
  every KPI family needs (segment totals, survey counts, cohorts, the purchase summary).

Only aggregates and the few per-customer frames a chart or model needs leave the engine.
"""
from segreport.engine.tables import EngineData, open_engine

__all__ = ["EngineData", "open_engine"]
