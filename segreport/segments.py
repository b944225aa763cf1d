"""The order segments are shown in: the segments in their order, then ``All`` (the whole
unit) last in tables and charts, first in the narrative."""
from __future__ import annotations

from collections.abc import Iterable

from segreport import columns as C


def sorted_segments(segments: Iterable[str]) -> list[str]:
    """The distinct segment names, sorted, without ``All``."""
    return sorted(set(segments) - {C.ALL_SEGMENTS})


def segments_without_all(segments: Iterable[str]) -> list[str]:
    """The distinct ``segments`` in their order, without ``All``."""
    return [s for s in dict.fromkeys(segments) if s != C.ALL_SEGMENTS]


def _whole(segments: Iterable[str]) -> list[str]:
    """``[All]`` when ``All`` is among ``segments``, else ``[]``."""
    return [C.ALL_SEGMENTS] if C.ALL_SEGMENTS in set(segments) else []


def all_last(segments: Iterable[str]) -> list[str]:
    """The distinct ``segments`` in their order, with ``All`` (when among them) moved last."""
    names = list(segments)
    return segments_without_all(names) + _whole(names)


def all_first(segments: Iterable[str]) -> list[str]:
    """The distinct ``segments`` in their order, with ``All`` (when among them) moved first:
    the narrative's order, the whole unit's paragraph before the segments'."""
    names = list(segments)
    return _whole(names) + segments_without_all(names)
