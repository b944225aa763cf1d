"""The value and cost KPIs assembled into tidy frames: per KPI group from the facts or
from their totals, and the whole family (:func:`value_kpis`)."""
from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from segreport import columns as C
from segreport.kpis.base import segment_totals
from segreport.kpis.frame import to_frame
from segreport.kpis.ids import (
    CAC,
    CAC_PAYBACK_MONTHS,
    CLV_GROWTH,
    MARKET_SHARE,
    RETENTION_COST,
    SEGMENTATION_EFFICIENCY,
)
from segreport.kpis.value.period_tables import segment_sums, table_kpis, uncovered_note
from segreport.kpis.value.rows import (
    cac_payback_row,
    cac_row,
    clv_growth_row,
    clv_row,
    empty_row,
    join_notes,
    market_share_row,
    retention_cost_row,
    segmentation_efficiency_row,
)
from segreport.kpis.value.totals import value_totals
from segreport.period import Period


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
        return to_frame([empty_row(CLV_GROWTH, s, "not defined: no facts for the previous period")
                         for s in current.index])
    previous = previous.set_index(C.SEGMENT)
    rows = []
    for segment, now in current.iterrows():
        before = previous[C.VALUE].get(segment, math.nan)
        small = bool(now[C.SMALL_SAMPLE]) or bool(previous[C.SMALL_SAMPLE].get(segment, False))
        rows.append(clv_growth_row(segment, now[C.VALUE], before, small_sample=small))
    return to_frame(rows)


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
        acquisition = segment_sums(rows, C.ACQUISITION_SPEND)
        retention = segment_sums(rows, C.RETENTION_SPEND)
        uncovered = uncovered_note(C.MARKETING_SPEND, period, real_segments, acquisition)
        out = []
        for segment, t in totals.iterrows():
            if segment not in acquisition.index:
                note = (f"not defined: {C.MARKETING_SPEND} has no row for segment "
                        f"{segment!r} in {period}")
                out += [empty_row(CAC, segment, note),
                        empty_row(CAC_PAYBACK_MONTHS, segment, note),
                        empty_row(RETENTION_COST, segment, note)]
                continue
            extra = uncovered if segment == C.ALL_SEGMENTS else ""
            rows_ = [cac_row(segment, acquisition[segment], t["new"]),
                     cac_payback_row(segment, acquisition[segment], t["new"], t["new_margin"],
                                     margin_note),
                     retention_cost_row(segment, retention[segment], t["kept"])]
            for r in rows_:
                r[C.NOTE] = join_notes(r[C.NOTE], extra)
            out += rows_
        return out

    return table_kpis((CAC, CAC_PAYBACK_MONTHS, RETENTION_COST), marketing_spend,
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
        market = segment_sums(rows, C.MARKET_CUSTOMERS)
        uncovered = uncovered_note(C.MARKET_SIZE, period, real_segments, market)
        out = []
        for segment, t in totals.iterrows():
            if segment not in market.index:
                out.append(empty_row(MARKET_SHARE, segment,
                                  f"not defined: {C.MARKET_SIZE} has no row for segment "
                                  f"{segment!r} in {period}"))
                continue
            row = market_share_row(segment, t["end"], market[segment])
            if segment == C.ALL_SEGMENTS and uncovered:
                row[C.NOTE] = join_notes(row[C.NOTE], uncovered + ": the total market is understated")
            out.append(row)
        return out

    return table_kpis((MARKET_SHARE,), market_size, C.MARKET_SIZE, period, business_unit,
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

    return table_kpis((SEGMENTATION_EFFICIENCY,), segmentation_costs, C.SEGMENTATION_COSTS,
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
