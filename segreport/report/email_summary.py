"""The e-mail's summary: the outputs of the notebook cells tagged ``email``.

Many mail clients drop ``data:`` images and clip long HTML bodies, so the body is not the
nbconvert page. It is built from the *executed* notebook of a report folder: every code
cell tagged ``email`` gives its outputs, in order — ``text/html`` as HTML (our sections use
inline styles), ``image/png`` (or ``image/jpeg``) as an inline image referenced by
``cid:`` (``multipart/related``).
"""
from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import make_msgid
from html import escape
from html.parser import HTMLParser
from typing import Any

import nbformat

from segreport.errors import EmailError
from segreport.report.names import NOTEBOOK_NAME

EMAIL_TAG = "email"
#: Widest an inline image is shown (Outlook ignores ``max-width``, honours ``width``).
MAX_IMAGE_WIDTH = 680
_IMAGE_TYPES = ("image/png", "image/jpeg")
_DATA_URI = re.compile(
    r"""(\bsrc\s*=\s*)(["'])data:image/(png|jpe?g|gif);base64,([A-Za-z0-9+/=\s]+)\2""",
    re.IGNORECASE)


@dataclass(frozen=True)
class InlineImage:
    """An image of the summary, sent as a ``multipart/related`` part."""

    cid: str          # without the angle brackets
    subtype: str      # png, jpeg, gif
    data: bytes
    filename: str


@dataclass(frozen=True)
class Summary:
    """The HTML fragments (in order) and images taken from the ``email`` cells."""

    fragments: list[str]
    images: list[InlineImage]


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG (from its header), else None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    return None


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def email_summary(nb: nbformat.NotebookNode, domain: str = "segreport.invalid",
                  where: str = NOTEBOOK_NAME) -> Summary:
    """Collect the outputs of the code cells tagged ``email``, in notebook order.

    ``text/html`` outputs are kept as HTML, with any ``data:`` image inside them turned
    into an inline image; ``image/png``/``image/jpeg`` outputs become inline images.
    """
    fragments: list[str] = []
    images: list[InlineImage] = []

    def add_image(data: bytes, subtype: str) -> str:
        """Keep an image; return its content id."""
        n = len(images) + 1
        cid = make_msgid(idstring=f"chart{n}", domain=domain)[1:-1]
        ext = "jpg" if subtype == "jpeg" else subtype
        images.append(InlineImage(cid, subtype, data, f"chart-{n}.{ext}"))
        return cid

    def img_tag(data: bytes, subtype: str, width: int | None) -> str:
        cid = add_image(data, subtype)
        size = _image_size(data)
        width = width or (size[0] if size else None)
        width_attr = f" width='{min(width, MAX_IMAGE_WIDTH)}'" if width else ""
        return (f"<img src='cid:{escape(cid)}' alt='Chart {len(images)}'{width_attr} "
                "style='display:block;max-width:100%;height:auto;border:0'>")

    def decode(payload: Any, index: int) -> bytes:
        try:
            return base64.b64decode(re.sub(r"\s+", "", _text(payload)), validate=True)
        except (binascii.Error, ValueError):
            raise EmailError(f"{where}: cell {index}: an image output is not valid base64; "
                             "run the report again") from None

    def inline_data_uris(html: str, index: int) -> str:
        def swap(match: re.Match[str]) -> str:
            subtype = match.group(3).lower().replace("jpg", "jpeg")
            cid = add_image(decode(match.group(4), index), subtype)
            return f"{match.group(1)}{match.group(2)}cid:{cid}{match.group(2)}"
        return _DATA_URI.sub(swap, html)

    for index, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.get("cell_type") != "code" or EMAIL_TAG not in tags:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") not in ("execute_result", "display_data"):
                continue
            data = output.get("data", {})
            if "text/html" in data:
                fragments.append(inline_data_uris(_text(data["text/html"]), index))
                continue
            mime = next((m for m in _IMAGE_TYPES if m in data), None)
            if mime is None:
                continue
            meta = output.get("metadata", {}).get(mime, {})
            width = meta.get("width") if isinstance(meta, dict) else None
            fragments.append(img_tag(decode(data[mime], index), mime.split("/")[1],
                                     int(width) if isinstance(width, (int, float)) else None))
    return Summary(fragments, images)


def _page(fragments: Iterable[str], title: str, footer: str) -> str:
    """Our own small e-mail template: inline styles only, no external resources.

    Each fragment is a block of its own that scrolls sideways when it is wider than the
    screen (a wide table on a phone), so the rest of the message keeps the screen's width.
    """
    body = "\n".join(f"<div style='margin:0 0 18px;max-width:100%;overflow-x:auto'>{f}</div>"
                     for f in fragments)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title></head>\n"
        "<body style='margin:0;padding:16px;background:#ffffff;color:#222222;"
        "font-family:Helvetica,Arial,sans-serif;font-size:14px;line-height:1.4'>\n"
        f"{body}\n"
        "<p style='margin:24px 0 0;padding-top:8px;border-top:1px solid #e5e5e5;"
        f"font-size:12px;color:#666666'>{footer}</p>\n</body></html>\n")


class _TextRenderer(HTMLParser):
    """A rough plain-text rendering of the summary for the ``text/plain`` alternative."""

    BLOCK = {"p", "div", "br", "h1", "h2", "h3", "h4", "li", "tr", "table", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.in_cell = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "title"):
            self.skip += 1
        elif tag in ("td", "th"):
            self.in_cell += 1
            self.parts.append(" | ")
        elif tag in self.BLOCK:
            self.parts.append(" " if self.in_cell else "\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag in ("td", "th"):
            self.in_cell = max(0, self.in_cell - 1)
        elif tag in self.BLOCK:
            self.parts.append(" " if self.in_cell else "\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        lines = (line.strip().removeprefix("| ").strip()
                 for line in "".join(self.parts).splitlines())
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def html_to_text(html: str) -> str:
    renderer = _TextRenderer()
    renderer.feed(html)
    renderer.close()
    return renderer.text()
