"""The Spark session of ``engine: pyspark``.

``spark_master`` says where Spark runs:

* ``local[*]`` (default), ``local[N]`` or ``local`` — in this process's own JVM, on this
  machine's cores (Java 17 or later must be installed);
* ``spark://host:port`` — a standalone Spark cluster;
* ``sc://host:port`` — a Spark Connect server (needs ``pip install "pyspark[connect]"``).
  A token for the server is read from the environment variable
  ``SPARK_CONNECT_AUTHENTICATE_TOKEN``, never from the parameter (parameters are recorded
  in the executed notebook).

The files of a folder source are read by Spark, so with a cluster they must be at a path
every executor (or the Connect server) sees.

A session is costly to start (~8 s locally), so one running in this process is reused
(``getOrCreate``), whatever its master; segreport never stops it.
"""
from __future__ import annotations

from segreport.engine.options import DEFAULT_SPARK_MASTER, check_spark_master
from segreport.errors import ConfigError


def spark_session(master: str = DEFAULT_SPARK_MASTER):
    """The running Spark session of this process, else a new one at ``master``.

    A new local or standalone session is quiet (log level ERROR, no progress bars, no web
    UI for a local master). Every session computes in UTC (Ibis sets
    ``spark.sql.session.timeZone``), resolves column names case sensitively, as the
    reference reader does, and sends results to Python as Arrow.
    """
    master = check_spark_master(master)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError("engine 'pyspark' needs PySpark: pip install "
                          "'ibis-framework[pyspark]'") from None
    session = SparkSession.getActiveSession()
    if session is None:
        builder = SparkSession.builder.appName("segreport")
        if master.startswith("sc://"):
            try:
                builder = builder.remote(master)
            except ImportError as exc:
                raise ConfigError(f"spark_master {master!r}: Spark Connect needs pip install "
                                  f"'pyspark[connect]' ({exc})") from None
        else:
            builder = builder.master(master).config("spark.ui.showConsoleProgress", "false")
            if master.startswith("local"):
                builder = builder.config("spark.ui.enabled", "false")
        try:
            session = builder.getOrCreate()
        except ImportError as exc:
            raise ConfigError(f"spark_master {master!r}: Spark Connect needs pip install "
                              f"'pyspark[connect]' ({exc})") from None
        except Exception as exc:
            detail = " ".join(str(exc).split())[:300]
            raise ConfigError(
                f"engine 'pyspark': cannot start Spark at {master} ({type(exc).__name__}: "
                f"{detail}); a local master needs Java 17 or later (java on the PATH or "
                "JAVA_HOME set)") from None
        if not master.startswith("sc://"):
            session.sparkContext.setLogLevel("ERROR")
    for key, value in (("spark.sql.caseSensitive", "true"),
                       # results come back to pandas as Arrow (50,000 facts rows: 5 s → <1 s)
                       ("spark.sql.execution.arrow.pyspark.enabled", "true")):
        try:
            session.conf.set(key, value)
        except Exception:
            pass
    return session


__all__ = ["spark_session"]
