"""Typing one raw table by the data contract; a value that does not fit raises a
:class:`~segreport.errors.DataError` naming the column, the values and their rows."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from segreport import columns as C
from segreport.data.table_files import count_of, row_label, row_numbers
from segreport.errors import ConfigError, DataError
from segreport.period import Period

# Dates outside these years are typing mistakes or placeholders such as 9999-12-31.
FIRST_DATE, END_DATE = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-01-01")


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


def coerce_table(frame: pd.DataFrame, table: C.Table, path: Path,
                 names: dict[str, str]) -> pd.DataFrame:
    """Convert each contract column to its type; reject values that do not convert."""
    out = {}
    file, label = str(path), row_label(path)
    for col in table.columns:
        if col.name not in frame:
            continue
        s = frame[col.name]
        user = names[col.name]
        missing = s.isna() | (s.astype(str).str.strip() == "")
        if col.kind == "id":
            s = s.astype("string").str.strip()
            if missing.any():
                raise DataError(file, count_of(int(missing.sum()), "empty id", "empty ids"), user,
                                rows=row_numbers(path, missing), row_label=label,
                                hint=f"fill in {user} on every row")
            marker = s.str.lower().isin(NULL_MARKERS).fillna(False)
            if marker.any():
                raise DataError(file, count_of(int(marker.sum()), "id that is a missing-value "
                                             "marker", "ids that are missing-value markers"),
                                user, values=s[marker].unique()[:5].tolist(),
                                rows=row_numbers(path, marker), row_label=label,
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
                        file, count_of(int(bad.sum()), "date that is not an ISO date (YYYY-MM-DD)",
                               "dates that are not ISO dates (YYYY-MM-DD)"),
                        user, values=text[bad].unique()[:5].tolist(),
                        rows=row_numbers(path, bad), row_label=label,
                        hint="write dates as YYYY-MM-DD, e.g. 2026-07-15")
            far = parsed.notna() & ((parsed < FIRST_DATE) | (parsed >= END_DATE))
            if far.any():
                raise DataError(
                    file, count_of(int(far.sum()), "date", "dates")
                    + f" outside the years {FIRST_DATE.year} to {END_DATE.year - 1}",
                    user, values=text[far].unique()[:5].tolist(), rows=row_numbers(path, far),
                    row_label=label,
                    hint="correct them, or leave the cell empty where there is no date")
            if col.required and col.name != C.SIGNUP_DATE and missing.any():
                raise DataError(file, count_of(int(missing.sum()), "empty date", "empty dates"),
                                user, rows=row_numbers(path, missing), row_label=label,
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
                raise DataError(file, count_of(int(bad.sum()), "value that is not a number",
                                                   "values that are not numbers"),
                                user, values=text[bad].unique()[:5].tolist(),
                                rows=row_numbers(path, bad), row_label=label,
                                hint="write plain numbers with a dot for decimals and no "
                                     "thousands separator or currency sign, e.g. 1234.50")
            if col.required and missing.any():
                raise DataError(file, count_of(int(missing.sum()), "empty value", "empty values"),
                                user, rows=row_numbers(path, missing), row_label=label,
                                hint=f"fill in {user} on every row")
            outside = _outside(num, col)
            if outside.any():
                raise DataError(file, count_of(int(outside.sum()), "value", "values")
                                + f" outside the column's range ({col.range_text})", user,
                                values=text[outside].unique()[:5].tolist(),
                                rows=row_numbers(path, outside), row_label=label,
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
                                    values=[value], rows=row_numbers(path, bad.fillna(False)),
                                    row_label=label,
                                    hint="write quarters as YYYYQn, e.g. 2026Q3") from None
            if missing.any():
                raise DataError(file, count_of(int(missing.sum()), "empty period", "empty periods"),
                                user, rows=row_numbers(path, missing), row_label=label,
                                hint=f"fill in {user} on every row")
            out[col.name] = text.map(labels).astype(object)
        else:  # text
            out[col.name] = s.astype("string").str.strip().astype(object).where(~missing, None)
    return pd.DataFrame(out, index=frame.index)
