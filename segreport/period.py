"""Reporting periods: calendar quarters written ``YYYYQn``."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from segreport.errors import ConfigError, clip

_QUARTER = re.compile(r"^(\d{4})\s*-?\s*[Qq]([1-4])$")
# The quarter first, e.g. ``Q3-2026`` or ``Q3 2026``: rejected, but the message suggests the fix.
_QUARTER_FIRST = re.compile(r"^[Qq]([1-4])\s*[-/ ]?\s*(\d{4})$")
TRAILING_YEAR_DAYS = 365
"""The trailing year before a period end, ``[end − 365 d, end)``: the window of
``orders_12m``/``revenue_12m``, RFM, behaviour groups and insight penetration."""
# Years a report period can fall in (pandas timestamps stop in 2262).
MIN_YEAR, MAX_YEAR = 1900, 2199


EPOCH_YEAR = 1970
"""Quarter indices count quarters since the first quarter of this year."""


def quarter_number(year: int, quarter: int) -> int:
    """Quarters since 1970Q1: ``(year − 1970) × 4 + quarter − 1`` (1970Q1 → 0)."""
    return (year - EPOCH_YEAR) * 4 + quarter - 1


@dataclass(frozen=True, order=True)
class Period:
    """A calendar quarter, the half-open interval ``[start, end)``.

    Examples
    --------
    >>> p = Period.parse("2026Q3")
    >>> p.start, p.end
    (Timestamp('2026-07-01 00:00:00'), Timestamp('2026-10-01 00:00:00'))
    """

    year: int
    quarter: int

    @classmethod
    def parse(cls, text: object, where: str = "period") -> Period:
        match = _QUARTER.match(str(text).strip()) if text is not None else None
        prefix = f"{where}: " if where else ""
        if not match:
            flipped = _QUARTER_FIRST.match(str(text).strip()) if text is not None else None
            suggestion = (f"; did you mean {flipped.group(2)}Q{flipped.group(1)}?"
                          if flipped else "")
            raise ConfigError(
                f"{prefix}{clip(repr(text))} is not a quarter; write it as YYYYQn, e.g. 2026Q3 "
                f"(n is 1 to 4){suggestion}")
        year = int(match.group(1))
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ConfigError(
                f"{prefix}{clip(repr(text))}: the year must be between {MIN_YEAR} and {MAX_YEAR}")
        return cls(year, int(match.group(2)))

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(year=self.year, month=3 * (self.quarter - 1) + 1, day=1)

    @property
    def end(self) -> pd.Timestamp:
        """First instant after the period (exclusive)."""
        return self.next().start

    @property
    def last_day(self) -> pd.Timestamp:
        return self.end - pd.Timedelta(days=1)

    @property
    def index(self) -> int:
        """Quarters since 1970Q1 (:func:`quarter_number`)."""
        return quarter_number(self.year, self.quarter)

    @classmethod
    def from_index(cls, index: int) -> Period:
        """The quarter ``index`` quarters after 1970Q1 (the inverse of :attr:`index`)."""
        return cls(EPOCH_YEAR + index // 4, index % 4 + 1)

    def shifted(self, quarters: int) -> Period:
        """The quarter ``quarters`` quarters later (earlier when negative).

        >>> Period.parse("2026Q3").shifted(-8).label
        '2024Q3'
        """
        return Period.from_index(self.index + quarters)

    def next(self) -> Period:
        return self.shifted(1)

    def previous(self) -> Period:
        return self.shifted(-1)

    def __str__(self) -> str:
        return self.label
