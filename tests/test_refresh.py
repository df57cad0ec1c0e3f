"""The refresh job end to end on a hand-computed store, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from conftest import NOW
from occ.config import Settings
from occ.refresh import run_refresh
from occ.refresh.view import kpis_document
from occ.sources.recorded import recorded_payloads
from occ.store.runs import list_drift
from occ.store.tables import (
    ChatwootMessage,
    DashboardFact,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyVariant,
)
from scenario import scenario_folder

SHOP = "test-shop.myshopify.com"


def refresh(engine: Engine, folder: Path) -> dict:
    run_refresh(engine, Settings(), recorded_payloads(folder), NOW)
    with engine.connect() as connection:
        return kpis_document(connection, SHOP)


def test_five_kpis_match_the_hand_computed_values(engine: Engine, tmp_path: Path) -> None:
    document = refresh(engine, scenario_folder(tmp_path / "rec", NOW))
    kpis = document["kpis"]

    sales = kpis["sales_delta"]
    assert sales["current"] == 150.0
    assert sales["baseline"] == pytest.approx(600 / 7)
    assert sales["value"] == pytest.approx(75.0)
    assert sales["severity"] == "critical"

    sla = kpis["sla_breach_rate"]
    assert sla["population"] == 4
    assert sorted(sla["breached"]) == [1, 2]
    assert sla["value"] == 50.0
    assert sla["severity"] == "critical"

    pages = {page["landingPage"]: page for page in kpis["traffic_anomalies"]["pages"]}
    assert pages["/a"]["wowDelta"] == -0.5 and pages["/a"]["severity"] == "critical"
    assert pages["/b"]["severity"] == "none"
    assert pages["/c"]["wowDelta"] == 0.0
    assert kpis["traffic_anomalies"]["severity"] == "critical"

    variants = {v["sku"]: v for v in kpis["inventory_cover"]["variants"]}
    assert set(variants) == {"SKU-A", "SKU-B"}  # CONTINUE and untracked are excluded
    assert variants["SKU-A"]["daysOfCover"] == pytest.approx(3 / (9 / 14))
    assert variants["SKU-A"]["severity"] == "warning"
    assert variants["SKU-A"]["reorderQuantity"] == 17
    assert variants["SKU-B"]["severity"] == "none"

    fulfillment = kpis["fulfillment_issue_rate"]
    assert fulfillment["population"] == 7
    assert sorted(fulfillment["issues"]) == [
        "gid://shopify/Order/101",
        "gid://shopify/Order/102",
        "gid://shopify/Order/104",
    ]
    assert fulfillment["value"] == pytest.approx(300 / 7)
    assert fulfillment["severity"] == "critical"


def test_unknown_enum_is_kept_interpreted_and_reported_as_drift(
    engine: Engine, tmp_path: Path
) -> None:
    refresh(engine, scenario_folder(tmp_path / "rec", NOW))
    with engine.connect() as connection:
        drift = list_drift(connection, SHOP)
        stored = connection.execute(
            select(ShopifyOrder.fulfillment_status).where(
                ShopifyOrder.order_id == "gid://shopify/Order/104"
            )
        ).scalar()
    assert stored == "AWAITING_PICKUP"
    assert [(d["field"], d["kind"], d["observed"]) for d in drift] == [
        ("displayFulfillmentStatus", "unknown_enum", "AWAITING_PICKUP")
    ]


def test_refreshing_the_same_data_twice_never_duplicates(engine: Engine, tmp_path: Path) -> None:
    folder = scenario_folder(tmp_path / "rec", NOW)
    refresh(engine, folder)
    refresh(engine, folder)
    with engine.connect() as connection:
        counts = [
            connection.execute(select(func.count()).select_from(table)).scalar()
            for table in (ShopifyOrder, ShopifyLineItem, ShopifyVariant, ChatwootMessage)
        ]
        drift = list_drift(connection, SHOP)
    assert counts == [10, 11, 4, 6]
    assert drift[0]["occurrences"] == 2  # seen in both refreshes, one finding


def test_money_and_timestamps_round_trip_exactly(engine: Engine, tmp_path: Path) -> None:
    refresh(engine, scenario_folder(tmp_path / "rec", NOW))
    with engine.connect() as connection:
        total, created = connection.execute(
            select(ShopifyOrder.total, ShopifyOrder.created_at).where(
                ShopifyOrder.order_id == "gid://shopify/Order/1"
            )
        ).one()
    assert str(total) == "120.10"
    assert created.isoformat() == "2026-11-26T14:00:00+00:00"


def test_kpi_facts_hold_inputs_result_and_config(engine: Engine, tmp_path: Path) -> None:
    refresh(engine, scenario_folder(tmp_path / "rec", NOW))
    with Session(engine) as session:
        fact = session.scalars(
            select(DashboardFact).where(DashboardFact.fact_type == "chatwoot.sla.breaches")
        ).one()
    assert fact.value["status"] == "ok"
    assert fact.value["result"]["population"] == 4
    assert fact.metadata_["config"]["sla_minutes"] == 60
    assert fact.metadata_["config"]["priority_sla_minutes"] == 30
    assert fact.metadata_["now"] == NOW.isoformat()
    assert fact.scope == "cx"


def test_an_absent_source_is_unconfigured_not_an_error(engine: Engine, tmp_path: Path) -> None:
    folder = scenario_folder(tmp_path / "rec", NOW, conversations=None, messages=None, ga4=None)
    report = run_refresh(engine, Settings(), recorded_payloads(folder), NOW)
    assert report.quarantined == 0
    with engine.connect() as connection:
        kpis = kpis_document(connection, SHOP)["kpis"]
    assert kpis["sla_breach_rate"]["status"] == "unconfigured"
    assert kpis["traffic_anomalies"]["status"] == "unconfigured"
    assert kpis["sales_delta"]["status"] == "ok"
    assert not report.streams["ga4.landing_pages"].recorded
