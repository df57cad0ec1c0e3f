"""Sync events (one row per delivery attempt of an outbox entry), their export, the status.

The export is the input of the sync-log analyzer: one JSON object per line with exactly the
fields ``decisionId, status, durationMs, errorCode, errorMessage, attempt, timestamp, scope``.
Error messages are stored with every ``scheme://user:password@`` and ``password=…`` masked,
and with any secret the caller names replaced, so no export ever carries a credential.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, func, insert, select

from occ.contracts.secrets import mask
from occ.decisions.connect import insert_json_rows, mask_secrets
from occ.errors import InputFileError
from occ.store.files import replaced_atomically
from occ.store.outbox import dead_entries, oldest_pending, outbox_counts
from occ.store.tables import SyncEvent

__all__ = [
    "EVENT_FIELDS",
    "SYNC_EVENTS",
    "AttemptRecord",
    "SyncStatus",
    "export_events",
    "record_attempts",
    "sync_status",
]

SYNC_EVENTS = cast(Table, SyncEvent.__table__)
EVENT_FIELDS = (
    "decisionId",
    "status",
    "durationMs",
    "errorCode",
    "errorMessage",
    "attempt",
    "timestamp",
    "scope",
)
_MESSAGE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One entry's share of one delivery attempt."""

    outbox_id: int
    kind: str
    ref_id: str
    scope: str | None
    attempt: int
    status: str  # SUCCESS | SKIPPED | FAILED | TIMEOUT
    error_code: str | None = None
    error_message: str | None = None


def record_attempts(
    primary: Engine,
    records: Sequence[AttemptRecord],
    *,
    duration_ms: float,
    at: datetime,
    secrets: Iterable[str] = (),
) -> None:
    """Write the events of one attempt in their own small transaction (a later crash keeps them).

    ``duration_ms`` is the attempt's: every entry an attempt carried shares its duration.
    """
    if not records:
        return
    hidden = tuple(secrets)
    rows = [
        {
            "outbox_id": record.outbox_id,
            "kind": record.kind,
            "decision_id": record.ref_id,
            "status": record.status,
            "duration_ms": round(duration_ms, 3),
            "error_code": record.error_code,
            "error_message": None
            if record.error_message is None
            else mask_secrets(record.error_message, hidden)[:_MESSAGE_LIMIT],
            "attempt": record.attempt,
            "scope": record.scope,
            "occurred_at": at,
        }
        for record in records
    ]
    with primary.begin() as connection:
        if connection.dialect.name == "postgresql":
            insert_json_rows(connection, SYNC_EVENTS.name, list(rows[0]), rows)
        else:
            connection.execute(insert(SYNC_EVENTS), rows)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def export_events(
    primary: Connection,
    since: datetime | None,
    out: Path,
    *,
    kind: str | None = "decision",
    until: datetime | None = None,
) -> int:
    """Write the sync events (of ``kind``; None: all) since ``since`` (and up to ``until``,
    inclusive) to ``out`` as NDJSON.

    The file is written next to ``out`` and renamed into place, so a reader never sees half
    of it. Returns the number of events written.

    Raises:
        InputFileError: ``out`` cannot be written.
    """
    query = select(
        SYNC_EVENTS.c.decision_id,
        SYNC_EVENTS.c.status,
        SYNC_EVENTS.c.duration_ms,
        SYNC_EVENTS.c.error_code,
        SYNC_EVENTS.c.error_message,
        SYNC_EVENTS.c.attempt,
        SYNC_EVENTS.c.occurred_at,
        SYNC_EVENTS.c.scope,
    ).order_by(SYNC_EVENTS.c.occurred_at, SYNC_EVENTS.c.id)
    if since is not None:
        query = query.where(SYNC_EVENTS.c.occurred_at >= since)
    if until is not None:
        query = query.where(SYNC_EVENTS.c.occurred_at <= until)
    if kind is not None:
        query = query.where(SYNC_EVENTS.c.kind == kind)
    count = 0
    try:
        with replaced_atomically(out) as stream:
            rows = primary.execution_options(yield_per=2000).execute(query)
            for ref_id, status, duration, code, message, attempt, occurred, scope in rows:
                event = {
                    "decisionId": ref_id,
                    "status": status,
                    "durationMs": duration,
                    "errorCode": code,
                    "errorMessage": message,
                    "attempt": attempt,
                    "timestamp": _timestamp(occurred),
                    "scope": scope,
                }
                stream.write(mask(json.dumps(event, separators=(",", ":"), ensure_ascii=False)))
                stream.write("\n")
                count += 1
    except OSError as exc:
        raise InputFileError(
            f"cannot write {out}: {exc.strerror or exc}; choose a writable --out path"
        ) from None
    return count


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """The outbox at a glance: counts per kind and status, dead entries, last activity."""

    counts: dict[str, dict[str, int]]
    dead: list[dict[str, Any]]
    oldest_pending: datetime | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat()

        return {
            "counts": self.counts,
            "dead": [entry | {"updated_at": iso(entry["updated_at"])} for entry in self.dead],
            "oldest_pending": iso(self.oldest_pending),
            "last_attempt_at": iso(self.last_attempt_at),
            "last_success_at": iso(self.last_success_at),
        }


def sync_status(primary: Connection, *, dead_limit: int | None = 100) -> SyncStatus:
    """How many entries are pending, sent and dead per kind, and which are dead (oldest first)."""
    counts: dict[str, dict[str, int]] = {}
    for (kind, status), number in sorted(outbox_counts(primary).items()):
        counts.setdefault(kind, {"pending": 0, "sent": 0, "dead": 0})[status] = number
    last = primary.execute(select(func.max(SYNC_EVENTS.c.occurred_at))).scalar_one_or_none()
    last_success = primary.execute(
        select(func.max(SYNC_EVENTS.c.occurred_at)).where(SYNC_EVENTS.c.status == "SUCCESS")
    ).scalar_one_or_none()
    return SyncStatus(
        counts=counts,
        dead=dead_entries(primary, dead_limit),
        oldest_pending=oldest_pending(primary),
        last_attempt_at=last,
        last_success_at=last_success,
    )
