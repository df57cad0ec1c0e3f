"""Anomalies: fixed-threshold checks on the KPI results, forecasts with prediction bands,
and backtests of the forecast methods. Pure computation: no I/O, no clock.
"""

from occ.anomalies.backtest import backtest, backtest_table, render_backtest_table
from occ.anomalies.detect import FORECAST_METRICS, KPI_NAMES, band_anomaly, detect_anomalies
from occ.anomalies.forecast import FORECAST_METHODS, InsufficientHistory, forecast_series

__all__ = [
    "FORECAST_METHODS",
    "FORECAST_METRICS",
    "KPI_NAMES",
    "InsufficientHistory",
    "backtest",
    "backtest_table",
    "band_anomaly",
    "detect_anomalies",
    "forecast_series",
    "render_backtest_table",
]
