"""A notebook's HTML is rendered once: a re-run whose cells and outputs are unchanged reads
it from the cache; any change that reaches the HTML renders again."""
from __future__ import annotations

import nbformat
import pytest

from segreport.cache import cache_dir
from segreport.report import render


def _notebook(path, text: str, duration: float = 0.5):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('x')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    cell.metadata["papermill"] = {"duration": duration}  # differs from run to run
    nb.cells = [nbformat.v4.new_markdown_cell("# Heading", id="heading"), cell]
    cell.id = "revenue"  # ids come from the master notebook: the same in every run
    nb.metadata["papermill"] = {"start_time": f"2026-12-02T10:00:{duration:02.0f}"}
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def renders(monkeypatch, tmp_path) -> list[int]:
    monkeypatch.setenv("SEGREPORT_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[int] = []
    real = render.html_exporter

    def counted():
        calls.append(1)
        return real()

    monkeypatch.setattr(render, "html_exporter", counted)
    return calls


def test_an_unchanged_notebook_is_not_rendered_again(tmp_path, renders):
    first = render.render_html(_notebook(tmp_path / "a.ipynb", "revenue 12,345", 0.5), "Q3")
    again = render.render_html(_notebook(tmp_path / "b.ipynb", "revenue 12,345", 9.0), "Q3")
    assert "revenue 12,345" in first and again == first
    assert renders == [1]  # the second run's times and durations do not reach the HTML
    assert len(list(cache_dir("html").iterdir())) >= 1


def test_a_changed_output_or_title_is_rendered_afresh(tmp_path, renders):
    base = render.render_html(_notebook(tmp_path / "a.ipynb", "revenue 1"), "Q3")
    changed = render.render_html(_notebook(tmp_path / "b.ipynb", "revenue 2"), "Q3")
    retitled = render.render_html(_notebook(tmp_path / "c.ipynb", "revenue 1"), "Q4")
    assert "revenue 2" in changed and "revenue 2" not in base
    assert "<title>Q4</title>" in retitled and "<title>Q3</title>" in base
    assert renders == [1, 1, 1]


def test_papermills_parameters_cell_does_not_enter_the_key(tmp_path, renders):
    # the injected cell holds temporary paths and a new id in every run; it is not rendered
    def with_parameters(path, staging: str):
        nb = nbformat.read(str(_notebook(path, "revenue 7")), as_version=4)
        cell = nbformat.v4.new_code_cell(f"kpis_csv = '{staging}/kpis.csv'")
        cell.metadata["tags"] = ["injected-parameters"]
        nb.cells.insert(0, cell)
        nbformat.write(nb, str(path))
        return path

    first = render.render_html(with_parameters(tmp_path / "a.ipynb", "/tmp/staging-1"), "Q3")
    again = render.render_html(with_parameters(tmp_path / "b.ipynb", "/tmp/staging-2"), "Q3")
    assert again == first and "staging" not in first and renders == [1]
