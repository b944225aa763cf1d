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

from segreport.errors import ConfigError

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


def unknown_parameter(key: str, known: Collection[str], prefix: str = "") -> str:
    """``unknown parameter (did you mean 'email.smtp_host'?); known ones: ...``: the
    closest known name (written with ``prefix``), when one is close, then all of them."""
    close = difflib.get_close_matches(key, list(known), n=1)
    return ("unknown parameter" + (f" (did you mean '{prefix}{close[0]}'?)" if close else "")
            + f"; known ones: {', '.join(known)}")
