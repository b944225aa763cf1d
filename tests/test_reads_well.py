"""The report reads well where executives read it: the PDF has no page that is mostly empty
and no heading at the foot of a page, the HTML stays small enough to e-mail, and the e-mail
body stays under the size mail clients clip and fits a phone's width.

One real report of a small generated sample (every optional table, predicted CLV on) is
made once for the module, with its PDF; like tests/test_pdf.py these tests need Debian's
``chromium`` and ``poppler-utils`` (``make pdf-deps``) and FAIL, not skip, without them.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from segreport.cli import main
from segreport.report.email_message import BODY_HTML_LIMIT, build_message
from segreport.report.email_settings import EmailSettings
from segreport.sample import generate_sample

INSTALL = "run `make pdf-deps` (apt-get install chromium poppler-utils)"
#: The 300-customer sample prints on 19 A4 pages (26 when every chart took the text's full
#: width and the appendix one column); three more leave room for new sections.
MAX_PAGES = 22
HTML_LIMIT = 1_500_000


@pytest.fixture(scope="module")
def report(tmp_path_factory, report_params) -> Path:
    """The report folder of a 300-customer sample, through the command line."""
    root = tmp_path_factory.mktemp("reads")
    data = root / "data"
    generate_sample(data, n_customers=300, fmt="csv")
    params = report_params(root / "params.yaml", data, root / "out", predictive_clv=True)
    assert main(["run", "--params", str(params)]) == 0
    folder = root / "out" / "2026Q3" / "All"
    assert (folder / "segment_report.pdf").is_file(), f"no PDF: {INSTALL}"
    return folder


# --- the PDF ----------------------------------------------------------------------------------

@dataclass
class Box:
    kind: str   # "text" or "image"
    top: float
    bottom: float
    text: str


def pdf_pages(pdf: Path, scratch: Path) -> list[tuple[float, list[Box]]]:
    """Per page: its height and its text lines and images with their positions (poppler's
    ``pdftohtml -xml``), in reading order."""
    assert shutil.which("pdftohtml"), f"pdftohtml (poppler-utils) is not installed: {INSTALL}"
    subprocess.run(["pdftohtml", "-xml", "-q", str(pdf), str(scratch / "pdf")], check=True)
    pages = []
    for page in ET.parse(scratch / "pdf.xml").getroot().iter("page"):
        boxes = [Box(el.tag, float(el.get("top")), float(el.get("top")) + float(el.get("height")),
                     "".join(el.itertext()))
                 for el in page if el.tag in ("text", "image")]
        pages.append((float(page.get("height")), sorted(boxes, key=lambda b: b.top)))
    return pages


def squash(text: str) -> str:
    return re.sub(r"\s+|¶", "", text)


def test_the_pdf_has_few_pages_and_none_but_the_last_is_mostly_empty(report, tmp_path):
    pages = pdf_pages(report / "segment_report.pdf", tmp_path)
    assert 1 < len(pages) <= MAX_PAGES
    fill = [max((b.bottom for b in boxes), default=0) / height for height, boxes in pages]
    empty = [(n, round(f, 2)) for n, f in enumerate(fill[:-1], 1) if f < 0.5]
    assert not empty, f"pages (number, share of the height used) less than half full: {empty}"


def test_no_heading_ends_a_page(report, tmp_path):
    """A heading (with the lines under it, before its chart or table) never ends a page:
    on no page but the last does the text below the last image end with a section's
    heading, or its heading and part of its introduction."""
    soup = BeautifulSoup((report / "segment_report.html").read_text(encoding="utf-8"),
                         "html.parser")
    lead_ins = [(squash(h.get_text()), squash(cell.get_text()))
                for cell in soup.select(".jp-MarkdownCell")
                if (h := cell.find(["h1", "h2", "h3"]))]
    assert len(lead_ins) > 10
    pages = pdf_pages(report / "segment_report.pdf", tmp_path)
    stranded = []
    for n, (_, boxes) in enumerate(pages[:-1], 1):
        last_image = max((b.bottom for b in boxes if b.kind == "image"), default=0)
        tail = squash("".join(b.text for b in boxes if b.kind == "text" and b.top >= last_image))
        stranded += [(n, heading) for heading, lead_in in lead_ins
                     if any(tail.endswith(lead_in[:k])
                            for k in range(len(heading), len(lead_in) + 1))]
    assert not stranded, f"pages ending with a heading: {stranded}"


# --- the HTML ---------------------------------------------------------------------------------

def test_the_html_report_with_every_chart_stays_small(report):
    html = report / "segment_report.html"
    assert html.stat().st_size <= HTML_LIMIT
    text = html.read_text(encoding="utf-8")
    assert text.count("<img") >= 15  # every chart is still in it


# --- the e-mail -------------------------------------------------------------------------------

def test_the_email_body_is_under_the_clipping_size_and_fits_a_phone(report):
    settings = EmailSettings.from_dict({"sender": "reports@example.com",
                                        "recipients": {"All": ["board@example.com"]}})
    msg = build_message(report, settings, "2026Q3", "All")
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert len(html.encode("utf-8")) <= BODY_HTML_LIMIT
    soup = BeautifulSoup(html, "html.parser")
    # charts scale down to the screen's width; a sparkline (72 px) is narrower than any
    charts = [img for img in soup.find_all("img") if int(img.get("width") or 999) > 200]
    assert charts and all("max-width:100%" in img.get("style", "").replace(" ", "")
                          for img in charts)
    # every block of the body scrolls sideways on its own rather than widen the message
    blocks = soup.body.find_all("div", recursive=False)
    assert blocks and all("overflow-x:auto" in b.get("style", "") for b in blocks)
