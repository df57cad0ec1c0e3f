"""The recorded ``decision.outcome`` facts, read back: one outcome per decision.

Written by ``occ.decisions.outcomes`` and read by it, by the insight packet and by the CLI.
Should a decision have more than one outcome fact, the first one recorded stands.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, select

from occ.contracts.outcomes import OUTCOME_FACT_TYPE, OutcomeRecord
from occ.store.tables import DashboardFact

__all__ = ["checked_decision_ids", "recorded_outcomes"]

_FACTS = cast(Table, DashboardFact.__table__)
_CHUNK = 500
_DECIDED = _FACTS.c.value["decisionId"].as_string()


def _outcome_facts(query: Select[Any], shops: Iterable[str | None] | None) -> Select[Any]:
    """``query`` narrowed to the outcome facts of ``shops`` (all shops when one is None)."""
    query = query.where(_FACTS.c.fact_type == OUTCOME_FACT_TYPE)
    domains = None if shops is None else set(shops)
    if domains is not None and None not in domains:
        query = query.where(_FACTS.c.shop_domain.in_(sorted(cast(set[str], domains))))
    return query


def checked_decision_ids(
    connection: Connection, shops: Iterable[str | None] | None = None
) -> set[str]:
    """The ids of the decisions (of ``shops``' facts) that have an outcome recorded."""
    return set(connection.execute(_outcome_facts(select(_DECIDED), shops)).scalars())


def recorded_outcomes(
    connection: Connection,
    shops: Iterable[str | None] | None = None,
    decision_ids: Collection[str] | None = None,
) -> dict[str, OutcomeRecord]:
    """The recorded outcomes (of ``shops``' facts, of ``decision_ids``), by decision id."""
    query = _outcome_facts(select(_FACTS.c.value), shops)
    if decision_ids is None:
        rows = list(connection.execute(query.order_by(_FACTS.c.id)))
    else:
        wanted, rows = sorted(decision_ids), []
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows += connection.execute(query.where(_DECIDED.in_(chunk)).order_by(_FACTS.c.id))
    found: dict[str, OutcomeRecord] = {}
    for row in rows:
        record = OutcomeRecord.model_validate(row.value)
        found.setdefault(record.decision_id, record)  # the first one recorded stands
    return found
