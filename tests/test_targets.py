"""Targets: the ``targets:`` parameter, which target applies to a KPI row, and on / off track.

Expected values are worked out by hand in the comments: the most specific target wins
(unit and segment; segment; unit; the KPI's default; the KPI's number), and a row is on
track when its value reaches the target in the KPI's direction (the card's
``higher_is_better``; equal counts as reached).
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from segreport import columns as C
from segreport.cli import main
from segreport.config import load_params
from segreport.errors import ConfigError
from segreport.kpis.targets import (
    check_target_names,
    check_targets,
    direction,
    status,
    target_for,
    with_targets,
)

TARGETS = check_targets({
    "retention_rate": 93,                                   # every row
    "churn_rate": {"Students": 8, "default": 6},            # Students; every other segment
    "cac": {"Retail": {"Premium": 150}, "default": 100},    # Retail Premium; everything else
})


def kpi_frame() -> pd.DataFrame:
    rows = [("retention_rate", "Students", 90.0), ("retention_rate", "Premium", 95.0),
            ("retention_rate", "All", 93.0), ("churn_rate", "Students", 9.0),
            ("churn_rate", "Premium", 5.0), ("churn_rate", "All", 7.0),
            ("cac", "Premium", 140.0), ("cac", "Students", math.nan), ("revenue", "All", 1000.0)]
    return pd.DataFrame(rows, columns=[C.KPI, C.SEGMENT, C.VALUE])


def test_each_row_takes_the_most_specific_target_and_its_status_in_the_kpis_direction():
    out = with_targets(kpi_frame(), TARGETS, "Retail")
    got = {(r.kpi, r.segment): (r.target, r.status) for r in out.itertuples()}
    # retention (higher is better), 93 for every row: 90 < 93 off; 95 ≥ 93 on; 93 = 93 on
    assert got[("retention_rate", "Students")] == (93.0, "off track")
    assert got[("retention_rate", "Premium")] == (93.0, "on track")
    assert got[("retention_rate", "All")] == (93.0, "on track")
    # churn (lower is better): Students' own 8, 9 > 8 off; Premium the default 6, 5 ≤ 6 on;
    # the whole unit the default 6, 7 > 6 off
    assert got[("churn_rate", "Students")] == (8.0, "off track")
    assert got[("churn_rate", "Premium")] == (6.0, "on track")
    assert got[("churn_rate", "All")] == (6.0, "off track")
    # CAC (lower is better): Retail Premium 150, 140 ≤ 150 on; Students the default 100 but
    # no value, so no status
    assert got[("cac", "Premium")] == (150.0, "on track")
    assert got[("cac", "Students")] == (100.0, "")
    # revenue has no target: NaN, no status
    target, state = got[("revenue", "All")]
    assert math.isnan(target) and state == ""
    assert list(out.columns) == [C.KPI, C.SEGMENT, C.VALUE, C.TARGET, C.STATUS]


def test_a_unit_level_target_does_not_reach_another_unit():
    out = with_targets(kpi_frame(), TARGETS, "Online")
    row = out[(out[C.KPI] == "cac") & (out[C.SEGMENT] == "Premium")].iloc[0]
    # Online Premium: no Online entry, so the default 100; 140 > 100 (lower is better): off
    assert (row[C.TARGET], row[C.STATUS]) == (100.0, "off track")


def test_a_segment_target_beats_a_unit_target_and_all_names_the_whole_business():
    t = check_targets({"churn_rate": {"Retail": 5, "Students": 8},
                       "revenue": {"All": {"All": 5000}, "Retail": {"All": 2000}}})
    assert target_for(t, "churn_rate", "Retail", "Students") == 8.0   # segment over unit
    assert target_for(t, "churn_rate", "Retail", "Premium") == 5.0    # the unit's number
    assert target_for(t, "churn_rate", "Retail", "All") == 5.0        # its whole-unit row too
    assert math.isnan(target_for(t, "churn_rate", "Online", "Premium"))
    assert target_for(t, "revenue", "", "All") == 5000.0              # the whole business
    assert target_for(t, "revenue", "Retail", "All") == 2000.0
    assert math.isnan(target_for(t, "revenue", "Online", "All"))
    assert math.isnan(target_for(t, "revenue", "", "Students"))


def test_status_uses_the_direction_on_the_kpis_card():
    assert direction("retention_rate") is True and direction("churn_rate") is False
    assert direction("cac") is False and direction("segmentation_efficiency") is False
    assert direction("sales_contribution") is None
    assert status(8.0, 8.0, False) == "on track"      # equal reaches the target
    assert status(8.1, 8.0, False) == "off track"
    assert status(7.9, 8.0, True) == "off track"
    assert status(7.9, math.nan, True) == ""
    assert status(7.9, 8.0, None) == ""


def test_an_empty_frame_gets_the_two_columns():
    out = with_targets(pd.DataFrame(columns=[C.KPI, C.SEGMENT, C.VALUE]), TARGETS)
    assert list(out.columns)[-2:] == [C.TARGET, C.STATUS] and out.empty


# --- the parameter -------------------------------------------------------------------------

def test_targets_are_read_from_the_file_and_from_set(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("targets:\n  retention_rate: 93\n  churn_rate: {Students: 8}\n"
                    "  cac: {Retail: {Premium: 150}}\n  nps: {10: 40}\n")
    params = load_params(path, ["targets.cac.Retail.Basic=120"])
    assert params.targets == {"retention_rate": 93.0, "churn_rate": {"Students": 8.0},
                              "cac": {"Retail": {"Premium": 150.0, "Basic": 120.0}},
                              "nps": {"10": 40.0}}  # a unit named 10 is a name
    assert params.notebook_parameters()["targets"] == params.targets


@pytest.mark.parametrize("sets, expected", [
    (["targets.retension_rate=93"],
     "--set: parameter 'targets.retension_rate': unknown KPI id (did you mean 'retention_rate'?)"),
    (["targets.sales_contribution=30"],
     "--set: parameter 'targets.sales_contribution': sales_contribution has no better direction"),
    (["targets.cac=cheap"],
     "--set: parameter 'targets.cac': the target must be a number, e.g. 93 or 12.5 (got 'cheap')"),
    (["targets.cac.Retail.Premium=true"],
     "--set: parameter 'targets.cac.Retail.Premium': the target must be a number"),
    (["targets.cac.default.Premium=3"],
     "--set: parameter 'targets.cac.default': the default is one number"),
    (["targets=93"], "--set: parameter 'targets': map each KPI id to a target"),
])
def test_a_bad_target_is_one_message_naming_the_entry(sets, expected):
    with pytest.raises(ConfigError) as info:
        load_params(None, sets)
    assert str(info.value).startswith(expected), str(info.value)
    assert "\n" not in str(info.value)


def test_a_target_nested_deeper_than_unit_and_segment_is_refused():
    with pytest.raises(ValueError, match=r"targets.cac.Retail.Premium: the target must be a "
                                         r"number.*got \{'x': 1\}"):
        check_targets({"cac": {"Retail": {"Premium": {"x": 1}}}})


# --- names checked against the data ------------------------------------------------------

SEGMENTS, UNITS = ["Premium", "Students"], ["Online", "Retail"]


def test_names_that_are_segments_units_all_or_default_pass():
    check_target_names(check_targets({"cac": {"Retail": {"Premium": 1, "All": 2, "default": 3},
                                              "All": 4, "Students": 5, "default": 6}}),
                       SEGMENTS, UNITS)


@pytest.mark.parametrize("targets, segments, units, expected", [
    ({"churn_rate": {"Studnets": 8}}, SEGMENTS, UNITS,
     "parameter 'targets.churn_rate.Studnets': no segment or business unit 'Studnets' in the "
     "data; segments (tier): Premium, Students; business units (unit): Online, Retail, or All"),
    ({"cac": {"Retail": {"Gold": 1}}}, SEGMENTS, UNITS,
     "parameter 'targets.cac.Retail.Gold': no segment 'Gold' in the data"),
    ({"cac": {"Premium": {"Retail": 1}}}, SEGMENTS, UNITS,
     "parameter 'targets.cac.Premium': 'Premium' is a segment; put the unit first"),
    ({"cac": {"Retail": 1}}, ["Retail", "Students"], UNITS,
     "parameter 'targets.cac.Retail': 'Retail' is both a segment and a business unit"),
    ({"cac": {"All": 1}}, SEGMENTS, ["All", "Retail"],
     "parameter 'targets.cac.All': 'All' is both a name for the whole business and a business unit"),
    ({"cac": {"default": 1}}, ["default"], UNITS,
     "parameter 'targets.cac.default': the data has a segment or business unit named 'default'"),
])
def test_a_name_the_data_does_not_resolve_is_refused(targets, segments, units, expected):
    with pytest.raises(ConfigError) as info:
        check_target_names(check_targets(targets), segments, units, "tier", "unit")
    assert str(info.value).startswith(expected), str(info.value)


ORDERS = """order_id,customer_id,order_date,amount
1,A,2026-01-10,100
2,A,2026-07-01,50
3,C,2026-08-15,70
"""
CUSTOMERS = """customer_id,signup_date,segment,business_unit
A,2025-12-01,Gold,X
C,2026-08-01,Gold,Y
"""


def test_an_unknown_segment_stops_the_run_with_exit_2_before_any_report(
        tmp_path, capsys, csv_data, report_params):
    data = csv_data(tmp_path / "data", orders=ORDERS, customers=CUSTOMERS)
    params = report_params(tmp_path / "params.yaml", data, tmp_path / "out",
                           "targets: {churn_rate: {Silver: 8}}\n")
    assert main(["run", "--params", str(params)]) == 2
    err = capsys.readouterr().err
    assert "segreport: error: parameter 'targets.churn_rate.Silver': no segment or business " \
           "unit 'Silver' in the data; segments (segment): Gold; business units " \
           "(business_unit): X, Y" in err
    assert "Traceback" not in err
    out = Path(tmp_path / "out")
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]
