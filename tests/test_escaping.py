"""Safety: text from the data (segment and unit names) is escaped in HTML.

A small dataset (the sample, 200 customers) whose largest segment is called
``<script>alert(1)</script>`` and whose Online unit is called ``<b>Unit & Co</b>``; the other
segments and units keep ordinary names. ``marketing_spend`` keeps the old segment name, so
the value KPIs' notes name the odd segment too. One ``segreport run`` for the whole company,
one for the odd unit, one ``segreport batch`` of the odd unit and one ``segreport email
--dry-run`` over both report folders; every test reads their files. The PDF step is switched
off (``SEGREPORT_CHROMIUM`` names no program).
"""
from __future__ import annotations

import base64
import email
import re
from email import policy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from segreport import columns as C
from segreport.cli import main
from segreport.sample import generate_sample

PERIOD = "2026Q3"
SEGMENT = "<script>alert(1)</script>"
SEGMENT_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
UNIT = "<b>Unit & Co</b>"
UNIT_ESCAPED = "&lt;b&gt;Unit &amp; Co&lt;/b&gt;"
RENAMED_SEGMENT, RENAMED_UNIT = "Standard", "Online"
PNG = b"\x89PNG\r\n\x1a\n"


pytestmark = pytest.mark.usefixtures("no_pdf")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("escaping")


@pytest.fixture(scope="module")
def data(root) -> Path:
    folder = root / "data"
    generate_sample(folder, n_customers=200, fmt="csv")
    for table in (C.CUSTOMERS, C.MARKET_SIZE, C.MARKETING_SPEND, C.SEGMENTATION_COSTS):
        path = folder / f"{table}.csv"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if C.SEGMENT in frame and table != C.MARKETING_SPEND:
            frame[C.SEGMENT] = frame[C.SEGMENT].replace(RENAMED_SEGMENT, SEGMENT)
        if C.BUSINESS_UNIT in frame:
            frame[C.BUSINESS_UNIT] = frame[C.BUSINESS_UNIT].replace(RENAMED_UNIT, UNIT)
        frame.to_csv(path, index=False, lineterminator="\n")
    customers = pd.read_csv(folder / "customers.csv")
    assert (customers[C.SEGMENT] == SEGMENT).sum() > 10
    assert (customers[C.BUSINESS_UNIT] == UNIT).sum() > 10
    assert len(set(customers[C.BUSINESS_UNIT])) >= 2 and len(set(customers[C.SEGMENT])) >= 2
    return folder


def params_file(root: Path, data: Path, name: str, output: Path, extra: dict | None = None) -> Path:
    path = root / f"{name}.yaml"
    content = {"data_dir": str(data), "period": PERIOD, "output_dir": str(output),
               "predictive_clv": False} | (extra or {})
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reports(root, data) -> dict:
    """One run for every unit together, one for the odd unit; exit statuses and folders."""
    out = root / "out"
    params = params_file(root, data, "run", out)
    status_all = main(["run", "--params", str(params)])
    status_unit = main(["run", "--params", str(params), "--set", f"business_unit={UNIT}"])
    period_dir = out / PERIOD
    unit_folders = [p for p in period_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
                    and p.name != "All"]
    return {"status": (status_all, status_unit), "out": out, "period_dir": period_dir,
            "all": period_dir / "All", "unit_folders": unit_folders}


@pytest.fixture(scope="module")
def unit_folder(reports) -> Path:
    assert len(reports["unit_folders"]) == 1, reports["unit_folders"]
    return reports["unit_folders"][0]


@pytest.fixture(scope="module")
def batch_index(root, data) -> tuple[int, Path]:
    out = root / "batch_out"
    params = params_file(root, data, "batch", out)
    status = main(["batch", "--params", str(params), "--workers", "1", "--unit", UNIT])
    return status, out / PERIOD


@pytest.fixture(scope="module")
def emails(root, data, reports, unit_folder) -> tuple[int, dict[str, email.message.EmailMessage]]:
    settings = {"sender": "reports@example.com",
                "recipients": {"All": ["board@example.com"], UNIT: ["unit@example.com"]}}
    params = params_file(root, data, "email", reports["out"], {"email": settings})
    status = main(["email", "--params", str(params), "--dry-run"])
    messages = {}
    for name, folder in (("All", reports["all"]), ("unit", unit_folder)):
        path = folder / "segment_report.eml"
        if path.is_file():
            messages[name] = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    return status, messages


def html_of(folder: Path) -> str:
    return (folder / "segment_report.html").read_text(encoding="utf-8")


def assert_escaped(html: str, *, unit: bool) -> None:
    assert SEGMENT not in html
    assert "<script>alert" not in html.lower()
    assert SEGMENT_ESCAPED in html
    if unit:
        assert UNIT not in html
        assert "<b>Unit" not in html
        assert UNIT_ESCAPED in html


# --------------------------------------------------------------------------- the report


def test_both_reports_run_with_the_odd_names(reports):
    assert reports["status"] == (0, 0)
    assert (reports["all"] / "segment_report.html").is_file()


def test_the_segment_name_is_text_in_the_whole_company_report(reports):
    html = html_of(reports["all"])
    assert_escaped(html, unit=False)
    # in the scorecard, the narrative and a value KPI note (marketing_spend lacks it)
    assert html.count(SEGMENT_ESCAPED) >= 3
    assert f"marketing_spend has no row for segment(s) {SEGMENT_ESCAPED}" in html


def test_the_segment_and_unit_names_are_text_in_the_unit_report(unit_folder):
    html = html_of(unit_folder)
    assert_escaped(html, unit=True)
    title = re.search(r"<title>(.*?)</title>", html, flags=re.S).group(1)
    assert UNIT not in title and UNIT_ESCAPED in title


def test_the_unit_folder_is_a_safe_name_inside_the_period_folder(reports, unit_folder):
    period_dir = reports["period_dir"].resolve()
    assert unit_folder.resolve().parent == period_dir
    name = unit_folder.name
    assert not set(name) & set("/\\<>&:\"'|?*")
    assert not name.startswith(".") and name.strip() == name and name
    assert "Unit" in name and "Co" in name
    assert {p.name for p in unit_folder.iterdir()} >= {"segment_report.html", "kpis.csv",
                                                       "segment_report.ipynb"}
    # nothing written outside the output folder (e.g. a folder named after "</b>")
    assert not (reports["out"] / "b").exists() and not (period_dir / "<b>Unit & Co<").exists()


def test_kpis_csv_keeps_the_original_names(reports, unit_folder):
    whole = pd.read_csv(reports["all"] / "kpis.csv")
    assert SEGMENT in set(whole[C.SEGMENT])
    assert set(whole[C.BUSINESS_UNIT]) == {"All"}
    unit = pd.read_csv(unit_folder / "kpis.csv")
    assert set(unit[C.BUSINESS_UNIT]) == {UNIT}
    assert SEGMENT in set(unit[C.SEGMENT])
    revenue = unit.query("kpi == 'revenue' and segment == @SEGMENT")[C.VALUE].item()
    assert revenue > 0


@pytest.mark.parametrize("which", ["all", "unit"])
def test_the_charts_are_drawn_with_the_odd_names(which, reports, unit_folder):
    html = html_of(reports["all"] if which == "all" else unit_folder)
    # the images of the notebook's outputs (the page's CSS holds one more, not counted)
    images = re.findall(r"<img[^>]*\bsrc=[\"']data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert len(images) >= 9
    for data in images:
        assert base64.b64decode(data).startswith(PNG)


def test_the_executed_notebook_holds_no_raw_name_in_its_html_outputs(unit_folder):
    import nbformat

    nb = nbformat.read(unit_folder / "segment_report.ipynb", 4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            assert SEGMENT not in html and UNIT not in html


# --------------------------------------------------------------------------- batch index


def test_the_batch_index_shows_the_unit_name_as_text_and_links_to_its_folder(batch_index):
    status, period_dir = batch_index
    assert status == 0
    index = (period_dir / "index.html").read_text(encoding="utf-8")
    assert UNIT not in index and "<b>Unit" not in index
    assert UNIT_ESCAPED in index
    links = re.findall(r"href='([^']+)'", index)
    assert links
    for link in links:
        target = period_dir / link.replace("&amp;", "&")
        assert target.is_file(), link
        assert target.resolve().is_relative_to(period_dir.resolve())


def test_the_batch_report_of_the_odd_unit_is_escaped_too(batch_index):
    _, period_dir = batch_index
    folders = [p for p in period_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(folders) == 1
    assert_escaped(html_of(folders[0]), unit=True)


# --------------------------------------------------------------------------- e-mail body


def test_email_dry_run_writes_one_message_per_report(emails):
    status, messages = emails
    assert status == 0
    assert set(messages) == {"All", "unit"}


@pytest.mark.parametrize("which", ["All", "unit"])
def test_the_email_body_shows_the_names_as_text(which, emails):
    _, messages = emails
    msg = messages[which]
    body = msg.get_body(preferencelist=("html",)).get_content()
    assert_escaped(body, unit=which == "unit")
    # the report attached is the escaped one
    attached = [p for p in msg.iter_attachments() if p.get_content_type() == "text/html"]
    assert len(attached) == 1
    content = attached[0].get_content()
    content = content.decode("utf-8") if isinstance(content, bytes) else content
    assert_escaped(content, unit=which == "unit")
    # headers are plain text: the subject names the unit as the data has it, on one line
    for header in ("To", "From"):
        assert "<script" not in str(msg[header]) and "<b>" not in str(msg[header])
    unit = UNIT if which == "unit" else "All"
    assert msg["Subject"] == f"Customer segment report {PERIOD} — {unit}"
    # the plain-text alternative shows the names as the data has them
    plain = msg.get_body(preferencelist=("plain",)).get_content()
    assert SEGMENT in plain
    if which == "unit":
        assert UNIT in plain
