"""``segreport email``: the message built from a report folder, the .eml files, and sending
over STARTTLS to a local aiosmtpd server with a self-signed certificate.

Report folders are small fixtures: an executed notebook made with nbformat (cells with tags
and outputs), a stand-in HTML report and, when wanted, a PDF. No kernel is started.
"""
from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import socket
import ssl
import struct
import zlib
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from segreport.errors import ConfigError, EmailError
from segreport.report.email_cli import email_command
from segreport.report.email_message import BODY_HTML_LIMIT, build_message, write_eml
from segreport.report.email_settings import EmailSettings
from segreport.report.email_smtp import send_messages
from segreport.report.email_summary import MAX_IMAGE_WIDTH

PERIOD = "2026Q3"
USER, PASSWORD = "reports", "s3cret-canary-7f1c9a"
REPORT_HTML = (b"<!DOCTYPE html><html><body><h1>Full report</h1>"
               b"<img src='data:image/png;base64,iVBORw0KGgo='></body></html>")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def png(width: int, height: int = 2) -> bytes:
    """A valid grey PNG of the given size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0,
                                                              0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


CHART_1, CHART_2, CHART_3 = png(1200), png(300), png(40)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def html_out(html: str):
    return new_output("execute_result", data={"text/html": html, "text/plain": "<HTML>"},
                      execution_count=1)


def png_out(data: bytes, kind: str = "execute_result"):
    extra = {"execution_count": 1} if kind == "execute_result" else {}
    return new_output(kind, data={"image/png": b64(data), "text/plain": "<Figure>"}, **extra)


def cell(outputs, tags=("email",)):
    return new_code_cell("...", metadata={"tags": list(tags)}, outputs=outputs)


def make_report(folder: Path, unit: str = "Retail", pdf: bool = True) -> Path:
    """An executed notebook with email cells, untagged cells and noise, plus the reports."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = new_notebook(cells=[
        cell([], tags=("parameters",)),
        cell([], tags=("injected-parameters",)),
        new_markdown_cell("# not an output"),
        cell([html_out(f"<h1 style='margin:0'>Customer segment report — {PERIOD}</h1>"
                       f"<p>{unit}</p>")]),
        cell([html_out("<table style='border-collapse:collapse'><tr><th style='padding:4px'>"
                       "Segment</th><th>Growth</th></tr><tr><td>Gold</td><td>+3.7%<br>WEAK"
                       "</td></tr></table>")]),
        cell([html_out("<p>UNTAGGED SECTION</p>"), png_out(png(7))], tags=("remove",)),
        cell([new_output("stream", name="stdout", text="printed, not shown\n"),
              png_out(CHART_1)]),
        cell([png_out(CHART_2, "display_data"), png_out(CHART_2)], tags=("email", "other")),
        cell([html_out(f"<p>Inline chart: <img alt='mix' src=\"data:image/png;base64,"
                       f"{b64(CHART_3)}\"></p>")]),
        cell([html_out("<p>Data quality: UNTAGGED</p>")], tags=()),
    ])
    nb.metadata["papermill"] = {"parameters": {"period": PERIOD}}
    nbformat.write(nb, str(folder / "segment_report.ipynb"))
    (folder / "segment_report.html").write_bytes(REPORT_HTML)
    (folder / "kpis.csv").write_text("kpi,value\n")
    if pdf:
        (folder / "segment_report.pdf").write_bytes(PDF)
    return folder


SETTINGS = {
    "sender": "Segment reports <reports@example.com>",
    "recipients": {"All": ["board@example.com"],
                   "Retail": ["Ann Lee <ann@example.com>", "bob@example.com"]},
    "cc": "analytics@example.com",
}


def settings(**extra) -> EmailSettings:
    return EmailSettings.from_dict(SETTINGS | extra)


def parse(data: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(data)


def roundtrip(msg: EmailMessage) -> EmailMessage:
    return parse(msg.as_bytes())


def html_body(msg: EmailMessage) -> str:
    return msg.get_body(preferencelist=("html",)).get_content()


def inline_images(msg: EmailMessage) -> dict[str, bytes]:
    related = msg.get_body(preferencelist=("related",))
    return {part["Content-ID"].strip("<>"): part.get_content()
            for part in related.iter_parts() if part.get_content_maintype() == "image"}


@pytest.fixture
def retail(tmp_path: Path) -> Path:
    return make_report(tmp_path / "out" / PERIOD / "Retail")


@pytest.fixture
def message(retail: Path) -> EmailMessage:
    return roundtrip(build_message(retail, settings(), PERIOD, "Retail"))


# --------------------------------------------------------------------------- the message


def test_the_body_is_multipart_related_html_whose_images_are_cid_parts_it_references(message):
    assert message.get_content_type() == "multipart/mixed"
    related = message.get_body(preferencelist=("related",))
    assert related is not None and related.get_content_type() == "multipart/related"
    html = html_body(message)
    images = inline_images(message)
    # The growth chart twice (display_data and execute_result), the revenue chart once
    # and the data-URI image inside a tagged HTML output.
    assert list(images.values()) == [CHART_1, CHART_2, CHART_2, CHART_3]
    for cid in images:
        assert f"cid:{cid}" in html
    assert html.count("cid:") == len(images)


def test_the_body_has_no_data_uri_images_even_when_a_tagged_html_output_embeds_one(message):
    html = html_body(message)
    assert "data:image" not in html
    assert "alt='mix'" in html  # the tag around the image is kept


def test_the_body_takes_only_the_outputs_of_cells_tagged_email_in_notebook_order(message):
    html = html_body(message)
    title, table, inline = (html.index("Customer segment report"), html.index("<table"),
                            html.index("Inline chart"))
    assert title < table < html.index("cid:") < inline
    assert "UNTAGGED" not in html
    assert "printed, not shown" not in html
    assert "not an output" not in html


def test_wide_charts_are_shown_no_wider_than_an_email_column(message):
    html = html_body(message)
    assert f"width='{MAX_IMAGE_WIDTH}'" in html      # the 1200 px chart
    assert "width='300'" in html                      # a narrow one keeps its size


def test_the_html_report_and_the_pdf_are_attached_with_their_filenames_and_types(message):
    attachments = {a.get_filename(): a for a in message.iter_attachments()}
    assert list(attachments) == ["segment_report_2026Q3_Retail.html",
                                 "segment_report_2026Q3_Retail.pdf"]
    html, pdf = attachments.values()
    assert html.get_content_type() == "text/html"
    assert html.get_content_disposition() == "attachment"
    assert html.get_payload(decode=True) == REPORT_HTML
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content() == PDF


def test_without_a_pdf_only_the_html_report_is_attached(tmp_path):
    folder = make_report(tmp_path / PERIOD / "Retail", pdf=False)
    msg = roundtrip(build_message(folder, settings(), PERIOD, "Retail"))
    assert [a.get_filename() for a in msg.iter_attachments()] == [
        "segment_report_2026Q3_Retail.html"]
    assert ".pdf" not in html_body(msg)


def test_recipients_come_from_the_unit_mapping_and_cc_and_sender_from_the_settings(message):
    assert [a.addr_spec for a in message["To"].addresses] == ["ann@example.com",
                                                              "bob@example.com"]
    assert message["To"].addresses[0].display_name == "Ann Lee"
    assert [a.addr_spec for a in message["Cc"].addresses] == ["analytics@example.com"]
    assert message["From"].addresses[0].addr_spec == "reports@example.com"
    assert message["Message-ID"].endswith("@example.com>")
    assert message["Date"]


def test_the_subject_defaults_to_period_and_unit_and_follows_a_template(retail):
    assert roundtrip(build_message(retail, settings(), PERIOD, "Retail"))["Subject"] == \
        "Customer segment report 2026Q3 — Retail"
    custom = settings(subject="[KPI] {unit} / {period}")
    assert build_message(retail, custom, PERIOD, "Retail")["Subject"] == "[KPI] Retail / 2026Q3"


def test_the_plain_text_alternative_reads_the_summary(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Customer segment report — 2026Q3" in text
    assert "Gold | +3.7% WEAK" in text
    assert "segment_report_2026Q3_Retail.pdf" in text
    assert "<" not in text.replace("<HTML>", "")


def test_a_unit_name_from_the_data_is_escaped_in_the_html_we_write(tmp_path):
    unit = "R&D <b>"
    folder = make_report(tmp_path / PERIOD / "R_D _b_", unit="x")
    msg = roundtrip(build_message(folder, settings(recipients={unit: "rd@example.com"}),
                                  PERIOD, unit))
    html = html_body(msg)
    assert "R&amp;D &lt;b&gt;" in html
    assert "R&D <b>" not in html
    assert msg["Subject"] == "Customer segment report 2026Q3 — R&D <b>"


def test_the_body_stays_well_under_the_size_mail_clients_clip(message):
    assert len(html_body(message).encode()) < 10_000


def test_a_body_past_the_limit_is_built_with_a_warning(tmp_path):
    folder = make_report(tmp_path / PERIOD / "Retail")
    nb = nbformat.read(str(folder / "segment_report.ipynb"), as_version=4)
    nb.cells.append(cell([html_out("<p>" + "x" * BODY_HTML_LIMIT + "</p>")]))
    nbformat.write(nb, str(folder / "segment_report.ipynb"))
    with pytest.warns(UserWarning, match="clip"):
        build_message(folder, settings(), PERIOD, "Retail")


def test_a_notebook_without_email_cells_is_an_error_that_says_to_tag_them(tmp_path):
    folder = make_report(tmp_path / PERIOD / "Retail")
    nb = nbformat.read(str(folder / "segment_report.ipynb"), as_version=4)
    for c in nb.cells:
        c.metadata["tags"] = [t for t in c.metadata.get("tags", []) if t != "email"]
    nbformat.write(nb, str(folder / "segment_report.ipynb"))
    with pytest.raises(EmailError, match="tag the cells .* with 'email'"):
        build_message(folder, settings(), PERIOD, "Retail")


def test_a_folder_without_the_html_report_is_an_error_naming_the_file(tmp_path):
    folder = make_report(tmp_path / PERIOD / "Retail")
    (folder / "segment_report.html").unlink()
    with pytest.raises(EmailError, match=r"segment_report\.html: not found; run `segreport run`"):
        build_message(folder, settings(), PERIOD, "Retail")


def test_write_eml_replaces_the_file_in_one_step_and_leaves_no_temporary_file(message, tmp_path):
    folder = tmp_path / "eml"
    folder.mkdir()
    path = folder / "segment_report.eml"
    path.write_bytes(b"old")
    assert write_eml(message, path) == path
    assert parse(path.read_bytes())["Subject"] == message["Subject"]
    assert [p.name for p in folder.iterdir()] == ["segment_report.eml"]


# --------------------------------------------------------------------------- settings


def test_a_unit_without_recipients_is_a_config_error_naming_the_unit_and_the_params_key(retail):
    with pytest.raises(ConfigError) as info:
        build_message(retail, settings(recipients={"retail": ["a@example.com"]}), PERIOD,
                      "Retail")
    message = str(info.value)
    assert "'Retail'" in message and "email.recipients.Retail" in message
    assert "the params file has 'retail'" in message
    assert "\n" not in message


@pytest.mark.parametrize("extra, expected", [
    ({"sender": "not an address"}, "parameter 'email.sender': 'not an address' is not an "
                                   "e-mail address"),
    ({"recipients": {"All": ["ok@example.com", "bad@"]}},
     "parameter 'email.recipients.All': 'bad@' is not an e-mail address"),
    ({"smtp_port": 70000}, "parameter 'email.smtp_port'"),
    ({"subject": "Report {quarter}"}, "unknown placeholder {quarter}; the subject can use "
                                      "{period} and {unit}"),
    ({"smtp_hots": "mail"}, "unknown parameter (did you mean 'email.smtp_host'?)"),
    ({"password_env": "hunter2!"}, "must be the NAME of an environment variable"),
    ({"cc": "a@example.com\nBcc: evil@example.com"}, "cannot contain a line break"),
])
def test_invalid_settings_are_one_line_config_errors_naming_the_parameter(extra, expected):
    with pytest.raises(ConfigError) as info:
        EmailSettings.from_dict(SETTINGS | extra, where="params.yaml")
    assert expected in str(info.value)
    assert str(info.value).startswith("params.yaml: ")
    assert "\n" not in str(info.value)


def test_a_password_in_the_params_is_refused_and_the_environment_variable_suggested():
    with pytest.raises(ConfigError, match="password is never a parameter.*SEGREPORT_SMTP_PASSWORD"):
        EmailSettings.from_dict(SETTINGS | {"smtp_password": "x"})


def test_a_missing_email_section_is_a_config_error_showing_what_to_add():
    with pytest.raises(ConfigError, match="no 'email' section.*sender.*recipients"):
        EmailSettings.from_dict(None, where="params.yaml")


def test_the_defaults_are_port_587_with_starttls_and_the_default_password_variable():
    s = settings()
    assert (s.smtp_port, s.starttls, s.password_env, s.verify) == (
        587, True, "SEGREPORT_SMTP_PASSWORD", True)


def test_a_missing_password_variable_is_a_config_error_naming_it(message, monkeypatch):
    monkeypatch.delenv("MY_SMTP_PW", raising=False)
    s = settings(smtp_host="127.0.0.1", smtp_port=1, smtp_user=USER, password_env="MY_SMTP_PW")
    with pytest.raises(ConfigError, match="environment variable MY_SMTP_PW"):
        send_messages([message], s)


def test_a_login_without_starttls_is_refused_before_connecting(message, monkeypatch):
    monkeypatch.setenv("SEGREPORT_SMTP_PASSWORD", PASSWORD)
    s = settings(smtp_host="127.0.0.1", smtp_port=1, smtp_user=USER, starttls=False)
    with pytest.raises(ConfigError, match="password would travel unencrypted"):
        send_messages([message], s)


# --------------------------------------------------------------------------- SMTP server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Mailbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[dict] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "data": bytes(envelope.original_content or envelope.content),
                              "tls": session.ssl is not None,
                              "authenticated": session.authenticated})
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=True would mean "replied already"


@pytest.fixture(scope="module")
def smtp_server(certificate):
    """A STARTTLS server on 127.0.0.1 that requires TLS and a login (USER, PASSWORD)."""
    from aiosmtpd.controller import Controller

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    mailbox = Mailbox()
    for attempt in range(5):  # a free port can be taken between choosing and binding it
        controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(),
                                tls_context=context, require_starttls=True,
                                authenticator=authenticator, auth_required=True,
                                auth_require_tls=True)
        try:
            controller.start()
            break
        except Exception:
            if attempt == 4:
                raise
    yield controller, mailbox
    controller.stop()


@pytest.fixture
def server(smtp_server, certificate, monkeypatch):
    controller, mailbox = smtp_server
    mailbox.received.clear()
    monkeypatch.setenv("SEGREPORT_SMTP_PASSWORD", PASSWORD)
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": controller.port, "smtp_user": USER,
            "cafile": str(certificate[0]), "timeout": 10}
    return smtp, mailbox


def test_messages_are_sent_over_starttls_with_a_login_and_arrive_intact(server, retail):
    smtp, mailbox = server
    s = settings(**smtp)
    msgs = [build_message(retail, s, PERIOD, "Retail"),
            build_message(make_report(retail.parent / "All"), s, PERIOD, "All")]
    seen = []
    assert send_messages(msgs, s, on_sent=lambda m, refused: seen.append(m["Subject"])) == [{}, {}]
    assert seen == ["Customer segment report 2026Q3 — Retail",
                    "Customer segment report 2026Q3 — All"]
    assert [m["to"] for m in mailbox.received] == [
        ["ann@example.com", "bob@example.com", "analytics@example.com"],
        ["board@example.com", "analytics@example.com"]]
    first = mailbox.received[0]
    assert first["tls"] and first["authenticated"] and first["from"] == "reports@example.com"
    got = parse(first["data"])
    assert got["Subject"] == "Customer segment report 2026Q3 — Retail"
    assert list(inline_images(got).values()) == [CHART_1, CHART_2, CHART_2, CHART_3]
    assert all(f"cid:{cid}" in html_body(got) for cid in inline_images(got))
    assert [a.get_filename() for a in got.iter_attachments()] == [
        "segment_report_2026Q3_Retail.html", "segment_report_2026Q3_Retail.pdf"]
    assert PASSWORD.encode() not in first["data"]


def test_a_wrong_password_is_an_error_naming_the_user_and_the_variable(server, retail,
                                                                       monkeypatch):
    smtp, mailbox = server
    monkeypatch.setenv("SEGREPORT_SMTP_PASSWORD", "wrong")
    s = settings(**smtp)
    with pytest.raises(EmailError, match="refused the login of 'reports'.*SEGREPORT_SMTP_PASSWORD"):
        send_messages([build_message(retail, s, PERIOD, "Retail")], s)
    assert mailbox.received == []


def test_a_certificate_that_is_not_trusted_stops_before_the_login(server, retail):
    smtp, mailbox = server
    s = settings(**(smtp | {"cafile": None}))
    with pytest.raises(EmailError, match="TLS failed.*email.cafile"):
        send_messages([build_message(retail, s, PERIOD, "Retail")], s)
    assert mailbox.received == []


# --------------------------------------------------------------------------- command line


def write_params(tmp_path: Path, email: dict) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"data_dir": "data", "period": PERIOD,
                                    "output_dir": str(tmp_path / "out"), "email": email}))
    return path


@pytest.fixture
def two_units(tmp_path: Path) -> Path:
    """Reports for All and Retail, plus what is not a report: staging, a file, a bare dir."""
    base = tmp_path / "out" / PERIOD
    make_report(base / "All", unit="All")
    make_report(base / "Retail", pdf=False)
    (base / ".staging").mkdir()
    (base / "Empty").mkdir()
    (base / "index.html").write_text("<html></html>")
    return base


def run_cli(args: list[str]) -> None:
    email_command.main(args, prog_name="segreport email", standalone_mode=False)


def test_dry_run_writes_one_eml_per_report_folder_and_prints_one_line_per_unit(
        tmp_path, two_units, capsys):
    params = write_params(tmp_path, SETTINGS)
    run_cli(["--params", str(params), "--dry-run"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"segreport: All: wrote {two_units / 'All' / 'segment_report.eml'}")
    assert "to board@example.com; cc analytics@example.com" in lines[0]
    assert lines[1].startswith("segreport: Retail: wrote ")
    assert sorted(p.relative_to(two_units).as_posix() for p in two_units.rglob("*.eml")) == [
        "All/segment_report.eml", "Retail/segment_report.eml"]
    retail = parse((two_units / "Retail" / "segment_report.eml").read_bytes())
    assert [a.addr_spec for a in retail["To"].addresses] == ["ann@example.com",
                                                             "bob@example.com"]


def test_the_smtp_password_in_the_environment_appears_in_no_eml_file(
        tmp_path, two_units, monkeypatch):
    monkeypatch.setenv("SEGREPORT_SMTP_PASSWORD", PASSWORD)
    params = write_params(tmp_path, SETTINGS | {"smtp_host": "mail.example.com",
                                                "smtp_user": USER})
    run_cli(["--params", str(params), "--dry-run"])
    emls = list(two_units.rglob("*.eml"))
    assert len(emls) == 2
    for eml in emls:
        raw = eml.read_bytes()
        assert PASSWORD.encode() not in raw
        assert b64(PASSWORD.encode()).encode() not in raw
        for part in parse(raw).walk():
            if not part.is_multipart():
                assert PASSWORD.encode() not in part.get_payload(decode=True)


def test_the_command_sends_only_the_units_asked_for_with_set_overrides(
        tmp_path, two_units, server, capsys):
    smtp, mailbox = server
    params = write_params(tmp_path, SETTINGS | {k: v for k, v in smtp.items() if k != "cafile"})
    run_cli(["--params", str(params), "--unit", "Retail", "--set", f"email.cafile={smtp['cafile']}",
             "--set", "email.subject=KPIs {unit}"])
    assert [parse(m["data"])["Subject"] for m in mailbox.received] == ["KPIs Retail"]
    assert capsys.readouterr().out.splitlines() == [
        "segreport: Retail: sent (to ann@example.com, bob@example.com; cc analytics@example.com;"
        " attached: segment_report_2026Q3_Retail.html)"]
    assert not list(two_units.rglob("*.eml"))


def test_a_unit_without_recipients_stops_the_command_before_anything_is_sent(
        tmp_path, two_units, server):
    smtp, mailbox = server
    params = write_params(tmp_path, SETTINGS | smtp | {"recipients": {"All": "a@example.com"}})
    with pytest.raises(ConfigError, match="unit 'Retail'.*email.recipients.Retail"):
        run_cli(["--params", str(params)])
    assert mailbox.received == []


def test_an_unknown_unit_is_an_error_listing_the_reports_found(tmp_path, two_units):
    params = write_params(tmp_path, SETTINGS)
    with pytest.raises(EmailError, match=r"--unit 'Retial'.*reports found under .*: All, Retail\)"):
        run_cli(["--params", str(params), "--unit", "Retial", "--dry-run"])


def test_a_period_without_reports_is_an_error_saying_to_run_the_report_first(tmp_path, two_units):
    params = write_params(tmp_path, SETTINGS)
    with pytest.raises(EmailError, match="no report found; run `segreport run`"):
        run_cli(["--params", str(params), "--period", "2026Q2", "--dry-run"])
