"""``occ alerts backtest`` on the weekly-packet fixture store, whose daily values are known.

Week of 16–22 November 2026 (UTC shop): revenue 100.00 a day except Thursday 19th (30.00),
so the sales delta is −70 % on the 19th and +11.1 % on the 20th–22nd (baseline 90.00); the
fulfillment issue rate is 0 % until the 22nd (14.29 %).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from insights_fixture import build_store
from occ.anomalies.replay import Observation, replay, scaled
from occ.cli import app
from occ.contracts.kpis import ThresholdProfile
from occ.store.engine import open_store

WEEK = ["--from", "2026-11-16", "--to", "2026-11-22"]


@pytest.fixture
def store_url(db_url: str, tmp_path: Path) -> str:
    engine: Engine = open_store(db_url)
    try:
        build_store(engine, tmp_path / "recorded")
    finally:
        engine.dispose()
    return db_url


def _weeks(runner: CliRunner, url: str, *arguments: str) -> list[dict[str, object]]:
    result = runner.invoke(
        app, ["alerts", "backtest", *arguments, *WEEK, "--json", "--no-band", "--db", url]
    )
    assert result.exit_code == 0, result.output
    weeks: list[dict[str, object]] = json.loads(result.output)["weeks"]
    return weeks


def test_a_lower_warning_threshold_would_have_raised_more(
    runner: CliRunner, store_url: str
) -> None:
    [current] = _weeks(runner, store_url, "--kpi", "sales_delta")
    assert current["days"] == 7
    assert (current["warnings"], current["criticals"]) == (0, 1)  # the −70 % Thursday
    [lower] = _weeks(runner, store_url, "--kpi", "sales_delta", "--warning", "10")
    assert (lower["warnings"], lower["criticals"]) == (3, 1)  # +11.1 % on the 20th–22nd
    assert lower["current"] == {"warnings": 0, "criticals": 1}
    [fulfillment] = _weeks(runner, store_url, "--kpi", "fulfillment_issue_rate")
    assert (fulfillment["warnings"], fulfillment["criticals"]) == (1, 0)


def test_the_forecast_band_is_replayed_too(runner: CliRunner, store_url: str) -> None:
    result = runner.invoke(
        app, ["alerts", "backtest", "--kpi", "sales_delta", *WEEK, "--json", "--db", store_url]
    )
    assert result.exit_code == 0, result.output
    [week] = json.loads(result.output)["weeks"]
    assert week["outsideBand"] >= 1  # Thursday's 30.00 after weeks of a steady 100.00


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--kpi", "inventory_cover", *WEEK], "cannot be replayed"),
        (["--kpi", "sales", *WEEK], "unknown --kpi"),
        (
            ["--kpi", "sales_delta", "--from", "2026-11-30", "--to", "2026-11-01"],
            "is before --from",
        ),
        (["--kpi", "sales_delta", "--from", "yesterday", "--to", "2026-11-01"], "not a date"),
        (  # days before the store's history would replay as days without an alert
            ["--kpi", "sales_delta", "--from", "2020-01-06", "--to", "2020-01-12"],
            "no sales_delta history from 2020-01-06 to 2020-01-12: the store holds",
        ),
        (
            ["--kpi", "sla_breach_rate", "--from", "2027-01-04", "--to", "2027-01-10"],
            "no sla_breach_rate history from 2027-01-04 to 2027-01-10: the store holds",
        ),
        (
            ["--kpi", "sales_delta", "--from", "0001-01-01", "--to", "0001-01-10"],
            "--from/--to must lie between 1970-01-01 and 9998-12-31",
        ),
        (["--kpi", "sales_delta", *WEEK, "--warning", "5", "--profile", "quiet"], "not both"),
        (["--kpi", "sales_delta", *WEEK, "--profile", "loud"], "unknown --profile"),
        (["--kpi", "sales_delta", *WEEK, "--warning", "40"], "critical must be at least warning"),
        (
            ["--kpi", "traffic_anomalies", *WEEK, "--warning", "-20"],
            "critical must be at most warning",
        ),
    ],
)
def test_bad_input_is_one_line(
    runner: CliRunner, store_url: str, arguments: list[str], message: str
) -> None:
    result = runner.invoke(app, ["alerts", "backtest", *arguments, "--db", store_url])
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_replay_counts_per_monday_week_and_profiles_scale() -> None:
    from datetime import date

    profile = ThresholdProfile(warning=20, critical=40, direction="above")
    observations = [
        Observation(date(2026, 11, 22), 25.0),  # a Sunday: the week of the 16th
        Observation(date(2026, 11, 23), 45.0),  # a Monday: the next week
        Observation(date(2026, 11, 23), 10.0, "other"),
    ]
    weeks = replay(observations, profile, date(2026, 11, 20), date(2026, 11, 24))
    assert [(w.week_start.isoformat(), w.days, w.warnings, w.criticals) for w in weeks] == [
        ("2026-11-16", 3, 1, 0),
        ("2026-11-23", 2, 0, 1),
    ]
    assert scaled(profile, 0.75).warning == 15
    cover = ThresholdProfile(warning=7, critical=3, direction="below")
    assert scaled(cover, 0.75).warning == pytest.approx(7 / 0.75)  # sooner = more days
