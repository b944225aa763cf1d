"""End to end: the master notebook through papermill and nbconvert on small data."""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from segreport.cli import main
from segreport.sample import generate_sample

# The data: conftest.py's `tiny` (TINY_ORDERS, TINY_CUSTOMERS).


@pytest.fixture
def run(report_params):
    """``segreport run`` of ``data`` into ``tmp_path/out``; its exit status."""
    def run(tmp_path: Path, data: Path, *extra: str) -> int:
        params = report_params(tmp_path / "params.yaml", data, tmp_path / "out")
        return main(["run", "--params", str(params), *extra])
    return run


def test_run_writes_notebook_html_and_kpis_with_the_hand_computed_numbers(tmp_path, tiny, run):
    assert run(tmp_path, tiny) == 0
    folder = tmp_path / "out" / "2026Q3" / "All"
    assert {p.name for p in folder.iterdir()} >= {
        "kpis.csv", "segment_report.html", "segment_report.ipynb"}
    kpis = pd.read_csv(folder / "kpis.csv")
    assert list(kpis.columns) == ["kpi", "period", "business_unit", "segment", "value",
                                  "numerator", "denominator", "unit", "band", "ci_low",
                                  "ci_high", "small_sample", "previous_value", "target",
                                  "status"]
    value = {(r.segment, r.kpi): r.value for r in kpis.itertuples()}
    # Q3 2026 = [2026-07-01, 2026-10-01), window 365 days.
    # S: A (order 2026-01-10) and B (order 2026-03-01) -> 2; C signed up 2026-08-01 -> not in S.
    # E: A (orders 01-10, 07-01), B (03-01; the -5 refund is not an order), C (08-15) -> 3.
    assert value[("All", "customers_start")] == 2
    assert value[("All", "customers_end")] == 3
    # growth (3 - 2) / 2 = 50 %, strong (>= 10)
    assert value[("All", "segment_growth_rate")] == 50
    bands = {(r.segment, r.kpi): r.band for r in kpis.itertuples()}
    assert bands[("All", "segment_growth_rate")] == "strong"
    assert pd.isna(bands[("All", "retention_rate")])  # only growth has bands
    # revenue in Q3: 50 (A) - 5 (B refund) + 70 (C) = 115; orders 2 (the refund is not one)
    assert value[("All", "revenue")] == 115
    assert value[("All", "orders")] == 2
    # Silver: B's only Q3 row is a refund -> 0 orders -> average order value empty
    assert pd.isna(value[("Silver", "average_order_value")])
    # Gold: revenue 50 + 70 = 120 of 115 -> 104.35 %; Silver: -5 of 115 -> -4.35 %
    assert value[("Gold", "sales_contribution")] == pytest.approx(104.3478, abs=1e-4)
    assert value[("Silver", "sales_contribution")] == pytest.approx(-4.3478, abs=1e-4)
    assert set(kpis.period) == {"2026Q3"} and set(kpis.business_unit) == {"All"}


def test_html_is_self_contained_hides_code_and_parameters(tmp_path, tiny, run):
    assert run(tmp_path, tiny) == 0
    html = (tmp_path / "out" / "2026Q3" / "All" / "segment_report.html").read_text()
    assert "Customer segment report — 2026Q3" in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "require.js" not in html and "mathjax" not in html.lower()
    assert html.count("data:image/png;base64") >= 4
    assert "read_dataset(" not in html and "kpis_csv" not in html
    assert "injected-parameters" not in html
    # the scorecard shows the numbers of kpis.csv: All revenue 115, AOV 57.50, growth +50.0%
    assert "+50.0%" in html and "57.50" in html and ">115<" in html.replace(" *", "")
    assert "no orders in the period" in html  # the empty AOV explains itself


def test_executed_notebook_records_the_parameters(tmp_path, tiny, run):
    assert run(tmp_path, tiny, "--set", "active_window_days=90") == 0
    nb = nbformat.read(tmp_path / "out" / "2026Q3" / "All" / "segment_report.ipynb", 4)
    params = nb.metadata["papermill"]["parameters"]
    assert params["active_window_days"] == 90 and params["period"] == "2026Q3"


def test_business_unit_report_goes_to_its_own_folder_and_holds_only_its_customers(tmp_path, run):
    data = tmp_path / "sample"
    generate_sample(data, n_customers=300, fmt="csv")
    assert run(tmp_path, data, "--set", "business_unit=Online", "--set", "predictive_clv=true") == 0
    kpis = pd.read_csv(tmp_path / "out" / "2026Q3" / "Online" / "kpis.csv")
    assert set(kpis.business_unit) == {"Online"}
    customers = pd.read_csv(data / "customers.csv")
    online = (customers.business_unit == "Online").sum()
    end = kpis.query("segment == 'All' and kpi == 'customers_end'").value.item()
    assert 0 < end <= online
    # predictive CLV is fitted in the notebook and named with its library in the report
    predicted = kpis.query("kpi == 'predicted_clv'").set_index("segment").value
    assert predicted.notna().all() and (predicted > 0).all() and "All" in predicted.index
    html = (tmp_path / "out" / "2026Q3" / "Online" / "segment_report.html").read_text()
    assert "pymc-marketing" in html and "BG/NBD" in html


def test_a_failing_notebook_publishes_nothing_and_keeps_the_executed_notebook(tmp_path, tiny, run):
    broken = nbformat.read(Path("notebooks/segment_report.ipynb"), 4)
    broken.cells.append(nbformat.v4.new_code_cell("1 / 0"))
    path = tmp_path / "broken.ipynb"
    nbformat.write(broken, path)
    assert run(tmp_path, tiny, "--notebook", str(path)) == 1
    out = tmp_path / "out" / "2026Q3"
    assert not (out / "All").exists()
    kept = out / "All.failed.ipynb"
    assert kept.exists() and "ZeroDivisionError" in kept.read_text()
    staging = tmp_path / "out" / ".staging"
    assert not staging.exists() or not any(staging.iterdir())


def test_notebook_in_git_has_no_outputs():
    nb = json.loads(Path("notebooks/segment_report.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    assert any("parameters" in c["metadata"].get("tags", []) for c in code)
