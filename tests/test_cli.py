"""The real CLI: the demo's tiles, `kpis --json`, forecasts and backtests, and user mistakes."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import NOW
from occ.cli import app
from occ.sources.demo import demo_recorded_folder

NOW_ISO = NOW.isoformat()


@pytest.fixture
def demo_db(runner: CliRunner, db_url: str) -> str:
    result = runner.invoke(app, ["demo", "--no-serve", "--now", NOW_ISO, "--db", db_url])
    assert result.exit_code == 0, result.output
    return db_url


def test_demo_shows_the_five_tiles_with_the_intended_anomalies(
    runner: CliRunner, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    result = runner.invoke(app, ["demo", "--no-serve", "--now", NOW_ISO, "--db", db])
    assert result.exit_code == 0, result.output
    for tile in ("Sales Pulse", "CX Escalations", "SEO & Content Watch", "Inventory Heatmap"):
        assert tile in result.output
    assert "Fulfillment" in result.output
    assert result.output.count("✖ critical") >= 5  # never colour alone: icon and word
    document = json.loads(runner.invoke(app, ["kpis", "--json", "--db", db]).stdout)
    kpis = document["kpis"]
    assert kpis["sales_delta"]["value"] < -30
    assert kpis["sla_breach_rate"]["value"] > 40
    dropping = [p for p in kpis["traffic_anomalies"]["pages"] if p["severity"] == "critical"]
    assert dropping and dropping[0]["wowDelta"] <= -0.4
    severities = {v["severity"] for v in kpis["inventory_cover"]["variants"]}
    assert {"critical", "warning"} <= severities
    assert kpis["fulfillment_issue_rate"]["value"] > 25


def test_kpis_json_has_the_documented_shape(runner: CliRunner, demo_db: str) -> None:
    result = runner.invoke(app, ["kpis", "--json", "--db", demo_db])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["shop"] == "hotrod-parts-demo.myshopify.com"
    assert datetime.fromisoformat(document["now"]) == NOW
    kpis = document["kpis"]
    sales = kpis["sales_delta"]
    assert isinstance(sales["value"], float) and isinstance(sales["current"], float)
    assert isinstance(sales["baseline"], float)
    assert sales["severity"] in ("none", "warning", "critical")
    sla = kpis["sla_breach_rate"]
    assert isinstance(sla["population"], int) and all(isinstance(i, int) for i in sla["breached"])
    page = kpis["traffic_anomalies"]["pages"][0]
    assert set(page) >= {"landingPage", "current", "previous", "wowDelta", "severity"}
    variant = kpis["inventory_cover"]["variants"][0]
    assert set(variant) >= {"variantId", "sku", "velocity", "daysOfCover", "severity"}
    fulfillment = kpis["fulfillment_issue_rate"]
    assert isinstance(fulfillment["value"], float)
    assert all(i.startswith("gid://shopify/Order/") for i in fulfillment["issues"])


def test_forecast_json_is_dated_from_the_local_day_of_now(runner: CliRunner, demo_db: str) -> None:
    result = runner.invoke(
        app, ["forecast", "sales", "--horizon", "7", "--now", NOW_ISO, "--json", "--db", demo_db]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["metric"] == "sales" and document["assumptions"]
    dates = [date.fromisoformat(point["date"]) for point in document["points"]]
    # the demo shop is in America/Chicago: 15:00Z on 26 Nov is 09:00 local, the same day
    assert dates == [date(2026, 11, 26) + timedelta(days=i) for i in range(7)]
    for point in document["points"]:
        assert 0 <= point["lower"] <= point["value"] <= point["upper"]


def test_forecast_as_of_a_past_instant_ignores_later_data(
    runner: CliRunner, tmp_path: Path
) -> None:
    past = NOW - timedelta(days=10)
    full, cut = tmp_path / "full", tmp_path / "cut"
    demo_recorded_folder(7, NOW, full)
    demo_recorded_folder(7, NOW, cut)
    orders = cut / "shopify" / "orders.jsonl"
    kept = [
        line
        for line in orders.read_text().splitlines()
        if datetime.fromisoformat(json.loads(line)["createdAt"]) <= past
    ]
    orders.write_text("\n".join(kept) + "\n")
    outputs = []
    for folder in (full, cut):
        db = f"sqlite:///{folder}.db"
        refreshed = runner.invoke(
            app, ["refresh", "--source", f"dir:{folder}", "--now", NOW_ISO, "--db", db]
        )
        assert refreshed.exit_code == 0, refreshed.output
        result = runner.invoke(
            app, ["forecast", "sales", "--now", past.isoformat(), "--json", "--db", db]
        )
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1]


def test_backtest_reports_each_method(runner: CliRunner, demo_db: str) -> None:
    result = runner.invoke(
        app, ["forecast", "sales", "--backtest", "4", "--now", NOW_ISO, "--json", "--db", demo_db]
    )
    assert result.exit_code == 0, result.output
    rows = {row["method"]: row for row in json.loads(result.stdout)["methods"]}
    assert set(rows) >= {"average", "ses", "seasonal_es", "croston"}
    assert all(row["smape"] >= 0 for row in rows.values())
    table = runner.invoke(app, ["forecast", "sales", "--backtest", "4", "--db", demo_db])
    assert "MASE" in table.output and "seasonal_es" in table.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["forecast", "sales", "--now", "yesterday"], 2, "is not an ISO-8601 instant"),
        (["forecast", "visits"], 2, "unknown metric 'visits'"),
        (["forecast", "sessions"], 2, "needs --key"),
        (["forecast", "units", "--key", "NOPE"], 1, "no variant with id or SKU 'NOPE'"),
        (["forecast", "sales", "--method", "magic"], 2, "bad --horizon or --method"),
        (  # before the store's first order: no history, not a forecast of 0
            ["forecast", "sales", "--now", "2020-01-01T00:00:00Z"],
            1,
            "no shopify.orders history before 2020-01-01T00:00:00+00:00 to forecast sales",
        ),
        (  # the first order's own day is not complete yet: still no history
            ["forecast", "sales", "--now", "2026-08-28T20:00:00Z"],
            1,
            "no shopify.orders history before 2026-08-28T20:00:00+00:00",
        ),
        (
            ["forecast", "breach-rate", "--now", "2020-01-01T00:00:00Z"],
            1,
            "no chatwoot.messages history before 2020-01-01T00:00:00+00:00",
        ),
        (
            ["forecast", "sales", "--shop", "other.myshopify.com"],
            1,  # as every command that reads a shop: nothing to show for it
            "shop 'other.myshopify.com' is not in the store; run `occ refresh` first",
        ),
        (["refresh", "--source", "s3://bucket"], 2, "unknown source 's3://bucket'"),
    ],
)
def test_user_mistakes_get_one_line_and_a_non_zero_exit(
    runner: CliRunner, demo_db: str, args: list[str], code: int, message: str
) -> None:
    result = runner.invoke(app, [*args, "--db", demo_db])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_kpis_before_any_refresh(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["kpis", "--db", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert result.exit_code == 1
    assert "no refresh recorded yet" in result.output


@pytest.mark.parametrize("extra", [[], ["--backtest", "2"]], ids=["forecast", "backtest"])
def test_forecast_before_any_refresh_is_nothing_to_show_yet(
    runner: CliRunner, tmp_path: Path, extra: list[str]
) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    result = runner.invoke(app, ["forecast", "sales", *extra, "--db", empty])
    assert result.exit_code == 1, result.output  # README: 1 = nothing to show yet
    assert "no refresh recorded yet" in result.output


def test_unreachable_database_is_one_line_with_the_password_masked(
    runner: CliRunner,
) -> None:
    url = "postgresql://occ:s3cretpass@127.0.0.1:1/occ"
    result = runner.invoke(app, ["kpis", "--db", url])
    assert result.exit_code == 3
    assert "cannot reach the database" in result.output
    assert "s3cretpass" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_malformed_database_url(runner: CliRunner) -> None:
    result = runner.invoke(app, ["kpis", "--db", "not a url"])
    assert result.exit_code == 3
    assert "is not a SQLAlchemy URL" in result.output


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("occ ")
