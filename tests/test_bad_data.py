"""Data that cannot be right is refused before anything is written: values outside a
column's documented range, ids that are missing-value markers, a header naming a column
twice, a row with more fields than the header. Each case is one damaged copy of a tiny
data folder, run through ``segreport run`` (exit 2, one message naming the file, the
column, the values and the lines)."""
from __future__ import annotations

import pytest
from test_bad_input import CUSTOMERS_CSV, ORDERS_CSV, make_data, run_bad, write_params

SURVEYS_CSV = """\
customer_id,response_date,nps,csat
c1,2026-07-10,9,5
c2,2026-08-01,7,4
"""
SPEND_CSV = """\
period,segment,acquisition_spend,retention_spend
2026Q3,Gold,1000,200
2026Q3,Silver,500,100
"""

CASES = [
    # (id, tables, expected words)
    ("nps above 10", {"surveys": SURVEYS_CSV.replace("c2,2026-08-01,7,4", "c2,2026-08-01,11,4")},
     ["surveys.csv", "column 'nps'", "outside the column's range (from 0 to 10)", "'11'",
      "line 3"]),
    ("csat above 5", {"surveys": SURVEYS_CSV.replace("c1,2026-07-10,9,5", "c1,2026-07-10,9,7")},
     ["surveys.csv", "column 'csat'", "from 1 to 5", "'7'", "line 2"]),
    ("csat of 0", {"surveys": SURVEYS_CSV.replace("c2,2026-08-01,7,4", "c2,2026-08-01,7,0")},
     ["column 'csat'", "'0'", "line 3"]),
    ("negative spend", {"marketing_spend": SPEND_CSV.replace("500,100", "-129,100")},
     ["marketing_spend.csv", "column 'acquisition_spend'", "(0 or more)", "'-129'", "line 3"]),
    ("negative market size", {"market_size": "period,segment,market_customers\n"
                                             "2026Q3,Gold,-5\n2026Q3,Silver,40\n"},
     ["market_size.csv", "column 'market_customers'", "'-5'", "line 2"]),
    ("NULL as a customer id", {"orders": ORDERS_CSV.replace("o2,c2,", "o2,NULL,")},
     ["orders.csv", "column 'customer_id'", "missing-value marker", "'NULL'", "line 3"]),
    ("NaN as a customer id", {"customers": CUSTOMERS_CSV.replace("c3,2025-10-01", "NaN,2025-10-01")},
     ["customers.csv", "column 'customer_id'", "'NaN'", "line 4"]),
    ("a column named twice", {"orders": ORDERS_CSV.replace("order_date,amount",
                                                           "order_date,amount,amount", 1)
                              .replace("120.50\n", "120.50,1\n")},
     ["orders.csv", "names a column more than once", "'amount'"]),
    ("an unquoted comma in a segment", {"customers": CUSTOMERS_CSV.replace(
        "c2,2026-07-01,Silver,Online", "c2,2026-07-01,Silver, Plus,Online")},
     ["customers.csv", "cannot be read as CSV", "line 3"]),
]


@pytest.mark.parametrize("case, tables, words", CASES, ids=[c[0] for c in CASES])
def test_data_that_cannot_be_right_is_refused(tmp_path, capsys, case, tables, words):
    content = {"orders": ORDERS_CSV, "customers": CUSTOMERS_CSV} | tables
    data = make_data(tmp_path, **content)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    for word in words:
        assert word in message, f"{word!r} not in: {message}"


def test_values_on_the_edges_of_their_ranges_are_accepted(tmp_path):
    from segreport.data.read import read_dataset

    surveys = "customer_id,response_date,nps,csat\nc1,2026-07-10,0,1\nc2,2026-08-01,10,5\n"
    data = make_data(tmp_path, surveys=surveys,
                     marketing_spend=SPEND_CSV.replace("500,100", "0,0"))
    ds = read_dataset(data)
    assert ds.tables["surveys"]["nps"].tolist() == [0.0, 10.0]
    assert ds.tables["marketing_spend"]["acquisition_spend"].tolist() == [1000.0, 0.0]


def test_a_parquet_value_outside_its_range_is_found_in_the_engine_and_named(tmp_path, capsys):
    import pandas as pd

    surveys = pd.DataFrame({"customer_id": ["c1", "c2"],
                            "response_date": pd.to_datetime(["2026-07-10", "2026-08-01"]),
                            "nps": [9.0, 11.0], "csat": [5.0, 4.0]})
    data = make_data(tmp_path, surveys=surveys)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    for word in ("surveys.parquet", "column 'nps'", "from 0 to 10", "11", "row 2"):
        assert word in message, f"{word!r} not in: {message}"


UNKNOWN_ORDER = "o5,zz,2026-08-02,30\n"  # 1 of 5 order rows: 20 %


def test_orders_of_unknown_customers_beyond_the_allowed_share_stop_the_run(tmp_path, capsys):
    data = make_data(tmp_path, orders=ORDERS_CSV + UNKNOWN_ORDER)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    for word in ("orders.csv", "column 'customer_id'", "1 of 5 order rows (20.0 %)",
                 "customers.csv", "more than the 1 % allowed", "'zz'",
                 "max_unknown_customer_pct"):
        assert word in message, f"{word!r} not in: {message}"


def test_below_the_allowed_share_they_are_set_aside_and_the_first_page_says_so(tmp_path):
    from segreport.prepared.build import prepare
    from segreport.report import sections

    data = make_data(tmp_path, orders=ORDERS_CSV + UNKNOWN_ORDER)
    info = prepare(tmp_path / "prepared", data, ["2026Q3"], max_unknown_customer_pct=25).info
    first_page = sections.title("2026Q3", "", str(data), info, 365).data
    assert "Set aside: 1 of 5 order rows (20.0%) belong to no customer" in first_page
    # they belong to no business unit: a unit's report neither counts nor lists them
    assert "Set aside" not in sections.title("2026Q3", "Retail", str(data), info, 365).data
    import pandas as pd
    facts = pd.DataFrame({"acquired_at": pd.to_datetime(["2025-01-10"])})
    assert "zz" in sections.data_quality(info, facts, "").data
    assert "zz" not in sections.data_quality(info, facts, "Retail").data


def test_a_reported_quarter_without_orders_is_refused_not_reported_as_zeros(tmp_path, capsys):
    # orders in 2026Q1 and 2026Q4 only: 2026Q3 lies inside the data but has none
    orders = ("order_id,customer_id,order_date,amount\n"
              "o1,c1,2026-02-03,120.50\no2,c2,2026-10-14,80\no3,c3,2026-01-20,45\n")
    data = make_data(tmp_path, orders=orders)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    for word in ("period 2026Q3", "no order is dated in it", "orders.csv",
                 "from 2026-01-20 to 2026-10-14"):
        assert word in message, f"{word!r} not in: {message}"


def _customers_with(column: str, values: list):
    """CUSTOMERS_CSV as a Parquet frame with a numeric profile column (checked in the
    engine)."""
    import pandas as pd

    frame = pd.DataFrame({"customer_id": ["c1", "c2", "c3"],
                          "signup_date": pd.to_datetime(["2025-01-10", "2026-07-01",
                                                         "2025-10-01"]),
                          "segment": ["Gold", "Silver", "Gold"],
                          "business_unit": ["Retail", "Online", "Retail"]})
    frame[column] = values
    return frame


SURVEYS_MORE = "customer_id,response_date,nps,csat,aware,perceived_quality\n" \
               "c1,2026-07-10,9,5,1,4\nc2,2026-08-01,7,4,0,3\n"
RANGES = [
    # Every documented range of the data contract, each broken once: (id, tables, words).
    ("nps below 0", {"surveys": SURVEYS_CSV.replace("c1,2026-07-10,9,5", "c1,2026-07-10,-1,5")},
     ["surveys.csv", "column 'nps'", "from 0 to 10", "'-1'", "line 2"]),
    ("aware above 1", {"surveys": SURVEYS_MORE.replace("7,4,0,3", "7,4,2,3")},
     ["surveys.csv", "column 'aware'", "from 0 to 1", "'2'", "line 3"]),
    ("perceived quality of 0", {"surveys": SURVEYS_MORE.replace("9,5,1,4", "9,5,1,0")},
     ["surveys.csv", "column 'perceived_quality'", "from 1 to 5", "'0'", "line 2"]),
    ("negative retention spend", {"marketing_spend": SPEND_CSV.replace("1000,200", "1000,-3")},
     ["marketing_spend.csv", "column 'retention_spend'", "(0 or more)", "'-3'", "line 2"]),
    ("negative segmentation cost", {"segmentation_costs": "period,cost\n2026Q3,-10\n"},
     ["segmentation_costs.csv", "column 'cost'", "(0 or more)", "'-10'", "line 2"]),
    ("negative age", {"customers": CUSTOMERS_CSV.replace(
        "business_unit\n", "business_unit,age\n").replace("Retail\n", "Retail,40\n", 1)
        .replace("Online\n", "Online,-4\n").replace("Gold,Retail\n", "Gold,Retail,30\n")},
     ["customers.csv", "column 'age'", "(0 or more)", "'-4'", "line 3"]),
    ("negative income in Parquet", {"customers": _customers_with("income", [1.0, -5.0, 2.0])},
     ["customers.parquet", "column 'income'", "(0 or more)", "-5", "row 2"]),
]


@pytest.mark.parametrize("case, tables, words", RANGES, ids=[c[0] for c in RANGES])
def test_every_documented_range_is_enforced(tmp_path, capsys, case, tables, words):
    content = {"orders": ORDERS_CSV, "customers": CUSTOMERS_CSV} | tables
    data = make_data(tmp_path, **content)
    message = run_bad(tmp_path, capsys, write_params(tmp_path, data))
    for word in words:
        assert word in message, f"{word!r} not in: {message}"
