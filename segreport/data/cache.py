"""A checked copy of a dataset as Parquet, for the per-customer reference path.

:func:`segreport.prepared.build.prepare` writes it when every KPI has to be re-cut per customer
(``segment_by: rfm``); the notebook kernel reads it back with :func:`read_validated`, which
needs no checks.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from segreport.data.dataset import Dataset, QualityNote

MARKER = "validated.json"


def write_validated(ds: Dataset, folder: str | Path) -> Path:
    """Write ``ds`` to ``folder`` (created) and return the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in ds.tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    meta = {"data_dir": str(ds.data_dir), "files": {k: str(v) for k, v in ds.files.items()},
            "quality": [asdict(q) for q in ds.quality], "column_names": ds.column_names}
    (folder / MARKER).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return folder


def is_validated(folder: str | Path) -> bool:
    return (Path(folder) / MARKER).is_file()


def read_validated(folder: str | Path) -> Dataset:
    """The :class:`Dataset` written by :func:`write_validated`, as it was."""
    folder = Path(folder)
    meta = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in meta["files"]}
    return Dataset(Path(meta["data_dir"]), tables,
                   {k: Path(v) for k, v in meta["files"].items()},
                   [QualityNote(**q) for q in meta["quality"]], meta.get("column_names", {}))
