"""The ``email:`` section of a params file: sender, recipients per unit, SMTP server.

The SMTP password is never a setting: it is read from the environment variable named by
``password_env`` when sending (:func:`segreport.report.email_smtp.smtp_password`).
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from email.headerregistry import Address
from email.utils import getaddresses
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from segreport.errors import ConfigError, clip, one_line
from segreport.secret_params import is_env_name
from segreport.validation import message, unknown_parameter, validate

DEFAULT_SUBJECT = "Customer segment report {period} — {unit}"
DEFAULT_PASSWORD_ENV = "SEGREPORT_SMTP_PASSWORD"


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
        if not is_env_name(value):
            raise ValueError("must be the NAME of an environment variable (letters, digits, "
                             "underscores), e.g. SEGREPORT_SMTP_PASSWORD — not the password")
        return value

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None, where: str = "params file",
                  set_keys: Collection[str] = ()) -> EmailSettings:
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

        def problem(err: dict[str, Any]) -> str:
            loc = [str(p) for p in err["loc"]]
            name = ".".join(["email", *loc])
            msg = message(err)
            if err["type"] == "extra_forbidden":
                msg = unknown_parameter(loc[-1], cls.model_fields, "email.")
            elif err["type"] == "missing":
                msg = "required, e.g. email.sender: reports@example.com" \
                    if loc == ["sender"] else "required"
            elif err["type"] != "value_error":  # our own messages quote the value
                got = repr(err.get("input"))
                if got not in msg and len(got) < 200:
                    msg += f" (got {got})"
            source = "--set" if loc and loc[0] in set_keys else where
            return f"{source}: parameter '{name}': {msg}"

        return validate(cls, raw, problem)

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
