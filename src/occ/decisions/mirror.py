"""The mirror database: opening it, reading its shape once per run, and idempotent upserts.

Two mirror tables, created with ``CREATE TABLE IF NOT EXISTS`` on first use:

- ``decision_log``: the decision's columns plus ``version``; the upsert is
  ``ON CONFLICT (id) DO UPDATE … WHERE decision_log.version < excluded.version``, so that a
  replayed or out-of-order delivery changes nothing (SQLite and Postgres share the syntax).
- ``facts``: the dashboard facts, keyed by the fact id, with the same version guard.

A ``decision_log`` in the older shape (``who``/``what``/``why``/``sha`` instead of
``actor``/``action``/``rationale``/``external_ref``) is recognised from the catalog once per
run and written in its own shape; any other table missing a column is refused with a
:class:`MirrorSchemaError` that names the column, never probed by trial and error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    inspect,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateTable
from sqlalchemy.types import NullType

from occ.decisions.connect import insert_json_rows, mirror_transaction
from occ.errors import MirrorError
from occ.store.types import UtcDateTime

__all__ = [
    "DECISION_COLUMNS",
    "FACT_COLUMNS",
    "LEGACY_COLUMNS",
    "MIRROR_DECISIONS",
    "MIRROR_FACTS",
    "MirrorSchema",
    "MirrorSchemaError",
    "prepare_mirror",
    "upsert_decisions",
    "upsert_facts",
]

MIRROR_DECISIONS = "decision_log"
MIRROR_FACTS = "facts"
# occ's decision field → the legacy mirror column that holds it.
LEGACY_COLUMNS = {"actor": "who", "action": "what", "rationale": "why", "external_ref": "sha"}
_LEGACY_REQUIRED = frozenset({"id", "who", "what"})
# Columns a legacy table keeps under occ's names; each written when present.
_LEGACY_KEPT = ("evidence_url", "created_at", "scope", "shop_domain")
_SCHEMA_LOCK = 0x6F6363_6D6972  # pg_advisory_xact_lock key: two workers never race a CREATE


class MirrorSchemaError(MirrorError):
    """The mirror's tables have a shape occ cannot write (never retried)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _standard_tables() -> tuple[Table, Table]:
    metadata = MetaData()
    decisions = Table(
        MIRROR_DECISIONS,
        metadata,
        Column("id", Text, primary_key=True),
        Column("scope", Text, nullable=False),
        Column("actor", Text, nullable=False),
        Column("action", Text, nullable=False),
        Column("rationale", Text),
        Column("evidence_url", Text),
        Column("shop_domain", Text),
        Column("external_ref", Text),
        Column("payload", JSON(none_as_null=True)),
        Column("created_at", UtcDateTime, nullable=False),
        Column("version", Integer, nullable=False),
    )
    facts = Table(
        MIRROR_FACTS,
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=False),
        Column("shop_domain", Text, nullable=False),
        Column("fact_type", Text, nullable=False),
        Column("scope", Text, nullable=False),
        Column("value", JSON, nullable=False),
        Column("metadata", JSON, nullable=False),
        Column("evidence_url", Text),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        Column("version", Integer, nullable=False),
    )
    return decisions, facts


DECISION_COLUMNS = tuple(column.name for column in _standard_tables()[0].columns)
FACT_COLUMNS = tuple(column.name for column in _standard_tables()[1].columns)


@dataclass(frozen=True, slots=True)
class MirrorSchema:
    """How to write the mirror, as read from its catalog (once per run).

    Attributes:
        decisions: the table to write decisions to, in the mirror's own shape.
        decision_columns: occ's decision field → the mirror column holding it.
        versioned: whether ``decision_log`` has a ``version`` column (legacy may not).
        facts: the ``facts`` table.
        legacy: whether ``decision_log`` has the older who/what/why/sha shape.
        notices: one-line notices for the operator (the legacy-shape one).
    """

    decisions: Table
    decision_columns: Mapping[str, str]
    versioned: bool
    facts: Table
    legacy: bool
    notices: tuple[str, ...]


def _has_unique_id(connection: Connection, table: str) -> bool:
    inspector = inspect(connection)
    if inspector.get_pk_constraint(table).get("constrained_columns") == ["id"]:
        return True
    uniques = [u["column_names"] for u in inspector.get_unique_constraints(table)]
    indexes = [i["column_names"] for i in inspector.get_indexes(table) if i.get("unique")]
    return ["id"] in uniques or ["id"] in indexes


def _missing(present: set[str], wanted: Sequence[str], table: str) -> MirrorSchemaError:
    missing = [name for name in wanted if name not in present]
    columns = ", ".join(missing)
    return MirrorSchemaError(
        f"the mirror table {table} has no column(s) {columns}; add them "
        f"(ALTER TABLE {table} ADD COLUMN …) or point the mirror at an empty database",
        code="42703",
    )


def _legacy_table(present: set[str]) -> tuple[Table, dict[str, str], bool]:
    # Untyped columns: the driver sends plain values and the server casts them to whatever
    # the legacy column is (text or uuid ids, text or timestamptz created_at).
    wanted = {"id": "id", **LEGACY_COLUMNS} | {name: name for name in _LEGACY_KEPT}
    mapping = {field: column for field, column in wanted.items() if column in present}
    versioned = "version" in present
    columns: list[Column[Any]] = [Column(column, NullType()) for column in mapping.values()]
    if versioned:
        columns.append(Column("version", Integer))
    return Table(MIRROR_DECISIONS, MetaData(), *columns), mapping, versioned


def prepare_mirror(engine: Engine, *, timeout_seconds: float = 10.0) -> MirrorSchema:
    """Create the mirror tables when absent and read their shape from the catalog.

    Raises:
        MirrorSchemaError: a table lacks a column occ needs and is not the legacy shape.
        sqlalchemy.exc.SQLAlchemyError: the mirror failed (classified by the caller).
    """
    decisions, facts = _standard_tables()
    with mirror_transaction(engine, timeout_seconds) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        inspector = inspect(connection)
        for table in (decisions, facts):
            if not inspector.has_table(table.name):
                connection.execute(CreateTable(table, if_not_exists=True))
        inspector = inspect(connection)  # fresh catalog cache
        decision_present = {c["name"] for c in inspector.get_columns(MIRROR_DECISIONS)}
        fact_present = {c["name"] for c in inspector.get_columns(MIRROR_FACTS)}
        if not set(FACT_COLUMNS) <= fact_present:
            raise _missing(fact_present, FACT_COLUMNS, MIRROR_FACTS)
        if set(DECISION_COLUMNS) <= decision_present:
            mapping = {name: name for name in DECISION_COLUMNS if name != "version"}
            return MirrorSchema(decisions, mapping, True, facts, False, ())
        if not _LEGACY_REQUIRED <= decision_present or "actor" in decision_present:
            raise _missing(decision_present, DECISION_COLUMNS, MIRROR_DECISIONS)
        if not _has_unique_id(connection, MIRROR_DECISIONS):
            raise MirrorSchemaError(
                f"the legacy mirror table {MIRROR_DECISIONS} has no primary key or unique "
                f"index on id; add one (ALTER TABLE {MIRROR_DECISIONS} ADD PRIMARY KEY (id))",
                code="42P10",
            )
    legacy, mapping, versioned = _legacy_table(decision_present)
    written = ", ".join(f"{field}→{column}" for field, column in mapping.items() if field != column)
    left_out = [name for name in DECISION_COLUMNS[1:-1] if name not in mapping]
    notice = (
        f"the mirror's {MIRROR_DECISIONS} has the legacy shape (who/what/why/sha): writing "
        f"{written}" + (f"; not mirrored: {', '.join(left_out)}" if left_out else "")
    )
    return MirrorSchema(legacy, mapping, versioned, facts, True, (notice,))


def _legacy_value(value: Any) -> Any:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def _upsert(
    connection: Connection, table: Table, rows: list[dict[str, Any]], versioned: bool
) -> set[str]:
    if not rows:
        return set()
    if connection.dialect.name == "postgresql":
        quote = connection.dialect.identifier_preparer.quote
        name, others = quote(table.name), [quote(c.name) for c in table.columns if c.name != "id"]
        conflict = (
            f"DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in others)} "
            f"WHERE {name}.version < excluded.version"
            if versioned
            else "DO NOTHING"  # decisions never change: the same id is the same decision
        )
        columns = [column.name for column in table.columns]
        suffix = f"ON CONFLICT (id) {conflict} RETURNING id"
        result = insert_json_rows(connection, table.name, columns, rows, suffix=suffix)
        return {str(row[0]) for row in result}
    statement = sqlite.insert(table)
    if versioned:
        updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name != "id"}
        statement = statement.on_conflict_do_update(
            index_elements=["id"],
            set_=updates,
            where=table.c.version < statement.excluded.version,
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["id"])
    return {str(row[0]) for row in connection.execute(statement.returning(table.c.id), rows)}


def upsert_decisions(
    connection: Connection, schema: MirrorSchema, decisions: Sequence[Mapping[str, Any]]
) -> set[str]:
    """Upsert decisions (occ's field names plus ``version``); return the ids that changed.

    An id not returned was a no-op: the mirror already had that version or a newer one.
    """
    rows: list[dict[str, Any]] = []
    for decision in decisions:
        if schema.legacy:
            row = {
                column: _legacy_value(decision[field])
                for field, column in schema.decision_columns.items()
            }
        else:
            row = {column: decision[field] for field, column in schema.decision_columns.items()}
        if schema.versioned:
            row["version"] = decision["version"]
        rows.append(row)
    return _upsert(connection, schema.decisions, rows, schema.versioned)


def upsert_facts(
    connection: Connection, schema: MirrorSchema, facts: Sequence[Mapping[str, Any]]
) -> set[str]:
    """Upsert facts (the ``dashboard_fact`` columns plus ``version``); return ids that changed."""
    rows = [{name: fact[name] for name in FACT_COLUMNS} for fact in facts]
    return _upsert(connection, schema.facts, rows, True)
