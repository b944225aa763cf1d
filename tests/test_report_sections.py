"""Optional tables, ``segment_by`` and the helpers of :mod:`segreport.kpis.quarter` and
:mod:`segreport.kpis.segment_by`.

Issue: "Where the optional input table a KPI needs is absent, its section says which table
and columns would enable it, and the rest of the report is unaffected"; "the report still
renders when each optional table is removed".

Most cases go through :func:`build_quarter` and the section functions of the notebook
(fast); the notebook itself runs (papermill + nbconvert) for every optional table removed
at once, for ``marketing_spend`` alone, for the customers table, and for ``segment_by``.
Each notebook run is a module-scoped fixture shared by several tests. The PDF step is
switched off (``SEGREPORT_CHROMIUM`` names no program); ``tests/test_pdf.py`` covers it.
"""
from __future__ import annotations

import math
import re
import shutil
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

from segreport import columns as C
from segreport.cli import main
from segreport.data.read import read_dataset
from segreport.errors import ConfigError
from segreport.kpis import ids
from segreport.kpis.quarter import build_quarter, previous_facts, unit_facts, with_previous
from segreport.kpis.segment_by import NO_RECENT_ORDER, resegment
from segreport.kpis.segmentation import RFM_SEGMENTS
from segreport.period import Period
from segreport.report import sections
from segreport.sample import generate_sample

PERIOD = "2026Q3"
OPTIONAL = (C.MARKETING_SPEND, C.SURVEYS, C.MARKET_SIZE, C.SEGMENTATION_COSTS)
MISSING_BLOCK = "Not shown for lack of input data"

# What each absent table takes out of kpis.csv, and what the report must name instead:
# the table and the columns that would enable its KPIs.
KPIS_OF = {
    C.MARKETING_SPEND: (ids.CAC, ids.CAC_PAYBACK_MONTHS, ids.RETENTION_COST),
    C.SURVEYS: ids.VOICE_KPIS,
    C.MARKET_SIZE: (ids.MARKET_SHARE,),
    C.SEGMENTATION_COSTS: (ids.SEGMENTATION_EFFICIENCY,),
}
NAMED = {
    C.MARKETING_SPEND: ("marketing_spend", "period", "segment", "acquisition_spend",
                        "retention_spend"),
    C.SURVEYS: ("surveys", "customer_id", "response_date", "nps", "csat"),
    C.MARKET_SIZE: ("market_size", "period", "segment", "market_customers"),
    C.SEGMENTATION_COSTS: ("segmentation_costs", "period", "cost"),
}
# The notebook section (h2 heading) where each table's note belongs.
SECTION_OF = {
    C.MARKETING_SPEND: "Customer value",
    C.MARKET_SIZE: "Customer value",
    C.SURVEYS: "Voice of the customer",
    C.SEGMENTATION_COSTS: "Segmentation efficiency",
}
SECTION_HEADINGS = ("Executive scorecard", "What happened in each segment",
                    "Trends over nine quarters", "Growth by segment",
                    "Customers gained and held", "Retention and churn", "Revenue mix",
                    "Customer value", "Voice of the customer", "Behavioural segments",
                    "How customers moved", "Cohort retention", "Segmentation efficiency",
                    "Data quality", "Appendix")
BASE_COLUMNS = ["value", "numerator", "denominator"]


# --------------------------------------------------------------------------- fixtures


pytestmark = pytest.mark.usefixtures("no_pdf")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sections")


@pytest.fixture(scope="module")
def full_data(root) -> Path:
    data = root / "full"
    generate_sample(data, n_customers=300, fmt="csv")
    return data


def without(root: Path, full: Path, *tables: str) -> Path:
    """A copy of the full data folder without the files of ``tables``."""
    name = "no_" + "_".join(tables)
    folder = root / name
    if not folder.exists():
        shutil.copytree(full, folder)
        for table in tables:
            (folder / f"{table}.csv").unlink()
    return folder


def run(root: Path, data: Path, name: str, *extra: str) -> tuple[int, Path]:
    """``segreport run`` on ``data``; returns the exit status and the report folder."""
    params = root / f"{name}.yaml"
    out = root / f"out_{name}"
    params.write_text(f"data_dir: {data}\nperiod: {PERIOD}\noutput_dir: {out}\npredictive_clv: false\n")
    status = main(["run", "--params", str(params), *extra])
    return status, out / PERIOD / "All"


def read_kpis(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "kpis.csv")


def base_of(kpis: pd.DataFrame, segments=None) -> pd.DataFrame:
    """The base KPIs as a frame indexed by (kpi, segment), sorted."""
    part = kpis[kpis[C.KPI].isin(ids.BASE_KPIS)]
    if segments is not None:
        part = part[part[C.SEGMENT].isin(segments)]
    return part.set_index([C.KPI, C.SEGMENT])[BASE_COLUMNS].sort_index().astype("float64")


def assert_same_base(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert len(expected) > 0
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12, atol=1e-9)


@pytest.fixture(scope="module")
def full_quarter(full_data):
    ds = read_dataset(full_data)
    return ds, build_quarter(ds, PERIOD)


@pytest.fixture(scope="module")
def baseline(full_quarter, root) -> pd.DataFrame:
    """kpis.csv as the full data gives it (the notebook's own functions, no notebook),
    written and read back as the notebook's kpis.csv is."""
    _, q = full_quarter
    path = root / "baseline_kpis.csv"
    sections.save_kpis(q.kpis, str(path), PERIOD, "")
    return pd.read_csv(path)


@pytest.fixture(scope="module", params=OPTIONAL)
def one_table_removed(request, root, full_data):
    """(table, dataset, quarter) with one optional table removed, through the API."""
    table = request.param
    ds = read_dataset(without(root, full_data, table))
    return table, ds, build_quarter(ds, PERIOD)


def section_html(q, ds) -> dict[str, str]:
    """The HTML the notebook's table and note cells show, per section, from the API."""
    return {
        "Customer value": sections.kpi_section(q, ids.VALUE_KPIS[:-1]).data,
        "Voice of the customer": sections.kpi_section(q, ids.VOICE_KPIS).data,
        "Segmentation efficiency": sections.kpi_section(
            q, [ids.SEGMENTATION_EFFICIENCY, ids.SEGMENT_COUNT, ids.SEGMENT_SEPARATION]).data,
        "Data quality": sections.data_quality(ds, q.facts).data,
    }


def missing_blocks(html: str) -> list[str]:
    """The text of each "Not shown for lack of input data" note in ``html``."""
    return [unescape(re.sub(r"<[^>]+>", " ", m))
            for m in re.findall(rf"{MISSING_BLOCK}.*?</ul>", html, flags=re.S)]


def report_sections(html: str) -> dict[str, str]:
    """The rendered report split at its h2 headings: heading text → the HTML below it."""
    parts = re.split(r"<h2[^>]*>", html)
    out = {}
    for part in parts[1:]:
        heading, _, rest = part.partition("</h2>")
        out[unescape(re.sub(r"<[^>]+>", "", heading)).replace("¶", "").strip()] = rest
    return out


def section(secs: dict[str, str], start: str) -> str:
    found = [v for k, v in secs.items() if k.startswith(start)]
    assert len(found) == 1, f"section {start!r} not found once in {list(secs)}"
    return found[0]


def chart_images(html: str) -> list[str]:
    """The base64 data of every chart drawn in the notebook's outputs (not the CSS's images,
    nor the scorecard's sparklines)."""
    return [data for tag, data in re.findall(
        r"(<img[^>]*\bsrc=[\"']data:image/png;base64,([A-Za-z0-9+/=]+)[^>]*>)", html)
        if sections.SPARK_CLASS not in tag]


def assert_names_table_and_columns(blocks: list[str], table: str) -> None:
    text = " ".join(blocks)
    for word in NAMED[table]:
        assert re.search(rf"\b{word}\b", text), f"{word!r} not named in {text!r}"


def assert_kpis_absent_or_empty(kpis: pd.DataFrame, kpi_ids) -> None:
    part = kpis[kpis[C.KPI].isin(kpi_ids)]
    assert part[C.VALUE].isna().all(), part


# --------------------------------------------------------------------------- notebook runs


@pytest.fixture(scope="module")
def none_run(root, full_data):
    """Every optional table removed at once."""
    status, folder = run(root, without(root, full_data, *OPTIONAL), "none")
    return status, folder


@pytest.fixture(scope="module")
def spend_run(root, full_data):
    status, folder = run(root, without(root, full_data, C.MARKETING_SPEND), "spend")
    return status, folder


@pytest.fixture(scope="module")
def no_customers_run(root, full_data):
    status, folder = run(root, without(root, full_data, C.CUSTOMERS), "nocust")
    return status, folder


@pytest.fixture(scope="module")
def region_run(root, full_data):
    return run(root, full_data, "region", "--set", "segment_by=region")


@pytest.fixture(scope="module")
def rfm_run(root, full_data):
    return run(root, full_data, "rfm", "--set", "segment_by=rfm")


# --------------------------------------------------------------------------- one table removed (API)


def test_the_full_data_shows_every_kpi_and_no_missing_table_note(full_quarter):
    ds, q = full_quarter
    assert q.missing == {}
    present = set(q.kpis[C.KPI])
    for kpi_ids in KPIS_OF.values():
        assert set(kpi_ids) <= present
    for html in section_html(q, ds).values():
        assert MISSING_BLOCK not in html
        assert "Optional tables not provided" not in html


def test_a_removed_table_is_named_with_its_columns_in_its_own_section_only(one_table_removed):
    table, ds, q = one_table_removed
    assert set(q.missing) == set(KPIS_OF[table])
    html = section_html(q, ds)
    own = missing_blocks(html[SECTION_OF[table]])
    assert own, f"no note in {SECTION_OF[table]!r} for the missing {table}"
    assert_names_table_and_columns(own, table)
    for name, part in html.items():  # the other sections are unaffected
        if name not in (SECTION_OF[table], "Data quality"):
            assert MISSING_BLOCK not in part, name
    assert f"Optional tables not provided: {table}." in unescape(html["Data quality"])


def test_a_removed_table_drops_only_its_own_kpis(one_table_removed, full_quarter):
    table, _, q = one_table_removed
    _, full = full_quarter
    assert_kpis_absent_or_empty(q.kpis, KPIS_OF[table])
    others = set(full.kpis[C.KPI]) - set(KPIS_OF[table])
    assert others <= set(q.kpis[C.KPI])


def test_a_removed_table_leaves_the_base_kpis_as_they_were(one_table_removed, full_quarter):
    _, _, q = one_table_removed
    _, full = full_quarter
    assert_same_base(base_of(q.kpis), base_of(full.kpis))


def test_a_removed_table_leaves_the_kpis_of_the_other_tables_as_they_were(one_table_removed,
                                                                          full_quarter):
    table, _, q = one_table_removed
    _, full = full_quarter
    kept = [k for t, kpi_ids in KPIS_OF.items() if t != table for k in kpi_ids] + [ids.CLV]
    got = q.kpis[q.kpis[C.KPI].isin(kept)].set_index([C.KPI, C.SEGMENT])[[C.VALUE]].sort_index()
    want = full.kpis[full.kpis[C.KPI].isin(kept)].set_index([C.KPI, C.SEGMENT])[[C.VALUE]]
    pd.testing.assert_frame_equal(got.astype(float), want.sort_index().astype(float))


# ---------------------------------------------------------- notebook: all optional tables removed


def test_without_any_optional_table_the_report_renders(none_run):
    status, folder = none_run
    assert status == 0
    assert {p.name for p in folder.iterdir()} >= {"segment_report.html", "kpis.csv",
                                                  "segment_report.ipynb"}


def test_without_any_optional_table_each_section_names_its_table_and_columns(none_run):
    _, folder = none_run
    html = (folder / "segment_report.html").read_text(encoding="utf-8")
    secs = report_sections(html)
    for table in OPTIONAL:
        blocks = missing_blocks(section(secs, SECTION_OF[table]))
        assert any(table in b for b in blocks), table
        assert_names_table_and_columns([b for b in blocks if table in b], table)
    quality = unescape(section(secs, "Data quality"))
    assert ("Optional tables not provided: marketing_spend, surveys, market_size, "
            "segmentation_costs.") in quality


def test_without_any_optional_table_the_rest_of_the_report_is_there(none_run):
    _, folder = none_run
    html = (folder / "segment_report.html").read_text(encoding="utf-8")
    secs = report_sections(html)
    for heading in SECTION_HEADINGS:
        section(secs, heading)
    for heading in ("Executive scorecard", "What happened", "Growth by segment",
                    "Customers gained", "Retention and churn", "Revenue mix",
                    "Behavioural segments", "How customers moved", "Cohort retention",
                    "Data quality"):
        assert MISSING_BLOCK not in section(secs, heading), heading
    # The charts that need only orders and customers are drawn: growth, flow, retention,
    # revenue mix, CLV, RFM, behaviour groups, migration, cohorts.
    assert len(chart_images(html)) >= 9
    for heading in ("Growth by segment", "Customers gained", "Retention and churn",
                    "Revenue mix", "Cohort retention"):
        assert chart_images(section(secs, heading)), heading
    # CLV needs only the orders: its chart and the CLV-growth panel stay (CAC and retention
    # cost drop out of the panel); the NPS, CSAT and survey panels give way to notes
    assert len(chart_images(section(secs, "Customer value"))) == 2
    assert chart_images(section(secs, "Voice of the customer")) == []
    # the trends are drawn without the NPS and CSAT panels, and the note says why
    trends = section(secs, "Trends over nine quarters")
    assert len(chart_images(trends)) == 1
    blocks = missing_blocks(trends)
    assert len(blocks) == 1 and "NPS" in blocks[0] and "CSAT" in blocks[0]
    assert_names_table_and_columns(blocks, C.SURVEYS)
    # the scorecard carries a sparkline per KPI and segment
    assert sections.SPARK_CLASS in section(secs, "Executive scorecard")
    assert "Traceback" not in html


def test_without_any_optional_table_kpis_csv_has_the_base_kpis_of_the_full_data(none_run,
                                                                                baseline):
    _, folder = none_run
    assert_same_base(base_of(read_kpis(folder)), base_of(baseline))


def test_without_any_optional_table_their_kpis_are_absent_or_empty(none_run):
    _, folder = none_run
    kpis = read_kpis(folder)
    for kpi_ids in KPIS_OF.values():
        assert_kpis_absent_or_empty(kpis, kpi_ids)
    # CLV needs only the orders: it stays.
    assert kpis.query("kpi == 'clv' and segment == 'All'")[C.VALUE].notna().all()
    assert len(kpis.query("kpi == 'clv'")) > 0


# ---------------------------------------------------------- notebook: marketing_spend removed


def test_without_marketing_spend_the_report_renders_and_names_the_table(spend_run):
    status, folder = spend_run
    assert status == 0
    html = (folder / "segment_report.html").read_text(encoding="utf-8")
    secs = report_sections(html)
    blocks = missing_blocks(section(secs, "Customer value"))
    assert blocks and all("marketing_spend" in b for b in blocks)
    assert_names_table_and_columns(blocks, C.MARKETING_SPEND)
    assert "acquisition_spend" in html
    for heading in SECTION_HEADINGS:  # every other section says nothing is missing
        if heading not in ("Customer value", "Data quality"):
            assert MISSING_BLOCK not in section(secs, heading), heading
    assert "Optional tables not provided: marketing_spend." in unescape(html)


def test_without_marketing_spend_only_its_kpis_go_and_the_base_kpis_stay(spend_run, baseline):
    _, folder = spend_run
    kpis = read_kpis(folder)
    assert_kpis_absent_or_empty(kpis, KPIS_OF[C.MARKETING_SPEND])
    assert_same_base(base_of(kpis), base_of(baseline))
    # market share and the survey KPIs do not need marketing_spend
    for kpi in (ids.MARKET_SHARE, ids.NPS, ids.SEGMENTATION_EFFICIENCY):
        assert kpis.query("kpi == @kpi and segment == 'All'")[C.VALUE].notna().all(), kpi


# --------------------------------------------------------------------------- notebook: customers removed


def test_without_customers_the_report_renders_unsegmented(no_customers_run):
    status, folder = no_customers_run
    assert status == 0
    kpis = read_kpis(folder)
    assert set(kpis[C.SEGMENT]) == {C.UNSEGMENTED, C.ALL_SEGMENTS}
    html = unescape((folder / "segment_report.html").read_text(encoding="utf-8"))
    assert "Optional tables not provided: customers." in html
    assert len(chart_images(html)) >= 9


def test_without_customers_the_whole_unit_activity_and_revenue_are_unchanged(no_customers_run,
                                                                            baseline, full_data):
    """Without a customers table a customer is acquired at their first order (not their
    signup), so new customers and the acquisition rate follow that rule; everything that
    depends only on the orders is as with the customers table."""
    _, folder = no_customers_run
    kpis = read_kpis(folder)
    same = [k for k in ids.BASE_KPIS if k not in (ids.NEW_CUSTOMERS, ids.ACQUISITION_RATE)]
    got = base_of(kpis[kpis[C.KPI].isin(same)], [C.ALL_SEGMENTS])
    assert_same_base(got, base_of(baseline[baseline[C.KPI].isin(same)], [C.ALL_SEGMENTS]))
    # Unsegmented is every customer: the same numbers as All
    unseg = base_of(kpis, [C.UNSEGMENTED]).droplevel(C.SEGMENT)
    whole = base_of(kpis, [C.ALL_SEGMENTS]).droplevel(C.SEGMENT)
    pd.testing.assert_frame_equal(unseg, whole)
    # new customers = customers whose first order (amount > 0) is in the quarter
    orders = pd.read_csv(full_data / "orders.csv", parse_dates=[C.ORDER_DATE])
    first = orders[orders[C.AMOUNT] > 0].groupby(C.CUSTOMER_ID)[C.ORDER_DATE].min()
    p = Period.parse(PERIOD)
    expected_new = int(((first >= p.start) & (first < p.end)).sum())
    got_new = kpis.query("kpi == 'new_customers' and segment == 'All'")[C.VALUE].item()
    assert got_new == expected_new


def test_without_customers_the_report_says_which_columns_would_split_it_by_segment(
        no_customers_run):
    _, folder = no_customers_run
    text = unescape(re.sub(r"<[^>]+>", " ", (folder / "segment_report.html").read_text()))
    note = text[text.find("Optional tables not provided"):][:400]
    assert "customers" in note and "segment" in note and "signup_date" in note


# --------------------------------------------------------------------------- segment_by


def test_segment_by_region_cuts_by_the_regions_of_the_customers_file(region_run, full_data):
    status, folder = region_run
    assert status == 0
    kpis = read_kpis(folder)
    customers = pd.read_csv(full_data / "customers.csv")
    assert customers["region"].isna().any()  # so "Unassigned" must appear
    expected = set(customers["region"].dropna()) | {C.ALL_SEGMENTS, C.UNASSIGNED}
    assert set(kpis[C.SEGMENT]) == expected
    html = (folder / "segment_report.html").read_text(encoding="utf-8")
    assert "segments: region" in html


def test_segment_by_rfm_cuts_by_rfm_segment_names(rfm_run):
    status, folder = rfm_run
    assert status == 0
    segments = set(read_kpis(folder)[C.SEGMENT]) - {C.ALL_SEGMENTS}
    assert segments <= set(RFM_SEGMENTS) | {NO_RECENT_ORDER}
    assert len(segments & set(RFM_SEGMENTS)) >= 3


def test_segment_by_rfm_says_trends_are_unavailable_and_still_compares_with_last_quarter(rfm_run):
    # RFM segments are recomputed each quarter on the reference path: no quarterly history
    _, folder = rfm_run
    secs = report_sections((folder / "segment_report.html").read_text(encoding="utf-8"))
    trends = unescape(section(secs, "Trends over nine quarters"))
    assert sections.NO_HISTORY in trends and not chart_images(trends)
    scorecard = unescape(section(secs, "Executive scorecard"))
    assert "changes on a year ago and trends are not available" in scorecard
    assert sections.SPARK_CLASS not in scorecard and "vs last qtr" in scorecard


@pytest.mark.parametrize("which", ["region", "rfm"])
def test_segment_by_does_not_change_the_whole_unit(which, region_run, rfm_run, baseline):
    _, folder = {"region": region_run, "rfm": rfm_run}[which]
    kpis = read_kpis(folder)
    assert_same_base(base_of(kpis, [C.ALL_SEGMENTS]), base_of(baseline, [C.ALL_SEGMENTS]))
    # the cut is a partition of the same customers: counts and revenue add up to All
    for kpi in (ids.CUSTOMERS_START, ids.CUSTOMERS_END, ids.NEW_CUSTOMERS, ids.REVENUE,
                ids.ORDERS):
        part = kpis[kpis[C.KPI] == kpi]
        whole = part.loc[part[C.SEGMENT] == C.ALL_SEGMENTS, C.VALUE].item()
        assert part.loc[part[C.SEGMENT] != C.ALL_SEGMENTS, C.VALUE].sum() == pytest.approx(whole)


def test_an_unknown_segment_by_column_is_exit_2_listing_the_choices(root, full_data, capsys):
    capsys.readouterr()
    status, folder = run(root, full_data, "badcut", "--set", "segment_by=colour")
    err = capsys.readouterr().err
    assert status == 2
    assert "colour" in err
    for choice in ("segment", "region", "business_unit", "rfm"):
        assert choice in err, choice
    assert "Traceback" not in err
    assert not folder.exists()


def test_resegment_rejects_an_unknown_column_listing_the_choices(full_quarter):
    ds, _ = full_quarter
    p = Period.parse(PERIOD)
    facts = unit_facts(ds, p)
    with pytest.raises(ConfigError, match=r"colour.*segment.*region.*rfm"):
        resegment(facts, ds, "colour", p.end)


# --------------------------------------------------------------------------- report.py helpers


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[C.KPI, C.SEGMENT, C.VALUE, C.NOTE])


def test_with_previous_aligns_by_kpi_and_segment_not_by_position():
    kpis = frame([("revenue", "Gold", 10.0, "a"), ("revenue", "All", 30.0, ""),
                  ("orders", "Gold", 1.0, ""), ("orders", "Silver", 2.0, "b")])
    previous = frame([("orders", "Gold", 5.0, ""), ("revenue", "All", 25.0, ""),
                      ("revenue", "Gold", 8.0, ""), ("churn_rate", "Gold", 99.0, ""),
                      ("orders", "All", 7.0, "")])
    before = kpis.copy(deep=True)
    out = with_previous(kpis, previous)
    # same rows in the same order; last quarter's value of the same (kpi, segment);
    # NaN where last quarter had no such row (orders/Silver)
    pd.testing.assert_frame_equal(out.drop(columns=[C.PREVIOUS_VALUE]), before)
    assert out[C.PREVIOUS_VALUE].tolist()[:3] == [8.0, 25.0, 5.0]
    assert math.isnan(out[C.PREVIOUS_VALUE].iloc[3])
    pd.testing.assert_frame_equal(kpis, before)  # the input is not modified


def test_with_previous_keeps_a_non_default_index_and_aligns_it():
    kpis = frame([("revenue", "Gold", 10.0, ""), ("revenue", "All", 30.0, "")]).set_axis([7, 3])
    previous = frame([("revenue", "All", 25.0, ""), ("revenue", "Gold", 8.0, "")]).set_axis([0, 9])
    out = with_previous(kpis, previous)
    assert list(out.index) == [7, 3]
    assert out[C.PREVIOUS_VALUE].tolist() == [8.0, 25.0]


@pytest.mark.parametrize("previous", [None, frame([])], ids=["none", "empty"])
def test_with_previous_without_last_quarter_gives_nan(previous):
    kpis = frame([("revenue", "Gold", 10.0, ""), ("revenue", "All", 30.0, "")])
    out = with_previous(kpis, previous)
    assert out[C.PREVIOUS_VALUE].isna().all() and len(out) == 2
    assert C.PREVIOUS_VALUE not in kpis


ORDERS_Q3_ONLY = """order_id,customer_id,order_date,amount
1,A,2026-07-10,100
2,B,2026-08-01,20
3,A,2026-09-15,50
"""
ORDERS_Q2_Q3 = """order_id,customer_id,order_date,amount
1,A,2026-05-10,100
2,B,2026-08-01,20
3,A,2026-09-15,50
"""
CUSTOMERS = """customer_id,signup_date,segment,business_unit
A,2026-05-01,Gold,X
B,2026-07-20,Silver,X
"""


def test_previous_facts_is_none_when_the_orders_do_not_reach_the_previous_quarter(
        tmp_path, csv_data):
    ds = read_dataset(csv_data(tmp_path / "q3", orders=ORDERS_Q3_ONLY, customers=CUSTOMERS))
    p = Period.parse(PERIOD)
    assert previous_facts(ds, p) is None
    assert previous_facts(ds, p, segment_by="rfm") is None
    q = build_quarter(ds, PERIOD)  # the report still builds: no previous values
    assert q.prev_facts is None
    assert q.kpis[C.PREVIOUS_VALUE].isna().all()


def test_previous_facts_are_last_quarters_facts_when_the_orders_reach_it(tmp_path, csv_data):
    ds = read_dataset(csv_data(tmp_path / "q2q3", orders=ORDERS_Q2_Q3, customers=CUSTOMERS))
    p = Period.parse(PERIOD)
    prev = previous_facts(ds, p)
    assert prev is not None
    pd.testing.assert_frame_equal(prev, unit_facts(ds, p.previous()))
    assert prev.loc["A", C.REVENUE] == 100 and prev.loc["B", C.REVENUE] == 0
    assert bool(prev.loc["A", C.ACTIVE_END]) and not bool(prev.loc["B", C.ACTIVE_END])


@pytest.mark.parametrize("segment_by", ["region", "gender", "rfm"])
def test_resegment_leaves_its_input_unchanged_and_returns_a_new_frame(full_quarter, segment_by):
    ds, _ = full_quarter
    p = Period.parse(PERIOD)
    facts = unit_facts(ds, p)
    facts_before = facts.copy(deep=True)
    customers_before = ds.customers.copy(deep=True)
    out = resegment(facts, ds, segment_by, p.end)
    pd.testing.assert_frame_equal(facts, facts_before)
    pd.testing.assert_frame_equal(ds.customers, customers_before)
    assert out is not facts
    assert out.index.equals(facts.index)
    pd.testing.assert_frame_equal(out.drop(columns=[C.SEGMENT]), facts.drop(columns=[C.SEGMENT]))
    assert set(out[C.SEGMENT]) != set(facts[C.SEGMENT])
    if segment_by != "rfm":
        values = ds.customers.set_index(C.CUSTOMER_ID)[segment_by]
        expected = values.reindex(facts.index).fillna(C.UNASSIGNED).astype(str)
        assert out[C.SEGMENT].tolist() == expected.tolist()
