"""The HTML pieces the sections share: table cell styles, a grey box, the list of KPIs
not shown for lack of input data.

Styles are inline so that the same markup survives in an e-mail body.
"""
from __future__ import annotations

from html import escape

from segreport.kpis.spec import short_label

#: Inline styles of a table cell, a heading cell and a table.
CELL = "padding:4px 6px;border-bottom:1px solid #e5e5e5;text-align:right;white-space:nowrap"
HEAD = ("padding:4px 6px;border-bottom:2px solid #444;text-align:right;font-weight:600;"
        "vertical-align:bottom")
TABLE = "border-collapse:collapse;font-size:13px;font-family:Helvetica,Arial,sans-serif"


def box(text: str) -> str:
    """``text`` (HTML) in a grey box with a grey bar on its left."""
    return (f"<p style='font-size:14px;background:#f6f6f6;border-left:4px solid #999;"
            f"padding:8px 12px'>{text}</p>")


def missing_html(missing: dict[str, str]) -> str:
    """The KPIs not shown for lack of input data (KPI → what would enable it), as a list
    in a grey box."""
    items = "".join(f"<li><b>{escape(short_label(k))}</b>: {escape(v)}</li>"
                    for k, v in missing.items())
    return (f"<div style='font-size:13px;background:#f6f6f6;border-left:4px solid #999;padding:6px 12px'>"
            f"Not shown for lack of input data — add these to the data folder to enable them:"
            f"<ul style='margin:4px 0'>{items}</ul></div>")
