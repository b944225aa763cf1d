"""A validated copy of a dataset, written once and read by every notebook run.

``segreport run`` and ``segreport batch`` read and check the user's files once, in the
parent process, then hand the notebook kernels this copy: Parquet files with our column
names and types, plus the data-quality notes. Reading it back needs no checks.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from segreport.data.read import Dataset, QualityNote

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


def load_dataset(data_dir: str | Path, columns: dict | None = None, validated: str | Path = "",
                 data_source: str = "", tables: dict | None = None,
                 password_env: str = "SEGREPORT_DB_PASSWORD") -> Dataset:
    """The dataset of a report: the validated copy when ``validated`` names one (as
    ``segreport run`` and ``batch`` pass it), else ``data_source`` (a database URL or DuckDB
    file) or ``data_dir`` read and checked afresh, as in JupyterLab."""
    from segreport.data.read import read_dataset

    if validated and is_validated(validated):
        return read_validated(validated)
    return read_dataset(data_source or data_dir, columns, tables, password_env)
