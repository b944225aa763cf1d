"""How numbers are written in the report, its charts, the index and the e-mail: one place."""
from __future__ import annotations

import math

MISSING = "—"


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_money(value: float) -> str:
    """Compact currency-free amount: 1,234 → 1.2k, 3,400,000 → 3.4M."""
    if is_missing(value):
        return "n/a"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.1f}{suffix}"
    return f"{value:,.0f}"


def _shown(value: float, decimals: int) -> float:
    """``value`` rounded as it will be shown, without a negative zero ("-0.0%")."""
    return round(value, decimals) + 0.0


def format_value(value: float, unit: str, compact: bool = False, signed: bool = False) -> str:
    """A KPI value in its unit: ``12.3%``, ``1,234``, ``+4.5`` (points), ``3.9 mo``;
    ``—`` when it is not defined. ``compact`` writes amounts as ``1.2k`` (for charts);
    ``signed`` writes a percentage change with its sign (``+3.3%``)."""
    if is_missing(value):
        return MISSING
    if unit == "%":
        return f"{_shown(value, 1):{'+' if signed else ''}.1f}%"
    if compact and unit.startswith("currency"):
        return format_money(value)
    if unit in ("customers", "orders", "currency", "segments"):
        return f"{_shown(value, 0):,.0f}"
    if unit == "points":
        return f"{_shown(value, 1):+.1f}"
    if unit == "months":
        return f"{_shown(value, 1):.1f} mo"
    if unit.startswith("index"):
        return f"{_shown(value, 1):.1f}"
    return f"{_shown(value, 2):,.2f}"


def format_change(value: float, unit: str) -> str:
    """A change of a KPI, signed, in the KPI's own unit: percentage points for rates and
    points for scores (``+1.2 pts``), ``+1,234`` for counts, compact amounts from 10,000
    (``+417.1k``), ``+0.2 mo``; ``—`` when it is not defined.

    Examples
    --------
    >>> format_change(94.4 - 94.2, "%"), format_change(-1234.0, "customers")
    ('+0.2 pts', '-1,234')
    >>> format_change(417149.0, "currency"), format_change(1.43, "currency per order")
    ('+417.1k', '+1.43')
    """
    if is_missing(value):
        return MISSING
    if unit in ("%", "points"):
        return f"{_shown(value, 1):+.1f} pts"
    if unit.startswith("currency") and abs(value) >= 1e4:
        return ("+" if value >= 0 else "-") + format_money(abs(value))
    if unit in ("customers", "orders", "currency", "segments"):
        return f"{_shown(value, 0):+,.0f}"
    if unit == "months":
        return f"{_shown(value, 1):+.1f} mo"
    if unit.startswith("index"):
        return f"{_shown(value, 1):+.1f}"
    return f"{_shown(value, 2):+,.2f}"
