"""Refresh runs, quarantined records and drift findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, desc, func, insert, select, update

from occ.errors import NotFoundError
from occ.store.records import ShopInfo, load_shop
from occ.store.tables import DriftFinding, QuarantinedRecord, RefreshRun

__all__ = [
    "DriftObservation",
    "Quarantined",
    "finish_run",
    "latest_run",
    "list_drift",
    "newest_as_of",
    "newest_run",
    "newest_shop",
    "record_drift",
    "record_quarantine",
    "resolve_shop",
    "start_run",
]

_RUNS = cast(Table, RefreshRun.__table__)
_QUARANTINE = cast(Table, QuarantinedRecord.__table__)
_DRIFT = cast(Table, DriftFinding.__table__)


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A record kept aside: where it was, why, and its raw text."""

    source: str
    stream: str
    location: str
    reason: str
    raw: str


@dataclass(frozen=True, slots=True)
class DriftObservation:
    """An upstream value the contract does not know (kept and interpreted, but reported)."""

    source: str
    stream: str
    field: str
    kind: str
    observed: str
    detail: str


def start_run(
    connection: Connection, shop: str, source: str, as_of: datetime, started_at: datetime
) -> int:
    result = connection.execute(
        insert(_RUNS).values(
            shop_domain=shop,
            source=source,
            as_of=as_of,
            started_at=started_at,
            status="running",
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def finish_run(
    connection: Connection, run_id: int, status: str, report: dict[str, Any], at: datetime
) -> None:
    connection.execute(
        update(_RUNS)
        .where(_RUNS.c.id == run_id)
        .values(status=status, report=report, finished_at=at)
    )


def latest_run(connection: Connection, shop: str | None = None) -> dict[str, Any] | None:
    """The newest finished refresh run (of ``shop``, or of any shop)."""
    query = select(_RUNS).where(_RUNS.c.finished_at.is_not(None))
    if shop is not None:
        query = query.where(_RUNS.c.shop_domain == shop)
    row = connection.execute(query.order_by(desc(_RUNS.c.id)).limit(1)).mappings().first()
    return None if row is None else dict(row)


def newest_as_of(connection: Connection, shop: str) -> datetime | None:
    """The latest instant ``shop``'s finished refreshes were computed as of (runs recorded
    for an earlier instant, a backfill say, do not move it back)."""
    value: datetime | None = connection.execute(
        select(func.max(_RUNS.c.as_of)).where(
            (_RUNS.c.shop_domain == shop) & _RUNS.c.finished_at.is_not(None)
        )
    ).scalar()
    return value


def newest_shop(connection: Connection) -> str | None:
    """The shop of the newest finished refresh, the one a command means when given none
    (None before the first refresh)."""
    run = latest_run(connection)
    return None if run is None else str(run["shop_domain"])


def newest_run(connection: Connection, shop: str | None = None) -> dict[str, Any]:
    """``latest_run``, or NotFoundError saying what to run when nothing was refreshed."""
    run = latest_run(connection, shop)
    if run is None:
        where = f" for {shop}" if shop else ""
        raise NotFoundError(f"no refresh recorded{where} yet; run `occ refresh` or `occ demo`")
    return run


def resolve_shop(
    connection: Connection, domain: str | None, default: str | None = None
) -> ShopInfo:
    """``domain``'s shop, else the newest refresh's, else ``default``'s.

    Raises:
        NotFoundError: nothing was refreshed yet, or the shop is not in the store.
    """
    if domain is None:
        newest = newest_shop(connection)
        domain = newest if newest is not None else default
    if domain is None:
        raise NotFoundError("no refresh recorded yet; run `occ refresh` or `occ demo` first")
    shop = load_shop(connection, domain)
    if shop is None:
        raise NotFoundError(f"shop {domain!r} is not in the store; run `occ refresh` first")
    return shop


def record_quarantine(
    connection: Connection, shop: str, run_id: int, records: Sequence[Quarantined], at: datetime
) -> None:
    if not records:
        return
    connection.execute(
        insert(_QUARANTINE),
        [
            {
                "shop_domain": shop,
                "refresh_run_id": run_id,
                "source": record.source,
                "stream": record.stream,
                "location": record.location,
                "reason": record.reason,
                "raw": record.raw,
                "created_at": at,
            }
            for record in records
        ],
    )


def record_drift(
    connection: Connection,
    shop: str,
    observations: Sequence[DriftObservation],
    counts: Sequence[int],
    at: datetime,
) -> None:
    """Insert new findings or bump ``occurrences``/``last_seen`` of known ones."""
    for observation, count in zip(observations, counts, strict=True):
        key = (
            (_DRIFT.c.shop_domain == shop)
            & (_DRIFT.c.source == observation.source)
            & (_DRIFT.c.stream == observation.stream)
            & (_DRIFT.c.field == observation.field)
            & (_DRIFT.c.kind == observation.kind)
            & (_DRIFT.c.observed == observation.observed)
        )
        existing = connection.execute(select(_DRIFT.c.id, _DRIFT.c.occurrences).where(key)).first()
        if existing is None:
            connection.execute(
                insert(_DRIFT).values(
                    shop_domain=shop,
                    source=observation.source,
                    stream=observation.stream,
                    field=observation.field,
                    kind=observation.kind,
                    observed=observation.observed,
                    detail=observation.detail,
                    occurrences=count,
                    first_seen=at,
                    last_seen=at,
                )
            )
        else:
            connection.execute(
                update(_DRIFT)
                .where(_DRIFT.c.id == existing[0])
                .values(occurrences=existing[1] + count, last_seen=at, detail=observation.detail)
            )


def list_drift(connection: Connection, shop: str) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(_DRIFT).where(_DRIFT.c.shop_domain == shop).order_by(_DRIFT.c.id)
    ).mappings()
    return [dict(row) for row in rows]
