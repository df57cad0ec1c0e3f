"""What a live Chatwoot sync needs from the store beyond its cursor.

The conversations the store holds as open or pending are the ones whose current state the
next sync must learn when Chatwoot no longer lists them (:mod:`occ.sources.chatwoot`); those
Chatwoot answers 404 for are stored as :data:`~occ.contracts.records.CONVERSATION_DELETED`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import cast

from sqlalchemy import Connection, Table, select, update

from occ.contracts.chatwoot import OPEN_STATUSES
from occ.contracts.records import CONVERSATION_DELETED
from occ.store.tables import ChatwootConversation

__all__ = ["mark_conversations_deleted", "open_conversation_ids"]

_CONVERSATIONS = cast(Table, ChatwootConversation.__table__)


def open_conversation_ids(connection: Connection, shop: str) -> frozenset[int]:
    """The ids of ``shop``'s conversations stored as open or pending."""
    query = select(_CONVERSATIONS.c.conversation_id).where(
        (_CONVERSATIONS.c.shop_domain == shop) & _CONVERSATIONS.c.status.in_(OPEN_STATUSES)
    )
    return frozenset(int(value) for value in connection.execute(query).scalars())


def mark_conversations_deleted(connection: Connection, shop: str, ids: Collection[int]) -> int:
    """Store the conversations ``ids`` of ``shop`` as deleted (their messages are kept);
    returns how many rows changed. Call it in the transaction that stored the sync."""
    if not ids:
        return 0
    wanted = (_CONVERSATIONS.c.shop_domain == shop) & _CONVERSATIONS.c.conversation_id.in_(
        list(ids)
    )
    statement = update(_CONVERSATIONS).where(wanted).values(status=CONVERSATION_DELETED)
    return connection.execute(statement).rowcount
