"""Unit tests of the per-customer facts (segreport.data.facts) on small hand-made tables.

Every expected value is worked out by hand in the comment next to its assertion.
Unless a test says otherwise the period is 2026Q3, P = [2026-07-01, 2026-10-01), and the
activity window is 365 days, so (2026 is not a leap year)

* start window = [2026-07-01 − 365 d, 2026-07-01) = [2025-07-01, 2026-07-01)
* end window   = [2026-10-01 − 365 d, 2026-10-01) = [2025-10-01, 2026-10-01)
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from segreport import columns as C
from segreport.data.dataset import Dataset
from segreport.data.facts import (
    FACT_COLUMNS,
    check_period_in_data,
    customer_facts,
    period_facts,
    select_business_unit,
)
from segreport.data.read import read_dataset
from segreport.errors import ConfigError
from segreport.period import Period

START = pd.Timestamp("2026-07-01")
END = pd.Timestamp("2026-10-01")
WINDOW = 365
Q3 = Period(2026, 3)


# --- hand-made tables with the contract's names and types ----------------------------
def dates(values) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)), dtype="datetime64[ns]")


def make_orders(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """``rows`` = (customer_id, order_date, amount); order ids o1, o2, ... in row order."""
    return pd.DataFrame({
        C.ORDER_ID: pd.Series([f"o{i + 1}" for i in range(len(rows))], dtype=object),
        C.CUSTOMER_ID: pd.Series([r[0] for r in rows], dtype=object),
        C.ORDER_DATE: dates(r[1] for r in rows),
        C.AMOUNT: pd.Series([r[2] for r in rows], dtype="float64"),
    })


def make_customers(rows: list[tuple], churn: bool = False) -> pd.DataFrame:
    """``rows`` = (customer_id, signup_date or None, segment, business_unit[, churn_date]).

    With ``churn=True`` the table has a ``churn_date`` column (subscription mode).
    """
    frame = pd.DataFrame({
        C.CUSTOMER_ID: pd.Series([r[0] for r in rows], dtype=object),
        C.SIGNUP_DATE: dates(r[1] for r in rows),
        C.SEGMENT: pd.Series([r[2] for r in rows], dtype=object),
        C.BUSINESS_UNIT: pd.Series([r[3] for r in rows], dtype=object),
    })
    if churn:
        frame[C.CHURN_DATE] = dates(r[4] if len(r) > 4 else None for r in rows)
    return frame


ENGINE = {"name": "pandas", "con": None}


@pytest.fixture(scope="module")
def facts_postgres(pg_cluster):
    """An Ibis connection to a database of the shared PostgreSQL server: each test's tables
    are loaded into temporary tables there."""
    import ibis

    pg_cluster.create_database("facts")
    con = ibis.postgres.connect(host=str(pg_cluster.root), port=pg_cluster.port,
                                user="postgres", database="facts")
    yield con
    con.disconnect()


@pytest.fixture(autouse=True, params=["pandas", "duckdb", "postgres",
                                      pytest.param("pyspark", marks=pytest.mark.slow)])
def engine(request):
    """Every facts test runs on the reference (pandas) facts and on the engine's panel in
    the embedded DuckDB, in PostgreSQL and in local Spark."""
    import ibis

    ENGINE["name"], ENGINE["con"] = request.param, None
    if request.param == "postgres":
        ENGINE["con"] = request.getfixturevalue("facts_postgres")
    elif request.param == "pyspark":
        ENGINE["con"] = ibis.pyspark.connect(request.getfixturevalue("spark"))
    yield request.param
    ENGINE["name"], ENGINE["con"] = "pandas", None


def engine_facts(orders, customers, start, end, window) -> pd.DataFrame:
    """The engine's facts of the quarter ``[start, end)``: the panel's row of that quarter
    for every customer, in the reference's column order and customer order."""
    from segreport.data.quarterly import parse_quarter
    from segreport.engine import panel as P
    from segreport.engine.tables import from_dataset

    q = parse_quarter(start)
    assert P.quarter_bounds(q, q)[P.END].iloc[0] == end, "the engine works on quarters"
    data = from_dataset(dataset(orders, customers), ENGINE["con"])
    facts = P.customer_facts_at(P.panel(data, P.Window(q - 1, q), window),
                                P.trailing_year(data, [q]), q)
    order = customers[C.CUSTOMER_ID] if customers is not None else orders[C.CUSTOMER_ID].unique()
    return facts.drop(columns=[]).reindex(pd.Index(order, name=C.CUSTOMER_ID))[list(FACT_COLUMNS)]


def facts_of(orders, customers, start=START, end=END, window=WINDOW) -> pd.DataFrame:
    if ENGINE["name"] != "pandas":
        return engine_facts(orders, customers, start, end, window)
    return customer_facts(orders, customers, start, end, active_window_days=window)


def dataset(orders: pd.DataFrame, customers: pd.DataFrame | None) -> Dataset:
    tables = {C.ORDERS: orders}
    if customers is not None:
        tables[C.CUSTOMERS] = customers
    return Dataset(Path("/data/shop"), tables, {})


# --- shape of the result -------------------------------------------------------------
def test_facts_have_one_row_per_customer_indexed_by_customer_id_with_the_fact_columns():
    orders = make_orders([("A", "2026-03-01", 10.0), ("A", "2026-08-01", 5.0),
                          ("B", "2026-08-02", 7.0)])
    customers = make_customers([("A", "2025-01-01", "x", "u"), ("B", "2026-01-01", "y", "u"),
                                ("C", "2026-01-01", "y", "u")])
    facts = facts_of(orders, customers)
    # one row per customer of the customers table, C included although it never ordered
    assert list(facts.index) == ["A", "B", "C"]
    assert facts.index.name == C.CUSTOMER_ID
    assert tuple(facts.columns) == FACT_COLUMNS
    for col in (C.ACTIVE_START, C.ACTIVE_END, C.ACQUIRED_IN_PERIOD):
        assert facts[col].dtype == bool, col
    assert facts[C.REVENUE].dtype == "float64"
    assert facts[C.ORDER_COUNT].dtype == "int64"
    assert pd.api.types.is_datetime64_any_dtype(facts[C.ACQUIRED_AT])
    # C: no order at all -> revenue 0.0, 0 orders, not active (no order in any window)
    assert facts.loc["C", C.REVENUE] == 0.0
    assert facts.loc["C", C.ORDER_COUNT] == 0
    assert not facts.loc["C", C.ACTIVE_START] and not facts.loc["C", C.ACTIVE_END]


def test_customer_facts_does_not_modify_its_input_frames():
    orders = make_orders([("A", "2026-03-01", 10.0), ("B", "2026-08-01", 5.0)])
    customers = make_customers([("A", "2025-01-01", "x", "u"), ("B", None, "y", "u", None)],
                               churn=True)
    orders_before, customers_before = orders.copy(), customers.copy()
    facts_of(orders, customers)
    facts_of(orders, None)
    pd.testing.assert_frame_equal(orders, orders_before)
    pd.testing.assert_frame_equal(customers, customers_before)


# --- transaction mode: the activity window -------------------------------------------
def test_order_on_period_start_counts_in_period_but_not_in_start_window():
    orders = make_orders([("A", "2026-07-01", 50.0)])
    customers = make_customers([("A", "2025-01-01", "x", "u")])
    a = facts_of(orders, customers).loc["A"]
    # 2026-07-01 is not < start, so it is outside the start window [2025-07-01, 2026-07-01)
    assert not a[C.ACTIVE_START]
    # ... but inside the end window [2025-10-01, 2026-10-01)
    assert a[C.ACTIVE_END]
    # ... and inside P = [2026-07-01, 2026-10-01): revenue 50, one order
    assert a[C.REVENUE] == 50.0
    assert a[C.ORDER_COUNT] == 1


def test_order_exactly_at_start_minus_window_keeps_the_customer_active_at_start():
    orders = make_orders([("A", "2025-07-01", 20.0)])
    customers = make_customers([("A", "2025-01-01", "x", "u")])
    a = facts_of(orders, customers).loc["A"]
    # 2026-07-01 − 365 d = 2025-07-01: the window's first day is included -> active at start
    assert a[C.ACTIVE_START]
    # end window starts 2025-10-01 > 2025-07-01 -> not active at end (a churned customer)
    assert not a[C.ACTIVE_END]
    # the order is before P: no revenue, no order in the period
    assert a[C.REVENUE] == 0.0
    assert a[C.ORDER_COUNT] == 0


def test_order_one_day_before_the_start_window_does_not_make_the_customer_active():
    orders = make_orders([("A", "2025-06-30", 20.0)])
    customers = make_customers([("A", "2025-01-01", "x", "u")])
    a = facts_of(orders, customers).loc["A"]
    # 2025-06-30 < 2025-07-01 (first day of the start window) -> not active at start
    assert not a[C.ACTIVE_START]
    assert not a[C.ACTIVE_END]


def test_the_window_length_is_a_parameter():
    orders = make_orders([("A", "2026-04-01", 20.0)])
    customers = make_customers([("A", "2025-01-01", "x", "u")])
    # 91-day window: 2026-07-01 − 91 d = 2026-04-01 -> the order is on the window's first day
    assert facts_of(orders, customers, window=91).loc["A", C.ACTIVE_START]
    # 90-day window: window starts 2026-04-02 -> the order of 2026-04-01 is outside
    assert not facts_of(orders, customers, window=90).loc["A", C.ACTIVE_START]


def test_order_on_last_day_of_period_counts_in_period_and_makes_the_customer_active_at_end():
    orders = make_orders([("A", "2026-09-30", 30.0)])
    customers = make_customers([("A", "2025-01-01", "x", "u")])
    a = facts_of(orders, customers).loc["A"]
    # 2026-09-30 < end 2026-10-01 -> in P and in the end window
    assert a[C.REVENUE] == 30.0
    assert a[C.ORDER_COUNT] == 1
    assert a[C.ACTIVE_END]
    # no order in [2025-07-01, 2026-07-01) -> not active at start
    assert not a[C.ACTIVE_START]


def test_order_on_the_end_date_is_outside_the_period_and_outside_the_end_window():
    orders = make_orders([("A", "2026-10-01", 30.0)])
    customers = make_customers([("A", "2025-01-01", "x", "u")])
    a = facts_of(orders, customers).loc["A"]
    # end is exclusive: 2026-10-01 is not in P = [2026-07-01, 2026-10-01)
    assert a[C.REVENUE] == 0.0
    assert a[C.ORDER_COUNT] == 0
    # nor in the end window [2025-10-01, 2026-10-01)
    assert not a[C.ACTIVE_END]


def test_first_order_on_the_end_date_is_not_an_acquisition_in_the_period():
    orders = make_orders([("A", "2026-10-01", 30.0), ("B", "2026-09-30", 30.0)])
    # no customers table: acquisition = first order
    facts = facts_of(orders, None)
    # A acquired 2026-10-01 = end -> not in [start, end)
    assert facts.loc["A", C.ACQUIRED_AT] == pd.Timestamp("2026-10-01")
    assert not facts.loc["A", C.ACQUIRED_IN_PERIOD]
    # B acquired 2026-09-30, the period's last day -> new
    assert facts.loc["B", C.ACQUIRED_IN_PERIOD]


def test_signup_on_period_start_is_new_and_not_active_at_start_in_transaction_mode():
    orders = make_orders([("A", "2026-07-01", 10.0)])
    customers = make_customers([("A", "2026-07-01", "x", "u")])
    a = facts_of(orders, customers).loc["A"]
    # acquired 2026-07-01: start <= acquired < end -> new
    assert a[C.ACQUIRED_IN_PERIOD]
    # not acquired before start (and no order in the start window) -> not active at start
    assert not a[C.ACTIVE_START]
    # order 2026-07-01 in the end window -> active at end
    assert a[C.ACTIVE_END]


def test_a_customer_acquired_after_t_is_not_active_at_t_even_with_an_earlier_order():
    # the signup date wins over the order dates (acquisition = signup_date when present)
    orders = make_orders([("A", "2026-06-01", 10.0)])
    customers = make_customers([("A", "2026-07-15", "x", "u")])
    a = facts_of(orders, customers).loc["A"]
    # order 2026-06-01 is in the start window, but acquired 2026-07-15 is not < start
    assert not a[C.ACTIVE_START]
    # acquired 2026-07-15 < end, order 2026-06-01 in [2025-10-01, 2026-10-01) -> active at end
    assert a[C.ACTIVE_END]
    assert a[C.ACQUIRED_IN_PERIOD]


def test_a_zero_amount_row_is_neither_an_order_nor_an_activity():
    orders = make_orders([("A", "2026-03-01", 0.0), ("A", "2026-08-01", 0.0)])
    customers = make_customers([("A", "2025-01-01", "x", "u")])
    a = facts_of(orders, customers).loc["A"]
    # amount 0 is not > 0: no activity in either window, not counted as an order
    assert not a[C.ACTIVE_START] and not a[C.ACTIVE_END]
    assert a[C.ORDER_COUNT] == 0
    assert a[C.REVENUE] == 0.0


# --- refunds -------------------------------------------------------------------------
def test_refunds_reduce_revenue_but_are_not_orders():
    orders = make_orders([("A", "2026-03-01", 100.0),   # before P
                          ("A", "2026-08-01", -30.0),   # refund in P
                          ("A", "2026-08-10", 50.0),    # order in P
                          ("A", "2026-09-01", 25.5)])   # order in P
    customers = make_customers([("A", "2025-01-01", "x", "u")])
    a = facts_of(orders, customers).loc["A"]
    # revenue = −30 + 50 + 25.5 = 45.5 (the 100 of March is before P)
    assert a[C.REVENUE] == pytest.approx(45.5)
    # orders = rows in P with amount > 0: 2026-08-10 and 2026-09-01
    assert a[C.ORDER_COUNT] == 2


def test_a_refund_does_not_make_a_customer_active():
    orders = make_orders([("A", "2025-05-01", 80.0),    # order before the start window
                          ("A", "2026-05-01", -80.0),   # refund inside the start window
                          ("A", "2026-08-01", -10.0)])  # refund inside P and the end window
    customers = make_customers([("A", "2025-01-01", "x", "u")])
    a = facts_of(orders, customers).loc["A"]
    # only refunds in [2025-07-01, 2026-07-01) -> not active at start
    assert not a[C.ACTIVE_START]
    # only refunds in [2025-10-01, 2026-10-01) -> not active at end
    assert not a[C.ACTIVE_END]
    # revenue in P = −10, no order
    assert a[C.REVENUE] == -10.0
    assert a[C.ORDER_COUNT] == 0


def test_a_refund_is_not_an_acquisition():
    orders = make_orders([("A", "2026-02-01", -20.0),   # refund first
                          ("A", "2026-08-01", 40.0),    # first real order, in P
                          ("B", "2026-08-05", -5.0)])   # only a refund
    facts = facts_of(orders, None)
    # A: first row with amount > 0 is 2026-08-01 -> acquired in P
    assert facts.loc["A", C.ACQUIRED_AT] == pd.Timestamp("2026-08-01")
    assert facts.loc["A", C.ACQUIRED_IN_PERIOD]
    # B: no order with amount > 0 -> no acquisition date, not new, never active
    assert pd.isna(facts.loc["B", C.ACQUIRED_AT])
    assert not facts.loc["B", C.ACQUIRED_IN_PERIOD]
    assert not facts.loc["B", C.ACTIVE_START] and not facts.loc["B", C.ACTIVE_END]
    # ... but its refund still counts in revenue: −5
    assert facts.loc["B", C.REVENUE] == -5.0


# --- acquisition date ----------------------------------------------------------------
def test_an_empty_signup_date_falls_back_to_the_first_order():
    orders = make_orders([("A", "2026-08-20", 10.0), ("A", "2026-07-03", 12.0),
                          ("B", "2026-05-01", 10.0)])
    customers = make_customers([("A", None, "x", "u"), ("B", "2024-12-31", "x", "u")])
    facts = facts_of(orders, customers)
    # A: no signup -> earliest order 2026-07-03 (rows are not in date order)
    assert facts.loc["A", C.ACQUIRED_AT] == pd.Timestamp("2026-07-03")
    assert facts.loc["A", C.ACQUIRED_IN_PERIOD]
    # B: the signup date is used, not the first order
    assert facts.loc["B", C.ACQUIRED_AT] == pd.Timestamp("2024-12-31")
    assert not facts.loc["B", C.ACQUIRED_IN_PERIOD]


def test_a_customer_with_neither_signup_nor_order_has_no_acquisition_date():
    orders = make_orders([("A", "2026-08-01", 10.0)])
    customers = make_customers([("A", "2025-01-01", "x", "u"), ("Z", None, "x", "u")])
    z = facts_of(orders, customers).loc["Z"]
    assert pd.isna(z[C.ACQUIRED_AT])
    assert not z[C.ACQUIRED_IN_PERIOD]
    assert not z[C.ACTIVE_START] and not z[C.ACTIVE_END]


# --- missing customers table ---------------------------------------------------------
def test_without_a_customers_table_everyone_is_unsegmented_and_acquired_at_first_order():
    orders = make_orders([("A", "2025-09-01", 10.0), ("A", "2026-07-10", 15.0),
                          ("B", "2026-07-20", 40.0), ("B", "2026-08-20", -5.0)])
    facts = facts_of(orders, None)
    # customers = the ids of the orders table
    assert sorted(facts.index) == ["A", "B"]
    assert set(facts[C.SEGMENT]) == {C.UNSEGMENTED}
    # A: first order 2025-09-01 -> acquired before start, active at start (in the window)
    assert facts.loc["A", C.ACQUIRED_AT] == pd.Timestamp("2025-09-01")
    assert facts.loc["A", C.ACTIVE_START]
    assert not facts.loc["A", C.ACQUIRED_IN_PERIOD]
    # B: first order 2026-07-20 -> new, not active at start, active at end
    assert facts.loc["B", C.ACQUIRED_AT] == pd.Timestamp("2026-07-20")
    assert facts.loc["B", C.ACQUIRED_IN_PERIOD]
    assert not facts.loc["B", C.ACTIVE_START] and facts.loc["B", C.ACTIVE_END]
    # revenue: A 15, B 40 − 5 = 35; orders: A 1, B 1
    assert facts.loc["A", C.REVENUE] == 15.0 and facts.loc["B", C.REVENUE] == 35.0
    assert facts.loc["A", C.ORDER_COUNT] == 1 and facts.loc["B", C.ORDER_COUNT] == 1


# --- subscription mode ---------------------------------------------------------------
def test_churn_date_exactly_on_t_keeps_the_customer_active_at_t():
    orders = make_orders([("A", "2025-01-05", 10.0)])
    customers = make_customers([("A", "2025-01-01", "x", "u", "2026-07-01"),
                                ("B", "2025-01-01", "x", "u", "2026-10-01")], churn=True)
    facts = facts_of(orders, customers)
    # A: churn 2026-07-01 >= start -> active at start; churn < end -> not active at end
    assert facts.loc["A", C.ACTIVE_START]
    assert not facts.loc["A", C.ACTIVE_END]
    # B: churn 2026-10-01 >= end -> active at start and at end
    assert facts.loc["B", C.ACTIVE_START] and facts.loc["B", C.ACTIVE_END]


def test_churn_date_one_day_before_t_makes_the_customer_inactive_at_t():
    orders = make_orders([("A", "2025-01-05", 10.0)])
    customers = make_customers([("A", "2025-01-01", "x", "u", "2026-06-30"),
                                ("B", "2025-01-01", "x", "u", "2026-09-30")], churn=True)
    facts = facts_of(orders, customers)
    # A: churn 2026-06-30 < start 2026-07-01 -> not active at start nor at end
    assert not facts.loc["A", C.ACTIVE_START] and not facts.loc["A", C.ACTIVE_END]
    # B: churn 2026-09-30 >= start but < end 2026-10-01 -> in S, not in E
    assert facts.loc["B", C.ACTIVE_START]
    assert not facts.loc["B", C.ACTIVE_END]


def test_subscription_mode_ignores_orders_for_activity():
    # no orders for A at all and an order long ago for B: churn_date alone decides
    orders = make_orders([("B", "2020-01-01", 10.0)])
    customers = make_customers([("A", "2024-01-01", "x", "u", None),
                                ("B", "2024-01-01", "x", "u", None)], churn=True)
    facts = facts_of(orders, customers)
    # acquired 2024-01-01 < start, churn empty -> active at start and at end
    assert facts[C.ACTIVE_START].tolist() == [True, True]
    assert facts[C.ACTIVE_END].tolist() == [True, True]


def test_signup_on_period_start_is_new_and_not_active_at_start_in_subscription_mode():
    orders = make_orders([("A", "2026-07-02", 10.0)])
    customers = make_customers([("A", "2026-07-01", "x", "u", None),
                                ("B", "2026-10-01", "x", "u", None)], churn=True)
    facts = facts_of(orders, customers)
    # A: acquired 2026-07-01 = start: new, not acquired before start, acquired before end
    assert facts.loc["A", C.ACQUIRED_IN_PERIOD]
    assert not facts.loc["A", C.ACTIVE_START]
    assert facts.loc["A", C.ACTIVE_END]
    # B: signup on the end date: not new, not active at end (not acquired before end)
    assert not facts.loc["B", C.ACQUIRED_IN_PERIOD]
    assert not facts.loc["B", C.ACTIVE_END]


def test_subscription_customer_without_signup_is_acquired_at_first_order():
    orders = make_orders([("A", "2026-08-01", 10.0)])
    customers = make_customers([("A", None, "x", "u", None)], churn=True)
    a = facts_of(orders, customers).loc["A"]
    # acquired 2026-08-01 (first order): new, not active at start, active at end (no churn)
    assert a[C.ACQUIRED_AT] == pd.Timestamp("2026-08-01")
    assert a[C.ACQUIRED_IN_PERIOD] and not a[C.ACTIVE_START] and a[C.ACTIVE_END]


def test_subscription_mode_is_detected_from_the_churn_date_column():
    orders = make_orders([("A", "2026-08-01", 10.0)])
    assert dataset(orders, make_customers([("A", "2026-01-01", "x", "u")], churn=True)
                   ).subscription_mode
    assert not dataset(orders, make_customers([("A", "2026-01-01", "x", "u")])).subscription_mode
    assert not dataset(orders, None).subscription_mode


# --- business units ------------------------------------------------------------------
@pytest.fixture
def two_unit_dataset() -> Dataset:
    orders = make_orders([("R1", "2026-03-01", 100.0), ("R1", "2026-08-01", 40.0),
                          ("R2", "2026-08-15", 60.0), ("W1", "2026-08-01", 1000.0),
                          ("W1", "2026-03-01", 500.0)])
    customers = make_customers([("R1", "2025-01-01", "x", "retail"),
                                ("R2", "2026-08-15", "y", "retail"),
                                ("W1", "2025-01-01", "x", "wholesale")])
    return dataset(orders, customers)


def test_select_business_unit_keeps_only_that_units_customers_and_their_orders(two_unit_dataset):
    orders, customers = select_business_unit(two_unit_dataset, "retail")
    assert sorted(customers[C.CUSTOMER_ID]) == ["R1", "R2"]
    # W1's two orders are dropped, R1's two and R2's one remain
    assert sorted(orders[C.ORDER_ID]) == ["o1", "o2", "o3"]


def test_an_empty_business_unit_selects_everything(two_unit_dataset):
    orders, customers = select_business_unit(two_unit_dataset, "")
    assert len(orders) == 5 and len(customers) == 3


def test_period_facts_of_a_unit_exclude_the_other_units_orders(two_unit_dataset):
    facts = period_facts(two_unit_dataset, Q3, "retail")
    assert sorted(facts.index) == ["R1", "R2"]
    # unit revenue in P = R1 40 + R2 60 = 100 (W1's 1000 is another unit)
    assert facts[C.REVENUE].sum() == 100.0
    # R1 ordered 2026-03-01, in the start window -> active at start; R2 signed up in P
    assert facts[C.ACTIVE_START].tolist() == [True, False]
    assert facts[C.ACQUIRED_IN_PERIOD].tolist() == [False, True]


def test_an_unknown_business_unit_raises_a_config_error_listing_the_units(two_unit_dataset):
    with pytest.raises(ConfigError) as err:
        select_business_unit(two_unit_dataset, "online")
    message = str(err.value)
    assert "'online'" in message
    assert "retail, wholesale" in message
    with pytest.raises(ConfigError, match="retail, wholesale"):
        period_facts(two_unit_dataset, Q3, "online")


def test_a_business_unit_without_a_customers_table_raises_a_config_error():
    ds = dataset(make_orders([("A", "2026-08-01", 10.0)]), None)
    with pytest.raises(ConfigError, match="no customers table"):
        select_business_unit(ds, "retail")


# --- the period must meet the data ---------------------------------------------------
def test_a_period_starting_on_the_last_order_date_is_accepted():
    ds = dataset(make_orders([("A", "2025-01-01", 10.0), ("A", "2026-07-01", 10.0)]), None)
    check_period_in_data(ds, Q3)  # last order 2026-07-01 = start: no error


def test_a_period_starting_after_the_last_order_is_rejected():
    ds = dataset(make_orders([("A", "2025-01-01", 10.0), ("A", "2026-06-30", 10.0)]), None)
    # last order 2026-06-30 < start 2026-07-01
    with pytest.raises(ConfigError, match="2026Q3.*after the last order.*2026-06-30"):
        check_period_in_data(ds, Q3)


def test_a_period_ending_on_the_first_order_date_is_rejected():
    ds = dataset(make_orders([("A", "2026-10-01", 10.0), ("A", "2027-01-01", 10.0)]), None)
    # end 2026-10-01 <= first order 2026-10-01: the period has no order at all
    with pytest.raises(ConfigError, match="2026Q3.*before the first order.*2026-10-01"):
        check_period_in_data(ds, Q3)
    with pytest.raises(ConfigError):
        period_facts(ds, Q3)


def test_a_period_whose_last_day_is_the_first_order_date_is_accepted():
    ds = dataset(make_orders([("A", "2026-09-30", 10.0), ("A", "2027-01-01", 10.0)]), None)
    check_period_in_data(ds, Q3)  # first order 2026-09-30 = last day of Q3: no error


# --- from files, through read_dataset ------------------------------------------------
def test_period_facts_from_csv_files_match_the_hand_computed_facts(tmp_path):
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,order_date,amount\n"
        "o1,A,2025-07-01,10\n"     # A: exactly start − 365 d -> active at start
        "o2,A,2026-07-01,20\n"     # A: on the start date -> in P
        "o3,B,2026-09-30,5.5\n"    # B: last day of P
        "o4,B,2026-10-01,7\n"      # B: end date -> outside P
        "o5,A,2026-08-01,-4\n"     # A: refund in P
        "o6,X,2026-08-01,99\n",    # X: not in customers.csv -> dropped by read_dataset
        encoding="utf-8")
    (tmp_path / "customers.csv").write_text(
        "customer_id,signup_date,segment,business_unit\n"
        "A,2025-01-01,x,u\n"
        "B,,y,u\n",                # no signup date -> acquired at first order 2026-09-30
        encoding="utf-8")
    facts = period_facts(read_dataset(tmp_path), Q3, "u")
    assert sorted(facts.index) == ["A", "B"]
    # A: revenue 20 − 4 = 16 from 1 order; active at start (o1) and end (o2)
    assert facts.loc["A", C.REVENUE] == 16.0 and facts.loc["A", C.ORDER_COUNT] == 1
    assert facts.loc["A", C.ACTIVE_START] and facts.loc["A", C.ACTIVE_END]
    # B: revenue 5.5 from 1 order; acquired 2026-09-30 -> new, not in S, in E
    assert facts.loc["B", C.REVENUE] == 5.5 and facts.loc["B", C.ORDER_COUNT] == 1
    assert facts.loc["B", C.ACQUIRED_IN_PERIOD]
    assert not facts.loc["B", C.ACTIVE_START] and facts.loc["B", C.ACTIVE_END]


# --- the columns for later KPIs: margin, first/last order, trailing year -------------
def test_margin_first_and_last_order_and_trailing_year_columns():
    orders = make_orders([("A", "2025-09-30", 10.0),    # one day before end − 365 d
                          ("A", "2025-10-01", 20.0),    # exactly end − 365 d: in the year
                          ("A", "2026-08-01", 30.0),    # in P
                          ("A", "2026-08-02", -5.0),    # refund in P
                          ("A", "2026-10-01", 40.0)])   # on the end date: after the period
    orders[C.MARGIN] = [3.0, 6.0, 9.0, -1.5, 12.0]
    customers = make_customers([("A", "2025-01-01", "x", "u"), ("B", "2025-01-01", "x", "u")])
    facts = facts_of(orders, customers)
    a, b = facts.loc["A"], facts.loc["B"]
    # margin of the rows in P: 9 − 1.5 = 7.5; B has no row: 0
    assert a[C.MARGIN_SUM] == 7.5 and b[C.MARGIN_SUM] == 0.0
    # first and last order (amount > 0) before end 2026-10-01: 2025-09-30 and 2026-08-01
    assert a[C.FIRST_ORDER_AT] == pd.Timestamp("2025-09-30")
    assert a[C.LAST_ORDER_AT] == pd.Timestamp("2026-08-01")
    assert pd.isna(b[C.FIRST_ORDER_AT]) and pd.isna(b[C.LAST_ORDER_AT])
    # trailing year [2025-10-01, 2026-10-01): orders 2025-10-01 and 2026-08-01 -> 2;
    # net revenue 20 + 30 − 5 = 45
    assert a[C.ORDERS_12M] == 2 and a[C.REVENUE_12M] == 45.0
    assert b[C.ORDERS_12M] == 0 and b[C.REVENUE_12M] == 0.0
    # without a margin column the margin is empty
    assert facts_of(orders.drop(columns=C.MARGIN), customers)[C.MARGIN_SUM].isna().all()
