"""A folder's table files: which file holds a table, reading its raw columns, and row
numbers as the user sees them (file lines of a CSV, rows of a Parquet file)."""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from segreport.errors import DataError

SUFFIXES = (".csv", ".parquet")


def find_table_file(data_dir: Path, table: str) -> Path | None:
    """The file holding ``table`` in ``data_dir`` (``table.csv`` or ``table.parquet``)."""
    found = [data_dir / f"{table}{s}" for s in SUFFIXES if (data_dir / f"{table}{s}").is_file()]
    if len(found) > 1:
        raise DataError(str(data_dir), f"both {found[0].name} and {found[1].name} exist for "
                        f"table '{table}'", hint="Keep one of them")
    return found[0] if found else None


def row_numbers(path: Path, mask: pd.Series) -> list[int]:
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


def row_label(path: Path) -> str:
    return "line" if path.suffix == ".csv" else "row"


def count_of(n: int, one: str, many: str) -> str:
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


def read_raw(path: Path, wanted: dict[str, str]) -> pd.DataFrame:
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
