"""The week's anomalies: how many by KPI and severity, and whether (and how fast) they were met.

Anomalies are those first detected in the week (``anomaly.*`` facts); the decisions that
answer them are those recorded by the week's end, so a packet regenerated later reads the
same. Grouping and the response rate are ``occ.anomalies.response`` (KPIS.md).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, select

from occ.anomalies.response import (
    RESPONSE_HOURS,
    anomaly_sightings,
    decision_ref,
    match_responses,
    response_rate,
)
from occ.insights.trends import KPI_ORDER
from occ.insights.window import WeekWindow, iso_utc
from occ.store.tables import DashboardFact, DecisionLog

__all__ = ["anomaly_review"]

_FACTS = cast(Table, DashboardFact.__table__)
_DECISIONS = cast(Table, DecisionLog.__table__)


def _as_of(row: Any) -> datetime:
    """The instant an anomaly fact was computed for (``metadata.now``), else its creation."""
    raw = (row.metadata or {}).get("now")
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return cast(datetime, row.created_at)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def anomaly_review(connection: Connection, shop: str, window: WeekWindow) -> dict[str, Any]:
    """The anomalies section: counts, the list with their answers, and the response rate."""
    rows = connection.execute(
        select(
            _FACTS.c.id,
            _FACTS.c.shop_domain,
            _FACTS.c.value,
            _FACTS.c.metadata,
            _FACTS.c.created_at,
        )
        .where(
            (_FACTS.c.shop_domain == shop)
            & _FACTS.c.fact_type.like("anomaly.%")
            & (_FACTS.c.created_at > window.opens)
        )
        .order_by(_FACTS.c.id)
    ).all()
    # Placed by the instant the anomaly was computed for (a replayed refresh is computed
    # after its as-of instant), and detected then.
    as_of = {row.id: _as_of(row) for row in rows}
    sightings = [
        replace(sighting, detected_at=as_of[sighting.fact_id])
        for sighting in anomaly_sightings(rows)
        if window.opens < as_of[sighting.fact_id] <= window.closes
    ]
    decisions = connection.execute(
        select(
            _DECISIONS.c.id,
            _DECISIONS.c.action,
            _DECISIONS.c.actor,
            _DECISIONS.c.payload,
            _DECISIONS.c.created_at,
        ).where(
            (_DECISIONS.c.created_at > window.opens) & (_DECISIONS.c.created_at <= window.closes)
        )
    ).all()
    refs = [decision_ref(d) for d in decisions]
    responses = match_responses(sightings, refs, window.closes)
    counted, answered, pending, rate = response_rate(responses)
    by_kpi: dict[str, Counter[str]] = {kpi: Counter() for kpi in KPI_ORDER}
    for response in responses:
        by_kpi.setdefault(response.first.kpi, Counter())[response.severity] += 1
    document: dict[str, Any] = {
        "window": {"opensUtc": iso_utc(window.opens), "closesUtc": iso_utc(window.closes)},
        "sources": ["anomaly facts of the week's refreshes", "decision log up to the week's end"],
        "total": len(responses),
        "counts": {
            kpi: {"warning": counts["warning"], "critical": counts["critical"]}
            for kpi, counts in by_kpi.items()
        },
        "responseRate": {
            "rate": None if rate is None else round(rate, 4),
            "counted": counted,
            "answeredWithinHours": answered,
            "pending": pending,
            "windowHours": RESPONSE_HOURS,
        },
        "items": [
            {
                "detectedAt": iso_utc(r.first.detected_at),
                "kpi": r.first.kpi,
                "key": r.first.key,
                "kind": r.first.kind,
                "severity": r.severity,
                "message": r.first.message,
                "factIds": list(r.fact_ids),
                "sightings": len(r.fact_ids),
                "actedOn": r.answer is not None,
                "decision": None
                if r.answer is None
                else {
                    "id": r.answer.decision_id,
                    "action": r.answer.action,
                    "actor": r.answer.actor,
                    "at": iso_utc(r.answer.created_at),
                },
                "responseMinutes": None
                if r.response_minutes is None
                else round(r.response_minutes, 1),
                "pending": r.pending,
            }
            for r in responses
        ],
    }
    if not responses:
        document["note"] = "no warning or critical anomaly was detected in the week"
    return document
