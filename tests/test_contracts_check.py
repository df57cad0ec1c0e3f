"""`occ contracts check` logic: occ's documents and contracts against Shopify's and Chatwoot's
own schemas, the live path with its snapshot, and the schema files a user hands in."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from occ.errors import InputFileError
from occ.ops.contract_check import (
    check_chatwoot_openapi,
    check_live_shopify,
    check_shopify_schema,
)
from occ.ops.drift_report import snapshot_findings
from occ.ops.schema_diff import Finding
from occ.ops.schema_files import (
    load_introspection,
    load_openapi,
    load_schema,
    schema_from_introspection,
)
from occ.store.schemas import latest_snapshots

SHARED = Path(__file__).parents[1].parent / "shared" / "contracts"
SHOPIFY = SHARED / "shopify"
CHATWOOT = SHARED / "chatwoot" / "openapi.json"
AT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)

if not SHARED.is_dir():
    pytest.skip(f"the shared reference folder {SHARED} is missing", allow_module_level=True)


@cache
def introspection(version: str) -> dict[str, Any]:
    return load_introspection(SHOPIFY / f"admin_{version}.json.gz")


def edited(version: str, edit: Callable[[dict[str, dict[str, Any]]], None]) -> dict[str, Any]:
    """A copy of a real introspection with ``edit`` applied to its types (by name)."""
    copied = copy.deepcopy(introspection(version))
    edit({t["name"]: t for t in copied["__schema"]["types"]})
    return copied


def field(types: dict[str, dict[str, Any]], coordinate: str) -> dict[str, Any]:
    type_name, name = coordinate.split(".")
    return next(f for f in types[type_name]["fields"] if f["name"] == name)


def check(document: dict[str, Any]) -> list[Finding]:
    schema = schema_from_introspection(document, "edited")
    return check_shopify_schema(schema, source="edited", detected_at=AT)


# --- Shopify ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2025-10", "2026-10"])
def test_occs_documents_and_contracts_hold_against_the_real_schemas(version: str) -> None:
    schema = load_schema(SHOPIFY / f"admin_{version}.json.gz")
    findings = check_shopify_schema(schema, source=version, detected_at=AT)
    assert [f.change for f in findings if f.impact in ("P0", "P1")] == []


def test_a_field_occ_queries_missing_is_p0_naming_the_document_and_field() -> None:
    def drop(types: dict[str, dict[str, Any]]) -> None:
        types["Order"]["fields"].remove(field(types, "Order.displayFulfillmentStatus"))

    findings = check(edited("2026-10", drop))
    broken = [f for f in findings if f.change_type == "DOCUMENT_INVALID"]
    assert {f.impact for f in broken} == {"P0"}
    orders = next(f for f in broken if f.change.startswith("OccOrdersUpdatedSince:"))
    assert "displayFulfillmentStatus" in orders.change and "Order" in orders.change
    assert orders.coordinate == "Order.displayFulfillmentStatus"
    names = [a.name for a in orders.affected]
    assert "fulfillment_issue_rate" in names and "OccOrdersUpdatedSince" in names


def test_a_nullable_field_the_contract_requires_is_p1() -> None:
    def loosen(types: dict[str, dict[str, Any]]) -> None:
        quantity = field(types, "LineItem.quantity")
        quantity["type"] = quantity["type"]["ofType"]  # Int! → Int

    findings = [f for f in check(edited("2026-10", loosen)) if f.coordinate == "LineItem.quantity"]
    assert findings and {f.impact for f in findings} == {"P1"}
    assert "LineItemNode.quantity requires a value" in findings[0].change


def test_a_type_the_contract_cannot_read_is_p0() -> None:
    def retype(types: dict[str, dict[str, Any]]) -> None:
        field(types, "ProductVariant.inventoryQuantity")["type"] = {
            "kind": "SCALAR",
            "name": "String",
            "ofType": None,
        }

    findings = check(edited("2026-10", retype))
    mismatch = next(f for f in findings if f.change_type == "CONTRACT_TYPE_MISMATCH")
    assert mismatch.impact == "P0"
    assert mismatch.coordinate == "ProductVariant.inventoryQuantity"
    assert "inventory_cover" in [a.name for a in mismatch.affected]


def test_an_enum_value_the_contract_does_not_know_is_p1() -> None:
    def extend(types: dict[str, dict[str, Any]]) -> None:
        values = types["OrderDisplayFulfillmentStatus"]["enumValues"]
        values.append({**values[0], "name": "AWAITING_PICKUP"})

    findings = check(edited("2026-10", extend))
    unknown = [f for f in findings if f.change_type == "ENUM_VALUE_UNKNOWN_TO_CONTRACT"]
    assert [(f.impact, f.coordinate) for f in unknown] == [
        ("P1", "OrderDisplayFulfillmentStatus.AWAITING_PICKUP")
    ]


def test_the_live_check_keeps_a_snapshot_and_the_next_one_is_diffed(engine: Engine) -> None:
    calls: list[str] = []

    def introspect_2025() -> dict[str, Any]:
        calls.append("2025-10")
        return {"data": introspection("2025-10")}  # as the Admin API answers

    with engine.begin() as connection:
        findings = check_live_shopify(
            introspect_2025, connection, api_version="2025-10", detected_at=AT, shop="s.example"
        )
        assert snapshot_findings(connection) == []  # one snapshot: nothing to compare yet
    assert calls == ["2025-10"] and not [f for f in findings if f.impact == "P0"]
    later = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    with engine.begin() as connection:
        check_live_shopify(
            lambda: introspection("2026-10"),
            connection,
            api_version="2026-10",
            detected_at=later,
        )
    with engine.connect() as connection:
        snapshots = latest_snapshots(connection, "shopify")
        changes = snapshot_findings(connection)
    assert [s.api_version for s in snapshots] == ["2026-10", "2025-10"]
    assert snapshots[1].schema == introspection("2025-10")
    added = next(f for f in changes if f.coordinate and "FULFILLMENT_NOT_REQUIRED" in f.coordinate)
    assert added.impact == "P1" and added.detected_at == later
    assert "2025-10 → 2026-10" in added.source


def test_a_live_answer_without_a_schema_is_refused_and_not_kept(engine: Engine) -> None:
    with engine.begin() as connection, pytest.raises(InputFileError, match="no __schema"):
        check_live_shopify(lambda: {"data": {}}, connection, api_version="2026-10", detected_at=AT)
    with engine.connect() as connection:
        assert latest_snapshots(connection, "shopify") == []


# --- Chatwoot --------------------------------------------------------------------------------


def test_occs_chatwoot_requests_and_fields_hold_against_the_openapi_document() -> None:
    findings = check_chatwoot_openapi(load_openapi(CHATWOOT), source="cw", detected_at=AT)
    assert findings == []


def test_chatwoot_contradictions_are_reported_with_their_severity() -> None:
    document = copy.deepcopy(load_openapi(CHATWOOT))
    schemas = document["components"]["schemas"]
    schemas["message"]["properties"]["created_at"]["type"] = "string"  # a string for a number
    schemas["conversation"]["properties"]["status"]["enum"].append("archived")
    del schemas["conversation"]["properties"]["labels"]
    messages = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages"
    document["paths"][messages]["get"]["parameters"] = []  # `before` no longer declared
    findings = check_chatwoot_openapi(document, source="cw", detected_at=AT)
    summary = {(f.impact, f.change_type) for f in findings}
    assert summary == {
        ("P0", "FIELD_TYPE_MISMATCH"),
        ("P0", "PARAMETER_NOT_DECLARED"),
        ("P1", "ENUM_VALUE_UNKNOWN_TO_CONTRACT"),
        ("P1", "FIELD_NOT_DECLARED"),  # labels has a default, so it is optional
    }
    mismatch = next(f for f in findings if f.change_type == "FIELD_TYPE_MISMATCH")
    assert "MessageNode.created_at" in mismatch.change and "string" in mismatch.change
    assert mismatch.affected[0].name == "sla_breach_rate"


# --- the files a user hands in -----------------------------------------------------------


def test_a_missing_schema_file_names_the_file_and_what_to_pass(tmp_path: Path) -> None:
    missing = tmp_path / "admin_2027-01.json.gz"
    with pytest.raises(InputFileError) as raised:
        load_schema(missing)
    message = str(raised.value)
    assert str(missing) in message and "introspection" in message and "\n" not in message


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("plain.json", b'{"data": {"shop": {}}}', "no __schema"),
        ("broken.json", b"{not json", "is not JSON"),
        ("broken.json.gz", b"\x1f\x8bnot really gzip", "not a readable gzip"),
        ("types.json", b'{"__schema": {"types": 3}}', "not a usable GraphQL introspection"),
        ("bad.graphql", b"type Query {", "is not GraphQL SDL"),
    ],
)
def test_a_file_that_is_not_a_schema_is_refused(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=reason):
        load_schema(path)


def test_plain_and_gzip_introspection_files_and_sdl_load_alike(tmp_path: Path) -> None:
    document = {"data": introspection("2025-10")}
    plain = tmp_path / "admin.json"
    plain.write_text(json.dumps(document))
    zipped = tmp_path / "admin.json.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    sdl = tmp_path / "tiny.graphql"
    sdl.write_text("type Query { ok: Boolean }")
    assert load_schema(plain).get_type("Order") is not None
    assert load_schema(zipped).get_type("Order") is not None
    assert load_schema(sdl).query_type is not None


def test_a_non_openapi_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "openapi.json"
    path.write_text('{"openapi": "3.1.0"}')
    with pytest.raises(InputFileError, match="not an OpenAPI document"):
        load_openapi(path)


def test_the_ops_package_stays_in_the_jobs_layer() -> None:
    # occ.ops may use store, sources, contracts, config and errors, never the interfaces.
    import ast

    package = Path(__file__).parents[1] / "src" / "occ" / "ops"
    imported: set[str] = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    assert {m for m in imported if m.startswith("occ.")} and not {
        m for m in imported if m.startswith(("occ.cli", "occ.web", "occ.refresh"))
    }
