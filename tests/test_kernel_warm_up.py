"""A kernel started early warms up while the data is prepared: the imports of every
report, and, only when the process that started it says the data is prepared afresh, the
predictive-CLV models and the report's own fit as soon as the purchase summary is ready,
then the behaviour groups as soon as the customer facts are
(segreport.report.kernel.warm_up / ReusedKernel.hint / request_fit / request_behaviour)."""
from __future__ import annotations

import json
import time

import pytest

from segreport.kpis import predictive_clv
from segreport.report import kernel as K


@pytest.fixture
def loads(monkeypatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(predictive_clv, "load_models", lambda: calls.append(1))
    return calls


@pytest.fixture
def fits(monkeypatch) -> list[tuple]:
    from segreport import pipeline

    calls: list[tuple] = []
    monkeypatch.setattr(pipeline, "fit_predicted_clv", lambda path, **kw: calls.append((path, kw)))
    return calls


@pytest.fixture
def behaviours(monkeypatch) -> list[tuple]:
    from segreport import pipeline

    calls: list[tuple] = []
    monkeypatch.setattr(pipeline, "keep_behaviour_early",
                        lambda folder, **kw: calls.append((folder, kw)))
    return calls


def no_behaviour_asked(folder) -> None:
    (folder / K.BEHAVIOUR_REQUEST_NAME).write_text("{}")


def test_the_models_are_loaded_when_the_hint_says_fit(tmp_path, loads, fits):
    hint = tmp_path / "hint"
    hint.write_text(K.FIT)
    (tmp_path / K.REQUEST_NAME).write_text("{}")  # no fit will be asked for
    no_behaviour_asked(tmp_path)
    K.warm_up(str(hint), wait=5, fit_wait=5)
    assert loads == [1] and fits == []


def test_a_kernel_told_fit_fits_the_summary_it_is_handed(tmp_path, loads, fits):
    hint = tmp_path / "hint"
    hint.write_text(K.FIT)
    asked = {"business_unit": "Retail", "clv_horizon_months": 6, "clv_discount_rate": 0.05}
    (tmp_path / K.REQUEST_NAME).write_text(json.dumps(asked))
    no_behaviour_asked(tmp_path)
    K.warm_up(str(hint), wait=5, fit_wait=5)
    assert fits == [(tmp_path / K.SUMMARY_NAME, asked)]


def test_after_the_fit_the_kernel_computes_the_behaviour_groups_it_is_asked_for(
        tmp_path, loads, fits, behaviours):
    hint = tmp_path / "hint"
    hint.write_text(K.FIT)
    (tmp_path / K.REQUEST_NAME).write_text('{"business_unit": "Retail"}')
    asked = {"period": "2026Q3", "business_unit": "Retail"}
    (tmp_path / K.BEHAVIOUR_REQUEST_NAME).write_text(json.dumps(asked))
    K.warm_up(str(hint), wait=5, fit_wait=5)
    assert len(fits) == 1 and behaviours == [(tmp_path / K.BEHAVIOUR_DIR, asked)]


def test_the_behaviour_groups_are_asked_for_even_when_no_fit_is(tmp_path, loads, fits, behaviours):
    hint = tmp_path / "hint"
    hint.write_text(K.FIT)
    (tmp_path / K.REQUEST_NAME).write_text("{}")
    (tmp_path / K.BEHAVIOUR_REQUEST_NAME).write_text('{"period": "2026Q3"}')
    K.warm_up(str(hint), wait=5, fit_wait=5)
    assert fits == [] and behaviours == [(tmp_path / K.BEHAVIOUR_DIR, {"period": "2026Q3"})]


def test_a_request_for_the_behaviour_groups_copies_what_they_are_computed_from(tmp_path):
    from segreport.pipeline import behaviour_files

    folder = tmp_path / "being-written"
    folder.mkdir()
    names = behaviour_files("2026Q3")
    for name in names[:1] + names[2:]:  # no facts of the quarter before (the data's first)
        (folder / name).write_bytes(name.encode())
    kernel = K.ReusedKernel()
    kernel._hint = tmp_path / "hints" / "hint"  # as a hinted kernel has it, without a kernel
    kernel._hint.parent.mkdir()
    kernel.hint(K.FIT)
    kernel.request_behaviour(folder, "2026Q3", "Retail")
    kernel.request_behaviour(folder, "2026Q2", "Online")  # only the first request counts
    kernel.no_more_requests()  # and it stays
    copy = kernel._hint.with_name(K.BEHAVIOUR_DIR)
    assert sorted(p.name for p in copy.iterdir()) == sorted(names[:1] + names[2:])
    assert all((copy / n).read_bytes() == n.encode() for n in names[:1] + names[2:])
    asked = json.loads(kernel._hint.with_name(K.BEHAVIOUR_REQUEST_NAME).read_text())
    assert asked == {"period": "2026Q3", "business_unit": "Retail"}
    assert json.loads(kernel._hint.with_name(K.REQUEST_NAME).read_text()) == {}


def test_a_kernel_told_fit_stops_waiting_for_a_summary_that_never_comes(tmp_path, loads, fits,
                                                                        behaviours):
    hint = tmp_path / "hint"
    hint.write_text(K.FIT)
    started = time.monotonic()
    K.warm_up(str(hint), wait=5, fit_wait=0.3)
    assert loads == [1] and fits == [] and behaviours == []
    assert time.monotonic() - started >= 0.6  # the fit's wait, then the behaviour's


def test_the_models_are_not_loaded_when_the_hint_says_no_fit(tmp_path, loads, fits):
    hint = tmp_path / "hint"
    hint.write_text(K.NO_FIT)
    (tmp_path / K.REQUEST_NAME).write_text('{"business_unit": ""}')  # not even looked at
    K.warm_up(str(hint), wait=5, fit_wait=5)
    assert loads == [] and fits == []


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


def test_a_kernel_told_fit_is_ready_with_the_models_once_told_no_fit_will_come(tmp_path):
    kernel = K.ReusedKernel()
    km = kernel.get(str(tmp_path), hinted=True)
    try:
        kernel.hint(K.FIT)
        kernel.no_more_requests()  # e.g. the data could not be prepared
        client = km.client()
        client.start_channels()
        client.wait_for_ready(timeout=120)
        seen: list[str] = []
        client.execute_interactive(
            "import sys; print(sorted(m for m in ('segreport.charts', 'pymc_marketing') "
            "if m in sys.modules))",
            output_hook=lambda msg: seen.append(msg["content"].get("text", "")), timeout=60)
        client.stop_channels()
    finally:
        kernel.close()
    assert "".join(seen).strip() == "['pymc_marketing', 'segreport.charts']"


def test_a_fit_that_fails_in_the_warm_up_is_left_to_the_notebook(tmp_path, loads, monkeypatch):
    from segreport import pipeline

    def broken(path, **kw):
        raise OSError("summary unreadable")

    monkeypatch.setattr(pipeline, "fit_predicted_clv", broken)
    hint = tmp_path / "hint"
    hint.write_text(K.FIT)
    (tmp_path / K.REQUEST_NAME).write_text('{"business_unit": ""}')
    no_behaviour_asked(tmp_path)
    K.warm_up(str(hint), wait=5, fit_wait=5)  # no exception: the kernel starts all the same
    assert loads == [1]


def test_behaviour_groups_that_fail_in_the_warm_up_are_left_to_the_notebook(tmp_path, loads,
                                                                             fits):
    hint = tmp_path / "hint"
    hint.write_text(K.FIT)
    (tmp_path / K.REQUEST_NAME).write_text("{}")
    # asked for, but the copied files are not there: the kernel starts all the same
    (tmp_path / K.BEHAVIOUR_REQUEST_NAME).write_text('{"period": "2026Q3"}')
    K.warm_up(str(hint), wait=5, fit_wait=5)
    assert loads == [1]


def test_behaviour_groups_claimed_by_the_starting_process_are_left_to_it(tmp_path, loads, fits,
                                                                          behaviours):
    # ``segreport run`` whose preparation ends while the kernel still fits makes the groups
    # itself (ReusedKernel.claim_behaviour); the kernel, when it gets to them, leaves them
    hint = tmp_path / "hint"
    hint.write_text(K.FIT)
    (tmp_path / K.REQUEST_NAME).write_text("{}")
    (tmp_path / K.BEHAVIOUR_REQUEST_NAME).write_text('{"period": "2026Q3"}')
    kernel = K.ReusedKernel()
    kernel._hint = hint  # as a hinted kernel has it, without a kernel
    assert kernel.claim_behaviour()
    K.warm_up(str(hint), wait=5, fit_wait=5)
    assert behaviours == []


def test_a_kernel_not_told_fit_is_handed_nothing(tmp_path):
    # it reads no request: neither the purchase summary nor the facts are written for it
    import pandas as pd

    kernel = K.ReusedKernel()
    kernel._hint = tmp_path / "hint"  # as a hinted kernel has it, without a kernel
    kernel.hint(K.NO_FIT)
    (tmp_path / "prepared").mkdir()
    kernel.request_fit(pd.DataFrame({"customer_id": ["C1"]}), "", 12, 0.1)
    kernel.request_behaviour(tmp_path / "prepared", "2026Q3", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hint", "prepared"]


def test_only_the_first_claim_of_the_behaviour_groups_counts(tmp_path):
    kernel = K.ReusedKernel()
    assert kernel.claim_behaviour()  # a kernel not started hinted computes nothing itself
    kernel._hint = tmp_path / "hint"
    assert K.claimed(tmp_path / K.BEHAVIOUR_CLAIM)  # the kernel got to them first
    assert not kernel.claim_behaviour()
    assert not K.claimed(tmp_path / K.BEHAVIOUR_CLAIM)
