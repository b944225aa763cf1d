"""Every business unit in one command: ``segreport batch``.

The data is read, checked and computed once, in this process, into a folder of KPI panels that
every unit's notebook reads; the units then run in parallel worker processes. A unit that
fails does not stop the others: its executed notebook is kept, the summary names it, and
the exit status is non-zero. A unit whose inputs (data files, parameters, notebook and
package code) have not changed since its last report is skipped unless ``force``.
"""
from __future__ import annotations

import atexit
import hashlib
import json
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import segreport
from segreport import columns as C
from segreport import errors
from segreport.config import ReportParams
from segreport.data.dataset import DatasetInfo
from segreport.errors import one_line
from segreport.prepared.folder import prepared_files
from segreport.report.kernel import (
    WARM_UP,
    ReusedKernel,
    drop_kernel_specs,
    kill_kernels,
)
from segreport.report.names import (
    FINGERPRINT_NAME,
    HTML_NAME,
    INDEX_NAME,
    KPIS_NAME,
    NOTEBOOK_NAME,
)
from segreport.report.publish import (
    check_output_dir,
    check_unit_folders,
    clear_stale_staging,
    writing_report,
)
from segreport.report.run import (
    default_notebook,
    prepare_data,
    render_unit,
    report_dir,
    stderr_progress,
)

BY_CHOICES = (C.BUSINESS_UNIT,)


@dataclass
class UnitResult:
    """What happened to one unit's report: ``done``, ``skipped`` or ``failed``."""

    unit: str
    period: str
    status: str
    folder: Path
    error: str = ""
    seconds: float = 0.0


def check_by(by: str) -> None:
    if by not in BY_CHOICES:
        raise errors.ConfigError(f"--by {by!r}: only {', '.join(BY_CHOICES)} is supported")


def units_in_data(info: DatasetInfo, by: str = C.BUSINESS_UNIT) -> list[str]:
    """The values of ``by`` found in the customers table, sorted."""
    check_by(by)
    if C.CUSTOMERS not in info.tables:
        raise errors.ConfigError(
            f"--by {by}: the data folder {info.data_dir} has no customers table to take "
            f"{by} from")
    return list(info.units)


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def code_digest(notebook: Path) -> str:
    """Hash of the notebook and of the package's code and cards."""
    h = hashlib.sha256(Path(notebook).read_bytes())
    root = Path(segreport.__file__).parent
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".yaml", ".j2", ".json") and path.is_file():
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def fingerprint(params: ReportParams, data_digest: str, code: str) -> str:
    """What a unit's report depends on (parameters, data, code and the analyst's note);
    equal fingerprints mean an identical report."""
    from segreport.report.commentary import note_digest

    relevant = params.model_dump(exclude={"output_dir"})
    note = note_digest(params.commentary_dir, params.period, params.business_unit)
    payload = json.dumps({"params": relevant, "data": data_digest, "code": code, "note": note},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def is_current(params: ReportParams, digest: str) -> bool:
    folder = report_dir(params)
    marker = folder / FINGERPRINT_NAME
    complete = all((folder / n).is_file() for n in (NOTEBOOK_NAME, HTML_NAME, KPIS_NAME))
    return complete and marker.is_file() and marker.read_text().strip() == digest


def _init_worker(stop, cwd: str) -> None:
    """Worker start-up: the worker's notebook kernel starts in ``cwd`` and imports what
    the reports need while the batch prepares the data. Ctrl-C is ignored here: the batch
    process alone handles it, and sets ``stop``; then a watcher thread kills the worker's
    notebook kernel and ends the worker at once, quietly (the batch clears the staging
    folder it leaves)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        stop.wait()
        kill_kernels()
        drop_kernel_specs()
        os._exit(130)

    threading.Thread(target=watch, name="segreport-stop", daemon=True).start()
    try:
        _KERNEL.get(cwd, WARM_UP)
    except Exception:  # noqa: BLE001 - the first report starts it again, and says why not
        _KERNEL.close()


def _started() -> None:
    """A task that only makes the pool start a worker."""


_KERNEL = ReusedKernel()
atexit.register(_KERNEL.close)


def _render_worker(params_json: str, prepared: str, notebook: str, digest: str) -> tuple[str, str]:
    """Run in a worker process: one unit's report, on the worker's kernel (kept for its
    next unit). Returns (status, error message)."""
    params = ReportParams.model_validate_json(params_json)
    try:
        kernel = _KERNEL.get(str(Path(notebook).parent))
        render_unit(params, Path(prepared), Path(notebook), fingerprint=digest, kernel=kernel)
    except (errors.SegreportError, errors.NotebookError) as exc:
        _KERNEL.close()
        return "failed", str(exc)
    except Exception as exc:  # one unit's bug must not stop the batch
        _KERNEL.close()
        return "failed", f"{type(exc).__name__}: {exc}"
    return "done", ""


@contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Ignore SIGINT while worker processes start, so that they inherit it ignored (from
    their first instruction: no traceback from a worker still importing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def check_folders(params: ReportParams, units: list[str], period: str) -> None:
    """Refuse two units whose reports would share a folder, before any work."""
    check_unit_folders((unit, report_dir(ReportParams.model_validate(
        params.model_dump() | {"period": period, "business_unit": unit}))) for unit in units)


def run_batch(params: ReportParams, periods: list[str] | None = None, units: list[str] | None = None,
              workers: int = 2, force: bool = False, notebook: Path | None = None,
              by: str = C.BUSINESS_UNIT, show_progress: bool = True) -> list[UnitResult]:
    """One report per unit (and per period), in parallel; returns one result per report."""
    from segreport.report.email_settings import EmailSettings

    notebook = Path(notebook or default_notebook())
    periods = periods or [params.period]
    say = stderr_progress if show_progress else (lambda _m: None)
    started = time.perf_counter()
    settings = EmailSettings.from_dict(params.email) if params.email else None
    for period in periods:
        check_output_dir(Path(params.output_dir), Path(params.output_dir) / period)
    check_by(by)
    # The workers and their notebook kernels start (and import) while the data is prepared.
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=ctx,
                             initializer=_init_worker,
                             initargs=(stop, str(notebook.parent))) as pool:
        with _workers_ignore_ctrl_c():
            for _ in range(max(1, workers)):
                pool.submit(_started)
        return _run_batch(pool, stop, params, periods, units, workers, force, notebook, by,
                          say, show_progress, settings, started)


def _run_batch(pool, stop, params, periods, units, workers, force, notebook, by, say,
               show_progress, settings, started) -> list[UnitResult]:
    from tqdm import tqdm

    from segreport.report.index import write_index

    say("segreport: reading, checking and computing every quarter and unit once …")
    first = params.model_copy(update={"period": periods[0], "business_unit": ""})
    prepared = prepare_data(first, periods)
    known = units_in_data(prepared.info, by)
    unknown = [u for u in (units or []) if u not in known]
    if unknown:
        raise errors.ConfigError(
            f"--unit {', '.join(map(repr, unknown))}: not found in column "
            f"'{prepared.info.user_column(C.CUSTOMERS, by)}' of "
            f"{prepared.info.file_of(C.CUSTOMERS)}; units present: {', '.join(known)}")
    units = list(dict.fromkeys(units or known))
    check_folders(params, units, periods[0])
    output_dir = Path(params.output_dir).resolve()
    clear_stale_staging(output_dir)
    cache = prepared.folder
    results: list[UnitResult] = []
    # what the reports read, not the sources: a database has no files, and a change in
    # any source shows in what was computed from it
    data_digest = hashlib.sha256("".join(
        _file_digest(p) for p in prepared_files(cache)).encode()).hexdigest()
    code = code_digest(notebook)
    say(f"segreport: data ready in {time.perf_counter() - started:.1f} s; "
        f"{len(units) * len(periods)} reports to make with {workers} workers")
    jobs = []
    for period in periods:
        for unit in units:
            p = ReportParams.model_validate(params.model_dump() | {
                "period": period, "business_unit": unit, "output_dir": str(output_dir)})
            digest = fingerprint(p, data_digest, code)
            if not force and is_current(p, digest):
                results.append(UnitResult(unit, period, "skipped", report_dir(p)))
                continue
            jobs.append((p, digest))
    bar = tqdm(total=len(jobs), unit="report", disable=not show_progress,
               desc=f"done 0 · failed 0 · remaining {len(jobs)}",
               bar_format="{desc} |{bar}| {n_fmt}/{total_fmt} reports [elapsed {elapsed}]")
    done = failed = 0
    futures = {pool.submit(_render_worker, p.model_dump_json(), str(cache),
                           str(notebook), digest): (p, time.perf_counter())
               for p, digest in jobs}
    try:
        for future in as_completed(futures):
            p, t0 = futures[future]
            status, error = future.result()
            done += status == "done"
            failed += status == "failed"
            results.append(UnitResult(p.unit_label, p.period, status, report_dir(p),
                                      error, time.perf_counter() - t0))
            bar.set_description_str(f"done {done} · failed {failed} · remaining "
                                    f"{len(jobs) - done - failed}")
            bar.update()
    except KeyboardInterrupt:  # the workers ignore it: stop them
        bar.close()
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        clear_stale_staging(output_dir)
        raise
    bar.close()
    # again at the end: a run killed just before this one may still have been ending (its
    # processes alive) when this one started
    clear_stale_staging(output_dir)
    if settings is not None:
        write_unit_emails(params, [r for r in results if r.status != "failed"], say, settings)
    for period in periods:
        with writing_report(output_dir, output_dir / period / INDEX_NAME):
            write_index(output_dir / period, [r for r in results if r.period == period])
    return sorted(results, key=lambda r: (r.period, r.unit))


def write_unit_emails(params: ReportParams, results: list[UnitResult], say,
                      settings=None) -> None:
    """Write each report's e-mail (``segment_report.eml``) beside it, ready for
    ``segreport email`` to send. A unit with no recipients in the params file, or whose
    message cannot be made, is skipped with a message; the others are still written."""
    from segreport.report.email_message import build_message, write_eml
    from segreport.report.email_settings import EmailSettings, recipients_key
    from segreport.report.names import EML_NAME

    settings = settings or EmailSettings.from_dict(params.email)
    for r in results:
        if r.unit not in settings.recipients:
            say(f"segreport: {one_line(r.unit)}: no e-mail written (add recipients under "
                f"email.recipients.{recipients_key(r.unit)} in the params file)")
            continue
        try:
            write_eml(build_message(r.folder, settings, r.period, r.unit), r.folder / EML_NAME)
        except (errors.SegreportError, OSError, ValueError) as exc:
            say(f"segreport: {one_line(r.unit)}: no e-mail written: {one_line(exc)}")

