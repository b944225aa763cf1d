"""User-facing errors.

Each one carries a message that names what is wrong (file, column, offending values or
rows) so that the command line can print it as it is and exit with status 2.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.message import EmailMessage

#: Line breaks and other control characters (C0, DEL, C1, Unicode line/paragraph separators).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class SegreportError(Exception):
    """Base class of every problem the user can fix in their data or parameters."""

    exit_code = 2


class ConfigError(SegreportError):
    """A parameter is missing, unknown or invalid."""


class EngineError(SegreportError):
    """The engine computing the report failed for a reason outside the data and the code:
    it ran out of memory, could not read or write a file, or lost its database
    connection. The message says what failed and what to do."""


class EmailError(SegreportError):
    """A report cannot be e-mailed: its folder is incomplete, or the mail server refused."""


class NotAllSent(EmailError):
    """Some messages were not sent (the server refused them, or the connection was lost);
    the others were. ``failed`` holds (message, reason) pairs. Exit status 1."""

    exit_code = 1

    def __init__(self, message: str, failed: list[tuple[EmailMessage, str]]):
        self.failed = failed
        super().__init__(message)


class DataError(SegreportError):
    """The input data breaks the data contract."""

    def __init__(self, file: str, problem: str, column: str | None = None,
                 values: Iterable[object] | None = None, rows: Iterable[int] | None = None,
                 hint: str | None = None, row_label: str = "row"):
        self.file, self.column, self.problem = file, column, problem
        self.values = list(values) if values is not None else []
        self.rows = list(rows) if rows is not None else []
        parts = [f"{file}"]
        if column:
            parts.append(f"column '{column}'")
        msg = ", ".join(parts) + f": {problem}"
        if self.values:
            msg += f"; offending values: {preview(self.values)}"
        if self.rows:
            # ``row_label`` is "line" for a CSV file (header = line 1), "row" for Parquet.
            label = row_label if len(self.rows) == 1 else f"{row_label}s"
            msg += f" ({label} {preview(self.rows)})"
        if hint:
            msg += f". {hint[:1].upper()}{hint[1:]}"
        super().__init__(msg)


def preview(items: Iterable[object], limit: int = 5) -> str:
    """Render at most ``limit`` items, then how many more there are."""
    items = list(items)
    shown = ", ".join(repr(i) if isinstance(i, str) else str(i) for i in items[:limit])
    if len(items) > limit:
        shown += f", … ({len(items) - limit} more)"
    return shown


def one_line(text: object) -> str:
    """``text`` with every run of line breaks and control characters made one space.

    For values from the data (unit names, periods) that go into an e-mail header or a
    terminal line: a line break there could start a new header or fake a line of output.
    """
    return _CONTROL.sub(" ", str(text))


def clip(text: object, limit: int = 80) -> str:
    """At most ``limit`` characters of ``text``; when cut, say how long it was.

    Examples
    --------
    >>> clip("x" * 100, 5)
    'xxxxx… (100 characters)'
    """
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


class NotebookError(Exception):
    """The notebook failed for a reason that is not the user's data (a bug, not bad input).

    The executed notebook is kept for debugging; ``path`` says where.
    """

    exit_code = 1

    def __init__(self, message: str, path: str | None = None):
        self.path = path
        super().__init__(message + (f"; the executed notebook is kept at {path}" if path else ""))


class PdfEngineMissing(Exception):
    """No Chromium to print the PDF with. Not a ``SegreportError``: the caller decides
    whether a report without its PDF is a failure or only worth a warning."""

    HINT = ("PDF skipped: no Chromium found; install it with `make pdf-deps` "
            "(Debian: apt-get install chromium poppler-utils)")

    def __init__(self, detail: str | None = None):
        self.detail = detail
        super().__init__(self.HINT + (f"; {detail}" if detail else ""))


class PdfError(Exception):
    """Chromium ran but did not produce the PDF (crash, timeout, page not loaded).

    ``stderr`` holds the tail of Chromium's error output; nothing is left at the PDF path.
    """

    def __init__(self, message: str, stderr: str = "", returncode: int | None = None):
        self.stderr, self.returncode = stderr, returncode
        super().__init__(message + (f"\nChromium said:\n{stderr}" if stderr else ""))
