"""Did the week's actions work? The share of approved actions that worked, per kind of action.

Read from the ``decision.outcome`` facts (``occ.decisions.outcomes`` writes one per approved
action once its horizon has passed) whose check was made as of an instant in the week — an
outcome belongs to the week it was learnt in, so a packet regenerated later reads the same.
The share counts the actions that could be judged (worked or did not); "not enough data" is
counted beside it (``occ.anomalies.outcome.outcome_shares``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from occ.anomalies.outcome import outcome_shares
from occ.insights.window import WeekWindow, iso_utc
from occ.store.outcomes import recorded_outcomes

__all__ = ["ACTION_TITLES", "outcome_review"]

ACTION_TITLES = {
    "review_sales": "Review the sales movement",
    "reply": "Reply to a breached conversation",
    "review_page": "Review a landing page",
    "reorder": "Reorder a variant",
    "expedite": "Expedite a stuck order",
    "restock_or_redirect": "Restock or redirect an unsellable product page",
}


def outcome_review(connection: Connection, shop: str, window: WeekWindow) -> dict[str, Any]:
    """The outcomes section: per kind of action, how many worked, and each outcome."""
    records = [
        record
        for record in recorded_outcomes(connection, [shop]).values()
        if window.opens < record.checked_at <= window.closes
    ]
    records.sort(key=lambda r: (r.checked_at, r.decision_id))
    shares = outcome_shares((r.action_kind, r.outcome) for r in records)
    document: dict[str, Any] = {
        "window": {"opensUtc": iso_utc(window.opens), "closesUtc": iso_utc(window.closes)},
        "sources": ["decision.outcome facts checked in the week"],
        "total": len(records),
        "byKind": [
            share.as_dict() | {"title": ACTION_TITLES.get(share.kind, share.kind)}
            for share in shares
        ],
        "items": [
            {
                "decisionId": r.decision_id,
                "kind": r.action_kind,
                "entity": r.action_entity,
                "kpi": r.kpi,
                "key": r.key,
                "decidedAt": iso_utc(r.decided_at),
                "checkedAt": iso_utc(r.checked_at),
                "horizonDays": r.horizon_days,
                "outcome": r.outcome,
                "reason": r.reason,
            }
            for r in records
        ],
    }
    if not records:
        document["note"] = "no outcome of an approved action was checked in the week"
    return document
