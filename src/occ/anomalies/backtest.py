"""Rolling-origin backtests of the forecast methods, and their Markdown table.

For each of ``origins`` forecast origins (``step`` days apart, the last one ``horizon`` days
before the series ends), each method forecasts the next ``horizon`` days from the history up
to the origin, exactly as ``forecast_series`` would in production, and is scored on the days
that followed:

- MASE: the origin's MAE divided by the in-sample MAE of the seasonal-naive forecast (season
  ``config.season_length``) over the fit window the method saw; naive-1 when that window is
  not longer than one season. Origins whose scale is 0 (a constant window) are left out of
  the mean; ``mase`` is ``None`` when every origin was left out.
- sMAPE: ``200 · |actual − forecast| / (|actual| + |forecast|)`` percent, 0–200, with 0/0
  counted as 0, averaged over every point.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from occ.anomalies._models import FloatArray
from occ.anomalies.forecast import (
    InsufficientHistory,
    Series,
    forecast_series,
    to_daily_values,
)
from occ.contracts.forecast import BacktestRow, ForecastConfig

__all__ = ["backtest", "backtest_table", "in_sample_scale", "render_backtest_table", "smape"]


def in_sample_scale(values: FloatArray, season_length: int) -> float | None:
    """MAE of the seasonal-naive (naive-1 on short history) in-sample forecast of ``values``."""
    values = values[~np.isnan(values)]
    lag = season_length if values.size > season_length else 1
    if values.size <= lag:
        return None
    return float(np.mean(np.abs(values[lag:] - values[:-lag])))


def smape(actual: FloatArray, forecast: FloatArray) -> FloatArray:
    """Per-point sMAPE in percent (0–200); a point where both are 0 scores 0."""
    denominator = np.abs(actual) + np.abs(forecast)
    numerator = 200.0 * np.abs(actual - forecast)
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, 0.0, numerator / safe)


def backtest(
    series: Series,
    config: ForecastConfig,
    methods: Sequence[str],
    origins: int,
    horizon: int,
    *,
    step: int | None = None,
) -> list[BacktestRow]:
    """Score each method over ``origins`` rolling origins (see the module docstring).

    Args:
        series: the daily series; missing actuals are left out of the scores.
        config: the forecast configuration; its horizon is replaced by ``horizon``.
        methods: forecast methods to compare (``auto`` included if wanted).
        origins: number of forecast origins.
        horizon: days forecast from each origin.
        step: days between origins; ``horizon`` by default (non-overlapping test windows).

    Raises:
        InsufficientHistory: the series is too short for that many origins.
    """
    if origins < 1:
        raise ValueError("a backtest needs at least one origin")
    step = horizon if step is None else step
    if step < 1:
        raise ValueError("origins must be at least one day apart")
    daily = to_daily_values(series)
    fit_config = ForecastConfig.model_validate({**config.model_dump(), "horizon": horizon})
    ends = [daily.values.size - horizon - offset * step for offset in range(origins)][::-1]
    if ends[0] < 1:
        needed = horizon + (origins - 1) * step + 1
        raise InsufficientHistory(
            f"{origins} origins {step} days apart with a {horizon}-day horizon need "
            f"{needed} days of history; the series has {daily.values.size}"
        )
    histories = [
        [(daily.day(index), _optional(daily.values[index])) for index in range(end)] for end in ends
    ]
    rows: list[BacktestRow] = []
    for method in methods:
        ratios: list[float] = []
        errors: list[FloatArray] = []
        percents: list[FloatArray] = []
        used: set[str] = set()
        for end, history in zip(ends, histories, strict=True):
            result = forecast_series(history, fit_config, metric="backtest", method=method)
            used.add(result.method)
            predicted = np.array([point.value for point in result.points], dtype=np.float64)
            actual = daily.values[end : end + horizon]
            known = ~np.isnan(actual)
            if not known.any():
                continue
            absolute = np.abs(actual[known] - predicted[known])
            errors.append(absolute)
            percents.append(smape(actual[known], predicted[known]))
            seen = daily.values[max(0, end - config.fit_days) : end]
            scale = in_sample_scale(seen, config.season_length)
            if scale:
                ratios.append(float(absolute.mean()) / scale)
        if not errors:
            raise InsufficientHistory("no actual value was observed after any origin")
        rows.append(
            BacktestRow(
                method=method,
                origins=origins,
                horizon=horizon,
                mase=float(np.mean(ratios)) if ratios else None,
                smape=float(np.concatenate(percents).mean()),
                mae=float(np.concatenate(errors).mean()),
                methods_used=sorted(used),
            )
        )
    return rows


def _optional(value: np.float64) -> float | None:
    return None if np.isnan(value) else float(value)


def render_backtest_table(rows: Sequence[BacktestRow]) -> str:
    """A Markdown table of backtest rows, one method per line."""
    lines = [
        "| method | origins | horizon | MASE | sMAPE % | MAE | fitted as |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        mase = "n/a" if row.mase is None else f"{row.mase:.3f}"
        lines.append(
            f"| {row.method} | {row.origins} | {row.horizon} | {mase} | {row.smape:.2f} "
            f"| {row.mae:,.3f} | {', '.join(row.methods_used)} |"
        )
    return "\n".join(lines)


def backtest_table(
    series: Series,
    config: ForecastConfig,
    methods: Sequence[str],
    origins: int,
    horizon: int,
) -> str:
    """Run ``backtest`` and render its rows as a Markdown table."""
    return render_backtest_table(backtest(series, config, methods, origins, horizon))
