"""Render an executed notebook to one self-contained HTML file with nbconvert.

Code is hidden; the parameters cell, papermill's injected cell and cells tagged
``remove`` are dropped; images are embedded as data URIs; nothing is fetched from the
internet (see ``templates/segreport``). Charts are stored as palette PNGs when that
changes no pixel by more than :data:`PALETTE_TOLERANCE` (see :func:`compact_png`), which
keeps the file to about half the size.
"""
from __future__ import annotations

import base64
import binascii
import io
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor
from PIL import Image, ImageChops
from traitlets.config import Config

TEMPLATES = Path(__file__).parent / "templates"
REMOVED_TAGS = {"parameters", "injected-parameters", "remove"}
#: Largest change, in levels of 0–255 in any colour channel, that re-encoding a chart with
#: a palette of 256 colours may make to a pixel. Charts are flat colours with anti-aliased
#: edges (most have fewer than 256 colours, and lose nothing); the heatmaps' shades move by
#: a few levels at most, which the eye does not see.
PALETTE_TOLERANCE = 8


def compact_png(data: bytes, tolerance: int = PALETTE_TOLERANCE) -> bytes:
    """``data`` (a PNG) re-encoded with a palette of at most 256 colours, when no pixel
    changes by more than ``tolerance`` and the result is smaller; else ``data`` itself.

    Images with transparency, other modes than RGB(A) and what Pillow cannot read are
    returned as they are.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG" or image.mode not in ("RGB", "RGBA"):
                return data
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        return data
    if image.mode == "RGBA":
        if image.getextrema()[3][0] < 255:
            return data
        image = image.convert("RGB")
    palette = image.quantize(256, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE)
    changed = ImageChops.difference(image, palette.convert("RGB")).getextrema()
    if max(high for _, high in changed) > tolerance:
        return data
    out = io.BytesIO()
    palette.save(out, "PNG")  # optimize=True would take 5 times as long for 10% less
    return out.getvalue() if out.tell() < len(data) else data


class CompactImages(Preprocessor):
    """Re-encode every ``image/png`` output with :func:`compact_png`."""

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            encoded = data.get("image/png")
            if not isinstance(encoded, str):
                continue
            try:
                raw = base64.b64decode(encoded, validate=False)
            except (binascii.Error, ValueError):
                continue
            smaller = compact_png(raw)
            if smaller is not raw:
                data["image/png"] = base64.b64encode(smaller).decode("ascii")
        return cell, resources


def html_exporter() -> HTMLExporter:
    config = Config()
    config.TagRemovePreprocessor.remove_cell_tags = REMOVED_TAGS
    config.TagRemovePreprocessor.enabled = True
    config.HTMLExporter.exclude_input = True
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    config.HTMLExporter.embed_images = True
    exporter = HTMLExporter(config=config, template_name="segreport",
                            extra_template_basedirs=[str(TEMPLATES)])
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    exporter.register_preprocessor(CompactImages(), enabled=True)
    return exporter


def render_html(notebook_path: str | Path, title: str) -> str:
    """The HTML text of an executed notebook."""
    nb = nbformat.read(str(notebook_path), as_version=4)
    nb.metadata["title"] = title
    body, _ = html_exporter().from_notebook_node(nb)
    return body
