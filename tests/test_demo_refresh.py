"""The demo store through the real refresh: forecasts for every KPI series, band anomalies."""

from __future__ import annotations

from sqlalchemy import Engine, select

from conftest import NOW
from occ.config import Settings
from occ.refresh import run_refresh
from occ.sources.demo import demo_payloads
from occ.store.tables import DashboardFact


def test_refresh_forecasts_every_kpi_series_and_flags_values_outside_the_band(
    engine: Engine,
) -> None:
    report = run_refresh(engine, Settings(), demo_payloads(7, NOW), NOW)
    assert report.quarantined == 0
    with engine.connect() as connection:
        facts = connection.execute(
            select(DashboardFact.fact_type, DashboardFact.value).where(
                DashboardFact.fact_type.like("forecast.%")
            )
        ).all()
    kinds = {fact_type for fact_type, _ in facts}
    assert kinds == {
        "forecast.sales",
        "forecast.breach-rate",
        "forecast.sessions",
        "forecast.units",
    }
    sales = next(value for fact_type, value in facts if fact_type == "forecast.sales")
    assert sales["points"][0]["date"] == "2026-11-26"  # the shop's local day (America/Chicago)
    assert sales["assumptions"]
    bands = [a for a in report.snapshot.anomalies if a.kind == "forecast_band"]
    # the demo's sales drop falls below the band of a forecast made from the days before it
    assert any(a.kpi == "sales_delta" and a.value < (a.lower or 0) for a in bands)
    thresholds = {a.kpi for a in report.snapshot.anomalies if a.kind == "threshold"}
    assert thresholds == {
        "sales_delta",
        "sla_breach_rate",
        "traffic_anomalies",
        "inventory_cover",
        "fulfillment_issue_rate",
        "unsellable_traffic",
    }
