"""occ's queries and contracts against the upstreams' own published schemas (../shared/contracts).

Shopify: every GraphQL document occ sends validates against the Admin API introspection of the
oldest and newest supported versions, selects exactly the fields the contracts read, and the
contracts' enum sets equal the schemas'. Chatwoot: the fields the contracts read exist in
Chatwoot's OpenAPI document, apart from the exceptions the contract module documents.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, cast

import pytest
from graphql import (
    EnumValueNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLSchema,
    IntrospectionQuery,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    Visitor,
    build_client_schema,
    parse,
    print_ast,
    validate,
    validate_schema,
    visit,
)
from pydantic import BaseModel

from occ.contracts.chatwoot import CONVERSATION_STATUSES, ConversationNode, MessageNode
from occ.contracts.shopify import (
    FULFILLMENT_STATUSES,
    INVENTORY_POLICIES,
    LineItemNode,
    OrderNode,
    ProductVariantNode,
)
from occ.sources.shopify_queries import (
    ALL_DOCUMENTS,
    BULK_ORDERS_QUERY,
    ORDER_LINE_ITEMS_QUERY,
    ORDERS_QUERY,
    VARIANTS_QUERY,
    bulk_orders_query,
    orders_variables,
)

SHARED = Path(__file__).parents[1].parent / "shared"
SHOPIFY = SHARED / "contracts" / "shopify"
CHATWOOT_OPENAPI = SHARED / "contracts" / "chatwoot" / "openapi.json"
VALIDATED_VERSIONS = ("2025-10", "2026-10")  # oldest and newest supported Admin API versions

if not SHARED.is_dir():
    pytest.skip(
        f"the shared reference folder {SHARED} is missing (it sits next to the repository)",
        allow_module_level=True,
    )


@cache
def admin_schema(version: str) -> GraphQLSchema:
    with gzip.open(SHOPIFY / f"admin_{version}.json.gz", "rt", encoding="utf-8") as file:
        introspection = json.load(file)
    relaxed = relax_interface_deprecations(introspection["data"])
    schema = build_client_schema(cast(IntrospectionQuery, relaxed))
    assert validate_schema(schema) == [], version
    return schema


def relax_interface_deprecations(introspection: dict[str, Any]) -> dict[str, Any]:
    """Un-deprecate the few fields deprecated on an implementation but not on its interface.

    graphql-core enforces that newer spec rule when validating a document, and Shopify's
    published schemas break it (six ``id`` fields such as ``ChannelDefinition.id``). The
    deprecation flag plays no part in validating occ's documents, so clearing it is safe.
    """
    types = {t["name"]: t for t in introspection["__schema"]["types"]}
    for type_ in types.values():
        for interface in type_.get("interfaces") or []:
            live = {f["name"] for f in types[interface["name"]]["fields"] if not f["isDeprecated"]}
            for field in type_["fields"]:
                if field["isDeprecated"] and field["name"] in live:
                    field["isDeprecated"], field["deprecationReason"] = False, None
    return introspection


def all_versions() -> list[str]:
    return sorted(
        path.name[len("admin_") : -len(".json.gz")] for path in SHOPIFY.glob("admin_*.json.gz")
    )


def enum_values(schema: GraphQLSchema, name: str) -> set[str]:
    enum = schema.get_type(name)
    assert isinstance(enum, GraphQLEnumType), f"{name} is not an enum"
    return set(enum.values)


@pytest.mark.parametrize("version", VALIDATED_VERSIONS)
@pytest.mark.parametrize("operation", sorted(ALL_DOCUMENTS))
def test_every_document_validates_against_the_admin_schema(operation: str, version: str) -> None:
    errors = validate(admin_schema(version), parse(ALL_DOCUMENTS[operation]))
    assert errors == [], [error.message for error in errors]


def test_validation_rejects_a_field_the_schema_does_not_have() -> None:
    # Proves the test above can fail: a made-up field on Order is reported.
    document = parse(ORDERS_QUERY.replace("displayFinancialStatus", "displayPaymentMood"))
    errors = validate(admin_schema(VALIDATED_VERSIONS[-1]), document)
    assert any("displayPaymentMood" in error.message for error in errors)


def test_validation_rejects_an_undeclared_variable() -> None:
    document = parse(VARIANTS_QUERY.replace("after: $after", "after: $cursor"))
    errors = validate(admin_schema(VALIDATED_VERSIONS[0]), document)
    assert any("$cursor" in error.message for error in errors)


def selected(selection_set: SelectionSetNode | None, path: tuple[str, ...]) -> set[str]:
    """Field names (responses keys) selected under ``path`` in a selection set."""
    assert selection_set is not None
    for name in path:
        field = next(
            s for s in selection_set.selections if isinstance(s, FieldNode) and s.name.value == name
        )
        selection_set = field.selection_set
        assert selection_set is not None
    names = set()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.alias.value if selection.alias else selection.name.value)
    return names


def operation_selection(document: str) -> SelectionSetNode:
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    return operation.selection_set


def fragment_fields(document: str) -> set[str]:
    parsed = parse(document)
    fragment = next(d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode))
    return selected(fragment.selection_set, ())


def contract_fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def test_orders_query_selects_exactly_the_fields_the_order_contract_reads() -> None:
    nodes = selected(operation_selection(ORDERS_QUERY), ("orders", "nodes"))
    assert nodes == contract_fields(OrderNode)
    assert selected(operation_selection(ORDERS_QUERY), ("orders",)) == {"pageInfo", "nodes"}
    line_items = selected(operation_selection(ORDERS_QUERY), ("orders", "nodes", "lineItems"))
    assert line_items == {"pageInfo", "nodes"}
    assert fragment_fields(ORDERS_QUERY) == contract_fields(LineItemNode)


def field_arguments(document: str, field_name: str) -> dict[str, ValueNode]:
    arguments: dict[str, ValueNode] = {}

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            if node.name.value == field_name:
                arguments.update({a.name.value: a.value for a in node.arguments or ()})

    visit(parse(document), Collect())
    return arguments


def test_orders_are_selected_by_update_time_through_variables() -> None:
    arguments = field_arguments(ORDERS_QUERY, "orders")
    assert {name: type(value) for name, value in arguments.items()} == {
        "first": VariableNode,
        "after": VariableNode,
        "query": VariableNode,
        "sortKey": EnumValueNode,
    }
    assert print_ast(arguments["sortKey"]) == "UPDATED_AT"
    # the line-item page is a variable: a fixed 250 would cost over Shopify's 1,000-point limit
    assert print_ast(field_arguments(ORDERS_QUERY, "lineItems")["first"]) == "$lineItemsFirst"
    variables = orders_variables(datetime(2026, 11, 25, 18, 30, tzinfo=UTC), after="abc")
    assert variables == {
        "first": 250,
        "after": "abc",
        "query": "updated_at:>'2026-11-25T18:30:00Z'",
        "lineItemsFirst": 1,
    }


@pytest.mark.parametrize("version", VALIDATED_VERSIONS)
def test_the_rendered_bulk_query_validates_without_variables(version: str) -> None:
    # Bulk queries take no variables: the search string is inlined, and the result still
    # validates (and is what Shopify runs).
    rendered = bulk_orders_query(datetime(2026, 11, 25, 18, 30, tzinfo=UTC))
    assert "$" not in rendered
    assert "updated_at:>'2026-11-25T18:30:00Z'" in rendered
    errors = validate(admin_schema(version), parse(rendered))
    assert errors == [], [error.message for error in errors]


def test_bulk_query_selects_the_same_fields_as_the_paged_query() -> None:
    order = ("orders", "edges", "node")
    assert selected(operation_selection(BULK_ORDERS_QUERY), order) == contract_fields(OrderNode)
    items = selected(operation_selection(BULK_ORDERS_QUERY), (*order, "lineItems", "edges", "node"))
    assert items == contract_fields(LineItemNode)


@pytest.mark.parametrize("operation", sorted(ALL_DOCUMENTS))
def test_no_document_carries_a_string_value(operation: str) -> None:
    # Values travel as variables, never interpolated into the document text.
    strings: list[str] = []

    class Collect(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: object) -> None:
            strings.append(node.value)

    visit(parse(ALL_DOCUMENTS[operation]), Collect())
    assert strings == []


def test_line_items_query_pages_one_order() -> None:
    order = selected(operation_selection(ORDER_LINE_ITEMS_QUERY), ("order",))
    assert order == {"id", "lineItems"}
    assert fragment_fields(ORDER_LINE_ITEMS_QUERY) == contract_fields(LineItemNode)


def test_variants_query_selects_exactly_the_fields_the_variant_contract_reads() -> None:
    nodes = selected(operation_selection(VARIANTS_QUERY), ("productVariants", "nodes"))
    assert nodes == contract_fields(ProductVariantNode)
    product = selected(operation_selection(VARIANTS_QUERY), ("productVariants", "nodes", "product"))
    assert product == {"title", "handle"}


def test_fulfillment_statuses_are_the_union_over_all_supported_versions() -> None:
    versions = all_versions()
    assert len(versions) == 5, versions
    union: set[str] = set()
    for version in versions:
        union |= enum_values(admin_schema(version), "OrderDisplayFulfillmentStatus")
    assert set(FULFILLMENT_STATUSES) == union
    # the newest value, absent from 2025-10: why unknown enum values are drift, not errors
    assert "FULFILLMENT_NOT_REQUIRED" not in enum_values(
        admin_schema("2025-10"), "OrderDisplayFulfillmentStatus"
    )


def test_inventory_policies_match_every_supported_version() -> None:
    for version in all_versions():
        policies = enum_values(admin_schema(version), "ProductVariantInventoryPolicy")
        assert set(INVENTORY_POLICIES) == policies, version


# --- Chatwoot ------------------------------------------------------------------------------


@cache
def chatwoot_schemas() -> dict[str, Any]:
    document = json.loads(CHATWOOT_OPENAPI.read_text(encoding="utf-8"))
    schemas: dict[str, Any] = document["components"]["schemas"]
    return schemas


def properties(name: str) -> dict[str, Any]:
    props: dict[str, Any] = chatwoot_schemas()[name]["properties"]
    return props


def types_of(schema: dict[str, Any]) -> set[str]:
    declared = schema["type"]
    return set(declared) if isinstance(declared, list) else {str(declared)}


def test_conversation_fields_read_by_occ_exist_in_the_openapi_document() -> None:
    documented = properties("conversation")
    missing = contract_fields(ConversationNode) - set(documented)
    assert missing == {"meta"}  # the documented exception (contracts/chatwoot.py)
    for timestamp in ("created_at", "last_activity_at"):
        assert types_of(documented[timestamp]) <= {"number", "integer", "null"}
    assert documented["labels"]["items"]["type"] == "string"


def test_meta_sender_name_is_what_the_list_endpoint_returns() -> None:
    payload = properties("conversation_list")["data"]["properties"]["payload"]
    parts = payload["items"]["allOf"]
    metas = [p["properties"]["meta"] for p in parts if "meta" in p.get("properties", {})]
    assert metas and "name" in metas[0]["properties"]["sender"]["properties"]


def test_snoozed_is_the_only_status_beyond_the_documented_enum() -> None:
    documented = set(properties("conversation")["status"]["enum"])
    assert set(CONVERSATION_STATUSES) - documented == {"snoozed"}
    assert documented <= set(CONVERSATION_STATUSES)


def test_message_fields_read_by_occ_exist_in_the_openapi_document() -> None:
    documented = properties("message")
    assert contract_fields(MessageNode) <= set(documented)
    assert types_of(documented["created_at"]) == {"integer"}
    assert documented["private"]["type"] == "boolean"


def test_message_type_is_the_integer_enum_0_to_3() -> None:
    message_type = properties("message")["message_type"]
    assert message_type["type"] == "integer"
    assert message_type["enum"] == [0, 1, 2, 3]
