"""occ's computation of Shopify's requested query cost, and the page sizes it chooses by it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from occ.sources.shopify_queries import (
    BULK_OPERATION_QUERY,
    BULK_RUN_MUTATION,
    MAX_QUERY_COST,
    ORDER_LINE_ITEMS_QUERY,
    ORDERS_QUERY,
    SHOP_QUERY,
    VARIANTS_QUERY,
    largest_page,
    order_line_items_variables,
    orders_page_plan,
    orders_variables,
    requested_cost,
    variants_variables,
)

SINCE = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("document", "cost"),
    [
        ("query { shop { id name } }", 1),  # an object costs 1, its scalars nothing
        ("query { orders(first: 250) { nodes { id } } }", 252),  # a connection: 2 + 250 × 1
        ("query { orders(first: 10) { edges { node { id customer { id } } } } }", 22),
        ("mutation { a: tagsAdd(id: 1, tags: []) { node { id } } }", 10),
    ],
)
def test_requested_cost_follows_shopifys_rules(document: str, cost: int) -> None:
    assert requested_cost(document, {}) == cost


def test_the_cost_of_occs_documents() -> None:
    # nested connections multiply: 2 + orders × (order 1 + money 2 + 2 + items × 4)
    assert requested_cost(ORDERS_QUERY, orders_variables(SINCE, None, 50, 3)) == 852
    assert requested_cost(ORDERS_QUERY, orders_variables(SINCE, None, 250, 250)) == 251_252
    assert requested_cost(ORDER_LINE_ITEMS_QUERY, order_line_items_variables("x", None, 249)) == 999
    assert requested_cost(VARIANTS_QUERY, variants_variables(None, 250)) == 752
    assert requested_cost(SHOP_QUERY, {}) == 1
    assert requested_cost(BULK_OPERATION_QUERY, {"id": "x"}) == 1
    assert requested_cost(BULK_RUN_MUTATION, {"query": "x", "groupObjects": True}) == 10


@pytest.mark.parametrize(
    ("page_size", "line_items", "plan"),
    [(50, None, (50, 3)), (25, None, (25, 8)), (10, None, (10, 23)), (250, None, (110, 1)),
     (250, 5, (39, 5)), (20, 5, (20, 5))],
)  # fmt: skip
def test_orders_page_plan(page_size: int, line_items: int | None, plan: tuple[int, int]) -> None:
    assert orders_page_plan(page_size, line_items) == plan


def test_every_planned_orders_page_is_within_the_single_query_limit() -> None:
    for page_size in range(1, 251):
        orders, items = orders_page_plan(page_size)
        assert 1 <= orders <= page_size and items >= 1
        cost = requested_cost(ORDERS_QUERY, orders_variables(SINCE, None, orders, items))
        assert cost <= MAX_QUERY_COST, page_size
        if items < 250 and orders == page_size:  # the most line items that fit
            more = requested_cost(ORDERS_QUERY, orders_variables(SINCE, None, orders, items + 1))
            assert more > MAX_QUERY_COST, page_size


def test_largest_page_is_zero_when_nothing_fits() -> None:
    assert largest_page(lambda n: 2 + 5000 * n) == 0
    assert largest_page(lambda n: n) == 250
    assert largest_page(lambda n: 3 + 4 * n) == 249
