"""The source tables as driver rows: their columns, records → rows, and bulk writes.

A *driver row* is a tuple of what the column types would hand the DBAPI driver, in the order
of the table's ``*_COLUMNS`` (see :mod:`occ.store.upsert`). The refresh builds them straight
from the validated upstream models (:mod:`occ.refresh.normalize`), possibly in a worker
process, and writes them here through its own connection, a :class:`RowBatch` at a time.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Connection, Table

from occ.contracts.records import ConversationRecord, MessageRecord, OrderRecord, VariantRecord
from occ.store.tables import (
    ChatwootConversation,
    ChatwootMessage,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyVariant,
)
from occ.store.upsert import DriverValues, Row, RowBatch, insert_new, loaded_batch, upsert_batch

__all__ = [
    "CONVERSATION_COLUMNS",
    "LINE_ITEM_COLUMNS",
    "MESSAGE_COLUMNS",
    "ORDER_COLUMNS",
    "VARIANT_COLUMNS",
    "conversation_rows",
    "message_row",
    "order_rows",
    "variant_row",
    "write_conversations",
    "write_messages",
    "write_orders",
    "write_variants",
]

_ORDERS = cast(Table, ShopifyOrder.__table__)
_LINES = cast(Table, ShopifyLineItem.__table__)
_VARIANTS = cast(Table, ShopifyVariant.__table__)
_CONVERSATIONS = cast(Table, ChatwootConversation.__table__)
_MESSAGES = cast(Table, ChatwootMessage.__table__)

ORDER_COLUMNS = (
    "shop_domain",
    "order_id",
    "name",
    "created_at",
    "updated_at",
    "cancelled_at",
    "test",
    "fulfillment_status",
    "financial_status",
    "total",
    "currency",
)
LINE_ITEM_COLUMNS = (
    "shop_domain",
    "order_id",
    "line_item_id",
    "variant_id",
    "sku",
    "title",
    "quantity",
    "amount",
)
VARIANT_COLUMNS = (
    "shop_domain",
    "variant_id",
    "sku",
    "title",
    "product_title",
    "product_handle",
    "inventory_quantity",
    "inventory_policy",
    "tracked",
    "price",
)
CONVERSATION_COLUMNS = (
    "shop_domain",
    "conversation_id",
    "status",
    "labels",
    "customer_name",
    "created_at",
    "inbox_id",
    "assignee_id",
    "assignee_name",
    "team_id",
    "team_name",
    "last_activity_at",
)
MESSAGE_COLUMNS = (
    "shop_domain",
    "message_id",
    "conversation_id",
    "message_type",
    "created_at",
    "private",
    "sender_type",
    "sender_name",
    "content",
)


def order_rows(shop: str, order: OrderRecord, values: DriverValues) -> tuple[Row, list[Row]]:
    """One order and its line items as driver rows."""
    timestamp, money = values.timestamp, values.money
    order_row = (
        shop,
        order.order_id,
        order.name,
        timestamp(order.created_at),
        timestamp(order.updated_at),
        timestamp(order.cancelled_at),
        order.test,
        order.fulfillment_status,
        order.financial_status,
        money(order.total),
        order.currency,
    )
    line_rows = [
        (
            shop,
            order.order_id,
            line.line_item_id,
            line.variant_id,
            line.sku,
            line.title,
            line.quantity,
            money(line.amount),
        )
        for line in order.line_items
    ]
    return order_row, line_rows


def variant_row(shop: str, variant: VariantRecord, values: DriverValues) -> Row:
    return (
        shop,
        variant.variant_id,
        variant.sku,
        variant.title,
        variant.product_title,
        variant.product_handle,
        variant.inventory_quantity,
        variant.inventory_policy,
        variant.tracked,
        values.money(variant.price),
    )


def message_row(shop: str, message: MessageRecord, values: DriverValues) -> Row:
    return (
        shop,
        message.message_id,
        message.conversation_id,
        message.message_type,
        values.timestamp(message.created_at),
        message.private,
        message.sender_type,
        message.sender_name,
        message.content,
    )


def conversation_rows(
    shop: str, conversation: ConversationRecord, values: DriverValues
) -> tuple[Row, list[Row]]:
    """One conversation and the messages embedded in it, as driver rows."""
    conversation_row = (
        shop,
        conversation.conversation_id,
        conversation.status,
        values.json(list(conversation.labels)),
        conversation.customer_name,
        values.timestamp(conversation.created_at),
        conversation.inbox_id,
        conversation.assignee_id,
        conversation.assignee_name,
        conversation.team_id,
        conversation.team_name,
        values.timestamp(conversation.last_activity_at),
    )
    return conversation_row, [message_row(shop, m, values) for m in conversation.messages]


def write_orders(
    connection: Connection,
    orders: RowBatch,
    line_items: RowBatch,
    *,
    replace_lines: bool = True,
) -> int:
    """Upsert order rows and replace their line items (an edited order may lose a line).

    ``line_items`` are the lines of exactly the orders of ``orders``, each order once. Orders
    are first inserted where new; only when some were stored before are they updated and their
    old lines deleted. A new order has no stored lines: lines are written only here, after
    their order, and occ never deletes an order.
    """
    keys = ("shop_domain", "order_id")
    if insert_new(connection, _ORDERS, ORDER_COLUMNS, orders, keys) < orders.count:
        upsert_batch(connection, _ORDERS, ORDER_COLUMNS, orders, keys)
        if replace_lines:
            _delete_lines(connection, orders)
    upsert_batch(connection, _LINES, LINE_ITEM_COLUMNS, line_items, (*keys, "line_item_id"))
    return orders.count


def _delete_lines(connection: Connection, orders: RowBatch) -> None:
    if orders.image is not None:
        with loaded_batch(connection, orders) as table:
            connection.exec_driver_sql(
                "DELETE FROM shopify_line_item WHERE (shop_domain, order_id) IN "
                f"(SELECT c0, c1 FROM {table})"  # the first two columns of ORDER_COLUMNS
            )
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"DELETE FROM shopify_line_item WHERE shop_domain = {marker} AND order_id = {marker}",
        [row[:2] for row in orders.rows],
    )


def write_variants(connection: Connection, rows: RowBatch) -> int:
    keys = ("shop_domain", "variant_id")
    return upsert_batch(connection, _VARIANTS, VARIANT_COLUMNS, rows, keys)


def write_conversations(connection: Connection, rows: RowBatch) -> int:
    keys = ("shop_domain", "conversation_id")
    return upsert_batch(connection, _CONVERSATIONS, CONVERSATION_COLUMNS, rows, keys)


def write_messages(connection: Connection, rows: RowBatch) -> int:
    keys = ("shop_domain", "message_id")
    return upsert_batch(connection, _MESSAGES, MESSAGE_COLUMNS, rows, keys)
