"""Check occ's requests and expected response fields against an upstream's own schema.

Shopify: every document of :data:`occ.sources.shopify_queries.ALL_DOCUMENTS` (read at call
time) must validate against the schema (a validation error is P0: the query fails), the
fields the contracts in :mod:`occ.contracts.shopify` read must be selected and typed as the
contract expects, and the enums a KPI interprets must hold no value the contract does not know
(P1). Chatwoot: the endpoints and query parameters occ sends, and the response fields the
contracts in :mod:`occ.contracts.chatwoot` read, must be declared by the OpenAPI document.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, Union, get_args, get_origin

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_enum_type,
    is_list_type,
    is_non_null_type,
    is_scalar_type,
    parse,
    validate,
)
from pydantic import BaseModel
from sqlalchemy import Connection

from occ.contracts.shopify import LineItemNode, OrderNode, ProductVariantNode, ShopNode
from occ.errors import InputFileError
from occ.ops.openapi_check import (
    CHATWOOT_ENDPOINTS,
    ChatwootEndpoint,
    check_chatwoot_openapi,
    json_types,
)
from occ.ops.schema_diff import Finding, Impact
from occ.ops.schema_files import introspection_of, schema_from_introspection
from occ.ops.schema_usage import (
    ENUM_CONTRACTS,
    Affected,
    affected_by_coordinate,
    affected_by_documents,
    schema_usage,
)
from occ.store.schemas import save_snapshot

__all__ = [
    "CHATWOOT_ENDPOINTS",
    "ChatwootEndpoint",
    "Introspect",
    "check_chatwoot_openapi",
    "check_live_shopify",
    "check_shopify_schema",
]

Introspect = Callable[[], Mapping[str, Any]]
"""Returns the live shop's introspection result (``{"data": {"__schema": …}}`` or without data)."""

# Response path of each contract model in occ's documents (the contract tests keep them exact).
_SHOPIFY_CONTRACTS: dict[str, dict[tuple[str, ...], type[BaseModel]]] = {
    "OccOrdersUpdatedSince": {
        ("orders", "nodes"): OrderNode,
        ("orders", "nodes", "lineItems", "nodes"): LineItemNode,
    },
    "OccBulkOrders": {
        ("orders", "edges", "node"): OrderNode,
        ("orders", "edges", "node", "lineItems", "edges", "node"): LineItemNode,
    },
    "OccOrderLineItems": {("order", "lineItems", "nodes"): LineItemNode},
    "OccProductVariants": {("productVariants", "nodes"): ProductVariantNode},
    "OccShop": {("shop",): ShopNode},
}
_WIRE_SCALARS: dict[str, set[str] | None] = {
    "Int": {"integer"},
    "Float": {"number"},
    "Boolean": {"boolean"},
    "JSON": None,  # anything
}


def _wire_types(declared: GraphQLOutputType) -> set[str] | None:
    """The JSON types a field of ``declared`` type arrives as (None: anything)."""
    unwrapped = get_nullable_type(declared)
    if is_list_type(unwrapped):
        return {"array"}
    named = get_named_type(declared)
    if is_enum_type(named):
        return {"string"}
    if is_scalar_type(named):
        return _WIRE_SCALARS.get(named.name, {"string"})  # ID, DateTime, Decimal, URL, …
    if named.name.endswith("Connection"):
        return {"object", "array"}  # contracts read connections as lists (connection_nodes)
    return {"object"}


def _finding(
    source: str,
    change: str,
    at: datetime,
    impact: Impact,
    affected: tuple[Affected, ...],
    action: str,
    change_type: str,
    coordinate: str | None = None,
) -> Finding:
    return Finding(
        source, change, at, impact, affected, action, "violation", change_type, coordinate
    )


def check_shopify_schema(
    schema: GraphQLSchema,
    *,
    source: str,
    detected_at: datetime,
    documents: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Findings of occ's documents and contracts against ``schema``, most severe first."""
    if documents is None:
        from occ.sources import shopify_queries  # read at call time: documents may be added

        documents = shopify_queries.ALL_DOCUMENTS
    findings: list[Finding] = []
    for operation, text in sorted(documents.items()):
        try:
            errors = validate(schema, parse(text))
        except TypeError as exc:  # graphql-core refuses an invalid schema outright
            raise InputFileError(f"{source}: not a valid GraphQL schema ({exc})") from None
        for error in errors:
            found = re.search(r"field ['\"](\w+)['\"] on type ['\"](\w+)['\"]", error.message)
            findings.append(
                _finding(
                    source,
                    f"{operation}: {error.message}",
                    detected_at,
                    "P0",
                    affected_by_documents([operation]),
                    f"Update {operation} (occ/sources/graphql) and occ.contracts.shopify to this "
                    "schema, or keep occ on an API version its queries validate against.",
                    "DOCUMENT_INVALID",
                    f"{found[2]}.{found[1]}" if found else None,
                )
            )
        if not errors:
            findings += _contract_fields(schema, operation, text, source, detected_at)
    findings += _enum_coverage(schema, documents, source, detected_at)
    return sorted(findings, key=lambda f: (f.impact, f.coordinate or "", f.change))


def _response_types(
    schema: GraphQLSchema, text: str
) -> dict[tuple[str, ...], tuple[str, GraphQLOutputType]]:
    """Response path → (``Type.field``, declared type) of every field a valid document selects."""
    document = parse(text)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    found: dict[tuple[str, ...], tuple[str, GraphQLOutputType]] = {}

    def walk(selection_set: SelectionSetNode, type_name: str, path: tuple[str, ...]) -> None:
        parent = schema.get_type(type_name)
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                definition = getattr(parent, "fields", {}).get(selection.name.value)
                if definition is None:
                    continue
                key = path + ((selection.alias or selection.name).value,)
                found[key] = (f"{type_name}.{selection.name.value}", definition.type)
                if selection.selection_set is not None:
                    walk(selection.selection_set, get_named_type(definition.type).name, key)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments[selection.name.value]
                walk(fragment.selection_set, fragment.type_condition.name.value, path)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                walk(
                    selection.selection_set, condition.name.value if condition else type_name, path
                )

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = schema.get_root_type(definition.operation)
            if root is not None:
                walk(definition.selection_set, root.name, ())
    return found


def _contract_fields(
    schema: GraphQLSchema, operation: str, text: str, source: str, at: datetime
) -> list[Finding]:
    """The fields each contract model reads: selected, nullable only where it allows None."""
    roots = _SHOPIFY_CONTRACTS.get(operation, {})
    if not roots:
        return []
    selected = _response_types(schema, text)
    findings: list[Finding] = []
    for root, model in roots.items():
        for path, reader, annotation, required in _model_fields(model, root):
            where = ".".join(path)
            if path not in selected:
                findings.append(
                    _finding(
                        source,
                        f"{operation} does not select {where}, which {reader} reads",
                        at,
                        "P0" if required else "P1",
                        affected_by_documents([operation]),
                        f"Select {path[-1]} in {operation} (occ/sources/graphql).",
                        "CONTRACT_FIELD_NOT_SELECTED",
                    )
                )
                continue
            coordinate, declared = selected[path]
            expected = _wire_types(declared)
            wanted = json_types(annotation)
            if expected and wanted is not None and not expected & wanted:
                findings.append(
                    _finding(
                        source,
                        f"{coordinate} is {declared} but {reader} expects {_names(wanted)}",
                        at,
                        "P0",
                        affected_by_coordinate(coordinate, [operation]),
                        f"Update {reader} in occ.contracts.shopify to the schema's type.",
                        "CONTRACT_TYPE_MISMATCH",
                        coordinate,
                    )
                )
            elif required and not is_non_null_type(declared):
                findings.append(
                    _finding(
                        source,
                        f"{coordinate} may be null but {reader} requires a value",
                        at,
                        "P1",
                        affected_by_coordinate(coordinate, [operation]),
                        f"Make {reader} optional in occ.contracts.shopify, or "
                        "records without it are quarantined.",
                        "CONTRACT_NULLABILITY",
                        coordinate,
                    )
                )
    return findings


def _model_fields(
    model: type[BaseModel], path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], str, Any, bool]]:
    """(response path, ``Model.field``, annotation, required) of a model and its nested models.

    Lists (connections such as ``lineItems``) are not entered: their nodes have a root of
    their own in :data:`_SHOPIFY_CONTRACTS`.
    """
    for name, info in model.model_fields.items():
        key = path + (name,)
        required = info.is_required() and "null" not in (json_types(info.annotation) or {"null"})
        yield key, f"{model.__name__}.{name}", info.annotation, required
        nested = _model_in(info.annotation)
        if nested is not None:
            yield from _model_fields(nested, key)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds directly (``Model`` or ``Model | None``)."""
    candidates = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else ()
    for candidate in (annotation, *candidates):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _names(json_types: set[str]) -> str:
    return " or ".join(sorted(json_types))


def _enum_coverage(
    schema: GraphQLSchema, documents: Mapping[str, str], source: str, at: datetime
) -> list[Finding]:
    """Values of an enum a KPI interprets that the contract does not know (P1)."""
    usage = schema_usage(schema, documents)
    findings: list[Finding] = []
    for enum_name, contract in sorted(ENUM_CONTRACTS.items()):
        enum = schema.get_type(enum_name)
        if not isinstance(enum, GraphQLEnumType) or enum_name not in usage.output_enums:
            continue
        for value in sorted(set(enum.values) - contract.known):
            coordinate = f"{enum_name}.{value}"
            findings.append(
                _finding(
                    source,
                    f"{coordinate} is not in {contract.constant}: occ would count it as drift",
                    at,
                    "P1",
                    affected_by_coordinate(enum_name, usage.output_enums[enum_name]),
                    f"Decide how the KPI interprets {value} (KPIS.md) and add it to "
                    f"{contract.constant}.",
                    "ENUM_VALUE_UNKNOWN_TO_CONTRACT",
                    coordinate,
                )
            )
    return findings


def check_live_shopify(
    introspect: Introspect,
    connection: Connection,
    *,
    api_version: str,
    detected_at: datetime,
    shop: str | None = None,
) -> list[Finding]:
    """Introspect the live shop, keep the schema as this run's snapshot, and check against it.

    Args:
        introspect: Returns the introspection result (e.g. ``ShopifyClient.introspect``).
        connection: Where the snapshot is saved (``occ contracts drift`` diffs the last two).
        api_version: The Admin API version introspected (the configured one).
        detected_at: When this check ran (UTC).
        shop: The shop's domain, kept with the snapshot.
    """
    name = f"the live introspection of Shopify Admin API {api_version}"
    introspection = introspection_of(introspect(), name)
    schema = schema_from_introspection(introspection, name)
    save_snapshot(
        connection,
        source="shopify",
        api_version=api_version,
        schema=introspection,
        fetched_at=detected_at,
        shop=shop,
    )
    return check_shopify_schema(
        schema, source=f"Shopify Admin API {api_version} (live shop)", detected_at=detected_at
    )
