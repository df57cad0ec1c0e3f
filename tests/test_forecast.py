"""Forecasts with real statsforecast: methods, intervals, fallbacks, clamping, determinism."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from occ.anomalies.forecast import InsufficientHistory, forecast_series
from occ.contracts.forecast import ForecastConfig

START = date(2026, 1, 1)
WEEK = np.array([50.0, 60.0, 70.0, 80.0, 120.0, 160.0, 90.0])


def _series(values: list[float] | np.ndarray, start: date = START) -> list[tuple[date, float]]:
    return [(start + timedelta(days=i), float(v)) for i, v in enumerate(values)]


def _weekly(days: int, noise: float = 4.0, seed: int = 7) -> list[tuple[date, float]]:
    rng = np.random.default_rng(seed)
    return _series(WEEK[np.arange(days) % 7] + rng.normal(0, noise, days))


def test_seasonal_es_follows_the_weekly_pattern_with_an_interval() -> None:
    series = _weekly(84)
    result = forecast_series(series, ForecastConfig(), metric="daily_revenue", method="seasonal_es")
    assert result.method == "seasonal_es"
    assert result.metric == "daily_revenue"
    assert [p.date for p in result.points] == [
        date(2026, 3, 26) + timedelta(days=i) for i in range(7)
    ]
    # day 84 continues the pattern at position 0: the forecast should track WEEK within noise
    values = np.array([p.value for p in result.points])
    assert np.abs(values - WEEK).max() < 12
    assert max(result.points, key=lambda p: p.value).date == date(2026, 3, 31)  # position 5
    assert result.fit_start == date(2026, 1, 29)  # the last 56 days
    assert result.fit_end == date(2026, 3, 25)
    assert any("season length: 7 days" in line for line in result.assumptions)
    assert any("interval: 95 % analytic ETS" in line for line in result.assumptions)


@pytest.mark.parametrize("method", ["average", "ses", "seasonal_es", "croston", "auto"])
def test_every_method_gives_an_interval_around_its_point(method: str) -> None:
    result = forecast_series(_weekly(60), ForecastConfig(level=80), metric="m", method=method)
    assert len(result.points) == 7
    assert result.level == 80
    for point in result.points:
        assert point.lower is not None and point.upper is not None
        assert point.lower <= point.value <= point.upper
        assert point.upper > point.lower
    assert result.assumptions[0].startswith(f"method: {result.method}")
    assert result.interval_method is not None and result.interval_method in result.assumptions[3]


def test_a_higher_level_gives_a_wider_interval() -> None:
    series = _weekly(60)
    narrow = forecast_series(series, ForecastConfig(level=80), metric="m", method="ses")
    wide = forecast_series(series, ForecastConfig(level=99), metric="m", method="ses")
    narrow_width = narrow.points[0].upper - narrow.points[0].lower  # type: ignore[operator]
    wide_width = wide.points[0].upper - wide.points[0].lower  # type: ignore[operator]
    assert wide_width > narrow_width * 1.5


def test_non_negative_series_are_clamped_at_zero() -> None:
    rng = np.random.default_rng(3)
    noisy_small = rng.choice([0.0, 1.0, 2.0, 9.0], size=40, p=[0.3, 0.3, 0.3, 0.1])
    result = forecast_series(_series(noisy_small), ForecastConfig(), metric="m", method="average")
    assert min(p.lower for p in result.points if p.lower is not None) == 0.0
    assert any("clamped at 0" in line for line in result.assumptions)
    # a series that goes negative keeps its negative bounds
    signed = forecast_series(
        _series(noisy_small - 5), ForecastConfig(), metric="m", method="average"
    )
    assert signed.points[0].lower is not None and signed.points[0].lower < 0
    assert not any("clamped" in line for line in signed.assumptions)


def test_short_history_falls_back_and_says_so() -> None:
    ten_days = _weekly(10)
    auto = forecast_series(ten_days, ForecastConfig(), metric="m")
    assert auto.method == "ses"
    assert auto.requested_method == "auto"
    assert "history of 10 days is shorter than 28: fell back to ses" in auto.assumptions

    asked = forecast_series(ten_days, ForecastConfig(), metric="m", method="seasonal_es")
    assert asked.method == "ses"
    assert (
        "history of 10 days is shorter than the 14 that seasonal_es needs: fell back to ses"
        in asked.assumptions
    )

    three_days = forecast_series(_weekly(3), ForecastConfig(), metric="m")
    assert three_days.method == "average"
    assert "history of 3 days is shorter than 7: fell back to average" in three_days.assumptions

    long_enough = forecast_series(_weekly(28), ForecastConfig(), metric="m")
    assert long_enough.method == "seasonal_es"


def test_one_observation_forecasts_its_value_without_an_interval() -> None:
    result = forecast_series([(START, Decimal("12.50"))], ForecastConfig(), metric="m")
    assert result.method == "average"
    assert result.points[0].value == 12.5
    assert result.points[0].lower is None and result.points[0].upper is None
    assert result.points[0].date == START + timedelta(days=1)


def test_sparse_unit_sales_use_croston() -> None:
    rng = np.random.default_rng(11)
    units = (rng.random(56) < 0.2) * rng.integers(1, 4, 56)
    result = forecast_series(_series(units), ForecastConfig(), metric="daily_units", key="v1")
    assert result.method == "croston"
    assert result.key == "v1"
    assert any("(sparse): croston" in line for line in result.assumptions)
    assert any("split conformal interval" in line for line in result.assumptions)
    first = result.points[0]
    # Croston forecasts a demand rate: between 0 and the largest daily demand
    assert 0 < first.value < units.max()
    assert first.lower == 0.0 and first.upper is not None and first.upper >= first.value


def test_croston_on_short_history_uses_residual_quantiles() -> None:
    units = [0, 0, 2, 0, 0, 0, 1, 0, 0, 3, 0, 0]
    result = forecast_series(_series(units), ForecastConfig(), metric="m", method="croston")
    assert result.method == "croston"
    assert result.interval_method is not None
    assert result.interval_method.startswith("residual-quantile interval")
    assert all(p.lower is not None and p.lower >= 0 for p in result.points)


def test_same_input_gives_the_same_forecast() -> None:
    series = _weekly(70, noise=15)
    for method in ("auto", "ses", "croston"):
        first = forecast_series(series, ForecastConfig(), metric="m", method=method)
        second = forecast_series(list(series), ForecastConfig(), metric="m", method=method)
        assert first.model_dump() == second.model_dump()


def test_empty_and_all_missing_series_are_refused() -> None:
    with pytest.raises(InsufficientHistory, match="empty"):
        forecast_series([], ForecastConfig(), metric="m")
    missing = [(START + timedelta(days=i), None) for i in range(5)]
    with pytest.raises(ValueError, match="all 5 values of the series are missing"):
        forecast_series(missing, ForecastConfig(), metric="m")


def test_missing_days_are_interpolated_and_reported() -> None:
    series = _weekly(40)
    with_gaps = [pair for index, pair in enumerate(series) if index not in (20, 21)]
    with_gaps[5] = (with_gaps[5][0], float("nan"))
    result = forecast_series(with_gaps, ForecastConfig(), metric="m", method="ses")
    assert "3 missing days in the fit window were linearly interpolated" in result.assumptions
    assert result.points[0].date == date(2026, 2, 10)


def test_trailing_missing_days_move_the_first_forecast_day() -> None:
    series: list[tuple[date, float | None]] = list(_weekly(20))
    series += [(START + timedelta(days=20), None), (START + timedelta(days=21), None)]
    result = forecast_series(series, ForecastConfig(), metric="m", method="average")
    assert result.fit_end == START + timedelta(days=19)
    assert result.points[0].date == START + timedelta(days=20)


def test_unknown_method_and_duplicate_days_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown forecast method 'arima'"):
        forecast_series(_weekly(10), ForecastConfig(), metric="m", method="arima")
    with pytest.raises(ValueError, match="two values for 2026-01-01"):
        forecast_series([(START, 1.0), (START, 2.0)], ForecastConfig(), metric="m")


def test_seasons_longer_than_24_are_fitted_by_statsmodels() -> None:
    season = 30
    rng = np.random.default_rng(5)
    shape = 100 + 40 * np.sin(2 * np.pi * np.arange(season) / season)
    values = shape[np.arange(4 * season) % season] + rng.normal(0, 2, 4 * season)
    config = ForecastConfig(season_length=season, fit_days=4 * season, horizon=10)
    result = forecast_series(_series(values), config, metric="m", method="seasonal_es")
    assert result.method == "seasonal_es"
    assert any("statsmodels ETSModel" in line for line in result.assumptions)
    forecast = np.array([p.value for p in result.points])
    assert np.abs(forecast - shape[:10]).max() < 8
    assert all(p.lower is not None and p.lower < p.value for p in result.points)
