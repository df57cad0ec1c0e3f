"""Raw upstream pages kept as evidence (gzip), with a retention window."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, insert, select

from occ.contracts.evidence import Evidence
from occ.contracts.secrets import mask, mask_registered
from occ.store.tables import SourceEvidence

__all__ = ["evidence_body", "evidence_for_run", "prune_evidence", "record_evidence"]

_EVIDENCE = cast(Table, SourceEvidence.__table__)


def record_evidence(
    connection: Connection, shop: str, run_id: int | None, evidence: Evidence
) -> int:
    """Store one upstream answer compressed; returns its id."""
    result = connection.execute(
        insert(_EVIDENCE).values(
            shop_domain=shop,
            refresh_run_id=run_id,
            source=evidence.source,
            endpoint=evidence.endpoint,
            method=evidence.method,
            api_version=evidence.api_version,
            status=evidence.status,
            fetched_at=evidence.fetched_at,
            latency_ms=evidence.latency_ms,
            params=json.loads(mask(json.dumps(dict(evidence.params), default=str))),
            cost=dict(evidence.cost) if evidence.cost is not None else None,
            body_bytes=len(evidence.body),
            body_gzip=gzip.compress(mask_registered(evidence.body), compresslevel=6, mtime=0),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def evidence_for_run(connection: Connection, run_id: int) -> list[dict[str, Any]]:
    """The evidence rows of one refresh run, without their bodies, oldest first."""
    columns = [c for c in _EVIDENCE.c if c.name != "body_gzip"]
    rows = connection.execute(
        select(*columns).where(_EVIDENCE.c.refresh_run_id == run_id).order_by(_EVIDENCE.c.id)
    ).mappings()
    return [dict(row) for row in rows]


def evidence_body(connection: Connection, evidence_id: int) -> bytes | None:
    """The raw body of one evidence row, decompressed."""
    blob = connection.execute(
        select(_EVIDENCE.c.body_gzip).where(_EVIDENCE.c.id == evidence_id)
    ).scalar()
    return None if blob is None else gzip.decompress(blob)


def prune_evidence(connection: Connection, older_than: datetime) -> int:
    """Delete evidence fetched before ``older_than``; returns how many rows went."""
    result = connection.execute(delete(_EVIDENCE).where(_EVIDENCE.c.fetched_at < older_than))
    return int(result.rowcount)
