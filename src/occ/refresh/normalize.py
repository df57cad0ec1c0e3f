"""Validated contract models → the normalized records the store keeps.

Two spellings of one normalization: ``*_record`` builds the records the metrics read, and
``*_rows`` builds the store's driver rows straight from the model, in the column order of
:mod:`occ.store.rows` (``ORDER_COLUMNS`` …). The bulk load uses the rows: going through
the frozen record dataclasses first costs as much as the contract validation itself. The
small helpers below hold each rule once; tests/test_bulk_ingest.py checks that both spellings
store the same values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from occ.contracts.chatwoot import ConversationNode, MessageNode
from occ.contracts.records import (
    ConversationRecord,
    LineItemRecord,
    MessageRecord,
    OrderRecord,
    VariantRecord,
)
from occ.contracts.shopify import LineItemNode, OrderNode, ProductVariantNode
from occ.store.upsert import DriverValues, Row

__all__ = [
    "conversation_record",
    "conversation_rows",
    "epoch",
    "message_record",
    "message_row",
    "order_record",
    "order_rows",
    "variant_record",
    "variant_row",
]


def epoch(seconds: float) -> datetime:
    """Chatwoot's Unix seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def _line_item_id(order_id: str, position: int, line: LineItemNode) -> str:
    # A line item without an id (older exports) keeps its position as identity.
    return line.id or f"{order_id}#{position}"


def _sender_name(node: MessageNode) -> str | None:
    name = node.sender.get("name") if node.sender else None
    return name if isinstance(name, str) else None


def _customer_name(node: ConversationNode) -> str | None:
    name = node.meta.sender.name if node.meta and node.meta.sender else None
    return name or None


def _assignment(node: ConversationNode) -> tuple[int | None, str | None, int | None, str | None]:
    """``meta.assignee`` and ``meta.team`` as (agent id, agent name, team id, team name)."""
    meta = node.meta
    agent = meta.assignee if meta else None
    team = meta.team if meta else None
    return (
        agent.id if agent else None,
        (agent.name or None) if agent else None,
        team.id if team else None,
        (team.name or None) if team else None,
    )


def _epoch_or_none(seconds: float | None) -> datetime | None:
    return None if seconds is None else epoch(seconds)


def order_record(node: OrderNode) -> OrderRecord:
    money = node.currentTotalPriceSet.shopMoney
    return OrderRecord(
        order_id=node.id,
        name=node.name,
        created_at=node.createdAt,
        updated_at=node.updatedAt,
        cancelled_at=node.cancelledAt,
        test=node.test,
        fulfillment_status=node.displayFulfillmentStatus,
        financial_status=node.displayFinancialStatus,
        total=money.amount,
        currency=money.currencyCode,
        line_items=tuple(
            LineItemRecord(
                line_item_id=_line_item_id(node.id, position, line),
                variant_id=line.variant.id if line.variant else None,
                sku=line.sku or None,
                title=line.title,
                quantity=line.quantity,
                amount=line.discountedTotalSet.shopMoney.amount,
            )
            for position, line in enumerate(node.lineItems)
        ),
    )


def order_rows(shop: str, node: OrderNode, values: DriverValues) -> tuple[Row, list[Row]]:
    """``order_record(node)`` as the store's order row and line-item rows.

    Spelled for speed (the bulk load runs it a million times): no converter call for a
    missing timestamp, one attribute lookup per nested object.
    """
    timestamp, money = values.timestamp, values.money
    order_id = node.id
    total = node.currentTotalPriceSet.shopMoney
    updated, cancelled = node.updatedAt, node.cancelledAt
    lines: list[Row] = []
    for position, line in enumerate(node.lineItems):
        variant = line.variant
        lines.append(
            (
                shop,
                order_id,
                _line_item_id(order_id, position, line),
                None if variant is None else variant.id,
                line.sku or None,
                line.title,
                line.quantity,
                money(line.discountedTotalSet.shopMoney.amount),
            )
        )
    order = (
        shop,
        order_id,
        node.name,
        timestamp(node.createdAt),
        None if updated is None else timestamp(updated),
        None if cancelled is None else timestamp(cancelled),
        node.test,
        node.displayFulfillmentStatus,
        node.displayFinancialStatus,
        money(total.amount),
        total.currencyCode,
    )
    return order, lines


def variant_record(node: ProductVariantNode) -> VariantRecord:
    return VariantRecord(*_variant_values(node))


def variant_row(shop: str, node: ProductVariantNode, values: DriverValues) -> Row:
    """``variant_record(node)`` as the store's variant row."""
    *head, price = _variant_values(node)
    return (shop, *head, values.money(price))


def _variant_values(node: ProductVariantNode) -> tuple[Any, ...]:
    return (
        node.id,
        node.sku or None,
        node.title,
        node.product.title,
        node.product.handle,
        # Shopify answers null for variants whose inventory is not tracked.
        node.inventoryQuantity or 0,
        node.inventoryPolicy,
        node.inventoryItem.tracked,
        node.price,
    )


def message_record(node: MessageNode) -> MessageRecord:
    return MessageRecord(
        message_id=node.id,
        conversation_id=node.conversation_id,
        message_type=node.message_type,
        created_at=epoch(node.created_at),
        private=node.private,
        sender_type=node.sender_type,
        sender_name=_sender_name(node),
        content=node.content,
    )


def message_row(shop: str, node: MessageNode, values: DriverValues) -> Row:
    """``message_record(node)`` as the store's message row."""
    return (
        shop,
        node.id,
        node.conversation_id,
        node.message_type,
        values.timestamp(epoch(node.created_at)),
        node.private,
        node.sender_type,
        _sender_name(node),
        node.content,
    )


def conversation_record(node: ConversationNode) -> ConversationRecord:
    assignee_id, assignee_name, team_id, team_name = _assignment(node)
    return ConversationRecord(
        conversation_id=node.id,
        status=node.status,
        labels=tuple(node.labels),
        customer_name=_customer_name(node),
        created_at=epoch(node.created_at),
        messages=tuple(message_record(message) for message in node.messages),
        inbox_id=node.inbox_id,
        assignee_id=assignee_id,
        assignee_name=assignee_name,
        team_id=team_id,
        team_name=team_name,
        last_activity_at=_epoch_or_none(node.last_activity_at),
    )


def conversation_rows(
    shop: str, node: ConversationNode, values: DriverValues
) -> tuple[Row, list[Row]]:
    """``conversation_record(node)`` as the store's conversation row and embedded messages."""
    return (
        (
            shop,
            node.id,
            node.status,
            values.json(list(node.labels)),
            _customer_name(node),
            values.timestamp(epoch(node.created_at)),
            node.inbox_id,
            *_assignment(node),
            values.timestamp(_epoch_or_none(node.last_activity_at)),
        ),
        [message_row(shop, message, values) for message in node.messages],
    )
