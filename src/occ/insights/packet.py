"""The weekly insight packet as one JSON-ready document: every number the packet shows.

``build_packet`` reads the store for one ``WeekWindow``; the sync section (the sync-log
analyzer's summary of the week's sync events) and the latest parity result are computed by
the caller (they belong to ``occ.ops``) and passed in, or None when there are none. No
wall-clock time goes in: the same database and week give the same document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from occ.contracts.forecast import ForecastConfig
from occ.contracts.kpis import InventoryResult, KpiConfig
from occ.contracts.records import VariantRecord
from occ.insights.narrative import headline, watchpoints
from occ.insights.outcomes import outcome_review
from occ.insights.pipeline import pipeline_health
from occ.insights.review import anomaly_review
from occ.insights.trends import kpi_trends
from occ.insights.window import WeekWindow
from occ.metrics.inventory import inventory_cover_from_units
from occ.store import records as store
from occ.store.records import ShopInfo

__all__ = ["PACKET_VERSION", "SyncTargets", "build_packet", "sync_section"]

PACKET_VERSION = 2  # 2: the outcomes section


@dataclass(frozen=True, slots=True)
class SyncTargets:
    """What the sync is held to (``sync_failure_rate_alert``, ``sync_p95_ms_alert``)."""

    failure_rate: float = 0.05
    p95_ms: float = 1000.0


def _inventory_at_week_end(
    connection: Connection,
    shop: ShopInfo,
    variants: list[VariantRecord],
    until: datetime,
    config: KpiConfig,
) -> InventoryResult | None:
    """Days of cover at ``until``: today's stock against the velocity up to then."""
    if not variants:
        return None
    since = until - timedelta(days=config.inventory.velocity_days)
    units = store.load_units_sold(connection, shop.domain, since, until)
    return inventory_cover_from_units(variants, units, config.inventory)


def sync_section(
    summary: dict[str, Any] | None,
    parity: dict[str, Any] | None,
    window: WeekWindow,
    targets: SyncTargets,
) -> dict[str, Any]:
    """The decision-sync section from the analyzer's summary of the week's sync events."""
    section: dict[str, Any] = {
        "window": window.as_dict(),
        "sources": ["sync events of the week (occ analyze sync-log)", "latest parity fact"],
        "failureRateTarget": targets.failure_rate,
        "p95CeilingMs": targets.p95_ms,
        "parity": parity
        if parity is not None
        else {"status": "missing", "reason": "no parity check recorded by the week's end"},
    }
    if summary is None:
        return section | {"status": "missing", "reason": "no sync events recorded in the week"}
    totals, durations = summary["totals"], summary["durationsMs"]
    rate = totals["failureRate"]
    return section | {
        "status": "ok",
        "records": totals["records"],
        "totals": totals,
        "failureRateOk": None if rate is None else rate <= targets.failure_rate,
        "durationsMs": durations,
        "p95Ok": None if durations["p95"] is None else durations["p95"] <= targets.p95_ms,
        "retries": summary["retries"],
        "errors": summary["errors"]["byCode"],
        "hourlyBuckets": summary["hourlyBuckets"],
        "scopeBreakdown": summary["scopeBreakdown"],
        "alerts": summary["alerts"],
    }


def build_packet(
    connection: Connection,
    shop: ShopInfo,
    window: WeekWindow,
    kpis: KpiConfig,
    forecast: ForecastConfig,
    *,
    sync_summary: dict[str, Any] | None,
    parity: dict[str, Any] | None,
    sync_targets: SyncTargets | None = None,
    data_until: datetime | None = None,
    step: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every section of the packet for ``window``.

    ``data_until`` is the newest refresh instant recorded (an aware datetime) when it falls
    inside the week: the week is then still running and says so.
    """
    say = step or (lambda _: None)
    week = window.as_dict()
    last_complete = None
    if data_until is not None and window.opens < data_until < window.closes:
        last_complete = next(
            day
            for day in reversed([window.start - timedelta(days=1), *window.days])
            if window.midnight(day + timedelta(days=1)) <= data_until
        )
        week["incomplete"] = (
            "the week is not over: data up to "
            f"{data_until.isoformat().replace('+00:00', 'Z')}; days after {last_complete} are "
            "partial and left out of the totals, the band checks and the headline"
        )
    say("KPI trends")
    variants = store.load_variants(connection, shop.domain)
    trends, moves = kpi_trends(
        connection, shop, window, kpis, forecast, last_complete, has_variants=bool(variants)
    )
    say("anomalies and decisions")
    anomalies = anomaly_review(connection, shop.domain, window)
    say("outcomes of approved actions")
    outcomes = outcome_review(connection, shop.domain, window)
    say("pipeline health")
    pipeline = pipeline_health(connection, shop.domain, window)
    say("watchpoints")
    until = data_until if data_until is not None and last_complete is not None else window.closes
    inventory = _inventory_at_week_end(connection, shop, variants, until, kpis)
    return {
        "packet": "occ.weekly-insight",
        "version": PACKET_VERSION,
        "shop": {"domain": shop.domain, "currency": shop.currency, "timezone": shop.timezone},
        "week": week,
        "headline": headline(trends, moves, kpis, shop.currency),
        "trends": trends,
        "topPages": [
            {
                "landingPage": m.landing_page,
                "current": m.current,
                "previous": m.previous,
                "delta": None if m.delta is None else round(m.delta, 4),
            }
            for m in moves[:10]
        ],
        "anomalies": anomalies,
        "outcomes": outcomes,
        "sync": sync_section(sync_summary, parity, window, sync_targets or SyncTargets()),
        "pipeline": pipeline,
        "watchpoints": {
            "window": {"from": window.ending.isoformat(), "days": 7},
            "items": watchpoints(trends, inventory, pipeline, kpis, forecast),
        },
    }
