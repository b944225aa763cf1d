"""Read a data folder into validated frames that follow the data contract.

Every check of the user's input lives in this package: the table files are found and read
raw in :mod:`segreport.data.table_files` (or a database's tables in
:mod:`segreport.data.sources`), typed in :mod:`segreport.data.coerce` and cleaned in
:mod:`segreport.data.clean`; :mod:`segreport.data.dataset` holds the result. A problem raises
:class:`segreport.errors.DataError` naming the file, the column (as the user calls it),
the offending values and their row numbers. Rows that are dropped rather than rejected
are recorded in :attr:`Dataset.quality` so that the report can say what and why.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from segreport import columns as C
from segreport.data.clean import clean_customers, clean_orders
from segreport.data.coerce import coerce_table
from segreport.data.dataset import Dataset, QualityNote, count_unit_rows
from segreport.data.sources import FolderSource, open_source
from segreport.errors import DataError
from segreport.secret_params import DEFAULT_PASSWORD_ENV


def read_table(data_dir: Path, table: str, mapping: dict[str, str] | None = None,
               source=None) -> tuple[pd.DataFrame, Path] | None:
    """Read, map and type one table; ``None`` when an optional table's file is absent.

    ``source`` (see :mod:`segreport.data.sources`) is where the table comes from; by
    default the folder ``data_dir``. The second item returned is the file's path, or for a
    database table a :class:`~segreport.data.sources.Location` naming it."""
    spec = C.CONTRACT[table]
    source = source or FolderSource(Path(data_dir), must_exist=False)
    path = source.find(table)
    if path is None:
        if spec.required:
            raise source.missing(table)
        return None
    mapping = mapping or {}
    names = {c.name: mapping.get(c.name, c.name) for c in spec.columns}
    # A column of the file mapped explicitly is not also read under its own name, e.g.
    # ``amount: margin`` takes the file's margin column as amount, and margin stays unread.
    claimed = set(mapping.values())
    names = {ours: theirs for ours, theirs in names.items()
             if ours in mapping or theirs not in claimed or ours in spec.required_columns}
    raw = source.read(path, names)
    header = raw.attrs["header"]
    noun = getattr(path, "noun", "file")
    absent = [c for c in spec.required_columns if names[c] not in header]
    if absent:
        shown = [f"'{names[c]}'" + (f" (your name for {c}, set in `columns:`)"
                                    if names[c] != c else "") for c in absent]
        hint = f"columns present: {', '.join(map(str, header))}"
        if len(header) == 1 and ";" in str(header[0]):
            hint += ("; the file seems to use ';' between values: save it with commas "
                     "(CSV UTF-8, comma delimited)")
        else:
            hint += (f"; rename the column in the {noun}, or map your name with "
                     f"`columns: {{{table}: {{{absent[0]}: your_name}}}}` in the params file")
        raise DataError(str(path), f"missing required column(s) {', '.join(shown)}",
                        values=None, hint=hint)
    if raw.empty:
        what = "add at least one data row" if spec.required else \
            f"add data rows, or remove the {noun} (this table is optional)"
        raise DataError(str(path), "the table is empty (no data rows)", hint=what)
    raw = raw.rename(columns={v: k for k, v in names.items()})
    return coerce_table(raw, spec, path, names), path


def read_dataset(data_dir: str | Path, columns: dict[str, dict[str, str]] | None = None,
                 tables: dict[str, str] | None = None,
                 password_env: str = DEFAULT_PASSWORD_ENV,
                 max_unknown_customer_pct: float | None = None) -> Dataset:
    """Read every contract table found in ``data_dir`` and validate it.

    Parameters
    ----------
    data_dir
        Folder with one file per table, ``<table>.csv`` or ``<table>.parquet``; or a
        DuckDB file (``crm.duckdb``, ``duckdb:///crm.duckdb``); or a SQLAlchemy URL
        without a password (``postgresql+psycopg://analyst@db:5432/crm``). See
        :mod:`segreport.data.sources`.
    columns
        Per table, a mapping from contract column names to the user's column names.
    tables
        Per contract table, the user's table name (``{"orders": "sales.orders"}``; for a
        folder, the file stem); by default the contract name.
    password_env
        Environment variable holding the database password (URL sources only).

    Returns
    -------
    Dataset
        Validated tables. Exact duplicate order rows and orders of customers missing
        from the customers table are dropped and recorded in ``quality``; a missing
        segment or business unit becomes ``Unassigned``, also recorded.
    """
    columns = columns or {}
    frames, files, quality = {}, {}, []
    with open_source(data_dir, tables, password_env) as source:
        for name in C.CONTRACT:
            got = read_table(source.location, name, columns.get(name), source)
            if got is None:
                continue
            frame, path = got
            frames[name], files[name] = frame, path
            quality.append(QualityNote(name, path.name, len(frame)))
    ds = Dataset(source.location, frames, files, quality,
                 {t: dict(m) for t, m in columns.items() if m})
    orders_read = ds.orders
    missing = ({} if ds.customers is None else
               {col: ds.customers[col].isna().to_numpy() for col in (C.SEGMENT, C.BUSINESS_UNIT)})
    clean_customers(ds, columns.get(C.CUSTOMERS, {}))
    clean_orders(ds, columns.get(C.ORDERS, {}), max_unknown_customer_pct)
    ds.unit_rows = count_unit_rows(ds, orders_read, missing)
    return ds
