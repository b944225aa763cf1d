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


def test_growth_band_is_quoted_and_its_advice_is_left_to_the_decisions():
    # 100 -> 112: +12 % -> strong; with no last quarter nothing moved, so the band leads
    from segreport.narrative import decisions

    rows = base_rows("Gold", 100, 112, 20, 92) + base_rows("Silver", 100, 106, 10, 96)
    text = narrative(frame(rows))["Gold"]
    assert text.startswith("No KPI moved beyond its margin of error")
    assert "Strong growth (+12.0%)" in text
    assert "from 100 to 112" in text and "retention 92.0%" in text
    assert "onsider scaling operations" not in text
    # strong is the best band: no advice; Silver's moderate growth (+6 %) gets its advice
    assert decisions(frame(rows)) == ["Moderate growth in Silver: assess marketing effectiveness."]


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


# --------------------------------------------------------------------------- in context

QUARTERS = ["2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1",
            "2026Q2", "2026Q3"]


def panel(series: dict, segment: str = "Gold", unit_of=None) -> pd.DataFrame:
    """A KPI panel: ``series`` maps a KPI id to its values over :data:`QUARTERS`."""
    from segreport.kpis.panel import QUARTER

    unit_of = unit_of or {ids.REVENUE: "currency", ids.CUSTOMERS_END: "customers"}
    rows = []
    for kpi, values in series.items():
        for quarter, value in zip(QUARTERS, values):
            row = kpi_row(kpi, segment, value, unit_of[kpi])
            row[QUARTER] = quarter
            rows.append(row)
    return pd.DataFrame(rows)


def with_previous(rows, previous: dict) -> pd.DataFrame:
    out = frame(rows)
    out[C.PREVIOUS_VALUE] = [previous.get((r.kpi, r.segment), math.nan) for r in out.itertuples()]
    return out


def test_the_segment_leads_with_the_kpi_that_moved_most_against_its_usual_change():
    from segreport.narrative import lead_sentence

    # revenue swings 1000/1010 (usual quarter-on-quarter change 10) then jumps to 1100:
    # +100 is 10.0 times its usual change. Active customers swing 100/102 (usual 2) then 104:
    # +4 is 2.0 times. Revenue leads, customers come second.
    history = panel({ids.REVENUE: [1000, 1010] * 4 + [1000, 1100],
                     ids.CUSTOMERS_END: [100, 102] * 4 + [100, 104]})
    kpis = history[history["quarter"] == "2026Q3"].drop(columns="quarter")
    kpis[C.PREVIOUS_VALUE] = [1000.0, 100.0]
    text = lead_sentence(kpis, "Gold", history, "2026Q3")
    assert text.startswith("Biggest move: net revenue up 100 on last quarter to 1,100, "
                           "10.0 times its usual quarterly change")
    assert "also active customers up 4 on last quarter" in text


def test_a_change_within_its_margin_of_error_is_never_the_lead():
    from segreport.narrative import lead_sentence

    # retention +1.0 pts, interval of the change 1 - sqrt(1 + 1) < 0: not a move
    rows = [kpi_row(ids.RETENTION_RATE, "Gold", 94.0, "%", ci_low=93.0, ci_high=95.0)]
    history = pd.DataFrame([dict(r, quarter=q) for r, q in (
        (kpi_row(ids.RETENTION_RATE, "Gold", 93.0, "%", ci_low=92.0, ci_high=94.0), "2026Q2"),
        (rows[0], "2026Q3"))])
    kpis = with_previous(rows, {(ids.RETENTION_RATE, "Gold"): 93.0})
    assert lead_sentence(kpis, "Gold", history, "2026Q3").startswith("No KPI moved beyond")


def test_a_change_for_the_worse_is_named_as_needing_a_decision():
    from segreport.narrative import decision_sentence

    # no history: CAC 100 -> 120 (+20 %, over the 5 % that makes a change notable) is a rise
    # of a lower-is-better KPI; revenue 1000 -> 1010 (+1 %) is for the better anyway
    rows = [kpi_row(ids.CAC, "Gold", 120.0, "currency per new customer"),
            kpi_row(ids.REVENUE, "Gold", 1010.0, "currency")]
    kpis = with_previous(rows, {(ids.CAC, "Gold"): 100.0, (ids.REVENUE, "Gold"): 1000.0})
    assert decision_sentence(kpis, "Gold") == "Needs a decision: CAC."  # it is the lead
    # four rises of lower-is-better KPIs, by size: churn 6 -> 9 (+50 %), CAC +20 %, retention
    # cost 10 -> 11.5 (+15 %), CAC payback 4.0 -> 4.4 months (+10 %). The lead names the
    # first three; the decision names them and describes the fourth.
    rows += [kpi_row(ids.CHURN_RATE, "Gold", 9.0, "%"),
             kpi_row(ids.RETENTION_COST, "Gold", 11.5, "currency per retained customer"),
             kpi_row(ids.CAC_PAYBACK_MONTHS, "Gold", 4.4, "months")]
    kpis = with_previous(rows, {(ids.CAC, "Gold"): 100.0, (ids.REVENUE, "Gold"): 1000.0,
                                (ids.CHURN_RATE, "Gold"): 6.0, (ids.RETENTION_COST, "Gold"): 10.0,
                                (ids.CAC_PAYBACK_MONTHS, "Gold"): 4.0})
    assert decision_sentence(kpis, "Gold") == (
        "Needs a decision: churn; CAC; retention cost; CAC payback up 0.4 mo on last quarter.")


def test_every_missed_target_is_named():
    from segreport.narrative import decision_sentence, decisions

    rows = (base_rows("Gold", 100, 104, 10, 92) + base_rows("Silver", 100, 101, 5, 95)
            + base_rows(C.ALL_SEGMENTS, 200, 205, 15, 187))
    kpis = frame(rows)
    # retention targets of 93 %: Gold 92.0 % is off track, Silver 95.0 % on track;
    # revenue target 1,200 missed by the whole unit (1,000)
    kpis[C.TARGET] = [93.0 if k == ids.RETENTION_RATE else (1200.0 if (k, s) == (ids.REVENUE, C.ALL_SEGMENTS)
                      else math.nan) for k, s in zip(kpis[C.KPI], kpis[C.SEGMENT])]
    kpis[C.STATUS] = ["" if math.isnan(t) else
                      (C.OFF_TRACK if v < t else C.ON_TRACK) for t, v in zip(kpis[C.TARGET], kpis[C.VALUE])]
    kpis[C.PREVIOUS_VALUE] = math.nan
    assert decision_sentence(kpis, "Gold") == (
        "Needs a decision: off target on retention 92.0% against a target of 93.0%.")
    assert decision_sentence(kpis, "Silver") == ""
    assert decisions(kpis)[-1] == ("Missed targets: the whole unit net revenue 1,000 against a "
                                   "target of 1,200; Gold retention 92.0% against a target of 93.0%.")


def test_the_band_advice_is_given_once_naming_every_segment_in_the_band():
    from segreport.narrative import decisions

    # growth: Gold +12 % strong; Silver +2 %, Bronze +1 % and the whole unit +4 % weak
    rows = (base_rows("Gold", 100, 112, 20, 92) + base_rows("Silver", 100, 102, 5, 95)
            + base_rows("Bronze", 100, 101, 5, 95) + base_rows(C.ALL_SEGMENTS, 300, 312, 30, 282))
    kpis = frame(rows)
    texts = narrative(kpis)
    assert not any("eevaluate" in t for t in texts.values())
    advice = decisions(kpis)
    # the strong band is the best: nothing to decide about Gold's growth
    assert advice == [("Weak growth in Silver, Bronze and the whole unit: reevaluate customer "
                       "segmentation strategies.")]


def test_the_whole_unit_says_which_segment_drove_its_change():
    from segreport.narrative import driver_sentence

    # revenue: Gold 700 -> 950 (+250), Silver 300 -> 350 (+50); unit 1000 -> 1300 (+300,
    # +30.0 %): Gold 250 / 300 = 83 %, Silver 50 / 300 = 17 %
    rows = [kpi_row(ids.REVENUE, "Gold", 950.0, "currency"),
            kpi_row(ids.REVENUE, "Silver", 350.0, "currency"),
            kpi_row(ids.REVENUE, C.ALL_SEGMENTS, 1300.0, "currency")]
    kpis = with_previous(rows, {(ids.REVENUE, "Gold"): 700.0, (ids.REVENUE, "Silver"): 300.0,
                                (ids.REVENUE, C.ALL_SEGMENTS): 1000.0})
    assert driver_sentence(kpis, ids.REVENUE) == (
        "Net revenue rose 300 (+30.0%) on last quarter, driven most by Gold: Gold +250 (83%), "
        "Silver +50 (17%) of the change.")


def test_a_fall_is_driven_by_the_segment_that_fell_most():
    from segreport.narrative import driver_sentence

    # unit 1000 -> 900 (-100, -10.0 %): Gold -150 (150 %), Silver +50 (-50 %)
    rows = [kpi_row(ids.REVENUE, "Gold", 550.0, "currency"),
            kpi_row(ids.REVENUE, "Silver", 350.0, "currency"),
            kpi_row(ids.REVENUE, C.ALL_SEGMENTS, 900.0, "currency")]
    kpis = with_previous(rows, {(ids.REVENUE, "Gold"): 700.0, (ids.REVENUE, "Silver"): 300.0,
                                (ids.REVENUE, C.ALL_SEGMENTS): 1000.0})
    assert driver_sentence(kpis, ids.REVENUE) == (
        "Net revenue fell 100 (-10.0%) on last quarter, driven most by Gold: Gold -150 (150%), "
        "Silver +50 (-50%) of the change.")


def test_beyond_four_driving_segments_the_others_are_summed():
    from segreport.narrative import driver_sentence

    # six segments A..F gain 60, 50, 40, 30, 20, 10 (unit +210, from 1000: +21.0 %):
    # A 60/210 = 29 %, B 24 %, C 19 %, D 14 %, then E and F together 30 (14 %)
    gains = dict(zip("ABCDEF", (60.0, 50.0, 40.0, 30.0, 20.0, 10.0)))
    rows = [kpi_row(ids.REVENUE, s, 100.0 + g, "currency") for s, g in gains.items()]
    rows.append(kpi_row(ids.REVENUE, C.ALL_SEGMENTS, 1210.0, "currency"))
    previous = {(ids.REVENUE, s): 100.0 for s in gains} | {(ids.REVENUE, C.ALL_SEGMENTS): 1000.0}
    assert driver_sentence(with_previous(rows, previous), ids.REVENUE) == (
        "Net revenue rose 210 (+21.0%) on last quarter, driven most by A: A +60 (29%), B +50 "
        "(24%), C +40 (19%), D +30 (14%), the other 2 together +30 (14%) of the change.")


def test_narrative_text_from_the_data_is_escaped_in_the_html():
    from segreport.report.sections import narrative_html

    name = "<i>Gold & Co</i>"
    rows = base_rows(name, 100, 102, 5, 95) + base_rows(C.ALL_SEGMENTS, 100, 102, 5, 95)
    html = narrative_html(frame(rows)).data
    assert name not in html and "&lt;i&gt;Gold &amp; Co&lt;/i&gt;" in html
    assert "<b>Biggest move:</b>" not in html  # nothing moved: no lead to set in bold
