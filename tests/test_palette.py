"""Segment colours and the order segments are shown in, written once below the charts."""
from __future__ import annotations

import seaborn as sns

from segreport import columns as C
from segreport.palette import ALL_COLOR, PALETTE, segment_colors
from segreport.period import Period
from segreport.segments import all_first, all_last, segments_without_all, sorted_segments


def test_the_palette_is_seaborns_colorblind_palette():
    assert PALETTE == sns.color_palette("colorblind", 10).as_hex()


def test_sorted_names_take_the_palette_in_order_and_all_is_grey():
    assert segment_colors(["Silver", "Gold", C.ALL_SEGMENTS, "Gold"]) == {
        "Gold": PALETTE[0], "Silver": PALETTE[1], C.ALL_SEGMENTS: ALL_COLOR}


def test_segments_are_sorted_without_all_or_kept_in_order_with_all_last():
    assert sorted_segments(["b", C.ALL_SEGMENTS, "a", "b"]) == ["a", "b"]
    assert all_last([C.ALL_SEGMENTS, "b", "a", "b"]) == ["b", "a", C.ALL_SEGMENTS]
    assert all_last(["b", "a"]) == ["b", "a"]


def test_segments_in_order_without_all_or_with_all_first():
    assert segments_without_all(["b", C.ALL_SEGMENTS, "a", "b"]) == ["b", "a"]
    assert all_first(["b", C.ALL_SEGMENTS, "a", "b"]) == [C.ALL_SEGMENTS, "b", "a"]
    assert all_first(["b", "a"]) == ["b", "a"]


def test_quarter_arithmetic_counts_quarters_since_1970q1():
    assert Period.parse("1970Q1").index == 0 and Period.parse("2026Q3").index == 226
    assert Period.from_index(226) == Period.parse("2026Q3")
    assert Period.parse("2026Q1").shifted(-1).label == "2025Q4"
    assert Period.parse("2025Q4").next().label == "2026Q1"
