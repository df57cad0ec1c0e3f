"""Incremental sync cursors (e.g. the newest Shopify ``updatedAt`` already stored)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, select

from occ.store.tables import SyncCursor
from occ.store.upsert import upsert_rows

__all__ = ["load_cursor", "save_cursor"]

_CURSORS = cast(Table, SyncCursor.__table__)


def load_cursor(connection: Connection, shop: str, source: str, stream: str) -> str | None:
    return connection.execute(
        select(_CURSORS.c.cursor).where(
            (_CURSORS.c.shop_domain == shop)
            & (_CURSORS.c.source == source)
            & (_CURSORS.c.stream == stream)
        )
    ).scalar()


def save_cursor(
    connection: Connection, shop: str, source: str, stream: str, cursor: str, at: datetime
) -> None:
    """Store the cursor; call it in the transaction that stored the records it covers."""
    upsert_rows(
        connection,
        _CURSORS,
        [
            {
                "shop_domain": shop,
                "source": source,
                "stream": stream,
                "cursor": cursor,
                "updated_at": at,
            }
        ],
        ["shop_domain", "source", "stream"],
    )
