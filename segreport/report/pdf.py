"""Print the report HTML to PDF with headless Chromium.

Chromium is looked up at run time and never downloaded: ``$SEGREPORT_CHROMIUM`` if set,
else ``chromium``, ``chromium-browser`` or ``google-chrome`` on ``PATH`` (``make pdf-deps``
installs Debian's). The page layout (A4, page breaks, printed band colours) comes from the
``@media print`` rules of ``templates/segreport/index.html.j2``.

Chromium exits with status 0 even when the page did not load or the PDF could not be
written, so success is judged by the file it wrote: it must exist and start with ``%PDF``.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from segreport.cache import read_entry, store_entry
from segreport.errors import PdfEngineMissing, PdfError
from segreport.files import write_file_atomic

ENGINE_ENV = "SEGREPORT_CHROMIUM"
ENGINE_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",                      # needed as root and in most containers
    "--disable-gpu",
    "--no-pdf-header-footer",            # else date, title and URL are printed in margins
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # Containers often have a 64 MB /dev/shm; Debian's wrapper means to add this flag
    # when /dev/shm is small, but its test is broken on machines with two tmpfs lines.
    "--disable-dev-shm-usage",
)
# Lines Chromium prints on every headless run without a D-Bus; not worth reporting.
NOISE = re.compile(r"dbus|Fontconfig|unexpected operator|^\s*$", re.IGNORECASE)
STDERR_TAIL_LINES = 20
PDF_CACHE = "pdf"
PDFS_KEPT = 50
"""Printed reports kept in the cache: an HTML printed before is not printed again."""


def find_pdf_engine() -> str | None:
    """Path of the Chromium to print with, or None when there is none.

    ``$SEGREPORT_CHROMIUM`` (a path or a command name) wins when set; if it names no
    executable the answer is None rather than some other browser found on PATH.
    """
    wanted = os.environ.get(ENGINE_ENV, "").strip()
    if wanted:
        return shutil.which(wanted)
    for name in ENGINE_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html_path: str | Path, pdf_path: str | Path, timeout: float = 120) -> Path:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium and return ``pdf_path``.

    The PDF is written into a temporary folder beside ``pdf_path`` and renamed into place,
    so ``pdf_path`` is either the complete new PDF or untouched. Each run uses a fresh
    Chromium profile in a temporary folder, removed afterwards. The same HTML printed
    before by the same Chromium is copied from the cache (``$SEGREPORT_CACHE_DIR/pdf``,
    see :func:`pdf_fingerprint`) instead of being printed again.

    Raises
    ------
    FileNotFoundError
        ``html_path`` does not exist.
    PdfEngineMissing
        no Chromium found (the message says how to install it).
    PdfError
        Chromium failed, timed out (it is killed) or wrote no PDF; the message ends with
        the tail of Chromium's stderr.
    """
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    if not html_path.is_file():
        raise FileNotFoundError(f"no HTML to print at {html_path}")
    engine = find_pdf_engine()
    if engine is None:
        wanted = os.environ.get(ENGINE_ENV, "").strip()
        raise PdfEngineMissing(
            f"${ENGINE_ENV}={wanted!r} is not an executable" if wanted else None)

    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    key = pdf_fingerprint(html_path.read_bytes(), engine)
    printed = read_entry(PDF_CACHE, f"{key}.pdf")
    if printed is not None and printed.startswith(b"%PDF-"):
        write_file_atomic(pdf_path, printed)
        return pdf_path
    work = Path(tempfile.mkdtemp(prefix=f".{pdf_path.name}.", suffix=".tmp",
                                 dir=pdf_path.parent))
    profile = Path(tempfile.mkdtemp(prefix="segreport-chromium-"))
    part = work / pdf_path.name
    try:
        stderr = _run_chromium(
            [engine, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             f"--print-to-pdf={part}", html_path.as_uri()],
            timeout)
        if not _is_pdf(part):
            raise PdfError(f"Chromium wrote no PDF for {html_path}", stderr)
        printed = part.read_bytes()
        store_entry(PDF_CACHE, f"{key}.pdf", printed, PDFS_KEPT)
        write_file_atomic(pdf_path, printed)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)
    return pdf_path


def pdf_fingerprint(html: bytes, engine: str) -> str:
    """SHA-256 of what decides a printed PDF: the HTML (self-contained: its images are
    inside it), the Chromium executable (path, size, modification time) and its flags."""
    binary = Path(engine).resolve()
    st = binary.stat()
    digest = hashlib.sha256(html)
    digest.update(f"{binary}|{st.st_size}|{st.st_mtime_ns}|{CHROMIUM_FLAGS}".encode())
    return digest.hexdigest()


def _run_chromium(command: list[str], timeout: float) -> str:
    """Run Chromium in its own process group; return the tail of its stderr.

    Chromium starts helper processes (zygote, renderer, GPU, crash handler): on a
    timeout, and after a normal exit, the whole group is killed so none outlives us. When
    we are killed ourselves (a batch stopped with SIGKILL), Chromium is killed with us
    (see :func:`_own_session_dying_with_parent`) instead of printing on into a staging
    folder that the next run is clearing.
    """
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err,
                                preexec_fn=_own_session_dying_with_parent)
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.wait()
            raise PdfError(f"Chromium did not finish printing within {timeout:g} s and "
                           "was stopped", _tail(err)) from None
        except BaseException:  # e.g. KeyboardInterrupt: leave no Chromium behind
            _kill_group(proc.pid)
            proc.wait()
            raise
        _kill_group(proc.pid)
        stderr = _tail(err)
    if returncode != 0:
        raise PdfError(f"Chromium failed with exit status {returncode}", stderr, returncode)
    return stderr


_PR_SET_PDEATHSIG = 1


def _own_session_dying_with_parent() -> None:
    """In the child, before Chromium starts: a session (and process group) of its own, and,
    on Linux, SIGKILL when the process that started it dies."""
    os.setsid()
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(stream) -> str:
    stream.seek(0)
    lines = stream.read().decode("utf-8", "replace").splitlines()
    useful = [line for line in lines if not NOISE.search(line)]
    return "\n".join((useful or lines)[-STDERR_TAIL_LINES:])


def _is_pdf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(5) == b"%PDF-"
    except OSError:
        return False
