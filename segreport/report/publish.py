"""Write into a staging folder, then move the finished report into place in one step.

Nothing half-written ever appears under the final name: a run that fails or is killed
leaves at most a hidden ``.staging`` folder, which the next run clears.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

STAGING = ".staging"


def safe_name(text: str) -> str:
    """A path component for a business unit or period name (no separators, no dot-files)."""
    cleaned = re.sub(r"[^\w\-. ]+", "_", text.strip()).strip(". ") or "_"
    return cleaned


def _pid_alive(pid: int) -> bool:
    """True while process ``pid`` runs (a zombie left by a killed run counts as gone)."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.parent.parent.is_dir() and Path("/proc/self").exists():
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_stale_staging(output_dir: Path) -> None:
    """Remove staging folders left by runs whose process is gone."""
    root = output_dir / STAGING
    if not root.is_dir():
        return
    for entry in root.iterdir():
        pid = entry.name.split("-", 1)[0]
        if not pid.isdigit() or not _pid_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def new_staging_dir(output_dir: Path) -> Path:
    """A fresh folder on the same file system as ``output_dir`` (so a rename is atomic)."""
    root = output_dir / STAGING
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
    folder.chmod(0o777 & ~_umask())  # mkdtemp makes it private; a report folder is not
    return folder


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish_dir(staging: Path, final: Path) -> Path:
    """Move ``staging`` to ``final``, replacing an older report there."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(final, old)
    os.replace(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final
