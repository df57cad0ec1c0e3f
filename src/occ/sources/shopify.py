"""Shopify Admin GraphQL connector: orders changed since the last sync, variants with stock.

Every request is ``POST {base}/admin/api/{version}/graphql.json`` with the
``X-Shopify-Access-Token`` header (a static token or one from the client-credentials grant,
:mod:`occ.sources.shopify_auth`), sent through :func:`occ.sources.http.send`: 429 (honouring
``Retry-After``), 5xx and timeouts are retried a bounded number of times with backoff and
jitter, 401/403 become :class:`~occ.errors.CredentialsRejected`. Orders are paged by cursor,
oldest change first; a sync of more orders than the bulk threshold runs a bulk operation
instead (:mod:`occ.sources.shopify_bulk`). Line items beyond an order's first page are drained.

Request budget: Shopify limits each app and shop by query cost, a leaky bucket whose size and
restore rate every answer reports in ``extensions.cost.throttleStatus``. occ computes each
query's requested cost before sending it (:func:`~occ.sources.shopify_queries.requested_cost`),
never sends one above Shopify's 1,000-point single-query limit, and when the bucket (as last
reported, refilled at the restore rate since) holds less than the query needs it first sleeps
``ceil((cost - available) / restoreRate)`` seconds. So in any minute occ spends at most one
bucket plus 60 × restoreRate points. On Shopify's Standard figures (a 1,000-point bucket
restored at 50 points/s) that is 3,000 points a minute sustained, 4,000 in the first minute:
about 3.5 orders pages of 50 orders × 3 line items a minute at their full requested cost of
852 points (Shopify charges the actual cost, less for orders with fewer line items), twice
that at the 100 points/s shopify.dev now lists for Standard plans. The other requests are
cheap (ordersCount, shop, a bulk poll: 1 point; starting a bulk operation: 10), and a bulk
operation is polled at most every 2 s (every 30 s after a while). A ``THROTTLED`` answer (the
bucket is shared with the app's other work) is retried after the computed wait plus jitter,
at most ``http_max_attempts`` times.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
from pydantic import SecretStr, ValidationError

from occ.config import Settings
from occ.contracts.shopify import OrderNode
from occ.errors import ConfigError, ContractViolation, SourceError
from occ.sources.base import RawRecord
from occ.sources.http import EvidenceSink, RetryPolicy, discard_evidence
from occ.sources.shopify_auth import ClientCredentialsToken, StaticToken, TokenProvider
from occ.sources.shopify_bulk import bulk_orders
from occ.sources.shopify_graphql import SOURCE, CursorPages, GraphQLTransport, dumps, get_field
from occ.sources.shopify_queries import (
    INTROSPECTION_QUERY,
    MAX_QUERY_COST,
    ORDER_LINE_ITEMS_QUERY,
    ORDERS_COUNT_QUERY,
    ORDERS_QUERY,
    SHOP_QUERY,
    VARIANTS_QUERY,
    largest_page,
    order_line_items_variables,
    orders_count_variables,
    orders_page_plan,
    orders_variables,
    requested_cost,
    variants_variables,
)

__all__ = ["ShopifyClient", "fetch_orders", "shopify_client"]


class ShopifyClient:
    """Reads one shop through an injected ``httpx.Client``.

    Args:
        http: The client that sends the requests (tests hand one pointed at loopback).
        shop: The shop's ``name.myshopify.com`` domain.
        api_version: The Admin API version, e.g. ``2025-10``.
        access_token: A static Admin API access token, or None with client credentials.
        client_id: The app's client id (client-credentials grant).
        client_secret: The app's client secret (client-credentials grant).
        base_url: The Admin API's address instead of ``https://{shop}``.
        evidence: Receives every answer with its query cost (never a token or secret).
        policy: Retries and the per-request timeout.
        page_size: Orders per page (fewer when the line items would not fit the cost limit).
        bulk_threshold: Orders to read above which a bulk operation reads them.
        line_items_page_size: Line items per order in the orders query (None: as many as fit).
        max_query_cost: Shopify's single-query cost limit (a fake server may allow more).
        max_pages: Pages of any one list read before its pagination is declared endless.
        bulk_poll_interval: First wait between polls of a bulk operation (it grows).
        bulk_timeout: Seconds a bulk operation may take before occ gives up.
        sleep: How to wait (tests record the waits instead).
        clock: A monotonic clock (token expiry, the cost bucket's refill).
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        shop: str,
        api_version: str = "2025-10",
        access_token: SecretStr | None = None,
        client_id: str | None = None,
        client_secret: SecretStr | None = None,
        base_url: str | None = None,
        evidence: EvidenceSink = discard_evidence,
        policy: RetryPolicy | None = None,
        page_size: int = 50,
        bulk_threshold: int = 10_000,
        line_items_page_size: int | None = None,
        max_query_cost: int = MAX_QUERY_COST,
        max_pages: int = 10_000,
        bulk_poll_interval: float = 2.0,
        bulk_timeout: float = 6 * 3600.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        policy = policy or RetryPolicy()
        base = (base_url or f"https://{shop}").rstrip("/")
        auth: TokenProvider
        if access_token is not None:
            auth = StaticToken(access_token)
        elif client_id and client_secret is not None:
            auth = ClientCredentialsToken(
                http,
                f"{base}/admin/oauth/access_token",
                client_id,
                client_secret,
                evidence=evidence,
                policy=policy,
                sleep=sleep,
                clock=clock,
            )
        else:
            raise ConfigError(
                "Shopify needs OCC_SHOPIFY_ACCESS_TOKEN, or OCC_SHOPIFY_CLIENT_ID with "
                "OCC_SHOPIFY_CLIENT_SECRET"
            )
        self._api_version = api_version
        self._graphql = GraphQLTransport(
            http,
            shop=shop,
            api_version=api_version,
            base_url=base,
            auth=auth,
            evidence=evidence,
            policy=policy,
            sleep=sleep,
            clock=clock,
        )
        self._orders_plan = orders_page_plan(page_size, line_items_page_size, max_query_cost)
        self._drain_size = largest_page(
            lambda k: requested_cost(
                ORDER_LINE_ITEMS_QUERY, order_line_items_variables("", None, k)
            ),
            max_query_cost,
        )
        self._variants_size = largest_page(
            lambda k: requested_cost(VARIANTS_QUERY, variants_variables(None, k)), max_query_cost
        )
        self._bulk_threshold = bulk_threshold
        self._max_pages = max_pages
        self._bulk_poll_interval = bulk_poll_interval
        self._bulk_timeout = bulk_timeout
        self._highest: str | None = None

    # --- streams ----------------------------------------------------------------------------

    @property
    def highest_updated_at(self) -> datetime | None:
        """The newest ``updatedAt`` of the orders yielded so far (the next sync's cursor)."""
        if self._highest is None:
            return None
        return datetime.fromisoformat(self._highest.replace("Z", "+00:00"))

    def orders_cursor(self) -> str | None:
        """:attr:`highest_updated_at` as ISO text, to store once the orders are stored."""
        highest = self.highest_updated_at
        return highest.isoformat() if highest is not None else None

    def _order_record(self, where: str, order: dict[str, Any]) -> RawRecord:
        updated = order.get("updatedAt")
        if isinstance(updated, str) and (self._highest is None or updated > self._highest):
            self._highest = updated
        return RawRecord(f"{SOURCE}:orders {where} {order.get('id')}", dumps(order))

    def _count_orders(self, updated_since: datetime) -> int:
        variables = orders_count_variables(updated_since, self._bulk_threshold + 1)
        data = self._graphql.execute("OccOrdersCount", ORDERS_COUNT_QUERY, variables)
        count = get_field(
            get_field(data, "ordersCount", "OccOrdersCount"), "count", "OccOrdersCount"
        )
        if not isinstance(count, int):
            raise SourceError(f"{SOURCE} answered OccOrdersCount without a count")
        return count

    def iter_orders(self, updated_since: datetime) -> Iterator[RawRecord]:
        """Every order updated after ``updated_since``, oldest change first, line items whole.

        Paged when at most the bulk threshold of orders changed, else by a bulk operation.
        Each record is the JSON of one Order node as :class:`OrderNode` reads it.
        """
        count = self._count_orders(updated_since)
        if count == 0:
            return
        if count > self._bulk_threshold:
            for line, order in bulk_orders(
                self._graphql,
                updated_since,
                poll_interval=self._bulk_poll_interval,
                timeout=self._bulk_timeout,
            ):
                yield self._order_record(f"bulk line {line}", order)
            return
        first, line_items = self._orders_plan
        # Orders updated while paging move to the end (sort by UPDATED_AT): allow for them.
        pages = CursorPages("orders", min(self._max_pages, 2 * math.ceil(count / first) + 10))
        base = orders_variables(updated_since, None, first, line_items)
        while pages.has_next_page:
            page = pages.pages + 1
            data = self._graphql.execute(
                "OccOrdersUpdatedSince", ORDERS_QUERY, pages.update_request(base)
            )
            orders = get_field(data, "orders", "OccOrdersUpdatedSince")
            for order in get_field(orders, "nodes", "OccOrdersUpdatedSince") or []:
                self._drain_line_items(order)
                yield self._order_record(f"page {page}", order)
            pages.update_state(orders.get("pageInfo"))

    def _drain_line_items(self, order: Any) -> None:
        """Read the rest of an order's line items; leave ``lineItems`` as ``{"nodes": all}``."""
        line_items = order.get("lineItems") if isinstance(order, dict) else None
        if not isinstance(line_items, dict):
            return  # not the queried shape: the contract check reports it
        nodes = list(line_items.get("nodes") or [])
        pages = CursorPages(f"the line items of {order.get('id')}", self._max_pages)
        pages.update_state(line_items.get("pageInfo"))
        while pages.has_next_page:
            variables = order_line_items_variables(str(order["id"]), pages.cursor, self._drain_size)
            data = self._graphql.execute("OccOrderLineItems", ORDER_LINE_ITEMS_QUERY, variables)
            found = get_field(data, "order", "OccOrderLineItems")
            if found is None:
                break  # deleted while syncing; the next sync reads it no more
            more = get_field(found, "lineItems", "OccOrderLineItems")
            nodes.extend(get_field(more, "nodes", "OccOrderLineItems") or [])
            pages.update_state(more.get("pageInfo"))
        order["lineItems"] = {"nodes": nodes}

    def iter_variants(self) -> Iterator[RawRecord]:
        """Every product variant with its inventory quantity, one record per variant."""
        pages = CursorPages("product variants", self._max_pages)
        base = variants_variables(None, self._variants_size)
        while pages.has_next_page:
            page = pages.pages + 1
            data = self._graphql.execute(
                "OccProductVariants", VARIANTS_QUERY, pages.update_request(base)
            )
            variants = get_field(data, "productVariants", "OccProductVariants")
            for variant in get_field(variants, "nodes", "OccProductVariants") or []:
                where = f"{SOURCE}:variants page {page} {variant.get('id')}"
                yield RawRecord(where, dumps(variant))
            pages.update_state(variants.get("pageInfo"))

    def shop_record(self) -> RawRecord:
        """The shop object ``{"shopDomain", "currencyCode", "ianaTimezone"}``."""
        shop = get_field(self._graphql.execute("OccShop", SHOP_QUERY, {}), "shop", "OccShop")
        return RawRecord(f"{SOURCE}:shop", dumps(shop))

    def check(self) -> None:
        """One cheap request (the shop object) proving shop, version and credentials work.

        Raises:
            CredentialsRejected: the credentials are wrong, expired or lack access scopes.
            SourceError: the shop, the API version or the host is wrong, or Shopify is down.
        """
        self.shop_record()

    def introspect(self) -> dict[str, Any]:
        """The live schema by the standard introspection query: ``{"data": {"__schema": …}}``."""
        data = self._graphql.execute("IntrospectionQuery", INTROSPECTION_QUERY, {})
        get_field(data, "__schema", "IntrospectionQuery")
        return {"data": data}


def fetch_orders(client: ShopifyClient, updated_since: datetime) -> Iterator[OrderNode]:
    """Orders updated after ``updated_since`` as validated contract models (library use).

    Raises:
        ContractViolation: an order does not match :class:`OrderNode`.
    """
    for record in client.iter_orders(updated_since):
        try:
            yield OrderNode.model_validate_json(record.text)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "record"
            got = "nothing" if first["type"] == "missing" else repr(first.get("input"))[:80]
            expected = first["msg"].removeprefix("Input should be ")
            record_id = record.location.rsplit(" ", 1)[-1]
            raise ContractViolation(
                f"{SOURCE} order {record_id} ({record.location}) breaks its contract at "
                f"{where}: expected {expected}, got {got}; the upstream schema moved, report it"
            ) from None


def shopify_client(
    settings: Settings,
    http: httpx.Client,
    evidence: EvidenceSink = discard_evidence,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ShopifyClient | None:
    """The client the settings describe, or None when Shopify is not configured.

    Raises:
        ConfigError: only one of the client id and secret is set, or the shop is not a domain.
    """
    shop = (settings.shopify_shop or "").strip().removeprefix("https://").rstrip("/")
    token = settings.shopify_access_token
    client_id, secret = settings.shopify_client_id, settings.shopify_client_secret
    if shop and token is None and bool(client_id) != (secret is not None):
        missing = "OCC_SHOPIFY_CLIENT_SECRET" if client_id else "OCC_SHOPIFY_CLIENT_ID"
        raise ConfigError(f"Shopify client credentials are partly configured: set {missing} too")
    if not shop or (token is None and not (client_id and secret is not None)):
        return None
    if "." not in shop:
        shop = f"{shop}.myshopify.com"
    try:
        valid = httpx.URL(f"https://{shop}").host == shop.lower()
    except httpx.InvalidURL:
        valid = False
    if not valid:
        raise ConfigError(f"OCC_SHOPIFY_SHOP {shop!r} is not a shop domain like name.myshopify.com")
    return ShopifyClient(
        http,
        shop=shop,
        api_version=settings.shopify_api_version,
        access_token=token,
        client_id=client_id,
        client_secret=secret,
        base_url=settings.shopify_base_url,
        evidence=evidence,
        policy=RetryPolicy(
            max_attempts=settings.http_max_attempts, timeout=settings.http_timeout_seconds
        ),
        page_size=settings.shopify_page_size,
        bulk_threshold=settings.shopify_bulk_threshold,
        sleep=sleep,
        clock=clock,
    )
