"""The GraphQL documents occ sends to the Shopify Admin API, and the variables they take.

The documents live in ``occ/sources/graphql/*.graphql`` (shipped inside the package) so that
tests can validate them against Shopify's published schemas of every supported API version
(tests/test_contracts_schema.py); they select exactly the fields the contracts in
:mod:`occ.contracts.shopify` read. Values always travel as variables, never inside the text.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

__all__ = [
    "ALL_DOCUMENTS",
    "MAX_PAGE_SIZE",
    "ORDERS_QUERY",
    "ORDER_LINE_ITEMS_QUERY",
    "SHOP_QUERY",
    "VARIANTS_QUERY",
    "order_line_items_variables",
    "orders_search_query",
    "orders_variables",
    "variants_variables",
]

MAX_PAGE_SIZE = 250  # Shopify's largest page for a connection


def _read(name: str) -> str:
    return files("occ.sources").joinpath("graphql", name).read_text(encoding="utf-8")


_FRAGMENTS = {"OccLineItem": _read("line_item_fragment.graphql")}


def _document(name: str) -> str:
    """One operation with the fragments it spreads appended (a document must define them)."""
    text = _read(name)
    used = dict.fromkeys(re.findall(r"\.\.\.\s*(\w+)", text))
    return text + "".join("\n" + _FRAGMENTS[fragment] for fragment in used)


ORDERS_QUERY = _document("orders_updated_since.graphql")
ORDER_LINE_ITEMS_QUERY = _document("order_line_items.graphql")
VARIANTS_QUERY = _document("product_variants.graphql")
SHOP_QUERY = _document("shop.graphql")

# operation name → document text
ALL_DOCUMENTS: dict[str, str] = {
    "OccOrdersUpdatedSince": ORDERS_QUERY,
    "OccOrderLineItems": ORDER_LINE_ITEMS_QUERY,
    "OccProductVariants": VARIANTS_QUERY,
    "OccShop": SHOP_QUERY,
}


def orders_search_query(updated_since: datetime) -> str:
    """The search string selecting orders updated strictly after ``updated_since``."""
    if updated_since.tzinfo is None:
        raise ValueError("updated_since must be timezone-aware")
    moment = updated_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"updated_at:>'{moment}'"


def orders_variables(
    updated_since: datetime, after: str | None = None, first: int = MAX_PAGE_SIZE
) -> dict[str, Any]:
    """Variables of :data:`ORDERS_QUERY` for one page after cursor ``after``."""
    return {"first": _page_size(first), "after": after, "query": orders_search_query(updated_since)}


def order_line_items_variables(
    order_id: str, after: str | None, first: int = MAX_PAGE_SIZE
) -> dict[str, Any]:
    """Variables of :data:`ORDER_LINE_ITEMS_QUERY` for the line items of ``order_id``."""
    return {"id": order_id, "first": _page_size(first), "after": after}


def variants_variables(
    after: str | None = None, first: int = MAX_PAGE_SIZE, query: str | None = None
) -> dict[str, Any]:
    """Variables of :data:`VARIANTS_QUERY` for one page after cursor ``after``."""
    return {"first": _page_size(first), "after": after, "query": query}


def _page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be 1–{MAX_PAGE_SIZE}, got {first}")
    return first
