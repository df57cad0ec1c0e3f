"""Operator metrics (../shared/KPIS.md): activation rate, SLA resolution time, anomaly response.

Computed from the decision log and the usage facts the dashboard records:

- **Activation rate**: shops with a decision within 7 days of their first
  ``dashboard.session.opened``, over the shops with a session whose 7 days are over or
  that already decided (a shop still inside its first week without a decision is pending).
- **SLA resolution time**: median minutes from a conversation's SLA breach (its last customer
  message plus its SLA) to the first decision referencing it (``payload.conversationId``).
- **Anomaly response rate**: warning/critical anomalies that got a decision within 24 h of
  their first detection, over those detected at least 24 h ago or already answered. One
  anomaly is one (shop, KPI, key, kind) on one as-of day: the hourly refreshes that detect it
  again are the same anomaly.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, select

from occ.anomalies.response import (
    RESPONSE_HOURS,
    anomaly_sightings,
    decision_ref,
    match_responses,
    response_rate,
)
from occ.decisions.log import DECISIONS
from occ.store.tables import DashboardFact

__all__ = [
    "ACTIVATION_DAYS",
    "RESPONSE_HOURS",
    "OperatorMetrics",
    "operator_metrics",
]

ACTIVATION_DAYS = 7
SESSION_FACT = "dashboard.session.opened"
REFRESH_FACT = "dashboard.refresh.triggered"
_FACTS = cast(Table, DashboardFact.__table__)


@dataclass(frozen=True, slots=True)
class OperatorMetrics:
    now: datetime
    shops_with_sessions: int
    shops_activated: int
    shops_pending: int
    activation_rate: float | None
    sla_resolutions: int
    sla_resolution_minutes_median: float | None
    anomalies: int
    anomalies_answered: int
    anomalies_pending: int
    anomaly_response_rate: float | None
    sessions: int
    refreshes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "activation": {
                "rate": self.activation_rate,
                "shopsWithSessions": self.shops_with_sessions,
                "activated": self.shops_activated,
                "pending": self.shops_pending,
                "windowDays": ACTIVATION_DAYS,
            },
            "slaResolution": {
                "medianMinutes": self.sla_resolution_minutes_median,
                "conversations": self.sla_resolutions,
            },
            "anomalyResponse": {
                "rate": self.anomaly_response_rate,
                "anomalies": self.anomalies,
                "answered": self.anomalies_answered,
                "pending": self.anomalies_pending,
                "windowHours": RESPONSE_HOURS,
            },
            "usage": {"sessions": self.sessions, "refreshes": self.refreshes},
        }


def _parse(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def operator_metrics(connection: Connection, now: datetime) -> OperatorMetrics:
    """The three operator metrics over everything recorded up to ``now``."""
    decisions = connection.execute(
        select(
            DECISIONS.c.id, DECISIONS.c.shop_domain, DECISIONS.c.created_at, DECISIONS.c.payload
        ).where(DECISIONS.c.created_at <= now)
    ).all()
    usage = connection.execute(
        select(_FACTS.c.shop_domain, _FACTS.c.fact_type, _FACTS.c.created_at).where(
            _FACTS.c.fact_type.in_([SESSION_FACT, REFRESH_FACT]), _FACTS.c.created_at <= now
        )
    ).all()
    anomalies = connection.execute(
        select(
            _FACTS.c.id,
            _FACTS.c.shop_domain,
            _FACTS.c.fact_type,
            _FACTS.c.value,
            _FACTS.c.metadata,
            _FACTS.c.created_at,
        ).where(_FACTS.c.fact_type.like("anomaly.%"), _FACTS.c.created_at <= now)
    ).all()

    # Activation.
    first_session: dict[str, datetime] = {}
    for row in usage:
        if row.fact_type == SESSION_FACT:
            seen = first_session.get(row.shop_domain)
            first_session[row.shop_domain] = min(seen, row.created_at) if seen else row.created_at
    decided_at: dict[str, list[datetime]] = defaultdict(list)
    for decision in decisions:
        decided_at[decision.shop_domain or ""].append(decision.created_at)
    window = timedelta(days=ACTIVATION_DAYS)
    activated = pending = 0
    for shop, first in first_session.items():
        if any(first <= at <= first + window for at in decided_at.get(shop, [])):
            activated += 1
        elif now < first + window:
            pending += 1
    settled = len(first_session) - pending

    # SLA resolution.
    first_reply: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for decision in decisions:
        payload = decision.payload or {}
        breached = _parse(payload.get("breachedAt")) if "conversationId" in payload else None
        if breached is None:
            continue
        key = (decision.shop_domain or "", str(payload["conversationId"]))
        if key not in first_reply or decision.created_at < first_reply[key][0]:
            first_reply[key] = (decision.created_at, breached)
    minutes = [(at - breached).total_seconds() / 60 for at, breached in first_reply.values()]

    # Anomaly response.
    responses = match_responses(
        anomaly_sightings(anomalies),
        (decision_ref(row) for row in decisions),
        now,
    )
    counted, answered, waiting, rate = response_rate(responses)

    return OperatorMetrics(
        now=now,
        shops_with_sessions=len(first_session),
        shops_activated=activated,
        shops_pending=pending,
        activation_rate=activated / settled if settled else None,
        sla_resolutions=len(minutes),
        sla_resolution_minutes_median=statistics.median(minutes) if minutes else None,
        anomalies=counted,
        anomalies_answered=answered,
        anomalies_pending=waiting,
        anomaly_response_rate=rate,
        sessions=sum(1 for row in usage if row.fact_type == SESSION_FACT),
        refreshes=sum(1 for row in usage if row.fact_type == REFRESH_FACT),
    )
