"""Unsellable traffic end to end on the hand-computed store of tests/scenario.py
(``unsellable_folder``; the numbers are worked out in its comments), on SQLite and PostgreSQL:
the refresh, the fact, the anomalies and actions, ``occ kpis --json``, the dashboard tile,
stale gating, the backtest's refusal, and a store where no page qualifies.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from builders import variant
from conftest import NOW
from occ.cli import app
from occ.config import Settings
from occ.decisions.actions import suggested_actions
from occ.refresh import run_refresh
from occ.refresh.view import kpis_document
from occ.sources.recorded import recorded_payloads
from occ.store.facts import facts_by_id
from occ.store.tables import DashboardFact
from scenario import unsellable_folder, unsellable_ga4, unsellable_variants
from web_fixtures import dashboard

SHOP = "test-shop.myshopify.com"
OUT, FITTING = "/products/fuel-pump", "/products/an-6-fitting"
FITTING_IN_COLLECTION = "/collections/fittings/products/an-6-fitting"
NEW_GAUGE = "/products/new-gauge"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _refresh(engine: Engine, folder: Path, **override: Any) -> Any:
    unsellable_folder(folder, NOW, **override)
    return run_refresh(engine, Settings(), recorded_payloads(folder), NOW)


def _kpi(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        return dict(kpis_document(connection, SHOP)["kpis"]["unsellable_traffic"])


def test_pages_sessions_conversion_aov_and_revenue_at_risk_are_exact(
    engine: Engine, tmp_path: Path
) -> None:
    _refresh(engine, tmp_path / "rec")
    kpi = _kpi(engine)
    assert kpi["status"] == "ok" and kpi["severity"] == "critical"
    assert kpi["window"] == ["2026-11-19", "2026-11-25"]
    assert kpi["lookback"] == ["2026-10-22", "2026-11-18"]
    assert Decimal(kpi["windowRevenue"]) == Decimal("5000.00")  # today's order is not in it
    assert kpi["sessions"] == 140 + 35 + 35 + 50
    assert Decimal(kpi["revenueAtRisk"]) == Decimal("350.35") + 2 * Decimal("56.88") + Decimal(
        "44.85"
    )
    # Healthy, blog, CONTINUE and unknown pages are not listed; one product, two pages.
    pages = kpi["pages"]
    assert [p["landingPage"] for p in pages] == [OUT, FITTING_IN_COLLECTION, FITTING, NEW_GAUGE]
    assert kpi["productPages"] == 6

    out = pages[0]
    assert (out["state"], out["sessions"], out["basis"]) == ("out_of_stock", 140, "product")
    assert out["conversionRate"] == 7 / 280  # the cancelled, test and older orders left out
    assert Decimal(out["averageOrderValue"]) == Decimal("100.10")
    assert Decimal(out["revenueAtRisk"]) == Decimal("350.35")
    assert out["shareOfRevenuePct"] == pytest.approx(7.007)
    assert out["severity"] == "critical"
    assert [(v["sku"], v["inventory"], v["state"]) for v in out["variants"]] == [
        ("P-OUT", 0, "out_of_stock")
    ]

    for low in pages[1:3]:
        assert (low["state"], low["sessions"], low["basis"]) == ("low_stock", 35, "product")
        assert low["conversionRate"] == 10 / 280  # the order with both variants counts once
        assert Decimal(low["averageOrderValue"]) == Decimal("45.50")
        assert Decimal(low["revenueAtRisk"]) == Decimal("56.88")  # 56.875, half up
        assert low["severity"] == "warning"
        assert [(v["sku"], v["daysOfCover"], v["state"]) for v in low["variants"]] == [
            ("LOW-2", None, "out_of_stock"),
            ("LOW-1", 2.0, "low_cover"),
        ]

    fallback = pages[3]
    assert (fallback["basis"], fallback["sessions"]) == ("store", 50)
    assert fallback["conversionRate"] == 22 / 1400
    assert Decimal(fallback["averageOrderValue"]) == Decimal("57.08")  # 1,255.70 / 22
    assert Decimal(fallback["revenueAtRisk"]) == Decimal("44.85")
    assert fallback["severity"] == "none"  # 0.897 % of the window's revenue
    assert fallback["assumption"].startswith("Too little history of its own in the lookback")
    assert (
        "the store's conversion and average order used (22 orders, 1,400 sessions)"
        in (fallback["assumption"])
    )


def test_the_fact_holds_inputs_result_assumptions_and_config(
    engine: Engine, tmp_path: Path
) -> None:
    _refresh(engine, tmp_path / "rec")
    with Session(engine) as session:
        fact = session.scalars(
            select(DashboardFact).where(DashboardFact.fact_type == "shopify.traffic.unsellable")
        ).one()
    assert fact.scope == "inventory"
    assert fact.metadata_["config"] == {
        "thresholds": {"warning": 1.0, "critical": 5.0, "direction": "above"},
        "window_days": 7,
        "lookback_days": 28,
        "min_orders": 1,
    }
    inputs, result = fact.value["inputs"], fact.value["result"]
    assert inputs["coverCriticalDays"] == 3.0 and result["cover_critical_days"] == 3.0
    assert inputs["ordersSince"] == "2026-10-22T00:00:00+00:00"
    assert inputs["ordersUntil"] == "2026-11-26T00:00:00+00:00"
    assert (result["store_lookback_orders"], result["store_lookback_sessions"]) == (22, 1400)
    assert Decimal(result["store_lookback_revenue"]) == Decimal("1255.70")
    assert (result["excluded_sellable"], result["unknown_products"]) == (1, 1)
    out = result["pages"][0]
    assert (out["product_lookback_orders"], out["product_lookback_sessions"]) == (7, 280)
    assert Decimal(out["product_lookback_revenue"]) == Decimal("700.70")
    # Recomputed from the fact alone: sessions × orders × AOV / lookback sessions.
    recomputed = Decimal(out["sessions"] * 7) * Decimal(out["average_order_value"]) / 280
    assert recomputed.quantize(Decimal("0.01")) == Decimal(out["revenue_at_risk"])
    assert any("every variant of its product" in note for note in result["assumptions"])


def test_each_flagged_page_raises_an_anomaly_with_a_restock_or_redirect_action(
    engine: Engine, tmp_path: Path
) -> None:
    report = _refresh(engine, tmp_path / "rec")
    anomalies = [a for a in report.snapshot.anomalies if a.kpi == "unsellable_traffic"]
    assert [(a.key, a.severity) for a in anomalies] == [
        (OUT, "critical"),
        (FITTING_IN_COLLECTION, "warning"),
        (FITTING, "warning"),
    ]
    out = anomalies[0]
    assert (out.value, out.baseline, out.threshold) == (350.35, 5000.0, 250.0)
    assert out.message == (
        "/products/fuel-pump took 140 sessions in 2026-11-19 – 2026-11-25 while Fuel Pump is "
        "out of stock (P-OUT: 0 in stock): about 350.35 USD of revenue at risk (140 × 2.50 % "
        "conversion × 100.10 average order, its own rates), 7.01 % of the window's 5,000.00 "
        "USD revenue; critical above 5 %."
    )
    assert "has no variant with more than 3 days of cover" in anomalies[1].message

    with engine.connect() as connection:
        facts = facts_by_id(
            connection, [*report.snapshot.anomaly_fact_ids, *report.snapshot.fact_ids.values()]
        )
    anomaly_facts = [facts[i] for i in report.snapshot.anomaly_fact_ids]
    actions = [a for a in suggested_actions(anomaly_facts, facts) if a.kpi == "unsellable_traffic"]
    assert [(a.title, a.severity, a.scope) for a in actions] == [
        (
            "Restock P-OUT or point traffic from /products/fuel-pump elsewhere",
            "critical",
            "inventory",
        ),
        (
            f"Restock LOW-2, LOW-1 or point traffic from {FITTING_IN_COLLECTION} elsewhere",
            "warning",
            "inventory",
        ),
        (f"Restock LOW-2, LOW-1 or point traffic from {FITTING} elsewhere", "warning", "inventory"),
    ]
    assert actions[0].subject == f"unsellable_traffic:restock_or_redirect:{OUT}"
    assert actions[0].payload["skus"] == ["P-OUT"]
    assert actions[0].payload["revenueAtRisk"] == "350.35"


def test_a_page_with_more_variants_than_are_named_says_how_many_more(
    engine: Engine, tmp_path: Path
) -> None:
    """The anomaly and its action name the first three variants, then count the rest."""
    pump = {"handle": "fuel-pump", "product": "Fuel Pump"}
    more = [variant(201 + k, f"P-OUT-{k}", 0, **pump) for k in range(1, 5)]
    report = _refresh(engine, tmp_path / "rec", variants=[*unsellable_variants(), *more])
    anomalies = [a for a in report.snapshot.anomalies if a.kpi == "unsellable_traffic"]
    out = next(a for a in anomalies if a.key == OUT)
    assert (
        "out of stock (P-OUT: 0 in stock; P-OUT-1: 0 in stock; P-OUT-2: 0 in stock; "
        "2 more variant(s))"
    ) in out.message
    with engine.connect() as connection:
        facts = facts_by_id(
            connection, [*report.snapshot.anomaly_fact_ids, *report.snapshot.fact_ids.values()]
        )
    anomaly_facts = [facts[i] for i in report.snapshot.anomaly_fact_ids]
    actions = suggested_actions(anomaly_facts, facts)
    titles = [a.title for a in actions if a.kpi == "unsellable_traffic" and a.entity == OUT]
    assert titles == [
        f"Restock P-OUT, P-OUT-1, P-OUT-2 and 2 more or point traffic from {OUT} elsewhere"
    ]


def test_occ_kpis_json_and_table_show_the_tile(
    runner: CliRunner, db_url: str, tmp_path: Path
) -> None:
    folder = unsellable_folder(tmp_path / "rec", NOW)
    refreshed = runner.invoke(
        app, ["refresh", "--source", f"dir:{folder}", "--now", NOW.isoformat(), "--db", db_url]
    )
    assert refreshed.exit_code == 0, refreshed.output
    result = runner.invoke(app, ["kpis", "--json", "--db", db_url])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    kpi = document["kpis"]["unsellable_traffic"]
    assert (kpi["value"], kpi["sessions"], kpi["severity"]) == ("508.96", 260, "critical")
    assert [p["revenueAtRisk"] for p in kpi["pages"]] == ["350.35", "56.88", "56.88", "44.85"]
    assert sum(a["kpi"] == "unsellable_traffic" for a in document["anomalies"]) == 3
    table = runner.invoke(app, ["kpis", "--db", db_url])
    assert table.exit_code == 0
    # The Detail column folds anywhere at the console's width: compare without blanks.
    squeezed = re.sub(r"[\s│]+", "", table.output)
    expected = (
        "Unsellable Traffic | 260 sessions | ✖ critical | 508.96 USD at risk on 4 page(s); "
        "worst /products/fuel-pump (out of stock: P-OUT)"
    )
    assert re.sub(r"[\s|]+", "", expected) in squeezed


def test_the_dashboard_tile_and_its_page_list_every_number(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "rec"
    _refresh(engine, folder)
    with dashboard(engine, folder, refresh=False) as dash:
        with dash.api() as api:
            tiles = api.get("/api/v1/tiles").json()["tiles"]
            detail = api.get("/api/v1/tiles/unsellable_traffic").json()
            queue = api.get("/api/v1/actions").json()["actions"]
        with dash.signed_in() as client:
            overview = client.get("/").text
            page = client.get("/tiles/unsellable_traffic").text
    assert [t["kpi"] for t in tiles][-1] == "unsellable_traffic"
    tile = tiles[-1]
    assert (tile["title"], tile["severity"], tile["rowCount"]) == (
        "Unsellable Traffic",
        "critical",
        4,
    )
    assert tile["headline"] == (
        "4 product page(s) you cannot sell took 260 sessions (2026-11-19 – 2026-11-25): "
        "508.96 USD of revenue at risk"
    )
    assert detail["inputs"]["coverCriticalDays"] == 3.0 and detail["config"]["lookback_days"] == 28
    assert detail["rows"][0]["variants"][0]["sku"] == "P-OUT"
    assert 'id="tile-unsellable_traffic"' in overview and "508.96" in overview
    for shown in (
        "/products/fuel-pump",
        "P-OUT: 0 in stock",
        "LOW-1: 2 in stock, 2.0 d",
        "2.50 %",  # conversion
        "100.10",  # average order value
        "350.35",  # revenue at risk
        "7.01 %",  # of the window's revenue
        "Too little history of its own",
        "every variant of its product is tracked",
    ):
        assert shown in page, shown
    titles = [a["title"] for a in queue if a["kpi"] == "unsellable_traffic"]
    assert titles[0] == "Restock P-OUT or point traffic from /products/fuel-pump elsewhere"


def test_no_qualifying_page_shows_no_pages_and_raises_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    restocked = [{**v, "inventoryQuantity": 400} for v in unsellable_variants()]
    report = _refresh(engine, tmp_path / "rec", variants=restocked)
    kpi = _kpi(engine)
    assert (kpi["status"], kpi["severity"], kpi["pages"], kpi["sessions"]) == ("ok", "none", [], 0)
    assert kpi["revenueAtRisk"] == "0.00" and kpi["windowRevenue"] is None
    assert not [a for a in report.snapshot.anomalies if a.kpi == "unsellable_traffic"]
    folder = tmp_path / "rec"
    with dashboard(engine, folder, refresh=False) as dash, dash.signed_in() as client:
        overview = client.get("/").text
        page = client.get("/tiles/unsellable_traffic").text
    assert "No product page with traffic is out of stock or at ≤ 3 days of cover" in overview
    assert "No pages: every product page with traffic can take orders." in overview
    assert "No pages: every product page with traffic in the window can take orders." in page


def test_stale_ga4_gates_it_and_it_cannot_be_backtested(
    engine: Engine, db_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    old = unsellable_ga4((NOW - timedelta(days=10)).date())
    report = _refresh(engine, tmp_path / "rec", ga4=old)
    assert not [a for a in report.snapshot.anomalies if a.kpi == "unsellable_traffic"]
    with Session(engine) as session:
        fact = session.scalars(
            select(DashboardFact).where(DashboardFact.fact_type == "shopify.traffic.unsellable")
        ).one()
    assert fact.value["gate"]["stale"] is True
    assert "GA4 record (ga4.landing_pages)" in fact.value["gate"]["reason"]
    refused = runner.invoke(
        app,
        [
            "alerts",
            "backtest",
            "--kpi",
            "unsellable_traffic",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-07",
            "--db",
            db_url,
        ],
    )
    assert refused.exit_code == 2
    assert "unsellable_traffic cannot be replayed" in refused.output
    assert "Shopify does not keep" in refused.output
