"""Cross-source incidents of a refresh: read what the links need, find them, record them.

Reads only what the refresh's anomalies call for (the breached conversations' messages and
the orders they mention for an SLA anomaly; the products' variants and last sales for a
traffic or sales anomaly), so a quiet store pays nothing. One ``incidents.open`` fact per
refresh holds the incidents (an empty list is recorded too: "no incident" is an answer).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection

from occ.contracts.anomalies import Anomaly
from occ.contracts.incidents import INCIDENTS_FACT_TYPE, Incident
from occ.contracts.kpis import (
    FulfillmentResult,
    InventoryResult,
    KpiConfig,
    SalesResult,
    SlaResult,
    TrafficResult,
)
from occ.contracts.records import OrderRecord
from occ.errors import NotFoundError
from occ.metrics.incident_draft import customer_texts
from occ.metrics.incidents import IncidentInputs, find_incidents
from occ.metrics.mentions import mentioned_numbers, order_index, product_handle
from occ.store import records as store
from occ.store.facts import facts_by_id, write_fact
from occ.store.records import ShopInfo
from occ.store.runs import newest_run

__all__ = ["incident_inputs", "incidents_document", "record_incidents"]


def _typed(value: BaseModel | None, kind: type[Any]) -> Any:
    return value if isinstance(value, kind) else None


def incident_inputs(
    connection: Connection,
    shop: ShopInfo,
    now: datetime,
    config: KpiConfig,
    results: dict[str, BaseModel | None],
    anomalies: list[tuple[int, Anomaly]],
) -> IncidentInputs:
    """What ``find_incidents`` needs for ``anomalies``, read from the store."""
    kpis = {a.kpi for _, a in anomalies}
    sla: SlaResult | None = _typed(results.get("sla_breach_rate"), SlaResult)
    sales: SalesResult | None = _typed(results.get("sales_delta"), SalesResult)
    traffic: TrafficResult | None = _typed(results.get("traffic_anomalies"), TrafficResult)
    conversations = {}
    orders_by_name: dict[str, OrderRecord] = {}
    index: dict[str, str] = {}
    if "sla_breach_rate" in kpis and sla is not None and sla.breached:
        breached = {b.conversation_id for b in sla.breached}
        conversations = {
            c.conversation_id: c
            for c in store.load_conversations(connection, shop.domain, ("open", "pending"))
            if c.conversation_id in breached
        }
        numbers = {
            number
            for c in conversations.values()
            for text in customer_texts(c)
            for number in mentioned_numbers(text)
        }
        mentioned = store.load_orders_numbered(connection, shop.domain, numbers)
        index = order_index(o.name for o in sorted(mentioned, key=lambda o: o.created_at))
        orders_by_name = {o.name: o for o in mentioned}
    variants = []
    last_sold: dict[str, datetime] = {}
    recent: list[OrderRecord] = []
    page_days = []
    stockout_kpis = {"traffic_anomalies", "sales_delta"} & kpis
    if stockout_kpis:
        variants = store.load_variants(connection, shop.domain)
        handles = {
            product_handle(str(a.key))
            for _, a in anomalies
            if a.kpi == "traffic_anomalies" and a.key
        }
        watched = {
            v.variant_id
            for v in variants
            if v.inventory_quantity <= 0 or (v.product_handle or "").lower() in handles
        }
        last_sold = store.last_sold(connection, shop.domain, watched, now)
    if "sales_delta" in kpis and sales is not None:
        days = config.sales.baseline_days + 1
        recent = store.load_orders(connection, shop.domain, now - timedelta(days=days), now)
    if "traffic_anomalies" in kpis and traffic is not None:
        page_days = store.load_landing_page_days(
            connection, shop.domain, traffic.current_start, traffic.current_end
        )
    return IncidentInputs(
        now=now,
        anomalies=anomalies,
        sla=sla,
        fulfillment=_typed(results.get("fulfillment_issue_rate"), FulfillmentResult),
        sales=sales,
        traffic=traffic,
        inventory=_typed(results.get("inventory_cover"), InventoryResult),
        conversations=conversations,
        order_index=index,
        orders_by_name=orders_by_name,
        variants=variants,
        last_sold=last_sold,
        recent_orders=recent,
        page_days=page_days,
        processing_hours=config.fulfillment.processing_hours,
        critical_cover=config.inventory.thresholds.critical,
        baseline_days=config.sales.baseline_days,
        top_skus=config.sales.top_skus,
        currency=shop.currency,
        timezone=shop.timezone,
    )


def record_incidents(
    connection: Connection,
    shop: ShopInfo,
    now: datetime,
    config: KpiConfig,
    results: dict[str, BaseModel | None],
    anomalies: list[tuple[int, Anomaly]],
    *,
    metadata: dict[str, Any],
    generated_at: datetime,
) -> tuple[int, list[Incident]]:
    """Find the incidents among ``anomalies`` (with their fact ids) and record them."""
    inputs = incident_inputs(connection, shop, now, config, results, anomalies)
    incidents = find_incidents(inputs)
    fact_id = write_fact(
        connection,
        shop=shop.domain,
        fact_type=INCIDENTS_FACT_TYPE,
        scope="ops",
        value={
            "incidents": [i.model_dump(mode="json") for i in incidents],
            "anomaliesConsidered": len(anomalies),
        },
        metadata={
            **metadata,
            "processingHours": inputs.processing_hours,
            "criticalCover": inputs.critical_cover,
            "baselineDays": inputs.baseline_days,
        },
        now=generated_at,
    )
    return fact_id, incidents


def incidents_document(connection: Connection, shop: str | None = None) -> dict[str, Any]:
    """The incidents of the newest refresh (of ``shop``, or of the newest shop).

    Raises:
        NotFoundError: nothing was refreshed yet, or the newest refresh predates incidents.
    """
    run = newest_run(connection, shop)
    fact_id = (run["report"] or {}).get("incidentsFactId")
    fact = facts_by_id(connection, [fact_id]).get(fact_id) if fact_id is not None else None
    if fact is None:
        raise NotFoundError(
            f"refresh {run['id']} recorded no incidents (it predates them); run `occ refresh`"
        )
    return {
        "shop": run["shop_domain"],
        "now": run["as_of"].isoformat(),
        "runId": run["id"],
        "factId": fact.id,
        "anomaliesConsidered": fact.value.get("anomaliesConsidered", 0),
        "incidents": fact.value.get("incidents", []),
    }
