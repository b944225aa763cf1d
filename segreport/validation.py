"""Parameters checked by a pydantic model: every problem in one :class:`ConfigError`.

A params file (and its ``email:`` section) is validated by a pydantic model; its
``ValidationError`` lists every problem found. :func:`validate` turns that list into one
:class:`~segreport.errors.ConfigError` whose message names each parameter, in the words of
the caller's ``problem`` function, joined by ``"; "``.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from segreport.errors import ConfigError, clip

Model = TypeVar("Model", bound=BaseModel)


def validate(model: type[Model], raw: Mapping[str, Any],
             problem: Callable[[dict[str, Any]], str]) -> Model:
    """``model`` validated from ``raw``; a :class:`ConfigError` of every problem, each
    told by ``problem(err)`` (``err`` as in ``ValidationError.errors()``)."""
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        raise ConfigError("; ".join(problem(err) for err in exc.errors())) from None


def message(err: Mapping[str, Any]) -> str:
    """The error's own message, without pydantic's ``Value error, `` in front."""
    return err["msg"].removeprefix("Value error, ")


def unknown_parameter(key: str, known: Collection[str], prefix: str = "",
                      noun: str = "parameter") -> str:
    """``unknown parameter (did you mean 'email.smtp_host'?); known ones: ...``: the
    closest known name (written with ``prefix``), when one is close, then all of them."""
    close = difflib.get_close_matches(key, list(known), n=1)
    return (f"unknown {noun}" + (f" (did you mean '{prefix}{close[0]}'?)" if close else "")
            + f"; known ones: {', '.join(known)}")


def validation_problem(err: Mapping[str, Any], source: Callable[[str], str], noun: str,
                       known: Callable[[tuple], Collection[str]],
                       shown: Callable[[Any], str] = lambda value: clip(repr(value))) -> str:
    """One pydantic validation error as ``{source}: {noun} '{name}': {message} (got {value})``.

    Parameters
    ----------
    err
        One item of ``ValidationError.errors()``.
    source
        Where the value came from, given the first part of its location (a file, ``--set``).
    noun
        What a location names: ``parameter``, ``field``.
    known
        The names allowed at a location: an unknown name is answered with the closest of
        them and the whole list.
    shown
        How an offending value is written (clipped, a password masked); it is not written
        again when the message already quotes it, nor for an error of the whole object.
    """
    name = ".".join(str(p) for p in err["loc"]) or "?"
    msg = message(err)
    if err["type"] == "extra_forbidden":
        msg = unknown_parameter(str(err["loc"][-1]), list(known(tuple(err["loc"]))), noun=noun)
    if err["loc"] and msg.startswith(f"{name}."):  # the validator named the entry at fault
        entry, msg = msg.split(": ", 1)
        return f"{source(str(err['loc'][0]))}: {noun} '{entry}': {msg}"
    if err["loc"]:
        value = err.get("input")
        text = shown(value)
        if not (isinstance(value, str) and text in msg):  # not said already
            msg += f" (got {text})"
    return f"{source(str(err['loc'][0]) if err['loc'] else '')}: {noun} '{name}': {msg}"
