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


def temporary_beside(path: Path) -> Path:
    """A new, empty, hidden file in ``path``'s folder (``.<name>.<random>.tmp``, mode
    0600), to be written and then moved onto ``path`` with :func:`move_into_place`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{Path(path).name}.", suffix=".tmp",
                               dir=Path(path).parent)
    os.close(fd)
    return Path(tmp)


def move_into_place(tmp: Path, path: Path, mode: int | None = None) -> Path:
    """Flush the finished file ``tmp`` to disk, give it ``mode`` and rename it onto
    ``path`` in one step, so a reader sees the old file or the new one, never half of it.

    ``mode`` defaults to what the umask allows for a new file (e.g. 0644).
    """
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o666 & ~current_umask() if mode is None else mode)
    os.replace(tmp, path)
    return Path(path)


def write_file_atomic(path: Path, data: bytes, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` in one step (temporary file beside it, then rename), so
    a reader sees the old file or the new one, never half of it.

    ``mode`` defaults to what the umask allows for a new file (e.g. 0644).
    """
    path = Path(path)
    tmp = temporary_beside(path)
    try:
        tmp.write_bytes(data)
        move_into_place(tmp, path, mode)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
