"""KPI configuration and KPI results (the exact semantics are in ../shared/KPIS.md).

The configuration models are embedded in ``occ.config.Settings`` and snapshotted into each
fact's metadata; the result models are what the metrics return and the facts store.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SEVERITY_ORDER",
    "TILE_TITLES",
    "UNSELLABLE_VARIANTS_NAMED",
    "BreachedConversation",
    "FulfillmentConfig",
    "FulfillmentIssue",
    "FulfillmentResult",
    "InventoryConfig",
    "InventoryResult",
    "KpiConfig",
    "PageTraffic",
    "PendingOrder",
    "SalesConfig",
    "SalesResult",
    "Severity",
    "SlaConfig",
    "SlaResult",
    "ThresholdProfile",
    "TopSku",
    "TrafficConfig",
    "TrafficResult",
    "UnsellableConfig",
    "UnsellablePage",
    "UnsellableResult",
    "UnsellableVariant",
    "VariantCover",
    "worst",
]

Severity = Literal["none", "warning", "critical"]
TILE_TITLES = {
    "sales_delta": "Sales Pulse",
    "sla_breach_rate": "CX Escalations",
    "traffic_anomalies": "SEO & Content Watch",
    "inventory_cover": "Inventory Heatmap",
    "fulfillment_issue_rate": "Fulfillment",
    "unsellable_traffic": "Unsellable Traffic",
}
"""Each KPI's tile, by the name the operator knows it (dashboard and terminal)."""
SEVERITY_ORDER: dict[str, int] = {"none": 0, "warning": 1, "critical": 2}


def worst(severities: list[Severity] | tuple[Severity, ...]) -> Severity:
    """The most severe of ``severities`` (``none`` for an empty list)."""
    result: Severity = "none"
    for severity in severities:
        if SEVERITY_ORDER[severity] > SEVERITY_ORDER[result]:
            result = severity
    return result


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ThresholdProfile(_Model):
    """Warning/critical thresholds and the direction in which a value is bad.

    - ``above``: bad when the value is strictly greater than the threshold (rates).
    - ``below``: bad when the value is less than or equal to the threshold (cover, WoW delta).
    - ``abs``: bad when the absolute value is strictly greater (sales delta, both ways).
    """

    warning: float
    critical: float
    direction: Literal["above", "below", "abs"]

    def severity(self, value: float | None) -> Severity:
        if value is None:
            return "none"
        if self.direction == "above":
            return (
                "critical"
                if value > self.critical
                else "warning"
                if value > self.warning
                else "none"
            )
        if self.direction == "below":
            return (
                "critical"
                if value <= self.critical
                else "warning"
                if value <= self.warning
                else "none"
            )
        magnitude = abs(value)
        return (
            "critical"
            if magnitude > self.critical
            else "warning"
            if magnitude > self.warning
            else "none"
        )


class SalesConfig(_Model):
    thresholds: ThresholdProfile = ThresholdProfile(warning=15, critical=30, direction="abs")
    baseline_days: int = Field(default=7, ge=1)
    top_skus: int = Field(default=5, ge=1)
    pending_window_days: int = Field(default=7, ge=1)


class SlaConfig(_Model):
    thresholds: ThresholdProfile = ThresholdProfile(warning=20, critical=40, direction="above")
    sla_minutes: int = Field(default=60, ge=1)
    priority_sla_minutes: int = Field(default=30, ge=1)
    priority_label: str = "priority"

    def minutes_for(self, labels: Iterable[str]) -> int:
        """The SLA of a conversation labelled ``labels``: the priority SLA when it has the
        priority label, else the plain one."""
        return self.priority_sla_minutes if self.priority_label in labels else self.sla_minutes


class TrafficConfig(_Model):
    thresholds: ThresholdProfile = ThresholdProfile(
        warning=-0.20, critical=-0.40, direction="below"
    )
    window_days: int = Field(default=7, ge=1)
    noise_floor: int = Field(default=10, ge=0)


class InventoryConfig(_Model):
    thresholds: ThresholdProfile = ThresholdProfile(warning=7, critical=3, direction="below")
    velocity_days: int = Field(default=14, ge=1)
    slow_mover_velocity: float = Field(default=0.1, ge=0)
    cover_target_days: int = Field(default=30, ge=1)
    # Days a reorder takes to arrive: when an approved reorder's outcome is checked.
    lead_time_days: int = Field(default=7, ge=1)


class FulfillmentConfig(_Model):
    thresholds: ThresholdProfile = ThresholdProfile(warning=10, critical=25, direction="above")
    window_days: int = Field(default=7, ge=1)
    processing_hours: float = Field(default=24, gt=0)


class UnsellableConfig(_Model):
    """Traffic landing on products that cannot be sold (README, "Unsellable traffic").

    The thresholds are on a page's revenue at risk as a percent of the store's revenue in
    the same window (direction ``above``). The cover threshold is the inventory KPI's
    critical one (``kpis.inventory.thresholds.critical``).
    """

    thresholds: ThresholdProfile = ThresholdProfile(warning=1, critical=5, direction="above")
    window_days: int = Field(default=7, ge=1)
    lookback_days: int = Field(default=28, ge=1)
    min_orders: int = Field(default=1, ge=1)


class KpiConfig(_Model):
    sales: SalesConfig = SalesConfig()
    sla: SlaConfig = SlaConfig()
    traffic: TrafficConfig = TrafficConfig()
    inventory: InventoryConfig = InventoryConfig()
    fulfillment: FulfillmentConfig = FulfillmentConfig()
    unsellable: UnsellableConfig = UnsellableConfig()


# --- results -------------------------------------------------------------------------------


class TopSku(_Model):
    sku: str
    revenue: Decimal
    units: int


class PendingOrder(_Model):
    order_id: str
    name: str
    created_at: datetime
    status: str


class SalesResult(_Model):
    """Sales delta — fact ``shopify.sales.summary``."""

    current: Decimal
    baseline: Decimal
    daily_revenue: list[Decimal]  # k = 1..7: the baseline windows, most recent first
    delta_pct: float | None
    severity: Severity
    reason: str | None = None
    order_count: int
    currency: str
    top_skus: list[TopSku]
    pending_fulfillment: list[PendingOrder]


class BreachedConversation(_Model):
    conversation_id: int
    customer_name: str
    minutes_waiting: int
    labels: list[str]
    sla_minutes: int
    last_customer_message_at: datetime


class SlaResult(_Model):
    """SLA breach rate — fact ``chatwoot.sla.breaches``."""

    value: float
    severity: Severity
    population: int
    awaiting_reply: int
    breached: list[BreachedConversation]


class PageTraffic(_Model):
    landing_page: str
    current: int
    previous: int
    wow_delta: float | None
    severity: Severity
    below_noise_floor: bool


class TrafficResult(_Model):
    """Traffic anomalies — fact ``ga.sessions.anomalies``."""

    severity: Severity
    current_start: date
    current_end: date
    previous_start: date
    previous_end: date
    pages: list[PageTraffic]  # worst first


class VariantCover(_Model):
    variant_id: str
    sku: str | None
    title: str
    inventory_quantity: int
    units_sold: int
    velocity: float
    days_of_cover: float | None
    slow_mover: bool
    severity: Severity
    reorder_quantity: int


class InventoryResult(_Model):
    """Inventory days of cover — fact ``shopify.inventory.coverage``."""

    severity: Severity
    variants: list[VariantCover]  # worst first
    excluded_untracked: int
    excluded_continue: int


class FulfillmentIssue(_Model):
    order_id: str
    name: str
    status: str
    age_hours: float
    unknown_status: bool


class FulfillmentResult(_Model):
    """Fulfillment issue rate — fact ``shopify.fulfillment.issues``."""

    value: float
    severity: Severity
    population: int
    issues: list[FulfillmentIssue]  # oldest first
    unknown_statuses: list[str]


class UnsellableVariant(_Model):
    variant_id: str
    sku: str | None
    title: str
    inventory_quantity: int
    days_of_cover: float | None
    state: Literal["out_of_stock", "low_cover"]


class UnsellablePage(_Model):
    """One product page with traffic whose product cannot be sold (or is about not to be).

    ``basis`` says where the conversion rate and average order value come from: the
    product's own lookback (``product``), the store's (``store``, too little history of its
    own), or nowhere (``none``: the store has no sessions or orders in the lookback either,
    and the revenue at risk is not estimated).
    """

    landing_page: str
    product_handle: str
    product_title: str
    state: Literal["out_of_stock", "low_stock"]
    sessions: int
    variants: list[UnsellableVariant]
    product_lookback_sessions: int
    product_lookback_orders: int
    product_lookback_revenue: Decimal
    basis: Literal["product", "store", "none"]
    conversion_rate: float | None
    conversion_capped: bool
    average_order_value: Decimal | None
    revenue_at_risk: Decimal | None
    share_of_revenue_pct: float | None
    severity: Severity
    assumption: str


UNSELLABLE_VARIANTS_NAMED = 3
"""Variants of an unsellable page named in its anomaly's message and in the title of its
restock-or-redirect action, before the count of the others (the fact lists them all)."""


class UnsellableResult(_Model):
    """Unsellable traffic — fact ``shopify.traffic.unsellable``.

    The store-wide figures are ``None`` when no page qualifies (they are then not read).
    """

    severity: Severity
    current_start: date
    current_end: date
    lookback_start: date | None  # None: no GA4 day before the window
    lookback_end: date
    cover_critical_days: float
    currency: str
    product_pages: int
    excluded_sellable: int
    unknown_products: int
    sessions: int
    revenue_at_risk: Decimal
    window_revenue: Decimal | None
    store_lookback_sessions: int
    store_lookback_orders: int | None
    store_lookback_revenue: Decimal | None
    store_conversion_rate: float | None
    store_average_order_value: Decimal | None
    pages: list[UnsellablePage]  # worst first
    assumptions: list[str]
