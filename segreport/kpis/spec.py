"""One typed spec per KPI: everything the report knows about a KPI, in one place.

The specs are the YAML files beside this module: ``cards.yaml`` (the ``base`` family) and
``cards_<family>.yaml`` (``value``, ``voice``, ``segmentation``, ``predictive``), one
section per KPI id. They are read and validated once (:func:`load_specs`); a spec that
breaks the schema stops the report with a :class:`~segreport.errors.ConfigError` naming
the file, the KPI and the field.

Everything else reads the specs: the unit written in the ``unit`` column, the band of a
value, what input an absent table would enable, the labels of tables and charts, the chart
titles, the definition cards of the appendix and the README's KPI table
(:func:`kpi_table_markdown`; ``python -m segreport.kpis`` prints it). Adding a KPI is
its spec, its function and its test.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from segreport import columns as C
from segreport.errors import ConfigError
from segreport.kpis import ids
from segreport.validation import validation_problem

PERCENT = "%"
UNITS = ("customers", "orders", "currency", "currency per order", "currency per new customer",
         "currency per retained customer", "currency per segment", PERCENT, "months", "points",
         "index (0-100)", "purchases", "segments", "silhouette (-1..1)")
"""Every unit a KPI may have, as written in the ``unit`` column (see
:func:`segreport.formatting.format_value`)."""

Family = Literal["base", "value", "voice", "segmentation", "predictive"]
BASE_FILE = "cards.yaml"
"""The spec file of the ``base`` family; the others are ``cards_<family>.yaml``."""
HIGHER, LOWER = "higher", "lower"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Band(_Spec):
    """A band of a KPI's values: from ``min`` (inclusive; ``None``: no lower bound) up to the
    band above it."""

    min: float | None
    label: str = Field(min_length=1)
    meaning: str = Field(min_length=1)
    """What a value in the band means; ``"what; what to do"`` when it carries advice."""


class Input(_Spec):
    """A table a KPI reads and the columns it needs (``optional``: read when present)."""

    table: str
    columns: tuple[str, ...] = Field(min_length=1)
    optional: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _in_the_contract(self) -> Input:
        if self.table not in C.CONTRACT:
            raise ValueError(f"unknown table {self.table!r}; the tables are "
                             f"{', '.join(C.CONTRACT)}")
        known = [c.name for c in C.CONTRACT[self.table].columns]
        unknown = [c for c in self.columns + self.optional if c not in known]
        if unknown:
            raise ValueError(f"{self.table} has no column {', '.join(unknown)}; its columns "
                             f"are {', '.join(known)}")
        return self

    @property
    def is_optional_table(self) -> bool:
        """Whether the data may lack the table (every table but the orders)."""
        return not C.CONTRACT[self.table].required

    @property
    def text(self) -> str:
        """``marketing_spend (period, segment, acquisition_spend)``."""
        extra = f"; optional {', '.join(self.optional)}" if self.optional else ""
        return f"{self.table} ({', '.join(self.columns)}{extra})"


class KpiSpec(_Spec):
    """Everything known about one KPI.

    ``name`` titles its card; ``short_label`` heads its block in the KPI tables and its
    panel in small multiples; ``in_text`` names it in running text, e.g. the narrative's
    ``churn up 1.9 pts`` (default: the name, :func:`lower_first`); ``unit`` is the
    ``unit`` column of its rows;
    ``higher_is_better`` is its direction (``None``: neither way is better); ``inputs``
    the tables it reads; ``bands`` run from the highest ``min`` down, the first whose
    ``min`` a value reaches wins, the last has no lower bound; ``chart_title`` (default: the
    name) and ``chart_subtitle`` are those of its chart; the rest is the text of its
    definition card.
    """

    id: str
    family: Family
    name: str = Field(min_length=1)
    short_label: str = Field(min_length=1)
    in_text: str = Field(min_length=1)
    unit: str
    higher_is_better: bool | None = None
    inputs: tuple[Input, ...] = Field(min_length=1)
    formula: str = Field(min_length=1)
    bands: tuple[Band, ...] = ()
    chart_title: str = Field(min_length=1)
    chart_subtitle: str = ""
    definition: str = Field(min_length=1)
    measurement: str = ""
    diagnostics: tuple[str, ...] = ()
    tips: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    related: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _chart_title_defaults_to_the_name(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and not data.get("chart_title") and data.get("name"):
            return {**data, "chart_title": data["name"]}
        return data

    @model_validator(mode="before")
    @classmethod
    def _in_text_defaults_to_the_name(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and not data.get("in_text") and isinstance(data.get("name"), str):
            return {**data, "in_text": lower_first(data["name"])}
        return data

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, unit: str) -> str:
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r}; the units are {', '.join(UNITS)}")
        return unit

    @field_validator("bands")
    @classmethod
    def _bands_run_down(cls, bands: tuple[Band, ...]) -> tuple[Band, ...]:
        if not bands:
            return bands
        mins = [b.min for b in bands]
        if mins[-1] is not None or None in mins[:-1]:
            raise ValueError("the last band, and only it, has min: null (no lower bound)")
        if any(a <= b for a, b in zip(mins[:-2], mins[1:-1])):
            raise ValueError(f"band mins must fall from the first band down (got {mins[:-1]})")
        labels = [b.label for b in bands]
        if len(set(labels)) < len(labels):
            raise ValueError(f"band labels must differ (got {labels})")
        return bands

    @property
    def direction(self) -> str:
        """``higher`` or ``lower`` (is better), ``""`` when neither way is better."""
        return "" if self.higher_is_better is None else (HIGHER if self.higher_is_better else LOWER)

    def band(self, value: float | None) -> str:
        """The label of the first band whose ``min`` ``value`` reaches (``""``: no bands or
        no value)."""
        if not self.bands or value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return next((b.label for b in self.bands if b.min is None or value >= b.min), "")

    def band_meaning(self, label: str) -> str:
        return next((b.meaning for b in self.bands if b.label == label), "")


def _spec_files() -> list[str]:
    folder = files("segreport.kpis")
    return sorted(p.name for p in folder.iterdir()
                  if p.name == BASE_FILE or (p.name.startswith("cards_") and p.name.endswith(".yaml")))


def _family(file: str) -> str:
    return "base" if file == BASE_FILE else file.removeprefix("cards_").removesuffix(".yaml")


def _fields_at(loc: tuple) -> Iterable[str]:
    """The names a spec allows at a location of a validation error."""
    model = {"bands": Band, "inputs": Input}.get(loc[0] if len(loc) > 1 else "", KpiSpec)
    return [f for f in model.model_fields if model is not KpiSpec or f not in ("id", "family")]


def _raw(file: str) -> Any:
    """One spec file as YAML reads it."""
    return yaml.safe_load(files("segreport.kpis").joinpath(file).read_text(encoding="utf-8")) or {}


def _read(file: str) -> tuple[dict[str, KpiSpec], list[str]]:
    """The specs of one file, and what is wrong in it."""
    where = f"segreport/kpis/{file}"
    raw = _raw(file)
    if not isinstance(raw, dict):
        return {}, [f"{where}: expected one section per KPI id (got a {type(raw).__name__})"]
    specs, problems = {}, []
    for kpi, fields in raw.items():
        if not isinstance(fields, dict):
            problems.append(f"{where}: KPI {kpi!r}: expected its fields as 'field: value' lines")
            continue
        if {"id", "family"} & set(fields):
            problems.append(f"{where}: KPI {kpi!r}: id and family come from the section and the "
                            "file, not from fields")
            continue
        try:
            specs[kpi] = KpiSpec.model_validate({**fields, "id": kpi, "family": _family(file)})
        except ValidationError as exc:
            problems += [validation_problem(e, lambda _, kpi=kpi: f"{where}: KPI {kpi!r}", "field",
                                            _fields_at) for e in exc.errors()]
    return specs, problems


@lru_cache(maxsize=1)
def load_specs() -> Mapping[str, KpiSpec]:
    """Every KPI's spec by id, family by family as in :data:`segreport.kpis.ids.ALL_KPIS`.

    Raises
    ------
    ConfigError
        naming the file, the KPI and the field of every spec that breaks the schema, a KPI
        defined twice, or a related KPI that has no spec.
    """
    specs: dict[str, KpiSpec] = {}
    problems: list[str] = []
    for file in _spec_files():
        part, wrong = _read(file)
        problems += wrong
        for kpi in part.keys() & specs.keys():
            problems.append(f"segreport/kpis/{file}: KPI {kpi!r} is defined twice")
        specs.update(part)
    for s in specs.values():
        unknown = [r for r in s.related if r not in specs]
        if unknown:
            problems.append(f"KPI {s.id!r}: field 'related': no spec for {', '.join(unknown)}")
    if problems:
        raise ConfigError("; ".join(problems))
    order = {k: i for i, k in enumerate(ids.ALL_KPIS)}
    return MappingProxyType(dict(sorted(specs.items(), key=lambda kv: order.get(kv[0], len(order)))))


def kpi_spec(kpi: str) -> KpiSpec:
    """The spec of ``kpi``; ``KeyError`` naming it when there is none."""
    try:
        return load_specs()[kpi]
    except KeyError:
        raise KeyError(f"no KPI spec for {kpi!r} in segreport/kpis/cards*.yaml") from None


def kpi_name(kpi: str) -> str:
    """The KPI's name (its id when it has no spec)."""
    spec = load_specs().get(kpi)
    return spec.name if spec else kpi


def short_label(kpi: str) -> str:
    """The KPI's short label (its id when it has no spec)."""
    spec = load_specs().get(kpi)
    return spec.short_label if spec else kpi


def in_text(kpi: str) -> str:
    """How running text names the KPI (its id when it has no spec)."""
    spec = load_specs().get(kpi)
    return spec.in_text if spec else kpi


def band_for(kpi: str, value: float | None) -> str:
    """The band label of ``value`` for ``kpi`` (``""`` when it has no bands or no value)."""
    spec = load_specs().get(kpi)
    return spec.band(value) if spec else ""


def band_meaning(kpi: str, label: str) -> str:
    spec = load_specs().get(kpi)
    return spec.band_meaning(label) if spec else ""


def units(kpi_ids: Iterable[str]) -> dict[str, str]:
    """KPI id → unit, for ``kpi_ids``."""
    return {k: kpi_spec(k).unit for k in kpi_ids}


def missing_inputs(tables_present: Iterable[str] | Mapping[str, Any],
                   kpi_ids: Iterable[str] = ids.ALL_KPIS) -> dict[str, str]:
    """Which of ``kpi_ids`` lack an optional table they read, and what would enable each.

    Parameters
    ----------
    tables_present
        Names of the tables supplied (a dict of tables works too; a name mapped to ``None``
        counts as absent). The orders are always there.
    kpi_ids
        The KPIs to look at, in the order of the result.

    Returns
    -------
    ``{kpi: "cac needs marketing_spend (period, segment, acquisition_spend)", ...}``, empty
    when every table they read is present.
    """
    if isinstance(tables_present, Mapping):
        present = {name for name, table in tables_present.items() if table is not None}
    else:
        present = set(tables_present)
    out = {}
    for kpi in kpi_ids:
        absent = [i.text for i in kpi_spec(kpi).inputs
                  if i.is_optional_table and i.table not in present]
        if absent:
            out[kpi] = f"{kpi} needs {' and '.join(absent)}"
    return out


def kpis_reading(table: str) -> list[str]:
    """The KPIs that read ``table``, in :data:`segreport.kpis.ids.ALL_KPIS` order."""
    return [k for k, s in load_specs().items() if any(i.table == table for i in s.inputs)]


def lower_first(text: str) -> str:
    """``text`` with its first letter in lower case, unless its first word is an acronym
    (``Market share`` → ``market share``, ``CLV growth`` stays)."""
    first = text.split(" ", 1)[0]
    return text if len(first) > 1 and first.isupper() else text[:1].lower() + text[1:]


def in_words(texts: Sequence[str], capital: bool = True) -> str:
    """``A, b and c``: the texts in running prose (see :func:`lower_first`), the first
    capitalised unless ``capital`` is false."""
    words = [lower_first(t) for t in texts]
    text = words[0] if len(words) <= 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return text[:1].upper() + text[1:] if capital else text


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _bands_text(spec: KpiSpec) -> str:
    return ", ".join(f"{b.label} ≥ {b.min:g}" if b.min is not None else f"{b.label} below"
                     for b in spec.bands)


def kpi_table_markdown() -> str:
    """The README's KPI table: one row per KPI, family by family (ends with a newline)."""
    rows = ["| `kpi` in `kpis.csv` | KPI | formula | unit | better | bands |",
            "|---|---|---|---|---|---|"]
    rows += [f"| `{s.id}` | {_cell(s.name)} | {_cell(s.formula)} | {_cell(s.unit)} | "
             f"{s.direction or '—'} | {_cell(_bands_text(s))} |" for s in load_specs().values()]
    return "\n".join(rows) + "\n"
