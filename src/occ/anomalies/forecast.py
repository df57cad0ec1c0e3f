"""Forecasts of daily KPI series with prediction intervals (KPIS.md, Forecasts).

``forecast_series`` fits one method to the last ``config.fit_days`` days of a daily series and
returns a ``ForecastResult`` whose ``assumptions`` say which method ran on which window, with
which season, which interval, and which fallback was taken on the way. The same input always
gives the same output (no random state anywhere).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from occ.anomalies._models import (
    FloatArray,
    ModelFitError,
    ModelOutput,
    fit_average,
    fit_croston,
    fit_ets,
)
from occ.contracts.forecast import ForecastConfig, ForecastPoint, ForecastResult

__all__ = [
    "FORECAST_METHODS",
    "MIN_SES_HISTORY",
    "SPARSE_ZERO_SHARE",
    "DailyValues",
    "InsufficientHistory",
    "Series",
    "forecast_series",
    "to_daily_values",
]

FORECAST_METHODS = ("auto", "average", "ses", "seasonal_es", "croston")
MIN_SES_HISTORY = 7
SPARSE_ZERO_SHARE = 0.5
_FALLBACK = {"seasonal_es": "ses", "ses": "average", "croston": "average"}

Series = Sequence[tuple[date, float | Decimal | None]]


class InsufficientHistory(ValueError):
    """The series holds no observed value to forecast from."""


@dataclass(frozen=True, slots=True)
class DailyValues:
    """A series on a contiguous daily index, NaN where a day is missing."""

    start: date
    values: FloatArray

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.values.size - 1)

    def day(self, index: int) -> date:
        return self.start + timedelta(days=index)


def to_daily_values(series: Series) -> DailyValues:
    """Sort ``series`` onto a daily index; ``None``/NaN and absent days are missing.

    Leading and trailing missing days are dropped. Raises ``InsufficientHistory`` when no
    value is observed and ``ValueError`` for a duplicated day or an infinite value.
    """
    if not series:
        raise InsufficientHistory("the series is empty: there is no history to forecast from")
    by_day: dict[date, float] = {}
    for day, raw in series:
        if day in by_day:
            raise ValueError(f"the series has two values for {day}")
        value = math.nan if raw is None else float(raw)
        if math.isinf(value):
            raise ValueError(f"the series value for {day} is infinite")
        by_day[day] = value
    first = min(by_day)
    values = np.full((max(by_day) - first).days + 1, np.nan)
    for day, value in by_day.items():
        values[(day - first).days] = value
    observed = np.flatnonzero(~np.isnan(values))
    if observed.size == 0:
        raise InsufficientHistory(
            f"all {len(series)} values of the series are missing: there is no history to "
            "forecast from"
        )
    kept = values[observed[0] : observed[-1] + 1]
    return DailyValues(first + timedelta(days=int(observed[0])), kept)


def _choose(requested: str, values: FloatArray, config: ForecastConfig) -> tuple[str, list[str]]:
    if requested != "auto":
        return requested, []
    days = values.size
    zero_share = float(np.mean(values == 0))
    if values.min() >= 0 and zero_share > SPARSE_ZERO_SHARE and values.max() > 0:
        note = f"auto: {zero_share * 100:.0f} % of the {days} days are zero (sparse): croston"
        return "croston", [note]
    if days >= config.min_seasonal_history:
        return "seasonal_es", [
            f"auto: history of {days} days reaches {config.min_seasonal_history}: seasonal_es"
        ]
    if days >= MIN_SES_HISTORY:
        return "ses", [
            f"history of {days} days is shorter than {config.min_seasonal_history}: "
            "fell back to ses"
        ]
    return "average", [
        f"history of {days} days is shorter than {MIN_SES_HISTORY}: fell back to average"
    ]


def _min_history(method: str, config: ForecastConfig) -> int:
    return {
        "seasonal_es": 2 * config.season_length,
        "ses": MIN_SES_HISTORY,
        "croston": 2,
    }.get(method, 1)


def _fit(
    method: str, values: FloatArray, config: ForecastConfig
) -> tuple[str, ModelOutput, list[str]]:
    """Fit ``method``, walking down the fallback chain on short history or a failed fit."""
    notes: list[str] = []
    while True:
        needed = _min_history(method, config)
        if values.size < needed:
            fallback = _FALLBACK[method]
            notes.append(
                f"history of {values.size} days is shorter than the {needed} that {method} "
                f"needs: fell back to {fallback}"
            )
            method = fallback
            continue
        try:
            if method == "average":
                return method, fit_average(values, config.horizon, config.level), notes
            if method == "croston":
                return method, fit_croston(values, config.horizon, config.level), notes
            season = config.season_length if method == "seasonal_es" else None
            return method, fit_ets(values, config.horizon, config.level, season), notes
        except ModelFitError as exc:
            fallback = _FALLBACK[method]
            notes.append(f"{method} could not be fitted ({exc}): fell back to {fallback}")
            method = fallback


def forecast_series(
    series: Series,
    config: ForecastConfig,
    *,
    metric: str,
    key: str | None = None,
    method: str | None = None,
) -> ForecastResult:
    """Forecast ``config.horizon`` days after the last observation of a daily series.

    Args:
        series: ``(day, value)`` pairs; ``None``/NaN or absent days are missing and are
            linearly interpolated inside the fit window.
        config: horizon, interval level, fit window, season length, ``auto`` thresholds.
        metric: what the series measures (e.g. ``daily_revenue``), copied to the result.
        key: which page, variant, … the series belongs to, copied to the result.
        method: overrides ``config.method``; one of ``FORECAST_METHODS``.

    Raises:
        InsufficientHistory: the series is empty or every value is missing.
        ValueError: unknown method, duplicated day or infinite value.
    """
    requested = method or config.method
    if requested not in FORECAST_METHODS:
        raise ValueError(f"unknown forecast method {requested!r}: use one of {FORECAST_METHODS}")
    daily = to_daily_values(series)
    window = daily.values[-config.fit_days :]
    window = window[int(np.flatnonzero(~np.isnan(window))[0]) :]
    fit_end = daily.end
    fit_start = fit_end - timedelta(days=window.size - 1)
    missing = int(np.isnan(window).sum())
    if missing:
        days = np.arange(window.size)
        known = ~np.isnan(window)
        window = np.interp(days, days[known], window[known])
    window = np.ascontiguousarray(window, dtype=np.float64)

    chosen, notes = _choose(requested, window, config)
    used, output, fallback_notes = _fit(chosen, window, config)
    span = f"{window.size} days"
    if daily.values.size > window.size:
        span += f", the last {window.size} of {daily.values.size}"
    season = (
        f"season length: {config.season_length} days"
        if used == "seasonal_es"
        else f"season length: none ({used} is not seasonal)"
    )
    assumptions = [
        f"method: {used}, {output.description}",
        f"fit window: {fit_start} to {fit_end} ({span})",
        season,
        f"interval: {config.level} % {output.interval}",
        *notes,
        *fallback_notes,
    ]
    if missing:
        days_word = "day" if missing == 1 else "days"
        assumptions.append(
            f"{missing} missing {days_word} in the fit window were linearly interpolated"
        )

    mean, lower, upper = output.mean, output.lower, output.upper
    if window.min() >= 0:
        mean = np.maximum(mean, 0.0)
        lower = None if lower is None else np.maximum(lower, 0.0)
        upper = None if upper is None else np.maximum(upper, 0.0)
        assumptions.append("the series is non-negative: forecasts and bounds are clamped at 0")

    points = [
        ForecastPoint(
            date=fit_end + timedelta(days=step + 1),
            value=float(mean[step]),
            lower=None if lower is None else float(lower[step]),
            upper=None if upper is None else float(upper[step]),
        )
        for step in range(config.horizon)
    ]
    return ForecastResult(
        metric=metric,
        key=key,
        method=used,
        level=config.level,
        fit_start=fit_start,
        fit_end=fit_end,
        points=points,
        assumptions=assumptions,
        requested_method=requested,
        interval_method=output.interval,
        history_days=window.size,
    )
