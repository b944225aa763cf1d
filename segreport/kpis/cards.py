"""Definition cards (``cards.yaml``): names, units, formulas, bands, tips and risks."""
from __future__ import annotations

import math
from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml


@lru_cache(maxsize=1)
def load_cards() -> dict[str, dict[str, Any]]:
    """All cards, keyed by KPI id: ``cards.yaml`` and every ``cards_<family>.yaml`` beside it.

    Raises
    ------
    ValueError
        when two files define the same KPI id.
    """
    folder = files("segreport.kpis")
    names = sorted(p.name for p in folder.iterdir()
                   if p.name == "cards.yaml" or (p.name.startswith("cards_") and p.name.endswith(".yaml")))
    cards: dict[str, dict[str, Any]] = {}
    for name in names:
        part = yaml.safe_load(folder.joinpath(name).read_text(encoding="utf-8")) or {}
        clash = set(cards) & set(part)
        if clash:
            raise ValueError(f"KPI card(s) {sorted(clash)} defined twice (in {name})")
        cards.update(part)
    return cards


def card(kpi: str) -> dict[str, Any]:
    return load_cards()[kpi]


def kpi_name(kpi: str) -> str:
    return load_cards().get(kpi, {}).get("name", kpi)


def band_for(kpi: str, value: float | None) -> str:
    """The band label of ``value`` for ``kpi`` (empty when the KPI has no bands or no value).

    Bands are checked top-down; the first band whose ``min`` the value reaches wins.
    """
    bands = load_cards().get(kpi, {}).get("bands")
    if not bands or value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    for band in bands:
        if band["min"] is None or value >= band["min"]:
            return band["label"]
    return ""


def band_meaning(kpi: str, label: str) -> str:
    for band in load_cards().get(kpi, {}).get("bands", []):
        if band["label"] == label:
            return band.get("meaning", "")
    return ""
