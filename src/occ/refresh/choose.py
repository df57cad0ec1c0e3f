"""Which payloads a refresh reads: ``demo``, ``live`` (every configured API) or ``dir:PATH``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine

from occ.config import Settings
from occ.errors import InputFileError
from occ.sources.base import SourcePayloads
from occ.sources.demo import demo_payloads
from occ.sources.live import live_payloads
from occ.sources.recorded import recorded_payloads
from occ.store.cursors import load_cursor

__all__ = ["offline_payloads", "source_payloads"]


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

    def orders_cursor(shop: str) -> str | None:
        with engine.connect() as connection:
            return load_cursor(connection, shop, "shopify", "shopify.orders")

    return live_payloads(settings, http, orders_cursor=orders_cursor, now=now)
