"""Bad input and hostile names, end to end.

* Units never merge: every business unit gets its own report folder, whatever its name.
* Batch, index and ``segreport email`` use the unit's name as written in the data.
* Params files and parameters are read safely and checked before the data is read;
  ``output_dir`` is checked before the data is read too.
* E-mail is sent once per report, every unit is tried, headers stay one line.
* No password, in any form a connection string carries it, is echoed.
* Ctrl-C ends quietly (exit 130), staging folders are private and cleaned up.

Bad input means: exit status 2, one message naming the file or parameter, no traceback,
nothing under ``output_dir``. Notebooks here are small stand-ins (a parameters cell and a
cell that writes ``kpis.csv`` and shows the unit's name), so a batch takes seconds; the
PDF is switched off.
"""
from __future__ import annotations

import csv
import errno
import hashlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections import namedtuple
from email import policy
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import quote

import nbformat
import pandas as pd
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_notebook

from segreport.cli import main
from segreport.config import ReportParams, load_params
from segreport.errors import ConfigError
from segreport.report import publish
from segreport.report.batch import check_folders
from segreport.report.email_message import build_message, sent_record, write_eml
from segreport.report.email_settings import EmailSettings
from segreport.report.names import SENT_NAME
from segreport.report.publish import (
    META_NAME,
    new_staging_dir,
    publish_dir,
    unit_folder,
    write_report_meta,
)
from segreport.secret_params import check_no_password, mask_password

PERIOD = "2026Q3"
#: Units whose names collide once made path-safe, one named like the all-units report,
#: one with path characters that e-mail recipients name as written, one with a line break.
UNITS = ["North/South", "North_South", "All", "R&D West", "Line\nBreak"]
SECRET = "Pa55@wd-s3cret"

pytestmark = pytest.mark.usefixtures("no_pdf")


# --------------------------------------------------------------------------- helpers


def make_data(folder: Path, units: list[str] = UNITS) -> Path:
    """Three customers with one order each in the quarter, per unit."""
    customers, orders = [], []
    for i, unit in enumerate(units):
        for j in range(3):
            cid = f"c{i}-{j}"
            customers.append({"customer_id": cid, "signup_date": "2025-01-10",
                              "segment": "Gold", "business_unit": unit})
            orders.append({"order_id": f"o{i}-{j}", "customer_id": cid,
                           "order_date": "2026-08-01", "amount": 10 + i})
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(customers).to_csv(folder / "customers.csv", index=False)
    pd.DataFrame(orders).to_csv(folder / "orders.csv", index=False)
    return folder


STAND_IN = '''import csv, html, time
time.sleep(SLEEP)
with open(kpis_csv, "w", newline="") as fh:
    out = csv.writer(fh)
    out.writerow(["kpi", "period", "business_unit", "segment", "value", "numerator",
                  "denominator", "unit", "band", "ci_low", "ci_high", "small_sample",
                  "previous_value"])
    out.writerow(["revenue", period, business_unit, "All", 1.0, "", "", "currency", "", "",
                  "", False, ""])
from IPython.display import HTML
HTML("<h1>Report</h1><p>unit: " + html.escape(business_unit) + "</p>")'''


def stand_in_notebook(path: Path, sleep: float = 0) -> Path:
    """A notebook that writes ``kpis.csv`` with its ``business_unit`` parameter and shows
    it in a cell tagged ``email``; ``sleep`` seconds first."""
    nb = new_notebook(cells=[
        new_code_cell('period = ""\nbusiness_unit = ""\nkpis_csv = ""',
                      metadata={"tags": ["parameters"]}),
        new_code_cell(STAND_IN.replace("SLEEP", str(sleep)), metadata={"tags": ["email"]})])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, str(path))
    return path


def write_params(path: Path, **values) -> Path:
    path.write_text(yaml.safe_dump({"period": PERIOD, "predictive_clv": False, **values},
                                   allow_unicode=True), encoding="utf-8")
    return path


def files_under(out: Path) -> list[Path]:
    return sorted(out.rglob("*")) if out.exists() else []


def one_error(capsys, code: int, expected: int = 2) -> str:
    """Check the common rules of bad input and return the one error message."""
    err = capsys.readouterr().err
    assert code == expected, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("segreport: error: ")]
    assert len(errors) == 1, err
    return errors[0].removeprefix("segreport: error: ")


def check(message: str, *fragments: str) -> None:
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in: {message}"


@pytest.fixture
def data_never_read(monkeypatch):
    """Fail the test if the data is read: the problem must be found before."""
    def prepare_data(*args, **kwargs):
        raise AssertionError("the data was read")

    monkeypatch.setattr("segreport.report.run.prepare_data", prepare_data)
    monkeypatch.setattr("segreport.report.batch.prepare_data", prepare_data)


# --------------------------------------------------------------------------- params files


def alias_bomb(levels: int = 20, width: int = 10) -> str:
    """A "billion laughs" file: ``width ** levels`` values once expanded (10**20 here)."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * width) + "]")
    lines.append(f"email: {{sender: a@example.com, recipients: {{All: *l{levels - 1}}}}}")
    return "\n".join(lines) + "\n"


DAMAGED_PARAMS = [
    ("alias bomb", alias_bomb(), ["params file refused", "more than 10,000 values"]),
    ("alias to itself", "columns: &a {orders: *a}\n", ["refers to the value it is part of"]),
    ("deep nesting", "email: " + "[" * 500 + "]" * 500 + "\n", ["nested more than 50 levels"]),
    ("file too large", "# " + "x" * 70_000 + "\n", ["larger than 64 KB"]),
    ("number too long", "active_window_days: " + "9" * 5000 + "\n", ["5,000 digits"]),
    ("text too long", "business_unit: " + "u" * 5000 + "\n",
     ["parameter 'business_unit'", "5,000 characters", "not shown"]),
    ("nested text too long", "columns: {orders: {amount: " + "a" * 3000 + "}}\n",
     ["parameter 'columns.orders.amount'", "3,000 characters"]),
    ("key too long", "? " + "k" * 2000 + "\n: 1\n", ["a parameter name is 2,000 characters"]),
    ("window of years", "active_window_days: 99999\n",
     ["parameter 'active_window_days'", "less than or equal to 3660", "99999"]),
    ("number as a key", "1: x\n", ["parameter '1'", "unknown parameter"]),
]


@pytest.mark.parametrize("content, expected", [c[1:] for c in DAMAGED_PARAMS],
                         ids=[c[0] for c in DAMAGED_PARAMS])
def test_a_damaged_params_file_is_one_short_message_before_the_data_is_read(
        tmp_path, capsys, data_never_read, content, expected):
    params = tmp_path / "params.yaml"
    params.write_text(content)
    out = tmp_path / "out"
    message = one_error(capsys, main(["run", "--params", str(params), "--set",
                                      f"output_dir={out}"]))
    check(message, str(params), *expected)
    assert len(message) < 600, "no huge value is echoed"
    assert files_under(out) == []


@pytest.mark.parametrize("levels, width", [(20, 10), (9, 100), (100, 2)])
def test_an_alias_bomb_is_refused_in_well_under_a_second(tmp_path, levels, width):
    params = tmp_path / "params.yaml"
    params.write_text(alias_bomb(levels, width))
    started = time.process_time()
    with pytest.raises(ConfigError, match="more than 10,000 values"):
        load_params(params, [])
    assert time.process_time() - started < 1.0


@pytest.mark.parametrize("item, expected", [
    ("period=" + "2" * 5000, ["--set", "parameter 'period'", "5,000 characters"]),
    ("active_window_days=3661", ["--set", "less than or equal to 3660"]),
    ("data_dir=" + "d/" * 800, ["--set", "parameter 'data_dir'", "1,600 characters"]),
    ("a." * 3000 + "b=1", ["--set", "3,001 parts"]),
])
def test_a_huge_or_out_of_range_set_value_is_refused_without_echoing_it(
        tmp_path, capsys, data_never_read, item, expected):
    message = one_error(capsys, main(["run", "--params", str(write_params(tmp_path / "p.yaml")),
                                      "--set", item]))
    check(message, *expected)
    assert len(message) < 600


def test_the_window_bounds_are_one_day_to_ten_years():
    assert load_params(None, ["active_window_days=1"]).active_window_days == 1
    assert load_params(None, ["active_window_days=3660"]).active_window_days == 3660
    for bad in ("0", "3661"):
        with pytest.raises(ConfigError, match="active_window_days"):
            load_params(None, [f"active_window_days={bad}"])


# --------------------------------------------------------------------------- output_dir

Usage = namedtuple("Usage", "total used free")


def output_case(tmp_path: Path, monkeypatch, case: str) -> tuple[Path, list[str]]:
    """Set up one kind of unusable ``output_dir``; return it and the words expected."""
    out = tmp_path / "out"
    if case == "a file":
        out.write_text("not a folder")
        return out, [str(out), "is a file", "not a folder"]
    if case == "under a file":
        (tmp_path / "blocker").write_text("x")
        return tmp_path / "blocker" / "out", [str(tmp_path / "blocker"), "is a file"]
    if case == "period folder is a file":
        out.mkdir()
        (out / PERIOD).write_text("x")
        return out, [str(out / PERIOD), "is a file"]
    if case == "not writable":
        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(publish.tempfile, "TemporaryFile", refuse)
        return out, [str(tmp_path), "cannot be written in", "Permission denied"]
    if case == "no free space":
        monkeypatch.setattr(publish.shutil, "disk_usage", lambda p: Usage(10**9, 10**9, 0))
        return out, [str(tmp_path), "0 MB free", "at least 100 MB"]
    raise AssertionError(case)


OUTPUT_CASES = ["a file", "under a file", "period folder is a file", "not writable",
                "no free space"]


@pytest.mark.parametrize("command", ["run", "batch"])
@pytest.mark.parametrize("case", OUTPUT_CASES)
def test_an_unusable_output_dir_is_refused_before_the_data_is_read(
        tmp_path, capsys, monkeypatch, data_never_read, case, command):
    out, expected = output_case(tmp_path, monkeypatch, case)
    params = write_params(tmp_path / "params.yaml", data_dir=str(tmp_path / "data"),
                          output_dir=str(out))
    before = files_under(tmp_path)
    message = one_error(capsys, main([command, "--params", str(params)]))
    check(message, "parameter 'output_dir'", *expected)
    assert files_under(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in any folder")
def test_an_output_dir_without_write_permission_is_refused(tmp_path, capsys, data_never_read):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        params = write_params(tmp_path / "params.yaml", output_dir=str(out))
        message = one_error(capsys, main(["run", "--params", str(params)]))
    finally:
        out.chmod(0o700)
    check(message, "parameter 'output_dir'", str(out), "cannot be written in")


def test_a_full_disk_leaves_the_previous_report_untouched(tmp_path, capsys, monkeypatch,
                                                          data_never_read):
    old = tmp_path / "out" / PERIOD / "All"
    old.mkdir(parents=True)
    (old / "segment_report.html").write_text("the previous report")
    before = {p: p.read_bytes() for p in files_under(tmp_path / "out") if p.is_file()}
    monkeypatch.setattr(publish.shutil, "disk_usage", lambda p: Usage(10**9, 10**9, 10**6))
    params = write_params(tmp_path / "params.yaml", output_dir=str(tmp_path / "out"))
    check(one_error(capsys, main(["run", "--params", str(params)])), "1 MB free")
    assert {p: p.read_bytes() for p in files_under(tmp_path / "out") if p.is_file()} == before
    assert [p for p in files_under(tmp_path / "out") if p.is_dir()] == [old.parent, old]


def _fail_html_write(monkeypatch, out: Path, code: int) -> None:
    """The HTML is half written when the disk fills up."""
    real = Path.write_text

    def write_text(self, data, *args, **kwargs):
        if self.name == "segment_report.html":
            real(self, data[: len(data) // 2], *args, **kwargs)
            raise OSError(code, os.strerror(code))
        return real(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)


def _fail_record_write(monkeypatch, out: Path, code: int) -> None:
    """The report's record (``.report.json``, written in one step) cannot be flushed."""
    real = os.fsync

    def fsync(fd):
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(out)):
            raise OSError(code, os.strerror(code))
        return real(fd)

    monkeypatch.setattr(publish.os, "fsync", fsync)


def _fail_publish(monkeypatch, out: Path, code: int) -> None:
    """The finished report cannot be moved into place (after the old one was moved aside)."""
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if publish.STAGING in Path(src).parts and Path(dst).name == "All":
            raise OSError(code, os.strerror(code), str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(publish.os, "replace", replace)


def _fail_in_the_notebook(monkeypatch, out: Path, code: int) -> str:
    """The notebook's own write of kpis.csv fails (in the kernel)."""
    return f"raise OSError({code}, {os.strerror(code)!r})"


FAILING_WRITES = {"the HTML": _fail_html_write, "the report record": _fail_record_write,
                  "publishing": _fail_publish, "the notebook's kpis.csv": _fail_in_the_notebook}


@pytest.mark.parametrize("code, why", [(errno.ENOSPC, "the disk is full"),
                                       (errno.EACCES, "permission to write was taken away")])
@pytest.mark.parametrize("point", list(FAILING_WRITES))
def test_an_output_dir_that_fills_up_mid_run_leaves_the_previous_report_untouched(
        tmp_path, capsys, monkeypatch, point, code, why):
    out = tmp_path / "out"
    old = out / PERIOD / "All"
    old.mkdir(parents=True)
    (old / "segment_report.html").write_text("the previous report")
    (old / "kpis.csv").write_bytes(b"kpi,value\nrevenue,1\n")
    before = {p: (p.read_bytes() if p.is_file() else None) for p in files_under(out)}
    notebook = stand_in_notebook(tmp_path / "stand_in.ipynb")
    cell = FAILING_WRITES[point](monkeypatch, out, code)
    if cell:
        nb = nbformat.read(str(notebook), as_version=4)
        nb.cells[1].source = cell
        nbformat.write(nb, str(notebook))
    data = make_data(tmp_path / "data", ["Retail"])
    params = write_params(tmp_path / "params.yaml", data_dir=str(data), output_dir=str(out))
    status = main(["run", "--params", str(params), "--notebook", str(notebook)])
    monkeypatch.undo()
    message = one_error(capsys, status)
    check(message, "parameter 'output_dir'", str(out), why, "previous report",
          "unchanged")
    after = {p: (p.read_bytes() if p.is_file() else None) for p in files_under(out)}
    assert after == before  # byte for byte; no staging folder, no half-written file


def test_a_failed_move_into_place_puts_the_previous_report_back(tmp_path, monkeypatch):
    staging, final = tmp_path / "out" / publish.STAGING / "1-x", tmp_path / "out" / "All"
    staging.mkdir(parents=True)
    final.mkdir()
    (staging / "new.html").write_text("new")
    (final / "old.html").write_text("old")
    _fail_publish(monkeypatch, tmp_path / "out", errno.ENOSPC)
    with pytest.raises(OSError):
        publish_dir(staging, final)
    monkeypatch.undo()
    assert [p.name for p in final.iterdir()] == ["old.html"]
    assert sorted(p.name for p in final.parent.iterdir()) == [publish.STAGING, "All"]


def test_a_write_error_outside_the_output_dir_is_not_blamed_on_it(tmp_path):
    out = tmp_path / "out"
    assert publish.is_output_error(OSError(errno.ENOSPC, "full"), out)
    assert publish.is_output_error(OSError(errno.EACCES, "no", str(out / "a" / "b")), out)
    assert not publish.is_output_error(OSError(errno.ENOSPC, "full", str(tmp_path / "cache")),
                                       out)
    assert not publish.is_output_error(OSError(errno.ENOENT, "gone"), out)


# --------------------------------------------------------------------------- batch e-mail


@pytest.mark.parametrize("email, expected", [
    ({"sender": "r@example.com", "smtp_prot": 25},
     ["parameter 'email.smtp_prot'", "did you mean 'email.smtp_port'"]),
    ({"sender": "r@example.com", "smtp_port": "abc"}, ["parameter 'email.smtp_port'"]),
    ({"sender": "r@example.com", "password": SECRET}, ["never a parameter"]),
    ({"recipients": {"Retail": ["r@example.com"]}}, ["parameter 'email.sender'", "required"]),
    ({"sender": "r@example.com", "recipients": {"Retail": ["not an address"]}},
     ["email.recipients.Retail", "not an e-mail address"]),
])
def test_a_bad_email_setting_stops_the_batch_before_any_report(
        tmp_path, capsys, data_never_read, email, expected):
    params = write_params(tmp_path / "params.yaml", output_dir=str(tmp_path / "out"),
                          email=email)
    message = one_error(capsys, main(["batch", "--params", str(params)]))
    check(message, str(params), *expected)
    assert SECRET not in message
    assert files_under(tmp_path / "out") == []


def test_a_bad_email_setting_given_with_set_is_named_as_such(tmp_path, capsys,
                                                               data_never_read):
    params = write_params(tmp_path / "params.yaml", email={"sender": "r@example.com"})
    message = one_error(capsys, main(["batch", "--params", str(params),
                                      "--set", "email.smtp_port=0"]))
    check(message, "--set: parameter 'email.smtp_port'")


# --------------------------------------------------------------------------- secrets

PASSWORD_FORMS = {
    "user:password@": f"postgresql+psycopg://analyst:{SECRET}@db:5432/crm",
    "password with @ and a bad port": f"postgresql://analyst:{SECRET}@db:port/crm",
    "percent-encoded in userinfo": f"postgresql://analyst:{quote(SECRET, safe='')}@db/crm",
    "?password=": f"postgresql://analyst@db/crm?sslmode=require&password={SECRET}",
    "?pwd= upper case": f"mssql+pyodbc://analyst@dsn?PWD={SECRET}",
    "odbc_connect, encoded": ("mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC%7D%3BSERVER%3Ddb"
                              f"%3BUID%3Du%3BPWD%3D{quote(SECRET, safe='')}%3B"),
    "ODBC string": f"Driver={{ODBC Driver 18}};Server=db;UID=u;PWD={SECRET};Encrypt=yes",
    "ODBC braced value": f"Driver={{X}};Server=db;PWD={{{SECRET};x}}}}}};UID=u",
    "libpq keywords": f"host=db user=u password={SECRET} dbname=crm",
}


def assert_no_secret(text: str) -> None:
    for form in (SECRET, quote(SECRET, safe=""), "s3cret"):
        assert form not in text, text


@pytest.mark.parametrize("value", PASSWORD_FORMS.values(), ids=PASSWORD_FORMS.keys())
@pytest.mark.parametrize("param", ["data_source", "data_dir"])
def test_a_password_in_any_connection_string_form_is_refused_and_never_shown(
        tmp_path, capsys, data_never_read, value, param):
    params = write_params(tmp_path / "params.yaml", output_dir=str(tmp_path / "out"))
    message = one_error(capsys, main(["run", "--params", str(params), "--set",
                                      f"{param}={value}"]))
    check(message, f"parameter '{param}'", "contains a password", "SEGREPORT_DB_PASSWORD")
    assert_no_secret(message)
    assert files_under(tmp_path / "out") == []


@pytest.mark.parametrize("value", PASSWORD_FORMS.values(), ids=PASSWORD_FORMS.keys())
def test_the_masked_form_hides_the_password_and_keeps_the_rest(value):
    masked = mask_password(value)
    assert_no_secret(masked)
    assert "***" in masked
    assert masked[:8] == value[:8]  # the rest of the value stays readable


@pytest.mark.parametrize("value", ["postgresql+psycopg://analyst@db:5432/crm", "data/sample",
                                   "warehouse.duckdb", "duckdb:///crm.duckdb",
                                   "postgresql://db/crm?sslmode=require"])
def test_values_without_a_password_pass(value):
    check_no_password(value)
    assert mask_password(value) == value


@pytest.mark.parametrize("argv", [
    ["--set", f"data_sorce=postgresql://analyst:{SECRET}@db/crm"],           # a typo
    ["--set", f"data_source postgresql://analyst:{SECRET}@db/crm"],          # no '='
    ["--set", f"tables.order=postgresql://analyst:{SECRET}@db/crm"],         # unknown table
])
def test_a_mistyped_parameter_never_echoes_the_password(tmp_path, capsys, data_never_read,
                                                        argv):
    params = write_params(tmp_path / "params.yaml")
    message = one_error(capsys, main(["run", "--params", str(params), *argv]))
    assert_no_secret(message)


def test_a_url_with_a_bad_port_names_the_port_not_the_whole_parameter_set(
        tmp_path, capsys, data_never_read):
    params = write_params(tmp_path / "params.yaml", output_dir=str(tmp_path / "out"),
                          email={"sender": "r@example.com"})
    message = one_error(capsys, main(["run", "--params", str(params), "--set",
                                      "data_source=postgresql://analyst@db:54x2/crm"]))
    check(message, "parameter 'data_source'", "port", "must be a number")
    assert "output_dir" not in message and "r@example.com" not in message


# --------------------------------------------------------------------------- unit folders


def test_units_whose_names_sanitise_alike_get_different_stable_folders():
    folders = [unit_folder(u) for u in UNITS + ["", "North South", "north/south", ".hidden",
                                                "index.html", "X.failed.ipynb", "a-0123abcd"]]
    assert len(set(folders)) == len(folders)
    assert unit_folder("North_South") == "North_South"  # a safe name is kept
    digest = hashlib.sha256(b"North/South").hexdigest()[:8]
    assert unit_folder("North/South") == f"North_South-{digest}"  # stable across runs
    assert unit_folder("") == "All" and unit_folder("All") != "All"
    for folder in folders:
        assert "/" not in folder and "\n" not in folder and not folder.startswith(".")


def test_a_very_long_unit_name_still_makes_a_valid_folder_name():
    for unit in ("x" * 5000, "é" * 300, "日本" * 200):
        folder = unit_folder(unit)
        assert len(folder.encode("utf-8")) < 255
        assert folder != unit_folder(unit + "y")


def test_two_units_that_would_share_a_folder_are_refused_naming_both():
    params = ReportParams(output_dir="out")
    with pytest.raises(ConfigError) as info:
        check_folders(params, ["Retail", " Retail"], PERIOD)  # the same once trimmed
    check(str(info.value), "'Retail'", "' Retail'", "would share the report folder")
    check_folders(params, UNITS, PERIOD)  # distinct folders: no error


# --------------------------------------------------------------------------- engine failures

PG_URL = "postgresql+psycopg://analyst@db.internal:5432/crm"


def _tiny_memory_limit(monkeypatch) -> dict:
    """A real DuckDB memory limit too small for the smallest report."""
    monkeypatch.setattr("segreport.engine.backend.DUCKDB_MEMORY_LIMIT", "256KB")
    return {}


def _full_temp_folder(monkeypatch) -> dict:
    """DuckDB cannot write to its temporary folder while building the panel."""
    import duckdb

    def materialize(*args, **kwargs):
        raise duckdb.IOException('IO Error: Could not write file "/tmp/segreport-duckdb-1/'
                                 'duckdb_temp_storage-0.tmp": No space left on device')

    monkeypatch.setattr("segreport.engine.backend.materialize", materialize)
    return {}


def _dropped_connection(monkeypatch) -> dict:
    """PostgreSQL closes the connection half-way through the panel queries."""
    import psycopg

    class Opened:
        con = None
        info = type("Info", (), {"data_dir": PG_URL})()

        def close(self):
            pass

    def lost(*args, **kwargs):
        raise psycopg.OperationalError("consuming input failed: server closed the connection "
                                       "unexpectedly\n\tThis probably means the server "
                                       "terminated abnormally")

    monkeypatch.setattr("segreport.engine.open_engine", lambda *a, **k: Opened())
    monkeypatch.setattr("segreport.prepared.build._prepare", lost)
    monkeypatch.setenv("SEGREPORT_DB_PASSWORD", SECRET)
    return {"data_source": PG_URL}


ENGINE_FAILURES = [
    # (case, set-up, expected words)
    ("out of memory", _tiny_memory_limit,
     ["DuckDB ran out of memory", "Out of Memory Error", "KiB of memory", "segreport-duckdb-",
      "SEGREPORT_DUCKDB_MEMORY", "run again"]),
    ("full temporary folder", _full_temp_folder,
     ["DuckDB could not read or write a file", "No space left on device", "free space"]),
    ("dropped PostgreSQL connection", _dropped_connection,
     ["PostgreSQL failed", "analyst@db.internal:5432/crm", "server closed the connection",
      "Check that the server is up"]),
]


@pytest.mark.parametrize("case, setup, words", ENGINE_FAILURES,
                         ids=[c[0] for c in ENGINE_FAILURES])
def test_an_engine_failure_is_one_message_saying_what_to_do(tmp_path, capsys, monkeypatch,
                                                            case, setup, words):
    data = make_data(tmp_path / "data", ["Retail"])
    params = write_params(tmp_path / "params.yaml", data_dir=str(data),
                          output_dir=str(tmp_path / "out"), **setup(monkeypatch))
    message = one_error(capsys, main(["run", "--params", str(params)]))
    check(message, *words)
    assert SECRET not in message and len(message.splitlines()) == 1
    assert files_under(tmp_path / "out") == []


def test_debug_shows_the_engine_failures_traceback(tmp_path, monkeypatch):
    from segreport.errors import EngineError

    _full_temp_folder(monkeypatch)
    params = write_params(tmp_path / "params.yaml", data_dir=str(make_data(tmp_path / "d")),
                          output_dir=str(tmp_path / "out"))
    with pytest.raises(EngineError) as raised:
        main(["--debug", "run", "--params", str(params)])
    assert type(raised.value.__cause__).__name__ == "IOException"


def test_a_query_error_that_is_a_bug_is_not_dressed_up_as_an_engine_failure():
    import duckdb
    import psycopg

    from segreport.engine.backend import engine_failure

    assert engine_failure(duckdb.BinderException("Binder Error: column x not found")) is None
    assert engine_failure(psycopg.errors.UndefinedColumn("column x does not exist")) is None
    assert engine_failure(KeyError("x")) is None
    lost = engine_failure(psycopg.OperationalError("server closed the connection"), None,
                          f"postgresql://analyst:{SECRET}@db:5432/crm")
    assert lost is not None and "analyst:***@db:5432/crm" in str(lost)


# --------------------------------------------------------------------------- a batch of odd units


def recipients(units: list[str]) -> dict[str, list[str]]:
    return {unit: [f"unit{i}@example.com"] for i, unit in enumerate(units)}


@pytest.fixture(scope="module")
def odd_batch(tmp_path_factory, no_pdf) -> dict:
    """One batch over the odd units with the stand-in notebook, then ``email --dry-run``."""
    root = tmp_path_factory.mktemp("odd")
    data = make_data(root / "data")
    notebook = stand_in_notebook(root / "stand_in.ipynb")
    params = write_params(root / "params.yaml", data_dir=str(data), output_dir=str(root / "out"),
                          email={"sender": "reports@example.com",
                                 "recipients": recipients(UNITS)})
    status = main(["batch", "--params", str(params), "--notebook", str(notebook)])
    return {"root": root, "status": status, "params": params, "notebook": notebook,
            "out": root / "out", "period": root / "out" / PERIOD}


def unit_folders(period_dir: Path) -> dict[str, Path]:
    """Real unit name → report folder, from each folder's record."""
    found = {}
    for folder in period_dir.iterdir():
        if folder.is_dir() and not folder.name.startswith("."):
            meta = json.loads((folder / META_NAME).read_text(encoding="utf-8"))
            assert meta["unit"] not in found
            found[meta["unit"]] = folder
    return found


def test_every_odd_unit_gets_its_own_report_folder_holding_only_its_report(odd_batch):
    assert odd_batch["status"] == 0
    folders = unit_folders(odd_batch["period"])
    assert sorted(folders) == sorted(UNITS)
    assert folders["All"].name != "All"
    assert folders["North/South"] != folders["North_South"]
    for unit, folder in folders.items():
        with open(folder / "kpis.csv", newline="") as fh:
            assert {row["business_unit"] for row in csv.DictReader(fh)} == {unit}
        assert {"segment_report.html", "segment_report.ipynb", "segment_report.eml"} <= {
            p.name for p in folder.iterdir()}


def test_a_successful_batch_leaves_no_staging_folder(odd_batch):
    assert not (odd_batch["out"] / ".staging").exists()


def test_the_index_names_each_unit_as_written_and_links_to_its_own_folder(odd_batch):
    index = (odd_batch["period"] / "index.html").read_text(encoding="utf-8")
    for unit, folder in unit_folders(odd_batch["period"]).items():
        assert f">{unit.replace('&', '&amp;')}</th>" in index
        assert f"href='{folder.name}/segment_report.html'" in index


def test_the_batch_emails_go_to_the_recipients_of_the_real_unit_names(odd_batch):
    addresses = recipients(UNITS)
    for unit, folder in unit_folders(odd_batch["period"]).items():
        msg = BytesParser(policy=policy.default).parsebytes(
            (folder / "segment_report.eml").read_bytes())
        assert [a.addr_spec for a in msg["To"].addresses] == addresses[unit]
        one_line = unit.replace("\n", " ")
        assert msg["Subject"] == f"Customer segment report {PERIOD} — {one_line}"


def test_email_finds_each_folder_from_the_unit_name_and_agrees_with_the_batch(
        odd_batch, capsys):
    params = str(odd_batch["params"])
    capsys.readouterr()
    assert main(["email", "--params", params, "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(UNITS)
    assert any(line.startswith("segreport: R&D West: wrote ") for line in out)
    assert any(line.startswith("segreport: Line Break: wrote ") for line in out)
    assert main(["email", "--params", params, "--dry-run", "--unit", "R&D West",
                 "--unit", "North/South"]) == 0
    out = capsys.readouterr().out
    folders = unit_folders(odd_batch["period"])
    assert str(folders["R&D West"] / "segment_report.eml") in out
    assert str(folders["North/South"] / "segment_report.eml") in out
    assert str(folders["North_South"] / "segment_report.eml") not in out


def test_a_unit_named_all_beside_the_all_units_report_stops_the_email_naming_both(
        odd_batch, capsys):
    params = str(odd_batch["params"])
    assert main(["run", "--params", params, "--notebook", str(odd_batch["notebook"]),
                 "--set", f"output_dir={odd_batch['root'] / 'out_all'}"]) == 0
    # the all-units report and the unit "All" under one period folder
    both = odd_batch["root"] / "out_both" / PERIOD
    shutil.copytree(odd_batch["root"] / "out_all" / PERIOD / "All", both / "All")
    shutil.copytree(unit_folders(odd_batch["period"])["All"], both / unit_folder("All"))
    capsys.readouterr()
    message = one_error(capsys, main(["email", "--params", params, "--dry-run", "--set",
                                      f"output_dir={odd_batch['root'] / 'out_both'}"]))
    check(message, str(both / "All"), str(both / unit_folder("All")), "both for unit 'All'")


def test_units_that_would_share_a_folder_stop_the_batch_before_any_work(tmp_path, capsys):
    data = make_data(tmp_path / "data", ["Retail"])
    params = write_params(tmp_path / "params.yaml", data_dir=str(data),
                          output_dir=str(tmp_path / "out"))
    message = one_error(capsys, main(["batch", "--params", str(params), "--unit", "Retail",
                                      "--unit", " Retail"]))
    # the data's names are trimmed, so ' Retail' is no unit of the data: refused as such,
    # before any report (check_unit_folders would refuse the pair otherwise, tested above)
    check(message, "' Retail'", "not found", "units present: Retail")
    assert files_under(tmp_path / "out") == []


def test_a_units_real_report_holds_only_its_own_data(tmp_path, capsys):
    """The master notebook end to end: a unit's HTML and kpis.csv, data-quality section
    included, hold its rows only (the hand-made data of tests/test_engine.py: Retail has
    2 customers and 3 order rows; the whole data 4 and 7, one of them ordered by zz, a
    customer nobody knows)."""
    import re

    from test_engine import UNITS_CUSTOMERS, UNITS_ORDERS, UNITS_SPEND, UNITS_SURVEYS

    data = tmp_path / "data"
    data.mkdir()
    for name, text in (("customers", UNITS_CUSTOMERS), ("orders", UNITS_ORDERS),
                       ("surveys", UNITS_SURVEYS), ("marketing_spend", UNITS_SPEND)):
        (data / f"{name}.csv").write_text(text)
    params = write_params(tmp_path / "params.yaml", data_dir=str(data),
                          output_dir=str(tmp_path / "out"), business_unit="Retail",
                          max_unknown_customer_pct=50)
    assert main(["run", "--params", str(params)]) == 0, capsys.readouterr().err
    folder = tmp_path / "out" / PERIOD / "Retail"
    page = (folder / "segment_report.html").read_text(encoding="utf-8")
    page = re.sub(r"base64,[A-Za-z0-9+/=\s]+", "", page)  # the charts' image data
    for word in ("zz", "Set aside", "belong to no customer", "net amount"):
        assert word not in page, word
    cell = r"</td><td[^>]*>"
    assert re.search(rf"orders\.csv{cell}3{cell}0{cell}read and checked", page)
    assert re.search(rf"customers\.csv{cell}2{cell}0{cell}read and checked", page)
    assert re.search(rf"orders\.csv{cell}3{cell}1{cell}exact duplicate rows dropped", page)
    assert not re.search(rf"orders\.csv{cell}7{cell}", page)
    kpis = pd.read_csv(folder / "kpis.csv")
    assert set(kpis["business_unit"]) == {"Retail"}


# --------------------------------------------------------------------------- e-mail headers


def email_report(folder: Path, unit: str) -> Path:
    from test_email import make_report

    make_report(folder, unit=unit, pdf=False)
    write_report_meta(folder, unit, PERIOD)
    return folder


@pytest.mark.parametrize("unit", ["Evil\r\nBcc: victim@example.com", "Evil\nX-Injected: 1",
                                  "Tab\tand\x0bvertical\u2028separator"])
def test_a_unit_name_cannot_inject_a_header(tmp_path, unit):
    folder = email_report(tmp_path / "r", unit)
    settings = EmailSettings.from_dict({"sender": "r@example.com",
                                        "recipients": {unit: ["a@example.com"]}})
    msg = build_message(folder, settings, PERIOD, unit)
    path = write_eml(msg, folder / "segment_report.eml")
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert parsed["Bcc"] is None and parsed["X-Injected"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["a@example.com"]
    subject = parsed["Subject"]
    assert "\n" not in subject and "\r" not in subject and subject.startswith("Customer")


# --------------------------------------------------------------------------- sending once


class Server:
    """A plain SMTP server on localhost (no TLS, no login) that refuses recipients named
    ``refuse@…`` (550) and answers 421 (closing) to a message for ``drop@…``."""

    def __init__(self) -> None:
        self.received: list[dict] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(a.startswith("drop@") for a in envelope.rcpt_tos):
            return "421 4.3.0 closing the connection"
        self.received.append({"to": list(envelope.rcpt_tos), "data": bytes(envelope.content)})
        return "250 Message accepted"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    handler = Server()
    for attempt in range(5):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        try:
            controller.start()
            break
        except Exception:
            if attempt == 4:
                raise
    yield port, handler
    controller.stop()


SEND_UNITS = ["Online", "R&D West", "Retail"]


def send_params(tmp_path: Path, port: int, addresses: dict[str, str]) -> Path:
    email = {"sender": "reports@example.com", "smtp_host": "127.0.0.1", "smtp_port": port,
             "starttls": False, "timeout": 10,
             "recipients": {u: [addresses.get(u, f"{i}@example.com")]
                            for i, u in enumerate(SEND_UNITS)}}
    return write_params(tmp_path / "params.yaml", output_dir=str(tmp_path / "out"),
                        email=email)


@pytest.fixture
def three_reports(tmp_path) -> dict[str, Path]:
    return {u: email_report(tmp_path / "out" / PERIOD / unit_folder(u), u) for u in SEND_UNITS}


def subjects(handler: Server) -> list[str]:
    return [BytesParser(policy=policy.default).parsebytes(m["data"])["Subject"]
            .rsplit("— ", 1)[1] for m in handler.received]


def test_a_refused_unit_does_not_stop_the_others_and_a_rerun_sends_only_it(
        tmp_path, capsys, smtp, three_reports):
    port, handler = smtp
    params = send_params(tmp_path, port, {"R&D West": "refuse@example.com"})
    message = one_error(capsys, main(["email", "--params", str(params)]), expected=1)
    check(message, "1 of 3 e-mail(s) not sent (R&D West)", "run the same command again")
    assert subjects(handler) == ["Online", "Retail"]
    assert [u for u, f in three_reports.items() if sent_record(f)] == ["Online", "Retail"]
    record = json.loads((three_reports["Online"] / SENT_NAME).read_text())
    assert record["to"] == ["0@example.com"] and record["message_id"]
    # the address is fixed: the next run sends R&D West alone
    params = send_params(tmp_path, port, {"R&D West": "rd@example.com"})
    assert main(["email", "--params", str(params)]) == 0
    out = capsys.readouterr().out
    assert subjects(handler) == ["Online", "Retail", "R&D West"]
    check(out, "segreport: Online: already sent", "--resend", "segreport: R&D West: sent")
    # nothing left: nothing sent
    assert main(["email", "--params", str(params)]) == 0
    assert len(handler.received) == 3
    # --resend sends every one again
    assert main(["email", "--params", str(params), "--resend"]) == 0
    assert len(handler.received) == 6


def test_the_refusal_is_reported_per_unit_on_the_output(tmp_path, capsys, smtp, three_reports):
    port, _ = smtp
    params = send_params(tmp_path, port, {"Online": "refuse@example.com"})
    assert main(["email", "--params", str(params)]) == 1
    out = capsys.readouterr().out
    check(out, "segreport: Online: NOT sent (every recipient was refused: refuse@example.com "
               "(550 5.1.1 no such user))", "segreport: Retail: sent")


def test_a_dropped_connection_is_opened_again_for_the_next_unit(tmp_path, capsys, smtp,
                                                                 three_reports):
    port, handler = smtp
    params = send_params(tmp_path, port, {"Online": "drop@example.com"})
    message = one_error(capsys, main(["email", "--params", str(params)]), expected=1)
    check(message, "(Online)")
    assert subjects(handler) == ["R&D West", "Retail"]
    assert sent_record(three_reports["Online"]) is None


def test_a_server_that_cannot_be_reached_sends_nothing_and_records_nothing(
        tmp_path, capsys, three_reports):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there
    message = one_error(capsys, main(["email", "--params", str(send_params(tmp_path, port, {}))]))
    check(message, f"127.0.0.1:{port}", "nothing was sent")
    assert not any(sent_record(f) for f in three_reports.values())


def test_a_dry_run_neither_reads_nor_writes_the_sent_record(tmp_path, capsys, three_reports):
    (three_reports["Retail"] / SENT_NAME).write_text("{}")
    params = send_params(tmp_path, 1, {})
    assert main(["email", "--params", str(params), "--dry-run"]) == 0
    assert len(list((tmp_path / "out").rglob("*.eml"))) == 3
    assert not (three_reports["Online"] / SENT_NAME).exists()


# --------------------------------------------------------------------------- Ctrl-C, staging


def test_ctrl_c_while_reading_ends_the_run_quietly(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("segreport.report.run.prepare_data", interrupted)
    params = write_params(tmp_path / "params.yaml", output_dir=str(tmp_path / "out"))
    assert main(["run", "--params", str(params)]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and "segreport: aborted" in err
    assert files_under(tmp_path / "out") == []


@pytest.fixture
def small(tmp_path) -> Path:
    return write_params(tmp_path / "params.yaml", data_dir=str(make_data(tmp_path / "data")),
                        output_dir=str(tmp_path / "out"))


def test_ctrl_c_while_the_notebook_runs_leaves_no_staging_folder(tmp_path, capsys, monkeypatch,
                                                                 small):
    def interrupted(notebook, out, parameters, kernel=None):
        assert (tmp_path / "out" / ".staging").is_dir()
        raise KeyboardInterrupt

    monkeypatch.setattr("segreport.report.run.execute", interrupted)
    assert main(["run", "--params", str(small), "--set", "business_unit=R&D West"]) == 130
    assert "Traceback" not in capsys.readouterr().err
    assert files_under(tmp_path / "out") == []


def test_staging_folders_and_the_data_copy_are_private_and_cleared_after_success(
        tmp_path, monkeypatch, small):
    seen = {}

    def execute(notebook, out, parameters, kernel=None):
        for name, path in (("staging", Path(out).parent),
                           ("data copy", Path(parameters["prepared_data"])),
                           ("staging root", Path(out).parent.parent)):
            seen[name] = stat.S_IMODE(path.stat().st_mode)
        nbformat.write(new_notebook(cells=[new_code_cell("1")]), str(out))
        Path(parameters["kpis_csv"]).write_text("kpi\n")

    monkeypatch.setattr("segreport.report.run.execute", execute)
    assert main(["run", "--params", str(small), "--set", "business_unit=R&D West"]) == 0
    assert seen == {"staging": 0o700, "data copy": 0o700, "staging root": 0o700}
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [PERIOD]  # no empty .staging
    folder = out / PERIOD / unit_folder("R&D West")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask  # a published report
    assert json.loads((folder / META_NAME).read_text())["unit"] == "R&D West"


def test_a_staging_folder_is_private_until_it_is_published(tmp_path):
    folder = new_staging_dir(tmp_path / "out")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    final = publish_dir(folder, tmp_path / "out" / PERIOD / "Retail")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(final.stat().st_mode) == 0o777 & ~umask


def ctrl_c_not_ignored() -> None:
    """In the child: Ctrl-C as a terminal would deliver it, even when pytest itself runs in
    the background with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt(tmp_path: Path, command: str, ready: int) -> subprocess.CompletedProcess:
    """Start ``segreport COMMAND`` on a notebook that sleeps, press Ctrl-C (SIGINT to its
    process group, as a terminal does) once ``ready`` staging folders exist (one per
    report being made: the prepared data is kept in the cache, not in staging)."""
    data = make_data(tmp_path / "data", ["Retail", "Online", "Wholesale"])
    params = write_params(tmp_path / "params.yaml", data_dir=str(data),
                          output_dir=str(tmp_path / "out"))
    notebook = stand_in_notebook(tmp_path / "sleepy.ipynb", sleep=60)
    argv = [sys.executable, "-m", "segreport.cli", command, "--params", str(params),
            "--notebook", str(notebook)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=ctrl_c_not_ignored)  # noqa: PLW1509
    staging = tmp_path / "out" / ".staging"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        if staging.is_dir() and len(list(staging.iterdir())) >= ready:
            break
        time.sleep(0.2)
    time.sleep(3)  # into the notebook
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


@pytest.mark.parametrize("command, ready", [("run", 1), ("batch", 2)])
def test_ctrl_c_ends_run_and_batch_quietly(tmp_path, command, ready):
    done = interrupt(tmp_path, command, ready)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr
    assert "segreport: aborted" in done.stderr
    assert files_under(tmp_path / "out") == []  # no report, no staging folder


def test_a_kernel_ends_by_itself_when_the_run_that_started_it_is_killed():
    started = ("from segreport.report.kernel import ReusedKernel\n"
               "km = ReusedKernel().get('.')\n"
               "print(km.provisioner.pid, flush=True)\n"
               "import time; time.sleep(120)\n")
    run = subprocess.Popen([sys.executable, "-c", started], stdout=subprocess.PIPE, text=True)
    kernel = int(run.stdout.readline())
    run.kill()  # SIGKILL: nothing of the run can clean up
    run.wait()
    def running() -> bool:
        try:
            state = Path(f"/proc/{kernel}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X")

    deadline = time.monotonic() + 30  # ipykernel polls its parent every second
    while time.monotonic() < deadline and running():
        time.sleep(0.2)
    assert not running()
