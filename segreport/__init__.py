"""segreport: a quarterly customer-segment KPI report."""

__version__ = "0.1.0"
