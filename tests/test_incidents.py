"""Cross-source incidents: each kind happens in a recorded scenario (tests/incident_scenarios.py)
and is found by a real refresh, recorded as a fact, and shown by ``occ incidents``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from builders import ga4_report
from incident_scenarios import (
    NOW,
    pump_page_report,
    sales_folder,
    support_folder,
    traffic_folder,
)
from occ.cli import app
from occ.config import Settings
from occ.contracts.incidents import INCIDENT_KIND_LABELS, IncidentKind
from occ.contracts.records import ConversationRecord, MessageRecord
from occ.metrics.incident_draft import customer_texts
from occ.refresh import run_refresh
from occ.refresh.incidents import incidents_document
from occ.sources.recorded import recorded_payloads
from web_fixtures import dashboard


def _incidents(engine: Engine, folder: Path, settings: Settings | None = None) -> dict[str, Any]:
    run_refresh(engine, settings or Settings(), recorded_payloads(folder), NOW)
    with engine.connect() as connection:
        return incidents_document(connection)


def _only(document: dict[str, Any]) -> dict[str, Any]:
    assert len(document["incidents"]) == 1, [i["title"] for i in document["incidents"]]
    incident: dict[str, Any] = document["incidents"][0]
    return incident


def _kpis(incident: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(a["kpi"], a["key"], a["kind"]) for a in incident["anomalies"]]


def test_breached_conversations_asking_about_stuck_orders_are_one_incident(
    engine: Engine, tmp_path: Path
) -> None:
    incident = _only(_incidents(engine, support_folder(tmp_path / "rec")))
    assert incident["kinds"] == ["support_from_stuck_orders"]
    assert incident["severity"] == "critical"
    assert incident["title"] == "Customers waiting on 2 order(s) stuck in fulfillment"
    assert {(k, kind) for k, _, kind in _kpis(incident)} >= {
        ("sla_breach_rate", "threshold"),
        ("fulfillment_issue_rate", "threshold"),
    }
    orders = [(link["entity"], link["evidence"]) for link in incident["links"]]
    # c1 and c3 ask about #2001, c2 about #2004; #2002 (fulfilled), #2003 (2 h old),
    # #9999 (not the shop's) and the private note's #2004 link nothing.
    # (in the SLA tile's order: the longest wait first)
    conversation_links = [e for e in orders if e[1].startswith("Conversation")]
    assert [(name, text.split(" ")[1]) for name, text in conversation_links] == [
        ("#2004", "2"),
        ("#2001", "1"),
        ("#2001", "3"),
    ]
    assert conversation_links[1][1] == (
        "Conversation 1 (Customer 1, waiting 90 min) asks about #2001, UNFULFILLED 50 h after "
        "it was placed (2026-11-24 13:00 UTC)."
    )
    assert "ON_HOLD 30 h after it was placed" in conversation_links[0][1]
    fulfillment = [text for name, text in orders if "issues of the fulfillment" in text]
    assert fulfillment == [
        "2 of these orders (#2001, #2004) are among the 2 issues of the fulfillment issue rate "
        "(50.0 %)."
    ]
    timing = [link for link in incident["links"] if link["kind"] == "time"]
    assert timing[0]["evidence"].startswith(
        "The first of these orders passed its 24 h processing window at 2026-11-25 13:00 UTC"
    )
    assert [(c["cause"], c["share"]) for c in incident["causes"]] == [
        ("Orders stuck in fulfillment", 0.75),
        ("Reply capacity (staffing, routing or volume)", 0.25),
    ]
    assert incident["causes"][0]["reason"] == (
        "3 of 4 breached conversations ask about orders still unfulfilled past 24 h (#2001, #2004)."
    )
    assert incident["entities"] == ["order:#2001", "order:#2004"]
    assert incident["started_at"] == "2026-11-25T13:00:00Z"


def test_a_product_page_losing_traffic_while_it_is_sold_out_is_one_incident(
    engine: Engine, tmp_path: Path
) -> None:
    document = _incidents(engine, traffic_folder(tmp_path / "rec"))
    incident = _only(document)  # /blogs/brakes and /products/oil-filter fell too: no link
    assert incident["kinds"] == ["traffic_on_stockout"]
    assert (
        incident["title"] == "/products/brake-kit is losing traffic while Brake Kit cannot be sold"
    )
    assert sorted(_kpis(incident)) == [
        ("inventory_cover", "gid://shopify/ProductVariant/71", "threshold"),
        ("inventory_cover", "gid://shopify/ProductVariant/72", "threshold"),
        ("traffic_anomalies", "/products/brake-kit", "threshold"),
        ("unsellable_traffic", "/products/brake-kit", "threshold"),
    ]
    evidence = [link["evidence"] for link in incident["links"]]
    assert (
        evidence[0]
        == "/products/brake-kit is the page of the product Brake Kit (handle brake-kit)."
    )
    assert "BK-RED: out of stock, last sold 2026-11-21 12:00 UTC." in evidence
    assert "BK-BLU: out of stock, last sold 2026-11-22 10:00 UTC." in evidence
    assert evidence[-1] == (
        "Brake Kit ran out at 2026-11-22 10:00 UTC (its last sale); sessions on "
        "/products/brake-kit averaged 18.0 a day before that day and averaged 5.0 a day from "
        "it on, against 20.0 a day the week before."
    )
    # 66 sessions lost this week, 60 of them from the stockout day on; both variants are out.
    assert [(c["cause"], c["share"]) for c in incident["causes"]] == [
        ("Stockout of Brake Kit", 0.9091),
        ("Acquisition change (campaigns, search ranking, referrers)", 0.0909),
    ]
    assert "91 % of the 66 sessions lost this week fall after it" in incident["causes"][0]["reason"]
    assert incident["started_at"] == "2026-11-22T10:00:00Z"


def test_a_sales_drop_on_the_day_a_top_sku_ran_out_is_one_incident(
    engine: Engine, tmp_path: Path
) -> None:
    incident = _only(_incidents(engine, sales_folder(tmp_path / "rec")))
    assert incident["kinds"] == ["sales_on_stockout"]
    assert incident["title"] == "Sales drop on the day top SKU PUMP-1 ran out"
    kpis = _kpis(incident)
    assert ("inventory_cover", "gid://shopify/ProductVariant/81", "threshold") in kpis
    assert ("sales_delta", None, "threshold") in kpis
    # CLAMP-1 is out of stock too, but it ran out 5 days ago: not the cause of today's drop.
    assert "variant:gid://shopify/ProductVariant/83" not in incident["entities"]
    evidence = [link["evidence"] for link in incident["links"]]
    assert evidence == [
        "PUMP-1 (#1 by baseline revenue) made 100.00 USD a day over the 7-day baseline and "
        "0.00 USD in the last 24 h; it is out of stock.",
        "PUMP-1 last sold at 2026-11-25 09:00 UTC, 30 h before the refresh, and has sold nothing "
        "since: it ran out as the drop began.",
    ]
    # Baseline 1080 / 7 = 154.2857 a day, current 25.00: the gap is 129.29, PUMP-1's 100.00.
    assert [(c["cause"], c["share"]) for c in incident["causes"]] == [
        ("Stockout of Fuel Pump", 0.7735),
        ("Other: checkout, payments, promotions or demand", 0.2265),
    ]
    assert incident["causes"][0]["reason"] == (
        "PUMP-1 ran out at 2026-11-25 09:00 UTC; its missing 100.00 USD is 77 % of the "
        "129.29 USD revenue gap."
    )


def test_a_stockout_behind_a_traffic_and_a_sales_drop_is_one_incident(
    engine: Engine, tmp_path: Path
) -> None:
    incident = _only(_incidents(engine, sales_folder(tmp_path / "rec", ga4=pump_page_report())))
    assert incident["kinds"] == ["sales_on_stockout", "traffic_on_stockout"]
    assert ("traffic_anomalies", "/products/fuel-pump", "threshold") in _kpis(incident)
    assert ("sales_delta", None, "threshold") in _kpis(incident)
    # Sales: 77 % of the gap; traffic: 8 of the 16 sessions lost fall after the stockout day.
    assert [(c["cause"], c["share"]) for c in incident["causes"]] == [
        ("Stockout of Fuel Pump", 0.7735),
        ("Acquisition change (campaigns, search ranking, referrers)", 0.5),
        ("Other: checkout, payments, promotions or demand", 0.2265),
    ]
    assert incident["entities"] == ["product:fuel-pump", "variant:gid://shopify/ProductVariant/81"]


def test_stale_data_raises_no_anomaly_and_so_no_incident(engine: Engine, tmp_path: Path) -> None:
    # The GA4 report ends 10 days ago: traffic is gated, the sold-out product links nothing.
    old = ga4_report(
        [
            (row["dimensionValues"][0]["value"], row["dimensionValues"][1]["value"], 1)
            for row in pump_page_report()["rows"]
        ][:3]
    )
    document = _incidents(engine, sales_folder(tmp_path / "rec", ga4=old))
    assert [i["kinds"] for i in document["incidents"]] == [["sales_on_stockout"]]


def test_no_incident_is_an_answer_and_the_cli_says_so(
    engine: Engine, db_url: str, tmp_path: Path, runner: CliRunner
) -> None:
    folder = traffic_folder(tmp_path / "rec")
    # Restocked: the same traffic drop has no stockout behind it.
    variants = (
        (folder / "shopify" / "variants.jsonl")
        .read_text()
        .replace('"inventoryQuantity": 0', '"inventoryQuantity": 40')
    )
    (folder / "shopify" / "variants.jsonl").write_text(variants)
    document = _incidents(engine, folder)
    assert document["incidents"] == [] and document["anomaliesConsidered"] > 0
    result = runner.invoke(app, ["incidents", "--db", db_url])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())  # as wide as the terminal: compare the words
    assert "0 incident(s) among" in shown
    assert "No incident: no anomaly of this refresh shares a cause across sources." in shown


def test_cli_prints_incidents_and_json(
    engine: Engine, db_url: str, tmp_path: Path, runner: CliRunner
) -> None:
    run_refresh(engine, Settings(), recorded_payloads(support_folder(tmp_path / "rec")), NOW)
    result = runner.invoke(app, ["incidents", "--json", "--db", db_url])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["shop"] == "test-shop.myshopify.com"
    assert document["now"] == NOW.isoformat()
    assert [i["kinds"] for i in document["incidents"]] == [["support_from_stuck_orders"]]
    result = runner.invoke(app, ["incidents", "--db", db_url])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())  # as wide as the terminal: compare the words
    assert "Customers waiting on 2 order(s) stuck in fulfillment" in shown
    assert "(inc-" in shown and "; support ← stuck orders; since " in shown
    assert "Likely cause: Orders stuck in fulfillment — 3 of 4 breached conversations" in shown
    assert "chatwoot → shopify by order Conversation 2" in shown


def test_every_incident_kind_has_one_label_for_the_cli_and_the_dashboard() -> None:
    """A new kind without a label would show its raw name in both."""
    assert set(INCIDENT_KIND_LABELS) == set(get_args(IncidentKind))


def test_cli_before_any_refresh_says_what_to_do(db_url: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["incidents", "--db", db_url])
    assert result.exit_code == 1
    assert result.output.strip().endswith("run `occ refresh` or `occ demo`")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("seed", [7, 11])
def test_the_demo_plants_one_incident_of_each_kind(
    db_url: str, runner: CliRunner, seed: int
) -> None:
    result = runner.invoke(
        app,
        [
            "demo",
            "--no-serve",
            "--seed",
            str(seed),
            "--now",
            "2026-11-26T15:00:00Z",
            "--db",
            db_url,
        ],
    )
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())
    assert shown.count("Incident ") == 3 and "Evidence and ranked causes: occ incidents" in shown
    document = json.loads(runner.invoke(app, ["incidents", "--json", "--db", db_url]).output)
    kinds = sorted(k for i in document["incidents"] for k in i["kinds"])
    assert kinds == ["sales_on_stockout", "support_from_stuck_orders", "traffic_on_stockout"]
    for incident in document["incidents"]:
        assert incident["causes"] and incident["links"] and incident["anomalies"]
        assert abs(sum(c["share"] for c in incident["causes"]) - 1) < 1e-3
    shown = " ".join(runner.invoke(app, ["incidents", "--db", db_url]).output.split())
    for label in ("support ← stuck orders", "traffic ← stockout", "sales ← stockout"):
        assert f"; {label}; since " in shown, label


def test_dashboard_card_and_api_show_the_incident(engine: Engine, tmp_path: Path) -> None:
    run_refresh(engine, Settings(), recorded_payloads(support_folder(tmp_path / "rec")), NOW)
    with dashboard(engine, tmp_path / "unused", refresh=False, clock=lambda: NOW) as dash:
        with dash.signed_in() as client:
            html = client.get("/").text
        with dash.api() as api:
            found = api.get("/api/v1/incidents")
    assert "Incidents across sources <small>(1)</small>" in html
    assert '<span class="tag">Support ← stuck orders</span>' in html
    assert "Customers waiting on 2 order(s) stuck in fulfillment" in html
    assert "Likely cause: Orders stuck in fulfillment" in html and "(75 % of the anomaly)" in html
    assert "chatwoot → shopify by order" in html and "asks about #2004" in html
    assert found.status_code == 200
    assert [i["kinds"] for i in found.json()["incidents"]] == [["support_from_stuck_orders"]]


def test_only_the_customers_own_messages_are_read_for_order_mentions() -> None:
    def said(number: int, kind: int, content: str, private: bool = False) -> MessageRecord:
        return MessageRecord(number, 1, kind, NOW, private, content=content)

    messages = (
        said(1, 0, "Where is #2001?"),
        said(2, 1, "It ships today, #2002"),
        said(3, 0, "see #2004", private=True),
        said(4, 2, "Conversation was reopened"),
        said(5, 0, "Still waiting on #2001"),
    )
    conversation = ConversationRecord(1, "open", (), "Ann", NOW, messages)
    assert customer_texts(conversation) == ["Where is #2001?", "Still waiting on #2001"]
