"""The data contract's checks as queries: a raw table typed column by column, and the
rows that break the contract counted where they live."""
from __future__ import annotations

import re
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from segreport import columns as C
from segreport.data.coerce import END_DATE, FIRST_DATE, NULL_MARKERS
from segreport.engine.backend import count_true, raise_engine_failure

_DATE_TEXT = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$"
_NUMBER_TEXT = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_PADDED = r"^\s|\s$"


def _any_case(text: str) -> str:
    """A regular expression matching ``text`` in any letter case, in the syntax DuckDB
    (RE2), PostgreSQL and Spark (Java) share: ``n/a`` → ``[nN]/[aA]``."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in text)


_NOT_AN_ID = _PADDED + "|^(" + "|".join(_any_case(m) for m in NULL_MARKERS) + ")$"
"""Text that is no id: with surrounding white space, or a missing-value marker in any
case. One regular expression, where a second test of the lower-cased text doubled the
cost of checking an id column."""


class ReaderFallback(Exception):
    """A table the engine does not take as it is: the reference reader reads it."""


def user_names(spec: C.Table, mapping: dict[str, str], header: list[str]) -> dict[str, str]:
    """Contract column → the user's column, for the columns present (as the reader maps
    them: a column mapped explicitly is not also read under its own name)."""
    names = {c.name: mapping.get(c.name, c.name) for c in spec.columns}
    claimed = set(mapping.values())
    names = {ours: theirs for ours, theirs in names.items()
             if ours in mapping or theirs not in claimed or ours in spec.required_columns}
    if len(set(header)) != len(header):
        raise ReaderFallback
    absent = [c for c in spec.required_columns if names[c] not in header]
    if absent:
        raise ReaderFallback
    return {ours: theirs for ours, theirs in names.items() if theirs in header}


def typed_columns(raw: ir.Table, spec: C.Table, names: dict[str, str],
                  known_ids: tuple[str, ...] = ()) -> tuple[dict[str, ir.Value], ir.BooleanValue]:
    """The contract's columns of ``raw`` with their types, and a flag that is True on a row
    holding a value the engine does not take as it is (or that the contract rejects).

    ``known_ids``: id columns whose values must be found in another, checked table (the
    orders' customer ids, when there is a customers table): only a missing id is flagged
    here; a value found there is an id, and :func:`not_an_id` is left for the rows whose
    value is not found (a regular expression per row costs ~0.2 s per million rows)."""
    cols, problems = {}, []
    for col in spec.columns:
        if col.name not in names:
            continue
        value, problem = _typed_column(raw[names[col.name]], col, col.name in known_ids)
        cols[col.name] = value
        problems.append(problem)
    flag = problems[0]
    for p in problems[1:]:
        flag = flag | p
    return cols, flag


def not_an_id(text: ir.StringValue) -> ir.BooleanValue:
    """True for text with surrounding white space or a missing-value marker (any case)."""
    return text.re_search(_NOT_AN_ID).fill_null(False)


def _typed_column(s: ir.Column, col: C.Column,
                  known: bool = False) -> tuple[ir.Column, ir.BooleanValue]:
    dtype = s.type()
    if dtype.is_boolean():
        return s.cast("string"), ibis.literal(True)
    if col.kind in ("id", "text"):
        text = s if dtype.is_string() else s.cast("string")
        missing = text.isnull() | (text == "")
        if col.kind == "id":
            if dtype.is_floating():
                return text, ibis.literal(True)
            if dtype.is_integer() or known:  # an integer's text is always an id
                return text, missing
            return text, missing | not_an_id(text)
        padded = text.re_search(_PADDED).fill_null(False)
        return ibis.ifelse(text == "", ibis.null("string"), text), padded
    if col.kind == "date":
        if dtype.is_timestamp() or dtype.is_date():
            value = s.cast("timestamp")
            bad = ibis.literal(False)
        elif dtype.is_string():
            shaped = s.re_search(_DATE_TEXT).fill_null(True)
            # Only text of the right shape is cast: PostgreSQL's cast fails on bad text
            # where DuckDB's and Spark's TRY_CAST give NULL.
            value = ibis.ifelse(shaped, s, ibis.null("string")).try_cast("timestamp")
            bad = ~shaped | (s.notnull() & (s != "") & value.isnull())
        else:
            return s.cast("string"), ibis.literal(True)
        far = (value < ibis.timestamp(FIRST_DATE.to_pydatetime())) | (
            value >= ibis.timestamp(END_DATE.to_pydatetime()))
        bad = bad | far.fill_null(False)
        if col.required and col.name != C.SIGNUP_DATE:
            bad = bad | value.isnull()
        return value.cast("timestamp"), bad
    if col.kind == "number":
        if dtype.is_numeric():
            value = s.cast("float64")
            value = ibis.ifelse(value.isnan().fill_null(False), ibis.null("float64"), value)
            bad = value.isinf().fill_null(False)
        elif dtype.is_string():
            shaped = s.re_search(_NUMBER_TEXT).fill_null(True) | (s == "")
            value = ibis.ifelse(shaped & (s != ""), s, ibis.null("string")).try_cast("float64")
            bad = ~shaped | (value.notnull() & (value.isinf() | value.isnan()))
        else:
            return s.cast("string"), ibis.literal(True)
        if col.required:
            bad = bad | value.isnull()
        if col.low is not None:
            bad = bad | (value < col.low).fill_null(False)
        if col.high is not None:
            bad = bad | (value > col.high).fill_null(False)
        return value, bad
    return s, ibis.literal(True)  # period columns live in the small tables


def check_typed(checked: ir.Table, con=None,
                aggregates: dict[str, ir.Scalar] | None = None) -> pd.Series:
    """Rows of ``checked`` (``n``), with ``aggregates`` of it computed in the same query;
    raises :class:`ReaderFallback` when its ``__problem`` holds for a row or there is no
    row (:class:`EngineError` when the engine itself fails)."""
    try:
        row = checked.aggregate(n=checked.count(), bad=count_true(checked["__problem"]),
                                **(aggregates or {})).execute().iloc[0]
    except Exception as exc:  # noqa: BLE001 - e.g. PostgreSQL refusing 2026-02-30 as a date
        raise_engine_failure(exc, con)
        raise ReaderFallback from None
    if int(row["n"]) == 0 or (pd.notna(row["bad"]) and int(row["bad"]) > 0):
        raise ReaderFallback
    return row


def scalar(expr) -> Any:
    return expr.execute()
