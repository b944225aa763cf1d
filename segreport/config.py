"""Report parameters: load a params file, apply ``--set`` overrides, validate.

One typed object (:class:`ReportParams`) travels from the command line into the
notebook's parameters cell. Secrets never travel as parameters: they are read from the
environment where they are used.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from segreport.columns import CONTRACT
from segreport.engine.options import (
    DEFAULT_ENGINE,
    DEFAULT_SPARK_MASTER,
    SecretInParameter,
    check_engine,
    check_spark_master,
)
from segreport.errors import ConfigError, clip
from segreport.kpis.targets import check_targets
from segreport.params_file import (
    MAX_YAML_DEPTH,
    check_lengths,
    read_params_file,
    safe_yaml,
)
from segreport.period import Period
from segreport.secret_params import (
    DEFAULT_PASSWORD_ENV,
    check_env_name,
    check_no_password,
    mask_password,
)
from segreport.validation import validate, validation_problem

#: ``active_window_days`` range: one day to ten years.
MAX_WINDOW_DAYS = 3660


class ReportParams(BaseModel):
    """Every parameter of the report, with its default.

    The same names and defaults stand in the notebook's ``parameters`` cell.
    """

    # ``coerce_numbers_to_str``: ``--set data_dir=2026`` or ``business_unit: 10`` are names.
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    data_dir: str = "data/sample"
    period: str = "2026Q3"
    business_unit: str = ""
    active_window_days: int = Field(365, gt=0, le=MAX_WINDOW_DAYS)
    output_dir: str = "output"
    columns: dict[str, dict[str, str]] = Field(default_factory=dict)
    gross_margin_pct: float = Field(30.0, ge=0, le=100)
    # above this share of order rows belonging to no customer of the customers table the
    # run stops; below it they are set aside and the report says so on its first page
    max_unknown_customer_pct: float = Field(1.0, ge=0, le=100)
    segment_by: str = "segment"
    predictive_clv: bool = True
    clv_horizon_months: int = Field(12, ge=1, le=120)
    clv_discount_rate: float = Field(0.10, ge=0, le=1)
    email: dict[str, Any] = Field(default_factory=dict)
    # Where the data comes from instead of data_dir when set: a folder, a DuckDB file or a
    # database URL without password (segreport.data.sources).
    data_source: str = ""
    tables: dict[str, str] = Field(default_factory=dict)  # contract table -> user's table
    password_env: str = DEFAULT_PASSWORD_ENV  # environment variable with the DB password
    # Where a folder of files is computed: duckdb (embedded) or pyspark (Spark at
    # spark_master: local[*], local[N], spark://host:port or Spark Connect sc://host:port).
    engine: str = DEFAULT_ENGINE
    spark_master: str = DEFAULT_SPARK_MASTER
    # KPI id -> target, optionally per segment and business unit (segreport.kpis.targets);
    # the names are checked against the data once it is described (prepared.build.check_request).
    targets: dict[str, Any] = Field(default_factory=dict)
    # The analyst's notes: {commentary_dir}/{period}/{unit folder}.md (segreport.report.commentary)
    commentary_dir: str = "commentary"

    @field_validator("period", mode="before")
    @classmethod
    def _quarter(cls, value: Any) -> str:
        try:
            return Period.parse(value, where="").label
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("business_unit", mode="before")
    @classmethod
    def _unit(cls, value: Any) -> str:
        return "" if value is None else str(value).strip()

    @field_validator("active_window_days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        if isinstance(value, bool):  # YAML reads yes/no/true as booleans; 1 day is not meant
            raise ValueError("must be a whole number of days, e.g. 365")
        return value

    @field_validator("data_dir", "output_dir", "commentary_dir")
    @classmethod
    def _folder(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a folder, e.g. data/sample or output")
        return value

    @field_validator("segment_by", mode="before")
    @classmethod
    def _segment_by(cls, value: Any) -> str:
        text = "" if value is None else str(value).strip()
        return text or "segment"

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for table, mapping in value.items():
            if table not in CONTRACT:
                raise ValueError(f"unknown table {table!r}; known tables: {', '.join(CONTRACT)}")
            if not isinstance(mapping, dict):
                continue  # pydantic reports the wrong type itself
            known = [c.name for c in CONTRACT[table].columns]
            unknown = [k for k in mapping if k not in known]
            if unknown:
                raise ValueError(
                    f"unknown column(s) {', '.join(map(repr, unknown))} for table {table!r}; "
                    f"its columns are: {', '.join(known)}")
            empty = [k for k, v in mapping.items() if not str(v).strip()]
            if empty:
                raise ValueError(
                    f"table {table!r}: no column name given for {', '.join(map(repr, empty))}; "
                    "give the name used in your file, or remove the entry")
            claimed: dict[str, str] = {}
            for ours, theirs in mapping.items():
                if theirs in claimed:
                    raise ValueError(
                        f"table {table!r}: {claimed[theirs]!r} and {ours!r} are both mapped to "
                        f"the column {theirs!r}; each column can be read only once")
                claimed[theirs] = ours
            for col in CONTRACT[table].columns:
                if col.required and col.name not in mapping and col.name in claimed:
                    raise ValueError(
                        f"table {table!r}: {claimed[col.name]!r} is mapped to the column "
                        f"{col.name!r}, which is read as {col.name!r} itself; map {col.name!r} "
                        "to another column of your file too")
        return value

    @field_validator("targets", mode="before")
    @classmethod
    def _targets(cls, value: Any) -> dict[str, Any]:
        return check_targets(value)

    @field_validator("data_source", mode="before")
    @classmethod
    def _source(cls, value: Any) -> str:
        return "" if value is None else str(value).strip()

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, value: dict[str, str]) -> dict[str, str]:
        for table, name in value.items():
            if table not in CONTRACT:
                raise ValueError(f"unknown table {table!r}; known tables: {', '.join(CONTRACT)}")
            if not str(name).strip():
                raise ValueError(f"table {table!r}: no table name given; give the name in your "
                                 "database (e.g. sales.orders), or remove the entry")
        return {table: str(name).strip() for table, name in value.items()}

    @field_validator("password_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        # Raises ConfigError rather than ValueError so that the value (perhaps the password
        # itself) is not echoed.
        return check_env_name(value.strip())

    @field_validator("engine", mode="before")
    @classmethod
    def _engine(cls, value: Any) -> str:
        try:
            return check_engine(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("spark_master", mode="before")
    @classmethod
    def _spark_master(cls, value: Any) -> str:
        try:
            return check_spark_master("" if value is None else value)
        except SecretInParameter:
            raise  # ConfigError, not ValueError: the token is not echoed
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _no_secrets(self) -> ReportParams:
        # ConfigError, not ValueError: the message masks the password instead of echoing it.
        for name in ("data_source", "data_dir"):
            check_no_password(getattr(self, name), self.password_env, name)
        return self

    @property
    def unit_label(self) -> str:
        """The business unit as shown in paths and titles (``All`` when none is set)."""
        return self.business_unit or "All"

    def notebook_parameters(self) -> dict[str, Any]:
        """What the notebook's parameters cell receives (the email settings stay out)."""
        return self.model_dump(exclude={"email"})


def parse_set(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Turn ``KEY=VALUE`` strings into a nested dict (``columns.orders.amount=amt``).

    Values are read as YAML scalars, so ``365`` is a number and ``''`` is empty; a value
    that is not a YAML scalar (``[x``, ``a: b``) is kept as the text given.
    """
    out: dict[str, Any] = {}
    for item in items:
        shown = clip(repr(mask_password(item)))
        if "=" not in item:
            raise ConfigError(f"--set {shown}: write it as KEY=VALUE, e.g. --set period=2026Q3")
        key, raw = item.split("=", 1)
        parts = [part.strip() for part in key.split(".")]
        if len(parts) > MAX_YAML_DEPTH:
            raise ConfigError(f"--set {clip(repr(key), 40)}: the KEY has {len(parts):,} parts; "
                              "a parameter has at most 3, e.g. columns.orders.amount")
        if not all(parts):
            raise ConfigError(f"--set {shown}: the KEY before '=' is empty or has an empty "
                              "part; write it as KEY=VALUE, e.g. --set columns.orders.amount=amt")
        value: Any = ""
        if raw.strip():
            try:
                value = safe_yaml(raw)
            except (yaml.YAMLError, ValueError):
                value = raw.strip()
            if isinstance(value, (dict, list)):
                value = raw.strip()
        node = out
        *parents, leaf = parts
        for depth, part in enumerate(parents, 1):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(
                    f"--set {shown}: {'.'.join(parts[:depth])!r} is already set to a value by "
                    "another --set, so it cannot also have sub-keys")
        if isinstance(node.get(leaf), dict):
            raise ConfigError(f"--set {shown}: {key.strip()!r} already has sub-keys set by "
                              "another --set")
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
        loaded = read_params_file(path)
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected one 'parameter: value' per line, e.g. "
                              f"period: 2026Q3 (got a {type(loaded).__name__})")
        raw = loaded
    overridden = parse_set(list(overrides))
    raw = _merge(raw, overridden)

    def source(key: str) -> str:
        """Where a top-level parameter came from: a --set option or the params file."""
        return "--set" if key in overridden else where

    check_lengths(raw, source)
    return validate(ReportParams, {str(k): v for k, v in raw.items()},
                    lambda err: _problem(err, source))


def _problem(err: Any, source: Callable[[str], str]) -> str:
    """One pydantic error as ``{source}: parameter '{name}': {message} (got {value})``; the
    value is masked and clipped, and never shown for an error of the whole parameter set."""
    return validation_problem(err, source, "parameter", lambda loc: ReportParams.model_fields,
                              lambda value: clip(mask_password(repr(value))))
