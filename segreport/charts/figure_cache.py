"""The chart cache: every chart's PNG is kept, keyed by a fingerprint of the figure (its
artists' state pickled, the style settings, the print options and the drawing code), so a
chart drawn again unchanged is read back instead of drawn; and the compact PNG the report
shows."""
from __future__ import annotations

import base64
import functools
import hashlib
import inspect
import pickle
import types

import numpy as np
from matplotlib.figure import Figure
from matplotlib.transforms import TransformNode

from segreport.cache import read_entry, store_entry


def compact_png(data: bytes, colors: int = 256) -> bytes:
    """``data`` (a PNG) re-encoded with a palette of at most ``colors`` colours (median cut,
    no dithering): charts are flat colours and their anti-aliased edges, so they look the
    same (white stays white) at about a third of the bytes; the report's HTML carries every
    chart inline."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                   dither=Image.Dither.NONE).save(out, format="PNG", compress_level=9)
    return out.getvalue()


FIGURE_CACHE = "figures"
FIGURES_KEPT = 2000
"""Chart images kept in the cache (about 30 KB each): the charts of some fifty reports."""


_BY_NAME = (type, types.FunctionType, types.BuiltinFunctionType, types.ModuleType)


def _method(owner: str, name: str) -> str:
    """Stands, in a figure's fingerprint, for a built-in method bound to a container."""
    return f"{owner}.{name}"


def _seen(index: int) -> int:
    """Stands, in a figure's fingerprint, for an object met before (its visit number)."""
    return index


class _FigureState(pickle.Pickler):
    """Pickles a figure to the same bytes whenever its content is the same, in any process
    and whichever way its data was computed.

    pickle's own memo refers back to any object met before, strings included, so the bytes
    would depend on which equal strings happen to be one object. Here the memo is off
    (``fast``): strings, numbers and tuples are always written out, and every other object
    met again is written as :func:`_seen` with the number of its first visit. The
    back-references transforms keep to their parents (keyed by object id) are left out, and
    arrays are written in C order."""

    def __init__(self, file) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.fast = True
        self._visits: dict[int, int] = {}
        self._alive: list = []  # keeps visited objects alive, so no id is reused

    def reducer_override(self, obj):
        if isinstance(obj, types.BuiltinMethodType) and not isinstance(
                getattr(obj, "__self__", None), (types.ModuleType, type(None))):
            # e.g. the ``list.remove`` an artist keeps to leave its parent's list: the list
            # is the parent's, pickled there; naming the method is enough
            return _method, (type(obj.__self__).__qualname__, obj.__name__)
        if isinstance(obj, _BY_NAME):
            return NotImplemented  # pickled as its name
        key = id(obj)
        if key in self._visits:
            return _seen, (self._visits[key],)
        self._visits[key] = len(self._visits)
        self._alive.append(obj)
        if isinstance(obj, np.ndarray) and not obj.flags.c_contiguous:
            return np.ascontiguousarray(obj).__reduce_ex__(pickle.HIGHEST_PROTOCOL)
        if not isinstance(obj, TransformNode):
            return NotImplemented
        reduced = obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
        if len(reduced) > 2 and isinstance(reduced[2], dict) and "_parents" in reduced[2]:
            state = {k: v for k, v in reduced[2].items() if k != "_parents"}
            return (*reduced[:2], state, *reduced[3:])
        return reduced


@functools.cache
def _image_code() -> str:
    """What else decides a chart's pixels: the drawing libraries' versions and the code
    that turns a figure into the report's PNG."""
    import matplotlib
    import PIL

    return "|".join([matplotlib.__version__, PIL.__version__, inspect.getsource(compact_png),
                     inspect.getsource(figure_png)])


def figure_fingerprint(fig: Figure, **kwargs) -> str | None:
    """SHA-256 of everything that decides the PNG of ``fig`` drawn with ``kwargs``: every
    artist's state (the figure pickled), the style settings, the print options and
    :func:`_image_code`; ``None`` when the figure cannot be pickled (e.g. it holds a
    lambda)."""
    import matplotlib

    digest = hashlib.sha256()
    try:
        _FigureState(_HashWriter(digest)).dump(fig)
    except (pickle.PicklingError, TypeError, AttributeError, ValueError, RecursionError):
        return None  # e.g. a lambda, or a cycle through a list
    digest.update(repr(sorted(kwargs.items())).encode())
    digest.update(repr(sorted((k, v) for k, v in matplotlib.rcParams.items()
                              if k != "backend")).encode())  # its default is an object
    digest.update(_image_code().encode())
    return digest.hexdigest()


class _HashWriter:
    """A file-like sink that feeds what is written into a hash."""

    def __init__(self, digest) -> None:
        self.write = digest.update


def figure_png(fig: Figure, **kwargs) -> str | None:
    """The notebook's PNG of ``fig`` (as IPython's inline backend draws it, ``kwargs``
    passed on to it) made compact by :func:`compact_png`, base64-encoded; ``None`` for an
    empty figure.

    A chart drawn before with the same state, style and options (see
    :func:`figure_fingerprint`) is read from the cache (``$SEGREPORT_CACHE_DIR/figures``)
    instead of being drawn again: re-running a report on the same data redraws only the
    charts that changed.
    """
    from IPython.core.pylabtools import print_figure

    key = figure_fingerprint(fig, **kwargs)
    data = read_entry(FIGURE_CACHE, f"{key}.png") if key else None
    if data is None:
        raw = print_figure(fig, fmt="png", **kwargs)
        if raw is None:
            return None
        data = compact_png(raw)
        if key:
            store_entry(FIGURE_CACHE, f"{key}.png", data, FIGURES_KEPT)
    return base64.b64encode(data).decode("ascii")


def use_compact_png(**kwargs) -> None:
    """Show every Figure in the running notebook as :func:`figure_png` (after the
    ``%config InlineBackend`` lines, which would replace it); outside IPython, nothing."""
    from functools import partial

    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["image/png"].for_type(
            Figure, partial(figure_png, **kwargs))


__all__ = [
    "FIGURES_KEPT",
    "FIGURE_CACHE",
    "compact_png",
    "figure_fingerprint",
    "figure_png",
    "use_compact_png",
]
