"""Sending report e-mails over SMTP (STARTTLS, login), every message tried.

The SMTP password is read from the environment variable named by ``password_env`` when
sending, and never written into a message.
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterable
from email.message import EmailMessage
from typing import Any

from segreport.errors import ConfigError, EmailError, NotAllSent, clip, one_line
from segreport.report.email_settings import EmailSettings
from segreport.secret_params import secret_from_env


def smtp_password(settings: EmailSettings) -> str:
    """The password from the environment; a :class:`ConfigError` naming the variable."""
    password = secret_from_env(settings.password_env)
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
