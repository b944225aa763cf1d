"""The names of the files a report folder holds, and of the batch index beside them.

``{output_dir}/{period}/{unit}/`` holds the executed notebook, its HTML and PDF, the KPI
tables, and the markers the batch and the e-mail read back; ``{output_dir}/{period}/``
holds the index of every unit. Every module that writes or reads one of these files takes
its name from here.
"""
from __future__ import annotations

#: The master notebook, and its executed copy in a report folder.
NOTEBOOK_NAME = "segment_report.ipynb"
HTML_NAME = "segment_report.html"
PDF_NAME = "segment_report.pdf"
KPIS_NAME = "kpis.csv"
#: Beside ``kpis.csv``: the same columns plus ``quarter``, for every quarter the report shows.
KPI_HISTORY_NAME = "kpi_history.csv"
#: What decided a report (data, parameters, notebook): an unchanged one is not made again.
FINGERPRINT_NAME = ".inputs.sha256"
#: The unit's real name and the period, for folders whose name had to be made safe.
META_NAME = ".report.json"
EML_NAME = "segment_report.eml"
#: Beside the ``.eml``: written when the report's message was sent, so it is sent once.
SENT_NAME = "segment_report.sent.json"
#: In the period folder: every unit with its headline KPIs and links to its reports.
INDEX_NAME = "index.html"

__all__ = ["EML_NAME", "FINGERPRINT_NAME", "HTML_NAME", "INDEX_NAME", "KPIS_NAME",
           "KPI_HISTORY_NAME", "META_NAME", "NOTEBOOK_NAME", "PDF_NAME", "SENT_NAME"]
