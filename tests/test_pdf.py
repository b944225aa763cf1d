"""The PDF beside the HTML: headless Chromium prints the report (segreport.report.pdf).

These tests need Debian's ``chromium`` and ``poppler-utils`` (``make pdf-deps``) and FAIL,
not skip, without them: CI must install them, a missing PDF must not pass unnoticed.
"""
from __future__ import annotations

import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from segreport.cli import main
from segreport.errors import PdfEngineMissing, PdfError, SegreportError
from segreport.report.pdf import ENGINE_ENV, find_pdf_engine, html_to_pdf

INSTALL = "run `make pdf-deps` (apt-get install chromium poppler-utils)"

ORDERS = """order_id,customer_id,order_date,amount
1,A,2026-01-10,100
2,A,2026-07-01,50
3,B,2026-03-01,20
4,B,2026-08-01,-5
5,C,2026-08-15,70
6,D,2025-11-20,30
7,D,2026-09-02,45
"""
CUSTOMERS = """customer_id,signup_date,segment,business_unit
A,2025-12-01,Gold,X
B,2026-02-01,Silver,X
C,2026-08-01,Gold,Y
D,2025-11-01,Bronze,Y
"""

TINY_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Tiny page</title></head>
<body><h1>Tiny page for the PDF test</h1>
<table><tr><th>Segment</th><th>Revenue</th></tr><tr><td>Gold</td><td>120</td></tr></table>
</body></html>
"""


def poppler(tool: str, *args: str) -> str:
    assert shutil.which(tool), f"{tool} (poppler-utils) is not installed: {INSTALL}"
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True).stdout


def pdf_text(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return poppler("pdftotext", "-layout", *pages, str(pdf), "-")


def pdf_images(pdf: Path, page: int) -> int:
    listing = poppler("pdfimages", "-list", "-f", str(page), "-l", str(page), str(pdf))
    return len(listing.splitlines()[2:])  # two header lines


def pdf_info(pdf: Path) -> dict[str, str]:
    lines = poppler("pdfinfo", str(pdf)).splitlines()
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


@pytest.fixture(autouse=True)
def own_pdf_cache(tmp_path: Path, monkeypatch) -> None:
    """Each test prints into a cache of its own: a page printed by another test would
    otherwise be copied from the cache instead of reaching the Chromium under test."""
    monkeypatch.setenv("SEGREPORT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch) -> Path:
    """Send Chromium's throwaway profile (and stderr file) into a folder we can inspect."""
    scratch = tmp_path / "systmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return scratch


@pytest.fixture
def fake_engine(tmp_path: Path, monkeypatch):
    """Install a shell script as $SEGREPORT_CHROMIUM; it finds --print-to-pdf=OUT in "$@"."""
    def install(body: str) -> Path:
        script = tmp_path / "fake-chromium"
        script.write_text("#!/bin/sh\nfor a in \"$@\"; do case $a in --print-to-pdf=*) "
                          "out=${a#--print-to-pdf=};; esac; done\n" + body)
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv(ENGINE_ENV, str(script))
        return script
    return install


def alive(pid: int) -> bool:
    """Running and not a zombie (this container's init may never reap orphans)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


# --- the real Chromium --------------------------------------------------------------------

def test_chromium_is_installed_for_the_pdf():
    assert find_pdf_engine(), f"no Chromium on PATH: {INSTALL}"


def test_tiny_page_prints_to_pdf_and_leaves_nothing_else_behind(tmp_path, private_tmp):
    html = tmp_path / "tiny.html"
    html.write_text(TINY_PAGE, encoding="utf-8")
    pdf = tmp_path / "out" / "tiny.pdf"  # the folder is created
    assert html_to_pdf(html, pdf) == pdf
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert "Tiny page for the PDF test" in pdf_text(pdf)
    assert "Gold" in pdf_text(pdf)
    assert [p.name for p in pdf.parent.iterdir()] == ["tiny.pdf"]  # no temporary file left
    assert not any(private_tmp.iterdir())  # the Chromium profile was removed
    assert stat.S_IMODE(pdf.stat().st_mode) & 0o044  # readable like the HTML beside it


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory, csv_data, report_params) -> Path:
    """A real report of a 4-customer CSV dataset through the command line (~4 s)."""
    root = tmp_path_factory.mktemp("report")
    data = csv_data(root / "data", orders=ORDERS, customers=CUSTOMERS)
    params = report_params(root / "params.yaml", data, root / "out")
    assert main(["run", "--params", str(params)]) == 0
    return root / "out" / "2026Q3" / "All" / "segment_report.html"


def test_real_report_prints_to_a_multi_page_a4_pdf(tmp_path, tiny_report):
    pdf = tmp_path / "segment_report.pdf"
    started = time.perf_counter()
    html_to_pdf(tiny_report, pdf)
    assert time.perf_counter() - started < 30
    assert pdf.read_bytes().startswith(b"%PDF-")
    info = pdf_info(pdf)
    pages = int(info["Pages"])
    assert pages > 1
    assert "(A4)" in info["Page size"]
    text = pdf_text(pdf)
    assert "Customer segment report" in text and "2026Q3" in text
    assert {"Gold", "Silver", "Bronze"} <= set(text.split())
    # The scorecard's KPI blocks (two to a row) fit the page: the last one (share of sales,
    # 100.0% for the whole unit) is printed on page 1, not clipped off to the right.
    first = pdf_text(pdf, 1)
    assert "Executive scorecard" in first and "100.0%" in first
    # The appendix is printed; it follows on, with no page of its own that would leave the
    # page before it part empty (tests/test_reads_well.py checks how full pages are).
    assert "Appendix" in text
    starts = [pdf_text(pdf, n).lstrip() for n in range(1, pages + 1)]
    # No page is empty (a page of charts has images but no text).
    blank = [n for n, s in enumerate(starts, 1) if not s.strip() and not pdf_images(pdf, n)]
    assert not blank, f"blank pages: {blank}"


# --- without Chromium ----------------------------------------------------------------------

def test_without_chromium_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert find_pdf_engine() is None
    html = tmp_path / "tiny.html"
    html.write_text(TINY_PAGE)
    with pytest.raises(PdfEngineMissing) as caught:
        html_to_pdf(html, tmp_path / "tiny.pdf")
    message = str(caught.value)
    assert message.startswith("PDF skipped: no Chromium found")
    assert "make pdf-deps" in message and "apt-get install chromium poppler-utils" in message
    assert not isinstance(caught.value, SegreportError)
    assert not (tmp_path / "tiny.pdf").exists()


def test_segreport_chromium_wins_and_a_wrong_one_is_named(tmp_path, monkeypatch, fake_engine):
    script = fake_engine("exit 0\n")
    assert find_pdf_engine() == str(script)
    monkeypatch.setenv(ENGINE_ENV, str(tmp_path / "no-such-chromium"))
    assert find_pdf_engine() is None  # not silently some other browser
    html = tmp_path / "tiny.html"
    html.write_text(TINY_PAGE)
    with pytest.raises(PdfEngineMissing, match="no-such-chromium"):
        html_to_pdf(html, tmp_path / "tiny.pdf")


def test_missing_html_is_an_error_not_a_pdf_of_an_error_page(tmp_path):
    with pytest.raises(FileNotFoundError):
        html_to_pdf(tmp_path / "nothing.html", tmp_path / "nothing.pdf")
    assert not (tmp_path / "nothing.pdf").exists()


# --- failures leave no PDF -----------------------------------------------------------------

@pytest.fixture
def html(tmp_path: Path) -> Path:
    page = tmp_path / "page.html"
    page.write_text(TINY_PAGE)
    return page


def test_a_crash_mid_print_leaves_no_file_and_reports_chromium_stderr(tmp_path, html,
                                                                       fake_engine):
    fake_engine('printf "%%PDF-1.4 half a page" > "$out"\n'
                'echo "[1:2:ERROR:dbus/bus.cc:405] Failed to connect to the bus" >&2\n'
                'echo "Received signal 11 SEGV_MAPERR" >&2\nexit 139\n')
    pdf = tmp_path / "out" / "report.pdf"
    with pytest.raises(PdfError) as caught:
        html_to_pdf(html, pdf)
    assert caught.value.returncode == 139
    assert "SEGV_MAPERR" in str(caught.value) and "dbus" not in str(caught.value)
    assert not pdf.exists()
    assert not any(pdf.parent.iterdir())  # nor its temporary file


def test_a_failed_print_keeps_the_previous_pdf_untouched(tmp_path, html, fake_engine):
    fake_engine('printf "%%PDF-1.4 half" > "$out"\nexit 1\n')
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 the complete previous report")
    with pytest.raises(PdfError):
        html_to_pdf(html, pdf)
    assert pdf.read_bytes() == b"%PDF-1.4 the complete previous report"


def test_exit_status_0_without_a_pdf_is_a_failure(tmp_path, html, fake_engine):
    # Chromium does this when the page does not load or the PDF cannot be written.
    fake_engine('echo "ERROR:headless_command_handler.cc:403] Page load failed: '
                'net::ERR_FILE_NOT_FOUND" >&2\nexit 0\n')
    with pytest.raises(PdfError, match="ERR_FILE_NOT_FOUND"):
        html_to_pdf(html, tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


def test_exit_status_0_with_something_else_than_a_pdf_is_a_failure(tmp_path, html,
                                                                     fake_engine):
    fake_engine('echo "<html>not a pdf</html>" > "$out"\nexit 0\n')
    with pytest.raises(PdfError, match="wrote no PDF"):
        html_to_pdf(html, tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


def test_a_hung_chromium_is_killed_with_its_children_at_the_timeout(tmp_path, html,
                                                                    fake_engine):
    pids = tmp_path / "pids"
    fake_engine(f'printf "%%PDF-1.4 half" > "$out"\nsleep 60 &\necho $$ $! > {pids}\nwait\n')
    pdf = tmp_path / "out" / "report.pdf"
    started = time.perf_counter()
    with pytest.raises(PdfError, match="did not finish printing within 1 s"):
        html_to_pdf(html, pdf, timeout=1)
    assert time.perf_counter() - started < 10
    assert not pdf.exists() and not any(pdf.parent.iterdir())
    for pid in map(int, pids.read_text().split()):
        assert not alive(pid), f"process {pid} outlived the timeout"


def test_chromium_dies_with_the_report_that_started_it(tmp_path, html, fake_engine):
    # A batch killed with SIGKILL cannot clean up: the Chromium it started must not print
    # on (into a staging folder the next run is clearing).
    import os
    import signal
    import sys

    pids = tmp_path / "pids"
    fake_engine(f"echo $$ > {pids}\nexec sleep 60\n")
    printer = subprocess.Popen([sys.executable, "-c", "import sys; from pathlib import Path; "
                                "from segreport.report.pdf import html_to_pdf; "
                                "html_to_pdf(Path(sys.argv[1]), Path(sys.argv[2]), timeout=120)",
                                str(html), str(tmp_path / "report.pdf")], env=os.environ.copy())
    deadline = time.monotonic() + 30
    while not (pids.exists() and pids.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    chromium = int(pids.read_text())
    assert alive(chromium)
    printer.send_signal(signal.SIGKILL)
    printer.wait()
    deadline = time.monotonic() + 10
    while alive(chromium) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(chromium), "Chromium outlived the process that started it"


def test_the_real_chromium_is_killed_at_the_timeout(tmp_path, html, private_tmp):
    assert find_pdf_engine(), f"no Chromium on PATH: {INSTALL}"
    pdf = tmp_path / "report.pdf"
    with pytest.raises(PdfError, match="did not finish"):
        html_to_pdf(html, pdf, timeout=0.05)
    assert not pdf.exists()
    assert not any(private_tmp.iterdir())  # profile removed
    time.sleep(0.2)
    left = [p for p in Path("/proc").iterdir() if p.name.isdigit() and alive(int(p.name))
            and str(private_tmp) in _cmdline(p)]
    assert not left, "Chromium processes outlived the timeout"


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_the_same_page_is_printed_once_then_copied_from_the_cache(tmp_path, html,
                                                                   fake_engine):
    calls = tmp_path / "calls"
    fake_engine(f'echo printed >> {calls}\nprintf "%%PDF-1.4 tiny page" > "$out"\n')
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    html_to_pdf(html, first)
    html_to_pdf(html, second)
    assert calls.read_text().count("printed") == 1  # the second PDF came from the cache
    assert second.read_bytes() == first.read_bytes() == b"%PDF-1.4 tiny page"

    html.write_text(TINY_PAGE.replace("120", "121"))  # one figure changed: printed again
    html_to_pdf(html, second)
    assert calls.read_text().count("printed") == 2
