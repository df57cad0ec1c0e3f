"""``--source live``: every configured connector, as lazily read streams for the refresh job.

Unconfigured upstreams are skipped with a notice (their tiles say "unconfigured"). Streams are
generators: pages are fetched while the refresh stores them, so memory stays flat in the
number of pages, and nothing is fetched for a stream the refresh does not read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from occ.config import Settings
from occ.contracts.shopify import ShopNode
from occ.errors import ConfigError
from occ.sources.base import EvidenceBuffer, RawRecord, SourcePayloads
from occ.sources.chatwoot import StoredConversations, chatwoot_client
from occ.sources.ga4 import ga4_client
from occ.sources.shopify import shopify_client

__all__ = ["CURSOR_OVERLAP", "conversations_since", "live_payloads", "orders_since"]

# Re-read a little before the cursor: an order updated in the same second as the newest one
# stored may not have been visible yet. Upserts make the overlap harmless.
CURSOR_OVERLAP = timedelta(minutes=5)


def orders_since(cursor: str | None, now: datetime, lookback_days: int) -> datetime:
    """Where the next order sync starts: the stored cursor (less an overlap) or the look-back."""
    if cursor is None:
        return now - timedelta(days=lookback_days)
    return datetime.fromisoformat(cursor).astimezone(UTC) - CURSOR_OVERLAP


def conversations_since(cursor: str | None) -> datetime | None:
    """Where the resolved and snoozed lists are read back to: the stored Chatwoot cursor less
    the overlap (an activity written while the last sync read may carry an older instant)."""
    if cursor is None:
        return None
    return datetime.fromisoformat(cursor).astimezone(UTC) - CURSOR_OVERLAP


class _Collect:
    """Pass records through, remembering the conversation ids (messages are read per id)."""

    def __init__(self, records: Iterable[RawRecord]) -> None:
        self.records = records
        self.ids: list[int] = []

    def __iter__(self) -> Iterator[RawRecord]:
        for record in self.records:
            conversation_id = _conversation_id(record.text)
            if conversation_id is not None:
                self.ids.append(conversation_id)
            yield record


def _conversation_id(text: str) -> int | None:
    try:
        value = json.loads(text).get("id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def live_payloads(
    settings: Settings,
    http: httpx.Client,
    *,
    orders_cursor: Callable[[str], str | None],
    stored_conversations: Callable[[str], StoredConversations],
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> SourcePayloads:
    """Open every configured upstream; the shop object is fetched now, streams lazily.

    ``orders_cursor`` gives the stored order cursor of a shop domain (None on a first sync);
    ``stored_conversations`` what the store holds of its previous Chatwoot syncs.

    Raises:
        ConfigError: no upstream is configured at all.
    """
    evidence = EvidenceBuffer()
    shopify = shopify_client(settings, http, evidence, sleep=sleep)
    chatwoot = chatwoot_client(settings, http, evidence, sleep=sleep)
    ga4 = ga4_client(settings, evidence, sleep=sleep)
    if shopify is None and chatwoot is None and ga4 is None:
        raise ConfigError(
            "no live source is configured; set OCC_SHOPIFY_SHOP with a token, "
            "OCC_CHATWOOT_URL/ACCOUNT_ID/API_TOKEN or OCC_GA4_PROPERTY_ID (see the README)"
        )
    payloads = SourcePayloads(kind="live", name="live", shop=None, evidence=evidence)
    timezone = "UTC"
    shop_domain = settings.shop_domain
    if shopify is None:
        payloads.notices.append("Shopify is not configured: orders and inventory skipped")
    else:
        payloads.shop = shopify.shop_record()
        shop = ShopNode.model_validate_json(payloads.shop.text)
        timezone = shop.ianaTimezone
        shop_domain = shop.shopDomain
        since = orders_since(orders_cursor(shop.shopDomain), now, settings.shopify_lookback_days)
        payloads.streams["shopify.orders"] = shopify.iter_orders(since)
        payloads.streams["shopify.variants"] = shopify.iter_variants()
        payloads.cursors["shopify.orders"] = shopify.orders_cursor
        payloads.schema = ("shopify", settings.shopify_api_version, shopify.introspect)
    if chatwoot is None:
        payloads.notices.append("Chatwoot is not configured: SLA breaches skipped")
    else:
        # Without a shop domain the refresh stops before reading anything (run_refresh).
        stored = stored_conversations(shop_domain) if shop_domain else StoredConversations()
        conversations = _Collect(chatwoot.iter_conversations(stored.tracked, stored.since))
        payloads.streams["chatwoot.conversations"] = conversations
        payloads.streams["chatwoot.messages"] = _later(
            lambda: chatwoot.iter_messages(conversations.ids)
        )
        payloads.cursors["chatwoot.conversations"] = chatwoot.conversations_cursor
        payloads.deleted_conversations = chatwoot.deleted_conversations
    if ga4 is None:
        payloads.notices.append("GA4 is not configured: landing-page traffic skipped")
    else:
        today = now.astimezone(ZoneInfo(timezone)).date()
        payloads.streams["ga4.landing_pages"] = ga4.iter_reports(today)
    return payloads


def _later(make: Callable[[], Iterable[RawRecord]]) -> Iterator[RawRecord]:
    """Build the iterable only when it is first read (after the streams before it)."""
    yield from make()
