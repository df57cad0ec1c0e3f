"""The GraphQL documents occ sends to the Shopify Admin API, the variables they take, their cost.

The documents live in ``occ/sources/graphql/*.graphql`` (shipped inside the package) so that
tests can validate them against Shopify's published schemas of every supported API version
(tests/test_contracts_schema.py); they select exactly the fields the contracts in
:mod:`occ.contracts.shopify` read. Values always travel as variables, never inside the text —
except in a bulk query, which Shopify runs without variables: :func:`bulk_orders_query`
inlines them into the validated :data:`BULK_ORDERS_QUERY` through the GraphQL syntax tree.

:func:`requested_cost` computes a document's requested cost by Shopify's published rules
(scalars and enums 0, objects 1, a connection 2 plus its page size times the cost of one
node, a mutation 10), so that occ never sends a query above the single-query limit of
:data:`MAX_QUERY_COST` points and knows how many points the next query needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from typing import Any

from graphql import (
    REMOVE,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    Visitor,
    get_introspection_query,
    parse,
    print_ast,
    visit,
)

__all__ = [
    "ALL_DOCUMENTS",
    "BULK_OPERATION_QUERY",
    "BULK_ORDERS_QUERY",
    "BULK_RUN_MUTATION",
    "INTROSPECTION_QUERY",
    "MAX_PAGE_SIZE",
    "MAX_QUERY_COST",
    "ORDERS_COUNT_QUERY",
    "ORDERS_QUERY",
    "ORDER_LINE_ITEMS_QUERY",
    "SHOP_QUERY",
    "VARIANTS_QUERY",
    "bulk_orders_query",
    "largest_page",
    "order_line_items_variables",
    "orders_count_variables",
    "orders_page_plan",
    "orders_search_query",
    "orders_variables",
    "requested_cost",
    "variants_variables",
]

MAX_PAGE_SIZE = 250  # Shopify's largest page for a connection
MAX_QUERY_COST = 1_000  # Shopify's single-query limit on requestedQueryCost, on every plan


def _read(name: str) -> str:
    return files("occ.sources").joinpath("graphql", name).read_text(encoding="utf-8")


_FRAGMENTS = {"OccLineItem": _read("line_item_fragment.graphql")}


def _document(name: str) -> str:
    """One operation with the fragments it spreads appended (a document must define them)."""
    text = _read(name)
    used = dict.fromkeys(re.findall(r"\.\.\.\s*(\w+)", text))
    return text + "".join("\n" + _FRAGMENTS[fragment] for fragment in used if fragment != "on")


ORDERS_QUERY = _document("orders_updated_since.graphql")
ORDER_LINE_ITEMS_QUERY = _document("order_line_items.graphql")
ORDERS_COUNT_QUERY = _document("orders_count.graphql")
VARIANTS_QUERY = _document("product_variants.graphql")
SHOP_QUERY = _document("shop.graphql")
BULK_ORDERS_QUERY = _document("bulk_orders.graphql")
BULK_RUN_MUTATION = _document("bulk_operation_run_query.graphql")
BULK_OPERATION_QUERY = _document("bulk_operation.graphql")
# The standard introspection query, asking for everything Shopify's published schemas hold.
INTROSPECTION_QUERY = get_introspection_query(
    descriptions=True,
    specified_by_url=True,
    directive_is_repeatable=True,
    schema_description=True,
    input_value_deprecation=True,
    one_of=True,
)

# operation name → document text
ALL_DOCUMENTS: dict[str, str] = {
    "OccOrdersUpdatedSince": ORDERS_QUERY,
    "OccOrderLineItems": ORDER_LINE_ITEMS_QUERY,
    "OccOrdersCount": ORDERS_COUNT_QUERY,
    "OccProductVariants": VARIANTS_QUERY,
    "OccShop": SHOP_QUERY,
    "OccBulkOrders": BULK_ORDERS_QUERY,
    "OccBulkOperationRunQuery": BULK_RUN_MUTATION,
    "OccBulkOperation": BULK_OPERATION_QUERY,
    "IntrospectionQuery": INTROSPECTION_QUERY,
}


def orders_search_query(updated_since: datetime) -> str:
    """The search string selecting orders updated strictly after ``updated_since``."""
    if updated_since.tzinfo is None:
        raise ValueError("updated_since must be timezone-aware")
    moment = updated_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"updated_at:>'{moment}'"


def orders_variables(
    updated_since: datetime,
    after: str | None = None,
    first: int = MAX_PAGE_SIZE,
    line_items_first: int = 1,
) -> dict[str, Any]:
    """Variables of :data:`ORDERS_QUERY` for one page after cursor ``after``."""
    return {
        "first": _page_size(first),
        "after": after,
        "query": orders_search_query(updated_since),
        "lineItemsFirst": _page_size(line_items_first),
    }


def order_line_items_variables(
    order_id: str, after: str | None, first: int = MAX_PAGE_SIZE
) -> dict[str, Any]:
    """Variables of :data:`ORDER_LINE_ITEMS_QUERY` for the line items of ``order_id``."""
    return {"id": order_id, "first": _page_size(first), "after": after}


def orders_count_variables(updated_since: datetime, limit: int | None) -> dict[str, Any]:
    """Variables of :data:`ORDERS_COUNT_QUERY`: count up to ``limit`` (None: no limit)."""
    return {"query": orders_search_query(updated_since), "limit": limit}


def variants_variables(
    after: str | None = None, first: int = MAX_PAGE_SIZE, query: str | None = None
) -> dict[str, Any]:
    """Variables of :data:`VARIANTS_QUERY` for one page after cursor ``after``."""
    return {"first": _page_size(first), "after": after, "query": query}


def _page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be 1–{MAX_PAGE_SIZE}, got {first}")
    return first


# --- bulk queries ---------------------------------------------------------------------------


class _InlineVariables(Visitor):
    """Replaces each ``$variable`` by its value as a string literal; drops the declarations."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__()
        self.values = values

    def enter_variable_definition(self, *_: object) -> object:
        return REMOVE

    def enter_variable(self, node: VariableNode, *_: object) -> StringValueNode:
        return StringValueNode(value=self.values[node.name.value])


def bulk_orders_query(updated_since: datetime) -> str:
    """:data:`BULK_ORDERS_QUERY` for orders updated after ``updated_since``, values inlined."""
    values = {"query": orders_search_query(updated_since)}
    return print_ast(visit(parse(BULK_ORDERS_QUERY), _InlineVariables(values)))


# --- requested query cost -------------------------------------------------------------------


@cache
def _parsed(document: str) -> tuple[OperationDefinitionNode, dict[str, FragmentDefinitionNode]]:
    parsed: DocumentNode = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return operation, fragments


class _Cost:
    def __init__(
        self, fragments: Mapping[str, FragmentDefinitionNode], variables: Mapping[str, Any]
    ) -> None:
        self.fragments = fragments
        self.variables = variables

    def fields(self, selection_set: SelectionSetNode | None) -> list[FieldNode]:
        found: list[FieldNode] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                found += self.fields(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                found += self.fields(self.fragments[selection.name.value].selection_set)
        return found

    def page_size(self, field: FieldNode) -> int | None:
        for argument in field.arguments or ():
            if argument.name.value in ("first", "last"):
                value = argument.value
                if isinstance(value, VariableNode):
                    return int(self.variables[value.name.value])
                if isinstance(value, IntValueNode):
                    return int(value.value)
        return None

    def selection(self, selection_set: SelectionSetNode | None) -> int:
        return sum(self.field(field) for field in self.fields(selection_set))

    def field(self, field: FieldNode) -> int:
        if field.selection_set is None or field.name.value.startswith("__"):
            return 0  # scalars, enums and introspection
        size = self.page_size(field)
        if size is None:
            return 1 + self.selection(field.selection_set)
        node_cost = 0
        for child in self.fields(field.selection_set):
            if child.name.value == "nodes":
                node_cost = max(node_cost, 1 + self.selection(child.selection_set))
            elif child.name.value == "edges":
                for node in self.fields(child.selection_set):
                    if node.name.value == "node":
                        node_cost = max(node_cost, 1 + self.selection(node.selection_set))
        return 2 + size * node_cost


def requested_cost(document: str, variables: Mapping[str, Any]) -> int:
    """The ``requestedQueryCost`` Shopify computes for ``document`` with ``variables``."""
    operation, fragments = _parsed(document)
    cost = _Cost(fragments, variables)
    if operation.operation == OperationType.MUTATION:
        return 10 * len(cost.fields(operation.selection_set))
    return cost.selection(operation.selection_set)


def largest_page(cost_of: Callable[[int], int], max_cost: int = MAX_QUERY_COST) -> int:
    """The largest page size (1–250) whose cost stays within ``max_cost``; 0 if none does."""
    low, high = 0, MAX_PAGE_SIZE
    while low < high:  # cost grows with the page size: binary search
        middle = (low + high + 1) // 2
        if cost_of(middle) <= max_cost:
            low = middle
        else:
            high = middle - 1
    return low


def orders_page_plan(
    page_size: int, line_items_first: int | None = None, max_cost: int = MAX_QUERY_COST
) -> tuple[int, int]:
    """Orders per page and line items per order that keep one orders page within ``max_cost``.

    ``line_items_first`` None takes as many line items as fit beside ``page_size`` orders; when
    not even one fits, fewer orders are read per page. Shopify counts every requested line item
    of every requested order: 50 orders fit 3 line items each (852 points), 25 orders fit 8.
    """
    since = datetime(2000, 1, 1, tzinfo=UTC)

    def cost(orders: int, items: int) -> int:
        return requested_cost(ORDERS_QUERY, orders_variables(since, None, orders, items))

    orders = _page_size(page_size)
    if line_items_first is not None:
        items = _page_size(line_items_first)
        if cost(orders, items) > max_cost:
            orders = max(1, largest_page(lambda n: cost(n, items), max_cost))
        return orders, items
    items = largest_page(lambda k: cost(orders, k), max_cost)
    if items == 0:
        return max(1, largest_page(lambda n: cost(n, 1), max_cost)), 1
    return orders, items
