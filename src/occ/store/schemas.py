"""Snapshots of upstream schemas, one per run that looked at them (``occ contracts drift``)."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, desc, insert, select

from occ.store.tables import SchemaSnapshot

__all__ = ["Snapshot", "latest_snapshots", "save_snapshot"]

_SNAPSHOTS = cast(Table, SchemaSnapshot.__table__)


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: int
    source: str
    api_version: str
    fetched_at: datetime
    sha256: str
    schema: dict[str, Any]


def save_snapshot(
    connection: Connection,
    *,
    source: str,
    api_version: str,
    schema: dict[str, Any],
    fetched_at: datetime,
    shop: str | None = None,
) -> int:
    """Store an introspection result; returns its id."""
    raw = json.dumps(schema, sort_keys=True, separators=(",", ":")).encode()
    result = connection.execute(
        insert(_SNAPSHOTS).values(
            shop_domain=shop,
            source=source,
            api_version=api_version,
            fetched_at=fetched_at,
            sha256=hashlib.sha256(raw).hexdigest(),
            schema_gzip=gzip.compress(raw, mtime=0),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def latest_snapshots(connection: Connection, source: str, limit: int = 2) -> list[Snapshot]:
    """The newest ``limit`` snapshots of ``source``, newest first."""
    rows = connection.execute(
        select(_SNAPSHOTS)
        .where(_SNAPSHOTS.c.source == source)
        .order_by(desc(_SNAPSHOTS.c.id))
        .limit(limit)
    ).mappings()
    return [
        Snapshot(
            id=row["id"],
            source=row["source"],
            api_version=row["api_version"],
            fetched_at=row["fetched_at"],
            sha256=row["sha256"],
            schema=json.loads(gzip.decompress(row["schema_gzip"])),
        )
        for row in rows
    ]
