"""Hand-written upstream payloads for tests, in the exact API shapes of DESIGN.md."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: str, currency: str = "USD") -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


def order(
    number: int,
    created: datetime,
    total: str,
    *,
    status: str = "FULFILLED",
    cancelled: datetime | None = None,
    test: bool = False,
    lines: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/Order/{number}",
        "name": f"#{number}",
        "createdAt": iso(created),
        "updatedAt": iso(created),
        "cancelledAt": iso(cancelled) if cancelled else None,
        "test": test,
        "displayFulfillmentStatus": status,
        "displayFinancialStatus": "PAID",
        "currentTotalPriceSet": money(total),
        "lineItems": {"edges": [{"node": line} for line in (lines or [])]},
    }


def line(
    number: int, variant: int | None, sku: str | None, quantity: int, amount: str
) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/LineItem/{number}",
        "sku": sku,
        "title": f"Item {sku}",
        "quantity": quantity,
        "variant": {"id": f"gid://shopify/ProductVariant/{variant}"} if variant else None,
        "discountedTotalSet": money(amount),
    }


def variant(
    number: int,
    sku: str,
    stock: int,
    *,
    policy: str = "DENY",
    tracked: bool = True,
    handle: str | None = None,
    product: str | None = None,
) -> dict[str, Any]:
    """A variant; by default the only one of a product named and handled after its SKU."""
    return {
        "id": f"gid://shopify/ProductVariant/{number}",
        "sku": sku,
        "title": "Default",
        "inventoryQuantity": stock,
        "inventoryPolicy": policy,
        "inventoryItem": {"tracked": tracked},
        "product": {
            "title": product or f"Product {sku}",
            "handle": handle or sku.lower(),
        },
    }


def conversation(
    number: int,
    status: str,
    created: datetime,
    labels: list[str] | None = None,
    *,
    inbox: int | None = None,
    agent: tuple[int, str] | None = None,
    team: tuple[int, str] | None = None,
    last_activity: datetime | None = None,
) -> dict[str, Any]:
    """A conversation of the list endpoint; ``inbox``, ``agent`` and ``team`` only when given
    (``inbox_id``, ``meta.assignee``, ``meta.team``), as older payloads lack them."""
    payload: dict[str, Any] = {
        "id": number,
        "status": status,
        "labels": labels or [],
        "created_at": int(created.timestamp()),
        "meta": {"sender": {"name": f"Customer {number}"}},
    }
    if inbox is not None:
        payload["inbox_id"] = inbox
    if agent is not None:
        payload["meta"]["assignee"] = {"id": agent[0], "name": agent[1], "role": "agent"}
    if team is not None:
        payload["meta"]["team"] = {"id": team[0], "name": team[1], "allow_auto_assign": True}
    if last_activity is not None:
        payload["last_activity_at"] = int(last_activity.timestamp())
        payload["timestamp"] = payload["last_activity_at"]
    return payload


def message(
    number: int,
    conversation_id: int,
    kind: int,
    created: datetime,
    content: str = "text",
    *,
    private: bool = False,
) -> dict[str, Any]:
    return {
        "id": number,
        "conversation_id": conversation_id,
        "message_type": kind,
        "created_at": int(created.timestamp()),
        "private": private,
        "content": content,
    }


def ga4_report(rows: list[tuple[str, str, int]]) -> dict[str, Any]:
    return {
        "dimensionHeaders": [{"name": "landingPage"}, {"name": "date"}],
        "metricHeaders": [{"name": "sessions", "type": "TYPE_INTEGER"}],
        "rows": [
            {
                "dimensionValues": [{"value": page}, {"value": day}],
                "metricValues": [{"value": str(sessions)}],
            }
            for page, day, sessions in rows
        ],
        "rowCount": len(rows),
    }


def write_folder(
    folder: Path,
    *,
    shop: dict[str, Any] | None = None,
    orders: list[Any] | None = None,
    variants: list[Any] | None = None,
    conversations: list[Any] | None = None,
    messages: list[Any] | None = None,
    ga4: dict[str, Any] | None = None,
) -> Path:
    """Write a recorded-responses folder; a list item that is a str is written as-is."""
    folder.mkdir(parents=True, exist_ok=True)
    shop = shop or {
        "shopDomain": "test-shop.myshopify.com",
        "currencyCode": "USD",
        "ianaTimezone": "UTC",
    }
    (folder / "shop.json").write_text(json.dumps(shop))
    for name, items in (
        ("shopify/orders.jsonl", orders),
        ("shopify/variants.jsonl", variants),
        ("chatwoot/conversations.jsonl", conversations),
        ("chatwoot/messages.jsonl", messages),
    ):
        if items is None:
            continue
        path = folder / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("".join((i if isinstance(i, str) else json.dumps(i)) + "\n" for i in items))
    if ga4 is not None:
        (folder / "ga4").mkdir(exist_ok=True)
        (folder / "ga4" / "landing_pages.json").write_text(json.dumps(ga4))
    return folder


def ago(now: datetime, **delta: float) -> datetime:
    return now - timedelta(**delta)
