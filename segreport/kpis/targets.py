"""KPI targets from the params file, and whether each KPI row is on track.

The ``targets:`` section maps a KPI id to a target, optionally per segment and per
business unit::

    targets:
      retention_rate: 93                 # every segment of every report
      churn_rate: {Students: 8}          # the segment Students, in every report
      cac: {Retail: {Premium: 150}}      # segment Premium of the Retail report
      revenue: {All: {All: 5000000}}     # the whole-business report, its whole-unit row

Under a KPI, a key is told apart by the data (checked once the data's description is
known, :func:`check_target_names`):

* a **business unit** of the data → every row of that unit's report; ``All`` is the
  report over every unit (as the ``All`` report folder, ``All.md`` and
  ``email.recipients.All`` name it); under a unit, the keys are segments, ``All`` for the
  unit's whole-unit row;
* a **segment** (a value of the ``segment_by`` column) → that segment in every report;
* ``default`` → every row that no sibling key names.

A name that is both a segment and a business unit is refused as ambiguous; a name that is
neither is refused with the lists of both. The most specific target wins, in this order:
unit and segment; segment; unit (its number, or its ``default``); the KPI's ``default``;
the KPI's number. A row is ``on track`` when its value reaches the target in the KPI's
direction (``higher_is_better`` of its card in ``cards*.yaml``); KPIs whose card has no
direction (e.g. ``sales_contribution``) take no target.
"""
from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from segreport import columns as C
from segreport.errors import ConfigError, clip, one_line
from segreport.kpis import ids
from segreport.kpis.spec import load_specs

ON_TRACK, OFF_TRACK = C.ON_TRACK, C.OFF_TRACK
DEFAULT = "default"
"""The key of a mapping's fallback: every segment (or unit) no sibling key names."""
WHOLE = C.ALL_SEGMENTS
"""``All``: the whole-business report at the unit level, the whole-unit row below a unit."""

Targets = dict[str, Any]


def direction(kpi: str) -> bool | None:
    """``True`` when more of ``kpi`` is better, ``False`` when less is, ``None`` when its
    spec states no direction (``higher_is_better`` in ``segreport/kpis/cards*.yaml``) or
    it has no spec."""
    spec = load_specs().get(kpi)
    return spec.higher_is_better if spec else None


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(float(value)):
        raise ValueError(f"{where}: the target must be a number, e.g. 93 or 12.5 "
                         f"(got {clip(repr(value), 40)})")
    return float(value)


def _key(key: Any, where: str) -> str:
    text = "" if key is None else str(key).strip()  # YAML reads a unit named 10 as a number
    if not text:
        raise ValueError(f"{where}: a segment or business unit name is empty")
    return text


def check_targets(raw: Any) -> Targets:
    """The ``targets:`` section, its shape checked: KPI ids known and with a direction,
    at most KPI → unit → segment deep, every leaf a finite number.

    Parameters
    ----------
    raw
        The section as read from YAML (``None`` or a mapping).

    Returns
    -------
    A new mapping: names as text, targets as floats.

    Raises
    ------
    ValueError
        naming the entry (``targets.churn_rate.Students``) and what to write instead.

    Examples
    --------
    >>> check_targets({"retention_rate": 93, "cac": {"Retail": {"Premium": 150}}})
    {'retention_rate': 93.0, 'cac': {'Retail': {'Premium': 150.0}}}
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError("map each KPI id to a target, e.g. targets: {retention_rate: 93, "
                         "churn_rate: {Students: 8}}")
    out: Targets = {}
    for kpi, spec in raw.items():
        kpi = str(kpi).strip()
        where = f"targets.{clip(one_line(kpi), 40)}"
        if kpi not in ids.ALL_KPIS:
            close = difflib.get_close_matches(kpi, ids.ALL_KPIS, n=1)
            raise ValueError(f"{where}: unknown KPI id"
                             + (f" (did you mean '{close[0]}'?)" if close else "")
                             + f"; KPI ids: {', '.join(ids.ALL_KPIS)}")
        if direction(kpi) is None:
            raise ValueError(f"{where}: {kpi} has no better direction (neither more nor less "
                             "is better), so no target can say whether it is on track")
        if not isinstance(spec, Mapping):
            out[kpi] = _number(spec, where)
            continue
        level: dict[str, Any] = {}
        for key, value in spec.items():
            name = _key(key, where)
            inner = f"{where}.{clip(one_line(name), 40)}"
            if not isinstance(value, Mapping):
                level[name] = _number(value, inner)
                continue
            if name == DEFAULT:
                raise ValueError(f"{inner}: the default is one number, e.g. {DEFAULT}: 10")
            leaves = {}
            for seg, target in value.items():
                seg_name = _key(seg, inner)
                leaves[seg_name] = _number(target, f"{inner}.{clip(one_line(seg_name), 40)}")
            level[name] = leaves
        out[kpi] = level
    return out


def check_target_names(targets: Targets, segments: Iterable[str], units: Iterable[str],
                       segment_column: str = C.SEGMENT, unit_column: str = C.BUSINESS_UNIT) -> None:
    """Refuse a name in ``targets`` that is not a segment or business unit of the data, or
    that is both.

    Parameters
    ----------
    targets
        :func:`check_targets`' result.
    segments, units
        The data's segment names (values of the ``segment_by`` column) and business units.
    segment_column, unit_column
        The columns as the user's file names them, for the messages.

    Raises
    ------
    ConfigError
        naming the entry, the name and the segments and units present.
    """
    segments, units = set(map(str, segments)), set(map(str, units))

    def listing() -> str:
        return (f"segments ({segment_column}): {', '.join(sorted(segments)) or 'none'}; "
                f"business units ({unit_column}): {', '.join(sorted(units)) or 'none'}, "
                f"or {WHOLE} for the whole business")

    for kpi, spec in targets.items():
        if not isinstance(spec, Mapping):
            continue
        for name, value in spec.items():
            where = f"targets.{kpi}.{clip(one_line(name), 40)}"
            if name == DEFAULT:
                if DEFAULT in segments or DEFAULT in units:
                    raise ConfigError(
                        f"parameter '{where}': the data has a segment or business unit named "
                        f"{DEFAULT!r}, so the key is ambiguous; set each segment or unit instead")
                continue
            is_unit = name in units or name == WHOLE
            clash = ("segment" if name in units and name in segments else
                     "name for the whole business" if name == WHOLE and name in units else "")
            if clash:
                raise ConfigError(
                    f"parameter '{where}': {clip(one_line(name), 40)!r} is both a {clash} and "
                    "a business unit in the data, so the target is ambiguous; set it for each "
                    f"unit and segment instead, e.g. targets: {{{kpi}: {{<unit>: "
                    "{<segment>: value}}}")
            if not is_unit and name not in segments:
                raise ConfigError(f"parameter '{where}': no segment or business unit "
                                  f"{clip(one_line(name), 40)!r} in the data; {listing()}")
            if isinstance(value, Mapping):
                if not is_unit:
                    raise ConfigError(
                        f"parameter '{where}': {clip(one_line(name), 40)!r} is a segment; "
                        f"put the unit first: targets: {{{kpi}: {{<unit>: "
                        f"{{{clip(one_line(name), 40)}: value}}}}}}")
                for seg in value:
                    if seg not in segments and seg not in (WHOLE, DEFAULT):
                        raise ConfigError(
                            f"parameter '{where}.{clip(one_line(seg), 40)}': no segment "
                            f"{clip(one_line(seg), 40)!r} in the data; segments "
                            f"({segment_column}): {', '.join(sorted(segments)) or 'none'}, or "
                            f"{WHOLE} for the unit's whole-unit row")


def target_for(targets: Targets, kpi: str, unit: str, segment: str) -> float:
    """The target of one KPI row, the most specific that applies; NaN when none does.

    Parameters
    ----------
    unit
        The report's business unit; ``""`` or ``All`` for the whole business.
    segment
        The row's segment; ``All`` for the whole-unit row.

    Examples
    --------
    >>> t = {"churn_rate": {"default": 10, "Students": 8, "Retail": {"Students": 7}}}
    >>> target_for(t, "churn_rate", "Retail", "Students"), target_for(t, "churn_rate", "", "Students")
    (7.0, 8.0)
    >>> target_for(t, "churn_rate", "Retail", "All"), target_for(t, "cac", "Retail", "All")
    (10.0, nan)
    """
    spec = targets.get(kpi)
    if spec is None:
        return math.nan
    if not isinstance(spec, Mapping):
        return float(spec)
    by_unit = spec.get(unit or WHOLE)
    if isinstance(by_unit, Mapping) and segment in by_unit:
        return float(by_unit[segment])
    if segment != WHOLE and not isinstance(spec.get(segment), (Mapping, type(None))):
        return float(spec[segment])
    if isinstance(by_unit, Mapping) and DEFAULT in by_unit:
        return float(by_unit[DEFAULT])
    if by_unit is not None and not isinstance(by_unit, Mapping):
        return float(by_unit)
    return float(spec[DEFAULT]) if DEFAULT in spec else math.nan


def status(value: float, target: float, higher_is_better: bool | None) -> str:
    """``on track`` when ``value`` reaches ``target`` in the KPI's direction (equal counts
    as reached), ``off track`` otherwise, ``""`` without a value, a target or a direction.

    Examples
    --------
    >>> status(93.0, 93.0, True), status(9.0, 8.0, False), status(float("nan"), 8.0, False)
    ('on track', 'off track', '')
    """
    if higher_is_better is None or pd.isna(value) or pd.isna(target):
        return ""
    reached = value >= target if higher_is_better else value <= target
    return ON_TRACK if reached else OFF_TRACK


def with_targets(kpis: pd.DataFrame, targets: Targets | None, business_unit: str = "") -> pd.DataFrame:
    """``kpis`` (the tidy KPI frame of one report) with ``target`` (float, NaN when none)
    and ``status`` (``on track``, ``off track`` or ``""``) columns. Returns a new frame.

    Parameters
    ----------
    kpis
        Rows with ``kpi``, ``segment`` and ``value``.
    targets
        :func:`check_targets`' result (``None`` or empty: no targets).
    business_unit
        The report's unit (``""``: the whole business).
    """
    out = kpis.copy()
    targets = targets or {}
    if out.empty:
        out[C.TARGET] = pd.Series(dtype="float64")
        out[C.STATUS] = pd.Series(dtype="object")
        return out
    out[C.TARGET] = [target_for(targets, k, business_unit, s)
                   for k, s in zip(out[C.KPI], out[C.SEGMENT])]
    out[C.STATUS] = [status(v, t, direction(k))
                   for k, v, t in zip(out[C.KPI], out[C.VALUE], out[C.TARGET])]
    return out


__all__ = ["DEFAULT", "OFF_TRACK", "ON_TRACK", "check_target_names",
           "check_targets", "direction", "status", "target_for", "with_targets"]
