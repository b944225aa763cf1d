"""The quarter in context: changes on last quarter and a year ago, when they are called, and
how the scorecard shows them (value, changes coloured by the KPI's direction, sparkline,
target), readable 600 px wide and with every text from the data escaped.

One segment, Gold, on a tiny hand-made KPI panel; the expected values are worked by hand in
the comments.
"""
from __future__ import annotations

import base64
import math
import re
import struct
from html import unescape
from types import SimpleNamespace

import pandas as pd
import pytest

from segreport import columns as C
from segreport.charts import BAD, GOOD, TEXT
from segreport.formatting import format_change
from segreport.kpis import ids
from segreport.kpis.context import (
    CALLED_PREVIOUS,
    CALLED_YEAR,
    CHANGE_PREVIOUS,
    CHANGE_YEAR,
    YEAR_AGO_VALUE,
    difference_interval,
    direction,
    kpi_context,
    trend,
    usual_change,
)
from segreport.kpis.frame import kpi_row
from segreport.kpis.panel import QUARTER
from segreport.period import Period
from segreport.report import sections

NOW, LAST, YEAR_AGO = "2026Q3", "2026Q2", "2025Q3"
COLORS = {"Gold": "#0173b2", C.ALL_SEGMENTS: "#4d4d4d"}
NAN = math.nan

# kpi, unit, {quarter: (value, ci_low, ci_high)}
PANEL = {
    # retention (higher is better, a Wilson interval every quarter)
    ids.RETENTION_RATE: ("%", {YEAR_AGO: (90.0, 88.0, 92.0), LAST: (93.0, 92.0, 94.0),
                               NOW: (94.0, 93.0, 95.0)}),
    # churn (lower is better)
    ids.CHURN_RATE: ("%", {YEAR_AGO: (10.0, 9.0, 11.0), LAST: (6.5, 6.0, 7.0),
                           NOW: (6.0, 5.0, 7.0)}),
    # revenue: counted over every order, no interval
    ids.REVENUE: ("currency", {YEAR_AGO: (800.0, NAN, NAN), LAST: (1000.0, NAN, NAN),
                               NOW: (1000.0, NAN, NAN)}),
    # CAC (lower is better), no interval
    ids.CAC: ("currency per new customer", {YEAR_AGO: (120.0, NAN, NAN),
                                            LAST: (100.0, NAN, NAN), NOW: (120.0, NAN, NAN)}),
    # NPS: no survey answer a year ago, so an interval in one of the two quarters only
    ids.NPS: ("points", {YEAR_AGO: (10.0, NAN, NAN), LAST: (20.0, 10.0, 30.0),
                         NOW: (40.0, 35.0, 45.0)}),
}


def history(panel=PANEL, segment="Gold"):
    rows = []
    for kpi, (unit, by_quarter) in panel.items():
        for quarter, (value, low, high) in by_quarter.items():
            row = kpi_row(kpi, segment, value, unit, ci_low=low, ci_high=high)
            row[QUARTER] = quarter
            rows.append(row)
    return pd.DataFrame(rows)


def reported(hist):
    """The reported quarter's rows with last quarter's value beside, as load_quarter gives."""
    now = hist[hist[QUARTER] == NOW].drop(columns=QUARTER).reset_index(drop=True)
    last = hist[hist[QUARTER] == LAST].set_index([C.KPI, C.SEGMENT])[C.VALUE]
    now[C.PREVIOUS_VALUE] = last.reindex(pd.MultiIndex.from_frame(now[[C.KPI, C.SEGMENT]])).to_numpy()
    return now


@pytest.fixture(scope="module")
def context():
    hist = history()
    return kpi_context(reported(hist), hist, NOW).set_index(C.KPI)


# --------------------------------------------------------------------------- the numbers

def test_the_difference_interval_combines_both_intervals_by_newcombes_method():
    # retention on a year ago: d = 94 - 90 = 4;
    # low = 4 - sqrt((94 - 93)^2 + (92 - 90)^2) = 4 - sqrt(5) = 1.7639
    # high = 4 + sqrt((95 - 94)^2 + (90 - 88)^2) = 4 + sqrt(5) = 6.2361
    low, high = difference_interval(94.0, 93.0, 95.0, 90.0, 88.0, 92.0)
    assert low == pytest.approx(4 - math.sqrt(5)) and high == pytest.approx(4 + math.sqrt(5))


def test_changes_are_in_the_kpis_own_unit_points_for_rates(context):
    # retention 94.0 - 93.0 = +1.0 pts on last quarter, 94.0 - 90.0 = +4.0 pts on a year ago
    assert context.loc[ids.RETENTION_RATE, CHANGE_PREVIOUS] == pytest.approx(1.0)
    assert context.loc[ids.RETENTION_RATE, CHANGE_YEAR] == pytest.approx(4.0)
    assert context.loc[ids.RETENTION_RATE, YEAR_AGO_VALUE] == 90.0
    assert format_change(1.0, "%") == "+1.0 pts"
    # revenue 1000 - 800 = +200 (currency), CAC 120 - 100 = +20.00 (currency per customer)
    assert context.loc[ids.REVENUE, CHANGE_YEAR] == 200.0
    assert format_change(200.0, "currency") == "+200"
    assert format_change(20.0, "currency per new customer") == "+20.00"
    assert format_change(417_149.0, "currency") == "+417.1k"
    assert format_change(-1234.0, "customers") == "-1,234"


def test_a_change_inside_its_interval_is_not_called(context):
    # retention on last quarter: d = +1.0, low = 1 - sqrt(1^2 + 1^2) = -0.414 < 0 -> not called
    assert context.loc[ids.RETENTION_RATE, CALLED_PREVIOUS] == 0


def test_a_change_whose_interval_excludes_zero_is_called(context):
    # retention on a year ago: [1.76, 6.24] -> up; churn: d = 6 - 10 = -4,
    # high = -4 + sqrt((7 - 6)^2 + (10 - 9)^2) = -2.586 < 0 -> down
    assert context.loc[ids.RETENTION_RATE, CALLED_YEAR] == 1
    assert context.loc[ids.CHURN_RATE, CALLED_YEAR] == -1


def test_a_kpi_counted_over_every_customer_is_called_on_any_change_that_shows(context):
    # revenue: 1000 -> 1000 is no change (0), 800 -> 1000 is up; CAC 100 -> 120 is up
    assert context.loc[ids.REVENUE, CALLED_PREVIOUS] == 0
    assert context.loc[ids.REVENUE, CALLED_YEAR] == 1
    assert context.loc[ids.CAC, CALLED_PREVIOUS] == 1


def test_a_change_with_an_interval_in_one_quarter_only_is_not_called(context):
    # NPS +30 points on a year ago, but a year ago had no interval (no survey base)
    assert context.loc[ids.NPS, CHANGE_YEAR] == 30.0
    assert context.loc[ids.NPS, CALLED_YEAR] == 0
    # on last quarter both have one: d = 20, low = 20 - sqrt(5^2 + 10^2) = 8.82 > 0 -> up
    assert context.loc[ids.NPS, CALLED_PREVIOUS] == 1


def test_without_a_history_last_quarter_comes_from_previous_value_and_no_year_ago(context):
    flat = kpi_context(reported(history()), None, NOW).set_index(C.KPI)
    assert flat.loc[ids.REVENUE, CHANGE_PREVIOUS] == 0.0
    assert flat.loc[ids.CAC, CALLED_PREVIOUS] == 1  # exact KPI: called
    # retention has an interval now but last quarter's is unknown: not called
    assert flat.loc[ids.RETENTION_RATE, CALLED_PREVIOUS] == 0
    assert flat[CHANGE_YEAR].isna().all()


def test_directions_come_from_the_cards():
    assert direction(ids.RETENTION_RATE) == 1 and direction(ids.REVENUE) == 1
    for lower in (ids.CHURN_RATE, ids.CAC, ids.CAC_PAYBACK_MONTHS, ids.RETENTION_COST,
                  ids.SEGMENTATION_EFFICIENCY):
        assert direction(lower) == -1, lower
    assert direction(ids.SALES_CONTRIBUTION) == 0


def test_trend_gives_the_last_eight_quarters_oldest_first():
    hist = history()
    wide = trend(hist, NOW)
    assert list(wide.columns) == ["2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1",
                                  "2026Q2", "2026Q3"]
    row = wide.loc[(ids.REVENUE, "Gold")]
    assert row["2025Q3"] == 800.0 and row["2026Q2"] == 1000.0 and row["2026Q3"] == 1000.0
    assert row[["2024Q4", "2025Q1", "2025Q2", "2025Q4", "2026Q1"]].isna().all()


def test_usual_change_is_the_mean_absolute_change_before_the_quarter():
    # 10, 12, 10, 12 then 20 now: earlier changes +2, -2, +2 -> 2.0 (the jump to 20 is not in it)
    values = dict(zip(["2025Q3", "2025Q4", "2026Q1", "2026Q2", NOW], [10.0, 12.0, 10.0, 12.0, 20.0]))
    hist = history({ids.REVENUE: ("currency", {q: (v, NAN, NAN) for q, v in values.items()})})
    assert usual_change(hist, ids.REVENUE, "Gold", NOW) == 2.0


# --------------------------------------------------------------------------- the scorecard

def cells(html: str, segment: str) -> list[tuple[str, str]]:
    """(style, text) of each value/change cell of ``segment``'s row in a one-KPI block."""
    row = re.search(rf"<tr[^>]*><th[^>]*>(?:(?!</th>).)*{re.escape(segment)}</th>(.*?)</tr>",
                    html, flags=re.DOTALL).group(1)
    return [(style, unescape(re.sub(r"<[^>]+>", "", text)).replace("\u200a", ""))
            for style, text in re.findall(r"<td style='([^']*)'>(.*?)</td>", row, flags=re.DOTALL)]


def block(kpi, hist=None, kpis=None):
    hist = history() if hist is None else hist
    kpis = reported(hist) if kpis is None else kpis
    return sections.kpi_table_html(kpis, [kpi], COLORS, history=hist, quarter=NOW)


def test_a_scorecard_cell_shows_value_and_both_changes_in_points():
    value, last, year, _spark = cells(block(ids.RETENTION_RATE), "Gold")
    assert value[1].startswith("94.0%")
    # +1.0 pts on last quarter is inside its interval: grey, no arrow
    assert last[1] == "+1.0 pts" and "color:#888" in last[0]
    # +4.0 pts on a year ago is real and retention is higher-is-better: up arrow, green
    assert year[1] == f"{sections.UP}+4.0 pts" and f"color:{GOOD}" in year[0]


def test_a_fall_of_a_lower_is_better_kpi_is_green_and_a_rise_red():
    _, _, churn_year, _ = cells(block(ids.CHURN_RATE), "Gold")
    assert churn_year[1] == f"{sections.DOWN}-4.0 pts" and f"color:{GOOD}" in churn_year[0]
    _, cac_last, _, _ = cells(block(ids.CAC), "Gold")
    assert cac_last[1] == f"{sections.UP}+20.00" and f"color:{BAD}" in cac_last[0]


def test_a_real_change_of_a_kpi_without_direction_has_an_arrow_but_no_good_or_bad_colour():
    hist = history({ids.SALES_CONTRIBUTION: ("%", {LAST: (50.0, NAN, NAN), NOW: (55.0, NAN, NAN)})})
    _, last, _, _ = cells(block(ids.SALES_CONTRIBUTION, hist), "Gold")
    assert last[1] == f"{sections.UP}+5.0 pts" and f"color:{TEXT}" in last[0]


def test_each_row_has_a_sparkline_png_of_the_last_eight_quarters():
    html = block(ids.REVENUE)
    data = re.search(r"src='data:image/png;base64,([^']+)'", html).group(1)
    png = base64.b64decode(data)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # drawn at twice its 72 x 20 px display size
    assert struct.unpack(">II", png[16:24]) == (2 * sections.SPARK_WIDTH, 2 * sections.SPARK_HEIGHT)
    assert "8 quarters" in html and "Trend: 2024Q4 to 2026Q3" in html


def test_a_block_fits_a_600_px_phone_screen():
    html = sections.scorecard(reported(history()), COLORS, history(), NOW).data
    widths = [int(w) for w in re.findall(r"max-width:(\d+)px", html)]
    assert sections.BLOCK_WIDTH <= 600 - 2 * 16 and min(widths) == sections.BLOCK_WIDTH
    # one block per KPI, never a table row per segment with a column per KPI
    assert html.count(f"class='{sections.KPI_BLOCK_CLASS}'") == len(
        [k for k in sections.SCORECARD_KPIS if k in set(history()[C.KPI])])


def test_the_target_and_its_status_show_when_the_columns_are_there():
    kpis = reported(history())
    kpis[C.TARGET] = [93.0 if k == ids.RETENTION_RATE else (110.0 if k == ids.CAC else NAN)
                      for k in kpis[C.KPI]]
    kpis[C.STATUS] = [C.ON_TRACK if k == ids.RETENTION_RATE else
                      (C.OFF_TRACK if k == ids.CAC else "") for k in kpis[C.KPI]]
    value, *_ = cells(block(ids.RETENTION_RATE, kpis=kpis), "Gold")
    assert "target 93.0%on track" in value[1]  # two lines: target, then status
    value, *_ = cells(block(ids.CAC, kpis=kpis), "Gold")
    assert "target 110.00off track" in value[1]
    value, *_ = cells(block(ids.REVENUE, kpis=kpis), "Gold")
    assert "target" not in value[1]
    # and nothing of it without the columns
    assert "target" not in block(ids.RETENTION_RATE)


def test_segment_names_are_escaped_in_the_blocks():
    name = "<b>Gold & Co</b>"
    hist = history().assign(**{C.SEGMENT: name})
    html = sections.kpi_table_html(reported(hist), [ids.REVENUE], {name: "#0173b2"},
                                   history=hist, quarter=NOW)
    assert name not in html and "&lt;b&gt;Gold &amp; Co&lt;/b&gt;" in html


# --------------------------------------------------------------------------- no history (rfm)

def quarter_without_history(kpis):
    return SimpleNamespace(kpis=kpis, colors=COLORS, history=pd.DataFrame(), missing={},
                           period=Period.parse(NOW))


def test_without_a_history_the_scorecard_says_trends_are_unavailable():
    html = sections.scorecard(reported(history()), COLORS, pd.DataFrame(), NOW).data
    assert "changes on a year ago and trends are not available" in html
    assert "data:image/png" not in html
    html = sections.kpi_table_html(reported(history()), [ids.CAC], COLORS,
                                   history=pd.DataFrame(), quarter=NOW)
    _, last, year = cells(html, "Gold")  # no trend column
    assert last[1] == f"{sections.UP}+20.00" and year[1] == "—"
    assert "quarters</th>" not in html


def test_without_a_history_the_trends_section_says_so_and_does_not_fail():
    q = quarter_without_history(reported(history()))
    assert "no trends to show" in sections.trend_chart(q).data
    assert sections.trend_notes(q).data == ""


def test_the_trends_section_names_the_table_that_would_enable_a_missing_kpi():
    q = quarter_without_history(reported(history()))
    q.history = history()
    q.missing = {ids.NPS: "needs the table surveys (customer_id, response_date, nps, csat)",
                 ids.CSAT: "needs the table surveys (customer_id, response_date, nps, csat)"}
    notes = unescape(re.sub(r"<[^>]+>", "", sections.trend_notes(q).data))
    assert "NPS: needs the table surveys" in notes and "CSAT: needs the table surveys" in notes
    # KPIs with no value in the window are named too (growth, AOV, CLV ... are not in PANEL)
    assert "No value between 2024Q3 and 2026Q3" in notes and "Growth" in notes
