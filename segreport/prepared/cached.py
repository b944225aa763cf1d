"""Prepared folders kept between runs, keyed by what they depend on: the source files,
the settings and the package's computing code."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from segreport import columns as C
from segreport.cache import cache_dir
from segreport.prepared.build import check_request, prepare
from segreport.prepared.folder import INFO_FILE, Prepared, period_labels, read_info


def cache_root() -> Path:
    """Where prepared folders are kept between runs: ``$SEGREPORT_CACHE_DIR/prepared``, by
    default ``~/.cache/segreport/prepared`` (owner-only); model fits go beside it, in
    ``clv``."""
    return cache_dir("prepared")


def source_fingerprint(data_source: str | Path, **settings) -> str | None:
    """What a prepared folder depends on: the source files (name, size, modification time),
    the settings and the package's computing code. ``None`` for a database, which has no
    files to look at (it is prepared afresh each time)."""
    from segreport.secret_params import is_url

    text = str(data_source)
    path = Path(text)
    if is_url(text) or not path.exists():
        return None
    files = [path] if path.is_file() else sorted(
        p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for f in files:
        st = f.stat()
        h.update(f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    package = Path(__file__).parent.parent
    for f in sorted(package.rglob("*.py")):
        if "report" not in f.relative_to(package).parts[:1]:
            h.update(f.read_bytes())
    return h.hexdigest()[:32]


def prepare_cached(data_source: str | Path, periods: list[str], business_unit: str = "",
                   keep: int = 6, targets: dict | None = None, on_purchases=None,
                   on_facts=None, **settings) -> Prepared:
    """:func:`prepare`, or the folder it wrote before for the same source files, settings
    and code (see :func:`source_fingerprint`). New folders are written under a temporary
    name and renamed into place; the ``keep`` most recent are kept. Every business unit is
    prepared, so the folder serves the report of any unit; the period, unit,
    ``segment_by`` and the names in ``targets`` are checked against the data each time.
    ``on_purchases`` and ``on_facts`` are called as :func:`prepare` calls them, when the
    data is prepared afresh (``on_facts`` with the folder being written, renamed into place
    when :func:`prepare` returns)."""
    periods = period_labels(periods)
    fingerprint = _prepared_key(data_source, periods, settings)
    root = cache_root()
    if fingerprint is None:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder = Path(tempfile.mkdtemp(prefix="uncached-", dir=root))
        try:
            prepared = prepare(folder, data_source, periods, business_unit, targets=targets,
                               on_purchases=on_purchases, on_facts=on_facts, **settings)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        _evict(root, keep)
        return prepared
    final = root / fingerprint
    if (final / INFO_FILE).is_file():
        info, meta = read_info(final)
        check_request(info, pd.Timestamp(meta["first_order"]), pd.Timestamp(meta["last_order"]),
                      periods, business_unit, settings.get("segment_by", C.SEGMENT), targets)
        os.utime(final)
        return Prepared(final, info, meta["periods"])
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    work = Path(tempfile.mkdtemp(prefix=".new-", dir=root))
    try:
        prepared = prepare(work, data_source, periods, business_unit, targets=targets,
                           on_purchases=on_purchases, on_facts=on_facts, **settings)
        os.replace(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _evict(root, keep)
    return Prepared(final, prepared.info, prepared.periods)


def is_prepared(data_source: str | Path, periods: list[str], **settings) -> bool:
    """Whether :func:`prepare_cached` would read a folder prepared before (without
    reading anything but the source files' names, sizes and times)."""
    key = _prepared_key(data_source, period_labels(periods), settings)
    return key is not None and (cache_root() / key / INFO_FILE).is_file()


def _prepared_key(data_source: str | Path, periods: list[str], settings: dict) -> str | None:
    return source_fingerprint(data_source, periods=periods, **_settings(**settings))


def _settings(columns: dict | None = None, tables: dict | None = None,
              password_env: str = "SEGREPORT_DB_PASSWORD", active_window_days: int = 365,
              segment_by: str = C.SEGMENT, gross_margin_pct: float = 30.0,
              max_unknown_customer_pct: float | None = None, engine: str = "duckdb",
              spark_master: str = "local[*]") -> dict:
    """:func:`prepare`'s settings with every default filled in (one fingerprint whichever
    way they were given)."""
    return {"columns": columns or {}, "tables": tables or {}, "password_env": password_env,
            "active_window_days": int(active_window_days), "segment_by": segment_by,
            "gross_margin_pct": float(gross_margin_pct),
            "max_unknown_customer_pct": max_unknown_customer_pct, "engine": engine,
            "spark_master": spark_master}


def _evict(root: Path, keep: int) -> None:
    folders = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime,
                     reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)
