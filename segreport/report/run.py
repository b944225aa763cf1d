"""One report: check the data, execute the notebook with papermill, render HTML, publish.

Writes ``{output_dir}/{period}/{business_unit or All}/`` with ``segment_report.ipynb``
(executed), ``segment_report.html`` and ``kpis.csv``, all moved into place together.
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
from segreport.data import period_facts, read_dataset
from segreport.period import Period
from segreport.report.kernel import project_kernel
from segreport.report.publish import (clear_stale_staging, new_staging_dir, publish_dir,
                                      safe_name)
from segreport.report.render import render_html

NOTEBOOK_NAME = "segment_report.ipynb"
HTML_NAME = "segment_report.html"
KPIS_NAME = "kpis.csv"
STAGES = ("reading and checking the data", "running the notebook", "rendering HTML",
          "publishing")


def default_notebook() -> Path:
    """The master notebook: ``notebooks/segment_report.ipynb`` beside the package, else in
    the current folder."""
    beside = Path(segreport.__file__).resolve().parents[1] / "notebooks" / NOTEBOOK_NAME
    return beside if beside.is_file() else Path("notebooks") / NOTEBOOK_NAME


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def stage(index: int, say: Callable[[str], None]) -> Iterator[None]:
    started = time.perf_counter()
    say(f"segreport: [{index}/{len(STAGES)}] {STAGES[index - 1]} …")
    yield
    say(f"segreport: [{index}/{len(STAGES)}] {STAGES[index - 1]}: done in "
        f"{time.perf_counter() - started:.1f} s")


def report_dir(params: ReportParams) -> Path:
    return (Path(params.output_dir) / safe_name(Period.parse(params.period).label)
            / safe_name(params.unit_label))


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
        with project_kernel() as kernel:
            pm.execute_notebook(str(notebook), str(out), parameters=parameters,
                                kernel_name=kernel, progress_bar=False, log_output=False,
                                cwd=str(notebook.parent))
    except PapermillExecutionError as exc:
        if exc.ename in user_error_names():
            raise errors.SegreportError(exc.evalue) from None
        raise errors.NotebookError(
            f"the notebook failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}") from exc


def run_report(params: ReportParams, notebook: Path | None = None,
               say: Callable[[str], None] = stderr_progress) -> Path:
    """Produce one report and return the folder it was published in.

    Raises
    ------
    SegreportError
        bad data or parameters (nothing is written).
    NotebookError
        the notebook failed otherwise; the executed notebook is kept beside the report
        folder as ``segment_report.failed.ipynb`` for debugging.
    """
    notebook = Path(notebook or default_notebook())
    if not notebook.is_file():
        raise errors.ConfigError(f"notebook not found: {notebook}")
    period = Period.parse(params.period)
    with stage(1, say):
        dataset = read_dataset(params.data_dir, params.columns)
        period_facts(dataset, period, params.business_unit, params.active_window_days)

    output_dir = Path(params.output_dir).resolve()
    final = report_dir(params.model_copy(update={"output_dir": str(output_dir)}))
    clear_stale_staging(output_dir)
    staging = new_staging_dir(output_dir)
    try:
        parameters = params.notebook_parameters() | {
            "data_dir": str(Path(params.data_dir).resolve()),
            "output_dir": str(output_dir),
            "kpis_csv": str(staging / KPIS_NAME),
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
            title = f"Customer segment report {period.label} — {params.unit_label}"
            (staging / HTML_NAME).write_text(render_html(staging / NOTEBOOK_NAME, title),
                                             encoding="utf-8")
        with stage(4, say):
            publish_dir(staging, final)
        say(f"segreport: report written to {final}")
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)
