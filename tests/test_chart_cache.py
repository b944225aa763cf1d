"""Chart images are kept between runs and found again by what decides their pixels
(segreport.charts.figure_png / figure_fingerprint)."""
from __future__ import annotations

import base64
import os
import subprocess
import sys

import matplotlib
import pandas as pd
import pytest
from IPython.core import pylabtools

from segreport import charts
from segreport import columns as C

KPIS = pd.DataFrame({C.KPI: ["revenue"] * 3, C.SEGMENT: ["Gold", "Silver", C.ALL_SEGMENTS],
                     C.VALUE: [120.0, 80.0, 200.0], C.UNIT: ["$"] * 3})


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGREPORT_CACHE_DIR", str(tmp_path / "cache"))
    charts.set_theme()


def revenue_chart(kpis=KPIS):
    return charts.revenue_mix_chart(kpis, charts.segment_colors(["Gold", "Silver"]))


def drawn(monkeypatch) -> list[int]:
    """Counts the figures actually drawn (IPython's print_figure calls)."""
    calls: list[int] = []
    real = pylabtools.print_figure

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pylabtools, "print_figure", counting)
    return calls


def test_the_same_chart_made_again_is_read_from_the_cache_not_drawn(monkeypatch):
    calls = drawn(monkeypatch)
    first = charts.figure_png(revenue_chart(), bbox_inches=None)
    again = charts.figure_png(revenue_chart(), bbox_inches=None)  # a new Figure, same chart
    assert len(calls) == 1
    assert again == first
    assert base64.b64decode(first).startswith(b"\x89PNG")


def test_a_changed_value_title_style_or_print_option_draws_the_chart_again(monkeypatch):
    calls = drawn(monkeypatch)
    base = charts.figure_fingerprint(revenue_chart(), bbox_inches=None)
    changed = KPIS.assign(**{C.VALUE: [120.0, 80.01, 200.01]})  # one cent on one segment
    titled = revenue_chart()
    titled.axes[0].set_title("Another title")
    keys = {base,
            charts.figure_fingerprint(revenue_chart(changed), bbox_inches=None),
            charts.figure_fingerprint(titled, bbox_inches=None),
            charts.figure_fingerprint(revenue_chart(), bbox_inches="tight")}
    with matplotlib.rc_context({"font.size": 20}):
        keys.add(charts.figure_fingerprint(revenue_chart(), bbox_inches=None))
    assert None not in keys and len(keys) == 5
    charts.figure_png(revenue_chart(), bbox_inches=None)
    charts.figure_png(revenue_chart(changed), bbox_inches=None)
    assert len(calls) == 2


FINGERPRINT = """
from segreport import charts
from segreport.kpis import ids
import pandas as pd
from segreport import columns as C
charts.set_theme()
history = pd.DataFrame({C.KPI: ids.RETENTION_RATE, C.SEGMENT: ["Gold", "Silver"] * 3,
                        "quarter": ["2026Q1", "2026Q1", "2026Q2", "2026Q2", "2026Q3", "2026Q3"],
                        C.VALUE: [90.0, 80, 91, 82, 92, 81], C.UNIT: "%",
                        C.CI_LOW: [88.0, 78, 89, 80, 90, 79], C.CI_HIGH: [92.0, 82, 93, 84, 94, 83]})
ax = charts.kpi_trend(history, ids.RETENTION_RATE, charts.segment_colors(["Gold", "Silver"]),
                      "2026Q3")
print(charts.figure_fingerprint(ax.figure, bbox_inches=None))
"""


def test_a_chart_has_the_same_fingerprint_in_every_kernel_segreport_starts():
    # The kernel's spec fixes string hashing (segreport.report.kernel.kernel_spec): with
    # it, two processes pickle the same trend chart (tick formatter, sets) to one key.
    from segreport.report.kernel import kernel_spec

    env = os.environ | kernel_spec()["env"]
    keys = {subprocess.run([sys.executable, "-c", FINGERPRINT], env=env, check=True,
                           capture_output=True, text=True).stdout.strip() for _ in range(2)}
    assert len(keys) == 1 and len(keys.pop()) == 64


def test_an_unpicklable_chart_is_drawn_every_time(monkeypatch):
    calls = drawn(monkeypatch)
    fig = revenue_chart()
    fig.axes[0].xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: "x"))
    assert charts.figure_fingerprint(fig) is None
    charts.figure_png(fig)
    charts.figure_png(fig)
    assert len(calls) == 2


def test_equal_labels_that_are_separate_objects_give_the_same_fingerprint():
    # pickle's own memo would write a label met twice as a back-reference when it is one
    # object and in full when it is two equal ones: the same chart would get two keys
    shared = "Gold"
    separate = "".join(["Go", "ld"])  # equal to "Gold", another object
    assert separate == shared and separate is not shared

    def chart(first: str, second: str):
        fig = revenue_chart()
        fig.axes[0].set_xlabel(first)
        fig.axes[0].set_ylabel(second)
        return charts.figure_fingerprint(fig, bbox_inches=None)

    assert chart(shared, shared) == chart(shared, separate)
