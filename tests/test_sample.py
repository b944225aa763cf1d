"""Tests of the sample-data generator (segreport.sample), on a small size."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from segreport import columns as col
from segreport.errors import ConfigError
from segreport.sample import BUSINESS_UNITS, SEGMENTS, generate_sample, sample_tables, writer

N = 500
START, END = "2022-01-01", "2026-09-30"


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return sample_tables(n_customers=N, seed=7, start=START, end=END)


@pytest.fixture(scope="module")
def subscription_tables() -> dict[str, pd.DataFrame]:
    return sample_tables(n_customers=N, seed=7, start=START, end=END, subscription=True)


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, dict[str, object]]:
    out = {}
    for fmt in ("parquet", "csv"):
        out[fmt] = generate_sample(tmp_path_factory.mktemp(fmt), n_customers=N, seed=7,
                                   start=START, end=END, fmt=fmt)
    return out


def _with_signup(tables: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    customers = tables[col.CUSTOMERS][[col.CUSTOMER_ID, col.SIGNUP_DATE]]
    return tables[name].merge(customers, on=col.CUSTOMER_ID, how="left", validate="m:1")


def test_the_same_seed_gives_identical_tables(tables):
    again = sample_tables(n_customers=N, seed=7, start=START, end=END)
    assert again.keys() == tables.keys()
    for name in tables:
        pd.testing.assert_frame_equal(again[name], tables[name], check_exact=True)


def test_a_different_seed_gives_different_tables(tables):
    other = sample_tables(n_customers=N, seed=8, start=START, end=END)
    for name in (col.ORDERS, col.CUSTOMERS, col.SURVEYS, col.MARKETING_SPEND):
        assert not other[name].equals(tables[name]), name


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_same_seed_writes_byte_identical_files(tmp_path, written, fmt):
    again = generate_sample(tmp_path, n_customers=N, seed=7, start=START, end=END, fmt=fmt)
    for name, path in written[fmt].items():
        assert again[name].read_bytes() == path.read_bytes(), name


def test_there_is_one_file_per_contract_table_named_after_the_table(written):
    for fmt, paths in written.items():
        assert set(paths) == set(col.CONTRACT)
        for name, path in paths.items():
            assert path.name == f"{name}.{fmt}"
            assert path.is_file()


def test_every_table_has_the_required_columns_of_the_contract(tables):
    assert set(tables) == set(col.CONTRACT)
    for name, table in col.CONTRACT.items():
        missing = set(table.required_columns) - set(tables[name].columns)
        assert not missing, (name, missing)


def test_every_column_written_is_known_to_the_contract(subscription_tables):
    for name, frame in subscription_tables.items():
        known = {c.name for c in col.CONTRACT[name].columns}
        assert set(frame.columns) <= known, name


def test_required_columns_have_no_missing_values(subscription_tables):
    for name, table in col.CONTRACT.items():
        frame = subscription_tables[name]
        for column in table.required_columns:
            assert frame[column].notna().all(), (name, column)


def test_only_profile_columns_have_missing_values_and_they_have_a_few(tables):
    customers = tables[col.CUSTOMERS]
    share = customers.isna().mean()
    for column in col.PROFILE_COLUMNS:
        assert 0.01 < share[column] < 0.2, column
    others = [c for c in customers.columns if c not in col.PROFILE_COLUMNS]
    assert share[others].eq(0).all()


def test_customer_ids_are_unique_and_look_like_c000001(tables):
    ids = tables[col.CUSTOMERS][col.CUSTOMER_ID]
    assert ids.is_unique
    assert ids.str.fullmatch(r"C\d{6}").all()
    assert ids.iloc[0] == "C000001"


def test_order_ids_look_like_o0000001(tables):
    assert tables[col.ORDERS][col.ORDER_ID].str.fullmatch(r"O\d{7}").all()


def test_every_order_belongs_to_an_existing_customer(tables):
    customers = set(tables[col.CUSTOMERS][col.CUSTOMER_ID])
    assert set(tables[col.ORDERS][col.CUSTOMER_ID]) <= customers


def test_every_survey_answer_comes_from_an_existing_customer(tables):
    customers = set(tables[col.CUSTOMERS][col.CUSTOMER_ID])
    assert set(tables[col.SURVEYS][col.CUSTOMER_ID]) <= customers


def test_no_order_is_dated_after_end_or_before_start(tables):
    dates = tables[col.ORDERS][col.ORDER_DATE]
    assert dates.max() <= pd.Timestamp(END)
    assert dates.min() >= pd.Timestamp(START)


def test_no_order_is_dated_before_its_customers_signup(tables):
    orders = _with_signup(tables, col.ORDERS)
    assert (orders[col.ORDER_DATE] >= orders[col.SIGNUP_DATE]).all()


def test_no_survey_answer_is_dated_before_signup_or_after_end(tables):
    surveys = _with_signup(tables, col.SURVEYS)
    assert (surveys[col.RESPONSE_DATE] >= surveys[col.SIGNUP_DATE]).all()
    assert surveys[col.RESPONSE_DATE].max() <= pd.Timestamp(END)


def test_refunds_are_negative_and_reuse_the_id_of_an_earlier_order(tables):
    orders = tables[col.ORDERS]
    refunds = orders[orders[col.AMOUNT] < 0]
    originals = orders[orders[col.AMOUNT] > 0]
    assert len(refunds) > 0
    assert originals[col.ORDER_ID].is_unique
    matched = refunds.merge(originals, on=col.ORDER_ID, how="left", suffixes=("", "_orig"),
                            validate="m:1")
    assert matched[f"{col.AMOUNT}_orig"].notna().all()
    assert (matched[col.CUSTOMER_ID] == matched[f"{col.CUSTOMER_ID}_orig"]).all()
    assert (matched[col.ORDER_DATE] > matched[f"{col.ORDER_DATE}_orig"]).all()
    assert (-matched[col.AMOUNT] <= matched[f"{col.AMOUNT}_orig"]).all()


def test_about_three_percent_of_order_rows_are_refunds(tables):
    share = (tables[col.ORDERS][col.AMOUNT] < 0).mean()
    assert 0.015 < share < 0.05


def test_amounts_are_in_cents_and_margins_are_25_to_45_percent_with_the_same_sign(tables):
    orders = tables[col.ORDERS]
    amount, margin = orders[col.AMOUNT], orders[col.MARGIN]
    assert (amount != 0).all()
    np.testing.assert_allclose(amount, amount.round(2), rtol=0, atol=1e-9)
    np.testing.assert_allclose(margin, margin.round(2), rtol=0, atol=1e-9)
    big = amount.abs() >= 1
    rate = (margin / amount)[big]
    assert rate.between(0.24, 0.46).all()


def test_churn_date_is_present_only_with_subscription(tables, subscription_tables):
    assert col.CHURN_DATE not in tables[col.CUSTOMERS].columns
    churn = subscription_tables[col.CUSTOMERS][col.CHURN_DATE]
    assert churn.notna().any() and churn.isna().any()
    assert churn.max() <= pd.Timestamp(END)
    # the other columns do not depend on the subscription flag
    pd.testing.assert_frame_equal(
        subscription_tables[col.CUSTOMERS].drop(columns=col.CHURN_DATE), tables[col.CUSTOMERS])
    pd.testing.assert_frame_equal(subscription_tables[col.ORDERS], tables[col.ORDERS])


def test_churned_customers_place_no_order_on_or_after_their_churn_date(subscription_tables):
    customers = subscription_tables[col.CUSTOMERS][[col.CUSTOMER_ID, col.CHURN_DATE,
                                                    col.SIGNUP_DATE]]
    orders = subscription_tables[col.ORDERS].merge(customers, on=col.CUSTOMER_ID)
    churned = orders[orders[col.CHURN_DATE].notna()]
    assert len(churned) > 0
    assert (churned[col.ORDER_DATE] < churned[col.CHURN_DATE]).all()
    assert (customers[col.CHURN_DATE].isna()
            | (customers[col.CHURN_DATE] > customers[col.SIGNUP_DATE])).all()


def test_all_business_units_and_segments_appear(tables):
    customers = tables[col.CUSTOMERS]
    assert set(customers[col.BUSINESS_UNIT]) == set(BUSINESS_UNITS)
    assert set(customers[col.SEGMENT]) == set(SEGMENTS)


def test_period_tables_cover_every_quarter_segment_and_business_unit(tables):
    periods = pd.period_range(START, END, freq="Q").astype(str)
    for name in (col.MARKETING_SPEND, col.MARKET_SIZE):
        frame = tables[name]
        assert len(frame) == len(periods) * len(SEGMENTS) * len(BUSINESS_UNITS)
        assert not frame.duplicated([col.PERIOD, col.SEGMENT, col.BUSINESS_UNIT]).any()
        assert list(frame[col.PERIOD].unique()) == list(periods)
    costs = tables[col.SEGMENTATION_COSTS]
    assert len(costs) == len(periods) * len(BUSINESS_UNITS)
    assert (costs[col.COST] > 0).all()


def test_spend_and_market_size_are_positive_and_markets_exceed_the_customer_base(tables):
    spend = tables[col.MARKETING_SPEND]
    assert (spend[[col.ACQUISITION_SPEND, col.RETENTION_SPEND]] > 0).all().all()
    market = tables[col.MARKET_SIZE]
    by_segment = market[market[col.PERIOD] == market[col.PERIOD].iloc[-1]].groupby(
        col.SEGMENT)[col.MARKET_CUSTOMERS].sum()
    base = tables[col.CUSTOMERS].groupby(col.SEGMENT).size()
    assert (by_segment.reindex(base.index) > base).all()


def test_survey_scores_are_integers_in_their_ranges(tables):
    surveys = tables[col.SURVEYS]
    assert len(surveys) > 0
    for column, lo, hi in ((col.NPS, 0, 10), (col.CSAT, 1, 5), (col.AWARE, 0, 1),
                           (col.PERCEIVED_QUALITY, 1, 5)):
        assert pd.api.types.is_integer_dtype(surveys[column]), column
        assert surveys[column].between(lo, hi).all(), column


def test_csv_and_parquet_files_are_readable_with_pandas_and_hold_the_same_data(written):
    for name, path in written["parquet"].items():
        parquet = pd.read_parquet(path)
        csv = pd.read_csv(written["csv"][name], dtype={col.CUSTOMER_ID: "str"})
        assert list(parquet.columns) == list(csv.columns)
        assert len(parquet) == len(csv)
        for column in parquet.columns:
            if pd.api.types.is_datetime64_any_dtype(parquet[column]):
                assert csv[column].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
                assert (pd.to_datetime(csv[column]) == parquet[column]).all()
            elif pd.api.types.is_numeric_dtype(parquet[column]):
                np.testing.assert_allclose(csv[column].astype(float),
                                           parquet[column].astype(float))
            else:
                assert (csv[column].fillna("") == parquet[column].fillna("")).all()


def test_parquet_dates_are_real_date_columns_and_periods_are_quarter_strings(written):
    orders = pd.read_parquet(written["parquet"][col.ORDERS])
    assert pd.api.types.is_datetime64_any_dtype(orders[col.ORDER_DATE])
    spend = pd.read_parquet(written["parquet"][col.MARKETING_SPEND])
    assert spend[col.PERIOD].str.fullmatch(r"\d{4}Q[1-4]").all()


def test_a_short_window_keeps_every_date_inside_it():
    tables = sample_tables(n_customers=200, seed=1, start="2024-02-15", end="2024-05-10")
    assert tables[col.ORDERS][col.ORDER_DATE].between("2024-02-15", "2024-05-10").all()
    assert list(tables[col.SEGMENTATION_COSTS][col.PERIOD].unique()) == ["2024Q1", "2024Q2"]


@pytest.mark.parametrize("kwargs", [{"fmt": "xlsx"}, {"n_customers": 0},
                                    {"start": "2025-01-01", "end": "2024-01-01"}])
def test_invalid_arguments_are_rejected_with_a_config_error(tmp_path, kwargs):
    with pytest.raises(ConfigError):
        generate_sample(tmp_path, **kwargs)


# ----------------------------------------------------------------------------------------
# blocks: large samples are simulated and written a block of customers at a time
# ----------------------------------------------------------------------------------------
BLOCK = 300
N_BLOCKS = 4


@pytest.fixture(scope="module")
def blocked() -> dict[str, pd.DataFrame]:
    return sample_tables(n_customers=BLOCK * N_BLOCKS, seed=7, start=START, end=END,
                         subscription=True, block_customers=BLOCK)


def _block_of(ids: pd.Series) -> pd.Series:
    return (ids.str[1:].astype(int) - 1) // BLOCK


def _in_memory_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False, engine="pyarrow", row_group_size=SMALL_GROUPS)
        return buffer.getvalue()
    return frame.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\n").encode()


SMALL_GROUPS = 1000  # rows per Parquet row group: several per table, across blocks


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_files_written_block_by_block_are_the_in_memory_tables_written_at_once(
        tmp_path, blocked, fmt, monkeypatch):
    monkeypatch.setattr(writer, "ROW_GROUP_ROWS", SMALL_GROUPS)
    paths = generate_sample(tmp_path, n_customers=BLOCK * N_BLOCKS, seed=7, start=START,
                            end=END, fmt=fmt, subscription=True, block_customers=BLOCK)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths.values())
    for name, path in paths.items():
        assert path.read_bytes() == _in_memory_bytes(blocked[name], fmt), name


def test_a_sample_of_one_block_is_the_same_whatever_the_block_size(tables):
    for block in (N, 10 * N):
        one = sample_tables(n_customers=N, seed=7, start=START, end=END,
                            block_customers=block)
        for name in tables:
            pd.testing.assert_frame_equal(one[name], tables[name], check_exact=True)


def test_the_first_block_of_a_larger_sample_is_the_sample_of_one_block(blocked):
    alone = sample_tables(n_customers=BLOCK, seed=7, start=START, end=END,
                          subscription=True)
    first = {name: blocked[name][_block_of(blocked[name][col.CUSTOMER_ID]) == 0]
             for name in (col.CUSTOMERS, col.ORDERS, col.SURVEYS)}
    for name, frame in first.items():
        pd.testing.assert_frame_equal(frame.reset_index(drop=True), alone[name],
                                      check_exact=True)


def test_the_same_seed_and_block_size_give_the_same_sample(blocked):
    again = sample_tables(n_customers=BLOCK * N_BLOCKS, seed=7, start=START, end=END,
                          subscription=True, block_customers=BLOCK)
    for name in blocked:
        pd.testing.assert_frame_equal(again[name], blocked[name], check_exact=True)


def test_blocks_differ_from_each_other(blocked):
    orders = blocked[col.ORDERS]
    per_block = orders.groupby(_block_of(orders[col.CUSTOMER_ID]))[col.AMOUNT]
    assert per_block.sum().nunique() == N_BLOCKS
    assert per_block.size().nunique() > 1


def test_ids_are_unique_and_numbered_without_gaps_across_blocks(blocked):
    ids = blocked[col.CUSTOMERS][col.CUSTOMER_ID]
    assert ids.str.fullmatch(r"C\d{6}").all()
    assert sorted(ids) == [f"C{i:06d}" for i in range(1, BLOCK * N_BLOCKS + 1)]
    orders = blocked[col.ORDERS]
    assert orders[col.ORDER_ID].str.fullmatch(r"O\d{7}").all()
    originals = orders.loc[orders[col.AMOUNT] > 0, col.ORDER_ID]
    assert sorted(originals) == [f"O{i:07d}" for i in range(1, len(originals) + 1)]
    refunds = orders[orders[col.AMOUNT] < 0]
    matched = refunds.merge(orders[orders[col.AMOUNT] > 0], on=col.ORDER_ID,
                            suffixes=("", "_orig"), validate="m:1")
    assert len(matched) == len(refunds) > 0
    assert (matched[col.CUSTOMER_ID] == matched[f"{col.CUSTOMER_ID}_orig"]).all()


def test_orders_are_sorted_by_date_and_numbered_by_date_within_each_block(blocked):
    orders = blocked[col.ORDERS]
    block = _block_of(orders[col.CUSTOMER_ID])
    assert block.is_monotonic_increasing                     # one run of rows per block
    assert block.nunique() == N_BLOCKS
    for _, run in orders.groupby(block):
        assert run[col.ORDER_DATE].is_monotonic_increasing
        assert run.loc[run[col.AMOUNT] > 0, col.ORDER_ID].is_monotonic_increasing
    surveys = blocked[col.SURVEYS]
    for _, run in surveys.groupby(_block_of(surveys[col.CUSTOMER_ID])):
        assert run[col.RESPONSE_DATE].is_monotonic_increasing


def test_ids_get_more_digits_only_when_the_size_needs_them():
    from segreport.sample import model as sample
    assert sample._ids("O", np.array([1, 9_999_999]), 7).tolist() == ["O0000001", "O9999999"]
    with pytest.raises(ValueError):
        sample._ids("O", np.array([10_000_000]), 7)


def _active_per_quarter(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers active in each quarter, from signup and churn dates (subscription)."""
    first = customers[col.SIGNUP_DATE].clip(lower=pd.Timestamp(START))
    last = (customers[col.CHURN_DATE] - pd.Timedelta(days=1)).fillna(pd.Timestamp(END))
    periods = pd.period_range(START, END, freq="Q")
    q_first = first.dt.to_period("Q")
    q_last = last.dt.to_period("Q")
    rows = {p: ((q_first <= p) & (q_last >= p)) for p in periods}
    counts = {str(p): customers[mask].groupby([col.SEGMENT, col.BUSINESS_UNIT]).size()
              for p, mask in rows.items()}
    return pd.DataFrame(counts).fillna(0).T


def test_quarter_tables_count_the_customers_of_every_block(blocked):
    """Spend is (count + 1) x a factor that depends on the seed only, not on the blocks."""
    one = sample_tables(n_customers=BLOCK * N_BLOCKS, seed=7, start=START, end=END,
                        subscription=True)
    factors = []
    for tabs in (blocked, one):
        customers = tabs[col.CUSTOMERS]
        new = customers[customers[col.SIGNUP_DATE] >= pd.Timestamp(START)]
        new = new.groupby([new[col.SIGNUP_DATE].dt.to_period("Q").astype(str),
                           col.SEGMENT, col.BUSINESS_UNIT]).size()
        active = _active_per_quarter(customers).stack([0, 1])
        spend = tabs[col.MARKETING_SPEND].set_index([col.PERIOD, col.SEGMENT,
                                                     col.BUSINESS_UNIT])
        new = new.reindex(spend.index, fill_value=0)
        active = active.reindex(spend.index, fill_value=0)
        factors.append(pd.DataFrame({
            "acquisition": spend[col.ACQUISITION_SPEND] / (new + 1),
            "retention": spend[col.RETENTION_SPEND] / (active + 1)}))
    # both are rounded to cents: the factors agree to half a cent unless a count differs
    pd.testing.assert_frame_equal(factors[0], factors[1], rtol=0, atol=0.006)
    assert not blocked[col.MARKETING_SPEND].equals(one[col.MARKETING_SPEND])


def test_an_interrupted_run_leaves_the_old_files_and_no_partial_ones(tmp_path, monkeypatch):
    from segreport.sample import generate as sample
    old = generate_sample(tmp_path, n_customers=200, seed=3, fmt="csv")
    before = {name: path.read_bytes() for name, path in old.items()}
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    real = sample._surveys
    monkeypatch.setattr(sample, "_surveys", failing)
    with pytest.raises(KeyboardInterrupt):
        generate_sample(tmp_path, n_customers=400, seed=4, fmt="csv", block_customers=100)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in old.values())
    assert {name: path.read_bytes() for name, path in old.items()} == before


def test_a_table_that_cannot_be_moved_into_place_leaves_no_temporary_file(tmp_path,
                                                                         monkeypatch):
    from segreport.sample import writer as sample_writer
    moves = []

    def failing(tmp, path):
        moves.append(path)
        if len(moves) == 2:
            raise OSError("disk full")
        return real(tmp, path)

    real = sample_writer.move_into_place
    monkeypatch.setattr(sample_writer, "move_into_place", failing)
    with pytest.raises(OSError, match="disk full"):
        generate_sample(tmp_path, n_customers=200, seed=3, fmt="csv")
    # the first table was moved into place before the failure; nothing else is left
    assert sorted(p.name for p in tmp_path.iterdir()) == [moves[0].name]


def test_block_size_must_be_positive(tmp_path):
    with pytest.raises(ConfigError):
        generate_sample(tmp_path, n_customers=10, block_customers=0)
