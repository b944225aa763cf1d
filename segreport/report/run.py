"""One report: check the data, execute the notebook with papermill, render, publish.

Writes ``{output_dir}/{period}/{business_unit or All}/`` with ``segment_report.ipynb``
(executed), ``segment_report.html``, ``segment_report.pdf`` (when Chromium is installed)
and ``kpis.csv``, all moved into place together.
"""
from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import segreport
from segreport import errors
from segreport.config import ReportParams
from segreport.data import read_dataset
from segreport.data.cache import write_validated
from segreport.data.facts import check_period_in_data, select_business_unit
from segreport.data.read import Dataset
from segreport.data.sources import absolute
from segreport.kpis.report import check_segment_by
from segreport.period import Period
from segreport.report.kernel import kernels_die_on_ctrl_c, project_kernel
from segreport.report.publish import (
    check_output_dir,
    clear_stale_staging,
    new_staging_dir,
    publish_dir,
    remove_staging,
    safe_name,
    unit_folder,
    write_report_meta,
)
from segreport.report.render import render_html

NOTEBOOK_NAME = "segment_report.ipynb"
HTML_NAME = "segment_report.html"
PDF_NAME = "segment_report.pdf"
KPIS_NAME = "kpis.csv"
FINGERPRINT_NAME = ".inputs.sha256"
STAGES = ("reading and checking the data", "running the notebook", "rendering HTML and PDF",
          "publishing")

Say = Callable[[str], None]


def default_notebook() -> Path:
    """The master notebook: ``notebooks/segment_report.ipynb`` beside the package, else in
    the current folder."""
    beside = Path(segreport.__file__).resolve().parents[1] / "notebooks" / NOTEBOOK_NAME
    return beside if beside.is_file() else Path("notebooks") / NOTEBOOK_NAME


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


def execute(notebook: Path, out: Path, parameters: dict) -> None:
    """Execute ``notebook`` into ``out`` with papermill on the project's own kernel."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        with project_kernel() as kernel, kernels_die_on_ctrl_c():
            pm.execute_notebook(str(notebook), str(out), parameters=parameters,
                                kernel_name=kernel, progress_bar=False, log_output=False,
                                cwd=str(notebook.parent))
    except PapermillExecutionError as exc:
        if exc.ename in user_error_names():
            raise errors.SegreportError(exc.evalue) from None
        raise errors.NotebookError(
            f"the notebook failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}") from exc


def read_checked(params: ReportParams) -> Dataset:
    """Read and validate the data, and check the period and business unit against it."""
    dataset = read_dataset(params.data_source or params.data_dir, params.columns, params.tables,
                           params.password_env)
    check_period_in_data(dataset, Period.parse(params.period))
    select_business_unit(dataset, params.business_unit)
    check_segment_by(dataset, params.segment_by)
    return dataset


def render_unit(params: ReportParams, validated: Path, notebook: Path, say: Say = quiet,
                fingerprint: str | None = None) -> Path:
    """Stages 2–4 for one unit, from an already validated copy of the data.

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
    staging = new_staging_dir(output_dir)
    try:
        parameters = params.notebook_parameters() | {
            "data_dir": absolute(params.data_source or params.data_dir),
            "output_dir": str(output_dir),
            "kpis_csv": str(staging / KPIS_NAME),
            "validated_data": str(validated),
        }
        with stage(2, say):
            try:
                execute(notebook, staging / NOTEBOOK_NAME, parameters)
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


def run_report(params: ReportParams, notebook: Path | None = None, say: Say = stderr_progress) -> Path:
    """Produce one report and return the folder it was published in."""
    notebook = Path(notebook or default_notebook())
    if not notebook.is_file():
        raise errors.ConfigError(f"notebook not found: {notebook}")
    check_output_dir(Path(params.output_dir), report_dir(params).parent)
    with stage(1, say):
        dataset = read_checked(params)
    output_dir = Path(params.output_dir).resolve()
    clear_stale_staging(output_dir)
    cache = new_staging_dir(output_dir)
    try:
        write_validated(dataset, cache)
        final = render_unit(params, cache, notebook, say)
    finally:
        remove_staging(cache)
    say(f"segreport: report written to {final}")
    return final
