"""``index.html`` of a batch: every unit with its headline KPIs and links to its reports."""
from __future__ import annotations

import math
from html import escape
from pathlib import Path

import pandas as pd

from segreport import columns as C
from segreport.charts import band_color
from segreport.files import write_file_atomic
from segreport.formatting import format_value
from segreport.kpis import ids
from segreport.kpis.spec import short_label
from segreport.report.names import (
    HTML_NAME,
    INDEX_NAME,
    KPIS_NAME,
    NOTEBOOK_NAME,
    PDF_NAME,
)

HEADLINES = (ids.CUSTOMERS_END, ids.SEGMENT_GROWTH_RATE, ids.RETENTION_RATE, ids.REVENUE)
_CELL = "padding:6px 10px;border-bottom:1px solid #e5e5e5;text-align:right"


def headline_kpis(folder: Path) -> dict[str, tuple[float, str, str]]:
    """KPI → (value, unit, band) of the whole unit (segment ``All``) from ``kpis.csv``."""
    path = folder / KPIS_NAME
    if not path.is_file():
        return {}
    kpis = pd.read_csv(path, keep_default_na=False, na_values=[""])
    rows = kpis[kpis[C.SEGMENT] == C.ALL_SEGMENTS].set_index(C.KPI)
    return {k: (float(rows.at[k, C.VALUE]), str(rows.at[k, C.UNIT]),
                "" if pd.isna(rows.at[k, C.BAND]) else str(rows.at[k, C.BAND]))
            for k in HEADLINES if k in rows.index}


def _link(folder: Path, name: str, label: str) -> str:
    if not (folder / name).is_file():
        return ""
    href = escape(f"{folder.name}/{name}", quote=True)
    return f"<a href='{href}'>{label}</a>"


def index_html(period_dir: Path, results: list) -> str:
    rows = []
    for r in sorted(results, key=lambda r: r.unit):
        folder = period_dir / r.folder.name
        heads = headline_kpis(folder) if r.status != "failed" else {}
        cells = []
        for k in HEADLINES:
            value, unit, band = heads.get(k, (math.nan, "", ""))
            text = format_value(value, unit, signed=k == ids.SEGMENT_GROWTH_RATE)
            style = _CELL + (f";border-left:4px solid {band_color(k, band)}" if band else "")
            cells.append(f"<td style='{style}'>{text}{' ' + band if band else ''}</td>")
        links = " · ".join(x for x in (_link(folder, HTML_NAME, "HTML"),
                                       _link(folder, PDF_NAME, "PDF"),
                                       _link(folder, KPIS_NAME, KPIS_NAME),
                                       _link(folder, NOTEBOOK_NAME, "notebook")) if x)
        status = (r.status if r.status != "failed"
                  else f"<b style='color:#d73027'>failed</b>: {escape(r.error[:300])}")
        rows.append(f"<tr><th style='{_CELL};text-align:left'>{escape(r.unit)}</th>{''.join(cells)}"
                    f"<td style='{_CELL};text-align:left'>{links}</td>"
                    f"<td style='{_CELL};text-align:left;font-size:12px'>{status}</td></tr>")
    head = "".join(f"<th style='{_CELL};text-align:right'>{escape(short_label(k))}</th>"
                   for k in HEADLINES)
    period = escape(period_dir.name)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Segment reports "
            f"{period}</title></head><body style='font-family:Helvetica,Arial,sans-serif;"
            f"max-width:1000px;margin:24px auto;color:#222'><h1>Customer segment reports — {period}</h1>"
            f"<p>One report per business unit; headline numbers are for the whole unit.</p>"
            f"<table style='border-collapse:collapse;font-size:14px'><thead><tr>"
            f"<th style='{_CELL};text-align:left'>Unit</th>{head}<th style='{_CELL};text-align:left'>"
            f"Reports</th><th style='{_CELL};text-align:left'>Status</th></tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table></body></html>")


def write_index(period_dir: Path, results: list) -> Path:
    """Write ``index.html`` into ``period_dir`` atomically, listing every unit there."""
    period_dir.mkdir(parents=True, exist_ok=True)
    return write_file_atomic(period_dir / INDEX_NAME,
                             index_html(period_dir, results).encode("utf-8"))
