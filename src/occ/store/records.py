"""Writing and reading the source records (orders, variants, conversations, pages).

Writes are upserts keyed by the upstream ids: re-reading the same payloads never duplicates.
Reads take the windows the KPIs need, so a refresh reads days, not the whole history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, select

from occ.contracts.records import (
    ConversationRecord,
    LandingPageDay,
    LineItemRecord,
    MessageRecord,
    OrderRecord,
    VariantRecord,
)
from occ.store.tables import (
    ChatwootConversation,
    ChatwootMessage,
    GaLandingPageDay,
    Shop,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyVariant,
)
from occ.store.upsert import upsert_rows

__all__ = [
    "ShopInfo",
    "load_conversations",
    "load_landing_page_days",
    "load_orders",
    "load_shop",
    "load_variants",
    "upsert_conversations",
    "upsert_landing_page_days",
    "upsert_messages",
    "upsert_orders",
    "upsert_shop",
    "upsert_variants",
]

_ORDERS = cast(Table, ShopifyOrder.__table__)
_LINES = cast(Table, ShopifyLineItem.__table__)
_VARIANTS = cast(Table, ShopifyVariant.__table__)
_CONVERSATIONS = cast(Table, ChatwootConversation.__table__)
_MESSAGES = cast(Table, ChatwootMessage.__table__)
_PAGES = cast(Table, GaLandingPageDay.__table__)
_SHOPS = cast(Table, Shop.__table__)
_IN_CHUNK = 500


class ShopInfo(tuple[str, str, str]):
    """(shop_domain, currency_code, iana_timezone)."""

    @property
    def domain(self) -> str:
        return self[0]

    @property
    def currency(self) -> str:
        return self[1]

    @property
    def timezone(self) -> str:
        return self[2]


def upsert_shop(
    connection: Connection, domain: str, currency: str, timezone: str, now: datetime
) -> None:
    row = {"shop_domain": domain, "currency_code": currency, "iana_timezone": timezone}
    upsert_rows(connection, _SHOPS, [{**row, "updated_at": now}], ["shop_domain"])


def load_shop(connection: Connection, domain: str) -> ShopInfo | None:
    row = connection.execute(
        select(_SHOPS.c.shop_domain, _SHOPS.c.currency_code, _SHOPS.c.iana_timezone).where(
            _SHOPS.c.shop_domain == domain
        )
    ).first()
    return None if row is None else ShopInfo((row[0], row[1], row[2]))


def _chunks(values: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def upsert_orders(
    connection: Connection, shop: str, orders: Sequence[OrderRecord], *, replace_lines: bool = True
) -> int:
    """Upsert orders and replace their line items (an edited order may lose a line)."""
    order_rows = [
        {
            "shop_domain": shop,
            "order_id": order.order_id,
            "name": order.name,
            "created_at": order.created_at,
            "updated_at": order.updated_at,
            "cancelled_at": order.cancelled_at,
            "test": order.test,
            "fulfillment_status": order.fulfillment_status,
            "financial_status": order.financial_status,
            "total": order.total,
            "currency": order.currency,
        }
        for order in orders
    ]
    upsert_rows(connection, _ORDERS, order_rows, ["shop_domain", "order_id"])
    if replace_lines:
        for chunk in _chunks([order.order_id for order in orders]):
            connection.execute(
                delete(_LINES).where(_LINES.c.shop_domain == shop, _LINES.c.order_id.in_(chunk))
            )
    line_rows = [
        {
            "shop_domain": shop,
            "order_id": order.order_id,
            "line_item_id": line.line_item_id,
            "variant_id": line.variant_id,
            "sku": line.sku,
            "title": line.title,
            "quantity": line.quantity,
            "amount": line.amount,
        }
        for order in orders
        for line in order.line_items
    ]
    upsert_rows(connection, _LINES, line_rows, ["shop_domain", "order_id", "line_item_id"])
    return len(order_rows)


def load_orders(
    connection: Connection, shop: str, since: datetime, until: datetime
) -> list[OrderRecord]:
    """Orders with ``created_at`` in ``(since, until]``, with their line items."""
    window = (
        (_ORDERS.c.shop_domain == shop)
        & (_ORDERS.c.created_at > since)
        & (_ORDERS.c.created_at <= until)
    )
    lines: dict[str, list[LineItemRecord]] = defaultdict(list)
    line_query = (
        select(
            _LINES.c.order_id,
            _LINES.c.line_item_id,
            _LINES.c.variant_id,
            _LINES.c.sku,
            _LINES.c.title,
            _LINES.c.quantity,
            _LINES.c.amount,
        )
        .join(
            _ORDERS,
            (_ORDERS.c.shop_domain == _LINES.c.shop_domain)
            & (_ORDERS.c.order_id == _LINES.c.order_id),
        )
        .where(window)
    )
    for order_id, line_id, variant_id, sku, title, quantity, amount in connection.execute(
        line_query
    ):
        lines[order_id].append(LineItemRecord(line_id, variant_id, sku, title, quantity, amount))
    order_query = select(
        _ORDERS.c.order_id,
        _ORDERS.c.name,
        _ORDERS.c.created_at,
        _ORDERS.c.updated_at,
        _ORDERS.c.cancelled_at,
        _ORDERS.c.test,
        _ORDERS.c.fulfillment_status,
        _ORDERS.c.financial_status,
        _ORDERS.c.total,
        _ORDERS.c.currency,
    ).where(window)
    return [
        OrderRecord(
            order_id=row[0],
            name=row[1],
            created_at=row[2],
            updated_at=row[3],
            cancelled_at=row[4],
            test=row[5],
            fulfillment_status=row[6],
            financial_status=row[7],
            total=row[8],
            currency=row[9],
            line_items=tuple(lines.get(row[0], ())),
        )
        for row in connection.execute(order_query)
    ]


def upsert_variants(connection: Connection, shop: str, variants: Sequence[VariantRecord]) -> int:
    rows = [
        {
            "shop_domain": shop,
            "variant_id": variant.variant_id,
            "sku": variant.sku,
            "title": variant.title,
            "product_title": variant.product_title,
            "product_handle": variant.product_handle,
            "inventory_quantity": variant.inventory_quantity,
            "inventory_policy": variant.inventory_policy,
            "tracked": variant.tracked,
            "price": variant.price,
        }
        for variant in variants
    ]
    return upsert_rows(connection, _VARIANTS, rows, ["shop_domain", "variant_id"])


def load_variants(connection: Connection, shop: str) -> list[VariantRecord]:
    query = select(
        _VARIANTS.c.variant_id,
        _VARIANTS.c.sku,
        _VARIANTS.c.title,
        _VARIANTS.c.product_title,
        _VARIANTS.c.product_handle,
        _VARIANTS.c.inventory_quantity,
        _VARIANTS.c.inventory_policy,
        _VARIANTS.c.tracked,
        _VARIANTS.c.price,
    ).where(_VARIANTS.c.shop_domain == shop)
    return [VariantRecord(*row) for row in connection.execute(query)]


def upsert_conversations(
    connection: Connection, shop: str, conversations: Sequence[ConversationRecord]
) -> int:
    rows = [
        {
            "shop_domain": shop,
            "conversation_id": conversation.conversation_id,
            "status": conversation.status,
            "labels": list(conversation.labels),
            "customer_name": conversation.customer_name,
            "created_at": conversation.created_at,
        }
        for conversation in conversations
    ]
    return upsert_rows(connection, _CONVERSATIONS, rows, ["shop_domain", "conversation_id"])


def upsert_messages(connection: Connection, shop: str, messages: Sequence[MessageRecord]) -> int:
    rows = [
        {
            "shop_domain": shop,
            "message_id": message.message_id,
            "conversation_id": message.conversation_id,
            "message_type": message.message_type,
            "created_at": message.created_at,
            "private": message.private,
            "sender_type": message.sender_type,
            "sender_name": message.sender_name,
            "content": message.content,
        }
        for message in messages
    ]
    return upsert_rows(connection, _MESSAGES, rows, ["shop_domain", "message_id"])


def load_conversations(
    connection: Connection, shop: str, statuses: Iterable[str] | None = None
) -> list[ConversationRecord]:
    """Conversations (optionally only those with ``statuses``) with their messages, oldest first."""
    where = _CONVERSATIONS.c.shop_domain == shop
    if statuses is not None:
        where = where & _CONVERSATIONS.c.status.in_(list(statuses))
    heads = connection.execute(
        select(
            _CONVERSATIONS.c.conversation_id,
            _CONVERSATIONS.c.status,
            _CONVERSATIONS.c.labels,
            _CONVERSATIONS.c.customer_name,
            _CONVERSATIONS.c.created_at,
        ).where(where)
    ).all()
    messages: dict[int, list[MessageRecord]] = defaultdict(list)
    message_query = (
        select(
            _MESSAGES.c.message_id,
            _MESSAGES.c.conversation_id,
            _MESSAGES.c.message_type,
            _MESSAGES.c.created_at,
            _MESSAGES.c.private,
            _MESSAGES.c.sender_type,
            _MESSAGES.c.sender_name,
            _MESSAGES.c.content,
        )
        .join(
            _CONVERSATIONS,
            (_CONVERSATIONS.c.shop_domain == _MESSAGES.c.shop_domain)
            & (_CONVERSATIONS.c.conversation_id == _MESSAGES.c.conversation_id),
        )
        .where(where)
        .order_by(_MESSAGES.c.created_at, _MESSAGES.c.message_id)
    )
    for row in connection.execute(message_query):
        messages[row[1]].append(MessageRecord(*row))
    return [
        ConversationRecord(
            conversation_id=head[0],
            status=head[1],
            labels=tuple(head[2] or ()),
            customer_name=head[3],
            created_at=head[4],
            messages=tuple(messages.get(head[0], ())),
        )
        for head in heads
    ]


def upsert_landing_page_days(
    connection: Connection, shop: str, days: Sequence[LandingPageDay]
) -> int:
    # GA4 may answer the same (page, date) twice across reports: the last one wins.
    latest: dict[tuple[str, date], int] = {}
    for day in days:
        latest[(day.landing_page, day.day)] = day.sessions
    rows = [
        {"shop_domain": shop, "landing_page": page, "day": when, "sessions": sessions}
        for (page, when), sessions in latest.items()
    ]
    return upsert_rows(connection, _PAGES, rows, ["shop_domain", "landing_page", "day"])


def load_landing_page_days(
    connection: Connection, shop: str, since: date, until: date
) -> list[LandingPageDay]:
    """Sessions per landing page and day for days in ``[since, until]``."""
    query = select(_PAGES.c.landing_page, _PAGES.c.day, _PAGES.c.sessions).where(
        (_PAGES.c.shop_domain == shop) & (_PAGES.c.day >= since) & (_PAGES.c.day <= until)
    )
    return [LandingPageDay(*row) for row in connection.execute(query)]
