"""The optional input tables of the value KPIs (``marketing_spend``, ``market_size``,
``segmentation_costs``): which KPIs lack one, a table's rows for a period and business
unit, their sums per segment, and the rows of the KPIs a table feeds.
"""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from segreport import columns as C
from segreport.kpis.frame import to_frame
from segreport.kpis.ids import SEGMENTATION_EFFICIENCY, VALUE_KPIS
from segreport.kpis.spec import missing_inputs as spec_missing_inputs
from segreport.kpis.value.rows import empty_row, join_notes


def missing_inputs(tables_present: Iterable[str]) -> dict[str, str]:
    """Which value KPIs cannot be computed for lack of a table, and what would enable each.

    Parameters
    ----------
    tables_present
        Names of the optional tables that were supplied (a dict of tables works too; a
        name mapped to ``None`` counts as absent).

    Returns
    -------
    ``{kpi: "cac needs marketing_spend (period, segment, acquisition_spend)", ...}`` for
    every KPI whose table is absent (the tables of its spec's ``inputs``); empty when all
    are present. CLV and CLV growth need only the orders (and, for growth, the previous
    period's facts), so never appear.
    """
    return spec_missing_inputs(tables_present, VALUE_KPIS)


def period_rows(table: pd.DataFrame, name: str, period: str,
                business_unit: str = "") -> tuple[pd.DataFrame, str]:
    """The rows of an input table for one period and business unit.

    Parameters
    ----------
    table
        A validated input table with a ``period`` column (labels ``YYYYQn``).
    name
        The table's name, for notes.
    period
        The period label, e.g. ``"2026Q3"``.
    business_unit
        ``""``: rows of every unit (the caller sums them). A unit: the rows of that unit
        when the table has a ``business_unit`` column, else every row of the period.

    Returns
    -------
    ``(rows, note)``: ``note`` is ``""``, or says that the table has no ``business_unit``
    column and all its rows were used.
    """
    rows = table[table[C.PERIOD].astype(str) == period]
    if not business_unit:
        return rows, ""
    if C.BUSINESS_UNIT in table.columns:
        return rows[rows[C.BUSINESS_UNIT].astype(str) == business_unit], ""
    return rows, (f"{name} has no {C.BUSINESS_UNIT} column: all its rows for {period} were "
                  f"used for business unit {business_unit!r}")


def _no_rows_note(name: str, period: str, business_unit: str, table: pd.DataFrame) -> str:
    unit = (f" and business unit {business_unit!r}"
            if business_unit and C.BUSINESS_UNIT in table.columns else "")
    return f"not defined: {name} has no rows for period {period}{unit}"


def segment_sums(rows: pd.DataFrame, column: str) -> pd.Series:
    """``column`` summed per segment over the rows (units summed), plus ``All`` = all rows."""
    sums = rows.groupby(C.SEGMENT)[column].sum().astype("float64")
    sums[C.ALL_SEGMENTS] = float(rows[column].sum())
    return sums


def uncovered_note(name: str, period: str, segments: Iterable[str],
                    sums: pd.Series) -> str:
    """A note for ``All`` naming the facts' segments that have no row in the table."""
    absent = [s for s in segments if s not in sums.index]
    if not absent:
        return ""
    return f"{name} has no row for segment(s) {', '.join(absent)} in {period}"


def table_kpis(kpis: tuple[str, ...], table: pd.DataFrame | None, name: str, period: str,
                business_unit: str, segments: list[str], build) -> pd.DataFrame:
    """Rows of table-fed KPIs: none without the table, empty rows without period rows,
    else ``build(rows) -> list[dict]``; the unit note (if any) is added to every row."""
    if table is None:
        return to_frame([])
    rows, unit_note = period_rows(table, name, period, business_unit)
    if rows.empty:
        note = join_notes(_no_rows_note(name, period, business_unit, table), unit_note)
        out = [empty_row(k, s, note) for k in kpis
               for s in ([C.ALL_SEGMENTS] if k == SEGMENTATION_EFFICIENCY else segments)]
        return to_frame(out)
    out = list(build(rows))
    for r in out:
        r[C.NOTE] = join_notes(r[C.NOTE], unit_note)
    return to_frame(out)
