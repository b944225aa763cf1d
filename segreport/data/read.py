"""Read a data folder into validated frames that follow the data contract.

Every check of the user's input lives here. A problem raises
:class:`segreport.errors.DataError` naming the file, the column (as the user calls it),
the offending values and their row numbers. Rows that are dropped rather than rejected
are recorded in :attr:`Dataset.quality` so that the report can say what and why.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from segreport import columns as C
from segreport.errors import ConfigError, DataError
from segreport.period import Period

SUFFIXES = (".csv", ".parquet")


@dataclass
class QualityNote:
    """One line of the report's data-quality section."""

    table: str
    file: str
    rows_read: int
    rows_dropped: int = 0
    note: str = ""


@dataclass
class Dataset:
    """The validated tables of one data folder.

    ``tables`` maps a table name of the contract to a frame with our column names and
    types: ids as strings, dates as ``datetime64``, numbers as ``float64``.
    """

    data_dir: Path
    tables: dict[str, pd.DataFrame]
    files: dict[str, Path]
    quality: list[QualityNote] = field(default_factory=list)

    @property
    def orders(self) -> pd.DataFrame:
        return self.tables[C.ORDERS]

    @property
    def customers(self) -> pd.DataFrame | None:
        return self.tables.get(C.CUSTOMERS)

    @property
    def subscription_mode(self) -> bool:
        """True when the customers table has a ``churn_date`` column."""
        return self.customers is not None and C.CHURN_DATE in self.customers

    @property
    def segments(self) -> list[str]:
        """Every segment in the data, sorted (``Unsegmented`` without a customers table)."""
        if self.customers is None:
            return [C.UNSEGMENTED]
        return sorted(map(str, self.customers[C.SEGMENT].unique()))

    def file_of(self, table: str) -> str:
        return str(self.files.get(table, self.data_dir / table))

    def quality_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [vars(q) for q in self.quality],
            columns=["table", "file", "rows_read", "rows_dropped", "note"])


def find_table_file(data_dir: Path, table: str) -> Path | None:
    """The file holding ``table`` in ``data_dir`` (``table.csv`` or ``table.parquet``)."""
    found = [data_dir / f"{table}{s}" for s in SUFFIXES if (data_dir / f"{table}{s}").is_file()]
    if len(found) > 1:
        raise DataError(str(data_dir), f"both {found[0].name} and {found[1].name} exist for "
                        f"table '{table}'", hint="Keep one of them")
    return found[0] if found else None


def _row_numbers(path: Path, mask: pd.Series) -> list[int]:
    """Row numbers as the user sees them: the file line in a CSV (header = line 1),
    the 1-based row in a Parquet file."""
    offset = 2 if path.suffix == ".csv" else 1
    return [int(i) + offset for i in mask[mask].index[:5]]


def _rows_word(path: Path) -> str:
    return "lines" if path.suffix == ".csv" else "rows"


def _read_raw(path: Path, wanted: dict[str, str]) -> pd.DataFrame:
    """Read only the wanted user columns; CSV cells as text so we can check them."""
    try:
        if path.suffix == ".csv":
            header = pd.read_csv(path, nrows=0).columns
            use = [c for c in header if c in set(wanted.values())]
            frame = pd.read_csv(path, usecols=use, dtype=str, keep_default_na=False,
                                na_values=[""], skipinitialspace=True)
        else:
            import pyarrow.parquet as pq

            header = pq.read_schema(path).names
            use = [c for c in header if c in set(wanted.values())]
            frame = pd.read_parquet(path, columns=use)
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(str(path), f"cannot be read ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # pyarrow raises its own error classes
        if type(exc).__module__.startswith("pyarrow"):
            raise DataError(str(path), f"cannot be read as Parquet ({exc})") from None
        raise
    frame.attrs["header"] = list(header)
    return frame.reset_index(drop=True)


def _coerce(frame: pd.DataFrame, table: C.Table, path: Path, names: dict[str, str]) -> pd.DataFrame:
    """Convert each contract column to its type; reject values that do not convert."""
    out = {}
    for col in table.columns:
        if col.name not in frame:
            continue
        s = frame[col.name]
        user = names[col.name]
        missing = s.isna() | (s.astype(str).str.strip() == "")
        if col.kind == "id":
            s = s.astype("string").str.strip()
            if missing.any():
                raise DataError(str(path), "empty id", user, rows=_row_numbers(path, missing),
                                hint=f"every row needs a {user}")
            out[col.name] = s.astype(object)
        elif col.kind == "date":
            if pd.api.types.is_datetime64_any_dtype(s):
                parsed = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) else s
            else:
                text = s.astype("string").str.strip()
                parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
                bad = parsed.isna() & ~missing
                if bad.any():
                    raise DataError(
                        str(path), "dates that are not ISO dates (YYYY-MM-DD)", user,
                        values=text[bad].unique()[:5].tolist(), rows=_row_numbers(path, bad))
                if getattr(parsed.dt, "tz", None) is not None:
                    parsed = parsed.dt.tz_localize(None)
            out[col.name] = parsed.astype("datetime64[ns]")
            if col.required and col.name != C.SIGNUP_DATE and missing.any():
                raise DataError(str(path), "empty dates", user, rows=_row_numbers(path, missing),
                                hint=f"every row needs a {user}")
        elif col.kind == "number":
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                num = s.astype("float64")
            else:
                text = s.astype("string").str.strip()
                num = pd.to_numeric(text, errors="coerce").astype("float64")
                bad = num.isna() & ~missing
                if bad.any():
                    raise DataError(str(path), "values that are not numbers", user,
                                    values=text[bad].unique()[:5].tolist(),
                                    rows=_row_numbers(path, bad))
            if col.required and missing.any():
                raise DataError(str(path), "empty values", user, rows=_row_numbers(path, missing),
                                hint=f"every row needs a {user}")
            out[col.name] = num
        elif col.kind == "period":
            text = s.astype("string").str.strip()
            labels = {}
            for value in text.dropna().unique():
                try:
                    labels[value] = Period.parse(value, where="").label
                except ConfigError:
                    bad = text == value
                    raise DataError(str(path), "periods that are not quarters (YYYYQn)", user,
                                    values=[value], rows=_row_numbers(path, bad.fillna(False))) from None
            if missing.any():
                raise DataError(str(path), "empty periods", user, rows=_row_numbers(path, missing))
            out[col.name] = text.map(labels).astype(object)
        else:  # text
            out[col.name] = s.astype("string").str.strip().astype(object).where(~missing, None)
    return pd.DataFrame(out, index=frame.index)


def read_table(data_dir: Path, table: str, mapping: dict[str, str] | None = None) -> tuple[pd.DataFrame, Path] | None:
    """Read, map and type one table; ``None`` when an optional table's file is absent."""
    spec = C.CONTRACT[table]
    path = find_table_file(data_dir, table)
    if path is None:
        if spec.required:
            raise DataError(str(data_dir / f"{table}.csv"), "required file is missing",
                            hint=f"put {table}.csv or {table}.parquet in {data_dir}")
        return None
    names = {c.name: (mapping or {}).get(c.name, c.name) for c in spec.columns}
    raw = _read_raw(path, names)
    header = raw.attrs["header"]
    absent = [c for c in spec.required_columns if names[c] not in header]
    if absent:
        shown = [names[c] + (f" (mapped from {c})" if names[c] != c else "") for c in absent]
        raise DataError(str(path), f"missing required column(s) {', '.join(shown)}",
                        values=None, hint=f"columns present: {', '.join(map(str, header))}; "
                        "map other names with `columns:` in the params file")
    if raw.empty:
        raise DataError(str(path), "the table is empty (no data rows)")
    raw = raw.rename(columns={v: k for k, v in names.items()})
    return _coerce(raw, spec, path, names), path


def _unique_customers(customers: pd.DataFrame, path: Path, user_col: str) -> None:
    dup = customers[C.CUSTOMER_ID].duplicated(keep=False)
    if dup.any():
        raise DataError(str(path), "duplicate customer ids (each customer must appear once)",
                        user_col, values=customers.loc[dup, C.CUSTOMER_ID].unique()[:5].tolist(),
                        rows=_row_numbers(path, dup))


def read_dataset(data_dir: str | Path, columns: dict[str, dict[str, str]] | None = None) -> Dataset:
    """Read every contract table found in ``data_dir`` and validate it.

    Parameters
    ----------
    data_dir
        Folder with one file per table, ``<table>.csv`` or ``<table>.parquet``.
    columns
        Per table, a mapping from contract column names to the user's column names.

    Returns
    -------
    Dataset
        Validated tables. Exact duplicate order rows and orders of customers missing
        from the customers table are dropped and recorded in ``quality``; a missing
        segment or business unit becomes ``Unassigned``, also recorded.
    """
    data_dir = Path(data_dir)
    columns = columns or {}
    if not data_dir.is_dir():
        raise DataError(str(data_dir), "data folder not found")
    tables, files, quality = {}, {}, []
    for name in C.CONTRACT:
        got = read_table(data_dir, name, columns.get(name))
        if got is None:
            continue
        frame, path = got
        tables[name], files[name] = frame, path
        quality.append(QualityNote(name, path.name, len(frame)))
    ds = Dataset(data_dir, tables, files, quality)
    _clean_customers(ds, columns.get(C.CUSTOMERS, {}))
    _clean_orders(ds)
    return ds


def _clean_customers(ds: Dataset, mapping: dict[str, str]) -> None:
    cust = ds.customers
    if cust is None:
        return
    path = ds.files[C.CUSTOMERS]
    _unique_customers(cust, path, mapping.get(C.CUSTOMER_ID, C.CUSTOMER_ID))
    for col in (C.SEGMENT, C.BUSINESS_UNIT):
        empty = cust[col].isna()
        if empty.any():
            cust.loc[empty, col] = C.UNASSIGNED
            ds.quality.append(QualityNote(C.CUSTOMERS, path.name, len(cust), 0,
                                          f"{int(empty.sum())} customers without {col}: "
                                          f"reported as '{C.UNASSIGNED}'"))
    if C.CHURN_DATE in cust:
        early = cust[C.CHURN_DATE].notna() & cust[C.SIGNUP_DATE].notna() & (
            cust[C.CHURN_DATE] < cust[C.SIGNUP_DATE])
        if early.any():
            raise DataError(str(path), "churn dates before the signup date",
                            mapping.get(C.CHURN_DATE, C.CHURN_DATE),
                            values=cust.loc[early, C.CUSTOMER_ID].head(5).tolist(),
                            rows=_row_numbers(path, early))


def _clean_orders(ds: Dataset) -> None:
    orders = ds.orders
    path = ds.files[C.ORDERS]
    dup = orders.duplicated(keep="first")
    if dup.any():
        orders = orders[~dup]
        ds.quality.append(QualityNote(C.ORDERS, path.name, len(dup), int(dup.sum()),
                                      "exact duplicate rows dropped"))
    if ds.customers is not None:
        unknown = ~orders[C.CUSTOMER_ID].isin(ds.customers[C.CUSTOMER_ID])
        if unknown.any():
            ids = orders.loc[unknown, C.CUSTOMER_ID].unique()
            ds.quality.append(QualityNote(
                C.ORDERS, path.name, len(orders), int(unknown.sum()),
                f"orders of {len(ids)} customer ids not in {ds.files[C.CUSTOMERS].name} dropped "
                f"(e.g. {', '.join(map(str, ids[:3]))}; net amount "
                f"{orders.loc[unknown, C.AMOUNT].sum():,.2f})"))
            orders = orders[~unknown]
    ds.tables[C.ORDERS] = orders.reset_index(drop=True)
