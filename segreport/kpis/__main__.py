"""``python -m segreport.kpis``: print the README's KPI table, made from the KPI specs."""
from segreport.kpis.spec import kpi_table_markdown

print(kpi_table_markdown(), end="")
