"""Did an approved action work? The outcome check's settings and the fact that records it.

Every approved decision on an anomaly's action is checked once its horizon has passed: the
KPI it answered, as the first refresh at or after ``decided_at + horizon`` recorded it. The
result is one ``decision.outcome`` fact per decision (:class:`OutcomeRecord`, camelCase keys).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "OUTCOMES",
    "OUTCOME_FACT_TYPE",
    "OUTCOME_ICONS",
    "OUTCOME_LABELS",
    "Outcome",
    "OutcomeConfig",
    "OutcomeRecord",
]

OUTCOME_FACT_TYPE = "decision.outcome"
Outcome = Literal["worked", "did_not_work", "not_enough_data"]
OUTCOMES: tuple[Outcome, ...] = ("worked", "did_not_work", "not_enough_data")
OUTCOME_LABELS: dict[str, str] = {
    "worked": "Worked",
    "did_not_work": "Did not work",
    "not_enough_data": "Not enough data",
}
OUTCOME_ICONS: dict[str, str] = {  # beside the label: an outcome is never told by colour alone
    "worked": "✔",
    "did_not_work": "✖",
    "not_enough_data": "?",
    "not_checked": "…",
}


class OutcomeConfig(BaseModel):
    """How long after the decision each KPI family is checked (inventory: the reorder lead
    time, ``kpis.inventory.lead_time_days``), and how long a due check waits for data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sales_days: int = Field(default=7, ge=1)
    cx_days: int = Field(default=3, ge=1)
    traffic_days: int = Field(default=7, ge=1)
    fulfillment_days: int = Field(default=3, ge=1)
    grace_hours: float = Field(default=24.0, ge=0)


class OutcomeRecord(BaseModel):
    """The value of one ``decision.outcome`` fact.

    ``checked_at`` is the instant the check was made as of (the refresh's ``now``, or
    ``occ decisions outcomes --now``); ``checked_fact_id`` the KPI fact it read (None when
    no refresh recorded the KPI). ``before`` is the anomaly as it was raised, ``after`` the
    KPI as that fact recorded it.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True
    )

    decision_id: str
    anomaly_fact_id: int
    kpi: str
    key: str | None
    action_kind: str
    action_entity: str | None
    horizon_days: int
    decided_at: datetime
    due_at: datetime
    checked_at: datetime
    checked_fact_id: int | None
    outcome: Outcome
    reason: str
    before: dict[str, Any]
    after: dict[str, Any] | None

    def as_value(self) -> dict[str, Any]:
        """The fact's value (JSON-ready, camelCase keys)."""
        return self.model_dump(mode="json", by_alias=True)
