"""The layout of a prepared folder: its file names, its description (``info.json``) and
what :func:`segreport.prepared.build.prepare` wrote there.

* ``kpi_panel.parquet`` — every KPI × segment × unit × quarter: each reported quarter,
  the 8 before it (so the same quarter a year earlier too) and the one before those, with
  ``previous_value``;
* ``facts_<quarter>.parquet`` — per-customer facts of each reported quarter and of the one
  before it (RFM, behaviour groups, migration);
* ``cohorts.parquet``, ``cohort_sizes.parquet`` — acquisition-cohort counts;
* ``purchases_<quarter>.parquet`` — the purchase summary of BG/NBD and Gamma-Gamma;
* ``info.json`` — tables, columns, data-quality notes, segments and units;
* ``checked/`` — for ``segment_by: rfm``, the checked tables instead of the above.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from segreport.data.dataset import DatasetInfo
from segreport.period import Period

PANEL_FILE = "kpi_panel.parquet"
INFO_FILE = "info.json"
COHORTS_FILE = "cohorts.parquet"
COHORT_SIZES_FILE = "cohort_sizes.parquet"
REFERENCE_DIR = "checked"


def facts_file(quarter: str) -> str:
    """The per-customer facts of ``quarter`` (``YYYYQn``)."""
    return f"facts_{quarter}.parquet"


def purchases_file(quarter: str) -> str:
    """The purchase summary at the end of ``quarter`` (``YYYYQn``)."""
    return f"purchases_{quarter}.parquet"


def period_labels(periods: list[str]) -> list[str]:
    """The quarters a prepared folder is for, as sorted unique labels (its key's part)."""
    return sorted({Period.parse(p).label for p in periods})


@dataclass
class Prepared:
    """What :func:`segreport.prepared.build.prepare` wrote: the folder and the dataset's
    description."""

    folder: Path
    info: DatasetInfo
    periods: list[str] = field(default_factory=list)


def read_info(folder: str | Path) -> tuple[DatasetInfo, dict]:
    """The dataset's description and the whole ``info.json`` of a prepared folder."""
    payload = json.loads((Path(folder) / INFO_FILE).read_text(encoding="utf-8"))
    return DatasetInfo.from_json(payload["info"]), payload


def write_info(folder: Path, info: DatasetInfo, periods: list[str], first_data: int,
               span: dict, reference: bool = False) -> None:
    """Write ``info.json``: the description, the quarters prepared, the first quarter of the
    data (an index, quarters since 1970Q1), the span of the orders and whether the folder
    holds the checked tables (``reference``) instead of the panel."""
    payload = {"info": info.to_json(), "periods": periods, "first_data_quarter": first_data,
               "reference": reference, **span}
    (folder / INFO_FILE).write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")


_KEPT = "kept_"


def behaviour_file(period: str, business_unit: str) -> str:
    """Where a prepared folder keeps a unit's behaviour groups of ``period`` once made."""
    unit = hashlib.sha256(business_unit.encode("utf-8")).hexdigest()[:16]
    return f"{_KEPT}behaviour_{period}_{unit}.pickle"


def prepared_files(folder: str | Path) -> list[Path]:
    """The files :func:`segreport.prepared.build.prepare` wrote to ``folder`` (not what
    reports kept there since: it is derived from them), sorted."""
    return sorted(p for p in Path(folder).rglob("*")
                  if p.is_file() and not p.name.startswith((_KEPT, ".")))
