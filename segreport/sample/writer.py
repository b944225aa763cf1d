"""Streaming one sample table to its file, a block at a time, renamed when complete."""
from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segreport.files import move_into_place, temporary_beside

ROW_GROUP_ROWS = 122_880
"""Rows per Parquet row group: DuckDB's own (pyarrow's default, 1,048,576, made the
1M-order sample one row group, which DuckDB reads on one thread)."""
_CSV_OPTIONS = {"index": False, "date_format": "%Y-%m-%d", "lineterminator": "\n"}


class _TableWriter:
    """One table's file, written a frame at a time as if the frames were one table.

    Parquet rows are collected into row groups of :data:`ROW_GROUP_ROWS` rows across
    frames, so the file has the same row groups (and bytes) as ``DataFrame.to_parquet``
    of all the frames concatenated, with that ``row_group_size``; CSV frames are appended
    after one header. The file is written under a hidden temporary name; :meth:`commit`
    renames it.
    """

    def __init__(self, path: pathlib.Path, fmt: str):
        self.path = path
        self.fmt = fmt
        self.tmp = temporary_beside(path)
        self._handle = None                  # open CSV file
        self._parquet = None                 # pyarrow.parquet.ParquetWriter
        self._pending: list[pa.Table] = []   # Parquet rows not yet in a row group
        self._pending_rows = 0
        self._groups = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.fmt == "csv":
            header = self._handle is None
            if header:
                self._handle = open(self.tmp, "w", encoding="utf-8", newline="")
            frame.to_csv(self._handle, header=header, **_CSV_OPTIONS)
            return
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.tmp, table.schema, compression="snappy")
        self._pending.append(table)
        self._pending_rows += table.num_rows
        if self._pending_rows >= ROW_GROUP_ROWS:
            while self._pending_rows >= ROW_GROUP_ROWS:
                self._write_group(ROW_GROUP_ROWS)
            # keep a copy of the rest, not the whole frame it is a slice of
            rest = pa.concat_tables(self._pending)
            self._pending = [rest.take(np.arange(rest.num_rows))]

    def _write_group(self, rows: int) -> None:
        """Write the first ``rows`` pending rows as one row group."""
        pieces, taken = [], 0
        while taken < rows:
            head = self._pending[0]
            take = min(rows - taken, head.num_rows)
            pieces.append(head.slice(0, take))
            taken += take
            if take == head.num_rows:
                self._pending.pop(0)
            else:
                self._pending[0] = head.slice(take)
        if not pieces:                                     # no rows at all
            pieces = [self._pending[0].slice(0, 0)]
        group = pa.concat_tables(pieces).combine_chunks()
        self._parquet.write_table(group, row_group_size=ROW_GROUP_ROWS)
        self._pending_rows -= rows
        self._groups += 1

    def close(self) -> None:
        """Finish the temporary file."""
        if self._handle is not None:
            self._handle.close()
        if self._parquet is not None:
            if self._pending_rows or not self._groups:     # the last (or only, empty) group
                self._write_group(self._pending_rows)
            self._parquet.close()

    def discard(self) -> None:
        """Close and delete the temporary file (after an error)."""
        try:
            if self._handle is not None:
                self._handle.close()
            if self._parquet is not None:
                self._parquet.close()
        finally:
            self.tmp.unlink(missing_ok=True)

    def commit(self) -> None:
        """Move the finished file to its name."""
        move_into_place(self.tmp, self.path)
