"""The dashboard's settings page and its alert backtest preview, over real HTTP.

The store is the weekly-packet fixture (tests/insights_fixture.py), whose daily values are
known: revenue 100.00 a day except Thursday 19 November (30.00), so the sales delta is −70 %
on the 19th and +11.1 % on the 20th–23rd; the newest refresh is as of Tuesday 24 November,
so the default preview runs from Monday 5 October to Monday 23 November (8 weeks, the last
one begun). The app and the CLI read the same occ.toml; the preview must show exactly the
numbers ``occ alerts backtest --json`` prints for the same inputs.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from insights_fixture import build_store
from occ.cli import app
from occ.config import Settings, load_settings
from web_fixtures import Dashboard, dashboard

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SECRETS = {
    "shopify_access_token": "shpat_settingspage0123456789abcdef",
    "shopify_client_secret": "shpss_settingspage0123456789abcdef",
    "chatwoot_api_token": "cw-settings-page-token-0123456789",
    "web_secret_key": "web-settings-page-signing-key-0123456789",
    "mirror_url": "postgresql://sync:mirror-pass-0123456789@127.0.0.1:5432/mirror",
}
CONFIG = """\
refresh_interval_minutes = 90

[kpis.sla]
sla_minutes = 45

[kpis.fulfillment.thresholds]
warning = 12
critical = 30
direction = "above"

[stale_after_hours]
shopify = 24
chatwoot = 72
"""
FIRST, LAST = "2026-10-05", "2026-11-23"
_ROW = re.compile(r"<tr><td>(\d{4}-\d\d-\d\d)</td>((?:<td class=\"num\">[^<]*</td>){6})</tr>")
_CELL = re.compile(r'<td class="num">([^<]*)</td>')
_ERROR = re.compile(r'<p class="error" role="alert" id="preview-error">([^<]*)</p>')


@pytest.fixture
def toml(tmp_path: Path) -> Path:
    path = tmp_path / "occ.toml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
def dash(engine: Engine, db_url: str, tmp_path: Path, toml: Path) -> Iterator[Dashboard]:
    build_store(engine, tmp_path / "recorded")
    settings = load_settings(toml, **SECRETS)
    with dashboard(engine, tmp_path / "unused", settings=settings, refresh=False) as running:
        yield running


def _setting(page: str, key: str) -> list[str]:
    """The cells of one setting's row: label, value, from, environment variable, toml key."""
    found = re.search(rf'<tr id="setting-{re.escape(key)}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {key}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells]


def _weeks_on_page(page: str, kpi: str) -> list[tuple[Any, ...]]:
    table = re.search(rf'<table class="preview-result" id="result-{kpi}">(.*?)</table>', page, re.S)
    assert table, f"no preview table for {kpi}"
    weeks = []
    for week, cells in _ROW.findall(table.group(1)):
        days, warnings, criticals, now_warnings, now_criticals, band = _CELL.findall(cells)
        weeks.append(
            (
                week,
                int(days),
                int(warnings),
                int(criticals),
                int(now_warnings),
                int(now_criticals),
                None if band == "—" else int(band),
            )
        )
    return weeks


def _weeks_of(document: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            w["weekStart"],
            w["days"],
            w["warnings"],
            w["criticals"],
            w["current"]["warnings"],
            w["current"]["criticals"],
            w["outsideBand"],
        )
        for w in document["weeks"]
    ]


def _cli(runner: CliRunner, db_url: str, toml: Path, *arguments: str) -> dict[str, Any]:
    result = runner.invoke(
        app,
        ["alerts", "backtest", *arguments, "--json", "--db", db_url, "--config", str(toml)],
    )
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


def _error(response: httpx.Response) -> str:
    found = _ERROR.search(response.text)
    assert found, response.text[:500]
    return html.unescape(found.group(1))


# The settings in force --------------------------------------------------------------------


def test_the_page_lists_the_settings_in_force_and_where_they_come_from(dash: Dashboard) -> None:
    with dash.signed_in() as client:
        response = client.get("/settings")
    page = response.text
    assert response.status_code == 200
    assert '<a href="/settings">Settings</a>' in page
    assert "Read-only" in page
    assert _setting(page, "kpis.sla.sla_minutes")[1:] == [
        "45",
        "configured",
        "OCC_KPIS__SLA__SLA_MINUTES",
        "[kpis.sla] sla_minutes",
    ]
    assert _setting(page, "kpis.sales.thresholds.warning")[1:] == [
        "15",
        "default",
        "OCC_KPIS__SALES__THRESHOLDS__WARNING",
        "[kpis.sales.thresholds] warning",
    ]
    assert _setting(page, "kpis.sales.thresholds.direction")[1:3] == ["abs", "default"]
    assert _setting(page, "kpis.fulfillment.thresholds.warning")[1:3] == ["12", "configured"]
    assert _setting(page, "kpis.traffic.noise_floor")[1:3] == ["10", "default"]
    assert _setting(page, "kpis.inventory.cover_target_days")[1:3] == ["30", "default"]
    assert _setting(page, "kpis.fulfillment.window_days")[1:3] == ["7", "default"]
    assert _setting(page, "forecast.method")[1:] == [
        "auto",
        "default",
        "OCC_FORECAST__METHOD",
        "[forecast] method",
    ]
    assert _setting(page, "forecast.level")[1:3] == ["95", "default"]
    assert _setting(page, "refresh_interval_minutes")[1:3] == ["90", "configured"]
    assert _setting(page, "stale_violation_rate")[1:3] == ["0.05", "default"]
    assert _setting(page, "stale_after_hours.shopify")[1:] == [
        "24",
        "configured",
        "OCC_STALE_AFTER_HOURS__SHOPIFY",
        "[stale_after_hours] shopify",
    ]
    # The table replaced the default one: GA4 is no longer checked for age.
    assert _setting(page, "stale_after_hours.ga4")[1:3] == ["not checked", "default"]


def test_no_secret_is_ever_shown(dash: Dashboard) -> None:
    with dash.signed_in() as client:
        pages = [
            client.get("/settings").text,
            client.get("/settings", params={"kpi": "sales_delta", "band": ""}).text,
            client.get("/settings", params={"kpi": "sales_delta", "warning": "x"}).text,
        ]
    with dash.api() as api:
        pages.append(api.get("/api/v1/settings").text)
        pages.append(api.get("/api/v1/alerts/backtest", params={"kpi": "sla_breach_rate"}).text)
    assert dash.settings.shopify_access_token is not None  # configured, so it could leak
    for text in pages:
        for secret in (*SECRETS.values(), "mirror-pass-0123456789"):
            assert secret not in text
        assert "shopify_access_token" not in text and "SHOPIFY_ACCESS_TOKEN" not in text


def test_the_settings_api_lists_the_same_rows(dash: Dashboard) -> None:
    with dash.api() as api:
        groups = api.get("/api/v1/settings").json()["groups"]
    rows = {row["key"]: row for group in groups for row in group["settings"]}
    assert rows["kpis.sla.sla_minutes"] == {
        "key": "kpis.sla.sla_minutes",
        "label": "SLA (minutes to the first reply)",
        "value": 45,
        "source": "configured",
        "toml": "[kpis.sla] sla_minutes",
        "env": "OCC_KPIS__SLA__SLA_MINUTES",
    }
    assert rows["kpis.sales.thresholds.critical"]["source"] == "default"
    replayable = [g["kpi"] for g in groups if g["replayable"]]
    assert replayable == [
        "sales_delta",
        "sla_breach_rate",
        "traffic_anomalies",
        "fulfillment_issue_rate",
    ]


# The preview: the CLI's numbers -----------------------------------------------------------


def test_the_forms_default_to_the_last_eight_weeks_of_stored_history(dash: Dashboard) -> None:
    with dash.signed_in() as client:
        page = client.get("/settings").text
    for kpi, first in (
        ("sales_delta", FIRST),
        ("fulfillment_issue_rate", FIRST),
        ("traffic_anomalies", FIRST),
        ("sla_breach_rate", "2026-11-10"),  # the oldest Chatwoot message
    ):
        assert f'id="{kpi}-from" name="from" type="date" value="{first}"' in page
        assert f'id="{kpi}-to" name="to" type="date" value="{LAST}"' in page
    assert 'id="inventory_cover-from"' not in page  # no stock history to replay


@pytest.mark.parametrize(
    ("query", "arguments"),
    [
        ({"kpi": "sales_delta", "warning": "10"}, ["--warning", "10", "--no-band"]),
        ({"kpi": "sla_breach_rate", "profile": "quiet"}, ["--profile", "quiet", "--no-band"]),
        (
            {"kpi": "traffic_anomalies", "warning": "-0.1", "critical": "-0.3"},
            ["--warning", "-0.1", "--critical", "-0.3", "--no-band"],
        ),
        ({"kpi": "fulfillment_issue_rate", "profile": "sensitive"}, ["--profile", "sensitive"]),
    ],
    ids=["sales-warning", "sla-quiet", "traffic-both", "fulfillment-sensitive-band"],
)
def test_the_preview_shows_the_numbers_of_occ_alerts_backtest(
    dash: Dashboard,
    runner: CliRunner,
    db_url: str,
    toml: Path,
    query: dict[str, str],
    arguments: list[str],
) -> None:
    band = "--no-band" not in arguments
    first = "2026-11-10" if query["kpi"] == "sla_breach_rate" else FIRST
    if band:  # the band replay fits a forecast per day: a fortnight is enough to compare
        query, first = {**query, "from": "2026-11-10", "to": LAST}, "2026-11-10"
    with dash.signed_in() as client:
        page = client.get("/settings", params={**query, **({"band": "on"} if band else {})})
    with dash.api() as api:
        twin = api.get("/api/v1/alerts/backtest", params={**query, "band": str(band).lower()})
    days = ["--from", first, "--to", LAST]
    cli = _cli(runner, db_url, toml, "--kpi", query["kpi"], *days, *arguments)
    assert page.status_code == 200 and twin.status_code == 200
    assert twin.json() == cli
    assert _weeks_on_page(page.text, query["kpi"]) == _weeks_of(cli)
    assert f"{cli['kpi']}: {html.escape(cli['proposed']['label'])} against" in page.text
    assert all((w["outsideBand"] is None) != band for w in cli["weeks"])


def test_a_lower_sales_warning_raises_the_hand_computed_alerts(dash: Dashboard) -> None:
    with dash.signed_in() as client:
        page = client.get("/settings", params={"kpi": "sales_delta", "warning": "10"}).text
    weeks = _weeks_on_page(page, "sales_delta")
    assert [w[0] for w in weeks] == [
        "2026-10-05",
        "2026-10-12",
        "2026-10-19",
        "2026-10-26",
        "2026-11-02",
        "2026-11-09",
        "2026-11-16",
        "2026-11-23",
    ]
    # −70 % on Thursday the 19th (critical either way); +11.1 % on the 20th–23rd: warnings
    # at 10, none at the current 15.
    assert weeks[6] == ("2026-11-16", 7, 3, 1, 0, 1, None)
    assert weeks[7] == ("2026-11-23", 1, 1, 0, 0, 0, None)
    assert all(w[2:6] == (0, 0, 0, 0) for w in weeks[:6])
    assert "occ alerts backtest --kpi sales_delta --from 2026-10-05 --to 2026-11-23" in page


# Bad input, sign-in, an empty store ---------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"kpi": "sales_delta", "from": "yesterday"}, "from 'yesterday' is not a date"),
        ({"kpi": "sales_delta", "from": "2026-11-30", "to": "2026-11-01"}, "is before from"),
        ({"kpi": "sales_delta", "from": "2025-01-01", "to": "2026-11-01"}, "at most a year"),
        ({"kpi": "sales_delta", "warning": "40"}, "critical must be at least warning"),
        ({"kpi": "traffic_anomalies", "warning": "-20"}, "critical must be at most warning"),
        ({"kpi": "sales_delta", "warning": "-5", "critical": "-1"}, "is negative"),
        ({"kpi": "sales_delta", "warning": "ten"}, "warning 'ten' is not a number"),
        ({"kpi": "sales_delta", "critical": "nan"}, "not a number"),
        ({"kpi": "sales_delta", "warning": "10", "profile": "quiet"}, "not both"),
        ({"kpi": "sales_delta", "profile": "loud"}, "unknown profile 'loud'"),
        ({"kpi": "revenue"}, "unknown kpi 'revenue'"),
        ({"kpi": "inventory_cover"}, "cannot be replayed"),
    ],
)
def test_bad_input_is_one_line_next_to_the_form(
    dash: Dashboard, query: dict[str, str], message: str
) -> None:
    with dash.signed_in() as client:
        page = client.get("/settings", params=query)
    with dash.api() as api:
        twin = api.get("/api/v1/alerts/backtest", params=query)
    assert page.status_code == 400
    error = _error(page)
    assert message in error and "\n" not in error
    assert "OCC_KPIS__SLA__SLA_MINUTES" in page.text  # the rest of the page is there
    assert 'class="preview-result"' not in page.text
    if query["kpi"] in ("sales_delta", "traffic_anomalies"):  # next to that KPI's form
        form = page.text.index(f'id="preview-{query["kpi"]}"')
        assert form < page.text.index('id="preview-error"') < page.text.index("</form>", form)
    assert twin.status_code == 400
    assert twin.headers["content-type"].startswith("application/problem+json")
    assert message in twin.json()["detail"] and twin.json()["title"] == "Bad request"


def test_an_api_call_without_a_kpi_is_a_problem(dash: Dashboard) -> None:
    with dash.api() as api:
        response = api.get("/api/v1/alerts/backtest", params={"band": "maybe"})
    assert response.status_code == 400 and "kpi" in response.json()["detail"]


def test_the_page_and_the_api_need_a_sign_in(dash: Dashboard) -> None:
    with dash.client() as anonymous:
        page = anonymous.get("/settings", params={"kpi": "sales_delta"})
        api = anonymous.get("/api/v1/alerts/backtest", params={"kpi": "sales_delta"})
        listed = anonymous.get("/api/v1/settings")
        forged = anonymous.get(
            "/api/v1/settings", headers={"Authorization": "Bearer occ_not_a_token"}
        )
    assert page.status_code == 303
    assert page.headers["location"] == "/signin?next=/settings%3Fkpi%3Dsales_delta"
    assert api.status_code == 401 and api.json()["title"] == "Sign-in required"
    assert listed.status_code == 401 and forged.status_code == 401
    assert "OCC_KPIS" not in page.text + api.text + listed.text


def test_an_empty_store_lists_the_settings_and_previews_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    with dashboard(engine, tmp_path / "unused", settings=Settings(), refresh=False) as dash:
        with dash.signed_in() as client:
            page = client.get("/settings")
            preview = client.get("/settings", params={"kpi": "sales_delta", "warning": "10"})
        with dash.api() as api:
            twin = api.get(
                "/api/v1/alerts/backtest",
                params={"kpi": "sales_delta", "from": "2026-11-16", "to": "2026-11-22"},
            )
    assert page.status_code == 200
    assert "No stored history of this KPI yet" in page.text
    assert _setting(page.text, "kpis.sales.thresholds.warning")[1:3] == ["15", "default"]
    assert preview.status_code == 404
    assert _error(preview).startswith("no stored history of sales_delta to replay yet")
    assert twin.status_code == 404 and "no refresh recorded yet" in twin.json()["detail"]
