"""E-mail a report: a compact HTML summary in the body, the full report attached.

Many mail clients drop ``data:`` images and clip long HTML bodies, so the body is not the
nbconvert page. It is built from the *executed* notebook of a report folder: every code
cell tagged ``email`` gives its outputs, in order — ``text/html`` as HTML (our sections use
inline styles), ``image/png`` (or ``image/jpeg``) as an inline image referenced by
``cid:`` (``multipart/related``). The rendered HTML report is attached, and the PDF when the
folder has one.

Message layout::

    multipart/mixed
      multipart/alternative
        text/plain                      a text rendering of the summary
        multipart/related
          text/html                     the summary, <img src="cid:...">
          image/png ...                 one per chart
      text/html  (attachment)           segment_report_{period}_{unit}.html
      application/pdf (attachment)      segment_report_{period}_{unit}.pdf, when present

Secrets: the SMTP password is never a parameter. It is read from the environment variable
named by ``password_env`` when sending, and never written into a message.
"""
from __future__ import annotations

import base64
import binascii
import difflib
import json
import os
import re
import smtplib
import ssl
import struct
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Annotated, Any

import nbformat
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from segreport.errors import ConfigError, SegreportError, clip, one_line
from segreport.report.publish import safe_name, write_file_atomic

EMAIL_TAG = "email"
NOTEBOOK_NAME = "segment_report.ipynb"
HTML_NAME = "segment_report.html"
PDF_NAME = "segment_report.pdf"
EML_NAME = "segment_report.eml"
#: Beside the ``.eml``: written when the report's message was sent, so it is sent once.
SENT_NAME = "segment_report.sent.json"
DEFAULT_SUBJECT = "Customer segment report {period} — {unit}"
DEFAULT_PASSWORD_ENV = "SEGREPORT_SMTP_PASSWORD"
#: Gmail clips HTML bodies past ~102 KB; images travel as separate parts and do not count.
BODY_HTML_LIMIT = 100_000
#: Widest an inline image is shown (Outlook ignores ``max-width``, honours ``width``).
MAX_IMAGE_WIDTH = 680
_IMAGE_TYPES = ("image/png", "image/jpeg")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DATA_URI = re.compile(
    r"""(\bsrc\s*=\s*)(["'])data:image/(png|jpe?g|gif);base64,([A-Za-z0-9+/=\s]+)\2""",
    re.IGNORECASE)


class EmailError(SegreportError):
    """A report cannot be e-mailed: its folder is incomplete, or the mail server refused."""


class NotAllSent(EmailError):
    """Some messages were not sent (the server refused them, or the connection was lost);
    the others were. ``failed`` holds (message, reason) pairs. Exit status 1."""

    exit_code = 1

    def __init__(self, message: str, failed: list[tuple[EmailMessage, str]]):
        self.failed = failed
        super().__init__(message)


# --------------------------------------------------------------------------- settings


def _split_addresses(value: Any) -> Any:
    """``"a@x, B <b@y>"`` or ``["a@x", "b@y"]`` → a list of single addresses."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (list, tuple)):
        out: list[Any] = []
        for item in value:
            if isinstance(item, str):
                if "\r" in item or "\n" in item:
                    raise ValueError(f"{item!r}: an address cannot contain a line break")
                if not item.strip():
                    continue
                parsed = getaddresses([item])
                if not parsed or any(not addr for _, addr in parsed):
                    raise ValueError(f"{item!r} is not an e-mail address; write it as "
                                     "name@example.com or 'Full Name <name@example.com>'")
                out.extend(_format_address(name, addr, item) for name, addr in parsed)
            else:
                out.append(item)  # pydantic reports the wrong type itself
        return out
    return value


def _format_address(name: str, addr: str, given: str) -> str:
    if not re.fullmatch(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+", addr):
        raise ValueError(f"{given!r} is not an e-mail address; write it as name@example.com "
                         "or 'Full Name <name@example.com>'")
    try:
        return str(Address(display_name=name, addr_spec=addr))
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{given!r} is not an e-mail address ({exc})") from None


#: One or more addresses: a list, or one string with commas ("a@x, B <b@y>").
Addresses = Annotated[list[str], BeforeValidator(_split_addresses)]


class EmailSettings(BaseModel):
    """The ``email:`` section of a params file. Build it with :meth:`from_dict`.

    ``recipients`` maps a unit's name as written in the data (``R&D West``), or ``All``
    for the report over every unit, to its addresses. The password is never a setting: it
    is read from the environment variable named by ``password_env`` when sending.
    """

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)

    sender: str
    recipients: dict[str, Addresses] = Field(default_factory=dict)
    cc: Addresses = Field(default_factory=list)
    subject: str = DEFAULT_SUBJECT
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_user: str | None = None
    password_env: str = DEFAULT_PASSWORD_ENV
    starttls: bool = True
    #: CA bundle to trust (e.g. a self-signed test certificate); default: the system's.
    cafile: str | None = None
    #: Check the server's certificate and host name. Turn off only for a test server.
    verify: bool = True
    timeout: float = Field(30.0, gt=0)

    @field_validator("sender", mode="before")
    @classmethod
    def _one_sender(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("give one sender address, e.g. reports@example.com")
        addresses = _split_addresses(value)
        if isinstance(addresses, list) and len(addresses) != 1:
            raise ValueError("give exactly one sender address, e.g. reports@example.com")
        return addresses[0] if isinstance(addresses, list) else addresses

    @field_validator("recipients", mode="before")
    @classmethod
    def _unit_labels(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, Mapping):  # YAML reads a unit named 10 or 2026 as a number
            return {("" if k is None else str(k)).strip(): v for k, v in value.items()}
        if isinstance(value, (str, list, tuple)):
            raise ValueError("map each unit name (as written in the data, All for the whole "
                             "company) to its addresses, e.g. recipients: {All: "
                             "[board@example.com], Retail: [retail@example.com]}")
        return value

    @field_validator("subject")
    @classmethod
    def _subject_template(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("the subject must be one line")
        try:
            value.format(period="2026Q3", unit="All")
        except KeyError as exc:
            raise ValueError(f"unknown placeholder {{{exc.args[0]}}}; the subject can use "
                             "{period} and {unit}") from None
        except (IndexError, ValueError) as exc:
            raise ValueError(f"not a valid template ({exc}); write braces as {{{{ and }}}}, "
                             "placeholders as {period} and {unit}") from None
        return value

    @field_validator("smtp_host", "smtp_user", "cafile", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if "\r" in value or "\n" in value:
                raise ValueError("must be one line")
            return value or None
        return value

    @field_validator("password_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError("must be the NAME of an environment variable (letters, digits, "
                             "underscores), e.g. SEGREPORT_SMTP_PASSWORD — not the password")
        return value

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None, where: str = "params file",
                  set_keys: Collection[str] = ()) -> "EmailSettings":
        """Validate the ``email:`` section; problems raise one :class:`ConfigError`.

        ``where`` names the params file in messages; keys in ``set_keys`` came from
        ``--set email.KEY=...`` and are reported as such.
        """
        if raw is None or raw == {}:
            raise ConfigError(
                f"{where}: no 'email' section; add one with at least a sender and the "
                "recipients of each unit, e.g. email: {sender: reports@example.com, "
                "recipients: {All: [board@example.com]}}")
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: 'email' must be a section of 'key: value' lines "
                              f"(got a {type(raw).__name__})")
        problems = []
        for key in raw:
            if "password" in str(key).lower() and key != "password_env":
                problems.append(
                    f"{'--set' if key in set_keys else where}: parameter 'email.{key}': the "
                    "SMTP password is never a parameter; remove it and put the password in "
                    f"the environment variable named by email.password_env (default "
                    f"{DEFAULT_PASSWORD_ENV})")
        if problems:
            raise ConfigError("; ".join(problems))
        try:
            return cls.model_validate(dict(raw))
        except ValidationError as exc:
            for err in exc.errors():
                loc = [str(p) for p in err["loc"]]
                name = ".".join(["email", *loc])
                msg = err["msg"].removeprefix("Value error, ")
                if err["type"] == "extra_forbidden":
                    close = difflib.get_close_matches(loc[-1], cls.model_fields, n=1)
                    msg = ("unknown parameter" + (f" (did you mean 'email.{close[0]}'?)"
                                                  if close else "")
                           + f"; known ones: {', '.join(cls.model_fields)}")
                elif err["type"] == "missing":
                    msg = "required, e.g. email.sender: reports@example.com" \
                        if loc == ["sender"] else "required"
                elif err["type"] != "value_error":  # our own messages quote the value
                    got = repr(err.get("input"))
                    if got not in msg and len(got) < 200:
                        msg += f" (got {got})"
                source = "--set" if loc and loc[0] in set_keys else where
                problems.append(f"{source}: parameter '{name}': {msg}")
            raise ConfigError("; ".join(problems)) from None

    def recipients_for(self, unit: str) -> list[str]:
        """The ``To`` addresses of a unit; a :class:`ConfigError` when it has none."""
        found = self.recipients.get(unit)
        if found:
            return list(found)
        hint = ""
        close = [k for k in self.recipients if k.lower() == unit.lower()] or \
            difflib.get_close_matches(unit, list(self.recipients), n=1)
        if close:
            hint = f" (the params file has {clip(repr(close[0]))}; units are named as in the " \
                   "data, matched exactly)"
        key = recipients_key(unit)
        raise ConfigError(
            f"no e-mail recipients for unit {clip(repr(unit))}{hint}; add them to the params "
            f"file under email.recipients.{key}, e.g. email: {{recipients: {{{key}: "
            "[name@example.com]}}")

    def subject_for(self, period: str, unit: str) -> str:
        """The subject line; a line break or control character from the data (in the
        unit's name, say) becomes a space, so it can never start another header."""
        return one_line(self.subject.format(period=period, unit=unit))


def recipients_key(unit: str) -> str:
    """``unit`` as a key under ``email.recipients`` in YAML: as it is when plain, else
    quoted (``'R&D West'``)."""
    return unit if re.fullmatch(r"[\w\-.]+", unit) else clip(repr(unit))


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class InlineImage:
    """An image of the summary, sent as a ``multipart/related`` part."""

    cid: str          # without the angle brackets
    subtype: str      # png, jpeg, gif
    data: bytes
    filename: str


@dataclass(frozen=True)
class Summary:
    """The HTML fragments (in order) and images taken from the ``email`` cells."""

    fragments: list[str]
    images: list[InlineImage]


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG (from its header), else None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    return None


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def email_summary(nb: nbformat.NotebookNode, domain: str = "segreport.invalid",
                  where: str = NOTEBOOK_NAME) -> Summary:
    """Collect the outputs of the code cells tagged ``email``, in notebook order.

    ``text/html`` outputs are kept as HTML, with any ``data:`` image inside them turned
    into an inline image; ``image/png``/``image/jpeg`` outputs become inline images.
    """
    fragments: list[str] = []
    images: list[InlineImage] = []

    def add_image(data: bytes, subtype: str) -> str:
        """Keep an image; return its content id."""
        n = len(images) + 1
        cid = make_msgid(idstring=f"chart{n}", domain=domain)[1:-1]
        ext = "jpg" if subtype == "jpeg" else subtype
        images.append(InlineImage(cid, subtype, data, f"chart-{n}.{ext}"))
        return cid

    def img_tag(data: bytes, subtype: str, width: int | None) -> str:
        cid = add_image(data, subtype)
        size = _image_size(data)
        width = width or (size[0] if size else None)
        width_attr = f" width='{min(width, MAX_IMAGE_WIDTH)}'" if width else ""
        return (f"<img src='cid:{escape(cid)}' alt='Chart {len(images)}'{width_attr} "
                "style='display:block;max-width:100%;height:auto;border:0'>")

    def decode(payload: Any, index: int) -> bytes:
        try:
            return base64.b64decode(re.sub(r"\s+", "", _text(payload)), validate=True)
        except (binascii.Error, ValueError):
            raise EmailError(f"{where}: cell {index}: an image output is not valid base64; "
                             "run the report again") from None

    def inline_data_uris(html: str, index: int) -> str:
        def swap(match: re.Match[str]) -> str:
            subtype = match.group(3).lower().replace("jpg", "jpeg")
            cid = add_image(decode(match.group(4), index), subtype)
            return f"{match.group(1)}{match.group(2)}cid:{cid}{match.group(2)}"
        return _DATA_URI.sub(swap, html)

    for index, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.get("cell_type") != "code" or EMAIL_TAG not in tags:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") not in ("execute_result", "display_data"):
                continue
            data = output.get("data", {})
            if "text/html" in data:
                fragments.append(inline_data_uris(_text(data["text/html"]), index))
                continue
            mime = next((m for m in _IMAGE_TYPES if m in data), None)
            if mime is None:
                continue
            meta = output.get("metadata", {}).get(mime, {})
            width = meta.get("width") if isinstance(meta, dict) else None
            fragments.append(img_tag(decode(data[mime], index), mime.split("/")[1],
                                     int(width) if isinstance(width, (int, float)) else None))
    return Summary(fragments, images)


def _page(fragments: Iterable[str], title: str, footer: str) -> str:
    """Our own small e-mail template: inline styles only, no external resources.

    Each fragment is a block of its own that scrolls sideways when it is wider than the
    screen (a wide table on a phone), so the rest of the message keeps the screen's width.
    """
    body = "\n".join(f"<div style='margin:0 0 18px;max-width:100%;overflow-x:auto'>{f}</div>"
                     for f in fragments)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title></head>\n"
        "<body style='margin:0;padding:16px;background:#ffffff;color:#222222;"
        "font-family:Helvetica,Arial,sans-serif;font-size:14px;line-height:1.4'>\n"
        f"{body}\n"
        "<p style='margin:24px 0 0;padding-top:8px;border-top:1px solid #e5e5e5;"
        f"font-size:12px;color:#666666'>{footer}</p>\n</body></html>\n")


class _TextRenderer(HTMLParser):
    """A rough plain-text rendering of the summary for the ``text/plain`` alternative."""

    BLOCK = {"p", "div", "br", "h1", "h2", "h3", "h4", "li", "tr", "table", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.in_cell = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "title"):
            self.skip += 1
        elif tag in ("td", "th"):
            self.in_cell += 1
            self.parts.append(" | ")
        elif tag in self.BLOCK:
            self.parts.append(" " if self.in_cell else "\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag in ("td", "th"):
            self.in_cell = max(0, self.in_cell - 1)
        elif tag in self.BLOCK:
            self.parts.append(" " if self.in_cell else "\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        lines = (line.strip().removeprefix("| ").strip()
                 for line in "".join(self.parts).splitlines())
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def html_to_text(html: str) -> str:
    renderer = _TextRenderer()
    renderer.feed(html)
    renderer.close()
    return renderer.text()


# --------------------------------------------------------------------------- message


def attachment_name(kind: str, period: str, unit: str) -> str:
    """``segment_report_2026Q3_Retail.html``: distinct names when one reader gets several."""
    return f"segment_report_{safe_name(period)}_{safe_name(unit).replace(' ', '_')}.{kind}"


def build_message(report_dir: str | Path, settings: EmailSettings, period: str,
                  unit: str) -> EmailMessage:
    """The e-mail of one report folder (``output/{period}/{unit}``).

    Raises
    ------
    ConfigError
        the unit has no recipients in ``settings``.
    EmailError
        the folder lacks the executed notebook or the HTML report, or no cell of the
        notebook is tagged ``email``.
    """
    folder = Path(report_dir)
    to = settings.recipients_for(unit)
    notebook_path, html_path, pdf_path = (folder / NOTEBOOK_NAME, folder / HTML_NAME,
                                          folder / PDF_NAME)
    for needed in (notebook_path, html_path):
        if not needed.is_file():
            raise EmailError(f"{needed}: not found; run `segreport run` for {period} "
                             f"{unit} first, or check --period and --unit")
    try:
        nb = nbformat.read(str(notebook_path), as_version=4)
    except Exception as exc:  # nbformat raises several kinds for a broken file
        raise EmailError(f"{notebook_path}: cannot be read as a notebook ({exc}); run the "
                         "report again") from None

    domain = settings.sender.rsplit("@", 1)[-1].rstrip(">") or "segreport.invalid"
    summary = email_summary(nb, domain=domain, where=str(notebook_path))
    if not summary.fragments:
        raise EmailError(
            f"{notebook_path}: no output to put in the e-mail: tag the cells to show (title, "
            f"scorecard, charts) with '{EMAIL_TAG}' in the master notebook and run the "
            "report again")

    subject = settings.subject_for(period, unit)
    html_name = attachment_name("html", period, unit)
    pdf_name = attachment_name("pdf", period, unit) if pdf_path.is_file() else None
    attached = f"{escape(html_name)} (open it in a web browser)"
    if pdf_name:
        attached += f" and {escape(pdf_name)}"
    footer = (f"{escape(period)} · {escape(unit)} · The full report is attached: "
              f"{attached}.")
    html = _page(summary.fragments, subject, footer)
    size = len(html.encode("utf-8"))
    if size > BODY_HTML_LIMIT:
        warnings.warn(f"{folder}: the e-mail body has {size / 1000:.0f} KB of HTML; mail "
                      f"clients may clip it past {BODY_HTML_LIMIT // 1000} KB. Tag fewer "
                      f"cells with '{EMAIL_TAG}'", stacklevel=2)

    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = settings.sender
    msg["To"] = ", ".join(to)
    if settings.cc:
        msg["Cc"] = ", ".join(settings.cc)
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(html_to_text("".join(f"<div>{f}</div>" for f in summary.fragments)
                                 + f"<p>{footer}</p>"),
                    cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    html_part = msg.get_payload()[-1]
    for image in summary.images:
        html_part.add_related(image.data, maintype="image", subtype=image.subtype,
                              cid=f"<{image.cid}>", disposition="inline",
                              filename=image.filename)
    msg.add_attachment(html_path.read_bytes(), maintype="text", subtype="html",
                       filename=html_name)
    if pdf_name:
        msg.add_attachment(pdf_path.read_bytes(), maintype="application", subtype="pdf",
                           filename=pdf_name)
    return msg


def write_eml(msg: EmailMessage, path: str | Path) -> Path:
    """Write ``msg`` as an ``.eml`` file (CRLF line ends), atomically: temp file + rename."""
    return write_file_atomic(Path(path), msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")),
                             mode=0o644)


def record_sent(folder: str | Path, msg: EmailMessage, refused: Mapping[str, Any]) -> Path:
    """Note in the report folder (:data:`SENT_NAME`) that its message was sent: when, the
    Message-ID, subject and recipients, and any the server refused. No secret."""
    record = {
        "sent_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "message_id": str(msg["Message-ID"]), "subject": str(msg["Subject"]),
        "to": [a.addr_spec for a in msg["To"].addresses],
        "cc": [a.addr_spec for a in msg["Cc"].addresses] if msg["Cc"] else [],
        "refused": sorted(refused)}
    return write_file_atomic(Path(folder) / SENT_NAME,
                             json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8"))


def sent_record(folder: str | Path) -> dict[str, Any] | None:
    """What :func:`record_sent` wrote for this report folder; None when it was not sent.

    The record is written in one step, so one that exists means the message went out,
    even when it cannot be read back (then ``sent_at`` is ``"unknown"``)."""
    path = Path(folder) / SENT_NAME
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = None
    return record if isinstance(record, dict) else {"sent_at": "unknown"}


# --------------------------------------------------------------------------- sending


def smtp_password(settings: EmailSettings) -> str:
    """The password from the environment; a :class:`ConfigError` naming the variable."""
    password = os.environ.get(settings.password_env)
    if not password:
        raise ConfigError(
            f"the SMTP password is not set: put it in the environment variable "
            f"{settings.password_env} (named by email.password_env), e.g. "
            f"`export {settings.password_env}=...`, or use --dry-run to write .eml files")
    return password


def _tls_context(settings: EmailSettings) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=settings.cafile)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"email.cafile: {settings.cafile}: cannot be read as CA "
                          f"certificates ({exc})") from None
    if not settings.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def send_messages(messages: Iterable[EmailMessage], settings: EmailSettings,
                  on_sent: Callable[[EmailMessage, dict[str, Any]], None] | None = None,
                  on_failed: Callable[[EmailMessage, str], None] | None = None,
                  ) -> list[dict[str, Any]]:
    """Send ``messages`` over SMTP (STARTTLS, then login when ``smtp_user`` is set).
    Returns, per message, the recipients the server refused.

    Every message is tried: one the server refuses (or that is cut off by a lost
    connection, after which it connects again) does not stop the others.
    ``on_sent(msg, refused)`` is called after each message sent, ``on_failed(msg, reason)``
    after each one not sent, so a caller can record and report progress.

    Raises
    ------
    ConfigError
        missing settings or password (nothing is sent).
    EmailError
        the server cannot be reached, or refuses TLS or the login, before anything is sent.
    NotAllSent
        after trying every message, when some were not sent; it names them.
    """
    messages = list(messages)
    if not settings.smtp_host:
        raise ConfigError("email.smtp_host: not set; add the mail server to the params file, "
                          "e.g. email.smtp_host: smtp.example.com, or use --dry-run")
    if settings.smtp_user and not settings.starttls:
        raise ConfigError("email.starttls is false but email.smtp_user is set: the password "
                          "would travel unencrypted; set email.starttls: true")
    password = smtp_password(settings) if settings.smtp_user else None
    context = _tls_context(settings) if settings.starttls else None
    results: list[dict[str, Any]] = []
    failed: list[tuple[EmailMessage, str]] = []
    smtp: smtplib.SMTP | None = None

    def fail(msg: EmailMessage, reason: str) -> None:
        failed.append((msg, reason))
        if on_failed is not None:
            on_failed(msg, reason)

    try:
        for index, msg in enumerate(messages):
            if smtp is None or smtp.sock is None:
                try:
                    smtp = _connect(settings, password, context)
                except EmailError as exc:
                    if index == 0:
                        raise EmailError(f"{exc}; nothing was sent") from None
                    for rest in messages[index:]:
                        fail(rest, str(exc))
                    break
            try:
                refused = smtp.send_message(msg)
            except (smtplib.SMTPException, OSError, ValueError) as exc:
                fail(msg, _why(exc))
                if isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)):
                    _close(smtp)
                    smtp = None
                continue
            results.append(refused)
            if on_sent is not None:
                on_sent(msg, refused)
    finally:
        _close(smtp)
    if failed:
        raise NotAllSent(f"{len(failed)} of {len(messages)} message(s) not sent: " + "; ".join(
            f"{clip(one_line(m['Subject']))} ({reason})" for m, reason in failed), failed)
    return results


def _connect(settings: EmailSettings, password: str | None,
             context: ssl.SSLContext | None) -> smtplib.SMTP:
    """A connection ready to send: EHLO, STARTTLS when ``context``, login when
    ``smtp_user``. An :class:`EmailError` names the server and the step that failed."""
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    current, smtp = "connecting", None
    try:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout)
        smtp.ehlo()
        if context is not None:
            current = "starting TLS"
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.smtp_user:
            current = "logging in"
            smtp.login(settings.smtp_user, password)
        return smtp
    except smtplib.SMTPAuthenticationError as exc:
        _close(smtp)
        raise EmailError(f"{server}: the server refused the login of {settings.smtp_user!r} "
                         f"({_reply(exc)}); check email.smtp_user and the password in "
                         f"{settings.password_env}") from None
    except smtplib.SMTPNotSupportedError as exc:
        _close(smtp)
        raise EmailError(f"{server}: {current}: not supported by the server ({exc}); check "
                         "email.smtp_port (587 is usual for STARTTLS)") from None
    except ssl.SSLError as exc:
        _close(smtp)
        raise EmailError(f"{server}: TLS failed ({exc.reason or exc}); set email.cafile to "
                         "the server's CA certificate if it is not publicly trusted") from None
    except (smtplib.SMTPException, OSError) as exc:
        _close(smtp)
        raise EmailError(f"{server}: {current} failed ({_why(exc)})") from None


def _close(smtp: smtplib.SMTP | None) -> None:
    """Say QUIT when the connection still stands, then close it; never raises."""
    if smtp is None:
        return
    try:
        if smtp.sock is not None:
            smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def _why(exc: BaseException) -> str:
    """Why a message was not sent, in one line: the server's reply(ies) or the error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "every recipient was refused: " + ", ".join(
            f"{addr} ({_reply(smtplib.SMTPResponseException(*reply))})"
            for addr, reply in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc)
    return one_line(str(exc) or type(exc).__name__)


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
        else str(exc.smtp_error)
    return one_line(f"{exc.smtp_code} {text}".strip())
