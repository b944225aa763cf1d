"""Render an executed notebook to one self-contained HTML file with nbconvert.

Code is hidden; the parameters cell, papermill's injected cell and cells tagged
``remove`` are dropped; images are embedded as data URIs; nothing is fetched from the
internet (see ``templates/segreport``).
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from traitlets.config import Config

TEMPLATES = Path(__file__).parent / "templates"
REMOVED_TAGS = {"parameters", "injected-parameters", "remove"}


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
    return exporter


def render_html(notebook_path: str | Path, title: str) -> str:
    """The HTML text of an executed notebook."""
    nb = nbformat.read(str(notebook_path), as_version=4)
    nb.metadata["title"] = title
    body, _ = html_exporter().from_notebook_node(nb)
    return body
