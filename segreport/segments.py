"""The order segments are shown in: the segments by name, then ``All`` (the whole unit)."""
from __future__ import annotations

from collections.abc import Iterable

from segreport import columns as C


def sorted_segments(segments: Iterable[str]) -> list[str]:
    """The distinct segment names, sorted, without ``All``."""
    return sorted(set(segments) - {C.ALL_SEGMENTS})


def all_last(segments: Iterable[str]) -> list[str]:
    """The distinct ``segments`` in their order, with ``All`` (when among them) moved last."""
    names = list(dict.fromkeys(segments))
    return [s for s in names if s != C.ALL_SEGMENTS] + [s for s in names if s == C.ALL_SEGMENTS]
