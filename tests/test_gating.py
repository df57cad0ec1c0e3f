"""Stale-data gating: a broken connector never reads as a business anomaly.

The hand-computed scenario store (tests/scenario.py) raises, among others, a traffic anomaly
(/a fell 50 % week over week) and a sales anomaly. Here its GA4 data is made 10 days old, or
its orders stream is made to break the contract for 2 records in 10+: those KPIs are recorded
with the reason and raise nothing, while the others are untouched.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from occ.config import Settings
from occ.refresh import run_refresh
from occ.sources.recorded import recorded_payloads
from scenario import scenario_folder, scenario_ga4, scenario_orders

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def _refresh(
    engine: Engine, folder: Path, settings: Settings | None = None, **override: Any
) -> Any:
    scenario_folder(folder, NOW, **override)
    return run_refresh(engine, settings or Settings(), recorded_payloads(folder), NOW)


def _facts(engine: Engine, like: str) -> list[Any]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT fact_type, value FROM dashboard_fact WHERE fact_type LIKE :t"),
            {"t": like},
        ).all()
    return [(t, v if isinstance(v, dict) else __import__("json").loads(v)) for t, v in rows]


def test_fresh_data_is_not_gated(engine: Engine, tmp_path: Path) -> None:
    report = _refresh(engine, tmp_path / "rec")
    assert {a.kpi for a in report.snapshot.anomalies} >= {"traffic_anomalies", "sales_delta"}
    assert not any("gate" in value for _, value in _facts(engine, "%.%.%"))


def test_a_source_that_stopped_syncing_gates_its_kpis(engine: Engine, tmp_path: Path) -> None:
    old = scenario_ga4((NOW - timedelta(days=10)).date())
    report = _refresh(engine, tmp_path / "rec", ga4=old)
    kpis = {a.kpi for a in report.snapshot.anomalies}
    assert "traffic_anomalies" not in kpis and "sales_delta" in kpis
    [(_, traffic)] = _facts(engine, "ga.sessions.anomalies")
    assert traffic["status"] == "ok" and traffic["gate"]["stale"] is True
    reason = traffic["gate"]["reason"]
    assert "newest GA4 record (ga4.landing_pages) is 10.6 days old" in reason
    assert "more than the 96 h expected" in reason
    assert not _facts(engine, "anomaly.traffic_anomalies")


def test_contract_violations_above_the_rate_gate_the_streams_kpis(
    engine: Engine, tmp_path: Path
) -> None:
    orders = scenario_orders(NOW) + ['{"id": "gid://shopify/Order/9001"}', "{not json"]
    report = _refresh(engine, tmp_path / "rec", orders=orders)
    assert report.quarantined == 2
    gated = {fact_type for fact_type, value in _facts(engine, "shopify.%") if value.get("gate")}
    assert gated == {
        "shopify.sales.summary",
        "shopify.inventory.coverage",
        "shopify.fulfillment.issues",
        "shopify.traffic.unsellable",  # needs the orders too
    }
    kpis = {a.kpi for a in report.snapshot.anomalies}
    assert not kpis & {"sales_delta", "inventory_cover", "fulfillment_issue_rate"}
    assert "traffic_anomalies" in kpis
    [(_, sales)] = _facts(engine, "shopify.sales.summary")
    assert "records of this refresh broke the data contract (above 5 %)" in sales["gate"]["reason"]
    # A looser rate lets the same refresh through.
    loose = Settings(stale_violation_rate=0.5)
    again = _refresh(engine, tmp_path / "rec2", settings=loose, orders=orders)
    assert "sales_delta" in {a.kpi for a in again.snapshot.anomalies}


def test_the_dashboard_shows_a_gated_tile_as_stale(engine: Engine, tmp_path: Path) -> None:
    from web_fixtures import dashboard

    old = scenario_ga4((NOW - timedelta(days=10)).date())
    with dashboard(engine, tmp_path / "rec", ga4=old) as dash, dash.signed_in() as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "Stale data" in page.text
        assert "Stale data, no anomaly raised: the newest GA4 record" in page.text
        document = dash.api().get("/api/v1/tiles").json()
        tiles = document["tiles"] if isinstance(document, dict) else document
        traffic = next(t for t in tiles if t["kpi"] == "traffic_anomalies")
        assert traffic["status"] == "stale" and traffic["anomalies"] == []
        assert traffic["gate"]["stale"] is True
