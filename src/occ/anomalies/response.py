"""Did an operator answer an anomaly, and how fast? (KPIS.md, anomaly response rate.)

One anomaly is one (shop, KPI, key, kind) on one as-of day: the hourly refreshes that detect
it again are sightings of the same anomaly, first detected at the earliest of them. It is
answered by the first decision whose payload names one of its facts (``factId``); answered
*in time* when that decision came within ``RESPONSE_HOURS`` of the first detection. An
anomaly detected less than that long ago and not answered yet is pending, counted in neither
the numerator nor the denominator of the rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from occ.contracts.kpis import SEVERITY_ORDER

__all__ = [
    "RESPONSE_HOURS",
    "AnomalyResponse",
    "AnomalySighting",
    "DecisionRef",
    "anomaly_sightings",
    "decision_ref",
    "match_responses",
    "response_rate",
]

RESPONSE_HOURS = 24


@dataclass(frozen=True, slots=True)
class AnomalySighting:
    """One ``anomaly.*`` fact."""

    fact_id: int
    shop: str
    kpi: str
    key: str | None
    kind: str
    severity: str
    as_of_day: str
    detected_at: datetime
    message: str = ""


@dataclass(frozen=True, slots=True)
class DecisionRef:
    """A decision and the fact it answers (``payload.factId``)."""

    decision_id: str
    fact_id: int | None
    created_at: datetime
    action: str = ""
    actor: str = ""


@dataclass(frozen=True, slots=True)
class AnomalyResponse:
    """One anomaly (its sightings grouped) with its first answer, if any."""

    first: AnomalySighting
    severity: str
    fact_ids: tuple[int, ...]
    answer: DecisionRef | None
    pending: bool

    @property
    def response_minutes(self) -> float | None:
        if self.answer is None:
            return None
        return (self.answer.created_at - self.first.detected_at).total_seconds() / 60

    @property
    def answered_in_time(self) -> bool:
        minutes = self.response_minutes
        return minutes is not None and minutes <= RESPONSE_HOURS * 60


def anomaly_sightings(rows: Iterable[Any]) -> list[AnomalySighting]:
    """``anomaly.*`` fact rows (id, shop_domain, value, metadata, created_at) as sightings.

    The as-of day is the day of the refresh instant the anomaly was computed for.
    """
    sightings = []
    for fact in rows:
        value, metadata = fact.value or {}, fact.metadata or {}
        sightings.append(
            AnomalySighting(
                fact_id=fact.id,
                shop=fact.shop_domain,
                kpi=str(value.get("kpi")),
                key=value.get("key"),
                kind=str(value.get("kind")),
                severity=str(value.get("severity")),
                as_of_day=str(metadata.get("now", ""))[:10],
                detected_at=fact.created_at,
                message=str(value.get("message", "")),
            )
        )
    return sightings


def decision_ref(row: Any) -> DecisionRef:
    """A decision-log row (id, payload, created_at; action and actor when selected) as the
    answer to the fact its payload names (``factId``)."""
    payload = row.payload
    fact_id = payload.get("factId") if isinstance(payload, dict) else None
    if not isinstance(fact_id, int) or isinstance(fact_id, bool):
        fact_id = None
    return DecisionRef(
        str(row.id),
        fact_id,
        row.created_at,
        str(getattr(row, "action", "") or ""),
        str(getattr(row, "actor", "") or ""),
    )


def match_responses(
    sightings: Iterable[AnomalySighting], decisions: Iterable[DecisionRef], now: datetime
) -> list[AnomalyResponse]:
    """The warning/critical anomalies among ``sightings``, first detected first."""
    groups: dict[tuple[object, ...], list[AnomalySighting]] = {}
    for sighting in sightings:
        if sighting.severity not in ("warning", "critical"):
            continue
        key = (sighting.shop, sighting.kpi, sighting.key, sighting.kind, sighting.as_of_day)
        groups.setdefault(key, []).append(sighting)
    group_of = {s.fact_id: key for key, members in groups.items() for s in members}
    answers: dict[tuple[object, ...], DecisionRef] = {}
    for decision in decisions:
        key_of = group_of.get(decision.fact_id) if decision.fact_id is not None else None
        if key_of is None:
            continue
        known = answers.get(key_of)
        if known is None or decision.created_at < known.created_at:
            answers[key_of] = decision
    limit = timedelta(hours=RESPONSE_HOURS)
    found = []
    for group, members in groups.items():
        first = min(members, key=lambda s: (s.detected_at, s.fact_id))
        answer = answers.get(group)
        found.append(
            AnomalyResponse(
                first=first,
                severity=max((s.severity for s in members), key=SEVERITY_ORDER.__getitem__),
                fact_ids=tuple(sorted(s.fact_id for s in members)),
                answer=answer,
                pending=answer is None and now - first.detected_at < limit,
            )
        )
    return sorted(found, key=lambda r: (r.first.detected_at, r.first.fact_id))


def response_rate(responses: Iterable[AnomalyResponse]) -> tuple[int, int, int, float | None]:
    """``(counted, answered in time, pending, rate)``; the rate is None when none counted."""
    listed = list(responses)
    pending = sum(1 for r in listed if r.pending)
    counted = len(listed) - pending
    answered = sum(1 for r in listed if r.answered_in_time)
    return counted, answered, pending, answered / counted if counted else None
