"""`occ contracts diff` logic: Shopify schema changes that reach occ, with their severity.

Real schemas from ../shared/contracts (2025-10 → 2026-10), an edited copy of the 2026-10
introspection, and small SDL schemas for the rules the real versions never exercise.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema, build_schema

from occ.ops.schema_diff import Finding, diff_schemas, needs_attention
from occ.ops.schema_files import load_introspection, load_schema, schema_from_introspection
from occ.ops.schema_usage import schema_usage

SHOPIFY = Path(__file__).parents[1].parent / "shared" / "contracts" / "shopify"
AT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)

if not SHOPIFY.is_dir():
    pytest.skip(f"the shared reference folder {SHOPIFY} is missing", allow_module_level=True)


@cache
def real_schema(version: str) -> GraphQLSchema:
    return load_schema(SHOPIFY / f"admin_{version}.json.gz")


@cache
def real_introspection(version: str) -> dict[str, Any]:
    return load_introspection(SHOPIFY / f"admin_{version}.json.gz")


def by_coordinate(findings: list[Finding]) -> dict[str, Finding]:
    return {finding.coordinate or "": finding for finding in findings}


def kpis(finding: Finding) -> list[tuple[str, str]]:
    return [(a.name, a.module) for a in finding.affected if a.kind == "kpi"]


# --- the real versions ---------------------------------------------------------------------


def test_fulfillment_not_required_is_p1_for_the_fulfillment_kpi() -> None:
    findings = diff_schemas(
        real_schema("2025-10"), real_schema("2026-10"), source="2025-10 → 2026-10", detected_at=AT
    )
    added = by_coordinate(findings)["OrderDisplayFulfillmentStatus.FULFILLMENT_NOT_REQUIRED"]
    assert added.impact == "P1"
    assert added.classification == "dangerous"
    assert added.change_type == "VALUE_ADDED_TO_ENUM"
    assert kpis(added)[0] == ("fulfillment_issue_rate", "occ.metrics.fulfillment")
    assert "FULFILLMENT_STATUSES" in added.action
    assert added.detected_at == AT and added.source == "2025-10 → 2026-10"
    assert [f.impact for f in findings if f.impact != "P2"] == ["P1"]  # nothing breaks occ
    assert needs_attention(findings)


def test_only_changes_to_what_occ_uses_are_kept() -> None:
    old, new = real_schema("2025-10"), real_schema("2026-10")
    findings = diff_schemas(old, new, source="s", detected_at=AT)
    used = schema_usage(old).merge(schema_usage(new))
    for finding in findings:
        assert finding.coordinate is not None
        assert finding.coordinate.split(".")[0] in used.types, finding.change
    # 2026-10 adds hundreds of types, queries and mutations; none of them is reported
    roots = ("QueryRoot", "Mutation")
    added = [f.coordinate for f in findings if f.change_type in ("TYPE_ADDED", "FIELD_ADDED")]
    assert added and not any(str(c).split(".")[0] in roots for c in added)
    assert len(findings) < 60


def test_a_version_compared_with_itself_has_no_findings() -> None:
    schema = real_schema("2026-10")
    assert diff_schemas(schema, schema, source="s", detected_at=AT) == []


# --- an edited copy of 2026-10 ---------------------------------------------------------------


def edited_2026_10() -> dict[str, Any]:
    introspection = copy.deepcopy(real_introspection("2026-10"))
    types = {t["name"]: t for t in introspection["__schema"]["types"]}
    order = types["Order"]
    fields = {f["name"]: f for f in order["fields"]}
    order["fields"].remove(fields["displayFinancialStatus"])  # removed → P0
    fields["createdAt"]["type"]["ofType"]["name"] = "String"  # DateTime! → String! → P0
    fields["cancelledAt"].update(isDeprecated=True, deprecationReason="Use closedAt.")  # P1
    order["fields"].append(  # an optional field added to a type occ reads → P2
        {**copy.deepcopy(fields["cancelledAt"]), "name": "occNewOptional", "isDeprecated": False}
    )
    policy = types["ProductVariantInventoryPolicy"]["enumValues"]
    policy.append({**policy[0], "name": "BACKORDER"})  # a value a KPI interprets → P1
    customer = types["Customer"]
    customer["fields"] = [f for f in customer["fields"] if f["name"] != "note"]  # unused type
    types["CustomerSortKeys"]["enumValues"].append(
        {**types["CustomerSortKeys"]["enumValues"][0], "name": "OCC_UNUSED"}
    )
    return introspection


@pytest.fixture(scope="module")
def edited_findings() -> dict[str, Finding]:
    old = real_schema("2026-10")
    new = schema_from_introspection(edited_2026_10(), "edited 2026-10")
    return by_coordinate(diff_schemas(old, new, source="edited", detected_at=AT))


def test_a_field_occ_reads_removed_is_p0(edited_findings: dict[str, Finding]) -> None:
    removed = edited_findings["Order.displayFinancialStatus"]
    assert (removed.impact, removed.classification, removed.change_type) == (
        "P0",
        "breaking",
        "FIELD_REMOVED",
    )
    # the orders query fails, so every KPI fed by it is affected, and the query is named
    assert {"sales_delta", "fulfillment_issue_rate", "inventory_cover"} <= {
        name for name, _ in kpis(removed)
    }
    assert any(a.kind == "query" and a.name == "OccOrdersUpdatedSince" for a in removed.affected)


def test_a_field_occ_reads_changing_type_is_p0(edited_findings: dict[str, Finding]) -> None:
    changed = edited_findings["Order.createdAt"]
    assert (changed.impact, changed.change_type) == ("P0", "FIELD_CHANGED_KIND")
    assert "DateTime! to String!" in changed.change


def test_a_field_occ_reads_deprecated_is_p1(edited_findings: dict[str, Finding]) -> None:
    deprecated = edited_findings["Order.cancelledAt"]
    assert (deprecated.impact, deprecated.change_type) == ("P1", "FIELD_DEPRECATED")
    assert "Use closedAt." in deprecated.change


def test_an_optional_field_added_to_a_type_occ_reads_is_p2(
    edited_findings: dict[str, Finding],
) -> None:
    added = edited_findings["Order.occNewOptional"]
    assert (added.impact, added.classification, added.change_type) == ("P2", "safe", "FIELD_ADDED")


def test_an_enum_value_a_kpi_interprets_is_p1(edited_findings: dict[str, Finding]) -> None:
    added = edited_findings["ProductVariantInventoryPolicy.BACKORDER"]
    assert added.impact == "P1"
    assert kpis(added) == [
        ("inventory_cover", "occ.metrics.inventory"),
        ("unsellable_traffic", "occ.metrics.unsellable"),  # built on the inventory's cover
    ]
    assert "INVENTORY_POLICIES" in added.action


def test_changes_to_types_occ_does_not_use_are_not_reported(
    edited_findings: dict[str, Finding],
) -> None:
    assert "Customer.note" not in edited_findings
    assert "CustomerSortKeys.OCC_UNUSED" not in edited_findings
    assert set(edited_findings) == {
        "Order.displayFinancialStatus",
        "Order.createdAt",
        "Order.cancelledAt",
        "Order.occNewOptional",
        "ProductVariantInventoryPolicy.BACKORDER",
    }


# --- small SDL schemas: direction awareness --------------------------------------------------

OLD_SDL = """
type Query { items(first: Int, sortKey: ItemSort = ID, reverse: Boolean = false): [Item!]! }
enum ItemSort { ID TITLE }
enum ItemState { OPEN DONE }
enum Colour { RED BLUE }
type Item { id: ID! title: String state: ItemState! colour: Colour note: String }
"""
NEW_SDL = """
type Query {
  items(first: Int, sortKey: ItemSort = ID, reverse: Boolean = true, limit: Int!): [Item!]!
}
enum ItemSort { ID }
enum ItemState { OPEN DONE LOST @deprecated(reason: "gone") }
enum Colour { RED BLUE GREEN }
type Item { id: ID! title: String! state: ItemState! colour: Colour note: Int }
"""
DOCUMENT = "query OccItems { items(first: 5, sortKey: TITLE) { id title state colour } }"


@pytest.fixture(scope="module")
def sdl_findings() -> dict[str, Finding]:
    findings = diff_schemas(
        build_schema(OLD_SDL),
        build_schema(NEW_SDL),
        source="sdl",
        detected_at=AT,
        documents={"OccItems": DOCUMENT},
    )
    return by_coordinate(findings)


def test_directions_of_use_decide_the_severity(sdl_findings: dict[str, Finding]) -> None:
    impacts = {coordinate: f.impact for coordinate, f in sdl_findings.items()}
    assert impacts == {
        "ItemSort.TITLE": "P0",  # a value occ sends leaves the enum: the query fails
        "Query.items(limit:)": "P0",  # a required argument occ does not pass
        "Query.items(reverse:)": "P1",  # occ relies on the default, which changed
        "ItemState.LOST": "P2",  # read, but no KPI interprets ItemState
        "Colour.GREEN": "P2",
        "Item.title": "P2",  # nullable → non-null is safe for a reader
    }
    # a change to a field occ does not select (Item.note) is not reported at all
    assert sdl_findings["Query.items(limit:)"].change_type == "REQUIRED_ARG_ADDED"
    assert sdl_findings["ItemSort.TITLE"].affected[-1].name == "OccItems"


def test_a_new_status_of_the_bulk_sync_is_p1() -> None:
    # occ's bulk order sync branches on BulkOperationStatus: a new value may stall it
    old = real_schema("2026-10")
    introspection = copy.deepcopy(real_introspection("2026-10"))
    status = next(
        t for t in introspection["__schema"]["types"] if t["name"] == "BulkOperationStatus"
    )
    status["enumValues"].append({**status["enumValues"][0], "name": "PAUSED"})
    new = schema_from_introspection(introspection, "edited")
    added = by_coordinate(diff_schemas(old, new, source="s", detected_at=AT))[
        "BulkOperationStatus.PAUSED"
    ]
    assert added.impact == "P1"
    assert "OccBulkOperation" in added.action and "sales_delta" in added.action
