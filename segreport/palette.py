"""A fixed colour per segment, the same in every chart, table and unit of a report."""
from __future__ import annotations

from collections.abc import Iterable

from segreport import columns as C
from segreport.segments import sorted_segments

ALL_COLOR = "#4d4d4d"
"""``All`` (the whole unit): dark grey."""
PALETTE = ["#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4",
           "#949494", "#ece133", "#56b4e9"]
"""seaborn's ``colorblind`` palette (10 colours), written out so that the prepared data
needs no plotting library."""


def segment_colors(segments: Iterable[str]) -> dict[str, str]:
    """A fixed colour per segment: sorted names take the palette in order; ``All`` is grey.

    Build it once per report from every segment of the data so that a segment keeps its
    colour in every chart (and in every unit's report of the same data).
    """
    names = sorted_segments(str(s) for s in segments)
    colors = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(names)}
    colors[C.ALL_SEGMENTS] = ALL_COLOR
    return colors
