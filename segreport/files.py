"""Writing files so that a reader never sees half of one."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def current_umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_at_most(path: Path, limit: int) -> bytes | None:
    """The bytes of ``path``; ``None`` when it holds more than ``limit`` bytes (never more
    than ``limit + 1`` are read, whatever the file's size)."""
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    return None if len(data) > limit else data


def write_file_atomic(path: Path, data: bytes, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` in one step (temporary file beside it, then rename), so
    a reader sees the old file or the new one, never half of it.

    ``mode`` defaults to what the umask allows for a new file (e.g. 0644).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~current_umask() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
