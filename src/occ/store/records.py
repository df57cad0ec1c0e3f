"""Writing and reading the source records (orders, variants, conversations, pages).

Writes are upserts keyed by the upstream ids: re-reading the same payloads never duplicates
(the driver rows and bulk writes behind them are in :mod:`occ.store.rows`). Reads take the
windows the KPIs need, so a refresh reads days, not the whole history; they select the
timestamp and money columns raw and convert them in one pass, as ``UtcDateTime`` and
``DecimalText`` would, row by row.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    Table,
    func,
    or_,
    select,
    type_coerce,
)

from occ.contracts.records import (
    ConversationRecord,
    LandingPageDay,
    LineItemRecord,
    MessageRecord,
    OrderRecord,
    OrderSummary,
    VariantRecord,
)
from occ.store import rows
from occ.store.tables import (
    ChatwootConversation,
    ChatwootMessage,
    GaLandingPageDay,
    Shop,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyVariant,
)
from occ.store.upsert import Row, driver_values, row_batch, upsert_batch, upsert_rows

__all__ = [
    "ShopInfo",
    "count_conversations",
    "load_conversations",
    "load_landing_page_days",
    "load_order_names",
    "load_order_summaries",
    "load_orders",
    "load_shop",
    "load_units_sold",
    "load_variants",
    "newest_records",
    "paused_collector",
    "record_days",
    "record_span",
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
# A line item's order (the join of line items to orders), and the orders KPIS.md §4 counts:
# neither cancelled nor a test order.
_ORDER_OF_LINE = (_ORDERS.c.shop_domain == _LINES.c.shop_domain) & (
    _ORDERS.c.order_id == _LINES.c.order_id
)
_COUNTABLE = _ORDERS.c.cancelled_at.is_(None) & _ORDERS.c.test.is_(False)
_RAW_TYPE = String()


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


@contextmanager
def paused_collector() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a large number of records.

    Records hold no reference cycles: reference counting frees them as ever. But each
    automatic collection rescans every object still alive, so building a big window (hundreds
    of thousands of records that all survive) spends more time in the collector than reading
    the rows. The previous state is restored on exit.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _raw(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``column`` as the driver returns it: no per-row type processing (converted in bulk)."""
    return type_coerce(column, _RAW_TYPE)


def load_orders(
    connection: Connection,
    shop: str,
    since: datetime,
    until: datetime,
    *,
    lines_of: tuple[Collection[str], Collection[str]] | None = None,
) -> list[OrderRecord]:
    """Orders with ``created_at`` in ``(since, until]``, with their line items.

    With ``lines_of`` = (variant ids, SKUs), only the line items carrying one of those variant
    ids or SKUs are read (a job that needs a few products' orders over weeks of history).
    """
    window = (
        (_ORDERS.c.shop_domain == shop)
        & (_ORDERS.c.created_at > since)
        & (_ORDERS.c.created_at <= until)
    )
    return _load_orders(connection, window, lines_of)


def load_orders_numbered(
    connection: Connection, shop: str, numbers: Iterable[str]
) -> list[OrderRecord]:
    """Orders whose name contains one of ``numbers`` (``#1001``, ``HR1001-US`` for 1001).

    Callers resolve the mentions exactly (``occ.metrics.mentions``); the ``LIKE`` only
    narrows the rows read to a few per number.
    """
    found: list[OrderRecord] = []
    for names in _names_containing(numbers):
        found += _load_orders(connection, (_ORDERS.c.shop_domain == shop) & names)
    return found


def _names_containing(numbers: Iterable[str]) -> Iterator[ColumnElement[bool]]:
    """``name LIKE '%n%' OR …`` over ``numbers``, 200 at a time (bounded statements)."""
    wanted = sorted(set(numbers))
    for chunk in range(0, len(wanted), 200):
        yield or_(*(_ORDERS.c.name.like(f"%{n}%") for n in wanted[chunk : chunk + 200]))


def last_sold(
    connection: Connection, shop: str, variant_ids: Iterable[str], until: datetime
) -> dict[str, datetime]:
    """The newest countable order (created at or before ``until``) of each variant."""
    wanted = sorted(set(variant_ids))
    utc = driver_values(connection.dialect.name).read_timestamp
    found: dict[str, datetime] = {}
    for chunk in range(0, len(wanted), 500):
        query = (
            select(_LINES.c.variant_id, func.max(_raw(_ORDERS.c.created_at)))
            .join(_ORDERS, _ORDER_OF_LINE)
            .where(
                (_LINES.c.shop_domain == shop)
                & _LINES.c.variant_id.in_(wanted[chunk : chunk + 500])
                & (_ORDERS.c.created_at <= until)
                & _COUNTABLE
            )
            .group_by(_LINES.c.variant_id)
        )
        found.update((v, utc(at)) for v, at in connection.execute(query) if at is not None)
    return found


def _load_orders(
    connection: Connection,
    window: ColumnElement[bool],
    lines_of: tuple[Collection[str], Collection[str]] | None = None,
) -> list[OrderRecord]:
    line_query = (
        select(
            _LINES.c.order_id,
            _LINES.c.line_item_id,
            _LINES.c.variant_id,
            _LINES.c.sku,
            _LINES.c.title,
            _LINES.c.quantity,
            _raw(_LINES.c.amount),
        )
        .join(_ORDERS, _ORDER_OF_LINE)
        .where(window)
    )
    if lines_of is not None:
        variant_ids, skus = lines_of
        line_query = line_query.where(
            _LINES.c.variant_id.in_(sorted(variant_ids)) | _LINES.c.sku.in_(sorted(skus))
        )
    order_query = select(
        _ORDERS.c.order_id,
        _ORDERS.c.name,
        _raw(_ORDERS.c.created_at),
        _raw(_ORDERS.c.updated_at),
        _raw(_ORDERS.c.cancelled_at),
        _ORDERS.c.test,
        _ORDERS.c.fulfillment_status,
        _ORDERS.c.financial_status,
        _raw(_ORDERS.c.total),
        _ORDERS.c.currency,
    ).where(window)
    utc = driver_values(connection.dialect.name).read_timestamp
    lines: dict[str, list[LineItemRecord]] = defaultdict(list)
    with paused_collector():
        for order_id, line_id, variant_id, sku, title, quantity, amount in connection.execute(
            line_query
        ).all():
            lines[order_id].append(
                LineItemRecord(line_id, variant_id, sku, title, quantity, Decimal(amount))
            )
        return [
            OrderRecord(
                order_id,
                name,
                utc(created_at),
                None if updated_at is None else utc(updated_at),
                None if cancelled_at is None else utc(cancelled_at),
                test,
                fulfillment_status,
                financial_status,
                Decimal(total),
                currency,
                tuple(lines.get(order_id, ())),
            )
            for (
                order_id,
                name,
                created_at,
                updated_at,
                cancelled_at,
                test,
                fulfillment_status,
                financial_status,
                total,
                currency,
            ) in connection.execute(order_query).all()
        ]


def load_order_summaries(
    connection: Connection, shop: str, since: datetime, until: datetime
) -> list[OrderSummary]:
    """Orders with ``created_at`` in ``(since, until]`` as summaries, oldest first.

    The units of each order are summed by the database: weeks of a big store are millions of
    line items that the daily series only need as one number per order.
    """
    # Each order's units by one index range of its line items (a correlated subquery): no
    # sort or hash of millions of line items, and the orders come in created_at order off
    # their index, whatever the planner's statistics (a store just bulk-loaded has none).
    units = (
        select(func.coalesce(func.sum(_LINES.c.quantity), 0))
        .where(_ORDER_OF_LINE)
        .scalar_subquery()
    )
    query = (
        select(
            _raw(_ORDERS.c.created_at),
            _COUNTABLE,
            _ORDERS.c.fulfillment_status,
            _raw(_ORDERS.c.total),
            units,
        )
        .where(
            (_ORDERS.c.shop_domain == shop)
            & (_ORDERS.c.created_at > since)
            & (_ORDERS.c.created_at <= until)
        )
        .order_by(_ORDERS.c.created_at)
    )
    utc = driver_values(connection.dialect.name).read_timestamp
    with paused_collector():
        return [
            OrderSummary(utc(created), bool(countable), status, Decimal(total), int(sold))
            for created, countable, status, total, sold in connection.execute(query).all()
        ]


def newest_records(
    connection: Connection, shop: str, until: datetime
) -> dict[str, datetime | date | None]:
    """The newest record up to ``until`` of each timestamped stream: orders and Chatwoot
    messages by creation, GA4 landing pages by day (None when the stream holds nothing)."""
    utc = driver_values(connection.dialect.name).read_timestamp
    order = connection.execute(
        select(func.max(_raw(_ORDERS.c.created_at))).where(
            (_ORDERS.c.shop_domain == shop) & (_ORDERS.c.created_at <= until)
        )
    ).scalar()
    message = connection.execute(
        select(func.max(_raw(_MESSAGES.c.created_at))).where(
            (_MESSAGES.c.shop_domain == shop) & (_MESSAGES.c.created_at <= until)
        )
    ).scalar()
    day = connection.execute(
        select(func.max(_PAGES.c.day)).where(
            (_PAGES.c.shop_domain == shop) & (_PAGES.c.day <= until.date())
        )
    ).scalar()
    return {
        "shopify.orders": None if order is None else utc(order),
        "chatwoot.messages": None if message is None else utc(message),
        "ga4.landing_pages": day,
    }


def record_span(
    connection: Connection, shop: str, stream: str
) -> tuple[datetime | date, datetime | date] | None:
    """The oldest and newest record of ``stream``: ``shopify.orders`` and
    ``chatwoot.messages`` by creation (UTC), ``ga4.landing_pages`` by day (None when the
    stream holds nothing). One aggregate a query, so that an index answers each."""
    if stream == "ga4.landing_pages":
        where = _PAGES.c.shop_domain == shop
        last = connection.execute(select(func.max(_PAGES.c.day)).where(where)).scalar()
        if last is None:
            return None
        first: date = connection.execute(select(func.min(_PAGES.c.day)).where(where)).scalar_one()
        return first, last
    table = {"shopify.orders": _ORDERS, "chatwoot.messages": _MESSAGES}[stream]
    utc = driver_values(connection.dialect.name).read_timestamp
    where = table.c.shop_domain == shop
    column = _raw(table.c.created_at)
    newest = connection.execute(select(func.max(column)).where(where)).scalar()
    if newest is None:
        return None
    oldest = connection.execute(select(func.min(column)).where(where)).scalar()
    return utc(oldest), utc(newest)


def record_days(connection: Connection, shop: ShopInfo, stream: str) -> tuple[date, date] | None:
    """:func:`record_span` in the shop's local days (None when the stream holds nothing)."""
    span = record_span(connection, shop.domain, stream)
    if span is None:
        return None
    zone = ZoneInfo(shop.timezone)
    oldest, newest = (v.astimezone(zone).date() if isinstance(v, datetime) else v for v in span)
    return oldest, newest


def load_units_sold(
    connection: Connection, shop: str, since: datetime, until: datetime
) -> list[tuple[str | None, str | None, int]]:
    """Units of the line items of countable orders created in ``(since, until]``.

    One ``(variant_id, sku, units)`` per distinct pair: the sum the inventory KPI needs,
    computed by the database instead of over every line item's record (KPIS.md §4:
    countable = not cancelled and not a test order).
    """
    query = (
        select(_LINES.c.variant_id, _LINES.c.sku, func.sum(_LINES.c.quantity))
        .join(_ORDERS, _ORDER_OF_LINE)
        .where(
            (_ORDERS.c.shop_domain == shop)
            & (_ORDERS.c.created_at > since)
            & (_ORDERS.c.created_at <= until)
            & _COUNTABLE
        )
        .group_by(_LINES.c.variant_id, _LINES.c.sku)
    )
    return [(variant_id, sku, int(units)) for variant_id, sku, units in connection.execute(query)]


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
        _raw(_VARIANTS.c.price),
    ).where(_VARIANTS.c.shop_domain == shop)
    with paused_collector():
        return [
            VariantRecord(
                variant_id,
                sku,
                title,
                product_title,
                handle,
                quantity,
                policy,
                tracked,
                None if price is None else Decimal(price),
            )
            for (
                variant_id,
                sku,
                title,
                product_title,
                handle,
                quantity,
                policy,
                tracked,
                price,
            ) in connection.execute(query).all()
        ]


def load_conversations(
    connection: Connection,
    shop: str,
    statuses: Iterable[str] | None = None,
    *,
    created_since: datetime | None = None,
    created_until: datetime | None = None,
) -> list[ConversationRecord]:
    """Conversations with their messages, oldest message first.

    Optionally only those with ``statuses``, and only those created in
    ``(created_since, created_until]``.
    """
    where = _CONVERSATIONS.c.shop_domain == shop
    if statuses is not None:
        where = where & _CONVERSATIONS.c.status.in_(list(statuses))
    if created_since is not None:
        where = where & (_CONVERSATIONS.c.created_at > created_since)
    if created_until is not None:
        where = where & (_CONVERSATIONS.c.created_at <= created_until)
    heads = connection.execute(
        select(
            _CONVERSATIONS.c.conversation_id,
            _CONVERSATIONS.c.status,
            _CONVERSATIONS.c.labels,
            _CONVERSATIONS.c.customer_name,
            _raw(_CONVERSATIONS.c.created_at),
            _CONVERSATIONS.c.inbox_id,
            _CONVERSATIONS.c.assignee_id,
            _CONVERSATIONS.c.assignee_name,
            _CONVERSATIONS.c.team_id,
            _CONVERSATIONS.c.team_name,
            _raw(_CONVERSATIONS.c.last_activity_at),
        ).where(where)
    ).all()
    messages: dict[int, list[MessageRecord]] = defaultdict(list)
    wanted = select(_CONVERSATIONS.c.conversation_id).where(where)
    message_query = (
        select(
            _MESSAGES.c.message_id,
            _MESSAGES.c.conversation_id,
            _MESSAGES.c.message_type,
            _raw(_MESSAGES.c.created_at),
            _MESSAGES.c.private,
            _MESSAGES.c.sender_type,
            _MESSAGES.c.sender_name,
            _MESSAGES.c.content,
        )
        # IN (…), not a join: SQLite's planner then walks the wanted conversations' messages
        # rather than every message of the shop.
        .where((_MESSAGES.c.shop_domain == shop) & _MESSAGES.c.conversation_id.in_(wanted))
        .order_by(_MESSAGES.c.created_at, _MESSAGES.c.message_id)
    )
    utc = driver_values(connection.dialect.name).read_timestamp
    with paused_collector():
        for message_id, conversation_id, kind, created_at, *rest in connection.execute(
            message_query
        ).all():
            messages[conversation_id].append(
                MessageRecord(message_id, conversation_id, kind, utc(created_at), *rest)
            )
        return [
            ConversationRecord(
                conversation_id=head[0],
                status=head[1],
                labels=tuple(head[2] or ()),
                customer_name=head[3],
                created_at=utc(head[4]),
                messages=tuple(messages.get(head[0], ())),
                inbox_id=head[5],
                assignee_id=head[6],
                assignee_name=head[7],
                team_id=head[8],
                team_name=head[9],
                last_activity_at=None if head[10] is None else utc(head[10]),
            )
            for head in heads
        ]


def count_conversations(connection: Connection, shop: str) -> int:
    """How many conversations of ``shop`` the store holds."""
    query = select(func.count()).where(_CONVERSATIONS.c.shop_domain == shop)
    return int(connection.execute(query).scalar_one())


def load_order_names(connection: Connection, shop: str, numbers: Iterable[str]) -> list[str]:
    """The names of ``shop``'s stored orders that contain one of ``numbers`` (``#1001``,
    ``HR1001-US`` for 1001), oldest first: what mentions of those numbers resolve against.

    Only the numbers some text mentions are looked up, not every order of a large store.
    """
    found: list[tuple[Any, str]] = []
    for names in _names_containing(numbers):
        query = select(_raw(_ORDERS.c.created_at), _ORDERS.c.name).where(
            (_ORDERS.c.shop_domain == shop) & names
        )
        found += [(created, name) for created, name in connection.execute(query)]
    return [name for _, name in sorted(found)]


def upsert_orders(
    connection: Connection, shop: str, orders: Sequence[OrderRecord], *, replace_lines: bool = True
) -> int:
    """Upsert orders and replace their line items (the last of one id wins)."""
    dialect = connection.dialect.name
    values = driver_values(dialect)
    order_table: list[Row] = []
    line_table: list[Row] = []
    for order in {order.order_id: order for order in orders}.values():
        order_row, line_rows = rows.order_rows(shop, order, values)
        order_table.append(order_row)
        line_table.extend(line_rows)
    return rows.write_orders(
        connection,
        row_batch(order_table, dialect),
        row_batch(line_table, dialect),
        replace_lines=replace_lines,
    )


def upsert_variants(connection: Connection, shop: str, variants: Sequence[VariantRecord]) -> int:
    dialect = connection.dialect.name
    values = driver_values(dialect)
    table = [rows.variant_row(shop, variant, values) for variant in variants]
    return rows.write_variants(connection, row_batch(table, dialect))


def upsert_conversations(
    connection: Connection, shop: str, conversations: Sequence[ConversationRecord]
) -> int:
    """Upsert conversations (not their embedded messages: see :func:`upsert_messages`)."""
    dialect = connection.dialect.name
    values = driver_values(dialect)
    table = [rows.conversation_rows(shop, c, values)[0] for c in conversations]
    batch = row_batch(table, dialect)
    return rows.write_conversations(connection, batch)


def upsert_messages(connection: Connection, shop: str, messages: Sequence[MessageRecord]) -> int:
    dialect = connection.dialect.name
    values = driver_values(dialect)
    table = [rows.message_row(shop, message, values) for message in messages]
    return rows.write_messages(connection, row_batch(table, dialect))


def upsert_landing_page_days(
    connection: Connection, shop: str, days: Sequence[LandingPageDay]
) -> int:
    # GA4 may answer the same (page, date) twice across reports: the last one wins.
    latest: dict[tuple[str, date], int] = {}
    for day in days:
        latest[(day.landing_page, day.day)] = day.sessions
    dialect = connection.dialect.name
    to_day = driver_values(dialect).day
    table = [(shop, page, to_day(when), sessions) for (page, when), sessions in latest.items()]
    return upsert_batch(
        connection,
        _PAGES,
        ("shop_domain", "landing_page", "day", "sessions"),
        row_batch(table, dialect),
        ("shop_domain", "landing_page", "day"),
    )


def load_landing_page_days(
    connection: Connection, shop: str, since: date, until: date
) -> list[LandingPageDay]:
    """Sessions per landing page and day for days in ``[since, until]``."""
    query = select(_PAGES.c.landing_page, _PAGES.c.day, _PAGES.c.sessions).where(
        (_PAGES.c.shop_domain == shop) & (_PAGES.c.day >= since) & (_PAGES.c.day <= until)
    )
    return [LandingPageDay(*row) for row in connection.execute(query)]
