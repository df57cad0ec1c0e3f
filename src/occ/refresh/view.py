"""The latest KPI results of a shop, read back from its facts (``occ kpis``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from occ.refresh.compute import KPI_FACTS
from occ.store.facts import FactRow, facts_by_id
from occ.store.runs import newest_run
from occ.store.tables import Shop

__all__ = ["kpis_document"]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _kpi_entry(kpi: str, fact: FactRow | None) -> dict[str, Any]:
    if fact is None or fact.value.get("status") != "ok":
        return {"status": "unconfigured", "value": None, "severity": "none"}
    result = fact.value["result"]
    base = {"status": "ok", "factId": fact.id, "severity": result["severity"]}
    if kpi == "sales_delta":
        return {
            **base,
            "value": result["delta_pct"],
            "current": float(result["current"]),
            "baseline": float(result["baseline"]),
            "currency": result["currency"],
            "orderCount": result["order_count"],
            "reason": result.get("reason"),
            "topSkus": result["top_skus"],
            "pendingFulfillment": len(result["pending_fulfillment"]),
        }
    if kpi == "sla_breach_rate":
        return {
            **base,
            "value": result["value"],
            "breached": [item["conversation_id"] for item in result["breached"]],
            "population": result["population"],
        }
    if kpi == "traffic_anomalies":
        return {
            **base,
            "pages": [
                {
                    "landingPage": page["landing_page"],
                    "current": page["current"],
                    "previous": page["previous"],
                    "wowDelta": page["wow_delta"],
                    "severity": page["severity"],
                }
                for page in result["pages"]
            ],
        }
    if kpi == "inventory_cover":
        return {
            **base,
            "variants": [
                {
                    "variantId": variant["variant_id"],
                    "sku": variant["sku"],
                    "velocity": variant["velocity"],
                    "daysOfCover": variant["days_of_cover"],
                    "severity": variant["severity"],
                    "reorderQuantity": variant["reorder_quantity"],
                }
                for variant in result["variants"]
            ],
        }
    if kpi == "unsellable_traffic":
        return {**base, **_unsellable_entry(result)}
    return {
        **base,
        "value": result["value"],
        "issues": [issue["order_id"] for issue in result["issues"]],
        "population": result["population"],
    }


def _unsellable_entry(result: dict[str, Any]) -> dict[str, Any]:
    """Money stays a decimal string, as the fact holds it (exact)."""
    return {
        "value": result["revenue_at_risk"],
        "revenueAtRisk": result["revenue_at_risk"],
        "sessions": result["sessions"],
        "currency": result["currency"],
        "windowRevenue": result["window_revenue"],
        "window": [result["current_start"], result["current_end"]],
        "lookback": [result["lookback_start"], result["lookback_end"]],
        "coverCriticalDays": result["cover_critical_days"],
        "productPages": result["product_pages"],
        "pages": [
            {
                "landingPage": page["landing_page"],
                "productHandle": page["product_handle"],
                "state": page["state"],
                "sessions": page["sessions"],
                "variants": [
                    {
                        "variantId": variant["variant_id"],
                        "sku": variant["sku"],
                        "inventory": variant["inventory_quantity"],
                        "daysOfCover": variant["days_of_cover"],
                        "state": variant["state"],
                    }
                    for variant in page["variants"]
                ],
                "basis": page["basis"],
                "conversionRate": page["conversion_rate"],
                "averageOrderValue": page["average_order_value"],
                "revenueAtRisk": page["revenue_at_risk"],
                "shareOfRevenuePct": page["share_of_revenue_pct"],
                "severity": page["severity"],
                "assumption": page["assumption"],
            }
            for page in result["pages"]
        ],
        "assumptions": result["assumptions"],
    }


def kpis_document(connection: Connection, shop: str | None = None) -> dict[str, Any]:
    """The ``occ kpis --json`` document of the newest refresh (of ``shop``, or the newest shop).

    Raises:
        NotFoundError: nothing has been refreshed yet.
    """
    run = newest_run(connection, shop)
    report = run["report"] or {}
    fact_ids: dict[str, int] = report.get("factIds", {})
    facts = facts_by_id(connection, [*fact_ids.values(), *report.get("anomalyFactIds", [])])
    currency = connection.execute(
        select(Shop.currency_code).where(Shop.shop_domain == run["shop_domain"])
    ).scalar()
    return {
        "shop": run["shop_domain"],
        "now": run["as_of"].isoformat(),
        "currency": currency,
        "runId": run["id"],
        "source": report.get("source"),
        "kpis": {
            kpi: _kpi_entry(kpi, facts.get(fact_ids[kpi]) if kpi in fact_ids else None)
            for kpi in KPI_FACTS
        },
        "anomalies": [
            facts[fact_id].value for fact_id in report.get("anomalyFactIds", []) if fact_id in facts
        ],
        "quarantined": report.get("quarantined", 0),
    }
