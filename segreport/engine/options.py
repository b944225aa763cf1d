"""The engine parameters, ``engine`` and ``spark_master``, and their checks (light: no
engine is imported here, so :mod:`segreport.config` can use them)."""
from __future__ import annotations

import re

from segreport.errors import ConfigError

DUCKDB, PYSPARK = "duckdb", "pyspark"
ENGINES = (DUCKDB, PYSPARK)
"""Values of ``engine``: where a folder of files is read and computed. A PostgreSQL
``data_source`` is always computed in PostgreSQL."""
DEFAULT_ENGINE = DUCKDB


def check_engine(engine: str) -> str:
    """``engine`` trimmed and in lower case, or ConfigError naming the choices."""
    text = str(engine if engine is not None else "").strip().lower() or DEFAULT_ENGINE
    if text not in ENGINES:
        raise ConfigError(f"engine {str(engine)!r}: choose one of {', '.join(ENGINES)} (duckdb: "
                          "embedded, the default; pyspark: Spark at spark_master)")
    return text


DEFAULT_SPARK_MASTER = "local[*]"
_LOCAL = re.compile(r"^local(\[(\*|[1-9]\d*)(,\s*[1-9]\d*)?\])?$")
_STANDALONE = re.compile(r"^spark://[^\s/:,]+(:\d+)?(,[^\s/:,]+(:\d+)?)*/?$")
_CONNECT = re.compile(r"^sc://[^\s/:;]+(:\d+)?/?(;[^\s;=]+=[^\s;]*)*$")
_SECRET_PARAMS = ("token",)


class SecretInParameter(ConfigError):
    """A parameter holding a secret: its message shows the value masked."""


def check_spark_master(value: str) -> str:
    """``spark_master`` trimmed, or ConfigError saying which forms are taken. A Spark
    Connect URL may carry options (``;use_ssl=true``) but no token."""
    text = str(value or "").strip()
    if not text:
        return DEFAULT_SPARK_MASTER
    if _LOCAL.match(text) or _STANDALONE.match(text):
        return text
    if _CONNECT.match(text):
        params = [p.split("=", 1)[0].lower() for p in text.split(";")[1:]]
        if any(p in _SECRET_PARAMS for p in params):
            shown = re.sub(r"(;token=)[^;]*", r"\1***", text, flags=re.IGNORECASE)
            raise SecretInParameter(
                f"parameter 'spark_master': {shown!r} contains a token; remove it and put it in the "
                "environment variable SPARK_CONNECT_AUTHENTICATE_TOKEN. Parameters are "
                "recorded in the executed notebook, so they must not hold secrets")
        return text
    shown = re.sub(r"(;token=)[^;]*", r"\1***", text, flags=re.IGNORECASE)
    raise ConfigError(
        f"spark_master {shown!r}: write local[*] (every core of this machine), local[N] "
        "(N cores), spark://host:7077 (a standalone cluster) or sc://host:15002 (Spark "
        "Connect)")


__all__ = ["DEFAULT_ENGINE", "DEFAULT_SPARK_MASTER", "DUCKDB", "ENGINES", "PYSPARK",
           "SecretInParameter", "check_engine", "check_spark_master"]
