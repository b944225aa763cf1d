"""Definition cards as plain dicts: a view of the KPI specs (:mod:`segreport.kpis.spec`).

A card is the spec's fields by name, as written in ``cards*.yaml`` (a field the YAML leaves
out, such as ``higher_is_better`` of a KPI that has no direction, is absent). Bands, names
and lookups are the spec's own functions.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from segreport.kpis.spec import band_for, band_meaning, kpi_name, load_specs

__all__ = ["band_for", "band_meaning", "card", "kpi_name", "load_cards"]


@lru_cache(maxsize=1)
def load_cards() -> dict[str, dict[str, Any]]:
    """Every KPI's card by id (see :func:`segreport.kpis.spec.load_specs`)."""
    return {kpi: spec.model_dump(exclude_unset=True) for kpi, spec in load_specs().items()}


def card(kpi: str) -> dict[str, Any]:
    return load_cards()[kpi]
