"""The refresh job: source → contracts → store → KPIs, anomalies and forecasts → facts."""

from occ.refresh.run import QUARANTINE_EXIT_CODE, RefreshReport, run_refresh

__all__ = ["QUARANTINE_EXIT_CODE", "RefreshReport", "run_refresh"]
