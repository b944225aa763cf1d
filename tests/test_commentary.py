"""The analyst's note: a markdown file per quarter and unit, at the top of the report and
in the e-mail body, with any HTML in it escaped; no file, no section."""
from __future__ import annotations

import os
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import pandas as pd
import pytest

from segreport.cli import main
from segreport.config import ReportParams
from segreport.errors import ConfigError
from segreport.report.batch import fingerprint
from segreport.report.commentary import (
    MAX_NOTE_BYTES,
    TITLE,
    analyst_note,
    note_path,
    render_note,
    write_note,
)
from segreport.report.email_message import build_message
from segreport.report.email_settings import EmailSettings

NOTE = """# The quarter in brief

Retention **held** after the price change; see [the plan](https://intranet.example.com/plan).

<script>alert('note')</script> <b onclick="x()">bold?</b>

| segment | action |
|---|---|
| Gold | keep |
"""


# --- the file and its rendering -----------------------------------------------------------

def test_the_note_is_commentary_period_unit_md_and_all_md_for_the_whole_business():
    assert note_path("commentary", "2026Q3", "Retail") == Path("commentary/2026Q3/Retail.md")
    assert note_path("commentary", "2026q3", "") == Path("commentary/2026Q3/All.md")


@pytest.mark.parametrize("unit", ["North/South", "../../etc/passwd", "All", ".hidden", "a\\b"])
def test_a_unit_name_with_path_characters_stays_one_file_in_the_quarters_folder(tmp_path, unit):
    path = note_path(tmp_path, "2026Q3", unit)
    assert path.parent == tmp_path / "2026Q3" and path.suffix == ".md"
    assert path.name not in ("All.md", ".md") and not path.name.startswith(".")


def test_a_note_that_links_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "secret.md"
    outside.write_text("secret")
    (tmp_path / "notes" / "2026Q3").mkdir(parents=True)
    os.symlink(outside, tmp_path / "notes" / "2026Q3" / "Retail.md")
    with pytest.raises(ConfigError, match="leads out of commentary_dir"):
        analyst_note(tmp_path / "notes", "2026Q3", "Retail")


def test_markdown_is_rendered_and_html_in_the_note_is_shown_as_text():
    html = render_note(NOTE)
    assert "<strong>held</strong>" in html
    assert '<a href="https://intranet.example.com/plan">the plan</a>' in html
    assert "<table>" in html and "<td>Gold</td>" in html
    assert "&lt;script&gt;alert('note')&lt;/script&gt;" in html
    assert '&lt;b onclick="x()"&gt;' in html or "&lt;b onclick=&quot;x()&quot;&gt;" in html
    assert "<script" not in html and "<b " not in html
    assert "<h3>The quarter in brief</h3>" in html  # below the report's own headings


def test_no_script_link_and_no_remote_image():
    html = render_note("[x](javascript:alert(1)) ![pixel](https://tracker.example.com/p.png)")
    assert 'href="javascript' not in html and "<img" not in html


def test_no_file_or_a_blank_file_shows_nothing(tmp_path):
    assert analyst_note(tmp_path, "2026Q3", "Retail") is None
    write_note("  \n\n", tmp_path, "2026Q3", "Retail")
    assert analyst_note(tmp_path, "2026Q3", "Retail") is None


def test_a_note_written_from_the_notebook_is_shown_in_a_titled_box(tmp_path):
    path = write_note("Churn is **down**.", tmp_path, "2026Q3", "R&D West")
    assert path.parent == tmp_path / "2026Q3" and path.read_text() == "Churn is **down**."
    html = analyst_note(tmp_path, "2026Q3", "R&D West").data
    assert TITLE in html and "Churn is <strong>down</strong>." in html


def test_a_note_too_large_or_not_utf8_is_one_message_naming_the_file(tmp_path):
    path = note_path(tmp_path, "2026Q3", "Retail")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x" * (MAX_NOTE_BYTES + 1))
    with pytest.raises(ConfigError, match=r"Retail.md: the analyst's note is larger than 50,000"):
        analyst_note(tmp_path, "2026Q3", "Retail")
    path.write_bytes(b"caf\xe9")
    with pytest.raises(ConfigError, match=r"Retail.md: the analyst's note is not UTF-8"):
        analyst_note(tmp_path, "2026Q3", "Retail")


def test_a_batch_remakes_a_report_whose_note_was_written_or_changed(tmp_path):
    params = ReportParams(commentary_dir=str(tmp_path), business_unit="Retail")
    before = fingerprint(params, "data", "code")
    write_note("First.", tmp_path, "2026Q3", "Retail")
    first = fingerprint(params, "data", "code")
    write_note("Second.", tmp_path, "2026Q3", "Retail")
    assert len({before, first, fingerprint(params, "data", "code")}) == 3


# --- end to end: the report and its e-mail -------------------------------------------------

# The data: conftest.py's `tiny` (TINY_ORDERS, TINY_CUSTOMERS).


def email_html(folder: Path, unit: str) -> str:
    settings = EmailSettings.from_dict({"sender": "reports@example.com",
                                        "recipients": {unit: ["board@example.com"]}})
    msg = BytesParser(policy=default).parsebytes(
        build_message(folder, settings, "2026Q3", unit).as_bytes())
    return msg.get_body(preferencelist=("html",)).get_content()


@pytest.fixture(scope="module")
def reports(tmp_path_factory, no_pdf, tiny, report_params):
    """The whole-business report, with a note, and unit X's, without one."""
    root = tmp_path_factory.mktemp("note")
    write_note(NOTE, root / "commentary", "2026Q3", "")
    params = report_params(
        root / "params.yaml", tiny, root / "out",
        f"commentary_dir: {root / 'commentary'}\n"
        "targets: {retention_rate: 93, churn_rate: {Silver: 5}, revenue: {All: {All: 200}}}\n")
    assert main(["run", "--params", str(params)]) == 0
    assert main(["run", "--params", str(params), "--set", "business_unit=X"]) == 0
    return root


def test_the_note_is_at_the_top_of_the_report_with_its_html_escaped(reports):
    html = (reports / "out" / "2026Q3" / "All" / "segment_report.html").read_text()
    assert html.index("Customer segment report — 2026Q3") < html.index(TITLE) \
        < html.index("Executive scorecard")
    assert "Retention <strong>held</strong>" in html
    assert "&lt;script&gt;alert('note')&lt;/script&gt;" in html and "<script>alert" not in html


def test_the_note_is_in_the_email_body_with_its_html_escaped(reports):
    body = email_html(reports / "out" / "2026Q3" / "All", "All")
    assert TITLE in body and "Retention <strong>held</strong>" in body
    assert "&lt;script&gt;alert('note')&lt;/script&gt;" in body and "<script>alert" not in body
    assert body.index(TITLE) < body.index("Active at start")  # before the scorecard


def test_a_report_without_a_note_has_no_note_section(reports):
    folder = reports / "out" / "2026Q3" / "X"
    assert TITLE not in (folder / "segment_report.html").read_text()
    assert TITLE not in email_html(folder, "X")


def test_the_note_is_a_source_file_the_runs_leave_as_it_was(reports):
    assert note_path(reports / "commentary", "2026Q3").read_text() == NOTE


def test_kpis_csv_has_the_targets_and_their_status(reports):
    kpis = pd.read_csv(reports / "out" / "2026Q3" / "All" / "kpis.csv", keep_default_na=False,
                       na_values=[""])
    got = {(r.kpi, r.segment): (r.target, r.status) for r in kpis.itertuples()}
    # S = {A, B}, E = {A, B, C}: retention 2/2 = 100 % ≥ 93 → on track (every segment)
    assert got[("retention_rate", "All")] == (93.0, "on track")
    # Silver: B active at start and end (order 03-01 within 365 days) → churn 0 % ≤ 5
    assert got[("churn_rate", "Silver")] == (5.0, "on track")
    # revenue of the whole business 50 − 5 + 70 = 115 < 200 → off track; Gold has none
    assert got[("revenue", "All")] == (200.0, "off track")
    assert pd.isna(got[("revenue", "Gold")][0]) and pd.isna(got[("revenue", "Gold")][1])
    history = pd.read_csv(reports / "out" / "2026Q3" / "All" / "kpi_history.csv")
    assert set(history["quarter"]) == {"2026Q1", "2026Q2", "2026Q3"}  # the data starts in 2026Q1
