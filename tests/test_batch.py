"""segreport batch: one report per unit, shared preparation, skip unchanged, failures kept."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from segreport.cli import main
from segreport.sample import generate_sample

UNITS = ["Online", "Retail", "Wholesale"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("sample")
    generate_sample(data, n_customers=240, fmt="csv")
    return data


@pytest.fixture
def params_file(tmp_path: Path, sample: Path, report_params) -> Path:
    """Params of the sample's report into ``tmp_path/out``."""
    return report_params(tmp_path / "params.yaml", sample, tmp_path / "out")


def batch(params: Path, *args: str) -> int:
    return main(["batch", "--params", str(params), "--workers", "2", *args])


def test_batch_makes_one_complete_report_per_unit_and_an_index(tmp_path, sample, capsys, params_file):
    assert batch(params_file) == 0
    period = tmp_path / "out" / "2026Q3"
    for unit in UNITS:
        names = {p.name for p in (period / unit).iterdir()}
        assert {"segment_report.html", "segment_report.ipynb", "kpis.csv"} <= names
        kpis = pd.read_csv(period / unit / "kpis.csv")
        assert set(kpis.business_unit) == {unit}
    index = (period / "index.html").read_text()
    for unit in UNITS:
        assert f"href='{unit}/segment_report.html'" in index
    assert "Net revenue" in index
    # rerun: nothing changed, so every unit is skipped
    capsys.readouterr()
    assert batch(params_file) == 0
    err = capsys.readouterr().err
    assert err.count("skipped") == 3
    # --force remakes them
    assert batch(params_file, "--force") == 0
    assert capsys.readouterr().err.count(" done ") == 3


EMAIL = """email:
  sender: reports@example.com
  recipients:
    Retail: [retail@example.com]
    Online: [online@example.com]
"""


def report_texts(folder: Path) -> dict[str, str]:
    """Every artefact of a unit's report as text: HTML, notebook, kpis.csv, the PDF's text
    (pdftotext) and the e-mail with its parts decoded."""
    texts = {n: (folder / n).read_text() for n in ("segment_report.html", "segment_report.ipynb",
                                                    "kpis.csv")}
    texts["pdf"] = subprocess.run(["pdftotext", str(folder / "segment_report.pdf"), "-"],
                                  check=True, capture_output=True, text=True).stdout
    message = BytesParser(policy=default).parsebytes((folder / "segment_report.eml").read_bytes())
    texts["eml"] = "".join(str(part.get_content()) for part in message.walk()
                           if part.get_content_maintype() == "text")
    return texts


def test_unit_report_holds_only_its_own_customers(tmp_path, sample, report_params):
    params = report_params(tmp_path / "params.yaml", sample, tmp_path / "out", EMAIL)
    assert main(["batch", "--params", str(params), "--unit", "Retail", "--unit", "Online"]) == 0
    customers = pd.read_csv(sample / "customers.csv")
    online_ids = set(customers.loc[customers.business_unit == "Online", "customer_id"])
    period = tmp_path / "out" / "2026Q3"
    online_revenue = pd.read_csv(period / "Online" / "kpis.csv").query(
        "segment == 'All' and kpi == 'revenue'").value.item()
    retail_revenue = pd.read_csv(period / "Retail" / "kpis.csv").query(
        "segment == 'All' and kpi == 'revenue'").value.item()
    for name, text in report_texts(period / "Retail").items():
        assert not [cid for cid in online_ids if cid in text], name
        assert f"{online_revenue:,.0f}" not in text, name
    # the check can fail: Retail's own total is there, in the HTML, the PDF and the e-mail
    texts = report_texts(period / "Retail")
    for name in ("segment_report.html", "pdf", "eml"):
        assert f"{retail_revenue:,.0f}" in texts[name], name


def test_one_failing_unit_does_not_stop_the_others(tmp_path, sample, capsys, params_file):
    nb = nbformat.read("notebooks/segment_report.ipynb", 4)
    nb.cells.append(nbformat.v4.new_code_cell(
        'if business_unit == "Online":\n    raise RuntimeError("boom in Online")'))
    broken = tmp_path / "broken.ipynb"
    nbformat.write(nb, broken)
    assert batch(params_file, "--notebook", str(broken)) == 1
    period = tmp_path / "out" / "2026Q3"
    assert (period / "Retail" / "segment_report.html").exists()
    assert (period / "Wholesale" / "segment_report.html").exists()
    assert not (period / "Online").exists()
    assert "boom in Online" in (period / "Online.failed.ipynb").read_text()
    err = capsys.readouterr().err
    assert "failed" in err and "boom in Online" in err
    assert "failed" in (period / "index.html").read_text()


def test_a_killed_batch_leaves_no_half_written_report(tmp_path, params_file):
    proc = subprocess.Popen([sys.executable, "-m", "segreport.cli", "batch", "--params",
                             str(params_file), "--workers", "2"], stderr=subprocess.PIPE,
                            start_new_session=True)
    time.sleep(6)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    period = tmp_path / "out" / "2026Q3"
    expected = {"segment_report.html", "segment_report.ipynb", "kpis.csv"}
    for unit in UNITS:
        folder = period / unit
        assert not folder.exists() or expected <= {p.name for p in folder.iterdir()}
    # the next run clears what the killed one left in the hidden staging folder
    assert batch(params_file) == 0
    staging = tmp_path / "out" / ".staging"
    assert not staging.exists() or not any(staging.iterdir()), [
        (p, sorted(p.rglob("*"))[:5]) for p in staging.iterdir()]


def test_secret_in_environment_reaches_no_output_file(tmp_path, sample, monkeypatch, params_file):
    secret = "s3cr3t-Pa55word-never-written"
    monkeypatch.setenv("SEGREPORT_SMTP_PASSWORD", secret)
    monkeypatch.setenv("SEGREPORT_DB_PASSWORD", secret)
    assert batch(params_file, "--unit", "Retail") == 0
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
