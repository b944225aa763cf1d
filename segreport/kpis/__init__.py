"""KPI families: pure functions, per-customer facts in, tidy KPI frame out."""
