"""The notebook kernel is the interpreter running segreport, whatever the user installed.

A kernelspec named ``segreport`` that points at ``sys.executable`` is written to a private
folder and put first on ``JUPYTER_PATH`` while the notebook runs, so papermill never picks
up a stale ``python3`` kernelspec from the user's machine.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

KERNEL_NAME = "segreport"


def kernel_spec() -> dict:
    return {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     "--IPKernelApp.log_level=ERROR"],
            "display_name": "segreport (.venv)", "language": "python",
            "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"}}


@contextmanager
def project_kernel() -> Iterator[str]:
    """Yield the kernel name to give papermill, with its spec on ``JUPYTER_PATH``."""
    with tempfile.TemporaryDirectory(prefix="segreport-kernel-") as tmp:
        spec_dir = Path(tmp) / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True)
        (spec_dir / "kernel.json").write_text(json.dumps(kernel_spec()))
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (tmp, old) if p)
        try:
            yield KERNEL_NAME
        finally:
            if old is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = old


class ReusedKernel:
    """One kernel of the project kept running for several notebooks of one process (a batch
    worker): the second and later reports of the worker skip the kernel start and the
    imports. Restarted after a notebook fails, shut down when the process exits."""

    def __init__(self) -> None:
        self._stack: ExitStack | None = None
        self._km = None

    def get(self, cwd: str):
        """The running kernel manager (started in ``cwd`` on first use)."""
        from jupyter_client.manager import KernelManager

        if self._km is not None and self._km.is_alive():
            return self._km
        self.close()
        self._stack = ExitStack()
        name = self._stack.enter_context(project_kernel())
        self._km = KernelManager(kernel_name=name)
        self._km.start_kernel(cwd=cwd)
        return self._km

    def close(self) -> None:
        if self._km is not None:
            try:
                self._km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
            self._km = None
        if self._stack is not None:
            self._stack.close()
            self._stack = None
