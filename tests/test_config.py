"""Tests of the report parameters (segreport.config) and of quarter parsing (segreport.period).

Every problem must raise ConfigError with one line that names where the value came from
(the params file or ``--set``) and the parameter, and says what to write instead.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from segreport.config import ReportParams, load_params, parse_set
from segreport.errors import ConfigError
from segreport.period import Period

DEFAULTS = {
    "data_dir": "data/sample",
    "period": "2026Q3",
    "business_unit": "",
    "active_window_days": 365,
    "output_dir": "output",
    "columns": {},
    "gross_margin_pct": 30.0,
    "max_unknown_customer_pct": 1.0,
    "segment_by": "segment",
    "predictive_clv": True,
    "clv_horizon_months": 12,
    "clv_discount_rate": 0.10,
    "email": {},
    "data_source": "",
    "tables": {},
    "password_env": "SEGREPORT_DB_PASSWORD",
    "engine": "duckdb",
    "spark_master": "local[*]",
    "targets": {},
    "commentary_dir": "commentary",
}


def write_params(tmp_path: Path, content: dict | str, name: str = "params.yaml") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def config_error(path, overrides=()) -> str:
    """The message of the ConfigError that ``load_params`` raises; it must be one line."""
    with pytest.raises(ConfigError) as info:
        load_params(path, overrides)
    message = str(info.value)
    assert "\n" not in message, message
    return message


# --- defaults and loading --------------------------------------------------------------

def test_defaults_without_a_file():
    assert load_params(None).model_dump() == DEFAULTS


def test_an_empty_file_gives_the_defaults(tmp_path):
    assert load_params(write_params(tmp_path, "")).model_dump() == DEFAULTS


def test_a_comment_only_file_gives_the_defaults(tmp_path):
    assert load_params(write_params(tmp_path, "# nothing yet\n")).model_dump() == DEFAULTS


def test_the_defaults_match_the_model():
    assert ReportParams().model_dump() == DEFAULTS


def test_values_from_the_file_replace_the_defaults(tmp_path):
    given = {"data_dir": "d", "period": "2025Q4", "business_unit": "Retail",
             "active_window_days": 90, "output_dir": "o", "columns": {"orders": {"amount": "amt"}},
             "gross_margin_pct": 42.5, "max_unknown_customer_pct": 5.0, "segment_by": "region",
             "predictive_clv": False, "clv_horizon_months": 24, "clv_discount_rate": 0.08,
             "email": {"sender": "a@example.com"}, "data_source": "", "tables": {},
             "password_env": "SEGREPORT_DB_PASSWORD", "engine": "pyspark",
             "spark_master": "spark://spark-master:7077",
             "targets": {"retention_rate": 93.0, "cac": {"Retail": {"Premium": 150.0}}},
             "commentary_dir": "notes"}
    params = load_params(write_params(tmp_path, given))
    assert params.model_dump() == given
    assert params.unit_label == "Retail"


def test_path_may_be_a_string(tmp_path):
    path = write_params(tmp_path, {"period": "2026Q1"})
    assert load_params(str(path)).period == "2026Q1"


@pytest.mark.parametrize("written, label", [
    ("2026Q3", "2026Q3"), ("2026q3", "2026Q3"), ("2026-Q3", "2026Q3"), (" 2026 Q2 ", "2026Q2"),
])
def test_quarter_spellings_are_normalised(tmp_path, written, label):
    assert load_params(write_params(tmp_path, {"period": written})).period == label


def test_business_unit_empty_or_null_means_all_units(tmp_path):
    assert load_params(write_params(tmp_path, "business_unit:\n")).business_unit == ""
    params = load_params(write_params(tmp_path, {"business_unit": "  Retail "}))
    assert params.business_unit == "Retail"
    assert load_params(None).unit_label == "All"


def test_numbers_are_read_as_names_where_a_name_is_expected(tmp_path):
    params = load_params(write_params(tmp_path, "data_dir: 2026\nbusiness_unit: 10\n"))
    assert params.data_dir == "2026" and params.business_unit == "10"


def test_notebook_parameters_are_plain_values_without_the_email_settings():
    defaults = {k: v for k, v in DEFAULTS.items() if k != "email"}
    assert load_params(None, ["columns.orders.amount=amt"]).notebook_parameters() == {
        **defaults, "columns": {"orders": {"amount": "amt"}}}


# --- --set parsing ---------------------------------------------------------------------

def test_parse_set_reads_numbers_as_numbers():
    assert parse_set(["active_window_days=30", "x=1.5"]) == {"active_window_days": 30, "x": 1.5}


def test_parse_set_nested_keys():
    assert parse_set(["columns.orders.amount=amt", "columns.orders.customer_id=cust",
                      "columns.customers.segment=tier"]) == {
        "columns": {"orders": {"amount": "amt", "customer_id": "cust"},
                    "customers": {"segment": "tier"}}}


@pytest.mark.parametrize("item", ["business_unit=", "business_unit=  ", "business_unit=''"])
def test_parse_set_empty_value(item):
    assert parse_set([item]) == {"business_unit": ""}


def test_parse_set_keeps_text_after_the_first_equals_sign():
    assert parse_set(["business_unit=A=B"]) == {"business_unit": "A=B"}


def test_parse_set_strips_spaces_around_the_key():
    assert parse_set([" period =2026Q1"]) == {"period": "2026Q1"}


@pytest.mark.parametrize("raw", ["[unclosed", "Retail: West", "{a: b}", "- x"])
def test_parse_set_keeps_values_that_are_not_yaml_scalars_as_text(raw):
    assert parse_set([f"business_unit={raw}"]) == {"business_unit": raw}


def test_parse_set_later_value_wins():
    assert parse_set(["period=2026Q1", "period=2026Q2"]) == {"period": "2026Q2"}


@pytest.mark.parametrize("item", ["period", "period2026Q3", ""])
def test_parse_set_without_equals_sign(item):
    with pytest.raises(ConfigError, match="--set .*KEY=VALUE"):
        parse_set([item])


@pytest.mark.parametrize("item", ["=5", "columns..amount=amt", "columns.orders.=amt", ".period=x"])
def test_parse_set_with_an_empty_key(item):
    with pytest.raises(ConfigError, match="the KEY before '=' is empty") as info:
        parse_set([item])
    assert repr(item) in str(info.value)


def test_parse_set_value_then_sub_key_conflict():
    with pytest.raises(ConfigError, match="'columns' is already set to a value"):
        parse_set(["columns=x", "columns.orders.amount=amt"])


def test_parse_set_sub_key_then_value_conflict():
    with pytest.raises(ConfigError, match="'columns' already has sub-keys"):
        parse_set(["columns.orders.amount=amt", "columns=x"])


def test_set_overrides_the_file_and_merges_columns(tmp_path):
    path = write_params(tmp_path, {"period": "2026Q1", "active_window_days": 90,
                                   "columns": {"orders": {"customer_id": "cust"}}})
    params = load_params(path, ["period=2026Q2", "columns.orders.amount=amt",
                                "columns.customers.segment=tier"])
    assert params.period == "2026Q2"
    assert params.active_window_days == 90
    assert params.columns == {"orders": {"customer_id": "cust", "amount": "amt"},
                              "customers": {"segment": "tier"}}


def test_set_empty_business_unit_overrides_the_file(tmp_path):
    path = write_params(tmp_path, {"business_unit": "Retail"})
    assert load_params(path, ["business_unit="]).business_unit == ""


def test_set_number_for_a_folder_is_a_name():
    assert load_params(None, ["data_dir=2026"]).data_dir == "2026"


def test_set_without_file():
    assert load_params(None, ["active_window_days=30"]).active_window_days == 30


def test_bad_set_syntax_through_load_params(tmp_path):
    path = write_params(tmp_path, {})
    message = config_error(path, ["period:2026Q3"])
    assert "--set 'period:2026Q3'" in message and "KEY=VALUE" in message


# --- unknown keys ------------------------------------------------------------------------

def test_unknown_key_in_the_file(tmp_path):
    path = write_params(tmp_path, {"peroid": "2026Q3"})
    message = config_error(path)
    assert str(path) in message
    assert "parameter 'peroid': unknown parameter" in message
    assert "did you mean 'period'?" in message
    assert "known ones: data_dir, period, business_unit" in message


def test_unknown_key_in_set_names_set(tmp_path):
    path = write_params(tmp_path, {})
    message = config_error(path, ["xyz=blue"])
    assert message.startswith("--set: parameter 'xyz': unknown parameter")
    assert str(path) not in message
    assert "did you mean" not in message


def test_several_problems_in_one_line(tmp_path):
    path = write_params(tmp_path, {"foo": 1, "period": "2026Q9"})
    message = config_error(path, ["active_window_days=-1"])
    assert f"{path}: parameter 'foo'" in message
    assert f"{path}: parameter 'period'" in message
    assert "--set: parameter 'active_window_days'" in message


# --- invalid values ----------------------------------------------------------------------

@pytest.mark.parametrize("value, expect", [
    ("2026Q5", "'2026Q5' is not a quarter; write it as YYYYQn"),
    ("2026Q0", "'2026Q0' is not a quarter"),
    ("Q3-2026", "did you mean 2026Q3?"),
    ("Q3 2026", "did you mean 2026Q3?"),
    ("2026-07", "'2026-07' is not a quarter"),
    ("26Q3", "'26Q3' is not a quarter"),
    ("", "'' is not a quarter"),
    ("0000Q1", "the year must be between 1900 and 2199"),
    ("9999Q4", "the year must be between 1900 and 2199"),
])
def test_invalid_period_in_the_file(tmp_path, value, expect):
    path = write_params(tmp_path, {"period": value})
    message = config_error(path)
    assert message.startswith(f"{path}: parameter 'period': ")
    assert expect in message


@pytest.mark.parametrize("value, expect", [
    ("2026", "2026 is not a quarter"), ("null", "None is not a quarter"),
    ("[2026, 3]", "not a quarter"),
])
def test_period_that_is_not_text(tmp_path, value, expect):
    message = config_error(write_params(tmp_path, f"period: {value}\n"))
    assert "parameter 'period'" in message and expect in message


def test_invalid_period_in_set():
    message = config_error(None, ["period=2026Q5"])
    assert message.startswith("--set: parameter 'period': '2026Q5' is not a quarter")


@pytest.mark.parametrize("value", ["-30", "0"])
def test_active_window_days_must_be_positive(tmp_path, value):
    path = write_params(tmp_path, {})
    message = config_error(path, [f"active_window_days={value}"])
    assert "parameter 'active_window_days'" in message
    assert "greater than 0" in message and f"(got {value})" in message


def test_negative_active_window_days_in_the_file(tmp_path):
    path = write_params(tmp_path, {"active_window_days": -30})
    message = config_error(path)
    assert message.startswith(f"{path}: parameter 'active_window_days'")
    assert "-30" in message


@pytest.mark.parametrize("value, expect", [
    ("abc", "valid integer"), ("30.5", "valid integer"), ("true", "whole number of days"),
    ("yes", "whole number of days"),
])
def test_active_window_days_must_be_a_whole_number(value, expect):
    message = config_error(None, [f"active_window_days={value}"])
    assert "parameter 'active_window_days'" in message and expect in message


@pytest.mark.parametrize("key", ["data_dir", "output_dir"])
def test_folders_must_not_be_empty(key):
    message = config_error(None, [f"{key}="])
    assert f"parameter '{key}': must name a folder" in message


# --- the columns mapping -----------------------------------------------------------------

def test_columns_unknown_table(tmp_path):
    path = write_params(tmp_path, {"columns": {"order": {"amount": "amt"}}})
    message = config_error(path)
    assert message.startswith(f"{path}: parameter 'columns': unknown table 'order'")
    assert "known tables: orders, customers" in message


def test_columns_unknown_column(tmp_path):
    path = write_params(tmp_path, {"columns": {"orders": {"amt": "amount"}}})
    message = config_error(path)
    assert str(path) in message
    assert "unknown column(s) 'amt' for table 'orders'" in message
    assert "its columns are: order_id, customer_id, order_date, amount, margin" in message


def test_columns_unknown_table_through_set():
    message = config_error(None, ["columns.custmers.segment=tier"])
    assert message.startswith("--set: parameter 'columns': unknown table 'custmers'")


def test_columns_empty_name():
    message = config_error(None, ["columns.orders.amount="])
    assert "table 'orders': no column name given for 'amount'" in message


def test_columns_two_columns_mapped_to_one(tmp_path):
    path = write_params(tmp_path, {"columns": {"orders": {"order_id": "id", "customer_id": "id"}}})
    message = config_error(path)
    assert "table 'orders'" in message
    assert "are both mapped to the column 'id'" in message
    assert "'order_id'" in message and "'customer_id'" in message


def test_columns_mapped_onto_a_required_column_of_the_contract():
    message = config_error(None, ["columns.orders.customer_id=order_id"])
    assert "'customer_id' is mapped to the column 'order_id'" in message
    assert "map 'order_id' to another column" in message


def test_columns_mapped_onto_an_optional_column_is_allowed():
    params = load_params(None, ["columns.orders.amount=margin"])
    assert params.columns == {"orders": {"amount": "margin"}}


@pytest.mark.parametrize("value", ["columns=amt", "columns.orders=amt"])
def test_columns_must_be_a_mapping(value):
    message = config_error(None, [value])
    assert "parameter 'columns" in message and "valid dictionary" in message


# --- the params file itself --------------------------------------------------------------

def test_missing_params_file(tmp_path):
    path = tmp_path / "nope.yaml"
    message = config_error(path)
    assert message.startswith(f"{path}: params file not found")
    assert "--params" in message


def test_invalid_yaml(tmp_path):
    path = write_params(tmp_path, "period: 2026Q3\ncolumns: {orders: [\n")
    message = config_error(path)
    assert message.startswith(f"{path}: not valid YAML at line 3")
    assert "parameter: value" in message


def test_invalid_yaml_tab_indentation(tmp_path):
    path = write_params(tmp_path, "period:\t2026Q3\n")
    message = config_error(path)
    assert message.startswith(f"{path}: not valid YAML at line 1")


def test_yaml_that_is_not_a_mapping(tmp_path):
    path = write_params(tmp_path, "- period\n- 2026Q3\n")
    message = config_error(path)
    assert message.startswith(f"{path}: expected one 'parameter: value' per line")
    assert "(got a list)" in message


def test_params_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_bytes("business_unit: Caf\xe9\n".encode("latin-1"))
    message = config_error(path)
    assert message.startswith(f"{path}: params file cannot be read")


# --- Period --------------------------------------------------------------------------------

def test_period_bounds_and_neighbours():
    p = Period.parse("2026Q4")
    assert str(p.start.date()) == "2026-10-01" and str(p.end.date()) == "2027-01-01"
    assert str(p.last_day.date()) == "2026-12-31"
    assert p.next().label == "2027Q1" and p.previous().label == "2026Q3"
    assert Period.parse("2026Q1").previous().label == "2025Q4"


def test_period_parse_names_where(tmp_path):
    with pytest.raises(ConfigError, match=r"^marketing_spend: 'Q1-2026' .* did you mean 2026Q1\?"):
        Period.parse("Q1-2026", where="marketing_spend")
    with pytest.raises(ConfigError, match=r"^'x' is not a quarter"):
        Period.parse("x", where="")
