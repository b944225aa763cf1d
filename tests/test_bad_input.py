"""Bad data and bad parameters end ``segreport run`` with exit status 2 and one message.

Each test builds a tiny data folder in ``tmp_path`` with exactly one defect and runs the
command line in-process. The message must name the file, the column (as the user calls it)
and the offending values or row numbers (CSV: file line, header = line 1; Parquet: 1-based
row); there must be no traceback and nothing written under the output folder.

No notebook is executed here: ``execute`` is replaced by a function that fails the test,
so a defect that slips through validation shows up as a failure, not as a slow run.
"""
from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from segreport.cli import main
from segreport.data.facts import period_facts
from segreport.data.read import read_dataset
from segreport.errors import ConfigError, DataError
from segreport.period import Period

ORDERS_CSV = """\
order_id,customer_id,order_date,amount
o1,c1,2026-07-03,120.50
o2,c2,2026-08-14,80
o3,c1,2026-09-20,-20
o4,c3,2025-11-02,45
"""
CUSTOMERS_CSV = """\
customer_id,signup_date,segment,business_unit
c1,2025-01-10,Gold,Retail
c2,2026-07-01,Silver,Online
c3,2025-10-01,Gold,Retail
"""
PROGRESS = re.compile(r"^segreport: \[\d/\d\] ")


def orders_frame() -> pd.DataFrame:
    """The orders of ORDERS_CSV, every column as text (so a bad value can be put in)."""
    return pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4"],
        "customer_id": ["c1", "c2", "c1", "c3"],
        "order_date": ["2026-07-03", "2026-08-14", "2026-09-20", "2025-11-02"],
        "amount": ["120.50", "80", "-20", "45"],
    })


def make_data(tmp_path: Path, orders: str | pd.DataFrame | None = ORDERS_CSV,
              customers: str | pd.DataFrame | None = CUSTOMERS_CSV, **others) -> Path:
    """A data folder: text is written as ``<table>.csv``, a frame as ``<table>.parquet``."""
    folder = tmp_path / "data"
    folder.mkdir(parents=True)
    for table, content in {"orders": orders, "customers": customers, **others}.items():
        if content is None:
            continue
        if isinstance(content, pd.DataFrame):
            content.to_parquet(folder / f"{table}.parquet", index=False)
        else:
            (folder / f"{table}.csv").write_text(content)
    return folder


def write_params(tmp_path: Path, data_dir: Path | str, **values) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"data_dir": str(data_dir), "period": "2026Q3", **values}))
    return path


@pytest.fixture(autouse=True)
def no_notebook(monkeypatch):
    """Bad input must be stopped before the notebook runs (and no notebook runs here)."""
    def execute(*args, **kwargs):
        raise AssertionError("the input passed validation and the notebook was started")

    monkeypatch.setattr("segreport.report.run.execute", execute)


def files_under(out: Path) -> list[Path]:
    """Everything under ``out`` except an empty ``.staging`` folder."""
    if not out.exists():
        return []
    return [p for p in out.rglob("*")
            if p.is_file() or p.relative_to(out).parts[0] != ".staging"]


def run_bad(tmp_path: Path, capsys, params: Path, *sets: str, debug: bool = False) -> str:
    """Run ``segreport run`` and check the common rules; return the error message."""
    out = tmp_path / "out"
    argv = (["--debug"] if debug else []) + [
        "run", "--params", str(params), "--set", f"output_dir={out}"]
    for item in sets:
        argv += ["--set", item]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert "Traceback" not in captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("segreport: error: ")]
    assert len(errors) == 1, captured.err
    others = [line for line in lines if line not in errors]
    assert all(PROGRESS.match(line) for line in others), captured.err
    assert captured.out == ""
    assert files_under(out) == [], "nothing may be written under output_dir"
    return errors[0].removeprefix("segreport: error: ")


def check(message: str, *fragments: str) -> None:
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in: {message}"


# --- the baseline is valid -------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_baseline_data_passes_validation(tmp_path, fmt):
    """Each test below changes one thing in this folder; unchanged, it is valid."""
    if fmt == "csv":
        data = make_data(tmp_path)
    else:
        data = make_data(tmp_path, orders=orders_frame(),
                         customers=pd.read_csv(make_data(tmp_path / "c") / "customers.csv"))
    ds = read_dataset(data)
    facts = period_facts(ds, Period.parse("2026Q3"), "Retail", 365)
    assert sorted(facts.index) == ["c1", "c3"]
    assert ds.orders["amount"].sum() == pytest.approx(225.5)


def test_valid_input_reaches_the_notebook_stage(tmp_path, capsys):
    """The guard works: with the baseline data, the run gets as far as the notebook."""
    params = write_params(tmp_path, make_data(tmp_path), business_unit="Retail")
    with pytest.raises(AssertionError, match="the notebook was started"):
        main(["run", "--params", str(params), "--set", f"output_dir={tmp_path / 'out'}"])


# --- the data folder and its files ------------------------------------------------------------

def test_missing_data_folder(tmp_path, capsys):
    message = run_bad(tmp_path, capsys, write_params(tmp_path, tmp_path / "no_such_folder"))
    check(message, "no_such_folder", "data folder not found", "data_dir")


def test_missing_orders_file(tmp_path, capsys):
    data = make_data(tmp_path, orders=None)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, str(data / "orders.csv"), "required file is missing", "orders.parquet",
          "files present: customers.csv")


def test_both_csv_and_parquet_for_one_table(tmp_path, capsys):
    data = make_data(tmp_path)
    orders_frame().to_parquet(data / "orders.parquet")
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.csv", "orders.parquet", "Keep one of them")


@pytest.mark.parametrize("table", ["orders", "customers"])
def test_missing_required_column(tmp_path, capsys, table):
    text = {"orders": ORDERS_CSV, "customers": CUSTOMERS_CSV}[table]
    column = {"orders": "amount", "customers": "segment"}[table]
    frame = pd.read_csv(io.StringIO(text), dtype=str).drop(columns=column)
    data = make_data(tmp_path, **{table: frame.to_csv(index=False)})
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, f"{table}.csv", f"missing required column(s) '{column}'", "Columns present:")


def test_missing_required_column_parquet(tmp_path, capsys):
    data = make_data(tmp_path, orders=orders_frame().drop(columns="order_date"))
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.parquet", "'order_date'", "Columns present: order_id, customer_id")


def test_missing_mapped_column_names_the_users_name(tmp_path, capsys):
    data = make_data(tmp_path)  # has `amount`, but the params say it is called `amt`
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data),
                      "columns.orders.amount=amt")
    check(message, "orders.csv", "'amt'", "your name for amount", "Columns present:")


def test_missing_mapped_column_from_the_params_file(tmp_path, capsys):
    data = make_data(tmp_path)
    params = write_params(tmp_path, data, columns={"customers": {"segment": "tier"}})
    message = run_bad(tmp_path, capsys, params)
    check(message, "customers.csv", "'tier'", "your name for segment")


def test_semicolon_separated_csv(tmp_path, capsys):
    data = make_data(tmp_path, orders=ORDERS_CSV.replace(",", ";"))
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.csv", "missing required column(s)", "';'", "save it with commas")


def test_csv_that_is_not_utf8(tmp_path, capsys):
    data = make_data(tmp_path)
    (data / "customers.csv").write_bytes(
        CUSTOMERS_CSV.replace("Gold", "Or\xe9").encode("latin-1"))
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "customers.csv", "UTF-8")


def test_file_that_is_not_parquet(tmp_path, capsys):
    data = make_data(tmp_path, orders=None)
    (data / "orders.parquet").write_text(ORDERS_CSV)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.parquet", "cannot be read as Parquet")


# --- empty tables -----------------------------------------------------------------------------

def test_header_only_csv(tmp_path, capsys):
    data = make_data(tmp_path, orders=ORDERS_CSV.splitlines()[0] + "\n")
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.csv", "the table is empty (no data rows)")


def test_zero_byte_csv(tmp_path, capsys):
    data = make_data(tmp_path, orders="")
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.csv", "the file is empty")


def test_parquet_without_rows(tmp_path, capsys):
    data = make_data(tmp_path, orders=orders_frame().iloc[:0])
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.parquet", "the table is empty")


def test_empty_optional_table(tmp_path, capsys):
    data = make_data(tmp_path, marketing_spend="period,segment,acquisition_spend,retention_spend\n")
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "marketing_spend.csv", "the table is empty", "remove the file")


# --- unparseable dates -------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["2026-13-01", "03/07/2026", "yesterday", "2026-02-30"])
def test_unparseable_date_csv(tmp_path, capsys, bad):
    data = make_data(tmp_path, orders=ORDERS_CSV.replace("2026-08-14", bad))
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.csv", "column 'order_date'", f"'{bad}'", "(line 3)", "YYYY-MM-DD")


def test_unparseable_date_parquet(tmp_path, capsys):
    frame = orders_frame()
    frame.loc[3, "order_date"] = "2025-11-31"
    data = make_data(tmp_path, orders=frame)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.parquet", "column 'order_date'", "'2025-11-31'", "(row 4)")


def test_unparseable_date_in_a_mapped_column(tmp_path, capsys):
    text = ORDERS_CSV.replace("order_date", "Datum").replace("2026-09-20", "20.09.2026")
    data = make_data(tmp_path, orders=text)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data),
                      "columns.orders.order_date=Datum")
    check(message, "orders.csv", "column 'Datum'", "'20.09.2026'", "(line 4)")


def test_several_bad_dates_are_counted_and_listed(tmp_path, capsys):
    rows = "".join(f"x{i},c1,2026-07-{i:02d}x,1\n" for i in range(1, 9))
    data = make_data(tmp_path, orders=ORDERS_CSV + rows)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "8 dates that are not ISO dates", "'2026-07-01x'",
          "(lines 6, 7, 8, 9, 10)")


def test_unparseable_signup_date_in_customers(tmp_path, capsys):
    data = make_data(tmp_path, customers=CUSTOMERS_CSV.replace("2026-07-01", "July 1st"))
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "customers.csv", "column 'signup_date'", "'July 1st'", "(line 3)")


@pytest.mark.parametrize("bad", ["9999-12-31", "0202-07-01"])
def test_out_of_range_date_csv(tmp_path, capsys, bad):
    data = make_data(tmp_path, orders=ORDERS_CSV.replace("2026-07-03", bad))
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.csv", "column 'order_date'", f"'{bad}'", "(line 2)",
          "outside the years 1900 to 2199")


def test_out_of_range_date_parquet(tmp_path, capsys):
    frame = orders_frame()
    frame.loc[1, "order_date"] = "9999-12-31"
    data = make_data(tmp_path, orders=frame)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.parquet", "'9999-12-31'", "(row 2)")


def test_empty_order_date(tmp_path, capsys):
    data = make_data(tmp_path, orders=ORDERS_CSV.replace("2026-09-20", ""))
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.csv", "column 'order_date'", "1 empty date", "(line 4)")


def test_churn_before_signup(tmp_path, capsys):
    text = CUSTOMERS_CSV.replace("business_unit\n", "business_unit,churn_date\n")
    text = text.replace("Retail\n", "Retail,\n", 1).replace("Online\n", "Online,2026-06-30\n")
    text = text.replace("c3,2025-10-01,Gold,Retail\n", "c3,2025-10-01,Gold,Retail,\n")
    data = make_data(tmp_path, customers=text)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "customers.csv", "column 'churn_date'", "before the signup date", "'c2'",
          "(line 3)")


# --- non-numeric amounts -------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["abc", "12,50", "€80", "1 000", "inf"])
def test_non_numeric_amount_csv(tmp_path, capsys, bad):
    cell = f'"{bad}"' if "," in bad else bad
    data = make_data(tmp_path, orders=ORDERS_CSV.replace(",80\n", f",{cell}\n"))
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.csv", "column 'amount'", f"'{bad}'", "(line 3)", "plain numbers")


def test_non_numeric_amount_parquet(tmp_path, capsys):
    frame = orders_frame()
    frame.loc[0, "amount"] = "n/a"
    data = make_data(tmp_path, orders=frame)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.parquet", "column 'amount'", "'n/a'", "(row 1)")


def test_infinite_amount_in_a_numeric_parquet_column(tmp_path, capsys):
    frame = orders_frame()
    frame["amount"] = [120.5, 80.0, float("inf"), 45.0]
    data = make_data(tmp_path, orders=frame)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.parquet", "column 'amount'", "'inf'", "(row 3)")


def test_empty_amount_parquet(tmp_path, capsys):
    frame = orders_frame()
    frame["amount"] = [120.5, None, -20.0, 45.0]
    data = make_data(tmp_path, orders=frame)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.parquet", "column 'amount'", "1 empty value", "(row 2)")


def test_non_numeric_amount_in_a_mapped_column(tmp_path, capsys):
    data = make_data(tmp_path, orders=ORDERS_CSV.replace("amount", "Betrag")
                     .replace("120.50", "120.50 EUR"))
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data),
                      "columns.orders.amount=Betrag")
    check(message, "orders.csv", "column 'Betrag'", "'120.50 EUR'", "(line 2)")


def test_non_numeric_value_in_an_optional_table(tmp_path, capsys):
    spend = ("period,segment,acquisition_spend,retention_spend\n"
             "2026Q3,Gold,100,50\n2026Q3,Silver,lots,10\n")
    data = make_data(tmp_path, marketing_spend=spend)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "marketing_spend.csv", "column 'acquisition_spend'", "'lots'", "(line 3)")


def test_bad_period_in_an_optional_table(tmp_path, capsys):
    spend = ("period,segment,acquisition_spend,retention_spend\n"
             "2026Q3,Gold,100,50\nQ3-2026,Silver,20,10\n")
    data = make_data(tmp_path, marketing_spend=spend)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "marketing_spend.csv", "column 'period'", "'Q3-2026'", "(line 3)")


# --- line numbers are the lines of the file --------------------------------------------------------

def test_line_numbers_count_blank_lines(tmp_path, capsys):
    text = ORDERS_CSV.replace("o2,", "\no2,").replace(",80\n", ",eighty\n")
    data = make_data(tmp_path, orders=text)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "'eighty'", "(line 4)")


def test_line_numbers_count_quoted_cells_over_two_lines(tmp_path, capsys):
    text = ("order_id,customer_id,order_date,amount,note\n"
            'o1,c1,2026-07-03,120.50,"first\nsecond"\n'
            "o2,c2,2026-08-14,eighty,\n")
    data = make_data(tmp_path, orders=text)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "'eighty'", "(line 4)")


# --- ids ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("column, old, new, line", [
    ("order_id", "o3,", ",", 4), ("order_id", "o3,", "  ,", 4), ("customer_id", "o2,c2,", "o2,,", 3),
])
def test_empty_id_csv(tmp_path, capsys, column, old, new, line):
    data = make_data(tmp_path, orders=ORDERS_CSV.replace(old, new))
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.csv", f"column '{column}'", "1 empty id", f"(line {line})",
          f"Fill in {column} on every row")


def test_empty_id_parquet(tmp_path, capsys):
    frame = orders_frame()
    frame.loc[2, "customer_id"] = None
    data = make_data(tmp_path, orders=frame)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.parquet", "column 'customer_id'", "(row 3)")


def test_empty_customer_id_in_customers(tmp_path, capsys):
    data = make_data(tmp_path, customers=CUSTOMERS_CSV.replace("c2,", ","))
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "customers.csv", "column 'customer_id'", "(line 3)")


def test_duplicate_customer_ids_csv(tmp_path, capsys):
    data = make_data(tmp_path, customers=CUSTOMERS_CSV + "c2,2026-07-02,Gold,Online\n")
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "customers.csv", "column 'customer_id'", "1 customer id appears more than once",
          "'c2'", "(lines 3, 5)", "one row per customer")


def test_duplicate_customer_ids_after_trimming_spaces(tmp_path, capsys):
    data = make_data(tmp_path, customers=CUSTOMERS_CSV + "c1 ,2026-07-02,Gold,Online\n")
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "'c1'", "(lines 2, 5)")


def test_duplicate_customer_ids_parquet_mapped(tmp_path, capsys):
    frame = pd.read_csv(make_data(tmp_path / "c") / "customers.csv").rename(
        columns={"customer_id": "Kunde"})
    frame = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    data = make_data(tmp_path, customers=frame)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data),
                      "columns.customers.customer_id=Kunde")
    check(message, "customers.parquet", "column 'Kunde'", "'c1'", "(rows 1, 4)")


def test_no_order_matches_a_customer(tmp_path, capsys):
    data = make_data(tmp_path, customers=re.sub(r"^c(\d)", r"C\1", CUSTOMERS_CSV, flags=re.M))
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    check(message, "orders.csv", "column 'customer_id'", "none of the customer ids is in "
          "customers.csv", "'c1'", "'C1'")


# --- the period ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("period, expect", [
    ("2026Q5", "'2026Q5' is not a quarter"),
    ("Q3-2026", "did you mean 2026Q3?"),
    ("0000Q1", "the year must be between"),
])
def test_impossible_period_in_the_params_file(tmp_path, capsys, period, expect):
    params = write_params(tmp_path, make_data(tmp_path), period=period)
    message = run_bad(tmp_path, capsys, params)
    check(message, str(params), "parameter 'period'", expect)


def test_impossible_period_in_set(tmp_path, capsys):
    message = run_bad(tmp_path, capsys, write_params(tmp_path, make_data(tmp_path)),
                      "period=2026Q5")
    check(message, "--set", "parameter 'period'", "'2026Q5'", "YYYYQn")


def test_period_after_the_last_order(tmp_path, capsys):
    message = run_bad(tmp_path, capsys, write_params(tmp_path, make_data(tmp_path)),
                      "period=2027Q1")
    check(message, "period 2027Q1", "orders.csv", "after the last order", "2026-09-20")


def test_period_before_the_first_order(tmp_path, capsys):
    data = make_data(tmp_path, orders=orders_frame())
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data, period="2025Q2"))
    check(message, "period 2025Q2", "orders.parquet", "before the first order", "2025-11-02")


# --- other parameters ------------------------------------------------------------------------------------

def test_unknown_business_unit(tmp_path, capsys):
    params = write_params(tmp_path, make_data(tmp_path), business_unit="Wholesale")
    message = run_bad(tmp_path, capsys, params)
    check(message, "business_unit 'Wholesale'", "customers.csv", "column 'business_unit'",
          "units present: Online, Retail")


def test_business_unit_without_a_customers_table(tmp_path, capsys):
    params = write_params(tmp_path, make_data(tmp_path, customers=None), business_unit="Retail")
    message = run_bad(tmp_path, capsys, params)
    check(message, "business_unit 'Retail'", "no customers table")


def test_unknown_business_unit_names_the_mapped_column(tmp_path, capsys):
    data = make_data(tmp_path, customers=CUSTOMERS_CSV.replace("business_unit", "Sparte"))
    params = write_params(tmp_path, data, business_unit="Wholesale",
                          columns={"customers": {"business_unit": "Sparte"}})
    check(run_bad(tmp_path, capsys, params), "column 'Sparte'")


def test_unknown_parameter_key_in_the_file(tmp_path, capsys):
    params = write_params(tmp_path, make_data(tmp_path), peroid="2026Q3")
    message = run_bad(tmp_path, capsys, params)
    check(message, str(params), "parameter 'peroid'", "unknown parameter",
          "did you mean 'period'?")


def test_unknown_parameter_key_in_set(tmp_path, capsys):
    message = run_bad(tmp_path, capsys, write_params(tmp_path, make_data(tmp_path)),
                      "active_days=30")
    check(message, "--set", "parameter 'active_days'", "unknown parameter")


def test_unknown_column_in_the_columns_mapping(tmp_path, capsys):
    message = run_bad(tmp_path, capsys, write_params(tmp_path, make_data(tmp_path)),
                      "columns.orders.amt=amount")
    check(message, "--set", "parameter 'columns'", "unknown column(s) 'amt'", "table 'orders'")


@pytest.mark.parametrize("item", ["period2026Q3", "=2026Q3", "period:2026Q3"])
def test_bad_set_syntax(tmp_path, capsys, item):
    message = run_bad(tmp_path, capsys, write_params(tmp_path, make_data(tmp_path)), item)
    check(message, f"--set {item!r}", "KEY")


@pytest.mark.parametrize("value", ["-30", "0", "soon"])
def test_bad_active_window_days(tmp_path, capsys, value):
    message = run_bad(tmp_path, capsys, write_params(tmp_path, make_data(tmp_path)),
                      f"active_window_days={value}")
    check(message, "--set", "parameter 'active_window_days'", value)


def test_negative_active_window_days_in_the_params_file(tmp_path, capsys):
    params = write_params(tmp_path, make_data(tmp_path), active_window_days=-7)
    message = run_bad(tmp_path, capsys, params)
    check(message, str(params), "parameter 'active_window_days'", "-7")


def test_missing_params_file(tmp_path, capsys):
    message = run_bad(tmp_path, capsys, tmp_path / "nope.yaml")
    check(message, "nope.yaml", "params file not found")


def test_invalid_yaml_params_file(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text("period: 2026Q3\nbusiness_unit: [Retail\n")
    message = run_bad(tmp_path, capsys, params)
    check(message, str(params), "not valid YAML at line")


# --- reading details that are not errors ---------------------------------------------------------------

def test_mixed_utc_offsets_keep_the_local_date(tmp_path):
    text = ORDERS_CSV.replace("2026-07-03", "2026-07-03T23:30:00+02:00").replace(
        "2025-11-02", "2025-11-02T08:00:00+01:00")
    ds = read_dataset(make_data(tmp_path, orders=text))
    assert [str(d.date()) for d in ds.orders["order_date"]] == [
        "2026-07-03", "2026-08-14", "2026-09-20", "2025-11-02"]


def test_a_column_mapped_onto_an_optional_columns_name(tmp_path):
    text = ORDERS_CSV.replace("amount", "margin")  # the file's margin column is the amount
    ds = read_dataset(make_data(tmp_path, orders=text), {"orders": {"amount": "margin"}})
    assert ds.orders["amount"].tolist() == [120.5, 80.0, -20.0, 45.0]
    assert "margin" not in ds.orders


def test_spaces_after_commas_in_the_header(tmp_path):
    ds = read_dataset(make_data(tmp_path, orders=ORDERS_CSV.replace(",", ", ")))
    assert ds.orders["amount"].tolist() == [120.5, 80.0, -20.0, 45.0]


# --- --debug and the real terminal -----------------------------------------------------------------------

def test_debug_re_raises_the_data_error(tmp_path):
    params = write_params(tmp_path, make_data(tmp_path, orders=ORDERS_CSV.replace(",80\n", ",x\n")))
    with pytest.raises(DataError, match=r"orders\.csv, column 'amount'.*'x' \(line 3\)"):
        main(["--debug", "run", "--params", str(params), "--set", f"output_dir={tmp_path / 'out'}"])
    assert files_under(tmp_path / "out") == []


def test_debug_re_raises_the_config_error(tmp_path):
    params = write_params(tmp_path, make_data(tmp_path), period="2026Q5")
    with pytest.raises(ConfigError, match="parameter 'period'"):
        main(["--debug", "run", "--params", str(params)])


def test_subprocess_prints_one_line_and_no_traceback(tmp_path):
    """Through the installed console script, as a user would run it."""
    data = make_data(tmp_path, customers=CUSTOMERS_CSV + "c2,2026-07-02,Gold,Online\n")
    params = write_params(tmp_path, data)
    script = Path(sys.executable).with_name("segreport")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "segreport.cli"]
    out = tmp_path / "out"
    done = subprocess.run(command + ["run", "--params", str(params), "--set", f"output_dir={out}"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("segreport: error: ")]
    assert len(errors) == 1, done.stderr
    assert all(PROGRESS.match(line) or line in errors
               for line in done.stderr.splitlines() if line.strip()), done.stderr
    check(errors[0], "customers.csv", "column 'customer_id'", "'c2'", "(lines 3, 5)")
    assert done.stdout == ""
    assert files_under(out) == []
