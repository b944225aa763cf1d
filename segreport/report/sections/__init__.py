"""What each notebook cell shows, as ``sections.<name>``: the names the notebook calls,
imported from the modules that make them.

Each section returns an :class:`IPython.display.HTML` object (or a chart) built from the
tidy KPI frame. Styles are inline so that the same markup survives in an e-mail body. Every
text that comes from the data (segment and unit names) is escaped.

``summary`` (heading, scorecard, narrative), ``kpi_blocks`` (the KPI tables),
``kpi_sections`` (KPI tables and charts), ``trends``, ``behaviour`` (RFM, behaviour groups,
migration), ``appendix`` (data quality, definitions), ``kpi_csv`` (``kpis.csv``), ``html``
(the pieces they share).
"""
from segreport.report.sections.appendix import data_quality, definitions
from segreport.report.sections.behaviour import cluster_summary, migration_section, rfm_intro
from segreport.report.sections.kpi_blocks import (
    BLOCK_WIDTH,
    DOWN,
    KPI_BLOCK_CLASS,
    SPARK_CLASS,
    SPARK_HEIGHT,
    SPARK_WIDTH,
    UP,
    kpi_table_html,
)
from segreport.report.sections.kpi_csv import kpi_history_for_csv, kpis_for_csv, save_kpis
from segreport.report.sections.kpi_sections import (
    CUSTOMER_VALUE_KPIS,
    SEGMENTATION_EFFICIENCY_KPIS,
    kpi_chart,
    kpi_panels,
    kpi_section,
    predictive_clv_section,
)
from segreport.report.sections.summary import (
    SCORECARD_KPIS,
    narrative_html,
    scorecard,
    title,
)
from segreport.report.sections.trends import NO_HISTORY, TREND_KPIS, trend_chart, trend_notes

__all__ = [
    "BLOCK_WIDTH", "CUSTOMER_VALUE_KPIS", "DOWN", "KPI_BLOCK_CLASS", "NO_HISTORY", "SCORECARD_KPIS",
    "SEGMENTATION_EFFICIENCY_KPIS", "SPARK_CLASS", "SPARK_HEIGHT", "SPARK_WIDTH", "TREND_KPIS",
    "UP", "cluster_summary", "data_quality", "definitions",
    "kpi_chart", "kpi_history_for_csv", "kpi_panels", "kpi_section", "kpi_table_html",
    "kpis_for_csv", "migration_section", "narrative_html", "predictive_clv_section",
    "rfm_intro", "save_kpis", "scorecard", "title", "trend_chart", "trend_notes",
]
