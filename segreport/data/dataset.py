"""A data set read and checked: its tables, where they came from, and the data-quality
notes on what was dropped, overall and per business unit."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from segreport import columns as C


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


def count_unit_rows(ds: Dataset, orders_read: pd.DataFrame,
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
