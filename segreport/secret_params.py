"""Secrets never travel as parameters; they come from the environment.

Papermill writes every parameter into the executed notebook, so a parameter must not hold
a password or token: a connection string that carries one is refused, with the value
shown masked. A password is read, when it is needed, from the environment variable named
by a ``password_env`` parameter (``SEGREPORT_DB_PASSWORD`` for the database,
``SEGREPORT_SMTP_PASSWORD`` for the mail server), and that parameter must be the NAME of
a variable, never the password itself.
"""
from __future__ import annotations

import os
import re
from urllib.parse import unquote_plus

from segreport.errors import ConfigError, clip

DEFAULT_PASSWORD_ENV = "SEGREPORT_DB_PASSWORD"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_PASSWORD_QUERY_KEYS = ("password", "passwd", "pwd", "sslpassword")
# ``scheme://user:`` then everything up to the last ``@`` (SQLAlchemy reads a password there).
_USERINFO = re.compile(r"((?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^:/@?#\s]*:)(.*)@",
                       re.DOTALL)
# ``scheme://`` then everything up to the last ``@``.
_ANY_USERINFO = re.compile(r"((?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://).*@", re.DOTALL)
# ``key=value`` with a password key, also percent-encoded; the value runs to ``;`` or ``&``,
# or is an ODBC ``{braced}`` value.
_PASSWORD_PAIR = re.compile(
    r"((?:(?<![A-Za-z0-9_])|(?<=%3B)|(?<=%26)|(?<=%20))(?:" + "|".join(_PASSWORD_QUERY_KEYS)
    + r")\s*(?:=|%3D)\s*)(\{(?:[^}]|\}\})*\}?|%7B.*?(?:%7D|$)|(?:(?!%3B|%26)[^;&])*)",
    re.IGNORECASE | re.DOTALL)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_env_name(name: object) -> bool:
    """True when ``name`` can name an environment variable (letters, digits and ``_``, not
    starting with a digit): what every ``password_env`` parameter must hold."""
    return bool(_ENV_NAME.match(str(name)))


def secret_from_env(name: str) -> str | None:
    """The secret in the environment variable ``name``; ``None`` when unset or empty."""
    return os.environ.get(name) or None


def is_url(text: str) -> bool:
    """True when ``text`` starts as a URL does (``scheme://``)."""
    return bool(_URL.match(str(text).strip()))


def mask_password(text: str) -> str:
    """Every password a connection string can carry, replaced by ``***`` (for echoing it).

    Covers ``scheme://user:secret@host`` (the secret may itself hold ``@``, so it runs to
    the last ``@``), ``?password=secret`` and the other key forms (``pwd``, ``passwd``,
    ``sslpassword``) in a query string, an ODBC string (``PWD=secret;``, ``PWD={a;b}``)
    or a libpq one (``password=secret``), plain or percent-encoded (``PWD%3Dsecret%3B``).

    Examples
    --------
    >>> mask_password("postgresql://analyst:p@ss@db/crm")
    'postgresql://analyst:***@db/crm'
    >>> mask_password("DRIVER={X};UID=u;PWD=s3cret;")
    'DRIVER={X};UID=u;PWD=***;'
    """
    text = _USERINFO.sub(r"\1***@", str(text))
    text = re.sub(r"(;token=)[^;\s]*", r"\1***", text, flags=re.IGNORECASE)  # Spark Connect
    return _PASSWORD_PAIR.sub(r"\1***", text)


def check_env_name(name: str) -> str:
    """``password_env`` must name an environment variable; never echo what was given (it
    may be the password itself)."""
    if not is_env_name(name):
        raise ConfigError(
            "parameter 'password_env': must be the NAME of an environment variable (letters, "
            f"digits and _, e.g. {DEFAULT_PASSWORD_ENV}), not the password itself; the value "
            "given is not shown")
    return name


def check_no_password(data_source: str, password_env: str = DEFAULT_PASSWORD_ENV,
                      param: str = "data_source") -> None:
    """Refuse a connection string that carries a password, in any form
    :func:`mask_password` knows (also percent-encoded, e.g. in ``odbc_connect``) or that
    SQLAlchemy finds, and a database URL that cannot be parsed (e.g. a port that is not a
    number). The message shows the value masked, never the password.
    """
    text = str(data_source).strip()
    decoded = unquote_plus(text)
    masked = mask_password(text)
    secret = masked != text or mask_password(decoded) != decoded
    if not secret and is_url(text) and _url_password(text, masked, param):
        secret, masked = True, _ANY_USERINFO.sub(r"\1***@", masked)
    if secret:
        raise ConfigError(
            f"parameter '{param}': {clip(masked, 200)} contains a password; remove it (write "
            "user@host, not user:password@host, and no password= or PWD= part) and put the "
            f"password in the environment variable {password_env} (named by password_env), "
            f"e.g. `export {password_env}=...` before running segreport. Parameters are "
            "recorded in the executed notebook, so they must not hold secrets")


def _url_password(text: str, masked: str, param: str) -> bool:
    """True when SQLAlchemy reads a password in the URL ``text``; a :class:`ConfigError`
    when it cannot read the URL at all (``masked`` is what the message may show)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except ArgumentError:
        return False  # not a URL SQLAlchemy knows: opening it says why
    except ValueError:  # e.g. int() of a port that is not a number
        raise ConfigError(
            f"parameter '{param}': {clip(masked, 200)} is not a valid database URL (the port, "
            "after the host and ':', must be a number); write it as "
            "postgresql+psycopg://user@host:5432/database") from None
    return url.password is not None or any(
        k.lower() in _PASSWORD_QUERY_KEYS for k in url.query)
