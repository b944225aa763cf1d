"""The notebook kernel is the interpreter running segreport, whatever the user installed.

A kernelspec named ``segreport`` that points at ``sys.executable`` is written to a private
folder and put first on ``JUPYTER_PATH`` while the notebook runs, so papermill never picks
up a stale ``python3`` kernelspec from the user's machine.

Ctrl-C while a notebook runs kills its kernel at once (:func:`kernels_die_on_ctrl_c`): a
kernel asked to shut down in the middle of a cell prints tracebacks of its own.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from segreport.files import write_file_atomic
from segreport.report.names import NOTEBOOK_NAME

KERNEL_NAME = "segreport"
#: The temporary kernelspec folders in use, for :func:`drop_kernel_specs`.
_SPEC_DIRS: set[str] = set()


def default_notebook() -> Path:
    """The master notebook: ``notebooks/segment_report.ipynb`` beside the package, else in
    the current folder."""
    beside = Path(__file__).resolve().parents[2] / "notebooks" / NOTEBOOK_NAME
    return beside if beside.is_file() else Path("notebooks") / NOTEBOOK_NAME


def kernel_spec() -> dict:
    """The kernel of this interpreter; it ends by itself when the process that started it
    (this one) is gone, even killed (``parent_handle``: ipykernel polls its parent). Its
    string hashing is fixed, so a chart pickles to the same bytes in every run (sets
    iterate in hash order) and is found in the chart cache (:func:`.charts.figure_png`)."""
    return {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     "--IPKernelApp.log_level=ERROR",
                     f"--IPKernelApp.parent_handle={os.getpid()}"],
            "display_name": "segreport (.venv)", "language": "python",
            "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1", "PYTHONHASHSEED": "0"}}


@contextmanager
def project_kernel() -> Iterator[str]:
    """Yield the kernel name to give papermill, with its spec on ``JUPYTER_PATH``."""
    with tempfile.TemporaryDirectory(prefix="segreport-kernel-") as tmp:
        spec_dir = Path(tmp) / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True)
        (spec_dir / "kernel.json").write_text(json.dumps(kernel_spec()))
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (tmp, old) if p)
        _SPEC_DIRS.add(tmp)
        try:
            yield KERNEL_NAME
        finally:
            _SPEC_DIRS.discard(tmp)
            if old is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = old


def child_pids(pid: int | None = None) -> list[int]:
    """The ids of the processes whose parent is ``pid`` (default: this process); read from
    ``/proc``, so empty where there is none."""
    pid = os.getpid() if pid is None else pid
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append(int(stat.parent.name))
    return found


def kill_group(pid: int) -> None:
    """Kill process ``pid`` at once, with the process group it leads (a kernel runs in a
    session of its own)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:  # not a group leader: only the process
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def kill_kernels() -> None:
    """Kill this process's children (the notebook kernels) at once."""
    for pid in child_pids():
        kill_group(pid)


def drop_kernel_specs() -> None:
    """Remove the temporary kernelspec folders in use (before a process ends at once)."""
    for folder in list(_SPEC_DIRS):
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def kernels_die_on_ctrl_c() -> Iterator[None]:
    """While the block runs, Ctrl-C first kills the notebook kernel(s), then does what it
    did before (``KeyboardInterrupt``). Nothing changes outside the main thread or where
    Ctrl-C is ignored."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or \
            previous in (signal.SIG_IGN, None):
        yield
        return

    def handler(signum, frame) -> None:
        kill_kernels()
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


#: What every report imports first (pandas, matplotlib, seaborn, the package: ~1.5 s); a
#: kernel started early imports them as it starts (IPython's ``exec_lines``: no history, no
#: output), while the data is prepared.
WARM_UP_MODULES = ("segreport.charts", "segreport.charts.segmentation", "segreport.pipeline",
                   "segreport.report.sections", "segreport.report.commentary",
                   "matplotlib_inline.backend_inline")
WARM_UP = f"import {', '.join(WARM_UP_MODULES)}"
#: Words a starting kernel waits for in its hint file (:func:`warm_up`).
FIT, NO_FIT = "fit", "no fit"
HINT_WAIT = 30.0
"""Seconds a starting kernel waits for its hint before it stops waiting."""
FIT_WAIT = 3600.0
"""Seconds a kernel told :data:`FIT` waits for the fit request (:meth:`ReusedKernel.request_fit`):
the data preparation before it takes minutes on a large business."""
SUMMARY_NAME, REQUEST_NAME = "purchases.parquet", "fit.json"
BEHAVIOUR_DIR, BEHAVIOUR_REQUEST_NAME = "behaviour", "behaviour.json"
BEHAVIOUR_CLAIM = "behaviour.claim"
"""Made by whichever of the kernel and the process that started it computes the behaviour
groups first (:func:`claimed`); the other leaves them."""


def claimed(path: Path) -> bool:
    """Whether this process is the first to claim ``path`` (it creates the file; an
    existing one means another process claimed it)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    return True


def _wait_for(path: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def warm_up(hint: str, wait: float = HINT_WAIT, fit_wait: float = FIT_WAIT) -> None:
    """What a kernel started early runs as it starts, while the data is prepared: the
    imports of every report, then, when the process that started it writes :data:`FIT`
    into the file ``hint`` (the data is prepared afresh, so the report's predictive-CLV fit
    is unlikely to be cached), the models' libraries (~4 s) and the report's own fit, as
    soon as that process has the purchase summary (:meth:`ReusedKernel.request_fit`): the
    fit is kept in the fit cache, where the notebook finds it; then the behaviour groups,
    once that process has the customer facts (:meth:`ReusedKernel.request_behaviour`)
    and unless it began them itself (:meth:`ReusedKernel.claim_behaviour`, when its data
    preparation ends before this fit does): they are kept in the kernel, where the notebook
    takes them. :data:`NO_FIT` (or no hint within ``wait`` seconds) skips all of it."""
    import importlib

    for module in WARM_UP_MODULES:
        importlib.import_module(module)
    path = Path(hint)
    if not _wait_for(path, wait):
        return
    try:
        word = path.read_text().strip()
    except OSError:
        return
    if word != FIT:
        return
    from segreport.kpis.predictive_clv import load_models

    load_models()
    asked = _request_in(path.with_name(REQUEST_NAME), fit_wait)
    if asked:
        from segreport.pipeline import fit_predicted_clv

        try:
            fit_predicted_clv(path.with_name(SUMMARY_NAME), **asked)
        except Exception:  # noqa: BLE001 - the notebook fits again, and says what failed
            pass
    asked = _request_in(path.with_name(BEHAVIOUR_REQUEST_NAME), fit_wait)
    if asked and claimed(path.with_name(BEHAVIOUR_CLAIM)):
        from segreport.pipeline import keep_behaviour_early

        try:
            keep_behaviour_early(path.with_name(BEHAVIOUR_DIR), **asked)
        except Exception:  # noqa: BLE001 - the notebook computes them, and says what failed
            return


def _request_in(path: Path, seconds: float) -> dict:
    """The request written to ``path`` within ``seconds`` (empty when none came, or it
    cannot be read)."""
    if not _wait_for(path, seconds):
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


class ReusedKernel:
    """One kernel of the project kept running for several notebooks of one process (a batch
    worker, or a run while its data is prepared): later notebooks skip the kernel start and
    the imports. Restarted after a notebook fails, shut down when the process exits."""

    def __init__(self) -> None:
        self._stack: ExitStack | None = None
        self._km = None
        self._hint: Path | None = None
        self._told_fit = False

    def get(self, cwd: str, warm_up: str = "", hinted: bool = False):
        """The running kernel manager (started in ``cwd`` on first use, running the line
        ``warm_up`` as it starts). A ``hinted`` kernel runs :func:`warm_up` instead and
        waits for :meth:`hint`."""
        from jupyter_client.manager import KernelManager

        if self._km is not None and self._km.is_alive():
            return self._km
        self.close()
        self._stack = ExitStack()
        name = self._stack.enter_context(project_kernel())
        if hinted:
            self._hint = Path(self._stack.enter_context(
                tempfile.TemporaryDirectory(prefix="segreport-hint-"))) / "hint"
            warm_up = f"import segreport.report.kernel as k; k.warm_up({str(self._hint)!r})"
        self._km = KernelManager(kernel_name=name)
        self._km.start_kernel(cwd=cwd, extra_arguments=(
            [f"--IPKernelApp.exec_lines={warm_up}"] if warm_up else []))
        return self._km

    def hint(self, word: str) -> None:
        """Tell a starting kernel what to warm up (:func:`warm_up`); only the first word
        counts, and a kernel not started ``hinted`` ignores it."""
        if self._hint is None or self._hint.exists():
            return
        write_file_atomic(self._hint, word.encode())
        self._told_fit = word == FIT

    def _waits_for_requests(self) -> bool:
        """Whether the kernel was told :data:`FIT`: only then does it read the requests
        (and what they hand over is worth writing)."""
        return self._hint is not None and self._told_fit

    def request_fit(self, summary, business_unit: str, clv_horizon_months: int,
                    clv_discount_rate: float) -> None:
        """Ask a kernel told :data:`FIT` to fit the predictive-CLV models of
        ``business_unit`` in the purchase summary ``summary`` (a frame of every unit, as the
        prepared folder holds it) while it waits; only the first request counts."""
        if not self._waits_for_requests() or self._hint.with_name(REQUEST_NAME).exists():
            return
        summary.to_parquet(self._hint.with_name(SUMMARY_NAME), index=False)
        self._request({"business_unit": business_unit,
                       "clv_horizon_months": clv_horizon_months,
                       "clv_discount_rate": clv_discount_rate})

    def request_behaviour(self, folder: Path, period: str, business_unit: str) -> None:
        """Ask a kernel told :data:`FIT` to compute the behaviour groups of
        ``business_unit`` in ``period`` from the prepared folder ``folder`` (being written:
        the files they need are copied, since the folder is renamed when it is complete);
        only the first request counts."""
        from segreport.pipeline import behaviour_files

        if not self._waits_for_requests() \
                or self._hint.with_name(BEHAVIOUR_REQUEST_NAME).exists():
            return
        copy = self._hint.with_name(BEHAVIOUR_DIR)
        copy.mkdir(exist_ok=True)
        for name in behaviour_files(period):
            if (Path(folder) / name).exists():
                shutil.copyfile(Path(folder) / name, copy / name)
        self._request({"period": period, "business_unit": business_unit},
                      BEHAVIOUR_REQUEST_NAME)

    def claim_behaviour(self) -> bool:
        """Whether this process may compute the behaviour groups asked for with
        :meth:`request_behaviour`: False once the kernel has begun them (it claims them
        when it gets to them, after its fit); claiming them stops it from beginning."""
        return self._hint is None or claimed(self._hint.with_name(BEHAVIOUR_CLAIM))

    def no_more_requests(self) -> None:
        """Tell a kernel waiting for a fit or behaviour request that none will come (the
        data could not be prepared, was read from the cache, or needed no fit)."""
        if self._hint is None:
            return
        for name in (REQUEST_NAME, BEHAVIOUR_REQUEST_NAME):
            if not self._hint.with_name(name).exists():
                self._request({}, name)

    def _request(self, asked: dict, name: str = REQUEST_NAME) -> None:
        write_file_atomic(self._hint.with_name(name), json.dumps(asked).encode())

    def close(self) -> None:
        """Shut the kernel down (asking it first)."""
        if self._km is not None:
            try:
                self._km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self._forget()

    def kill(self) -> None:
        """Kill the kernel without asking: after Ctrl-C, when the interrupted notebook
        client may still hold the event loop a polite shutdown would wait on."""
        pid = getattr(getattr(self._km, "provisioner", None), "pid", None)
        if pid:
            kill_group(pid)
        self._forget()

    def _forget(self) -> None:
        self._km = None
        self._hint = None
        self._told_fit = False
        if self._stack is not None:
            self._stack.close()
            self._stack = None
