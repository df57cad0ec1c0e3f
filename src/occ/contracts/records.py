"""The normalized source records occ stores and the metrics read.

Plain frozen dataclasses (slots) rather than pydantic models: the metrics read hundreds of
thousands of them per refresh, and they are built only from already-validated payloads.
All datetimes are aware UTC; money is Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

__all__ = [
    "ACTIVITY_MESSAGE",
    "CONVERSATION_DELETED",
    "INCOMING_MESSAGE",
    "REPLY_MESSAGE_TYPES",
    "ConversationRecord",
    "LandingPageDay",
    "LineItemRecord",
    "MessageRecord",
    "OrderRecord",
    "OrderSummary",
    "VariantRecord",
]

# occ's own conversation status (not Chatwoot's): Chatwoot answered 404, the conversation was
# deleted there. Kept with its messages for the exports; outside every open/pending population.
CONVERSATION_DELETED = "deleted"

# Chatwoot's message types (``MessageRecord.message_type``): 0 incoming (the customer),
# 1 outgoing (an agent), 2 activity (the system), 3 template; a reply is 1 or 3.
INCOMING_MESSAGE = 0
ACTIVITY_MESSAGE = 2
REPLY_MESSAGE_TYPES = frozenset({1, 3})


@dataclass(frozen=True, slots=True)
class LineItemRecord:
    line_item_id: str
    variant_id: str | None
    sku: str | None
    title: str
    quantity: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class OrderRecord:
    order_id: str
    name: str
    created_at: datetime
    updated_at: datetime | None
    cancelled_at: datetime | None
    test: bool
    fulfillment_status: str
    financial_status: str | None
    total: Decimal
    currency: str
    line_items: tuple[LineItemRecord, ...] = ()

    @property
    def countable(self) -> bool:
        """Not cancelled and not a test order (KPIS.md)."""
        return self.cancelled_at is None and not self.test


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """An order without its line items: what the daily series of a week need.

    ``units`` is the sum of its line items' quantities.
    """

    created_at: datetime
    countable: bool
    fulfillment_status: str
    total: Decimal
    units: int


@dataclass(frozen=True, slots=True)
class VariantRecord:
    variant_id: str
    sku: str | None
    title: str
    product_title: str
    product_handle: str | None
    inventory_quantity: int
    inventory_policy: str
    tracked: bool
    price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    message_id: int
    conversation_id: int
    message_type: int  # 0 incoming, 1 outgoing, 2 activity, 3 template
    created_at: datetime
    private: bool
    sender_type: str | None = None
    sender_name: str | None = None
    content: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """A Chatwoot conversation; the fields after ``messages`` are None when not sent."""

    conversation_id: int
    status: str
    labels: tuple[str, ...]
    customer_name: str | None
    created_at: datetime
    messages: tuple[MessageRecord, ...] = field(default=())
    inbox_id: int | None = None
    assignee_id: int | None = None
    assignee_name: str | None = None
    team_id: int | None = None
    team_name: str | None = None
    last_activity_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LandingPageDay:
    landing_page: str
    day: date
    sessions: int
