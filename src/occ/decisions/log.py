"""Recording and listing operator decisions (decision log + outbox, one transaction)."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, insert, select
from sqlalchemy.exc import SQLAlchemyError

from occ.contracts.secrets import mask
from occ.errors import InputFileError, StoreError
from occ.store.engine import masked_url
from occ.store.outbox import enqueue
from occ.store.tables import DecisionLog

__all__ = [
    "DECISIONS",
    "Decision",
    "add_decision",
    "insert_decision",
    "list_decisions",
    "new_decision",
]

DECISIONS = cast(Table, DecisionLog.__table__)
_LIMITS = {"scope": 64, "actor": 255, "action": 255, "shop_domain": 255, "external_ref": 255}


@dataclass(frozen=True, slots=True)
class Decision:
    id: str
    scope: str
    actor: str
    action: str
    rationale: str | None
    evidence_url: str | None
    shop_domain: str | None
    external_ref: str | None
    payload: dict[str, Any] | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["created_at"] = self.created_at.isoformat()
        return values


def _validate(values: dict[str, Any]) -> None:
    for name in ("scope", "actor", "action"):
        if not str(values[name] or "").strip():
            raise InputFileError(f"a decision needs a non-empty --{name}")
    for name, limit in _LIMITS.items():
        value = values.get(name)
        if value is not None and len(value) > limit:
            raise InputFileError(f"--{name.replace('_', '-')} is longer than {limit} characters")
    payload = values.get("payload")
    if payload is not None and not isinstance(payload, dict):
        raise InputFileError('--payload must be a JSON object, e.g. \'{"sku": "HRP-1"}\'')


def new_decision(
    *,
    scope: str,
    actor: str,
    action: str,
    now: datetime,
    rationale: str | None = None,
    evidence_url: str | None = None,
    shop_domain: str | None = None,
    external_ref: str | None = None,
    payload: dict[str, Any] | None = None,
    decision_id: str | None = None,
) -> Decision:
    """A validated decision, not yet written.

    A credential typed into a decision (a configured secret, or anything that looks like a
    live one) is masked before it reaches the audit trail and its mirror.

    Raises:
        InputFileError: a required field is empty, a value is too long, or the actor is not
            an e-mail address.
    """
    decision = Decision(
        id=decision_id or str(uuid.uuid4()),
        scope=scope.strip(),
        actor=actor.strip(),
        action=mask(action.strip()),
        rationale=None if rationale is None else mask(rationale),
        evidence_url=None if evidence_url is None else mask(evidence_url),
        shop_domain=shop_domain,
        external_ref=None if external_ref is None else mask(external_ref),
        payload=None if payload is None else json.loads(mask(json.dumps(payload))),
        created_at=now,
    )
    _validate(asdict(decision))
    return decision


def insert_decision(connection: Connection, decision: Decision) -> None:
    """Write ``decision`` and its outbox entry in the caller's transaction."""
    connection.execute(insert(DECISIONS).values(**asdict(decision)))
    enqueue(
        connection,
        kind="decision",
        ref_id=decision.id,
        at=decision.created_at,
        scope=decision.scope,
    )


def add_decision(engine: Engine, **fields: Any) -> Decision:
    """Write a decision and its outbox entry in one transaction (transactional outbox).

    ``fields`` are those of :func:`new_decision`.

    Raises:
        InputFileError: a required field is empty or a value is too long.
        StoreError: the primary store failed; nothing was written.
    """
    decision = new_decision(**fields)
    try:
        with engine.begin() as connection:
            insert_decision(connection, decision)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot record the decision in {masked_url(str(engine.url))}: "
            f"{type(exc).__name__}; nothing was written — check the database"
        ) from exc
    return decision


def list_decisions(
    connection: Connection,
    *,
    scope: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Decision]:
    """Decisions, newest first, optionally of one scope and actor, in ``[since, until)``."""
    query = select(DECISIONS).order_by(DECISIONS.c.created_at.desc(), DECISIONS.c.id)
    if scope is not None:
        query = query.where(DECISIONS.c.scope == scope)
    if actor is not None:
        query = query.where(DECISIONS.c.actor == actor)
    if since is not None:
        query = query.where(DECISIONS.c.created_at >= since)
    if until is not None:
        query = query.where(DECISIONS.c.created_at < until)
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    return [Decision(**dict(row)) for row in connection.execute(query).mappings()]
