"""The dashboard's view of the newest refresh: six tiles, their anomalies, forecasts, actions.

A refresh's facts never change, so what is built from them is cached per refresh run
(:class:`DashboardCache`): a page view costs one query for the newest run id and one for the
decided actions, whatever the size of the store. Freshness (``stale``) is computed per view.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup
from pydantic_core import to_json
from sqlalchemy import Connection, select

from occ.contracts.kpis import TILE_TITLES
from occ.decisions.actions import (
    DecisionMark,
    SuggestedAction,
    decision_mark,
    decision_watermark,
    suggested_actions,
)
from occ.decisions.templates import template_for
from occ.refresh.compute import KPI_FACTS, KPI_SCOPES
from occ.store.facts import FactRow, facts_by_id
from occ.store.tables import RefreshRun, Shop
from occ.web.charts import BandPoint, sparkline

__all__ = ["KPI_ORDER", "TILE_TITLES", "DashboardCache", "RunView", "TileView", "build_run_view"]

KPI_ORDER = tuple(KPI_FACTS)
SOURCES = {
    "sales_delta": "shopify",
    "sla_breach_rate": "chatwoot",
    "traffic_anomalies": "ga4",
    "inventory_cover": "shopify",
    "fulfillment_issue_rate": "shopify",
    "unsellable_traffic": "shopify + ga4",
}
_FORECAST_OF = {
    "sales_delta": "forecast.sales",
    "sla_breach_rate": "forecast.breach-rate",
    "traffic_anomalies": "forecast.sessions",
    "inventory_cover": "forecast.units",
}
_TILE_ROWS = 8
"""Rows a tile shows on the overview; its detail page lists them all."""
_AGE_BUCKETS = ((24.0, 48.0, "24–48 h"), (48.0, 72.0, "48–72 h"), (72.0, float("inf"), "72 h +"))


@dataclass
class TileView:
    kpi: str
    title: str
    scope: str
    source: str
    status: str  # ok | unconfigured
    severity: str
    headline: str
    fact: FactRow | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    forecasts: list[FactRow] = field(default_factory=list)
    anomalies: list[FactRow] = field(default_factory=list)

    @property
    def summary_rows(self) -> list[dict[str, Any]]:
        return self.rows[:_TILE_ROWS]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kpi": self.kpi,
            "title": self.title,
            "scope": self.scope,
            "source": self.source,
            "status": self.status,
            "severity": self.severity,
            "headline": self.headline,
            "factId": self.fact.id if self.fact else None,
            "rows": self.summary_rows,
            "rowCount": len(self.rows),
            **{k: v for k, v in self.extra.items() if not k.startswith("_")},
            "anomalies": [a.value for a in self.anomalies],
        }


_RECHECK_S = 1.0
"""How long the newest run id and the decision watermark, once read, are trusted."""
_CLAIM_S = 2.0
"""How long the others wait for the one request that re-checks them before one more tries."""
_STALE_S = 5.0
"""The oldest they are served meanwhile; past it every request asks the store."""


@dataclass
class RunView:
    run_id: int
    shop: str
    currency: str
    as_of: datetime
    fetched_at: datetime
    source_kind: str
    source_name: str
    tiles: dict[str, TileView]
    actions: list[SuggestedAction]
    facts: dict[int, FactRow]
    incidents: list[dict[str, Any]] = field(default_factory=list)
    action_counts: Counter[str] = field(default_factory=Counter)
    actions_by_id: dict[str, SuggestedAction] = field(default_factory=dict)
    actions_by_subject: dict[str, list[SuggestedAction]] = field(default_factory=dict)
    _tiles_json: bytes | None = None

    def __post_init__(self) -> None:
        self.action_counts = Counter(a.kpi for a in self.actions)
        self.actions_by_id = {a.id: a for a in self.actions}
        for action in self.actions:
            self.actions_by_subject.setdefault(action.subject, []).append(action)

    def tiles_json(self) -> bytes:
        """The tile summaries as JSON, encoded once per run (they never change)."""
        if self._tiles_json is None:
            self._tiles_json = to_json([self.tiles[k].as_dict() for k in KPI_ORDER])
        return self._tiles_json

    def freshness(self, now: datetime, interval: timedelta) -> dict[str, Any]:
        age = now - self.fetched_at
        return {
            "fetchedAt": self.fetched_at.isoformat(),
            "asOf": self.as_of.isoformat(),
            "source": self.source_kind,
            "ageMinutes": max(age.total_seconds() / 60, 0),
            "stale": age > interval,
        }


def _money(value: Any) -> str:
    return f"{float(value):,.2f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f} %"


def _band(forecast: FactRow | None) -> tuple[list[float], list[BandPoint], float | None]:
    if forecast is None:
        return [], [], None
    value = forecast.value
    history = [float(point["value"]) for point in value.get("history", [])]
    band = [BandPoint(p["value"], p.get("lower"), p.get("upper")) for p in value.get("points", [])]
    observed = value.get("observed")
    return history, band, None if observed is None else float(observed)


def _sales(tile: TileView, result: dict[str, Any], currency: str) -> None:
    delta = result.get("delta_pct")
    tile.headline = (
        f"{_money(result['current'])} {currency} in the last 24 h vs "
        f"{_money(result['baseline'])} baseline ({_pct(delta)})"
    )
    tile.extra = {
        "current": str(result["current"]),
        "baseline": str(result["baseline"]),
        "deltaPct": delta,
        "currency": currency,
        "orderCount": result["order_count"],
        "reason": result.get("reason"),
        "pendingFulfillment": len(result.get("pending_fulfillment", [])),
        "topSkus": result.get("top_skus", []),
    }
    tile.rows = [
        {
            "order": item["name"],
            "status": item["status"],
            "createdAt": item["created_at"],
            "orderId": item["order_id"],
        }
        for item in result.get("pending_fulfillment", [])
    ]


def _cx(tile: TileView, result: dict[str, Any]) -> None:
    tile.headline = (
        f"{result['value']:.1f} % of {result['population']} open or pending conversations "
        f"past their reply SLA"
    )
    tile.extra = {"value": result["value"], "population": result["population"]}
    tile.rows = [
        {
            "conversationId": item["conversation_id"],
            "customer": item["customer_name"],
            "minutesWaiting": item["minutes_waiting"],
            "labels": item.get("labels", []),
            "slaMinutes": item["sla_minutes"],
            "template": template_for(item.get("labels", [])).title,
        }
        for item in result.get("breached", [])
    ]


def _seo(tile: TileView, result: dict[str, Any]) -> None:
    losing = [
        page
        for page in result.get("pages", [])
        if (page.get("wow_delta") or 0) < 0 and not page.get("below_noise_floor")
    ]
    flagged = sum(1 for page in losing if page["severity"] != "none")
    tile.headline = (
        f"{flagged} landing page(s) past a traffic threshold; {len(losing)} losing sessions "
        f"week over week ({result['current_start']} – {result['current_end']})"
    )
    tile.extra = {"window": [result["current_start"], result["current_end"]]}
    tile.rows = [
        {
            "landingPage": page["landing_page"],
            "current": page["current"],
            "previous": page["previous"],
            "wowDelta": page["wow_delta"],
            "severity": page["severity"],
        }
        for page in losing
    ]


def _inventory(tile: TileView, result: dict[str, Any]) -> None:
    variants = result.get("variants", [])
    counts = Counter(v["severity"] for v in variants)
    tile.headline = (
        f"{counts['critical']} variant(s) critical, {counts['warning']} warning, "
        f"of {len(variants)} tracked"
    )
    tile.extra = {
        "critical": counts["critical"],
        "warning": counts["warning"],
        "excludedUntracked": result.get("excluded_untracked", 0),
        "excludedContinue": result.get("excluded_continue", 0),
    }
    tile.rows = [
        {
            "variantId": v["variant_id"],
            "sku": v.get("sku"),
            "title": v.get("title"),
            "inventory": v["inventory_quantity"],
            "velocity": v["velocity"],
            "daysOfCover": v["days_of_cover"],
            "severity": v["severity"],
            "slowMover": v.get("slow_mover", False),
            "reorderQuantity": v["reorder_quantity"],
        }
        for v in variants
    ]


def _fulfillment(tile: TileView, result: dict[str, Any]) -> None:
    issues = result.get("issues", [])
    tile.headline = (
        f"{result['value']:.1f} % of {result['population']} orders of the window not "
        f"fulfilled in time"
    )
    tile.extra = {
        "value": result["value"],
        "population": result["population"],
        "byAge": [
            {"bucket": label, "orders": sum(1 for i in issues if low <= i["age_hours"] < high)}
            for low, high, label in _AGE_BUCKETS
        ],
        "unknownStatuses": result.get("unknown_statuses", []),
    }
    tile.rows = [
        {
            "order": i["name"],
            "orderId": i["order_id"],
            "status": i["status"],
            "ageHours": i["age_hours"],
        }
        for i in issues
    ]


def _unsellable(tile: TileView, result: dict[str, Any]) -> None:
    pages = result.get("pages", [])
    currency = result["currency"]
    window = f"{result['current_start']} – {result['current_end']}"
    if pages:
        tile.headline = (
            f"{len(pages)} product page(s) you cannot sell took {result['sessions']:,} "
            f"sessions ({window}): {_money(result['revenue_at_risk'])} {currency} of revenue "
            "at risk"
        )
    else:
        tile.headline = (
            f"No product page with traffic is out of stock or at ≤ "
            f"{result['cover_critical_days']:g} days of cover ({result['product_pages']} "
            f"product page(s) with sessions checked, {window})"
        )
    tile.extra = {
        "sessions": result["sessions"],
        "revenueAtRisk": str(result["revenue_at_risk"]),
        "currency": currency,
        "windowRevenue": result.get("window_revenue"),
        "window": [result["current_start"], result["current_end"]],
        "lookback": [result.get("lookback_start"), result["lookback_end"]],
        "coverCriticalDays": result["cover_critical_days"],
        "productPages": result["product_pages"],
        "excludedSellable": result["excluded_sellable"],
        "unknownProducts": result["unknown_products"],
        "storeConversionRate": result.get("store_conversion_rate"),
        "storeAverageOrderValue": result.get("store_average_order_value"),
        "assumptions": result.get("assumptions", []),
    }
    tile.rows = [
        {
            "landingPage": page["landing_page"],
            "product": page["product_title"],
            "state": page["state"],
            "sessions": page["sessions"],
            "variants": [
                {
                    "variantId": v["variant_id"],
                    "sku": v.get("sku"),
                    "title": v.get("title"),
                    "inventory": v["inventory_quantity"],
                    "daysOfCover": v.get("days_of_cover"),
                    "state": v["state"],
                }
                for v in page.get("variants", [])
            ],
            "basis": page["basis"],
            "conversionRate": page.get("conversion_rate"),
            "averageOrderValue": page.get("average_order_value"),
            "revenueAtRisk": page.get("revenue_at_risk"),
            "shareOfRevenuePct": page.get("share_of_revenue_pct"),
            "severity": page["severity"],
            "assumption": page["assumption"],
        }
        for page in pages
    ]


def _tile(
    kpi: str,
    fact: FactRow | None,
    forecasts: list[FactRow],
    anomalies: list[FactRow],
    currency: str,
) -> TileView:
    tile = TileView(
        kpi=kpi,
        title=TILE_TITLES[kpi],
        scope=KPI_SCOPES[kpi],
        source=SOURCES[kpi],
        status="unconfigured",
        severity="none",
        headline=f"{SOURCES[kpi]} is not configured: no data for this tile",
        fact=fact,
        forecasts=forecasts,
        anomalies=anomalies,
    )
    if fact is None or fact.value.get("status") != "ok":
        return tile
    result = fact.value["result"]
    tile.status = "ok"
    tile.severity = str(result.get("severity", "none"))
    gate = fact.value.get("gate")
    if isinstance(gate, dict):
        # Stale data (occ.refresh.gating): no severity, no anomaly, and the reason shown.
        tile.status, tile.severity = "stale", "none"
        tile.headline = f"Stale data, no anomaly raised: {gate.get('reason')}"
        tile.extra["gate"] = gate
        return tile
    {
        "sales_delta": lambda: _sales(tile, result, currency),
        "sla_breach_rate": lambda: _cx(tile, result),
        "traffic_anomalies": lambda: _seo(tile, result),
        "inventory_cover": lambda: _inventory(tile, result),
        "fulfillment_issue_rate": lambda: _fulfillment(tile, result),
        "unsellable_traffic": lambda: _unsellable(tile, result),
    }[kpi]()
    main = next((f for f in forecasts if f.value.get("key") is None), None) or (
        forecasts[0] if forecasts else None
    )
    history, band, observed = _band(main)
    if main is not None:
        key = main.value.get("key")
        label = next((r.get("sku") for r in tile.rows if r.get("variantId") == key), None) or key
        what = TILE_TITLES[kpi] + (f" {label}" if label else "")
        tile.extra["_sparkline"] = sparkline(
            history,
            band,
            observed,
            f"{what}: last {len(history)} days and forecast band",
            ident=f"spark-{kpi}",
        )
        tile.extra["_sparklineKey"] = label
    return tile


def build_run_view(connection: Connection, run: dict[str, Any]) -> RunView:
    """Everything the dashboard shows of one finished refresh run."""
    report = run["report"] or {}
    fact_ids: dict[str, int] = report.get("factIds", {})
    anomaly_ids: list[int] = report.get("anomalyFactIds", [])
    forecast_ids: list[int] = report.get("forecastFactIds", [])
    incidents_id: int | None = report.get("incidentsFactId")
    extra = [incidents_id] if incidents_id else []
    facts = facts_by_id(connection, [*fact_ids.values(), *anomaly_ids, *forecast_ids, *extra])
    currency = (
        connection.execute(
            select(Shop.currency_code).where(Shop.shop_domain == run["shop_domain"])
        ).scalar()
        or ""
    )
    anomalies = [facts[i] for i in anomaly_ids if i in facts]
    forecasts = [facts[i] for i in forecast_ids if i in facts]
    tiles = {}
    for kpi in KPI_ORDER:
        fact = facts.get(fact_ids.get(kpi, -1))
        wanted = _FORECAST_OF.get(kpi)
        tiles[kpi] = _tile(
            kpi,
            fact,
            [f for f in forecasts if f.fact_type == wanted],
            [a for a in anomalies if a.value.get("kpi") == kpi],
            currency,
        )
    kpi_facts = {f.id: f for f in facts.values() if f.id in fact_ids.values()}
    source = report.get("source") or {}
    return RunView(
        run_id=run["id"],
        shop=run["shop_domain"],
        currency=currency,
        as_of=run["as_of"],
        fetched_at=run["finished_at"],
        source_kind=str(source.get("kind", run["source"])),
        source_name=str(source.get("name", run["source"])),
        tiles=tiles,
        actions=suggested_actions(anomalies, kpi_facts),
        facts=facts,
        incidents=list(facts[incidents_id].value.get("incidents", []))
        if incidents_id in facts
        else [],
    )


class DashboardCache:
    """The :class:`RunView` of the newest run, rebuilt only when a newer run finishes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._view: RunView | None = None
        self._marks: tuple[tuple[int, int, datetime | None], DecisionMark] | None = None
        self._view_checked = float("-inf")
        self._marks_checked = float("-inf")
        self._view_claimed = float("-inf")
        self._marks_claimed = float("-inf")
        self._fragment: tuple[tuple[Any, ...], Markup] | None = None

    def recent(self) -> RunView | None:
        """The view when its run was confirmed the newest less than a second ago, else None."""
        if time.monotonic() - self._view_checked < _RECHECK_S:
            return self._view
        return None

    def recent_mark(self, view: RunView) -> DecisionMark | None:
        marks = self._marks
        if (
            marks is not None
            and marks[0][0] == view.run_id
            and time.monotonic() - self._marks_checked < _RECHECK_S
        ):
            return marks[1]
        return None

    def servable(self) -> RunView | None:
        """``recent()``, or the view a little older while one request re-checks it (the first
        to find it expired gets None and re-checks: the others do not all ask the store)."""
        now = time.monotonic()
        if now - self._view_checked < _RECHECK_S:
            return self._view
        if now - self._view_claimed < _CLAIM_S and now - self._view_checked < _STALE_S:
            return self._view
        self._view_claimed = now
        return None

    def servable_mark(self, view: RunView) -> DecisionMark | None:
        """``recent_mark()``, likewise served a little longer while one request re-checks."""
        marks = self._marks
        if marks is None or marks[0][0] != view.run_id:
            return None
        now = time.monotonic()
        if now - self._marks_checked < _RECHECK_S:
            return marks[1]
        if now - self._marks_claimed < _CLAIM_S and now - self._marks_checked < _STALE_S:
            return marks[1]
        self._marks_claimed = now
        return None

    def fragment(self, key: tuple[Any, ...], render: Callable[[], Markup]) -> Markup:
        """A rendered page part, kept while ``key`` stays the same (one at a time)."""
        cached = self._fragment
        if cached is not None and cached[0] == key:
            return cached[1]
        html = render()
        self._fragment = (key, html)
        return html

    def invalidate(self) -> None:
        """Re-read the newest run and the decisions on the next view (after a decision)."""
        self._view_checked = self._marks_checked = float("-inf")
        self._view_claimed = self._marks_claimed = float("-inf")

    def decisions(self, connection: Connection, view: RunView) -> DecisionMark:
        """The decisions on ``view``'s actions, re-read only when a decision was added."""
        count, newest = decision_watermark(connection)
        key = (view.run_id, count, newest)
        cached = self._marks
        if cached is not None and cached[0] == key:
            self._marks_checked = time.monotonic()
            self._marks_claimed = float("-inf")
            return cached[1]
        mark = decision_mark(connection, view.actions, count)
        self._marks = (key, mark)
        self._marks_checked = time.monotonic()
        self._marks_claimed = float("-inf")
        return mark

    def current(self, connection: Connection) -> RunView | None:
        newest = connection.execute(
            select(RefreshRun.id)
            .where(RefreshRun.finished_at.is_not(None))
            .order_by(RefreshRun.id.desc())
            .limit(1)
        ).scalar()
        if newest is None:
            return None
        view = self._view
        if view is not None and view.run_id == newest:
            self._view_checked = time.monotonic()
            self._view_claimed = float("-inf")
            return view
        with self._lock:
            if self._view is not None and self._view.run_id == newest:
                return self._view
            run = (
                connection.execute(select(RefreshRun.__table__).where(RefreshRun.id == newest))
                .mappings()
                .first()
            )
            if run is None:
                return None
            self._view = build_run_view(connection, dict(run))
            self._view_checked = time.monotonic()
            self._view_claimed = float("-inf")
            return self._view
