"""Which payloads a refresh reads: ``demo``, ``live`` (every configured API) or ``dir:PATH``."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine

from occ.config import Settings
from occ.errors import InputFileError
from occ.sources.base import SourcePayloads
from occ.sources.chatwoot import StoredConversations
from occ.sources.demo import demo_payloads
from occ.sources.live import conversations_since, live_payloads
from occ.sources.recorded import recorded_payloads
from occ.store.conversation_sync import open_conversation_ids
from occ.store.cursors import load_cursor

__all__ = ["live_source", "offline_payloads", "source_payloads"]


def offline_payloads(
    source: str, settings: Settings, now: datetime, seed: int | None = None
) -> SourcePayloads | None:
    """Demo and recorded folders, checked before any database is opened (None for live).

    Raises:
        InputFileError: ``source`` is none of demo, live, dir:PATH; the folder is unreadable.
    """
    if source == "demo":
        return demo_payloads(settings.demo_seed if seed is None else seed, now)
    if source.startswith("dir:"):
        return recorded_payloads(Path(source.removeprefix("dir:")).expanduser())
    if source == "live":
        return None
    raise InputFileError(f"unknown source {source!r}; use demo, live or dir:PATH")


def source_payloads(
    source: str,
    settings: Settings,
    now: datetime,
    engine: Engine,
    http: httpx.Client,
    seed: int | None = None,
) -> SourcePayloads:
    """The payloads of ``source``; live ones resume from the store's sync cursors."""
    offline = offline_payloads(source, settings, now, seed)
    if offline is not None:
        return offline
    return live_source(settings, http, engine, now)


def live_source(
    settings: Settings,
    http: httpx.Client,
    engine: Engine,
    now: datetime,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> SourcePayloads:
    """Every configured upstream, resuming from what the store holds of the previous syncs
    (read before the refresh's transaction begins)."""

    def orders_cursor(shop: str) -> str | None:
        with engine.connect() as connection:
            return load_cursor(connection, shop, "shopify", "shopify.orders")

    def stored_conversations(shop: str) -> StoredConversations:
        with engine.connect() as connection:
            cursor = load_cursor(connection, shop, "chatwoot", "chatwoot.conversations")
            return StoredConversations(
                open_conversation_ids(connection, shop), conversations_since(cursor)
            )

    return live_payloads(
        settings,
        http,
        orders_cursor=orders_cursor,
        stored_conversations=stored_conversations,
        now=now,
        sleep=sleep,
    )
