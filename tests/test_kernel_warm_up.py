"""A kernel started early warms up while the data is prepared: the imports of every
report, and the predictive-CLV models only when the process that started it says the data
is prepared afresh (segreport.report.kernel.warm_up / ReusedKernel.hint)."""
from __future__ import annotations

import time

import pytest

from segreport.kpis import predictive_clv
from segreport.report import kernel as K


@pytest.fixture
def loads(monkeypatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(predictive_clv, "load_models", lambda: calls.append(1))
    return calls


def test_the_models_are_loaded_when_the_hint_says_fit(tmp_path, loads):
    hint = tmp_path / "hint"
    hint.write_text(K.FIT)
    K.warm_up(str(hint), wait=5)
    assert loads == [1]


def test_the_models_are_not_loaded_when_the_hint_says_no_fit(tmp_path, loads):
    hint = tmp_path / "hint"
    hint.write_text(K.NO_FIT)
    K.warm_up(str(hint), wait=5)
    assert loads == []


def test_without_a_hint_the_kernel_stops_waiting(tmp_path, loads):
    started = time.monotonic()
    K.warm_up(str(tmp_path / "never-written"), wait=0.3)
    assert loads == [] and time.monotonic() - started >= 0.3


def test_only_the_first_hint_counts_and_an_unhinted_kernel_ignores_hints(tmp_path):
    kernel = K.ReusedKernel()
    kernel.hint(K.FIT)  # not started: nothing to tell, nothing written
    km = kernel.get(str(tmp_path), hinted=True)
    try:
        kernel.hint(K.NO_FIT)
        kernel.hint(K.FIT)
        client = km.client()
        client.start_channels()
        client.wait_for_ready(timeout=120)  # ready once the hint was read
        seen: list[str] = []

        def keep(msg) -> None:
            if msg["msg_type"] == "stream":
                seen.append(msg["content"]["text"])

        client.execute_interactive(
            "import sys; print(sorted(m for m in ('segreport.charts', 'pymc_marketing') "
            "if m in sys.modules))", output_hook=keep, timeout=60)
        client.stop_channels()
    finally:
        kernel.close()
    assert "".join(seen).strip() == "['segreport.charts']"  # imported; no model loaded
