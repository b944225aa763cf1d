"""One report: check the data, execute the notebook with papermill, render, publish.

Writes ``{output_dir}/{period}/{business_unit or All}/`` with ``segment_report.ipynb``
(executed), ``segment_report.html``, ``segment_report.pdf`` (when Chromium is installed),
``kpis.csv`` and ``kpi_history.csv``, all moved into place together.
"""
from __future__ import annotations

import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from segreport import errors
from segreport.config import ReportParams
from segreport.data.sources import absolute
from segreport.period import Period
from segreport.prepared.cached import is_prepared, prepare_cached
from segreport.prepared.folder import Prepared
from segreport.report.kernel import (
    FIT,
    NO_FIT,
    ReusedKernel,
    default_notebook,
    kernels_die_on_ctrl_c,
    project_kernel,
)
from segreport.report.names import (
    FINGERPRINT_NAME,
    HTML_NAME,
    KPIS_NAME,
    NOTEBOOK_NAME,
    PDF_NAME,
)
from segreport.report.publish import (
    check_output_dir,
    clear_stale_staging,
    is_output_error,
    new_staging_dir,
    publish_dir,
    remove_staging,
    safe_name,
    unit_folder,
    write_report_meta,
    writing_report,
)
from segreport.report.render import render_html

STAGES = ("reading and checking the data", "running the notebook", "rendering HTML and PDF",
          "publishing")

Say = Callable[[str], None]


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def quiet(message: str) -> None:
    """A progress sink that prints nothing (batch workers report through the bar)."""


@contextmanager
def stage(index: int, say: Say) -> Iterator[None]:
    started = time.perf_counter()
    say(f"segreport: [{index}/{len(STAGES)}] {STAGES[index - 1]} …")
    yield
    say(f"segreport: [{index}/{len(STAGES)}] {STAGES[index - 1]}: done in "
        f"{time.perf_counter() - started:.1f} s")


def report_dir(params: ReportParams) -> Path:
    """``{output_dir}/{period}/{unit folder}`` (see :func:`.publish.unit_folder`)."""
    return (Path(params.output_dir) / safe_name(Period.parse(params.period).label)
            / unit_folder(params.business_unit))


def user_error_names() -> set[str]:
    """Names of our user-facing exception classes, as the notebook kernel reports them."""
    found, todo = set(), [errors.SegreportError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return found


def execute(notebook: Path, out: Path, parameters: dict, kernel=None) -> None:
    """Execute ``notebook`` into ``out`` with papermill on the project's own kernel, or on
    ``kernel`` (a started ``KernelManager``, kept running afterwards) when given."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        with project_kernel() as name, kernels_die_on_ctrl_c():
            # The notebook is written once, at the end (or when a cell fails), not twice
            # per cell as papermill does by default: ~120 writes of a growing 1 MB file.
            pm.execute_notebook(str(notebook), str(out), parameters=parameters,
                                kernel_name=name, progress_bar=False, log_output=False,
                                cwd=str(notebook.parent), request_save_on_cell_execute=False,
                                **({"km": kernel} if kernel is not None else {}))
    except PapermillExecutionError as exc:
        if exc.ename in user_error_names():
            raise errors.SegreportError(exc.evalue) from None
        failed_write = _kernel_write_error(exc.ename, exc.evalue)
        if failed_write is not None and is_output_error(failed_write, out.parent):
            raise failed_write from None  # the staging folder filled up: not a bug
        raise errors.NotebookError(
            f"the notebook failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}") from exc


_OS_ERROR = re.compile(r"^\[Errno (\d+)\] (.*?)(?:: '(.*)')?$", re.DOTALL)


def _kernel_write_error(ename: str, evalue: str) -> OSError | None:
    """The ``OSError`` a notebook cell raised, rebuilt from the kernel's report of it
    (``[Errno 28] No space left on device``); None for any other error."""
    if ename not in ("OSError", "PermissionError"):
        return None
    found = _OS_ERROR.match(str(evalue).strip())
    if not found:
        return None
    return OSError(int(found[1]), found[2], found[3])


def prepare_data(params: ReportParams, periods: list[str] | None = None,
                 on_purchases=None, on_facts=None) -> Prepared:
    """Check the data in the engine and compute every KPI, quarter and unit the reports of
    ``periods`` (default: the params' period) need; reused while the source files, these
    settings and the code are unchanged (:func:`segreport.prepared.cached.prepare_cached`,
    which calls ``on_purchases`` and ``on_facts`` when it prepares afresh)."""
    return prepare_cached(params.data_source or params.data_dir, periods or [params.period],
                          business_unit=params.business_unit, targets=params.targets,
                          on_purchases=on_purchases, on_facts=on_facts,
                          **_prepare_settings(params))


def is_data_prepared(params: ReportParams, periods: list[str] | None = None) -> bool:
    """Whether :func:`prepare_data` would reuse a folder prepared before."""
    return is_prepared(params.data_source or params.data_dir, periods or [params.period],
                       **_prepare_settings(params))


def _prepare_settings(params: ReportParams) -> dict:
    return {"columns": params.columns, "tables": params.tables,
            "password_env": params.password_env,
            "active_window_days": params.active_window_days,
            "segment_by": params.segment_by, "gross_margin_pct": params.gross_margin_pct,
            "max_unknown_customer_pct": params.max_unknown_customer_pct,
            "engine": params.engine, "spark_master": params.spark_master}


def render_unit(params: ReportParams, prepared: Path, notebook: Path, say: Say = quiet,
                fingerprint: str | None = None, kernel=None) -> Path:
    """Stages 2–4 for one unit, from the folder :func:`prepare_data` wrote.

    Raises
    ------
    SegreportError
        a problem with the user's input the notebook found (nothing is written).
    NotebookError
        the notebook failed otherwise; the executed notebook is kept beside the report
        folder as ``{unit}.failed.ipynb`` for debugging.
    """
    output_dir = Path(params.output_dir).resolve()
    final = report_dir(params.model_copy(update={"output_dir": str(output_dir)}))
    with writing_report(output_dir, final):
        return _render_unit(params, prepared, notebook, say, fingerprint, kernel, output_dir,
                            final)


def _render_unit(params: ReportParams, prepared: Path, notebook: Path, say: Say,
                 fingerprint: str | None, kernel, output_dir: Path, final: Path) -> Path:
    staging = new_staging_dir(output_dir)
    try:
        parameters = params.notebook_parameters() | {
            "data_dir": absolute(params.data_source or params.data_dir),
            "output_dir": str(output_dir),
            "commentary_dir": str(Path(params.commentary_dir).resolve()),
            "kpis_csv": str(staging / KPIS_NAME),
            "prepared_data": str(prepared),
        }
        with stage(2, say):
            try:
                execute(notebook, staging / NOTEBOOK_NAME, parameters, kernel)
            except errors.NotebookError as exc:
                kept = final.parent / f"{final.name}.failed.ipynb"
                if (staging / NOTEBOOK_NAME).exists():
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(str(staging / NOTEBOOK_NAME), kept)
                    raise errors.NotebookError(str(exc), str(kept)) from exc
                raise
        with stage(3, say):
            title = f"Customer segment report {Period.parse(params.period).label} — {params.unit_label}"
            (staging / HTML_NAME).write_text(render_html(staging / NOTEBOOK_NAME, title),
                                             encoding="utf-8")
            pdf_or_warn(staging / HTML_NAME, staging / PDF_NAME, say)
        with stage(4, say):
            if fingerprint:
                (staging / FINGERPRINT_NAME).write_text(fingerprint)
            write_report_meta(staging, params.business_unit, Period.parse(params.period).label)
            failed = final.parent / f"{final.name}.failed.ipynb"
            failed.unlink(missing_ok=True)
            publish_dir(staging, final)
        return final
    finally:
        remove_staging(staging)


def pdf_or_warn(html: Path, pdf: Path, say: Say) -> bool:
    """Print ``html`` to ``pdf`` with Chromium; without Chromium, say how to install it."""
    try:
        from segreport.report.pdf import html_to_pdf
    except ImportError:
        return False
    try:
        html_to_pdf(html, pdf)
    except errors.PdfEngineMissing as exc:
        say(f"segreport: {exc}")
        return False
    except errors.PdfError as exc:  # the HTML report stands without its PDF
        say(f"segreport: warning: PDF not made: {exc}")
        return False
    return True


def _fit_in(kernel: ReusedKernel, params: ReportParams):
    """The ``on_purchases`` of :func:`prepare_data` that asks ``kernel`` to fit the
    report's predictive-CLV models to its period's purchase summary."""
    period = Period.parse(params.period).label

    def on_purchases(label: str, summary) -> None:
        if label == period:
            kernel.request_fit(summary, params.business_unit, params.clv_horizon_months,
                               params.clv_discount_rate)

    return on_purchases


def _behaviour_in(kernel: ReusedKernel, params: ReportParams, handed: list[str]):
    """The ``on_facts`` of :func:`prepare_data` that asks ``kernel`` to compute the
    report's behaviour groups from the customer facts just written (and notes the period in
    ``handed``)."""
    period = Period.parse(params.period).label

    def on_facts(label: str, folder: Path) -> None:
        if label == period:
            handed.append(label)
            kernel.request_behaviour(folder, label, params.business_unit)

    return on_facts


def _keep_behaviour(folder: Path, params: ReportParams) -> None:
    """The report's behaviour groups made here, while the kernel is still busy with its
    fit; should they fail, the notebook makes them again and says why."""
    from segreport.pipeline import keep_behaviour

    try:
        keep_behaviour(folder, params.period, params.business_unit)
    except Exception:  # noqa: BLE001 - the notebook reports the failure in its place
        pass


def run_report(params: ReportParams, notebook: Path | None = None, say: Say = stderr_progress,
               kernel: ReusedKernel | None = None) -> Path:
    """Produce one report and return the folder it was published in. ``kernel`` is the
    notebook's kernel when the caller started it already (it is shut down at the end)."""
    notebook = Path(notebook or default_notebook())
    if not notebook.is_file():
        raise errors.ConfigError(f"notebook not found: {notebook}")
    check_output_dir(Path(params.output_dir), report_dir(params).parent)
    output_dir = Path(params.output_dir).resolve()
    clear_stale_staging(output_dir)
    # The notebook's kernel starts and imports while the data is prepared; when the data
    # is prepared afresh (so the predictive-CLV fit is unlikely to be cached) it also
    # imports the models and fits them as soon as the purchase summary is computed, then
    # computes the behaviour groups as soon as the customer facts are.
    kernel = kernel or ReusedKernel()
    try:
        km = kernel.get(str(notebook.parent), hinted=True)
        fresh = params.predictive_clv and not is_data_prepared(params)
        kernel.hint(FIT if fresh else NO_FIT)
        with stage(1, say):
            try:
                handed: list[str] = []
                prepared = prepare_data(params, on_purchases=_fit_in(kernel, params),
                                        on_facts=_behaviour_in(kernel, params, handed))
            finally:
                kernel.no_more_requests()
            if handed and kernel.claim_behaviour():
                _keep_behaviour(prepared.folder, params)
        final = render_unit(params, prepared.folder, notebook, say, kernel=km)
    except KeyboardInterrupt:
        kernel.kill()
        raise
    finally:
        kernel.close()
    say(f"segreport: report written to {final}")
    return final
