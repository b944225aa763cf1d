"""The KPI specs (``segreport/kpis/cards*.yaml``, :mod:`segreport.kpis.spec`): one valid spec
per KPI id, read once; a broken spec is refused naming its file, KPI and field; the README's
KPI table is the one the specs make."""
from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from segreport import columns as C
from segreport.errors import ConfigError
from segreport.formatting import format_value
from segreport.kpis import ids, spec
from segreport.kpis.spec import Band, KpiSpec

README = Path(__file__).resolve().parents[1] / "README.md"
FAMILIES = {"base": ids.BASE_KPIS, "value": ids.VALUE_KPIS, "voice": ids.VOICE_KPIS,
            "segmentation": ids.SEGMENTATION_KPIS, "predictive": ids.PREDICTIVE_KPIS}


@pytest.fixture(scope="module")
def specs():
    return spec.load_specs()


def test_every_kpi_id_has_exactly_one_spec_in_its_familys_file(specs):
    assert len(ids.ALL_KPIS) == len(set(ids.ALL_KPIS))
    assert list(specs) == list(ids.ALL_KPIS)
    for family, kpis in FAMILIES.items():
        assert [k for k, s in specs.items() if s.family == family] == list(kpis), family
    assert spec.load_specs() is specs  # read and validated once


def test_every_spec_is_complete_with_a_known_unit_and_direction(specs):
    for kpi, s in specs.items():
        assert s.id == kpi
        assert s.unit in spec.UNITS, kpi
        assert format_value(1.0, s.unit), kpi
        assert s.name and s.short_label and s.formula and s.definition and s.chart_title, kpi
        assert s.direction in ("higher", "lower", ""), kpi
        assert s.direction == ("" if s.higher_is_better is None
                               else "higher" if s.higher_is_better else "lower"), kpi
        assert set(s.related) <= set(specs), kpi


def test_short_labels_are_unique(specs):
    labels = [s.short_label for s in specs.values()]
    assert len(labels) == len(set(labels))


def test_bands_fall_from_the_first_and_end_without_a_lower_bound(specs):
    for kpi, s in specs.items():
        if not s.bands:
            continue
        mins = [b.min for b in s.bands]
        assert mins[-1] is None and None not in mins[:-1], kpi
        assert mins[:-1] == sorted(mins[:-1], reverse=True), kpi
        assert len(set(mins[:-1])) == len(mins) - 1, kpi
        assert all(b.label and b.meaning for b in s.bands), kpi


def test_inputs_name_tables_and_columns_of_the_contract(specs):
    for kpi, s in specs.items():
        assert s.inputs, kpi
        assert any(i.table == C.ORDERS for i in s.inputs), kpi  # every KPI starts from the orders
        for i in s.inputs:
            assert i.table in C.CONTRACT, (kpi, i.table)
            names = {c.name for c in C.CONTRACT[i.table].columns}
            assert set(i.columns) | set(i.optional) <= names, (kpi, i.table)


def test_what_each_optional_table_enables(specs):
    assert spec.kpis_reading(C.MARKETING_SPEND) == [ids.CAC, ids.CAC_PAYBACK_MONTHS,
                                                    ids.RETENTION_COST]
    assert spec.kpis_reading(C.SURVEYS) == list(ids.VOICE_KPIS)
    assert spec.kpis_reading(C.MARKET_SIZE) == [ids.MARKET_SHARE]
    assert spec.kpis_reading(C.SEGMENTATION_COSTS) == [ids.SEGMENTATION_EFFICIENCY]
    assert spec.missing_inputs([C.MARKETING_SPEND, C.MARKET_SIZE, C.SEGMENTATION_COSTS]) == {
        ids.CSAT: "csat needs surveys (customer_id, response_date, csat)",
        ids.CSI: "csi needs surveys (customer_id, response_date, csat)",
        ids.NPS: "nps needs surveys (customer_id, response_date, nps)",
        ids.NPS_CHANGE: "nps_change needs surveys (customer_id, response_date, nps)",
        ids.BRAND_EQUITY_INDEX: "brand_equity_index needs surveys (customer_id, response_date, "
                                "nps; optional aware, perceived_quality)",
        ids.CUSTOMER_INSIGHT_PENETRATION: "customer_insight_penetration needs surveys "
                                          "(customer_id, response_date)",
    }
    assert spec.missing_inputs(list(C.CONTRACT)) == {}


def test_chart_titles_default_to_the_name_and_panel_titles_read_as_prose(specs):
    assert specs[ids.REVENUE].chart_title == specs[ids.REVENUE].name
    assert specs[ids.REVENUE].chart_subtitle == ""
    assert specs[ids.NPS].chart_subtitle == "% promoters (9–10) minus % detractors (0–6)"
    titles = lambda *kpis: spec.in_words([specs[k].chart_title for k in kpis])  # noqa: E731
    assert titles(ids.ACQUISITION_RATE, ids.AVERAGE_ORDER_VALUE) == \
        "Acquisition rate and average order value"
    assert titles(ids.CLV_GROWTH, ids.CAC, ids.RETENTION_COST) == \
        "CLV growth, acquisition cost and retention cost"
    assert titles(ids.CSI, ids.NPS_CHANGE, ids.BRAND_EQUITY_INDEX,
                  ids.CUSTOMER_INSIGHT_PENETRATION) == \
        "Satisfaction index, NPS change, brand equity and insight penetration"
    assert titles(ids.SEGMENTATION_EFFICIENCY, ids.SEGMENT_SEPARATION) == \
        "Cost per segment and segment separation"


def test_the_readme_shows_the_kpi_table_of_the_specs():
    table = spec.kpi_table_markdown()
    text = README.read_text(encoding="utf-8")
    assert table in text, ("the README's KPI table differs from the specs: paste the output of "
                           "`python -m segreport.kpis` over it")
    after = text[text.index(table) + len(table):]
    assert not after.startswith("|") and not after.lstrip("\n").startswith("| `")
    assert text.count("| `kpi` in `kpis.csv` |") == 1


# --------------------------------------------------------------------------- broken specs
GOOD = {"name": "Churn rate", "short_label": "Churn", "unit": "%", "higher_is_better": False,
        "inputs": [{"table": "orders", "columns": ["customer_id"]}], "formula": "x",
        "definition": "y"}


def check(fields: dict) -> str:
    with pytest.raises(ValidationError) as info:
        KpiSpec.model_validate({"id": "churn_rate", "family": "base", **fields})
    return str(info.value)


@pytest.mark.parametrize("change, words", [
    ({"unit": "pct"}, "unknown unit 'pct'"),
    ({"bands": [{"min": 5, "label": "a", "meaning": "m"}, {"min": 10, "label": "b", "meaning": "m"},
                {"min": None, "label": "c", "meaning": "m"}]}, "must fall"),
    ({"bands": [{"min": 5, "label": "a", "meaning": "m"}]}, "min: null"),
    ({"inputs": [{"table": "order", "columns": ["customer_id"]}]}, "unknown table 'order'"),
    ({"inputs": [{"table": "orders", "columns": ["amout"]}]}, "orders has no column amout"),
    ({"colour": "red"}, "Extra inputs are not permitted"),
])
def test_a_broken_spec_is_refused(change, words):
    assert words in check({**GOOD, **change})


def test_a_spec_is_frozen():
    s = KpiSpec.model_validate({"id": "churn_rate", "family": "base", **GOOD})
    with pytest.raises(ValidationError):
        s.unit = "points"
    assert Band(min=None, label="a", meaning="m").min is None


def load_with(monkeypatch, file: str, sections: dict) -> str:
    """The error of :func:`spec.load_specs` when ``file`` also holds ``sections``."""
    real = spec._raw
    monkeypatch.setattr(spec, "_raw", lambda name: {**real(name), **sections}
                        if name == file else real(name))
    spec.load_specs.cache_clear()
    try:
        with pytest.raises(ConfigError) as info:
            spec.load_specs()
    finally:
        monkeypatch.undo()
        spec.load_specs.cache_clear()
    return str(info.value)


def test_a_broken_spec_file_names_the_file_the_kpi_and_the_field(monkeypatch):
    message = load_with(monkeypatch, "cards_value.yaml",
                        {"cac": {**GOOD, "unit": "pct", "colur": "red"}})
    assert "segreport/kpis/cards_value.yaml: KPI 'cac': field 'unit': unknown unit 'pct'" in message
    assert "segreport/kpis/cards_value.yaml: KPI 'cac': field 'colur': unknown field" in message
    assert spec.load_specs()[ids.CAC].unit == "currency per new customer"


def test_a_kpi_in_two_files_or_an_unknown_related_kpi_is_refused(monkeypatch):
    message = load_with(monkeypatch, "cards_voice.yaml",
                        {"churn_rate": {**GOOD, "related": ["churn_rat"]}})
    assert "segreport/kpis/cards_voice.yaml: KPI 'churn_rate' is defined twice" in message
    assert "KPI 'churn_rate': field 'related': no spec for churn_rat" in message


def test_running_text_names_a_kpi_by_its_in_text_or_its_name_in_lower_case(specs):
    assert spec.in_text(ids.CHURN_RATE) == "churn"
    assert spec.in_text(ids.NEW_CUSTOMERS) == "new customers"
    assert spec.in_text(ids.CLV_GROWTH) == "CLV growth"  # an acronym keeps its capitals
    assert spec.in_text("no_such_kpi") == "no_such_kpi"
