"""Did it work? The outcome check of every approved action on an anomaly, recorded as a fact.

``check_outcomes`` finds the approved decisions tied to an anomaly (payload ``verdict``
``approve`` and ``factId`` naming an ``anomaly.*`` fact) that have no ``decision.outcome``
fact yet, reads for each the first refresh at or after its due instant (``decided_at`` + the
KPI's horizon) that recorded the KPI — its KPI fact, and for a forecast-band anomaly that
refresh's forecast of the same metric and key — has ``occ.anomalies.outcome`` judge it, and
writes one ``decision.outcome`` fact per decision (mirrored through the outbox like every
fact). Decisions not due yet, or due but still inside the grace period without a refresh,
are left for a later check. It runs after every refresh (``occ refresh``, ``occ demo``, the
worker's refresh job, the dashboard's Refresh now) and from ``occ decisions outcomes``.

Running it again writes nothing new. Two checks at once write nothing twice: the check is one
transaction that first takes a lock (PostgreSQL: an advisory transaction lock; SQLite: the
database's write lock), so the second waits, then reads the first one's facts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, false, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from occ.anomalies import FORECAST_METRICS
from occ.anomalies.outcome import KpiReading, evaluate_outcome, horizon_days
from occ.anomalies.response import DecisionRef, decision_ref
from occ.config import Settings
from occ.contracts.outcomes import (
    OUTCOME_FACT_TYPE,
    OUTCOME_ICONS,
    OUTCOME_LABELS,
    OUTCOMES,
    OutcomeRecord,
)
from occ.decisions.log import DECISIONS, Decision
from occ.errors import StoreError
from occ.store.engine import masked_url
from occ.store.facts import FactRow, facts_by_id, write_fact
from occ.store.outcomes import checked_decision_ids, recorded_outcomes
from occ.store.tables import DashboardFact, RefreshRun

__all__ = [
    "OutcomeCheck",
    "OutcomeStatus",
    "PendingOutcome",
    "check_outcomes",
    "decision_outcomes",
]

_FACTS = cast(Table, DashboardFact.__table__)
_RUNS = cast(Table, RefreshRun.__table__)
_LOCK_KEY = 0x6F6363_6F7574  # pg_advisory_xact_lock key: one outcome check at a time


@dataclass(frozen=True, slots=True)
class PendingOutcome:
    """An approved decision whose outcome is not checked yet, and when it falls due."""

    decision_id: str
    kpi: str
    key: str | None
    action_kind: str
    action_entity: str | None
    decided_at: datetime
    due_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "decisionId": self.decision_id,
            "kpi": self.kpi,
            "key": self.key,
            "actionKind": self.action_kind,
            "actionEntity": self.action_entity,
            "decidedAt": self.decided_at.isoformat(),
            "dueAt": self.due_at.isoformat(),
        }


@dataclass
class OutcomeCheck:
    """What one check recorded, and what it left for later."""

    now: datetime
    recorded: list[OutcomeRecord] = field(default_factory=list)
    pending: list[PendingOutcome] = field(default_factory=list)

    def summary(self) -> str:
        """One line: what was recorded, by outcome, and how many wait for their check."""
        counts = Counter(record.outcome for record in self.recorded)
        found = ", ".join(
            f"{counts[outcome]} {OUTCOME_LABELS[outcome].lower()}"
            for outcome in OUTCOMES
            if counts[outcome]
        )
        return (
            f"{len(self.recorded)} action outcome(s) recorded"
            + (f" ({found})" if found else "")
            + f"; {len(self.pending)} approved action(s) not checked yet"
        )


def _take_lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        # A write before any read: the transaction begins here and holds SQLite's write lock,
        # so a concurrent check waits (busy_timeout) and reads after this one committed.
        connection.execute(update(_FACTS).where(false()).values(updated_at=_FACTS.c.updated_at))


def _is_approval(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("verdict") == "approve"


def _reading(
    connection: Connection, shop: str, anomaly: Mapping[str, Any], due: datetime, now: datetime
) -> KpiReading | None:
    """The first refresh of ``shop`` as of ``[due, now]`` that recorded the anomaly's KPI."""
    kpi, key = str(anomaly.get("kpi")), anomaly.get("key")
    runs = connection.execute(
        select(_RUNS.c.as_of, _RUNS.c.report)
        .where(
            (_RUNS.c.shop_domain == shop)
            & _RUNS.c.finished_at.is_not(None)
            & (_RUNS.c.as_of >= due)
            & (_RUNS.c.as_of <= now)
        )
        .order_by(_RUNS.c.as_of, _RUNS.c.id)
    )
    for run in runs:
        report = run.report if isinstance(run.report, dict) else {}
        fact_id = (report.get("factIds") or {}).get(kpi)
        fact = facts_by_id(connection, [int(fact_id)]).get(int(fact_id)) if fact_id else None
        if fact is None:
            continue  # a run that did not record this KPI
        forecast = None
        if anomaly.get("kind") == "forecast_band":
            metric = FORECAST_METRICS.get(kpi)
            forecasts = facts_by_id(connection, report.get("forecastFactIds") or []).values()
            forecast = next(
                (
                    f.value
                    for f in forecasts
                    if f.value.get("metric") == metric and f.value.get("key") == key
                ),
                None,
            )
        config = (fact.metadata or {}).get("config") or {}
        return KpiReading(fact.id, run.as_of, fact.value, config, forecast)
    return None


def _before(anomaly: FactRow) -> dict[str, Any]:
    value = anomaly.value
    kept = ("kind", "severity", "value", "baseline", "threshold", "lower", "upper", "message")
    return {
        "factId": anomaly.id,
        "asOf": (anomaly.metadata or {}).get("now"),
        **{name: value.get(name) for name in kept},
    }


def _approved_unchecked(connection: Connection) -> list[Any]:
    decisions = connection.execute(
        select(
            DECISIONS.c.id,
            DECISIONS.c.scope,
            DECISIONS.c.shop_domain,
            DECISIONS.c.payload,
            DECISIONS.c.created_at,
        )
        .where(DECISIONS.c.payload["verdict"].as_string() == "approve")
        .order_by(DECISIONS.c.created_at, DECISIONS.c.id)
    ).all()
    if not decisions:
        return []
    checked = checked_decision_ids(connection, {d.shop_domain for d in decisions})
    return [d for d in decisions if str(d.id) not in checked]


def _check(
    connection: Connection,
    decision: Any,
    ref: DecisionRef,
    anomaly: FactRow,
    settings: Settings,
    now: datetime,
) -> OutcomeRecord | PendingOutcome | None:
    """The outcome of one approved decision (``ref``: as the answer to ``anomaly``), or when
    it falls due; None for a KPI occ does not check."""
    kpi, key = str(anomaly.value.get("kpi")), anomaly.value.get("key")
    days = horizon_days(kpi, settings.outcomes, settings.kpis)
    if days is None:
        return None
    due = ref.created_at + timedelta(days=days)
    kind, entity = str(decision.payload.get("kind") or ""), decision.payload.get("entity")
    reading = (
        _reading(connection, anomaly.shop_domain, anomaly.value, due, now) if now >= due else None
    )
    grace = timedelta(hours=settings.outcomes.grace_hours)
    verdict = evaluate_outcome(anomaly.value, reading, due=due, now=now, grace=grace)
    if verdict is None:
        return PendingOutcome(ref.decision_id, kpi, key, kind, entity, ref.created_at, due)
    return OutcomeRecord(
        decision_id=ref.decision_id,
        anomaly_fact_id=anomaly.id,
        kpi=kpi,
        key=key,
        action_kind=kind,
        action_entity=entity,
        horizon_days=days,
        decided_at=ref.created_at,
        due_at=due,
        checked_at=now,
        checked_fact_id=None if reading is None else reading.fact_id,
        outcome=verdict.outcome,
        reason=verdict.reason,
        before=_before(anomaly),
        after=verdict.after,
    )


def check_outcomes(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> OutcomeCheck:
    """Check every approved decision on an anomaly that is due by ``now`` and not checked yet,
    and record one ``decision.outcome`` fact for each (module docstring).

    Raises:
        StoreError: the database failed; nothing of this check was written.
    """
    report = OutcomeCheck(now=now)
    config = settings.outcomes.model_dump(mode="json") | {
        "inventoryLeadTimeDays": settings.kpis.inventory.lead_time_days
    }
    try:
        with engine.begin() as connection:
            _take_lock(connection)
            candidates = [(d, decision_ref(d)) for d in _approved_unchecked(connection)]
            anomalies = facts_by_id(connection, [ref.fact_id or 0 for _, ref in candidates])
            for decision, ref in candidates:
                anomaly = anomalies.get(ref.fact_id or 0)
                if anomaly is None or not anomaly.fact_type.startswith("anomaly."):
                    continue  # not tied to an anomaly: nothing to check against
                found = _check(connection, decision, ref, anomaly, settings, now)
                if isinstance(found, PendingOutcome):
                    report.pending.append(found)
                elif found is not None:
                    at = clock()
                    write_fact(
                        connection,
                        shop=anomaly.shop_domain,
                        fact_type=OUTCOME_FACT_TYPE,
                        scope=str(decision.scope),
                        value=found.as_value(),
                        metadata={
                            "now": now.isoformat(),
                            "generatedAt": at.isoformat(),
                            "config": config,
                        },
                        now=at,
                        evidence_url=f"/facts/{found.checked_fact_id or anomaly.id}",
                    )
                    report.recorded.append(found)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"the outcome check failed in the database {masked_url(str(engine.url))}: "
            f"{type(exc).__name__}; nothing of it was written — check the database and retry"
        ) from exc
    return report


@dataclass(frozen=True, slots=True)
class OutcomeStatus:
    """What the decision history shows of an approved action's outcome."""

    outcome: str  # worked | did_not_work | not_enough_data | not_checked
    reason: str
    due_at: datetime
    checked_at: datetime | None = None

    @property
    def label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, "Not checked yet")

    @property
    def icon(self) -> str:
        return OUTCOME_ICONS[self.outcome]

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "label": self.label,
            "reason": self.reason,
            "dueAt": self.due_at.isoformat(),
            "checkedAt": None if self.checked_at is None else self.checked_at.isoformat(),
        }


def decision_outcomes(
    connection: Connection, decisions: Sequence[Decision], settings: Settings
) -> dict[str, OutcomeStatus]:
    """The outcome of each approved decision on an anomaly among ``decisions``, by id:
    recorded, or not checked yet (with when it falls due). Other decisions have none."""
    approved = [
        d
        for d in decisions
        if _is_approval(d.payload) and isinstance((d.payload or {}).get("factId"), int)
    ]
    if not approved:
        return {}
    recorded = recorded_outcomes(
        connection, {d.shop_domain for d in approved}, [d.id for d in approved]
    )
    statuses: dict[str, OutcomeStatus] = {}
    for decision in approved:
        record = recorded.get(decision.id)
        if record is not None:
            statuses[decision.id] = OutcomeStatus(
                record.outcome, record.reason, record.due_at, record.checked_at
            )
            continue
        kpi = str((decision.payload or {}).get("kpi"))
        days = horizon_days(kpi, settings.outcomes, settings.kpis)
        if days is None:
            continue
        due = decision.created_at + timedelta(days=days)
        reason = f"due {due:%Y-%m-%d %H:%M} UTC, {days} days after the decision"
        statuses[decision.id] = OutcomeStatus("not_checked", reason, due)
    return statuses
