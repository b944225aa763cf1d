"""Render an executed notebook to one self-contained HTML file with nbconvert.

Code is hidden; the parameters cell, papermill's injected cell and cells tagged
``remove`` are dropped; images are embedded as data URIs; nothing is fetched from the
internet (see ``templates/segreport``).

A notebook rendered before (same cells, outputs and title; same nbconvert, template and
this module) is read from the cache (``$SEGREPORT_CACHE_DIR/html``) instead: a re-run on
unchanged data gives byte-identical outputs, so its HTML is not rendered again (~1 s).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat

from segreport.cache import read_entry, store_entry

TEMPLATES = Path(__file__).parent / "templates"
REMOVED_TAGS = {"parameters", "injected-parameters", "remove"}
HTML_KEEP = 50
"""Rendered reports kept in the cache."""
VOLATILE_METADATA = ("papermill", "execution")
"""Notebook and cell metadata that change from run to run (times, durations) and do not
reach the HTML."""


def html_exporter():
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

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
    return exporter


def html_fingerprint(nb) -> str:
    """SHA-256 of what decides a notebook's HTML: its cells (sources, outputs, tags; not the
    cells :data:`REMOVED_TAGS` drop, such as papermill's parameters with their temporary
    paths) and metadata less :data:`VOLATILE_METADATA`, the title, the nbconvert version,
    the template files and this module's code."""
    from importlib.metadata import version

    def stable(metadata) -> dict:
        return {k: v for k, v in metadata.items() if k not in VOLATILE_METADATA}

    h = hashlib.sha256()
    h.update(json.dumps({"metadata": stable(nb.metadata),
                         "cells": [{**cell, "metadata": stable(cell.get("metadata", {}))}
                                   for cell in nb.cells
                                   if not REMOVED_TAGS & set(cell.get("metadata", {})
                                                             .get("tags", []))]},
                        sort_keys=True).encode())
    h.update(version("nbconvert").encode())
    h.update(Path(__file__).read_bytes())
    for path in sorted(TEMPLATES.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(TEMPLATES).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def render_html(notebook_path: str | Path, title: str) -> str:
    """The HTML text of an executed notebook (from the cache when rendered before)."""
    nb = nbformat.read(str(notebook_path), as_version=4)
    nb.metadata["title"] = title
    key = f"{html_fingerprint(nb)}.html"
    kept = read_entry("html", key)
    if kept is not None:
        return kept.decode("utf-8")
    body, _ = html_exporter().from_notebook_node(nb)
    store_entry("html", key, body.encode("utf-8"), HTML_KEEP)
    return body
