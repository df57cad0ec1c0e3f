"""Check the Chatwoot requests occ sends and the fields it reads against an OpenAPI document.

The endpoints and parameters are those of :mod:`occ.sources.chatwoot` (its docstring lists
them); the response fields are those the contracts in :mod:`occ.contracts.chatwoot` read,
looked up in each endpoint's declared 200 response (``$ref`` and ``allOf`` followed, so the
list endpoint's ``meta.sender`` is found where Chatwoot declares it).
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from occ.contracts.chatwoot import (
    CONVERSATION_STATUSES,
    MESSAGE_TYPES,
    ConversationNode,
    MessageNode,
)
from occ.ops.schema_diff import Finding, Impact
from occ.ops.schema_usage import SLA, Affected

__all__ = ["CHATWOOT_ENDPOINTS", "ChatwootEndpoint", "check_chatwoot_openapi", "json_types"]


@dataclass(frozen=True, slots=True)
class ChatwootEndpoint:
    """One request occ sends: its parameters (and the values it sends), and what it reads."""

    path: str
    params: Mapping[str, tuple[str, ...]]  # name → values occ sends (empty: any value)
    items: tuple[str, ...]  # where the records are in the 200 answer, e.g. ("data", "payload")
    model: type[BaseModel] | None


CHATWOOT_ENDPOINTS: tuple[ChatwootEndpoint, ...] = (
    ChatwootEndpoint(
        "/api/v1/accounts/{account_id}/conversations",
        {
            "status": ("open", "pending", "resolved", "snoozed"),
            "assignee_type": ("all",),
            "page": (),
        },
        ("data", "payload"),
        ConversationNode,
    ),
    ChatwootEndpoint(
        "/api/v1/accounts/{account_id}/conversations/{conversation_id}", {}, (), ConversationNode
    ),
    ChatwootEndpoint(
        "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages",
        {"before": ()},
        ("payload",),
        MessageNode,
    ),
    ChatwootEndpoint(
        "/api/v1/accounts/{account_id}/conversations/meta", {"status": ("open",)}, (), None
    ),
)
# Enum values occ knows beyond the document, each documented in occ.contracts.chatwoot.
_KNOWN_UNDECLARED = {"ConversationNode.status": {"snoozed"}}
# Fields occ reads that the document does not declare, each documented in occ.contracts.chatwoot.
_KNOWN_UNDECLARED_FIELDS = frozenset({"ConversationMeta.team"})
_ENUMS: dict[str, set[Any]] = {
    "ConversationNode.status": set(CONVERSATION_STATUSES),
    "MessageNode.message_type": set(MESSAGE_TYPES.values()),
}


def json_types(annotation: Any) -> set[str] | None:
    """The JSON types a contract field accepts (None: anything)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return json_types(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        accepted: set[str] = set()
        for argument in get_args(annotation):
            found = json_types(argument)
            if found is None:
                return None
            accepted |= found
        return accepted
    simple = {type(None): "null", bool: "boolean", str: "string", list: "array", dict: "object"}
    if annotation in (int, float):
        return {"integer", "number"}
    if annotation in simple or origin in simple:
        return {simple[annotation if annotation in simple else origin]}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {"object"}
    return None if annotation is Any else {"string"}  # Decimal, datetime: strings on the wire


class _Spec:
    """``$ref``/``allOf`` resolution over one OpenAPI document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def resolve(self, schema: Any) -> dict[str, Any]:
        while isinstance(schema, Mapping) and "$ref" in schema:
            node: Any = self.document
            for part in str(schema["$ref"]).lstrip("#/").split("/"):
                node = node.get(part, {}) if isinstance(node, Mapping) else {}
            schema = node
        return dict(schema) if isinstance(schema, Mapping) else {}

    def properties(self, schema: Any) -> dict[str, Any]:
        resolved = self.resolve(schema)
        found: dict[str, Any] = {}
        for part in resolved.get("allOf", ()):
            found.update(self.properties(part))
        found.update(resolved.get("properties") or {})
        return found

    def types(self, schema: Any) -> set[str]:
        declared = self.resolve(schema).get("type")
        if declared is None:
            return set()
        return set(declared) if isinstance(declared, list) else {str(declared)}


def _affected(model: type[BaseModel] | None) -> tuple[Affected, ...]:
    contract = (Affected("contract", model.__name__, "occ.contracts.chatwoot"),) if model else ()
    return (SLA, *contract, Affected("query", "Chatwoot REST", "occ.sources.chatwoot"))


def _fields(
    spec: _Spec, model: type[BaseModel], schema: Any, owner: str
) -> Iterator[tuple[Impact, str, str, str]]:
    """(impact, change, action, change type) for each contract field the schema contradicts."""
    declared = spec.properties(schema)
    for name, info in model.model_fields.items():
        reader = f"{model.__name__}.{name}"
        accepted = json_types(info.annotation)
        required = info.is_required() and accepted is not None and "null" not in accepted
        if name not in declared and reader in _KNOWN_UNDECLARED_FIELDS:
            continue
        if name not in declared:
            yield (
                "P0" if required else "P1",
                f"{owner} does not declare {name}, which {reader} reads",
                f"Confirm Chatwoot still sends {name}, then update {reader}.",
                "FIELD_NOT_DECLARED",
            )
            continue
        documented = spec.types(declared[name])
        if (
            accepted is not None
            and documented - {"null"}
            and not (documented - {"null"}) & accepted
        ):
            yield (
                "P0",
                f"{owner}.{name} is {'/'.join(sorted(documented))} but {reader} expects "
                f"{'/'.join(sorted(accepted))}",
                f"Update {reader} to the declared type, or records are quarantined.",
                "FIELD_TYPE_MISMATCH",
            )
        elif required and "null" in documented:
            yield (
                "P1",
                f"{owner}.{name} may be null but {reader} requires a value",
                f"Make {reader} optional, or records without it are quarantined.",
                "FIELD_NULLABLE",
            )
        yield from _enum(spec, declared[name], reader, owner, name)
        nested = next(
            (a for a in (info.annotation, *get_args(info.annotation)) if _is_model(a)), None
        )
        if nested is not None and get_origin(info.annotation) is list:
            yield from _fields(
                spec, nested, spec.resolve(declared[name]).get("items"), f"{owner}.{name}[]"
            )
        elif nested is not None:
            yield from _fields(spec, nested, declared[name], f"{owner}.{name}")


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _enum(
    spec: _Spec, schema: Any, reader: str, owner: str, name: str
) -> Iterator[tuple[Impact, str, str, str]]:
    values = spec.resolve(schema).get("enum")
    if reader not in _ENUMS or not isinstance(values, list):
        return
    for value in sorted(set(values) - _ENUMS[reader], key=str):
        yield (
            "P1",
            f"{owner}.{name} declares {value!r}, which {reader} does not know",
            f"Decide how sla_breach_rate treats {value!r} (KPIS.md) and add it to the contract.",
            "ENUM_VALUE_UNKNOWN_TO_CONTRACT",
        )
    undeclared = _ENUMS[reader] - set(values) - _KNOWN_UNDECLARED.get(reader, set())
    for value in sorted(undeclared, key=str):
        yield (
            "P2",
            f"{owner}.{name} no longer declares {value!r}, which {reader} knows",
            "None needed unless Chatwoot stops sending it; check the API's changelog.",
            "ENUM_VALUE_NOT_DECLARED",
        )


def _items_schema(spec: _Spec, operation: Mapping[str, Any], items: tuple[str, ...]) -> Any:
    content = (operation.get("responses", {}).get("200") or {}).get("content", {})
    schema: Any = (content.get("application/json") or {}).get("schema")
    for part in items:
        schema = spec.properties(schema).get(part)
    return spec.resolve(schema).get("items") if items else schema


def check_chatwoot_openapi(
    document: Mapping[str, Any], *, source: str, detected_at: datetime
) -> list[Finding]:
    """Findings of occ's Chatwoot requests and contracts against an OpenAPI ``document``."""
    spec = _Spec(document)
    findings: list[Finding] = []
    for endpoint in CHATWOOT_ENDPOINTS:
        rows = list(_endpoint(spec, endpoint))
        affected = _affected(endpoint.model)
        findings += [
            Finding(source, change, detected_at, impact, affected, action, "violation", kind)
            for impact, change, action, kind in rows
        ]
    return sorted(findings, key=lambda finding: (finding.impact, finding.change))


def _endpoint(spec: _Spec, endpoint: ChatwootEndpoint) -> Iterator[tuple[Impact, str, str, str]]:
    request = f"GET {endpoint.path}"
    update = "Update occ.sources.chatwoot to what the document declares."
    operation = (spec.document.get("paths", {}).get(endpoint.path) or {}).get("get")
    if not isinstance(operation, Mapping):
        yield "P0", f"{request} is not declared", update, "ENDPOINT_NOT_DECLARED"
        return
    declared = {p.get("name"): p for p in map(spec.resolve, operation.get("parameters") or ())}
    for name, sent in endpoint.params.items():
        if name not in declared:
            change = f"{request} does not declare the parameter {name}"
            yield "P0", change, update, "PARAMETER_NOT_DECLARED"
            continue
        allowed = spec.resolve(declared[name].get("schema")).get("enum")
        for value in sent:
            if isinstance(allowed, list) and value not in allowed:
                change = f"{request}: {name}={value} is not a declared value"
                yield "P0", change, update, "PARAMETER_VALUE_NOT_DECLARED"
    if endpoint.model is not None:
        items = _items_schema(spec, operation, endpoint.items)
        name = endpoint.path.rsplit("/", 1)[-1]
        owner = f"{name} {'.'.join(endpoint.items)}[]" if endpoint.items else f"{name} answer"
        yield from _fields(spec, endpoint.model, items, owner)
