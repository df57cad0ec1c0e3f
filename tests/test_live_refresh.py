"""`occ refresh --source live` end to end, over real HTTP to fake Shopify, Chatwoot and GA4."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from fakes import chatwoot_server, ga4_server, shopify_server
from fakes.chatwoot_server import ChatwootFake, conversation, message
from fakes.ga4_server import Ga4Fake, landing_rows
from fakes.shopify_server import ShopifyFake, make_orders, variant
from occ.cli import app
from occ.store.cursors import load_cursor
from occ.store.tables import DashboardFact, SourceEvidence

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
SECRETS = (shopify_server.TOKEN, chatwoot_server.TOKEN, ga4_server.ACCESS_TOKEN)


@pytest.fixture
def upstreams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ShopifyFake]:
    orders = make_orders(30, start=NOW - timedelta(days=3), step=timedelta(hours=2))
    shopify = ShopifyFake(orders=orders, variants=[variant(n) for n in range(1, 6)])
    waiting = int((NOW - timedelta(hours=3)).timestamp())
    chatwoot = ChatwootFake(
        [conversation(1, "open"), conversation(2, "pending")],
        {1: [message(10, 1, created_at=waiting)], 2: [message(20, 2, created_at=waiting)]},
    )
    ga4 = Ga4Fake(landing_rows(date(2026, 11, 26), pages=3))
    with shopify.running(), chatwoot.running(), ga4.running():
        settings = {
            "OCC_SHOPIFY_SHOP": shopify_server.SHOP,
            "OCC_SHOPIFY_ACCESS_TOKEN": shopify_server.TOKEN,
            "OCC_SHOPIFY_BASE_URL": shopify.base_url,
            "OCC_CHATWOOT_URL": chatwoot.base_url,
            "OCC_CHATWOOT_ACCOUNT_ID": str(chatwoot_server.ACCOUNT_ID),
            "OCC_CHATWOOT_API_TOKEN": chatwoot_server.TOKEN,
            "OCC_CHATWOOT_REQUESTS_PER_MINUTE": "6000",
            "OCC_GA4_PROPERTY_ID": ga4_server.PROPERTY_ID,
            "OCC_GA4_CREDENTIALS_FILE": str(ga4.service_account_file(tmp_path)),
            "OCC_GA4_BASE_URL": ga4.base_url,
            "OCC_GA4_REQUESTS_PER_MINUTE": "6000",
        }
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        yield shopify


def test_live_refresh_stores_every_source_with_evidence_and_a_cursor(
    runner: CliRunner, tmp_path: Path, upstreams: ShopifyFake
) -> None:
    db = f"sqlite:///{tmp_path / 'live.db'}"
    result = runner.invoke(
        app, ["refresh", "--source", "live", "--now", NOW.isoformat(), "--db", db]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(runner.invoke(app, ["kpis", "--json", "--db", db]).stdout)
    assert document["source"]["kind"] == "live"
    assert {kpi["status"] for kpi in document["kpis"].values()} == {"ok"}
    assert document["kpis"]["sla_breach_rate"]["population"] == 2

    engine = create_engine(db)
    with engine.connect() as connection:
        evidence = connection.execute(select(SourceEvidence)).all()
        fact_links = connection.execute(select(DashboardFact.evidence_url)).scalars().all()
        cursor = load_cursor(connection, shopify_server.SHOP, "shopify", "shopify.orders")
    assert {row.source for row in evidence} >= {"shopify", "chatwoot", "ga4"}
    for row in evidence:
        stored = gzip.decompress(row.body_gzip).decode() + json.dumps(row.params) + row.endpoint
        assert not any(secret in stored for secret in SECRETS)
    assert any(link and link.startswith("occ://refresh-runs/") for link in fact_links)
    newest = max(order["updatedAt"] for order in upstreams.orders)
    assert cursor is not None
    assert datetime.fromisoformat(cursor) == datetime.fromisoformat(newest)
    assert not any(secret in result.output for secret in SECRETS)

    # The next refresh reads only what changed since the cursor (less the overlap).
    upstreams.operations.clear()
    again = runner.invoke(
        app, ["refresh", "--source", "live", "--now", NOW.isoformat(), "--db", db]
    )
    assert again.exit_code == 0, again.output
    searches = [v.get("query", "") for name, v in upstreams.operations if "Orders" in name]
    since = datetime.fromisoformat(newest) - timedelta(minutes=5)
    assert any(since.strftime("%Y-%m-%dT%H:%M:%S") in search for search in searches)


def test_unconfigured_sources_are_skipped_with_a_notice(
    runner: CliRunner, tmp_path: Path, upstreams: ShopifyFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OCC_GA4_PROPERTY_ID", "OCC_GA4_CREDENTIALS_FILE"):
        monkeypatch.delenv(name)
    db = f"sqlite:///{tmp_path / 'live.db'}"
    result = runner.invoke(
        app, ["refresh", "--source", "live", "--now", NOW.isoformat(), "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert "GA4 is not configured" in result.output
    document = json.loads(runner.invoke(app, ["kpis", "--json", "--db", db]).stdout)
    assert document["kpis"]["traffic_anomalies"]["status"] == "unconfigured"


def test_rejected_credentials_are_one_line_and_nothing_is_stored(
    runner: CliRunner, tmp_path: Path, upstreams: ShopifyFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCC_CHATWOOT_API_TOKEN", "wrong-token-value-123")
    db = f"sqlite:///{tmp_path / 'live.db'}"
    result = runner.invoke(
        app, ["refresh", "--source", "live", "--now", NOW.isoformat(), "--db", db]
    )
    assert result.exit_code == 4
    assert "rejected the credentials" in result.output
    assert "wrong-token-value-123" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    with create_engine(db).connect() as connection:
        assert connection.execute(select(SourceEvidence.id)).first() is None
        cursor = load_cursor(connection, shopify_server.SHOP, "shopify", "shopify.orders")
    assert cursor is None  # the failed refresh did not advance the cursor


def test_sources_check_reports_each_source(
    runner: CliRunner, upstreams: ShopifyFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCC_SHOPIFY_ACCESS_TOKEN", "shpat_wrong_0000000000000000000000")
    monkeypatch.delenv("OCC_GA4_PROPERTY_ID")
    monkeypatch.delenv("OCC_GA4_CREDENTIALS_FILE")
    result = runner.invoke(app, ["sources", "check"])
    assert result.exit_code == 4
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "credentials rejected" in lines["Shopify"]
    assert "reachable" in lines["Chatwoot"]
    assert "not configured" in lines["GA4"]
    assert "shpat_wrong" not in result.output
