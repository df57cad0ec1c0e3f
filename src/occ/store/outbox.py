"""The transactional outbox: rows to mirror, written with the row itself, never dropped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select, update

from occ.store.tables import DashboardFact, DecisionLog, OutboxEntry

__all__ = [
    "OUTBOX",
    "ClaimedEntry",
    "EntryOutcome",
    "claim_pending",
    "dead_entries",
    "enqueue",
    "oldest_pending",
    "outbox_counts",
    "record_outcomes",
    "referenced_rows",
    "revive_dead",
]

OUTBOX = cast(Table, OutboxEntry.__table__)
_REFERENCED = {
    "decision": cast(Table, DecisionLog.__table__),
    "fact": cast(Table, DashboardFact.__table__),
}


def enqueue(
    connection: Connection,
    *,
    kind: str,
    ref_id: str,
    at: datetime,
    scope: str | None = None,
    version: int = 1,
) -> int:
    """Add a pending entry for ``ref_id``; call it in the transaction that wrote the row."""
    result = connection.execute(
        insert(OUTBOX).values(
            kind=kind,
            ref_id=ref_id,
            version=version,
            scope=scope,
            status="pending",
            attempts=0,
            created_at=at,
            updated_at=at,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def outbox_counts(connection: Connection) -> Counter[tuple[str, str]]:
    """How many entries there are per (kind, status)."""
    rows = connection.execute(
        select(OUTBOX.c.kind, OUTBOX.c.status, func.count()).group_by(
            OUTBOX.c.kind, OUTBOX.c.status
        )
    )
    return Counter({(kind, status): count for kind, status, count in rows})


@dataclass(frozen=True, slots=True)
class ClaimedEntry:
    """A pending entry taken for delivery, with its attempts so far."""

    id: int
    kind: str
    ref_id: str
    version: int
    scope: str | None
    attempts: int


@dataclass(frozen=True, slots=True)
class EntryOutcome:
    """What a sync run did with an entry: its new status, total attempts and last error."""

    id: int
    status: str  # pending | sent | dead
    attempts: int
    error_code: str | None = None
    error: str | None = None


def claim_pending(connection: Connection, limit: int, *, lock: bool) -> list[ClaimedEntry]:
    """The oldest ``limit`` pending entries.

    With ``lock`` (Postgres) they are locked ``FOR UPDATE SKIP LOCKED``: the claim lasts as
    long as the caller's transaction, other workers skip them, and a crashed worker's claim
    ends with its connection. Without it (SQLite, one writer) nothing is locked.
    """
    query = (
        select(
            OUTBOX.c.id,
            OUTBOX.c.kind,
            OUTBOX.c.ref_id,
            OUTBOX.c.version,
            OUTBOX.c.scope,
            OUTBOX.c.attempts,
        )
        .where(OUTBOX.c.status == "pending")
        .order_by(OUTBOX.c.id)
        .limit(limit)
    )
    if lock:
        query = query.with_for_update(skip_locked=True)
    return [ClaimedEntry(*row) for row in connection.execute(query)]


def record_outcomes(connection: Connection, outcomes: Sequence[EntryOutcome], at: datetime) -> None:
    """Store each entry's new status, attempts and last error (``sent_at`` when sent).

    Entries with the same outcome (a batch usually shares one) are updated by one statement.
    """
    groups: dict[tuple[str, int, str | None, str | None], list[int]] = {}
    for outcome in outcomes:
        key = (outcome.status, outcome.attempts, outcome.error_code, outcome.error)
        groups.setdefault(key, []).append(outcome.id)
    for (status, attempts, code, error), ids in groups.items():
        connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(ids))
            .values(
                status=status,
                attempts=attempts,
                last_error=error,
                last_error_code=code,
                sent_at=at if status == "sent" else None,
                updated_at=at,
            )
        )


def revive_dead(connection: Connection, at: datetime) -> int:
    """Put every dead entry back to pending with a fresh attempt budget; return how many."""
    result = connection.execute(
        update(OUTBOX)
        .where(OUTBOX.c.status == "dead")
        .values(status="pending", attempts=0, updated_at=at)
    )
    return int(result.rowcount)


def dead_entries(connection: Connection, limit: int | None = None) -> list[dict[str, object]]:
    """Dead entries, oldest first, with their last error."""
    query = (
        select(
            OUTBOX.c.id,
            OUTBOX.c.kind,
            OUTBOX.c.ref_id,
            OUTBOX.c.version,
            OUTBOX.c.scope,
            OUTBOX.c.attempts,
            OUTBOX.c.last_error_code,
            OUTBOX.c.last_error,
            OUTBOX.c.updated_at,
        )
        .where(OUTBOX.c.status == "dead")
        .order_by(OUTBOX.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [dict(row) for row in connection.execute(query).mappings()]


def oldest_pending(connection: Connection) -> datetime | None:
    """When the oldest pending entry was written (None: nothing pending)."""
    value = connection.execute(
        select(func.min(OUTBOX.c.created_at)).where(OUTBOX.c.status == "pending")
    ).scalar_one_or_none()
    return cast(datetime | None, value)


def referenced_rows(
    connection: Connection, entries: Sequence[ClaimedEntry]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The rows the entries refer to, keyed by (kind, ref_id); a deleted row is absent."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, table in _REFERENCED.items():
        refs: list[Any] = [e.ref_id for e in entries if e.kind == kind]
        if kind == "fact":  # integer ids
            refs = [int(ref) for ref in refs if ref.isdigit()]
        if refs:
            for row in connection.execute(select(table).where(table.c.id.in_(refs))).mappings():
                rows[kind, str(row["id"])] = dict(row)
    return rows
