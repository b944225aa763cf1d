"""The generated narrative: bands quoted, and no rise or fall inside the margin of error."""
from __future__ import annotations

import math

import pandas as pd

from segreport import columns as C
from segreport.kpis import ids
from segreport.kpis.frame import kpi_row, to_frame
from segreport.narrative import narrative, nps_sentence


def frame(rows):
    return to_frame(rows)


def base_rows(segment, start, end, new, kept):
    growth = (end - start) / start * 100
    return [kpi_row(ids.CUSTOMERS_START, segment, start, "customers"),
            kpi_row(ids.CUSTOMERS_END, segment, end, "customers"),
            kpi_row(ids.NEW_CUSTOMERS, segment, new, "customers"),
            kpi_row(ids.SEGMENT_GROWTH_RATE, segment, growth, "%"),
            kpi_row(ids.RETENTION_RATE, segment, kept / start * 100, "%"),
            kpi_row(ids.CHURN_RATE, segment, 100 - kept / start * 100, "%"),
            kpi_row(ids.REVENUE, segment, 1000.0, "currency")]


def test_growth_band_and_its_advice_are_quoted():
    # 100 -> 112: +12 % -> strong ("consider scaling operations")
    text = narrative(frame(base_rows("Gold", 100, 112, 20, 92)))["Gold"]
    assert text.startswith("Strong growth (+12.0%)")
    assert "from 100 to 112" in text and "retention 92.0%" in text
    assert "Consider scaling operations." in text


def test_nps_change_inside_its_interval_is_not_called_a_rise():
    rows = [kpi_row(ids.NPS, "Gold", 20.0, "points"),
            kpi_row(ids.NPS_CHANGE, "Gold", 5.0, "points", ci_low=-2.0, ci_high=12.0)]
    text = nps_sentence(frame(rows), "Gold")
    assert "within the margin of error" in text
    assert " up " not in text and " down " not in text


def test_nps_change_outside_its_interval_is_called_a_fall():
    rows = [kpi_row(ids.NPS, "Gold", 20.0, "points"),
            kpi_row(ids.NPS_CHANGE, "Gold", -8.0, "points", ci_low=-12.0, ci_high=-4.0)]
    assert "down 8.0 points" in nps_sentence(frame(rows), "Gold")


def test_undefined_growth_says_why():
    rows = [kpi_row(ids.CUSTOMERS_START, "New", 0, "customers"),
            kpi_row(ids.CUSTOMERS_END, "New", 3, "customers"),
            kpi_row(ids.NEW_CUSTOMERS, "New", 3, "customers"),
            kpi_row(ids.SEGMENT_GROWTH_RATE, "New", math.nan, "%", note="not defined: x"),
            kpi_row(ids.REVENUE, "New", 10.0, "currency")]
    text = narrative(frame(rows))["New"]
    assert "No customers were active at the start" in text and "3 were active at its end" in text


def test_whole_unit_comes_first():
    rows = base_rows("Gold", 10, 11, 1, 9) + base_rows(C.ALL_SEGMENTS, 20, 21, 2, 18)
    assert list(narrative(pd.DataFrame(frame(rows)))) == [C.ALL_SEGMENTS, "Gold"]


def test_values_are_written_in_their_unit():
    from segreport.formatting import format_value

    assert format_value(12.345, "%") == "12.3%"
    assert format_value(1234567.0, "currency") == "1,234,567"
    assert format_value(1234567.0, "currency", compact=True) == "1.2M"
    assert format_value(4.25, "points") == "+4.2"  # round half to even in the format spec
    assert format_value(3.94, "months") == "3.9 mo"
    assert format_value(0.3412, "silhouette (-1..1)") == "0.34"
    assert format_value(math.nan, "%") == "—"
    assert format_value(-0.04, "%") == "0.0%"  # never "-0.0%"
    assert format_value(-0.04, "points") == "+0.0"
