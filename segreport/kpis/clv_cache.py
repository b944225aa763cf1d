"""The fit cache of predictive CLV: a call whose inputs have not changed reuses the earlier
result.

With ``cache_dir`` set, a call whose inputs have not changed reuses the
earlier result without importing pymc or pytensor. The key is the sha256 of the columns
that enter the fit (frequency, recency, T, monetary value, customers sorted by
``customer_id``), the horizon, the discount rate, the time unit, the sampling settings
(when they apply) and the versions of pymc-marketing, pymc, pytensor and scipy. One entry
is one Parquet file ``<key>.parquet``: the per-customer predictions in that order, with the
fitted parameters as JSON in the file's metadata. Entries are written atomically (temporary
file + rename); an unreadable or inconsistent entry is ignored and the models refitted.
Segments do not enter the key: re-segmenting the same customers is a cache hit. Nothing
prunes the folder.

"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from segreport.data.rfm_summary import AGE, FREQUENCY, MONETARY_VALUE, RECENCY
from segreport.kpis.clv_fit import BG_NBD_PARAMS, GAMMA_GAMMA_PARAMS, PREDICTION_COLUMNS

CACHE_FORMAT = 1
"""Version of the cache entries and of the fitting code; a change makes every entry a miss."""

_CACHE_META = b"segreport.predictive_clv"
_FIT_COLUMNS = (FREQUENCY, RECENCY, AGE, MONETARY_VALUE)
_FIT_COLUMNS = (FREQUENCY, RECENCY, AGE, MONETARY_VALUE)


def canonical_order(ids: pd.Series) -> np.ndarray | None:
    """Positions that sort the customers by ``customer_id`` (stable), or None when they are
    sorted already."""
    ids = pd.Series(ids).reset_index(drop=True)
    try:
        if ids.is_monotonic_increasing:
            return None
        return ids.argsort(kind="stable").to_numpy()
    except TypeError:  # ids of mixed types: sort their text
        return ids.astype(str).argsort(kind="stable").to_numpy()


def fingerprint(data: pd.DataFrame, settings: dict) -> str:
    """sha256 of ``settings`` (as sorted JSON) and of the fit columns of ``data`` (float64,
    in the canonical order, −0.0 counted as 0.0)."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for column in _FIT_COLUMNS:
        values = np.ascontiguousarray(data[column].to_numpy(dtype="float64")) + 0.0
        digest.update(column.encode() + b"\0")
        digest.update(values.tobytes())
    return digest.hexdigest()


def cache_file(cache_dir: str | Path, key: str) -> Path:
    return Path(cache_dir).expanduser() / f"{key}.parquet"


def read_cache(path: Path, key: str, customers: int) -> tuple[dict, dict[str, np.ndarray]] | None:
    """The entry's metadata and predictions (canonical order), or None when there is no
    usable entry (missing, unreadable, for other inputs, or with invalid numbers)."""
    try:
        if not path.is_file():
            return None
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[_CACHE_META])
        if (meta.get("format") != CACHE_FORMAT or meta.get("key") != key
                or table.num_rows != customers or meta.get("customers") != customers):
            return None
        values = {c: table.column(c).to_numpy().astype("float64", copy=False)
                  for c in PREDICTION_COLUMNS}
        params = {k: float(meta["params"][k]) for k in BG_NBD_PARAMS + GAMMA_GAMMA_PARAMS}
        if not all(math.isfinite(v) and v > 0 for v in params.values()) or not all(
                v.shape == (customers,) and np.isfinite(v).all() for v in values.values()):
            return None
        meta["params"] = params
        return meta, values
    except Exception:  # noqa: BLE001 - any broken entry is a miss: refit and overwrite it
        return None


def write_cache(path: Path, meta: dict, values: dict[str, np.ndarray]) -> None:
    """Write the entry to a temporary file in the same folder, then rename it into place."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({c: values[c] for c in PREDICTION_COLUMNS})
    table = table.replace_schema_metadata({_CACHE_META: json.dumps(meta).encode()})
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            pq.write_table(table, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
