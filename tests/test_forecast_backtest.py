"""Rolling-origin backtests: hand-checked MASE/sMAPE, method ranking, the Markdown table."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from occ.anomalies.backtest import (
    backtest,
    backtest_table,
    in_sample_scale,
    render_backtest_table,
    smape,
)
from occ.anomalies.forecast import InsufficientHistory
from occ.contracts.forecast import BacktestRow, ForecastConfig

START = date(2026, 1, 1)


def _series(values: list[float] | np.ndarray) -> list[tuple[date, float]]:
    return [(START + timedelta(days=i), float(v)) for i, v in enumerate(values)]


def test_backtest_metrics_on_a_hand_checkable_case() -> None:
    # 2, 4, …, 20 with the historic average, two origins two days apart, season 2:
    #   origin 1: history 2..12, mean 7, actual 14, 16 → errors 7, 9; scale |y_t - y_t-2| = 4
    #   origin 2: history 2..16, mean 9, actual 18, 20 → errors 9, 11; scale 4
    series = _series([2.0 * k for k in range(1, 11)])
    config = ForecastConfig(season_length=2)
    [row] = backtest(series, config, ["average"], origins=2, horizon=2)
    assert row.method == "average"
    assert (row.origins, row.horizon) == (2, 2)
    assert row.mase == pytest.approx((8 / 4 + 10 / 4) / 2)  # 2.25
    assert row.mae == pytest.approx(9.0)
    expected_smape = (200 * 7 / 21 + 200 * 9 / 23 + 200 * 9 / 27 + 200 * 11 / 29) / 4
    assert row.smape == pytest.approx(expected_smape)  # 71.86
    assert row.methods_used == ["average"]


def test_scale_falls_back_to_naive_one_on_short_history() -> None:
    assert in_sample_scale(np.array([1.0, 2.0, 4.0]), 7) == pytest.approx(1.5)
    assert in_sample_scale(np.array([1.0, 5.0, 2.0, 6.0]), 2) == pytest.approx(1.0)
    assert in_sample_scale(np.array([3.0]), 7) is None


def test_smape_is_bounded_and_zero_over_zero_is_zero() -> None:
    actual = np.array([0.0, 0.0, 10.0, 10.0])
    forecast = np.array([0.0, 5.0, 10.0, 30.0])
    assert smape(actual, forecast).tolist() == pytest.approx([0.0, 200.0, 0.0, 100.0])


def test_a_constant_history_leaves_mase_undefined() -> None:
    [row] = backtest(_series([5.0] * 12), ForecastConfig(), ["average"], origins=2, horizon=2)
    assert row.mase is None
    assert row.mae == 0.0 and row.smape == 0.0


def test_seasonal_es_beats_the_average_on_a_weekly_series() -> None:
    rng = np.random.default_rng(2)
    week = np.array([50.0, 60.0, 70.0, 80.0, 120.0, 160.0, 90.0])
    values = week[np.arange(112) % 7] + rng.normal(0, 5, 112)
    rows = backtest(_series(values), ForecastConfig(), ["average", "seasonal_es"], 4, 7)
    by_method = {row.method: row for row in rows}
    assert by_method["seasonal_es"].mase is not None and by_method["average"].mase is not None
    assert by_method["seasonal_es"].mase < 1.0 < by_method["average"].mase
    assert by_method["seasonal_es"].smape < by_method["average"].smape / 3


def test_too_many_origins_for_the_history_are_refused() -> None:
    with pytest.raises(InsufficientHistory, match="need 22 days of history; the series has 10"):
        backtest(_series(range(10)), ForecastConfig(), ["average"], origins=3, horizon=7)


def test_missing_actuals_are_left_out_of_the_scores() -> None:
    series: list[tuple[date, float | None]] = list(_series([2.0 * k for k in range(1, 11)]))
    series[8] = (series[8][0], None)  # the actual 18 is unknown, 20 is known
    [row] = backtest(series, ForecastConfig(season_length=2), ["average"], origins=1, horizon=2)
    assert row.mae == pytest.approx(20 - 9)  # history 2..16 (mean 9), only 20 is scored
    assert row.smape == pytest.approx(200 * 11 / 29)


def test_table_renders_one_markdown_row_per_method() -> None:
    rows = [
        BacktestRow(method="ses", origins=4, horizon=7, mase=0.8123, smape=12.345, mae=1234.5),
        BacktestRow(method="croston", origins=4, horizon=7, mase=None, smape=0.0, mae=0.0),
    ]
    table = render_backtest_table(rows).splitlines()
    assert table[0] == "| method | origins | horizon | MASE | sMAPE % | MAE | fitted as |"
    assert table[2] == "| ses | 4 | 7 | 0.812 | 12.35 | 1,234.500 |  |"
    assert table[3].startswith("| croston | 4 | 7 | n/a | 0.00 |")
    text = backtest_table(_series(range(1, 30)), ForecastConfig(), ["average", "auto"], 2, 3)
    assert text.count("\n") == 3 and "| auto | 2 | 3 |" in text and "| ses |" in text
