"""Compare two Shopify Admin schemas and keep the changes that reach occ's queries and KPIs.

graphql-core's :func:`~graphql.find_schema_changes` finds and classifies every change
(breaking / dangerous / safe, as GraphQL Inspector does); this module keeps those that touch
what occ uses (:mod:`occ.ops.schema_usage`) and maps them to the seed's severities with
direction awareness, as oasdiff does — occ *reads* Shopify's output types and *sends*
arguments and variables:

- P0 critical: a type, field or argument occ uses is removed or changes type, a value occ
  sends leaves an enum, a required argument is added to a field occ selects — the query or
  the KPI breaks.
- P1 high: a value is added to (or leaves) an enum a KPI interprets, a field or enum value
  occ reads is deprecated, a default occ relies on changes — the KPI may misread.
- P2 low: a field is added to a type occ reads, a change that is safe in occ's direction.

graphql-core 3.3 does not compare deprecations, so those few coordinates are checked here.
Description changes and directive changes are not reported (occ's results do not depend on
them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from graphql import (
    BreakingChangeType,
    DangerousChangeType,
    GraphQLEnumType,
    GraphQLObjectType,
    GraphQLSchema,
    SchemaChange,
    find_schema_changes,
    is_interface_type,
    is_object_type,
)

from occ.ops.schema_usage import (
    ENUM_CONTRACTS,
    FIELD_KPIS,
    Affected,
    SchemaUsage,
    affected_by_coordinate,
    affected_by_documents,
    schema_usage,
)

__all__ = [
    "IMPACTS",
    "Finding",
    "Impact",
    "diff_schemas",
    "needs_attention",
]

Impact = Literal["P0", "P1", "P2"]
IMPACTS: tuple[Impact, ...] = ("P0", "P1", "P2")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing an operator should know about a contract, in the report's form.

    ``classification`` is GraphQL Inspector's word (breaking / dangerous / safe) for schema
    changes, ``violation`` for a contract check and ``observed`` for drift seen in data.
    ``observed`` holds ``first_seen``/``last_seen``/``occurrences`` of observed drift.
    """

    source: str
    change: str
    detected_at: datetime
    impact: Impact
    affected: tuple[Affected, ...]
    action: str
    classification: str
    change_type: str
    coordinate: str | None = None
    observed: Mapping[str, Any] | None = None


def needs_attention(findings: Iterable[Finding]) -> bool:
    """True when any finding is P0 or P1 (the CLI then exits 1)."""
    return any(finding.impact in ("P0", "P1") for finding in findings)


_C = r"(?P<type>\w+)\.(?P<member>\w+)"
_A = _C + r"\((?P<arg>\w+):\)"
_PAIR = r"(?P<{}>\w+) {} (?P<{}>\w+)"
# graphql-core's description of each change type → the coordinate it names.
_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("TYPE_REMOVED",), r"^(?:Standard scalar )?(?P<type>\w+) was removed"),
    (("TYPE_CHANGED_KIND",), r"^(?P<type>\w+) changed from"),
    (
        ("TYPE_REMOVED_FROM_UNION",),
        "^" + _PAIR.format("member", "was removed from union type", "type"),
    ),
    (("TYPE_ADDED_TO_UNION",), "^" + _PAIR.format("member", "was added to union type", "type")),
    (("VALUE_ADDED_TO_ENUM", "VALUE_REMOVED_FROM_ENUM"), r"^Enum value " + _C),
    (("REQUIRED_INPUT_FIELD_ADDED", "OPTIONAL_INPUT_FIELD_ADDED"), r"field " + _C + " was"),
    (
        ("IMPLEMENTED_INTERFACE_ADDED",),
        "^" + _PAIR.format("member", "added to interfaces implemented by", "type"),
    ),
    (
        ("IMPLEMENTED_INTERFACE_REMOVED",),
        "^" + _PAIR.format("type", "no longer implements interface", "member"),
    ),
    (
        ("FIELD_REMOVED", "FIELD_ADDED", "FIELD_CHANGED_KIND", "FIELD_CHANGED_KIND_SAFE"),
        "^Field " + _C,
    ),
    (("REQUIRED_ARG_ADDED", "OPTIONAL_ARG_ADDED"), r"argument " + _A + " was added"),
    (("ARG_REMOVED", "ARG_CHANGED_KIND", "ARG_CHANGED_KIND_SAFE"), r"^Argument " + _A),
    (("ARG_DEFAULT_VALUE_CHANGE", "ARG_DEFAULT_VALUE_ADDED"), r"^" + _A),
    (("INPUT_FIELD_DEFAULT_VALUE_CHANGE", "INPUT_FIELD_DEFAULT_VALUE_ADDED"), r"^" + _C + " "),
)
_PATTERNS = {name: re.compile(pattern) for names, pattern in _RULES for name in names}


@dataclass(frozen=True, slots=True)
class _Change:
    """One change as occ sees it: what it names, the documents touched, its severity."""

    name: str
    description: str
    classification: str
    type: str
    member: str | None
    arg: str | None
    impact: Impact
    breaks: bool  # occ's query or contract stops working (affected: every KPI of the query)
    documents: frozenset[str]
    reason: str | None = None  # a deprecation reason

    @property
    def coordinate(self) -> str:
        base = f"{self.type}.{self.member}" if self.member else self.type
        return f"{base}({self.arg}:)" if self.arg else base


def _interpreted(enum: str) -> bool:
    """A KPI reads this enum's values (not just stores them as text)."""
    return enum in ENUM_CONTRACTS or enum in FIELD_KPIS


def _classification(change: SchemaChange) -> str:
    if isinstance(change.type, BreakingChangeType):
        return "breaking"
    return "dangerous" if isinstance(change.type, DangerousChangeType) else "safe"


def _rate(
    name: str, type_: str, member: str | None, arg: str | None, usage: SchemaUsage, roots: set[str]
) -> tuple[Impact, bool, set[str]] | None:
    """Severity of one change for occ, whether it breaks occ, and the documents it touches."""
    field = f"{type_}.{member}"
    argument = f"{field}({arg}:)"
    docs = usage.documents_of
    if name in ("TYPE_REMOVED", "TYPE_CHANGED_KIND") and type_ in usage.types:
        return "P0", True, docs(type_)
    if name in ("FIELD_REMOVED", "FIELD_CHANGED_KIND"):
        if field in usage.fields or type_ in usage.input_types:
            return "P0", True, docs(field, type_)
    elif name == "FIELD_CHANGED_KIND_SAFE" and field in usage.fields:
        return "P2", False, docs(field)
    elif name == "FIELD_ADDED" and type_ in usage.read_types and type_ not in roots:
        return "P2", False, set(usage.read_types[type_])
    elif name == "VALUE_ADDED_TO_ENUM":
        if type_ in usage.output_enums:
            return ("P1" if _interpreted(type_) else "P2"), False, docs(type_)
        if type_ in usage.input_types:
            return "P2", False, docs(type_)
    elif name == "VALUE_REMOVED_FROM_ENUM":
        if field in usage.enum_values_sent:
            return "P0", True, docs(field)
        if type_ in usage.output_enums and _interpreted(type_):
            return "P1", False, docs(type_)
        if type_ in usage.types:
            return "P2", False, docs(type_)
    elif name == "TYPE_ADDED_TO_UNION" and type_ in usage.types:
        return "P1", False, docs(type_)
    elif name == "TYPE_REMOVED_FROM_UNION" and type_ in usage.types:
        if member in usage.read_types:
            return "P0", True, docs(member or "")
        return "P2", False, docs(type_)
    elif name in ("REQUIRED_ARG_ADDED", "REQUIRED_INPUT_FIELD_ADDED"):
        input_field = name == "REQUIRED_INPUT_FIELD_ADDED" and type_ in usage.input_types
        if field in usage.fields or input_field:
            return "P0", True, docs(field, type_)
    elif name in ("ARG_REMOVED", "ARG_CHANGED_KIND") and argument in usage.arguments:
        return "P0", True, docs(argument)
    elif name == "ARG_DEFAULT_VALUE_CHANGE" and field in usage.fields:
        # occ relies on a default it does not pass: the results may change silently
        return ("P2" if argument in usage.arguments else "P1"), False, docs(field)
    elif name == "INPUT_FIELD_DEFAULT_VALUE_CHANGE" and type_ in usage.input_types:
        return "P1", False, docs(type_)
    elif name == "IMPLEMENTED_INTERFACE_REMOVED" and type_ in usage.read_types:
        if member in usage.read_types:
            return "P0", True, docs(member or "")
        return "P2", False, docs(type_)
    if name.startswith(("ARG_", "OPTIONAL_ARG")) and field in usage.fields:
        return "P2", False, docs(field)
    if name.startswith(("OPTIONAL_INPUT", "INPUT_FIELD")) and type_ in usage.input_types:
        return "P2", False, docs(type_)
    if name == "IMPLEMENTED_INTERFACE_ADDED" and type_ in usage.read_types:
        return "P2", False, docs(type_)
    return None


def _relevant(change: SchemaChange, usage: SchemaUsage, roots: set[str]) -> _Change | None:
    name = change.type.name
    pattern = _PATTERNS.get(name)
    found = pattern.search(change.description) if pattern else None
    if found is None:  # description, directive and added-type changes never reach occ
        return None
    parts = found.groupdict()
    rated = _rate(name, parts["type"], parts.get("member"), parts.get("arg"), usage, roots)
    if rated is None:
        return None
    impact, breaks, documents = rated
    return _Change(
        name,
        change.description,
        _classification(change),
        parts["type"],
        parts.get("member"),
        parts.get("arg"),
        impact,
        breaks,
        frozenset(documents),
    )


def _deprecations(old: GraphQLSchema, new: GraphQLSchema, usage: SchemaUsage) -> list[_Change]:
    """Fields and enum values occ uses that ``new`` deprecates and ``old`` did not."""
    found: list[_Change] = []
    for coordinate, documents in sorted(usage.fields.items()):
        type_name, field_name = coordinate.split(".", 1)
        before, after = old.get_type(type_name), new.get_type(type_name)
        if not (is_object_type(after) or is_interface_type(after)):
            continue
        was = getattr(before, "fields", {}).get(field_name)
        now = after.fields.get(field_name)
        if now is not None and now.deprecation_reason and not (was and was.deprecation_reason):
            reason = now.deprecation_reason
            found.append(_deprecated("FIELD_DEPRECATED", coordinate, reason, "P1", documents))
    sent_enums = {value.split(".", 1)[0] for value in usage.enum_values_sent}
    for enum_name in sorted(set(usage.output_enums) | sent_enums):
        before, after = old.get_type(enum_name), new.get_type(enum_name)
        if not (isinstance(before, GraphQLEnumType) and isinstance(after, GraphQLEnumType)):
            continue
        for value_name, value in after.values.items():
            coordinate = f"{enum_name}.{value_name}"
            previous = before.values.get(value_name)
            if not value.deprecation_reason or (previous and previous.deprecation_reason):
                continue
            if coordinate in usage.enum_values_sent:
                impact: Impact = "P1"
            elif enum_name in usage.output_enums:
                impact = "P1" if _interpreted(enum_name) else "P2"
            else:
                continue
            documents = usage.documents_of(coordinate, enum_name)
            reason = value.deprecation_reason
            found.append(
                _deprecated("ENUM_VALUE_DEPRECATED", coordinate, reason, impact, documents)
            )
    return found


def _deprecated(
    name: str, coordinate: str, reason: str, impact: Impact, documents: Iterable[str]
) -> _Change:
    type_name, member = coordinate.split(".", 1)
    kind = "Field" if name == "FIELD_DEPRECATED" else "Enum value"
    reason_line = " ".join(reason.split())
    return _Change(
        name,
        f"{kind} {coordinate} was deprecated: {reason_line}",
        "safe",  # GraphQL Inspector: a deprecation breaks nothing yet
        type_name,
        member,
        None,
        impact,
        False,
        frozenset(documents),
        reason_line,
    )


def _action(change: _Change) -> str:
    docs = ", ".join(sorted(change.documents)) or "occ's queries"
    kpis = [a.name for a in FIELD_KPIS.get(change.coordinate, FIELD_KPIS.get(change.type, ()))]
    kpi_text = " and ".join(kpis) or "the KPIs"
    contract = ENUM_CONTRACTS.get(change.type)
    if change.breaks:
        return (
            f"Update {docs} (occ/sources/graphql) and occ.contracts.shopify before moving occ to "
            "the new API version; `occ contracts check --shopify-schema NEW` must then report "
            "no P0."
        )
    if change.name == "VALUE_ADDED_TO_ENUM" and contract is not None:
        if change.member in contract.known:
            return (
                f"{change.member} is already in {contract.constant}: confirm {kpi_text} treat it "
                "as KPIS.md says before moving to the new API version."
            )
        return (
            f"Decide how {kpi_text} count {change.member} (KPIS.md) and add it to "
            f"{contract.constant}; until then each record carrying it is reported as drift "
            "(`occ contracts drift`)."
        )
    if change.name == "VALUE_ADDED_TO_ENUM" and change.impact == "P1":
        return (
            f"Check that the code reading {change.type} ({docs}) handles {change.member}; "
            f"{kpi_text} depend on it."
        )
    if change.name == "VALUE_REMOVED_FROM_ENUM" and change.impact == "P1":
        return f"Review the rules of {kpi_text} that name {change.member} (KPIS.md)."
    if change.name == "FIELD_DEPRECATED":
        return f"Move {docs} off {change.coordinate} before Shopify removes it."
    if change.name == "ENUM_VALUE_DEPRECATED" and change.impact == "P1":
        return f"Plan for {change.member} going away: review {kpi_text} and {docs}."
    if change.name == "ARG_DEFAULT_VALUE_CHANGE" and change.impact == "P1":
        return f"Pass {change.arg} explicitly in {docs} so results do not follow the new default."
    if change.name == "ARG_DEFAULT_VALUE_CHANGE":
        return (
            f"None needed: occ passes {change.arg} explicitly ({docs}); the default does not apply."
        )
    if change.name == "TYPE_ADDED_TO_UNION":
        return f"Make {docs} handle {change.member}: occ may now receive it."
    if change.name == "VALUE_ADDED_TO_ENUM":
        return f"None needed: occ stores {change.type} values as text and no KPI interprets them."
    if change.name == "FIELD_ADDED":
        return "None needed: occ does not read the new field; consider it if a KPI needs it."
    return "None needed: the change is safe in the direction occ uses it."


def _roots(schema: GraphQLSchema) -> list[GraphQLObjectType]:
    candidates = (schema.query_type, schema.mutation_type, schema.subscription_type)
    return [root for root in candidates if root is not None]


def diff_schemas(
    old: GraphQLSchema,
    new: GraphQLSchema,
    *,
    source: str,
    detected_at: datetime,
    documents: Mapping[str, str] | None = None,
) -> list[Finding]:
    """The changes from ``old`` to ``new`` that reach occ, most severe first.

    Args:
        old: The schema occ runs against now.
        new: The schema it would move to.
        source: How the report names the pair, e.g. ``Shopify Admin API 2025-10 → 2026-10``.
        detected_at: When the comparison ran (UTC); the report's date.
        documents: Operation name → document text; default occ's, read at call time.
    """
    usage = schema_usage(old, documents).merge(schema_usage(new, documents))
    # a field added to the query or mutation root is a new entry point, not a change to a read
    roots = {root.name for s in (old, new) for root in _roots(s)}
    found = (_relevant(change, usage, roots) for change in find_schema_changes(old, new))
    changes = [change for change in found if change is not None]
    changes += _deprecations(old, new, usage)
    changes.sort(key=lambda c: (IMPACTS.index(c.impact), c.coordinate, c.name))
    return [
        Finding(
            source=source,
            change=change.description,
            detected_at=detected_at,
            impact=change.impact,
            affected=(
                affected_by_documents(change.documents)
                if change.breaks
                else affected_by_coordinate(change.coordinate, change.documents)
            ),
            action=_action(change),
            classification=change.classification,
            change_type=change.name,
            coordinate=change.coordinate,
        )
        for change in changes
    ]
