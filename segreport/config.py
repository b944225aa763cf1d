"""Report parameters: load a params file, apply ``--set`` overrides, validate.

One typed object (:class:`ReportParams`) travels from the command line into the
notebook's parameters cell. Secrets never travel as parameters: they are read from the
environment where they are used.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from segreport.columns import CONTRACT
from segreport.errors import ConfigError
from segreport.period import Period


class ReportParams(BaseModel):
    """Every parameter of the report, with its default.

    The same names and defaults stand in the notebook's ``parameters`` cell.
    """

    model_config = ConfigDict(extra="forbid")

    data_dir: str = "data/sample"
    period: str = "2026Q3"
    business_unit: str = ""
    active_window_days: int = Field(365, gt=0)
    output_dir: str = "output"
    columns: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("period")
    @classmethod
    def _quarter(cls, value: str) -> str:
        try:
            return Period.parse(value, where="").label
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("business_unit", mode="before")
    @classmethod
    def _unit(cls, value: Any) -> str:
        return "" if value is None else str(value).strip()

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for table, mapping in value.items():
            if table not in CONTRACT:
                raise ValueError(f"unknown table {table!r}; known tables: {', '.join(CONTRACT)}")
            known = [c.name for c in CONTRACT[table].columns]
            unknown = [k for k in mapping if k not in known]
            if unknown:
                raise ValueError(
                    f"unknown column(s) {', '.join(map(repr, unknown))} for table {table!r}; "
                    f"its columns are: {', '.join(known)}")
        return value

    @property
    def unit_label(self) -> str:
        """The business unit as shown in paths and titles (``All`` when none is set)."""
        return self.business_unit or "All"

    def notebook_parameters(self) -> dict[str, Any]:
        return self.model_dump()


def parse_set(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Turn ``KEY=VALUE`` strings into a nested dict (``columns.orders.amount=amt``).

    Values are read as YAML scalars, so ``365`` is a number and ``''`` is empty.
    """
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: write it as KEY=VALUE")
        key, raw = item.split("=", 1)
        value = yaml.safe_load(raw) if raw.strip() else ""
        node = out
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_params(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> ReportParams:
    """Read a YAML params file, apply ``--set`` overrides and validate.

    Raises
    ------
    ConfigError
        naming the file and the parameter when the file is missing, is not YAML, has an
        unknown key or an invalid value.
    """
    raw: dict[str, Any] = {}
    where = str(path) if path else "--set"
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: params file not found")
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of parameter: value")
        raw = loaded
    raw = _merge(raw, parse_set(list(overrides)))
    try:
        return ReportParams(**raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "?"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = f"unknown parameter; known ones: {', '.join(ReportParams.model_fields)}"
            problems.append(f"parameter '{name}': {msg} (got {err.get('input')!r})")
        raise ConfigError(f"{where}: " + "; ".join(problems)) from None
