"""The analyst's note: a markdown file per quarter and business unit, shown at the top of
the report, in its PDF and in the e-mail body.

The note is a source file, kept beside the project like the params file and read on every
run: ``{commentary_dir}/{period}/{unit folder}.md`` (``commentary/2026Q3/Retail.md``;
``All.md`` for the whole business; a unit name with path characters takes its report
folder's name, :func:`segreport.report.publish.unit_folder`). No file, or an empty one, no
section. It is rendered as CommonMark (with tables) by markdown-it-py with raw HTML off, so
any HTML in it is shown as text; images are not fetched (the report stays self-contained)
and headings are set below the report's own.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from IPython.display import HTML

from segreport.errors import ConfigError, clip
from segreport.files import read_at_most, write_file_atomic
from segreport.period import Period
from segreport.report.publish import safe_name, unit_folder

NOTE_SUFFIX = ".md"
MAX_NOTE_BYTES = 50_000
"""Largest note read (a note is a few paragraphs; the e-mail body must stay under 100 KB)."""
TITLE = "Analyst’s note"
_HEADING = {"h1": "h3", "h2": "h4", "h3": "h5", "h4": "h5", "h5": "h6", "h6": "h6"}
_BOX = ("margin:4px 0 18px;padding:10px 14px;border-left:4px solid #4d4d4d;background:#f7f7f7;"
        "font-size:14px;line-height:1.45;max-width:860px")
_LABEL = ("margin:0 0 6px;font-size:12px;font-weight:700;letter-spacing:.5px;color:#555555;"
          "text-transform:uppercase")


def note_path(commentary_dir: str | Path, period: str, business_unit: str = "") -> Path:
    """Where the note of ``period`` and ``business_unit`` (``""``: the whole business) is.

    Raises
    ------
    ConfigError
        the path would lead out of ``commentary_dir`` (a quarter folder or note that is a
        link elsewhere).

    Examples
    --------
    >>> note_path("commentary", "2026Q3", "Retail").as_posix()
    'commentary/2026Q3/Retail.md'
    >>> note_path("commentary", "2026Q3").name, note_path("c", "2026Q3", "North/South").parent.name
    ('All.md', '2026Q3')
    """
    folder = Path(commentary_dir)
    path = folder / safe_name(Period.parse(period).label) / f"{unit_folder(business_unit)}{NOTE_SUFFIX}"
    if path.exists() and not path.resolve().is_relative_to(folder.resolve()):
        raise ConfigError(f"{path}: the analyst's note leads out of commentary_dir "
                          f"({folder}); keep the note itself in that folder")
    return path


def read_note(path: str | Path) -> str | None:
    """The note's text; ``None`` when there is no file or it holds only blanks.

    Raises
    ------
    ConfigError
        naming the file: larger than :data:`MAX_NOTE_BYTES`, not UTF-8 text, unreadable.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        data = read_at_most(path, MAX_NOTE_BYTES)
        if data is None:
            raise ConfigError(f"{path}: the analyst's note is larger than {MAX_NOTE_BYTES:,} "
                              "bytes; a note is a few paragraphs")
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the analyst's note is not UTF-8 text; save it as UTF-8") \
            from None
    except OSError as exc:
        raise ConfigError(f"{path}: the analyst's note cannot be read ({clip(exc, 200)})") \
            from None
    return text if text.strip() else None


def render_note(text: str) -> str:
    """Markdown → HTML: CommonMark with tables, raw HTML escaped (shown as text), links
    checked by markdown-it (no ``javascript:``), images left out, headings demoted
    (``#`` → ``h3``) below the report's own.

    Examples
    --------
    >>> render_note("**Up** <b>x</b>")
    '<p><strong>Up</strong> &lt;b&gt;x&lt;/b&gt;</p>\\n'
    """
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")
    tokens = md.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = _HEADING[token.tag]
    return md.renderer.render(tokens, md.options, {})


def note_digest(commentary_dir: str | Path, period: str, business_unit: str = "") -> str:
    """A hash of the note (``""`` when there is none), so that a batch remakes a report
    whose note was written or changed."""
    text = read_note(note_path(commentary_dir, period, business_unit))
    return hashlib.sha256(text.encode()).hexdigest() if text is not None else ""


def analyst_note(commentary_dir: str | Path, period: str, business_unit: str = "") -> HTML | None:
    """The note of ``period`` and ``business_unit`` as the report shows it, or ``None``
    (nothing shown) when there is none."""
    text = read_note(note_path(commentary_dir, period, business_unit))
    if text is None:
        return None
    return HTML(f"<div style='{_BOX}'><p style='{_LABEL}'>{TITLE}</p>{render_note(text)}</div>")


def write_note(text: str, commentary_dir: str | Path, period: str,
               business_unit: str = "") -> Path:
    """Write the note of ``period`` and ``business_unit`` (replacing it in one step) and
    return its path; the next run of the report shows it. From a notebook in JupyterLab::

        from segreport.report.commentary import write_note
        write_note("Retention held despite the price change.", commentary_dir, period, business_unit)
    """
    path = note_path(commentary_dir, period, business_unit)
    data = text.encode("utf-8")
    if len(data) > MAX_NOTE_BYTES:
        raise ConfigError(f"the analyst's note is larger than {MAX_NOTE_BYTES:,} bytes; a note "
                          "is a few paragraphs")
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_file_atomic(path, data)


__all__ = ["MAX_NOTE_BYTES", "analyst_note", "note_digest", "note_path", "read_note",
           "render_note", "write_note"]
