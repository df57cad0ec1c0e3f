"""What of Shopify's schema occ depends on, and which KPI reads what.

Two halves. :func:`schema_usage` walks the GraphQL documents occ sends
(:data:`occ.sources.shopify_queries.ALL_DOCUMENTS`, read at call time so a new document counts
at once) with graphql-core's ``TypeInfo`` against a schema, and collects every field,
argument, enum value and type they touch. The static maps below say which KPI (and module)
interprets which field or enum, so that a schema change or an observed drift can name what it
affects.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    EnumValueNode,
    FieldNode,
    GraphQLEnumType,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    VariableDefinitionNode,
    Visitor,
    get_named_type,
    is_enum_type,
    parse,
    type_from_ast,
    visit,
)

from occ.contracts.shopify import FULFILLMENT_STATUSES, INVENTORY_POLICIES

__all__ = [
    "DOCUMENT_KPIS",
    "ENUM_CONTRACTS",
    "FIELD_KPIS",
    "QUERIES_MODULE",
    "STREAM_KPIS",
    "Affected",
    "EnumContract",
    "SchemaUsage",
    "affected_by_coordinate",
    "affected_by_documents",
    "affected_by_observation",
    "schema_usage",
]

QUERIES_MODULE = "occ.sources.shopify_queries"


@dataclass(frozen=True, slots=True)
class Affected:
    """Something of occ a change reaches: a KPI, a query or a contract, and its module."""

    kind: str  # "kpi" | "query" | "contract"
    name: str
    module: str

    def label(self) -> str:
        """``fulfillment_issue_rate (occ.metrics.fulfillment)``, ``query OccShop (…)``."""
        prefix = "" if self.kind == "kpi" else f"{self.kind} "
        return f"{prefix}{self.name} ({self.module})"


SALES = Affected("kpi", "sales_delta", "occ.metrics.sales")
SLA = Affected("kpi", "sla_breach_rate", "occ.metrics.sla")
TRAFFIC = Affected("kpi", "traffic_anomalies", "occ.metrics.traffic")
INVENTORY = Affected("kpi", "inventory_cover", "occ.metrics.inventory")
FULFILLMENT = Affected("kpi", "fulfillment_issue_rate", "occ.metrics.fulfillment")
UNSELLABLE = Affected("kpi", "unsellable_traffic", "occ.metrics.unsellable")
_ORDER_KPIS = (SALES, FULFILLMENT, INVENTORY, UNSELLABLE)  # "countable order" feeds them all
_VARIANT_KPIS = (INVENTORY, UNSELLABLE)  # unsellable traffic builds on the cover

# Schema coordinate ("Type.field", or an enum type's name) → the KPIs that interpret it
# (KPIS.md). Fields occ only passes through to the store are absent on purpose.
FIELD_KPIS: dict[str, tuple[Affected, ...]] = {
    "QueryRoot.orders": _ORDER_KPIS,
    "QueryRoot.order": (SALES, INVENTORY, UNSELLABLE),
    "QueryRoot.productVariants": _VARIANT_KPIS,
    "Order.createdAt": _ORDER_KPIS,
    "Order.cancelledAt": _ORDER_KPIS,
    "Order.test": _ORDER_KPIS,
    "Order.displayFulfillmentStatus": (FULFILLMENT, SALES),
    "OrderDisplayFulfillmentStatus": (FULFILLMENT, SALES),
    "Order.currentTotalPriceSet": (SALES, UNSELLABLE),
    "Order.lineItems": (SALES, INVENTORY, UNSELLABLE),
    "MoneyBag.shopMoney": (SALES, UNSELLABLE),
    "MoneyV2.amount": (SALES, UNSELLABLE),
    "MoneyV2.currencyCode": (SALES,),
    "LineItem.sku": (SALES, INVENTORY, UNSELLABLE),
    "LineItem.title": (SALES,),
    "LineItem.quantity": (INVENTORY, SALES),
    "LineItem.variant": (INVENTORY, UNSELLABLE),
    "LineItem.discountedTotalSet": (SALES,),
    "ProductVariant.id": _VARIANT_KPIS,
    "ProductVariant.sku": _VARIANT_KPIS,
    "ProductVariant.inventoryQuantity": _VARIANT_KPIS,
    "ProductVariant.inventoryPolicy": _VARIANT_KPIS,
    "ProductVariantInventoryPolicy": _VARIANT_KPIS,
    "ProductVariant.inventoryItem": _VARIANT_KPIS,
    "InventoryItem.tracked": _VARIANT_KPIS,
    "ProductVariant.product": (UNSELLABLE,),
    "Product.handle": (UNSELLABLE,),
    "Shop.currencyCode": (SALES,),
    # not a KPI field, but the bulk order sync branches on it: a new status may stall the sync
    "BulkOperationStatus": _ORDER_KPIS,
}

# Operation name → the KPIs that stop when that document fails.
DOCUMENT_KPIS: dict[str, tuple[Affected, ...]] = {
    "OccOrdersUpdatedSince": _ORDER_KPIS,
    "OccOrdersCount": _ORDER_KPIS,
    "OccBulkOrders": _ORDER_KPIS,
    "OccBulkOperationRunQuery": _ORDER_KPIS,
    "OccBulkOperation": _ORDER_KPIS,
    "OccOrderLineItems": (SALES, INVENTORY, UNSELLABLE),
    "OccProductVariants": _VARIANT_KPIS,
    "OccShop": _ORDER_KPIS,
}

# Observed drift: stream → KPIs fed by it; (stream, top-level field) → the KPIs that interpret it.
STREAM_KPIS: dict[str, tuple[Affected, ...]] = {
    "shopify.orders": _ORDER_KPIS,
    "shopify.variants": _VARIANT_KPIS,
    "chatwoot.conversations": (SLA,),
    "chatwoot.messages": (SLA,),
    "ga4.landing_pages": (TRAFFIC, UNSELLABLE),
}
_OBSERVED_FIELD_KPIS: dict[tuple[str, str], tuple[Affected, ...]] = {
    ("shopify.orders", "displayFulfillmentStatus"): (FULFILLMENT, SALES),
    ("shopify.orders", "currentTotalPriceSet"): (SALES, UNSELLABLE),
    ("shopify.variants", "inventoryPolicy"): _VARIANT_KPIS,
}


@dataclass(frozen=True, slots=True)
class EnumContract:
    """An enum whose values a KPI interprets, and where the contract lists the known ones."""

    constant: str
    known: frozenset[str]


ENUM_CONTRACTS: dict[str, EnumContract] = {
    "OrderDisplayFulfillmentStatus": EnumContract(
        "occ.contracts.shopify.FULFILLMENT_STATUSES", FULFILLMENT_STATUSES
    ),
    "ProductVariantInventoryPolicy": EnumContract(
        "occ.contracts.shopify.INVENTORY_POLICIES", INVENTORY_POLICIES
    ),
}


@dataclass
class SchemaUsage:
    """Every part of a schema occ's documents touch, with the documents that touch it.

    Attributes:
        fields: ``Type.field`` selected → operation names.
        arguments: ``Type.field(arg:)`` occ passes → operation names.
        enum_values_sent: ``Enum.VALUE`` literals occ sends (e.g. ``OrderSortKeys.UPDATED_AT``).
        read_types: object and interface types whose fields occ selects.
        output_enums: enum types of the fields occ reads.
        input_types: named types of the variables and arguments occ passes.
        types: every named type above, plus the return types of the selected fields.
    """

    fields: dict[str, set[str]] = field(default_factory=dict)
    arguments: dict[str, set[str]] = field(default_factory=dict)
    enum_values_sent: dict[str, set[str]] = field(default_factory=dict)
    read_types: dict[str, set[str]] = field(default_factory=dict)
    output_enums: dict[str, set[str]] = field(default_factory=dict)
    input_types: dict[str, set[str]] = field(default_factory=dict)
    types: dict[str, set[str]] = field(default_factory=dict)

    def merge(self, other: SchemaUsage) -> SchemaUsage:
        """The union of two usages (occ's documents against the old and the new schema)."""
        merged = SchemaUsage()
        for table in dataclasses.fields(SchemaUsage):
            _union(
                getattr(merged, table.name), getattr(self, table.name), getattr(other, table.name)
            )
        return merged

    def documents_of(self, *keys: str) -> set[str]:
        """Operation names using any of ``keys`` (a coordinate, an enum value or a type)."""
        found: set[str] = set()
        for table in (self.fields, self.arguments, self.enum_values_sent, self.types):
            for key in keys:
                found |= table.get(key, set())
        return found


def _union(target: dict[str, set[str]], *tables: Mapping[str, set[str]]) -> None:
    for table in tables:
        for key, documents in table.items():
            target.setdefault(key, set()).update(documents)


def _note(table: dict[str, set[str]], key: str, document: str) -> None:
    table.setdefault(key, set()).add(document)


class _Collect(Visitor):
    """Record what one document touches, using the types ``TypeInfo`` tracks."""

    def __init__(
        self, schema: GraphQLSchema, info: TypeInfo, document: str, usage: SchemaUsage
    ) -> None:
        super().__init__()
        self.schema, self.info, self.document, self.usage = schema, info, document, usage

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        parent, definition = self.info.get_parent_type(), self.info.get_field_def()
        name = node.name.value
        if parent is None or definition is None or "__" in (name[:2], parent.name[:2]):
            return
        usage, document = self.usage, self.document
        _note(usage.fields, f"{parent.name}.{name}", document)
        _note(usage.read_types, parent.name, document)
        _note(usage.types, parent.name, document)
        returned = get_named_type(definition.type)
        _note(usage.types, returned.name, document)
        if is_enum_type(returned):
            _note(usage.output_enums, returned.name, document)
        for argument in node.arguments or ():
            _note(usage.arguments, f"{parent.name}.{name}({argument.name.value}:)", document)
            declared = definition.args.get(argument.name.value)
            if declared is not None:
                input_type = get_named_type(declared.type).name
                _note(usage.input_types, input_type, document)
                _note(usage.types, input_type, document)

    def enter_enum_value(self, node: EnumValueNode, *_: Any) -> None:
        input_type = self.info.get_input_type()
        enum = get_named_type(input_type) if input_type is not None else None
        if isinstance(enum, GraphQLEnumType):
            _note(self.usage.enum_values_sent, f"{enum.name}.{node.value}", self.document)

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: Any) -> None:
        declared = type_from_ast(self.schema, node.type)
        if declared is not None:
            name = get_named_type(declared).name
            _note(self.usage.input_types, name, self.document)
            _note(self.usage.types, name, self.document)


def schema_usage(schema: GraphQLSchema, documents: Mapping[str, str] | None = None) -> SchemaUsage:
    """What ``documents`` (default: occ's, read now) use of ``schema``.

    A field the schema lacks is skipped here (validation reports it, see ``contract_check``).
    """
    if documents is None:
        from occ.sources import shopify_queries  # read at call time: documents may be added

        documents = shopify_queries.ALL_DOCUMENTS
    usage = SchemaUsage()
    for name, text in documents.items():
        info = TypeInfo(schema)
        visit(parse(text), TypeInfoVisitor(info, _Collect(schema, info, name, usage)))
    return usage


def _dedupe(items: Iterable[Affected]) -> tuple[Affected, ...]:
    return tuple(dict.fromkeys(items))


def affected_by_documents(documents: Iterable[str]) -> tuple[Affected, ...]:
    """The KPIs that stop when ``documents`` fail, then the queries themselves."""
    names = sorted(documents)
    kpis = [kpi for name in names for kpi in DOCUMENT_KPIS.get(name, ())]
    queries = [Affected("query", name, QUERIES_MODULE) for name in names]
    return _dedupe([*kpis, *queries])


def affected_by_coordinate(coordinate: str, documents: Iterable[str]) -> tuple[Affected, ...]:
    """The KPIs interpreting ``coordinate`` (``Type.field`` or an enum), else its queries."""
    kpis = FIELD_KPIS.get(coordinate) or FIELD_KPIS.get(coordinate.partition(".")[0], ())
    queries = [Affected("query", name, QUERIES_MODULE) for name in sorted(documents)]
    return _dedupe([*kpis, *queries]) if kpis else _dedupe(queries)


def affected_by_observation(stream: str, field_path: str) -> tuple[Affected, ...]:
    """The KPIs an observed drift in ``stream`` at ``field_path`` may skew."""
    top = field_path.split(".", 1)[0]
    return _OBSERVED_FIELD_KPIS.get((stream, top)) or STREAM_KPIS.get(stream, ())
