"""The e-mail of one report folder: the summary in the body, the full report attached.

Message layout::

    multipart/mixed
      multipart/alternative
        text/plain                      a text rendering of the summary
        multipart/related
          text/html                     the summary, <img src="cid:...">
          image/png ...                 one per chart
      text/html  (attachment)           segment_report_{period}_{unit}.html
      application/pdf (attachment)      segment_report_{period}_{unit}.pdf, when present

The message is never given a secret: the SMTP password stays in the environment.
"""
from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from html import escape
from pathlib import Path
from typing import Any

import nbformat

from segreport.errors import EmailError
from segreport.files import write_file_atomic
from segreport.report.email_settings import EmailSettings
from segreport.report.email_summary import EMAIL_TAG, _page, email_summary, html_to_text
from segreport.report.names import HTML_NAME, NOTEBOOK_NAME, PDF_NAME, SENT_NAME
from segreport.report.publish import safe_name

#: Gmail clips HTML bodies past ~102 KB; images travel as separate parts and do not count.
BODY_HTML_LIMIT = 100_000


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
    msg["Date"] = format_datetime(datetime.now(UTC))
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
        "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
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
