"""From the store to facts: the five KPIs, their forecasts and the anomalies they raise."""

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
from occ.contracts.forecast import ForecastConfig, ForecastResult
from occ.contracts.kpis import (
    FulfillmentResult,
    InventoryResult,
    KpiConfig,
    SalesResult,
    SlaResult,
    TrafficResult,
)
from occ.metrics import (
    compute_fulfillment_issues,
    compute_sales_delta,
    compute_sla_breaches,
    compute_traffic_anomalies,
)
from occ.metrics.inventory import inventory_cover_from_units
from occ.metrics.series import daily_breach_rate, daily_revenue, daily_sessions, daily_units
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
}
KPI_SCOPES = {
    "sales_delta": "sales",
    "sla_breach_rate": "cx",
    "traffic_anomalies": "seo",
    "inventory_cover": "inventory",
    "fulfillment_issue_rate": "fulfillment",
}
# The streams a KPI needs: when one was not recorded / configured, the tile is "unconfigured".
KPI_STREAMS = {
    "sales_delta": ("shopify.orders",),
    "sla_breach_rate": ("chatwoot.conversations", "chatwoot.messages"),
    "traffic_anomalies": ("ga4.landing_pages",),
    "inventory_cover": ("shopify.variants", "shopify.orders"),
    "fulfillment_issue_rate": ("shopify.orders",),
}
KPI_CONFIG_KEYS = {
    "sales_delta": "sales",
    "sla_breach_rate": "sla",
    "traffic_anomalies": "traffic",
    "inventory_cover": "inventory",
    "fulfillment_issue_rate": "fulfillment",
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
            variants = store.load_variants(connection, shop.domain)
            results["inventory_cover"] = inventory_cover_from_units(
                variants, units, config.inventory
            )
            inputs["inventory_cover"] = {
                "ordersSince": velocity_since,
                "unitsSoldRows": len(units),
                "variantsRead": len(variants),
            }
        if "sla_breach_rate" in configured:
            conversations = store.load_conversations(connection, shop.domain, ("open", "pending"))
            results["sla_breach_rate"] = compute_sla_breaches(conversations, now, config.sla)
            inputs["sla_breach_rate"] = {"openOrPendingRead": len(conversations)}
        if "traffic_anomalies" in configured:
            today = _local_today(now, shop.timezone)
            days = store.load_landing_page_days(
                connection,
                shop.domain,
                today - timedelta(days=2 * config.traffic.window_days),
                today,
            )
            results["traffic_anomalies"] = compute_traffic_anomalies(days, today, config.traffic)
            inputs["traffic_anomalies"] = {"today": today, "pageDaysRead": len(days)}
        return results, inputs

    # Paused until the records read are freed: re-enabling the collector with them alive
    # would have its first collection scan them all once more.
    with store.paused_collector():
        return read_and_compute()


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
        conversations = store.load_conversations(connection, shop.domain, ("open", "pending"))
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
    return snapshot


def _typed(value: BaseModel | None, kind: type[_Model]) -> _Model | None:
    return value if isinstance(value, kind) else None
