"""Validated contract models → the normalized records the store keeps."""

from __future__ import annotations

from datetime import UTC, datetime

from occ.contracts.chatwoot import ConversationNode, MessageNode
from occ.contracts.records import (
    ConversationRecord,
    LineItemRecord,
    MessageRecord,
    OrderRecord,
    VariantRecord,
)
from occ.contracts.shopify import OrderNode, ProductVariantNode

__all__ = ["conversation_record", "epoch", "message_record", "order_record", "variant_record"]


def epoch(seconds: float) -> datetime:
    """Chatwoot's Unix seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=UTC)


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
                # A line item without an id (older exports) keeps its position as identity.
                line_item_id=line.id or f"{node.id}#{position}",
                variant_id=line.variant.id if line.variant else None,
                sku=line.sku or None,
                title=line.title,
                quantity=line.quantity,
                amount=line.discountedTotalSet.shopMoney.amount,
            )
            for position, line in enumerate(node.lineItems)
        ),
    )


def variant_record(node: ProductVariantNode) -> VariantRecord:
    return VariantRecord(
        variant_id=node.id,
        sku=node.sku or None,
        title=node.title,
        product_title=node.product.title,
        product_handle=node.product.handle,
        # Shopify answers null for variants whose inventory is not tracked.
        inventory_quantity=node.inventoryQuantity or 0,
        inventory_policy=node.inventoryPolicy,
        tracked=node.inventoryItem.tracked,
        price=node.price,
    )


def message_record(node: MessageNode) -> MessageRecord:
    sender_name = node.sender.get("name") if node.sender else None
    return MessageRecord(
        message_id=node.id,
        conversation_id=node.conversation_id,
        message_type=node.message_type,
        created_at=epoch(node.created_at),
        private=node.private,
        sender_type=node.sender_type,
        sender_name=sender_name if isinstance(sender_name, str) else None,
        content=node.content,
    )


def conversation_record(node: ConversationNode) -> ConversationRecord:
    name = node.meta.sender.name if node.meta and node.meta.sender else None
    return ConversationRecord(
        conversation_id=node.id,
        status=node.status,
        labels=tuple(node.labels),
        customer_name=name or None,
        created_at=epoch(node.created_at),
        messages=tuple(message_record(message) for message in node.messages),
    )
