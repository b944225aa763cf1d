"""Read a data folder into validated frames that follow the data contract.

Every check of the user's input lives here. A problem raises
:class:`segreport.errors.DataError` naming the file, the column (as the user calls it),
the offending values and their row numbers. Rows that are dropped rather than rejected
are recorded in :attr:`Dataset.quality` so that the report can say what and why.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from segreport import columns as C
from segreport.data.sources import DEFAULT_PASSWORD_ENV, FolderSource, open_source
from segreport.errors import ConfigError, DataError
from segreport.period import Period

SUFFIXES = (".csv", ".parquet")
# Dates outside these years are typing mistakes or placeholders such as 9999-12-31.
FIRST_DATE, END_DATE = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-01-01")


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
    column_names: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per table, contract column → the user's column name, where they differ."""
    unit_rows: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per business unit, the rows its report counts (see :attr:`DatasetInfo.unit_rows`)."""

    def user_column(self, table: str, column: str) -> str:
        """The name the user's file gives a contract column (for messages)."""
        return self.column_names.get(table, {}).get(column, column)

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

    def quality_frame(self, business_unit: str = "") -> pd.DataFrame:
        return self.info().quality_frame(business_unit)

    def quality_for(self, business_unit: str = "") -> list[QualityNote]:
        return self.info().quality_for(business_unit)

    def info(self) -> DatasetInfo:
        """The dataset's :class:`DatasetInfo` (no frames)."""
        segment_values = {}
        if self.customers is not None:
            for col in C.CONTRACT[C.CUSTOMERS].columns:
                if col.kind == "text" and col.name in self.customers:
                    values = self.customers[col.name].fillna(C.UNASSIGNED).astype(str).unique()
                    segment_values[col.name] = sorted(values)
        units = segment_values.get(C.BUSINESS_UNIT, [])
        return DatasetInfo(str(self.data_dir), {k: str(v) for k, v in self.files.items()},
                           {k: [c for c in f.columns] for k, f in self.tables.items()},
                           list(self.quality), dict(self.column_names), segment_values, units,
                           {u: dict(c) for u, c in self.unit_rows.items()})


@dataclass
class DatasetInfo:
    """What a report needs to know of a dataset besides its numbers: where it came from,
    which tables and columns it has, the data-quality notes, and the names of its segments
    and business units. Written beside the KPI panel as JSON; the notebook reads it instead
    of the data.

    ``tables`` maps each table present to its contract columns, so that ``name in
    info.tables`` reads as it does for a :class:`Dataset`.
    """

    data_dir: str
    files: dict[str, str]
    tables: dict[str, list[str]]
    quality: list[QualityNote] = field(default_factory=list)
    column_names: dict[str, dict[str, str]] = field(default_factory=dict)
    segment_values: dict[str, list[str]] = field(default_factory=dict)
    """Per text column of the customers table, its distinct values (empty → Unassigned)."""
    units: list[str] = field(default_factory=list)
    unit_rows: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per business unit, the rows of its own data (see :func:`count_unit_rows`): per table
    the unit's rows (orders and surveys: those of the unit's customers; orders as read,
    exact duplicates included), and ``orders_duplicates``, ``customers_no_segment``,
    ``customers_no_unit``. A table without a ``business_unit`` column other than orders
    and surveys is absent: its rows apply to every unit."""

    @property
    def subscription_mode(self) -> bool:
        return C.CHURN_DATE in self.tables.get(C.CUSTOMERS, [])

    @property
    def segments(self) -> list[str]:
        return self.segment_values.get(C.SEGMENT, [C.UNSEGMENTED])

    def user_column(self, table: str, column: str) -> str:
        return self.column_names.get(table, {}).get(column, column)

    def file_of(self, table: str) -> str:
        return str(self.files.get(table, Path(self.data_dir) / table))

    def quality_for(self, business_unit: str = "") -> list[QualityNote]:
        """The data-quality notes of the report of ``business_unit`` (empty: every unit).

        A unit's notes count only its own rows (:attr:`unit_rows`); orders that belong to
        no customer, and so to no unit, appear only in the report of every unit.
        """
        if not business_unit:
            return list(self.quality)
        return unit_quality_notes(self.quality, self.unit_rows.get(business_unit, {}))

    def quality_frame(self, business_unit: str = "") -> pd.DataFrame:
        return pd.DataFrame([vars(q) for q in self.quality_for(business_unit)],
                            columns=["table", "file", "rows_read", "rows_dropped", "note"])

    def to_json(self) -> dict:
        out = dict(vars(self))
        out["quality"] = [vars(q) for q in self.quality]
        return out

    @classmethod
    def from_json(cls, data: dict) -> "DatasetInfo":
        return cls(**{**data, "quality": [QualityNote(**q) for q in data["quality"]]})


def find_table_file(data_dir: Path, table: str) -> Path | None:
    """The file holding ``table`` in ``data_dir`` (``table.csv`` or ``table.parquet``)."""
    found = [data_dir / f"{table}{s}" for s in SUFFIXES if (data_dir / f"{table}{s}").is_file()]
    if len(found) > 1:
        raise DataError(str(data_dir), f"both {found[0].name} and {found[1].name} exist for "
                        f"table '{table}'", hint="Keep one of them")
    return found[0] if found else None


def _row_numbers(path: Path, mask: pd.Series) -> list[int]:
    """Row numbers as the user sees them (at most 5): the file line in a CSV (header =
    line 1), the 1-based row in a Parquet file.

    ``mask`` is indexed by the row's position in the file (0 = first data row).
    """
    positions = [int(i) for i in mask[mask.fillna(False).astype(bool)].index[:5]]
    if path.suffix != ".csv":
        return [i + 1 for i in positions]
    return _csv_lines(path, positions)


def _csv_lines(path: Path, positions: list[int]) -> list[int]:
    """File line numbers of data rows at ``positions``, counting the lines that pandas
    skips (blank lines) and the extra lines of quoted cells that span lines."""
    found: dict[int, int] = {}
    wanted = set(positions)
    try:
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
            reader = csv.reader(fh, skipinitialspace=True)
            record, start = -2, 1  # -2: before the header; -1: the header; 0: first data row
            for fields in reader:
                line, start = start, reader.line_num + 1
                if len(fields) <= 1 and not "".join(fields).strip():
                    continue  # a blank line: pandas skips it
                record += 1
                if record in wanted:
                    found[record] = line
                    if len(found) == len(wanted):
                        break
    except (OSError, csv.Error):
        pass
    return [found.get(i, i + 2) for i in positions]


def _row_label(path: Path) -> str:
    return "line" if path.suffix == ".csv" else "row"


def _count(n: int, one: str, many: str) -> str:
    """``1 empty id`` / ``3 empty ids``."""
    return f"{n} {one if n == 1 else many}"


def check_csv_header(path: Path) -> list[str]:
    """The column names on a CSV file's first line; a name given twice is refused (a
    reader would otherwise rename one copy and read the other)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh, skipinitialspace=True), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []  # the reader names the problem
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise DataError(str(path), "the header names a column more than once", None,
                        values=twice, hint="keep one column of each name (line 1)")
    return header


def _read_raw(path: Path, wanted: dict[str, str]) -> pd.DataFrame:
    """Read only the wanted user columns; CSV cells as text so we can check them."""
    try:
        if path.suffix == ".csv":
            if path.stat().st_size == 0:
                raise DataError(str(path), "the file is empty (not even a header line)",
                                hint="write the column names on line 1 and one row per line")
            check_csv_header(path)
            header = pd.read_csv(path, nrows=0, skipinitialspace=True).columns
            use = [c for c in header if c in set(wanted.values())]
            # every column read, so that a row with more fields than the header (an
            # unquoted comma) is an error rather than silently shifted
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                                skipinitialspace=True, index_col=False)[use]
        else:
            import pyarrow.parquet as pq

            header = pq.read_schema(path).names
            use = [c for c in header if c in set(wanted.values())]
            frame = pd.read_parquet(path, columns=use)
    except UnicodeDecodeError as exc:
        raise DataError(str(path), f"cannot be read as UTF-8 text ({exc.reason})",
                        hint="save the file as CSV UTF-8") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        kind = "CSV" if path.suffix == ".csv" else "Parquet"
        detail = " ".join(str(exc).split())
        raise DataError(str(path), f"cannot be read as {kind} ({type(exc).__name__}: {detail})",
                        hint=f"check that it is a valid {kind} file") from None
    except Exception as exc:  # pyarrow raises its own error classes
        if type(exc).__module__.startswith("pyarrow"):
            raise DataError(str(path), f"cannot be read as Parquet ({exc})",
                            hint="check that it is a valid Parquet file") from None
        raise
    frame.attrs["header"] = list(header)
    return frame.reset_index(drop=True)


def _parse_dates(text: pd.Series) -> pd.Series:
    """ISO dates (and date-times) to timestamps; NaT where a value does not parse.

    Offsets are dropped, keeping the local date and time, also when they differ between
    rows (summer and winter time)."""
    try:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    except (ValueError, OverflowError):  # e.g. mixed UTC offsets
        offset = r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
        local = text.str.replace(offset, r"\1", regex=True)  # only after a time of day
        parsed = pd.to_datetime(local, format="ISO8601", errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed


def _outside(num: pd.Series, col: C.Column) -> pd.Series:
    """True where a number lies outside the column's documented range."""
    out = pd.Series(False, index=num.index)
    if col.low is not None:
        out |= num < col.low
    if col.high is not None:
        out |= num > col.high
    return out.fillna(False)


NULL_MARKERS = ("nan", "null", "none", "n/a", "na", "#n/a", "nil", "-")
"""Texts that stand for "no value" in exports; never a customer or order id."""


def _coerce(frame: pd.DataFrame, table: C.Table, path: Path, names: dict[str, str]) -> pd.DataFrame:
    """Convert each contract column to its type; reject values that do not convert."""
    out = {}
    file, label = str(path), _row_label(path)
    for col in table.columns:
        if col.name not in frame:
            continue
        s = frame[col.name]
        user = names[col.name]
        missing = s.isna() | (s.astype(str).str.strip() == "")
        if col.kind == "id":
            s = s.astype("string").str.strip()
            if missing.any():
                raise DataError(file, _count(int(missing.sum()), "empty id", "empty ids"), user,
                                rows=_row_numbers(path, missing), row_label=label,
                                hint=f"fill in {user} on every row")
            marker = s.str.lower().isin(NULL_MARKERS).fillna(False)
            if marker.any():
                raise DataError(file, _count(int(marker.sum()), "id that is a missing-value "
                                             "marker", "ids that are missing-value markers"),
                                user, values=s[marker].unique()[:5].tolist(),
                                rows=_row_numbers(path, marker), row_label=label,
                                hint=f"fill in the real {user} on those rows (such rows would "
                                     "otherwise be pooled as one)")
            out[col.name] = s.astype(object)
        elif col.kind == "date":
            if pd.api.types.is_datetime64_any_dtype(s):
                text = s.astype("string")
                parsed = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) else s
            else:
                text = s.astype("string").str.strip()
                parsed = _parse_dates(text)
                bad = parsed.isna() & ~missing
                if bad.any():
                    raise DataError(
                        file, _count(int(bad.sum()), "date that is not an ISO date (YYYY-MM-DD)",
                               "dates that are not ISO dates (YYYY-MM-DD)"),
                        user, values=text[bad].unique()[:5].tolist(),
                        rows=_row_numbers(path, bad), row_label=label,
                        hint="write dates as YYYY-MM-DD, e.g. 2026-07-15")
            far = parsed.notna() & ((parsed < FIRST_DATE) | (parsed >= END_DATE))
            if far.any():
                raise DataError(
                    file, _count(int(far.sum()), "date", "dates")
                    + f" outside the years {FIRST_DATE.year} to {END_DATE.year - 1}",
                    user, values=text[far].unique()[:5].tolist(), rows=_row_numbers(path, far),
                    row_label=label,
                    hint="correct them, or leave the cell empty where there is no date")
            if col.required and col.name != C.SIGNUP_DATE and missing.any():
                raise DataError(file, _count(int(missing.sum()), "empty date", "empty dates"),
                                user, rows=_row_numbers(path, missing), row_label=label,
                                hint=f"fill in {user} on every row")
            out[col.name] = parsed.astype("datetime64[ns]")
        elif col.kind == "number":
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                text = s.astype("string")
                num = s.astype("float64")
                bad = pd.Series(np.isinf(num.to_numpy()), index=s.index)
            else:
                text = s.astype("string").str.strip()
                num = pd.to_numeric(text, errors="coerce").astype("float64")
                bad = (num.isna() & ~missing) | np.isinf(num)
            if bad.any():
                raise DataError(file, _count(int(bad.sum()), "value that is not a number",
                                                   "values that are not numbers"),
                                user, values=text[bad].unique()[:5].tolist(),
                                rows=_row_numbers(path, bad), row_label=label,
                                hint="write plain numbers with a dot for decimals and no "
                                     "thousands separator or currency sign, e.g. 1234.50")
            if col.required and missing.any():
                raise DataError(file, _count(int(missing.sum()), "empty value", "empty values"),
                                user, rows=_row_numbers(path, missing), row_label=label,
                                hint=f"fill in {user} on every row")
            outside = _outside(num, col)
            if outside.any():
                raise DataError(file, _count(int(outside.sum()), "value", "values")
                                + f" outside the column's range ({col.range_text})", user,
                                values=text[outside].unique()[:5].tolist(),
                                rows=_row_numbers(path, outside), row_label=label,
                                hint=f"{user} takes values {col.range_text}; correct those rows")
            out[col.name] = num
        elif col.kind == "period":
            text = s.astype("string").str.strip()
            labels = {}
            for value in text.dropna().unique():
                try:
                    labels[value] = Period.parse(value, where="").label
                except ConfigError:
                    bad = text == value
                    raise DataError(file, "periods that are not quarters (YYYYQn)", user,
                                    values=[value], rows=_row_numbers(path, bad.fillna(False)),
                                    row_label=label,
                                    hint="write quarters as YYYYQn, e.g. 2026Q3") from None
            if missing.any():
                raise DataError(file, _count(int(missing.sum()), "empty period", "empty periods"),
                                user, rows=_row_numbers(path, missing), row_label=label,
                                hint=f"fill in {user} on every row")
            out[col.name] = text.map(labels).astype(object)
        else:  # text
            out[col.name] = s.astype("string").str.strip().astype(object).where(~missing, None)
    return pd.DataFrame(out, index=frame.index)


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
    return _coerce(raw, spec, path, names), path


def _unique_customers(customers: pd.DataFrame, path: Path, user_col: str) -> None:
    dup = customers[C.CUSTOMER_ID].duplicated(keep=False)
    if dup.any():
        ids = customers.loc[dup, C.CUSTOMER_ID].unique()
        raise DataError(str(path), _count(len(ids), "customer id appears", "customer ids appear")
                        + " more than once",
                        user_col, values=ids[:5].tolist(), rows=_row_numbers(path, dup),
                        row_label=_row_label(path),
                        hint="keep one row per customer")


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
    _clean_customers(ds, columns.get(C.CUSTOMERS, {}))
    _clean_orders(ds, columns.get(C.ORDERS, {}), max_unknown_customer_pct)
    ds.unit_rows = _count_unit_rows(ds, orders_read, missing)
    return ds


DUPLICATE_ROWS = "orders_duplicates"
NO_SEGMENT = "customers_no_segment"
NO_UNIT = "customers_no_unit"
"""Keys of :attr:`DatasetInfo.unit_rows` besides the table names."""


def small_unit_rows(small: dict[str, pd.DataFrame], units) -> dict[str, dict[str, int]]:
    """Per unit, the rows of each period table (spend, market size, segmentation costs)
    that has a ``business_unit`` column; a table without one applies to every unit and is
    left out."""
    out: dict[str, dict[str, int]] = {u: {} for u in units}
    for name, frame in small.items():
        if C.BUSINESS_UNIT not in frame:
            continue
        counts = frame[C.BUSINESS_UNIT].dropna().astype(str).value_counts()
        for u, rows in out.items():
            rows[name] = int(counts.get(u, 0))
    return out


def _count_unit_rows(ds: Dataset, orders_read: pd.DataFrame,
                     missing: dict[str, np.ndarray]) -> dict[str, dict[str, int]]:
    """Per business unit, the rows of its own data (:attr:`DatasetInfo.unit_rows`), from
    the tables as read (``orders_read``: before exact duplicates and orders of unknown
    customers were set aside; ``missing``: where segment and business unit were empty)."""
    cust = ds.customers
    if cust is None:
        return {}
    unit = cust[C.BUSINESS_UNIT].astype(str)
    unit_of = pd.Series(unit.to_numpy(), index=cust[C.CUSTOMER_ID].to_numpy())

    def per_unit(ids: pd.Series) -> pd.Series:  # ids of no customer belong to no unit
        return ids.map(unit_of).dropna().value_counts()

    counts = {C.CUSTOMERS: unit.value_counts(),
              NO_SEGMENT: unit[missing[C.SEGMENT]].value_counts(),
              NO_UNIT: unit[missing[C.BUSINESS_UNIT]].value_counts(),
              C.ORDERS: per_unit(orders_read[C.CUSTOMER_ID]),
              DUPLICATE_ROWS: per_unit(orders_read.loc[orders_read.duplicated(keep="first"),
                                                       C.CUSTOMER_ID])}
    if C.SURVEYS in ds.tables:
        counts[C.SURVEYS] = per_unit(ds.tables[C.SURVEYS][C.CUSTOMER_ID])
    units = sorted(unit.unique())
    small = small_unit_rows({k: f for k, f in ds.tables.items()
                             if k not in (C.ORDERS, C.CUSTOMERS, C.SURVEYS)}, units)
    return {u: {k: int(c.get(u, 0)) for k, c in counts.items()} | small[u] for u in units}


def unit_quality_notes(quality: list[QualityNote], rows: dict[str, int]) -> list[QualityNote]:
    """The data-quality notes of one unit's report, from the notes of the whole dataset
    (for the tables and their files) and the unit's ``rows`` (:attr:`DatasetInfo.unit_rows`).

    Each table read counts the unit's rows; a period table without a ``business_unit``
    column keeps its count, saying that its rows apply to every unit. Customers without a
    segment or unit and exact duplicate orders are counted within the unit; orders of no
    customer belong to no unit and are not mentioned."""
    files: dict[str, QualityNote] = {}
    for q in quality:
        files.setdefault(q.table, q)
    notes = []
    for table, first in files.items():
        if table in rows:
            notes.append(QualityNote(table, first.file, rows[table]))
        else:
            notes.append(QualityNote(table, first.file, first.rows_read, 0,
                                     f"no {C.BUSINESS_UNIT} column: its rows apply to every "
                                     "unit"))
    for col, key in ((C.SEGMENT, NO_SEGMENT), (C.BUSINESS_UNIT, NO_UNIT)):
        if rows.get(key):
            notes.append(QualityNote(C.CUSTOMERS, files[C.CUSTOMERS].file,
                                     rows.get(C.CUSTOMERS, 0), 0, unassigned_note(rows[key], col)))
    if rows.get(DUPLICATE_ROWS):
        notes.append(QualityNote(C.ORDERS, files[C.ORDERS].file, rows.get(C.ORDERS, 0),
                                 rows[DUPLICATE_ROWS], DUPLICATES_NOTE))
    return notes


DUPLICATES_NOTE = "exact duplicate rows dropped"
UNKNOWN_CUSTOMERS_PREFIX = "orders of "


def unassigned_note(n: int, column: str) -> str:
    """Data-quality note for customers without a segment or business unit."""
    return f"{n} customers without {column}: reported as '{C.UNASSIGNED}'"


def unknown_customers_note(n_ids: int, examples, net_amount: float, customers_file: str) -> str:
    """Data-quality note for orders whose customer is not in the customers table."""
    return (f"{UNKNOWN_CUSTOMERS_PREFIX}{n_ids} customer ids not in {customers_file} dropped "
            f"(e.g. {', '.join(map(str, examples))}; net amount {net_amount:,.2f})")


def _clean_customers(ds: Dataset, mapping: dict[str, str]) -> None:
    cust = ds.customers
    if cust is None:
        return
    path = ds.files[C.CUSTOMERS]
    _unique_customers(cust, path, mapping.get(C.CUSTOMER_ID, C.CUSTOMER_ID))
    reserved = cust[C.SEGMENT] == C.ALL_SEGMENTS
    if reserved.any():
        raise DataError(str(path), f"segment name '{C.ALL_SEGMENTS}' is reserved for the whole "
                        "unit", mapping.get(C.SEGMENT, C.SEGMENT), values=[C.ALL_SEGMENTS],
                        rows=_row_numbers(path, reserved), row_label=_row_label(path),
                        hint="rename that segment in your file (e.g. 'All customers')")
    for col in (C.SEGMENT, C.BUSINESS_UNIT):
        empty = cust[col].isna()
        if empty.any():
            cust.loc[empty, col] = C.UNASSIGNED
            ds.quality.append(QualityNote(C.CUSTOMERS, path.name, len(cust), 0,
                                          unassigned_note(int(empty.sum()), col)))
    if C.CHURN_DATE in cust:
        early = cust[C.CHURN_DATE].notna() & cust[C.SIGNUP_DATE].notna() & (
            cust[C.CHURN_DATE] < cust[C.SIGNUP_DATE])
        if early.any():
            signup = mapping.get(C.SIGNUP_DATE, C.SIGNUP_DATE)
            raise DataError(str(path), _count(int(early.sum()), "churn date", "churn dates")
                            + f" before the signup date ({signup})",
                            mapping.get(C.CHURN_DATE, C.CHURN_DATE),
                            values=cust.loc[early, C.CUSTOMER_ID].head(5).tolist(),
                            rows=_row_numbers(path, early), row_label=_row_label(path),
                            hint="the values shown are customer ids; a customer cannot churn "
                                 "before signing up")


def check_unknown_share(orders_file: str, column: str, unknown_rows: int, rows: int,
                        examples, customers_file: str, max_pct: float | None) -> None:
    """Stop when more than ``max_pct`` % of the order rows belong to customer ids missing
    from the customers table (``None``: no limit); below it they are set aside."""
    if max_pct is None or rows == 0 or unknown_rows / rows * 100 <= max_pct:
        return
    raise DataError(orders_file, f"{unknown_rows:,} of {rows:,} order rows "
                    f"({unknown_rows / rows * 100:.1f} %) belong to customer ids not in "
                    f"{customers_file}, more than the {max_pct:g} % allowed", column,
                    values=list(examples)[:5],
                    hint="check that both files use the same customer ids and that the "
                         "customers table is complete, or raise max_unknown_customer_pct "
                         "in the params file")


def _clean_orders(ds: Dataset, mapping: dict[str, str] | None = None,
                  max_unknown_customer_pct: float | None = None) -> None:
    orders = ds.orders
    path = ds.files[C.ORDERS]
    dup = orders.duplicated(keep="first")
    if dup.any():
        orders = orders[~dup]
        ds.quality.append(QualityNote(C.ORDERS, path.name, len(dup), int(dup.sum()),
                                      DUPLICATES_NOTE))
    if ds.customers is not None:
        unknown = ~orders[C.CUSTOMER_ID].isin(ds.customers[C.CUSTOMER_ID])
        if unknown.all():
            customers_file = ds.files[C.CUSTOMERS].name
            theirs = ", ".join(map(repr, ds.customers[C.CUSTOMER_ID].head(3)))
            raise DataError(
                str(path), f"none of the customer ids is in {customers_file}",
                (mapping or {}).get(C.CUSTOMER_ID, C.CUSTOMER_ID),
                values=orders[C.CUSTOMER_ID].unique()[:5].tolist(),
                hint=f"ids in {customers_file} look like {theirs}; both files must use the "
                     "same customer ids")
        if unknown.any():
            ids = orders.loc[unknown, C.CUSTOMER_ID].unique()
            check_unknown_share(str(path), (mapping or {}).get(C.CUSTOMER_ID, C.CUSTOMER_ID),
                                int(unknown.sum()), len(orders), ids,
                                ds.files[C.CUSTOMERS].name, max_unknown_customer_pct)
            ds.quality.append(QualityNote(
                C.ORDERS, path.name, len(orders), int(unknown.sum()),
                unknown_customers_note(len(ids), ids[:3], orders.loc[unknown, C.AMOUNT].sum(),
                                       ds.files[C.CUSTOMERS].name)))
            orders = orders[~unknown]
    ds.tables[C.ORDERS] = orders.reset_index(drop=True)
