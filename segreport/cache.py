"""Results kept between runs, one folder per kind, each entry named by a digest of
everything that decides it (content-addressed: an entry is never stale, only unused).

The root is ``$SEGREPORT_CACHE_DIR``, by default ``~/.cache/segreport`` (owner-only):
``prepared/`` holds prepared data, ``clv/`` model fits, ``figures/`` chart images,
``html/`` rendered reports and ``pdf/`` printed reports. Deleting any of it is always safe; it is made again.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

from segreport.files import write_file_atomic

CACHE_ENV = "SEGREPORT_CACHE_DIR"


def cache_dir(kind: str) -> Path:
    """``$SEGREPORT_CACHE_DIR/{kind}`` (default ``~/.cache/segreport/{kind}``); not created."""
    root = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "segreport"
    return Path(root) / kind


def read_entry(kind: str, name: str) -> bytes | None:
    """The bytes stored as ``name`` in ``kind``, or ``None``. A hit marks the entry as
    recently used (its modification time), so :func:`store_entry` evicts it last."""
    path = cache_dir(kind) / name
    try:
        data = path.read_bytes()
        os.utime(path)
    except OSError:
        return None
    return data


def store_entry(kind: str, name: str, data: bytes, keep: int) -> None:
    """Store ``data`` as ``name`` in ``kind`` (atomically, owner-only) and keep at most
    ``keep`` entries there, the most recently used. A cache that cannot be written gives a
    ``RuntimeWarning``: the result stands without it."""
    folder = cache_dir(kind)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_file_atomic(folder / name, data, mode=0o600)
        entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
        if len(entries) > keep:
            entries.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
            for old in entries[keep:]:
                old.unlink(missing_ok=True)
    except OSError as exc:
        warnings.warn(f"could not write the cache folder {folder}: {exc}", RuntimeWarning,
                      stacklevel=2)
