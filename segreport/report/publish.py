"""Write into a staging folder, then move the finished report into place in one step.

Nothing half-written ever appears under the final name: a run that fails or is killed
leaves at most a hidden ``.staging`` folder, which the next run clears. Staging folders
(and the validated copy of the data kept in one) are readable by their owner only; a
report folder gets the usual permissions when it is published.

Each business unit has its own report folder, whose name is unique and stable
(:func:`unit_folder`); the unit's real name is recorded inside it (:data:`META_NAME`).
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from segreport.errors import ConfigError, clip
from segreport.files import current_umask as _umask
from segreport.files import write_file_atomic
from segreport.report.names import INDEX_NAME, META_NAME

STAGING = ".staging"
#: The folder of the report over every unit (``business_unit`` empty).
ALL_UNITS = "All"
#: Longest unit folder name kept as it is (a path component holds at most 255 bytes).
MAX_FOLDER_CHARS = 60
#: Free space ``output_dir`` must have before a report is started.
MIN_FREE_BYTES = 100 * 1024 * 1024
# Names a unit folder must not take: the all-units report, the batch index, a kept
# notebook of a failed unit, and what looks like a hashed name.
_RESERVED = {ALL_UNITS.casefold(), INDEX_NAME}
_HASHED = re.compile(r"-[0-9a-f]{8}$")


def safe_name(text: str) -> str:
    """A path component for a business unit or period name (no separators, no dot-files)."""
    cleaned = re.sub(r"[^\w\-. ]+", "_", text.strip()).strip(". ") or "_"
    return cleaned


def unit_folder(unit: str) -> str:
    """The report folder name of a business unit; ``All`` for every unit (``unit`` empty).

    A name that is already a safe path component is kept as it is. Any other name (one
    with path characters, a leading dot, a reserved name such as ``All``, a very long
    one) gets a short stable hash of the real name, so two units never share a folder:
    ``North/South`` → ``North_South-<8 hex digits>``, ``North_South`` → ``North_South``.

    Examples
    --------
    >>> unit_folder(""), unit_folder("Retail")
    ('All', 'Retail')
    >>> unit_folder("All") != "All"
    True
    """
    if not unit:
        return ALL_UNITS
    name = safe_name(unit)
    if (name == unit and len(name) <= MAX_FOLDER_CHARS and name.casefold() not in _RESERVED
            and not name.endswith(".failed.ipynb") and not _HASHED.search(name)):
        return name
    digest = hashlib.sha256(unit.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{name[:MAX_FOLDER_CHARS]}-{digest}"


def check_unit_folders(folders: Iterable[tuple[str, Path]]) -> None:
    """Refuse, before any work, two units whose reports would land in one folder.

    Parameters
    ----------
    folders
        (unit name as written in the data, its report folder) pairs.

    Raises
    ------
    ConfigError
        naming both units and the folder.
    """
    seen: dict[Path, str] = {}
    for unit, folder in folders:
        other = seen.setdefault(folder, unit)
        if other != unit:
            raise ConfigError(
                f"business units {clip(repr(other))} and {clip(repr(unit))} would share the "
                f"report folder {folder}; give them names that differ by more than spaces "
                "around them, in the data")


def write_report_meta(folder: Path, business_unit: str, period: str) -> Path:
    """Record the unit's real name (``""`` for every unit) and the period in ``folder``."""
    meta = {"business_unit": business_unit, "unit": business_unit or ALL_UNITS,
            "period": period}
    return write_file_atomic(folder / META_NAME,
                             json.dumps(meta, ensure_ascii=False).encode("utf-8"))


def read_report_meta(folder: Path) -> dict | None:
    """What :func:`write_report_meta` recorded; None for a folder without (or with an
    unreadable) record, e.g. one made by an older segreport."""
    try:
        meta = json.loads((folder / META_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and isinstance(meta.get("unit"), str) else None


def check_output_dir(output_dir: Path, period_dir: Path | None = None,
                     min_free: int = MIN_FREE_BYTES) -> None:
    """Refuse, before any data is read, an ``output_dir`` that cannot take a report.

    Checks ``output_dir`` (where the staging folder goes) and ``period_dir`` (where the
    report folder goes): the nearest part of each that exists must be a folder this
    process can write in, on a file system with at least ``min_free`` bytes free.

    Raises
    ------
    ConfigError
        naming the parameter and the path: a file in the way, no permission or a
        read-only file system, or too little free space. Nothing is written.
    """
    for target in (output_dir, period_dir):
        if target is None:
            continue
        existing = Path(os.path.abspath(target))
        while not os.path.lexists(existing) and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise ConfigError(f"parameter 'output_dir': {existing} is a file (or a broken "
                              "link), not a folder; set output_dir to a folder (it is made "
                              "when missing)")
        try:
            with tempfile.TemporaryFile(dir=existing):
                pass
        except OSError as exc:
            raise ConfigError(f"parameter 'output_dir': {existing} cannot be written in "
                              f"({exc.strerror or exc}); choose another folder or fix its "
                              "permissions") from None
        free = shutil.disk_usage(existing).free
        if free < min_free:
            raise ConfigError(f"parameter 'output_dir': {existing} has {free / 2**20:.0f} MB "
                              f"free; a report needs at least {min_free / 2**20:.0f} MB. Free "
                              "some space or choose another folder")


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
    _remove_if_empty(root)


def new_staging_dir(output_dir: Path) -> Path:
    """A fresh folder on the same file system as ``output_dir`` (so a rename is atomic),
    readable by its owner only (0700)."""
    root = output_dir / STAGING
    for attempt in range(5):
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
        except FileNotFoundError:  # another run removed the empty root in between
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def remove_staging(folder: Path) -> None:
    """Delete a staging folder, and the ``.staging`` folder above it once it is empty."""
    shutil.rmtree(folder, ignore_errors=True)
    if folder.parent.name == STAGING:
        _remove_if_empty(folder.parent)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # not empty: another run is using it
        pass


def publish_dir(staging: Path, final: Path) -> Path:
    """Move ``staging`` to ``final``, replacing an older report there; ``final`` gets the
    permissions the umask gives a new folder (staging is private). When the move fails,
    the older report is put back."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging.chmod(0o777 & ~_umask())
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(final, old)
    try:
        os.replace(staging, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


#: Write errors that mean the output folder cannot take the report: full disk or quota,
#: no permission, read-only file system.
OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}
_WHY = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
        errno.EACCES: "permission to write was taken away", errno.EPERM:
        "permission to write was taken away", errno.EROFS: "the file system became read-only"}


def is_output_error(exc: BaseException, output_dir: Path) -> bool:
    """True for an ``OSError`` of :data:`OUTPUT_ERRNOS` on a file under ``output_dir``
    (or on no named file: a ``write`` that ran out of space names none)."""
    if not isinstance(exc, OSError) or exc.errno not in OUTPUT_ERRNOS:
        return False
    if exc.filename is None:
        return True
    target = Path(os.path.abspath(os.fsdecode(exc.filename)))
    return target == output_dir or output_dir in target.parents


@contextmanager
def writing_report(output_dir: Path, final: Path) -> Iterator[None]:
    """Turn a full or unwritable ``output_dir`` met while the report is written into one
    message naming the folder (:class:`ConfigError`, exit status 2).

    Used around the writing of a report into its staging folder and its publishing, so
    that the message can say the previous report in ``final`` is as it was.
    """
    try:
        yield
    except OSError as exc:
        if not is_output_error(exc, Path(os.path.abspath(output_dir))):
            raise
        raise ConfigError(
            f"parameter 'output_dir': {output_dir} could not take the report: "
            f"{_WHY[exc.errno]} ({exc.strerror or os.strerror(exc.errno)}); nothing was "
            f"published and the previous report in {final}, if any, is unchanged. Free some "
            "space or fix the folder's permissions, or choose another output_dir, and run "
            "again") from None
