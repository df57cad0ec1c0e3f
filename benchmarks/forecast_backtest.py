"""Backtest occ's forecast methods on a real public series shipped with statsmodels.

The series is the Mauna Loa weekly atmospheric CO2 record (``statsmodels.datasets.co2``,
1958-2001). occ forecasts daily series; here each weekly observation is placed on one
consecutive "day" so that the same code runs unchanged, with a yearly season of 52 steps.
Missing weeks stay missing: ``forecast_series`` interpolates them inside its fit window and
the backtest leaves them out of the scores.

Run: ``python benchmarks/forecast_backtest.py``. It prints a Markdown table.
"""

from __future__ import annotations

import math
import time
from datetime import date, timedelta

from statsmodels.datasets import co2

from occ.anomalies.backtest import backtest_table
from occ.anomalies.forecast import FORECAST_METHODS, Series
from occ.contracts.forecast import ForecastConfig

SEASON = 52  # weeks in a year
CONFIG = ForecastConfig(
    season_length=SEASON,
    fit_days=4 * SEASON,
    min_seasonal_history=2 * SEASON,
    level=95,
)
ORIGINS = 16
HORIZON = 13  # a quarter ahead


def co2_series() -> Series:
    """The weekly CO2 record as a step-indexed series, ``None`` for a missing week."""
    frame = co2.load_pandas().data
    origin = date(1958, 3, 29)
    return [
        (origin + timedelta(days=step), None if math.isnan(value) else float(value))
        for step, value in enumerate(frame["co2"].to_list())
    ]


def main() -> None:
    series = co2_series()
    missing = sum(1 for _, value in series if value is None)
    methods = [method for method in FORECAST_METHODS if method != "auto"] + ["auto"]
    started = time.perf_counter()
    table = backtest_table(series, CONFIG, methods, ORIGINS, HORIZON)
    elapsed = time.perf_counter() - started
    print(
        f"statsmodels co2 (Mauna Loa, weekly 1958-2001): {len(series)} weeks, {missing} "
        f"missing; season {SEASON}, fit window {CONFIG.fit_days} weeks, {ORIGINS} origins "
        f"{HORIZON} weeks apart, horizon {HORIZON} weeks, MASE scaled by the in-sample "
        f"seasonal-naive MAE ({elapsed:.1f} s)\n"
    )
    print(table)


if __name__ == "__main__":
    main()
