"""Shopify Admin GraphQL payload contracts (the nodes occ's queries ask for).

Field names follow the Admin API (camelCase). Enums are kept as strings and checked
against the known values separately, because Shopify adds values between API versions
(``FULFILLMENT_NOT_REQUIRED`` appears in 2026-10): an unknown value is drift, not a bad record.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from occ.contracts._types import DecimalString, UtcDatetime

__all__ = [
    "FULFILLMENT_STATUSES",
    "INVENTORY_POLICIES",
    "LineItemNode",
    "Money",
    "MoneyBag",
    "OrderNode",
    "ProductVariantNode",
    "ShopNode",
    "connection_nodes",
]

# OrderDisplayFulfillmentStatus across the supported API versions 2025-10 … 2026-10
# (tests/test_contracts_schema.py checks this against ../shared/contracts/shopify).
FULFILLMENT_STATUSES = frozenset(
    {
        "FULFILLED",
        "FULFILLMENT_NOT_REQUIRED",
        "IN_PROGRESS",
        "ON_HOLD",
        "OPEN",
        "PARTIALLY_FULFILLED",
        "PENDING_FULFILLMENT",
        "REQUEST_DECLINED",
        "RESTOCKED",
        "SCHEDULED",
        "UNFULFILLED",
    }
)
INVENTORY_POLICIES = frozenset({"CONTINUE", "DENY"})


def connection_nodes(value: Any) -> Any:
    """Read a GraphQL connection: ``{"edges":[{"node":…}]}``, ``{"nodes":[…]}`` or a list."""
    if value is None:
        return []
    if isinstance(value, dict):
        if "nodes" in value:
            return value["nodes"]
        if "edges" in value:
            edges = value["edges"]
            if not isinstance(edges, list):
                raise ValueError("connection edges must be a list")
            return [edge.get("node") if isinstance(edge, dict) else edge for edge in edges]
        raise ValueError("connection has neither edges nor nodes")
    return value


class _Node(BaseModel):
    # cache_strings="keys": upstream values (ids, names) rarely repeat within a payload, so
    # only field names are worth pydantic's string cache (measured ~5 % faster validation).
    model_config = ConfigDict(extra="ignore", frozen=True, cache_strings="keys")


class Money(_Node):
    amount: DecimalString
    currencyCode: str


class MoneyBag(_Node):
    shopMoney: Money


class VariantRef(_Node):
    id: str


class LineItemNode(_Node):
    id: str | None = None
    sku: str | None = None
    title: str
    quantity: int
    variant: VariantRef | None = None
    discountedTotalSet: MoneyBag


class OrderNode(_Node):
    id: str
    name: str
    createdAt: UtcDatetime
    updatedAt: UtcDatetime | None = None
    cancelledAt: UtcDatetime | None = None
    test: bool
    displayFulfillmentStatus: str
    displayFinancialStatus: str | None = None
    currentTotalPriceSet: MoneyBag
    lineItems: list[LineItemNode]

    @field_validator("lineItems", mode="before")
    @classmethod
    def _read_connection(cls, value: Any) -> Any:
        return connection_nodes(value)


class InventoryItemRef(_Node):
    tracked: bool


class ProductRef(_Node):
    title: str
    handle: str | None = None


class ProductVariantNode(_Node):
    id: str
    sku: str | None = None
    title: str
    inventoryQuantity: int | None = None
    inventoryPolicy: str
    inventoryItem: InventoryItemRef
    product: ProductRef
    price: DecimalString | None = None


class ShopNode(_Node):
    """``shop.json`` of a recorded folder, and the fields occ reads of Shopify's ``shop``."""

    shopDomain: str
    currencyCode: str
    ianaTimezone: str
