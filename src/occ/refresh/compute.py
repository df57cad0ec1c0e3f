"""From the store to facts: the six KPIs, their forecasts and the anomalies they raise."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import Connection

from occ.anomalies import (
    FORECAST_METRICS,
    InsufficientHistory,
    band_anomaly,
    detect_anomalies,
    forecast_series,
)
from occ.contracts.anomalies import Anomaly
from occ.contracts.chatwoot import OPEN_STATUSES
from occ.contracts.forecast import ForecastConfig, ForecastResult
from occ.contracts.incidents import Incident
from occ.contracts.kpis import (
    FulfillmentResult,
    InventoryResult,
    KpiConfig,
    SalesResult,
    SlaResult,
    TrafficResult,
    UnsellableResult,
)
from occ.contracts.records import LandingPageDay, VariantRecord
from occ.metrics import (
    compute_fulfillment_issues,
    compute_sales_delta,
    compute_sla_breaches,
    compute_traffic_anomalies,
)
from occ.metrics.inventory import inventory_cover_from_units
from occ.metrics.series import daily_breach_rate, daily_revenue, daily_sessions, daily_units
from occ.metrics.unsellable import estimate_revenue_at_risk, find_unsellable_pages
from occ.refresh.incidents import record_incidents
from occ.store import records as store
from occ.store.facts import write_fact
from occ.store.records import ShopInfo

__all__ = [
    "KPI_CONFIG_KEYS",
    "KPI_FACTS",
    "KPI_SCOPES",
    "KPI_STREAMS",
    "KpiSnapshot",
    "compute_and_record",
]

KPI_FACTS = {
    "sales_delta": "shopify.sales.summary",
    "sla_breach_rate": "chatwoot.sla.breaches",
    "traffic_anomalies": "ga.sessions.anomalies",
    "inventory_cover": "shopify.inventory.coverage",
    "fulfillment_issue_rate": "shopify.fulfillment.issues",
    "unsellable_traffic": "shopify.traffic.unsellable",
}
KPI_SCOPES = {
    "sales_delta": "sales",
    "sla_breach_rate": "cx",
    "traffic_anomalies": "seo",
    "inventory_cover": "inventory",
    "fulfillment_issue_rate": "fulfillment",
    "unsellable_traffic": "inventory",
}
# The streams a KPI needs: when one was not recorded / configured, the tile is "unconfigured".
KPI_STREAMS = {
    "sales_delta": ("shopify.orders",),
    "sla_breach_rate": ("chatwoot.conversations", "chatwoot.messages"),
    "traffic_anomalies": ("ga4.landing_pages",),
    "inventory_cover": ("shopify.variants", "shopify.orders"),
    "fulfillment_issue_rate": ("shopify.orders",),
    "unsellable_traffic": ("shopify.variants", "shopify.orders", "ga4.landing_pages"),
}
KPI_CONFIG_KEYS = {
    "sales_delta": "sales",
    "sla_breach_rate": "sla",
    "traffic_anomalies": "traffic",
    "inventory_cover": "inventory",
    "fulfillment_issue_rate": "fulfillment",
    "unsellable_traffic": "unsellable",
}
_PAGE_FORECASTS = 10
_VARIANT_FORECASTS = 20
_Model = TypeVar("_Model", bound=BaseModel)


@dataclass
class KpiSnapshot:
    """What one refresh computed, and the ids of the facts it wrote."""

    results: dict[str, BaseModel | None] = field(default_factory=dict)
    anomalies: list[Anomaly] = field(default_factory=list)
    forecasts: list[ForecastResult] = field(default_factory=list)
    fact_ids: dict[str, int] = field(default_factory=dict)
    anomaly_fact_ids: list[int] = field(default_factory=list)
    forecast_fact_ids: list[int] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    incidents_fact_id: int | None = None


def _local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def _compute(
    connection: Connection,
    shop: ShopInfo,
    now: datetime,
    config: KpiConfig,
    configured: set[str],
) -> tuple[dict[str, BaseModel | None], dict[str, dict[str, Any]]]:
    """The configured KPIs from the store's windows, with the inputs each fact records.

    The collector is paused for the whole computation: it builds hundreds of thousands of
    long-lived, acyclic records and result models, and each automatic collection would rescan
    all of them (on a big store, more time than the reads and the metrics together).
    """

    def read_and_compute() -> tuple[dict[str, BaseModel | None], dict[str, dict[str, Any]]]:
        results: dict[str, BaseModel | None] = dict.fromkeys(KPI_FACTS)
        inputs: dict[str, dict[str, Any]] = {}
        # Sales and fulfillment read whole orders over their windows; inventory only needs the
        # units sold per variant over its longer velocity window (see below).
        since = now - timedelta(
            days=max(
                config.sales.baseline_days + 1,
                config.fulfillment.window_days,
                config.sales.pending_window_days,
            )
        )
        orders = (
            store.load_orders(connection, shop.domain, since, now)
            if configured & {"sales_delta", "fulfillment_issue_rate", "inventory_cover"}
            else []
        )
        window = {"ordersRead": len(orders), "ordersSince": since}
        if "sales_delta" in configured:
            results["sales_delta"] = compute_sales_delta(orders, now, config.sales, shop.currency)
            inputs["sales_delta"] = {**window, "currentWindow": [now - timedelta(hours=24), now]}
        if "fulfillment_issue_rate" in configured:
            results["fulfillment_issue_rate"] = compute_fulfillment_issues(
                orders, now, config.fulfillment
            )
            inputs["fulfillment_issue_rate"] = window
        variants = (
            store.load_variants(connection, shop.domain)
            if configured & {"inventory_cover", "unsellable_traffic"}
            else []
        )
        if "inventory_cover" in configured:
            # Units sold in the velocity window: summed by the database where it is older
            # than the orders already read, and from those orders' line items for the rest.
            velocity_since = now - timedelta(days=config.inventory.velocity_days)
            older_until = max(velocity_since, since)
            units = (
                store.load_units_sold(connection, shop.domain, velocity_since, older_until)
                if older_until > velocity_since
                else []
            )
            units += [
                (item.variant_id, item.sku, item.quantity)
                for order in orders
                if order.created_at > velocity_since and order.countable
                for item in order.line_items
            ]
            results["inventory_cover"] = inventory_cover_from_units(
                variants, units, config.inventory
            )
            inputs["inventory_cover"] = {
                "ordersSince": velocity_since,
                "unitsSoldRows": len(units),
                "variantsRead": len(variants),
            }
        if "sla_breach_rate" in configured:
            conversations = store.load_conversations(connection, shop.domain, OPEN_STATUSES)
            results["sla_breach_rate"] = compute_sla_breaches(conversations, now, config.sla)
            inputs["sla_breach_rate"] = {"openOrPendingRead": len(conversations)}
        today = _local_today(now, shop.timezone)
        page_days = _page_days(connection, shop, today, config, configured)
        if "traffic_anomalies" in configured:
            results["traffic_anomalies"] = compute_traffic_anomalies(
                page_days, today, config.traffic
            )
            inputs["traffic_anomalies"] = {"today": today, "pageDaysRead": len(page_days)}
        if "unsellable_traffic" in configured:
            results["unsellable_traffic"], inputs["unsellable_traffic"] = _unsellable(
                connection, shop, today, config, page_days, variants, results["inventory_cover"]
            )
        return results, inputs

    # Paused until the records read are freed: re-enabling the collector with them alive
    # would have its first collection scan them all once more.
    with store.paused_collector():
        return read_and_compute()


def _page_days(
    connection: Connection, shop: ShopInfo, today: date, config: KpiConfig, configured: set[str]
) -> list[LandingPageDay]:
    """The GA4 days the traffic and unsellable-traffic KPIs need, read once for both."""
    spans = []
    if "traffic_anomalies" in configured:
        spans.append(2 * config.traffic.window_days)
    if "unsellable_traffic" in configured:
        spans.append(config.unsellable.window_days + config.unsellable.lookback_days)
    if not spans:
        return []
    return store.load_landing_page_days(
        connection, shop.domain, today - timedelta(days=max(spans)), today
    )


def _unsellable(
    connection: Connection,
    shop: ShopInfo,
    today: date,
    config: KpiConfig,
    page_days: list[LandingPageDay],
    variants: list[VariantRecord],
    inventory: BaseModel | None,
) -> tuple[UnsellableResult, dict[str, Any]]:
    """Unsellable traffic: the pages first, then the orders of only their products' lines.

    Its streams include the inventory KPI's, so the cover it builds on was computed above.
    """
    if not isinstance(inventory, InventoryResult):
        raise TypeError("unsellable_traffic needs the inventory KPI of the same refresh")
    critical = config.inventory.thresholds.critical
    scan = find_unsellable_pages(page_days, today, variants, inventory, config.unsellable, critical)
    since, until = scan.orders_window(shop.timezone)
    orders = (
        store.load_orders(
            connection, shop.domain, since, until, lines_of=(scan.variant_ids, scan.skus)
        )
        if scan.candidates
        else []
    )
    result = estimate_revenue_at_risk(scan, orders, shop.timezone, config.unsellable, shop.currency)
    inputs = {
        "today": today,
        "pageDaysRead": len(page_days),
        "variantsRead": len(variants),
        "coverCriticalDays": critical,
        "ordersSince": since if scan.candidates else None,
        "ordersUntil": until if scan.candidates else None,
        "ordersRead": len(orders),
    }
    return result, inputs


_HISTORY_SHOWN = 14
"""Days of fitted history kept with a forecast fact (the dashboard's sparkline)."""


def _forecast(
    series: list[tuple[date, float]],
    config: ForecastConfig,
    metric: str,
    key: str | None = None,
) -> ForecastResult | None:
    try:
        return forecast_series(series, config, metric=metric, key=key)
    except InsufficientHistory:
        return None


def _forecasts(
    connection: Connection,
    shop: ShopInfo,
    now: datetime,
    config: KpiConfig,
    forecast_config: ForecastConfig,
    results: dict[str, BaseModel | None],
) -> list[tuple[str, str | None, float | None, ForecastResult, list[tuple[date, float]]]]:
    """Forecasts made from history up to the last complete day, with the value to check
    and the history they were fitted on (its last days are shown beside the band).

    Unit forecasts (for the variants under their cover threshold) project stock-outs; they
    carry no observed value because a single day's unit sales is too sparse to band-check.
    """
    today = _local_today(now, shop.timezone)
    start = today - timedelta(days=forecast_config.fit_days)
    yesterday = today - timedelta(days=1)
    out: list[tuple[str, str | None, float | None, ForecastResult, list[tuple[date, float]]]] = []
    sales = results["sales_delta"]
    inventory = results["inventory_cover"]
    at_risk = (
        [v for v in inventory.variants if v.severity != "none"][:_VARIANT_FORECASTS]
        if isinstance(inventory, InventoryResult)
        else []
    )
    orders = []
    if isinstance(sales, SalesResult) or at_risk:
        since = datetime.combine(start, datetime.min.time(), ZoneInfo(shop.timezone))
        orders = store.load_orders(connection, shop.domain, since - timedelta(days=1), now)
    if isinstance(sales, SalesResult):
        revenue = [
            (day, float(v)) for day, v in daily_revenue(orders, shop.timezone, start, yesterday)
        ]
        made = _forecast(revenue, forecast_config, FORECAST_METRICS["sales_delta"])
        if made is not None:
            out.append(("sales_delta", None, float(sales.current), made, revenue))
    for variant in at_risk:
        units = daily_units(
            orders, shop.timezone, start, yesterday, variant.variant_id, variant.sku
        )
        unit_series = [(day, float(v)) for day, v in units]
        made = _forecast(
            unit_series, forecast_config, FORECAST_METRICS["inventory_cover"], variant.variant_id
        )
        if made is not None:
            out.append(("inventory_cover", variant.variant_id, None, made, unit_series))
    sla = results["sla_breach_rate"]
    if isinstance(sla, SlaResult):
        conversations = store.load_conversations(connection, shop.domain, OPEN_STATUSES)
        rates = daily_breach_rate(conversations, shop.timezone, start, yesterday, config.sla)
        made = _forecast(rates, forecast_config, FORECAST_METRICS["sla_breach_rate"])
        if made is not None:
            out.append(("sla_breach_rate", None, sla.value, made, rates))
    traffic = results["traffic_anomalies"]
    if isinstance(traffic, TrafficResult):
        days = store.load_landing_page_days(connection, shop.domain, start, yesterday)
        watched = [page for page in traffic.pages if not page.below_noise_floor][:_PAGE_FORECASTS]
        for page in watched:
            series_i = daily_sessions(days, page.landing_page, start, yesterday)
            history = [(day, float(v)) for day, v in series_i[:-1]]
            made = _forecast(
                history, forecast_config, FORECAST_METRICS["traffic_anomalies"], page.landing_page
            )
            if made is not None:
                observed = float(series_i[-1][1])
                out.append(("traffic_anomalies", page.landing_page, observed, made, history))
    return out


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def compute_and_record(
    connection: Connection,
    shop: ShopInfo,
    now: datetime,
    config: KpiConfig,
    forecast_config: ForecastConfig,
    configured: set[str],
    source: dict[str, Any],
    *,
    generated_at: datetime,
    on_step: Callable[[str], None] | None = None,
    evidence_url: str | None = None,
    gates: Mapping[str, str] | None = None,
) -> KpiSnapshot:
    """Compute every configured KPI, its forecast and anomalies; write them all as facts.

    A KPI in ``gates`` (``occ.refresh.gating``) is recorded with its ``gate`` reason and
    raises no anomaly.
    """
    gated = dict(gates or {})
    step = on_step or (lambda _: None)
    step("computing KPIs")
    results, inputs = _compute(connection, shop, now, config, configured)
    snapshot = KpiSnapshot(results=results)
    meta_base = {"now": now.isoformat(), "generatedAt": generated_at.isoformat(), "source": source}
    for kpi, fact_type in KPI_FACTS.items():
        result = results[kpi]
        kpi_config = getattr(config, KPI_CONFIG_KEYS[kpi])
        value: dict[str, Any] = (
            {"status": "ok", "inputs": _jsonable(inputs[kpi]), "result": _dump(result)}
            if result is not None
            else {"status": "unconfigured", "missingStreams": list(KPI_STREAMS[kpi])}
        )
        if result is not None and kpi in gated:
            value["gate"] = {"stale": True, "reason": gated[kpi]}
        snapshot.fact_ids[kpi] = write_fact(
            connection,
            shop=shop.domain,
            fact_type=fact_type,
            scope=KPI_SCOPES[kpi],
            value=value,
            metadata={**meta_base, "config": _dump(kpi_config)},
            now=generated_at,
            evidence_url=evidence_url,
        )
    step("forecasting")
    anomalies = detect_anomalies(
        sales=_typed(results["sales_delta"], SalesResult),
        sla=_typed(results["sla_breach_rate"], SlaResult),
        traffic=_typed(results["traffic_anomalies"], TrafficResult),
        inventory=_typed(results["inventory_cover"], InventoryResult),
        fulfillment=_typed(results["fulfillment_issue_rate"], FulfillmentResult),
        unsellable=_typed(results["unsellable_traffic"], UnsellableResult),
        config=config,
    )
    for kpi, key, observed, made, history in _forecasts(
        connection, shop, now, config, forecast_config, results
    ):
        snapshot.forecasts.append(made)
        snapshot.forecast_fact_ids.append(
            write_fact(
                connection,
                shop=shop.domain,
                fact_type=f"forecast.{made.metric}",
                scope=KPI_SCOPES[kpi],
                value={
                    **_dump(made),
                    "observed": observed,
                    "history": [
                        {"date": day.isoformat(), "value": v}
                        for day, v in history[-_HISTORY_SHOWN:]
                    ],
                },
                metadata={**meta_base, "config": _dump(forecast_config)},
                now=generated_at,
            )
        )
        band = None if observed is None else band_anomaly(kpi, key, observed, made)
        if band is not None:
            anomalies.append(band)
    for anomaly in anomalies:
        if anomaly.kpi in gated:
            continue  # stale data: the reason is on the KPI's fact
        snapshot.anomalies.append(anomaly)
        snapshot.anomaly_fact_ids.append(
            write_fact(
                connection,
                shop=shop.domain,
                fact_type=anomaly.fact_type,
                scope=KPI_SCOPES.get(anomaly.kpi, "ops"),
                value=_dump(anomaly),
                metadata={**meta_base, "kpiFactId": snapshot.fact_ids.get(anomaly.kpi)},
                now=generated_at,
            )
        )
    step("linking incidents")
    snapshot.incidents_fact_id, snapshot.incidents = record_incidents(
        connection,
        shop,
        now,
        config,
        results,
        list(zip(snapshot.anomaly_fact_ids, snapshot.anomalies, strict=True)),
        metadata=meta_base,
        generated_at=generated_at,
    )
    return snapshot


def _typed(value: BaseModel | None, kind: type[_Model]) -> _Model | None:
    return value if isinstance(value, kind) else None
