"""Dashboard facts: every KPI, anomaly and forecast occ computed, with its inputs and config."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select

from occ.store.outbox import enqueue
from occ.store.tables import DashboardFact

__all__ = ["MAX_FACT_ID", "FactRow", "facts_by_id", "latest_facts", "write_fact"]

_FACTS = cast(Table, DashboardFact.__table__)


@dataclass(frozen=True, slots=True)
class FactRow:
    id: int
    shop_domain: str
    fact_type: str
    scope: str
    value: dict[str, Any]
    metadata: dict[str, Any]
    evidence_url: str | None
    created_at: datetime


def write_fact(
    connection: Connection,
    *,
    shop: str,
    fact_type: str,
    scope: str,
    value: dict[str, Any],
    metadata: dict[str, Any],
    now: datetime,
    evidence_url: str | None = None,
) -> int:
    """Insert one fact (and its outbox entry, for the mirror) and return its id."""
    result = connection.execute(
        insert(_FACTS).values(
            shop_domain=shop,
            fact_type=fact_type,
            scope=scope,
            value=value,
            metadata=metadata,
            evidence_url=evidence_url,
            created_at=now,
            updated_at=now,
        )
    )
    fact_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    # Facts are mirrored like decisions: analytics on the mirror see what the operator saw.
    enqueue(connection, kind="fact", ref_id=str(fact_id), at=now, scope=scope)
    return fact_id


def latest_facts(
    connection: Connection, shop: str, fact_types: Iterable[str] | None = None
) -> dict[str, FactRow]:
    """The newest fact of each type for ``shop`` (optionally only ``fact_types``)."""
    newest = select(func.max(_FACTS.c.id).label("id")).where(_FACTS.c.shop_domain == shop)
    if fact_types is not None:
        newest = newest.where(_FACTS.c.fact_type.in_(list(fact_types)))
    newest = newest.group_by(_FACTS.c.fact_type)
    rows = connection.execute(
        select(_FACTS).where(_FACTS.c.id.in_(newest.scalar_subquery())).order_by(_FACTS.c.id)
    )
    facts: dict[str, FactRow] = {}
    for row in rows.mappings():
        facts[row["fact_type"]] = _row(row)
    return facts


MAX_FACT_ID = 2**31 - 1
"""The largest id the fact table's INTEGER column holds (PostgreSQL's int4)."""


def facts_by_id(connection: Connection, ids: Iterable[int]) -> dict[int, FactRow]:
    """The facts with the given ids, keyed by id (an id beyond the column's range names no
    fact: it is left out rather than sent to the database, which would refuse it)."""
    wanted = [i for i in ids if -MAX_FACT_ID <= i <= MAX_FACT_ID]
    if not wanted:
        return {}
    rows = connection.execute(select(_FACTS).where(_FACTS.c.id.in_(wanted))).mappings()
    return {row["id"]: _row(row) for row in rows}


def _row(row: Any) -> FactRow:
    return FactRow(
        id=row["id"],
        shop_domain=row["shop_domain"],
        fact_type=row["fact_type"],
        scope=row["scope"],
        value=row["value"],
        metadata=row["metadata"],
        evidence_url=row["evidence_url"],
        created_at=row["created_at"],
    )
