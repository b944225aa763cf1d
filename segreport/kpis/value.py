"""Value and cost KPIs: historical CLV and its growth, CAC and its payback, retention cost,
market share and segmentation efficiency.

Notation for one segment (or ``All``, the whole unit) and the period ``P = [start, end)``,
as in :mod:`segreport.kpis.base`: ``S`` customers active at the start, ``E`` active at the
end, ``N`` acquired within ``P``; ``S ∩ E`` are the *retained* customers and ``S ∖ E`` the
*churned* ones. ``All`` is computed from all customers exactly as a segment is, never as a
sum of segment values; its spend, market size and cost are the sums over every row of the
period (and unit) in the input table.

Gross margin of a customer in ``P`` is the facts' ``margin`` (the sum of the orders' margin
column); when the orders have no margin column it is estimated as
``revenue × gross_margin_pct / 100``. Every row that uses gross margin says which in its
``note``.

Input tables (already validated, contract names, see :mod:`segreport.columns`):
``marketing_spend`` (period, segment, acquisition_spend, retention_spend[, business_unit]),
``market_size`` (period, segment, market_customers[, business_unit]) and
``segmentation_costs`` (period, cost[, business_unit]). A KPI whose table is absent is
absent from the output (:func:`missing_inputs` says what would enable it); a table without
rows for the period gives the KPI an empty value and a note.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

from segreport import columns as C
from segreport.kpis.base import segment_totals
from segreport.kpis.frame import kpi_row, ratio_row, to_frame

# --- KPI ids ---------------------------------------------------------------------------
from segreport.kpis.ids import (  # noqa: E402
    CAC,
    CAC_PAYBACK_MONTHS,
    CLV,
    CLV_GROWTH,
    MARKET_SHARE,
    RETENTION_COST,
    SEGMENTATION_EFFICIENCY,
    VALUE_KPIS,
)
from segreport.kpis.spec import missing_inputs as spec_missing_inputs
from segreport.kpis.spec import units
from segreport.kpis.stats import is_small
from segreport.period import Period

# --- units -----------------------------------------------------------------------------
UNITS = units(VALUE_KPIS)
"""The unit of each value KPI, as written in the ``unit`` column (from its spec)."""

MONTHS_PER_PERIOD = 3
"""A reporting period is a calendar quarter: three months."""

def _empty(kpi: str, segment: str, note: str, numerator: float = math.nan,
           denominator: float = math.nan) -> dict:
    return kpi_row(kpi, segment, math.nan, UNITS[kpi], numerator, denominator, note=note,
                   defined=False)


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


# --- inputs ----------------------------------------------------------------------------
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


def _segment_sums(rows: pd.DataFrame, column: str) -> pd.Series:
    """``column`` summed per segment over the rows (units summed), plus ``All`` = all rows."""
    sums = rows.groupby(C.SEGMENT)[column].sum().astype("float64")
    sums[C.ALL_SEGMENTS] = float(rows[column].sum())
    return sums


def _uncovered_note(name: str, period: str, segments: Iterable[str],
                    sums: pd.Series) -> str:
    """A note for ``All`` naming the facts' segments that have no row in the table."""
    absent = [s for s in segments if s not in sums.index]
    if not absent:
        return ""
    return f"{name} has no row for segment(s) {', '.join(absent)} in {period}"


# --- facts aggregates ------------------------------------------------------------------
def gross_margin(facts: pd.DataFrame, gross_margin_pct: float = 30.0) -> tuple[pd.Series, str]:
    """Gross margin per customer in the period (currency), and a note saying its source.

    The facts' ``margin`` when it is known; where it is NaN (the orders have no margin
    column) ``revenue × gross_margin_pct / 100``.
    """
    margin = facts[C.MARGIN_SUM].astype("float64")
    estimate = facts[C.REVENUE].astype("float64") * gross_margin_pct / 100
    unknown = margin.isna()
    if not unknown.any():
        return margin, gross_margin_note(True, gross_margin_pct)
    if unknown.all():
        return estimate, gross_margin_note(False, gross_margin_pct)
    return (margin.where(~unknown, estimate),
            f"gross margin from the orders' margin column, {_estimated(gross_margin_pct)} for "
            f"{int(unknown.sum())} customer(s) without one")


def _estimated(gross_margin_pct: float) -> str:
    return f"gross margin estimated as revenue × {gross_margin_pct:g}%"


def gross_margin_note(from_column: bool, gross_margin_pct: float = 30.0) -> str:
    """Where the gross margin came from: the orders' margin column, or an estimate."""
    if from_column:
        return "gross margin from the orders' margin column"
    return f"{_estimated(gross_margin_pct)} (the orders have no margin column)"


def value_totals(facts: pd.DataFrame, gross_margin_pct: float = 30.0) -> tuple[pd.DataFrame, str]:
    """Counts and gross margins per segment, plus a last row ``All`` over every customer.

    Returns
    -------
    ``(totals, margin_note)``: ``totals`` is indexed by segment with the columns of
    :func:`segreport.kpis.base.segment_totals` (``start`` |S|, ``end`` |E|, ``kept``
    |S ∩ E|, ``new`` |N|, ...) plus ``margin`` (gross margin of all the segment's customers
    in the period) and ``new_margin`` (gross margin of its new customers), in currency;
    ``margin_note`` says where the gross margin came from (see :func:`gross_margin`).
    """
    totals = segment_totals(facts)
    margin, note = gross_margin(facts, gross_margin_pct)
    new = facts[C.ACQUIRED_IN_PERIOD].astype(bool)
    by_segment = margin.groupby(facts[C.SEGMENT]).sum()
    new_by_segment = margin[new].groupby(facts.loc[new, C.SEGMENT]).sum()
    totals["margin"] = by_segment.reindex(totals.index, fill_value=0.0).astype("float64")
    totals["new_margin"] = new_by_segment.reindex(totals.index, fill_value=0.0).astype("float64")
    totals.loc[C.ALL_SEGMENTS, "margin"] = float(margin.sum())
    totals.loc[C.ALL_SEGMENTS, "new_margin"] = float(margin[new].sum())
    return totals, note


# --- one function per KPI --------------------------------------------------------------
def clv_row(segment: str, margin: float, start: int, end: int, kept: int,
            margin_note: str = "") -> dict:
    """Historical customer lifetime value of one segment.

    ``CLV = (M / |E|) / c`` in currency, where

    * ``M`` is the gross margin of all the segment's customers in the period (currency);
    * ``|E|``, the customers active at the period end, stands for "active customers": the
      average gross margin per active customer per period is ``M / |E|``;
    * ``c = |S ∖ E| / |S|`` is the churn rate per period, as a fraction (not %).

    With a constant churn rate a customer stays ``1 / c`` periods on average, so CLV is the
    average margin of a period times the expected lifetime in periods. ``numerator`` holds
    ``M / |E|`` and ``denominator`` ``c``. Empty with a note when ``|S| = 0``, ``|E| = 0``
    or nobody churned (``c = 0``: the lifetime is unbounded). ``small_sample`` when
    ``|S| < 30`` (the churn rate rests on few customers).
    """
    if start == 0:
        return _empty(CLV, segment,
                      _join("not defined: no customers were active at the period start",
                            margin_note))
    churn = (start - kept) / start
    if end == 0:
        return _empty(CLV, segment,
                      _join("not defined: no customers were active at the period end",
                            margin_note), denominator=churn)
    per_customer = margin / end
    if churn == 0:
        return _empty(CLV, segment,
                      _join("not defined: no customer churned in the period (churn rate 0), "
                            "so the expected lifetime is unbounded", margin_note),
                      numerator=per_customer, denominator=churn)
    return kpi_row(CLV, segment, per_customer / churn, UNITS[CLV], per_customer, churn,
                   note=margin_note, small_sample=is_small(start))


def clv_growth_row(segment: str, clv: float, previous_clv: float, *,
                   small_sample: bool = False) -> dict:
    """CLV growth of one segment: ``(CLV − CLV_prev) / CLV_prev × 100`` (%).

    ``numerator`` holds ``CLV − CLV_prev`` and ``denominator`` ``CLV_prev`` (currency).
    Empty with a note when either CLV is empty or the previous one is 0.
    """
    if pd.isna(previous_clv):
        return _empty(CLV_GROWTH, segment, "not defined: the previous period's CLV is empty")
    if pd.isna(clv):
        return _empty(CLV_GROWTH, segment, "not defined: this period's CLV is empty",
                      denominator=previous_clv)
    row = ratio_row(CLV_GROWTH, segment, clv - previous_clv, previous_clv,
                    unit=UNITS[CLV_GROWTH], when_zero="the previous period's CLV is 0")
    row[C.SMALL_SAMPLE] = bool(small_sample) and not pd.isna(row[C.VALUE])
    return row


def cac_row(segment: str, acquisition_spend: float, new: int) -> dict:
    """Customer acquisition cost: ``acquisition spend / |N|`` (currency per new customer).

    Empty with a note when the segment acquired no customer in the period.
    """
    return ratio_row(CAC, segment, acquisition_spend, new, unit=UNITS[CAC],
                     scale=1.0, when_zero="no new customers in the period")


def cac_payback_row(segment: str, acquisition_spend: float, new: int, new_margin: float,
                    margin_note: str = "") -> dict:
    """CAC payback period in months: ``CAC / m``.

    ``m = (G_N / |N|) / 3`` is the average monthly gross margin of a new customer, with
    ``G_N`` the gross margin of the period's new customers in the period (currency) and
    3 the months in a quarter; ``CAC = acquisition spend / |N|``. ``numerator`` holds CAC
    and ``denominator`` ``m``. Empty with a note when ``|N| = 0`` or ``m ≤ 0`` (the spend
    is never paid back at that margin).
    """
    if new == 0:
        return _empty(CAC_PAYBACK_MONTHS, segment,
                      _join("not defined: no new customers in the period", margin_note))
    cac = acquisition_spend / new
    monthly = new_margin / new / MONTHS_PER_PERIOD
    if monthly <= 0:
        return _empty(CAC_PAYBACK_MONTHS, segment,
                      _join("not defined: the new customers' gross margin in the period is "
                            "not positive, so the acquisition spend is not paid back",
                            margin_note), numerator=cac, denominator=monthly)
    return kpi_row(CAC_PAYBACK_MONTHS, segment, cac / monthly, UNITS[CAC_PAYBACK_MONTHS], cac,
                   monthly, note=margin_note)


def retention_cost_row(segment: str, retention_spend: float, kept: int) -> dict:
    """Retention cost: ``retention spend / |S ∩ E|`` (currency per retained customer).

    Empty with a note when no customer active at the start was still active at the end.
    """
    return ratio_row(RETENTION_COST, segment, retention_spend, kept,
                     unit=UNITS[RETENTION_COST], scale=1.0,
                     when_zero="no retained customers (active at both start and end)")


def market_share_row(segment: str, end: int, market_customers: float) -> dict:
    """Market share: ``|E| / market customers × 100`` (%).

    ``market_customers`` is the size of the segment's market (customers, ours included).
    A census, not a sample: no confidence interval. Empty with a note when the market size
    is 0; a note when the share exceeds 100 % (the market size is understated).
    """
    row = ratio_row(MARKET_SHARE, segment, end, market_customers, unit=UNITS[MARKET_SHARE],
                    when_zero="the market size is 0")
    if row[C.VALUE] > 100:
        row[C.NOTE] = ("more active customers than the market size: check market_size "
                       f"({C.MARKET_CUSTOMERS})")
    return row


def segmentation_efficiency_row(cost: float, segments: int) -> dict:
    """Segmentation efficiency: ``segmentation cost / number of segments`` (currency per
    segment, lower is better), one row for ``All``.

    The segments counted are those with at least one customer in the facts. Empty with a
    note when there is none.
    """
    return ratio_row(SEGMENTATION_EFFICIENCY, C.ALL_SEGMENTS, cost, segments,
                     unit=UNITS[SEGMENTATION_EFFICIENCY], scale=1.0, when_zero="no segments")


# --- families --------------------------------------------------------------------------
def clv_kpis(facts: pd.DataFrame, gross_margin_pct: float = 30.0) -> pd.DataFrame:
    """Historical CLV (:func:`clv_row`) per segment and for ``All``."""
    return clv_kpis_from_totals(*value_totals(facts, gross_margin_pct))


def clv_kpis_from_totals(totals: pd.DataFrame, margin_note: str = "") -> pd.DataFrame:
    """Historical CLV per row of :func:`value_totals`' ``totals``."""
    return to_frame([clv_row(s, t["margin"], t["start"], t["end"], t["kept"], margin_note)
                     for s, t in totals.iterrows()])


def clv_growth_kpis(facts: pd.DataFrame, prev_facts: pd.DataFrame | None,
                    gross_margin_pct: float = 30.0) -> pd.DataFrame:
    """CLV growth (:func:`clv_growth_row`) per segment of ``facts`` and for ``All``.

    Both CLVs use the same ``gross_margin_pct``. Without ``prev_facts`` every row is empty
    with a note. A segment absent from ``prev_facts`` has an empty previous CLV.
    """
    return clv_growth_from_clv(
        clv_kpis(facts, gross_margin_pct),
        None if prev_facts is None else clv_kpis(prev_facts, gross_margin_pct))


def clv_growth_from_clv(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """CLV growth per segment of ``current`` (the CLV rows of the period) against
    ``previous`` (those of the previous period, ``None`` when unknown)."""
    current = current.set_index(C.SEGMENT)
    if previous is None:
        return to_frame([_empty(CLV_GROWTH, s, "not defined: no facts for the previous period")
                         for s in current.index])
    previous = previous.set_index(C.SEGMENT)
    rows = []
    for segment, now in current.iterrows():
        before = previous[C.VALUE].get(segment, math.nan)
        small = bool(now[C.SMALL_SAMPLE]) or bool(previous[C.SMALL_SAMPLE].get(segment, False))
        rows.append(clv_growth_row(segment, now[C.VALUE], before, small_sample=small))
    return to_frame(rows)


def _table_kpis(kpis: tuple[str, ...], table: pd.DataFrame | None, name: str, period: str,
                business_unit: str, segments: list[str], build) -> pd.DataFrame:
    """Rows of table-fed KPIs: none without the table, empty rows without period rows,
    else ``build(rows) -> list[dict]``; the unit note (if any) is added to every row."""
    if table is None:
        return to_frame([])
    rows, unit_note = period_rows(table, name, period, business_unit)
    if rows.empty:
        note = _join(_no_rows_note(name, period, business_unit, table), unit_note)
        out = [_empty(k, s, note) for k in kpis
               for s in ([C.ALL_SEGMENTS] if k == SEGMENTATION_EFFICIENCY else segments)]
        return to_frame(out)
    out = list(build(rows))
    for r in out:
        r[C.NOTE] = _join(r[C.NOTE], unit_note)
    return to_frame(out)


def spend_kpis(facts: pd.DataFrame, marketing_spend: pd.DataFrame | None, period: str,
               business_unit: str = "", gross_margin_pct: float = 30.0) -> pd.DataFrame:
    """CAC, CAC payback (months) and retention cost per segment and for ``All``.

    Spend per segment is the sum of the period's rows of ``marketing_spend`` for that
    segment (over every unit when ``business_unit`` is ``""``); ``All`` spends the sum of
    all those rows. A segment of the facts without a row has empty values and a note.
    Empty frame when ``marketing_spend`` is ``None``.
    """
    return spend_kpis_from_totals(*value_totals(facts, gross_margin_pct), marketing_spend,
                                  period, business_unit)


def spend_kpis_from_totals(totals: pd.DataFrame, margin_note: str,
                           marketing_spend: pd.DataFrame | None, period: str,
                           business_unit: str = "") -> pd.DataFrame:
    """:func:`spend_kpis` from :func:`value_totals`' ``totals`` and margin note."""
    segments = list(totals.index)
    real_segments = [s for s in segments if s != C.ALL_SEGMENTS]

    def build(rows: pd.DataFrame) -> list[dict]:
        acquisition = _segment_sums(rows, C.ACQUISITION_SPEND)
        retention = _segment_sums(rows, C.RETENTION_SPEND)
        uncovered = _uncovered_note(C.MARKETING_SPEND, period, real_segments, acquisition)
        out = []
        for segment, t in totals.iterrows():
            if segment not in acquisition.index:
                note = (f"not defined: {C.MARKETING_SPEND} has no row for segment "
                        f"{segment!r} in {period}")
                out += [_empty(CAC, segment, note),
                        _empty(CAC_PAYBACK_MONTHS, segment, note),
                        _empty(RETENTION_COST, segment, note)]
                continue
            extra = uncovered if segment == C.ALL_SEGMENTS else ""
            rows_ = [cac_row(segment, acquisition[segment], t["new"]),
                     cac_payback_row(segment, acquisition[segment], t["new"], t["new_margin"],
                                     margin_note),
                     retention_cost_row(segment, retention[segment], t["kept"])]
            for r in rows_:
                r[C.NOTE] = _join(r[C.NOTE], extra)
            out += rows_
        return out

    return _table_kpis((CAC, CAC_PAYBACK_MONTHS, RETENTION_COST), marketing_spend,
                       C.MARKETING_SPEND, period, business_unit, segments, build)


def market_share_kpis(facts: pd.DataFrame, market_size: pd.DataFrame | None, period: str,
                      business_unit: str = "") -> pd.DataFrame:
    """Market share per segment and for ``All`` (whose market is the sum of every row of the
    period). Empty frame when ``market_size`` is ``None``."""
    return market_share_from_totals(segment_totals(facts), market_size, period, business_unit)


def market_share_from_totals(totals: pd.DataFrame, market_size: pd.DataFrame | None,
                             period: str, business_unit: str = "") -> pd.DataFrame:
    """:func:`market_share_kpis` from :func:`segreport.kpis.base.segment_totals`."""
    segments = list(totals.index)
    real_segments = [s for s in segments if s != C.ALL_SEGMENTS]

    def build(rows: pd.DataFrame) -> list[dict]:
        market = _segment_sums(rows, C.MARKET_CUSTOMERS)
        uncovered = _uncovered_note(C.MARKET_SIZE, period, real_segments, market)
        out = []
        for segment, t in totals.iterrows():
            if segment not in market.index:
                out.append(_empty(MARKET_SHARE, segment,
                                  f"not defined: {C.MARKET_SIZE} has no row for segment "
                                  f"{segment!r} in {period}"))
                continue
            row = market_share_row(segment, t["end"], market[segment])
            if segment == C.ALL_SEGMENTS and uncovered:
                row[C.NOTE] = _join(row[C.NOTE], uncovered + ": the total market is understated")
            out.append(row)
        return out

    return _table_kpis((MARKET_SHARE,), market_size, C.MARKET_SIZE, period, business_unit,
                       segments, build)


def segmentation_efficiency_kpis(facts: pd.DataFrame, segmentation_costs: pd.DataFrame | None,
                                 period: str, business_unit: str = "") -> pd.DataFrame:
    """Segmentation efficiency (:func:`segmentation_efficiency_row`), one ``All`` row; cost
    is the sum of the period's rows. Empty frame when ``segmentation_costs`` is ``None``."""
    return segmentation_efficiency_from_count(int(facts[C.SEGMENT].nunique()),
                                              segmentation_costs, period, business_unit)


def segmentation_efficiency_from_count(n_segments: int, segmentation_costs: pd.DataFrame | None,
                                       period: str, business_unit: str = "") -> pd.DataFrame:
    """:func:`segmentation_efficiency_kpis` for ``n_segments`` segments with a customer."""

    def build(rows: pd.DataFrame) -> list[dict]:
        return [segmentation_efficiency_row(float(rows[C.COST].sum()), n_segments)]

    return _table_kpis((SEGMENTATION_EFFICIENCY,), segmentation_costs, C.SEGMENTATION_COSTS,
                       period, business_unit, [C.ALL_SEGMENTS], build)


def value_kpis(facts: pd.DataFrame, prev_facts: pd.DataFrame | None,
               tables: Mapping[str, pd.DataFrame | None], period: str | Period,
               business_unit: str = "", gross_margin_pct: float = 30.0) -> pd.DataFrame:
    """The value and cost KPIs per segment and for ``All``, as a tidy frame.

    Parameters
    ----------
    facts, prev_facts
        :func:`segreport.data.facts.customer_facts` of the period and of the previous
        period (``None`` when unknown: CLV growth is then empty with a note).
    tables
        Optional validated tables by name: ``marketing_spend``, ``market_size``,
        ``segmentation_costs``. An absent (or ``None``) table leaves out the KPIs it feeds;
        see :func:`missing_inputs`.
    period
        The period label, e.g. ``"2026Q3"``, selecting the tables' rows.
    business_unit
        ``""`` for every unit (table rows are summed over units), else the unit whose rows
        are kept (every row, with a note, when a table has no ``business_unit`` column).
    gross_margin_pct
        Gross margin in % of revenue, used when the orders have no margin column.

    Returns
    -------
    DataFrame with the columns of :func:`segreport.kpis.frame.to_frame`:

    * ``clv`` (currency): (segment gross margin / |E|) / (|S ∖ E| / |S|);
    * ``clv_growth`` (%): (CLV − previous CLV) / previous CLV × 100;
    * ``cac`` (currency per new customer): acquisition spend / |N|;
    * ``cac_payback_months`` (months): CAC / ((gross margin of N / |N|) / 3);
    * ``retention_cost`` (currency per retained customer): retention spend / |S ∩ E|;
    * ``market_share`` (%): |E| / market customers × 100;
    * ``segmentation_efficiency`` (currency per segment, ``All`` only): segmentation cost /
      segments with a customer.
    """
    totals, note = value_totals(facts, gross_margin_pct)
    previous = None if prev_facts is None else value_totals(prev_facts, gross_margin_pct)
    return value_kpis_from_totals(totals, note, previous, tables, period, business_unit,
                                  int(facts[C.SEGMENT].nunique()))


def value_kpis_from_totals(totals: pd.DataFrame, margin_note: str,
                           previous: tuple[pd.DataFrame, str] | None,
                           tables: Mapping[str, pd.DataFrame | None], period: str | Period,
                           business_unit: str = "", n_segments: int = 0) -> pd.DataFrame:
    """:func:`value_kpis` from the totals of :func:`value_totals` (``(totals,
    margin_note)`` of the previous period as ``previous``, ``None`` when unknown) and the
    number of segments with a customer."""
    label = period.label if isinstance(period, Period) else Period.parse(period).label
    clv = clv_kpis_from_totals(totals, margin_note)
    frames = [
        clv,
        clv_growth_from_clv(clv, None if previous is None else clv_kpis_from_totals(*previous)),
        spend_kpis_from_totals(totals, margin_note, tables.get(C.MARKETING_SPEND), label,
                               business_unit),
        market_share_from_totals(totals, tables.get(C.MARKET_SIZE), label, business_unit),
        segmentation_efficiency_from_count(n_segments, tables.get(C.SEGMENTATION_COSTS), label,
                                           business_unit),
    ]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return to_frame([])
    return pd.concat(frames, ignore_index=True)


__all__ = ["VALUE_KPIS", "CLV", "CLV_GROWTH", "CAC", "CAC_PAYBACK_MONTHS", "RETENTION_COST",
           "MARKET_SHARE", "SEGMENTATION_EFFICIENCY", "UNITS", "value_kpis", "missing_inputs",
           "gross_margin", "value_totals", "period_rows", "clv_row", "clv_growth_row",
           "cac_row", "cac_payback_row", "retention_cost_row", "market_share_row",
           "segmentation_efficiency_row", "clv_kpis", "clv_growth_kpis", "spend_kpis",
           "market_share_kpis", "segmentation_efficiency_kpis", ]
