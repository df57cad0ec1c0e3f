"""Cross-source incidents: anomalies of different sources that share a cause.

An incident groups the anomalies one cause explains (e.g. an SLA-breach spike whose waiting
customers ask about orders stuck in fulfillment), with the evidence of each link between a
source and another (an order name in a message, a product handle in a landing page, a variant
sold in the orders) and the likely causes, ranked by the share of the anomaly each explains.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "INCIDENTS_FACT_TYPE",
    "INCIDENT_KIND_LABELS",
    "Incident",
    "IncidentAnomaly",
    "IncidentKind",
    "IncidentLink",
    "LikelyCause",
]

INCIDENTS_FACT_TYPE = "incidents.open"

IncidentKind = Literal["support_from_stuck_orders", "traffic_on_stockout", "sales_on_stockout"]
INCIDENT_KIND_LABELS: dict[str, str] = {  # the dashboard's tags; `occ incidents` lower-cases them
    "support_from_stuck_orders": "Support ← stuck orders",
    "traffic_on_stockout": "Traffic ← stockout",
    "sales_on_stockout": "Sales ← stockout",
}
LinkKind = Literal["order", "product", "variant", "time"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IncidentAnomaly(_Model):
    """One anomaly of the incident, as recorded (``anomaly.<kpi>`` fact)."""

    fact_id: int
    kpi: str
    key: str | None = None
    kind: str
    severity: Literal["warning", "critical"]
    message: str


class IncidentLink(_Model):
    """One piece of evidence tying a source's record to another source's record."""

    kind: LinkKind
    entity: str
    sources: tuple[str, str]
    evidence: str


class LikelyCause(_Model):
    """A candidate cause; ``share`` is the part of the anomaly it explains (0–1)."""

    cause: str
    share: float = Field(ge=0, le=1)
    reason: str


class Incident(_Model):
    id: str
    kinds: list[IncidentKind]
    title: str
    severity: Literal["warning", "critical"]
    started_at: datetime | None = None
    anomalies: list[IncidentAnomaly]
    links: list[IncidentLink]
    causes: list[LikelyCause]  # most likely first
    entities: list[str]
