"""What the cross-source incident finders share: their inputs, a draft incident, and the
small helpers that word the evidence (``occ.metrics.incidents`` has the rules)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from occ.contracts.anomalies import Anomaly
from occ.contracts.incidents import (
    IncidentAnomaly,
    IncidentKind,
    IncidentLink,
    LikelyCause,
)
from occ.contracts.kpis import (
    FulfillmentResult,
    InventoryResult,
    SalesResult,
    SlaResult,
    TrafficResult,
)
from occ.contracts.records import (
    INCOMING_MESSAGE,
    ConversationRecord,
    LandingPageDay,
    OrderRecord,
    VariantRecord,
)

__all__ = [
    "ACQUISITION",
    "CAPACITY",
    "OTHER_SALES",
    "RAN_OUT_WITHIN",
    "RESIDUAL",
    "Draft",
    "IncidentInputs",
    "anomaly_ref",
    "customer_texts",
    "named",
    "share_of",
    "utc_text",
]

RAN_OUT_WITHIN = timedelta(hours=48)
"""A top SKU "ran out on the day" of a sales drop when its last sale is this recent."""
SHOWN = 3
CAPACITY = "Reply capacity (staffing, routing or volume)"
ACQUISITION = "Acquisition change (campaigns, search ranking, referrers)"
OTHER_SALES = "Other: checkout, payments, promotions or demand"
RESIDUAL = frozenset({CAPACITY, ACQUISITION, OTHER_SALES})


@dataclass(frozen=True, slots=True)
class IncidentInputs:
    """One refresh's anomalies and KPI results, and the records the links are read from."""

    now: datetime
    anomalies: Sequence[tuple[int, Anomaly]]
    sla: SlaResult | None = None
    fulfillment: FulfillmentResult | None = None
    sales: SalesResult | None = None
    traffic: TrafficResult | None = None
    inventory: InventoryResult | None = None
    conversations: Mapping[int, ConversationRecord] = field(default_factory=dict)
    order_index: Mapping[str, str] = field(default_factory=dict)  # number → order name
    orders_by_name: Mapping[str, OrderRecord] = field(default_factory=dict)
    variants: Sequence[VariantRecord] = ()
    last_sold: Mapping[str, datetime] = field(default_factory=dict)  # variant id → last sale
    recent_orders: Sequence[OrderRecord] = ()  # with line items, the sales windows
    page_days: Sequence[LandingPageDay] = ()
    processing_hours: float = 24
    critical_cover: float = 3
    baseline_days: int = 7
    top_skus: int = 5  # a "top SKU" ranks among these by baseline revenue (kpis.sales)
    currency: str = ""
    timezone: str = "UTC"  # the shop's: GA4 days are shop days


@dataclass
class Draft:
    kinds: list[IncidentKind]
    anchors: list[str]
    title: str
    anomalies: dict[int, IncidentAnomaly]
    links: list[IncidentLink]
    causes: list[LikelyCause]
    entities: set[str]
    started_at: datetime | None


def anomaly_ref(fact_id: int, anomaly: Anomaly) -> IncidentAnomaly:
    return IncidentAnomaly(
        fact_id=fact_id,
        kpi=anomaly.kpi,
        key=anomaly.key,
        kind=anomaly.kind,
        severity=anomaly.severity,
        message=anomaly.message,
    )


def utc_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def named(items: Sequence[str], shown: int = SHOWN) -> str:
    """The first ``shown`` of ``items``, then how many more: "a, b, c and 2 more"."""
    listed = ", ".join(items[:shown])
    return listed + (f" and {len(items) - shown} more" if len(items) > shown else "")


def share_of(part: float, whole: float) -> float:
    return 0.0 if whole <= 0 else round(min(1.0, max(0.0, part / whole)), 4)


def customer_texts(conversation: ConversationRecord) -> list[str | None]:
    """The customer's own words in ``conversation`` (incoming messages, not private notes):
    the only text whose order mentions link an incident, read by the refresh and the finder."""
    return [
        m.content
        for m in conversation.messages
        if m.message_type == INCOMING_MESSAGE and not m.private
    ]
