"""A fake Shopify Admin API on 127.0.0.1 that answers like the real one, failures included.

``POST /admin/api/{version}/graphql.json`` answers occ's operations (recognised by name) from
a generated list of orders and variants, shaped as Shopify answers them: real cursor
pagination sorted by ``updatedAt``, the ``updated_at:>'…'`` search filter, line items paged
per order, ``extensions.cost`` with the requested and actual cost and a leaky-bucket
``throttleStatus`` (``THROTTLED`` when the bucket cannot pay), ``MAX_COST_EXCEEDED`` above the
single-query limit, bulk operations whose JSONL result is served on the same server, and the
client-credentials token endpoint. A wrong ``X-Shopify-Access-Token`` gets Shopify's 401 body.

The cost rules are written out per operation here (not taken from occ), so that tests check
occ's own cost computation against them. The bucket refills by the ``clock`` the fake is given:
tests share their fake clock with the client, so a client that sleeps refills the bucket.

A test scripts failures with :meth:`ShopifyFake.script`: the queued replies are served, one per
GraphQL request, before the normal answers resume.
"""

from __future__ import annotations

import base64
import bisect
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from fakes.loopback import LoopbackServer, Reply, Request

SHOP = "occ-test.myshopify.com"
API_VERSION = "2025-10"
TOKEN = "shpat_static_9fK2mQ7xL4vB8nR1wT5c"  # secrets no log, error or evidence may contain
CLIENT_ID = "4f1c0a9e2b7d4c8f"
CLIENT_SECRET = "shpss_secret_Zq8Lm2Vx7Np4Rt6Yb3"
BASE_TIME = datetime(2026, 10, 1, tzinfo=UTC)
UNAUTHORIZED = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}
TOO_MANY_REQUESTS = Reply(
    429,
    {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume."},
    headers={"Retry-After": "7.0"},
)
SERVER_ERROR = Reply(
    500,
    raw=b"<html><body>Internal Server Error</body></html>",
    headers={"Content-Type": "text/html"},
)
MALFORMED = Reply(200, raw=b'{"data": {"orders": {"nodes": [', headers={})


def graphql_error(message: str, code: str | None = None) -> Reply:
    """A 200 answer carrying a GraphQL ``errors`` array, as Shopify sends them."""
    error: dict[str, Any] = {"message": message, "locations": [{"line": 2, "column": 3}]}
    if code is not None:
        error["extensions"] = {"code": code}
    return Reply(200, {"errors": [error]})


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def line_item(order_number: int, index: int) -> dict[str, Any]:
    """One LineItem node as occ's fragment selects it."""
    number = order_number * 1000 + index
    return {
        "id": f"gid://shopify/LineItem/{number}",
        "sku": f"SKU-{index % 40:03d}",
        "title": f"Product {index % 40}",
        "quantity": 1 + index % 3,
        "variant": {"id": f"gid://shopify/ProductVariant/{index % 40 + 1}"},
        "discountedTotalSet": {
            "shopMoney": {"amount": f"{10 + index % 7}.50", "currencyCode": "USD"}
        },
    }


def order(number: int, updated: datetime, items: int = 2, **overrides: Any) -> dict[str, Any]:
    """One Order node with all its line items as a plain list under ``lineItems``."""
    created = updated - timedelta(hours=1)
    node: dict[str, Any] = {
        "id": f"gid://shopify/Order/{number}",
        "name": f"#{1000 + number}",
        "createdAt": _stamp(created),
        "updatedAt": _stamp(updated),
        "cancelledAt": None,
        "test": False,
        "displayFulfillmentStatus": "FULFILLED" if number % 4 else "UNFULFILLED",
        "displayFinancialStatus": "PAID",
        "currentTotalPriceSet": {
            "shopMoney": {"amount": f"{20 + number % 90}.00", "currencyCode": "USD"}
        },
        "lineItems": [line_item(number, index) for index in range(items)],
    }
    node.update(overrides)
    return node


def make_orders(
    count: int,
    *,
    start: datetime = BASE_TIME,
    step: timedelta = timedelta(minutes=1),
    items: Callable[[int], int] = lambda number: 1 + number % 3,
) -> list[dict[str, Any]]:
    """``count`` orders updated ``step`` apart from ``start``, numbered from 1."""
    return [order(n, start + n * step, items(n)) for n in range(1, count + 1)]


def variant(number: int) -> dict[str, Any]:
    """One ProductVariant node as occ's query selects it."""
    return {
        "id": f"gid://shopify/ProductVariant/{number}",
        "sku": f"SKU-{number:03d}",
        "title": "Default Title",
        "price": f"{10 + number % 7}.50",
        "inventoryQuantity": number % 25,
        "inventoryPolicy": "DENY",
        "inventoryItem": {"tracked": True},
        "product": {"title": f"Product {number}", "handle": f"product-{number}"},
    }


@dataclass
class Bucket:
    """Shopify's leaky bucket of query cost points, refilled by ``clock``."""

    maximum: float = 1000.0
    restore_rate: float = 50.0
    available: float = 1000.0
    clock: Callable[[], float] = time.monotonic
    stamped: float | None = None

    def level(self) -> float:
        now = self.clock()
        if self.stamped is not None:
            refill = (now - self.stamped) * self.restore_rate
            self.available = min(self.maximum, self.available + refill)
        self.stamped = now
        return self.available

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": self.available,
            "restoreRate": self.restore_rate,
        }


def _cursor(kind: str, index: int) -> str:
    return base64.b64encode(f"{kind}:{index}".encode()).decode()


def _index(cursor: str | None) -> int:
    if cursor is None:
        return -1
    return int(base64.b64decode(cursor).decode().rsplit(":", 1)[1])


def _since(search: str | None) -> str:
    found = re.search(r"updated_at:>'([^']+)'", search or "")
    return found.group(1) if found else ""


class _NoDelayServer(LoopbackServer):
    """The loopback server with Nagle's algorithm off: a small answer is sent at once instead
    of waiting ~40 ms for the client's delayed ACK of its headers."""

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        handler = super()._handler_class()
        handler.disable_nagle_algorithm = True
        return handler

    @contextmanager
    def running(self) -> Iterator[LoopbackServer]:
        # as LoopbackServer.running, but shutdown waits 0.05 s instead of 0.5 s
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


def _operation_name(document: str) -> str:
    from graphql import OperationDefinitionNode, parse

    for definition in parse(document).definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name is not None:
            return definition.name.value
    return "anonymous"


@dataclass
class _BulkOperation:
    id: str
    since: str
    grouped: bool
    polls: int = 0
    status: str = "CREATED"
    url: str | None = None


@dataclass
class ShopifyFake:
    """The fake Admin API; ``orders`` keep all their line items as a list."""

    orders: list[dict[str, Any]] = field(default_factory=list)
    variants: list[dict[str, Any]] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic
    bucket: Bucket | None = None
    max_query_cost: int = 1000
    tokens: set[str] = field(default_factory=lambda: {TOKEN})
    token_lifetime: int = 86_399
    bulk_polls: int = 2  # polls answered RUNNING before COMPLETED
    bulk_fails: str | None = None  # an errorCode: the bulk operation ends FAILED
    bulk_grouped: bool | None = None  # None: as the client asks (groupObjects)
    endless_cursor: bool = False
    repeat_cursor: bool = False
    introspection: dict[str, Any] | None = None
    bulk_downloads: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.orders = sorted(self.orders, key=lambda o: (o["updatedAt"], o["id"]))
        self._updated = [o["updatedAt"] for o in self.orders]
        self._by_id = {o["id"]: o for o in self.orders}
        if self.bucket is None:
            self.bucket = Bucket(clock=self.clock)
        self.server = _NoDelayServer()
        self.server.route("POST", f"/admin/api/{API_VERSION}/graphql.json", self._graphql)
        self.server.route("POST", "/admin/oauth/access_token", self._token)
        self.queue: deque[Reply | Callable[[Request], Reply]] = deque()
        self.operations: list[tuple[str, dict[str, Any]]] = []
        self.tokens_seen: list[str | None] = []
        self.throttled = 0
        self.issued: dict[str, float] = {}  # client-credentials token → expiry (clock)
        self.revoked: set[str] = set()
        self.bulk: list[_BulkOperation] = []
        self._numbers = itertools.count(1)

    @contextmanager
    def running(self) -> Iterator[ShopifyFake]:
        with self.server.running():
            yield self

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def script(self, *replies: Reply | Callable[[Request], Reply]) -> None:
        """Serve ``replies`` to the next GraphQL requests, then answer normally again."""
        self.queue.extend(replies)

    def names(self) -> list[str]:
        return [name for name, _ in self.operations]

    # --- authentication -----------------------------------------------------------------

    def _authorized(self, token: str | None) -> bool:
        if token in self.tokens:
            return True
        expiry = self.issued.get(token or "")
        return expiry is not None and token not in self.revoked and self.clock() < expiry

    def _token(self, request: Request) -> Reply:
        if request.headers.get("content-type", "").startswith("application/json"):
            form = {k: str(v) for k, v in request.json().items()}
        else:
            form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return Reply(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return Reply(
                400,
                {"error": "invalid_client", "error_description": "Client authentication failed"},
            )
        token = f"shpat_cc_{next(self._numbers)}_8d2f6b1a"
        self.issued[token] = self.clock() + self.token_lifetime
        return Reply(
            200,
            {
                "access_token": token,
                "scope": "read_orders,read_products,read_inventory",
                "expires_in": self.token_lifetime,
            },
        )

    # --- GraphQL --------------------------------------------------------------------------

    def _graphql(self, request: Request) -> Reply:
        token = request.headers.get("x-shopify-access-token")
        self.tokens_seen.append(token)
        if self.queue:
            scripted = self.queue.popleft()
            return scripted(request) if callable(scripted) else scripted
        return self.answer(request)

    def answer(self, request: Request) -> Reply:
        """The normal answer to a GraphQL request (script it to let one request through)."""
        token = request.headers.get("x-shopify-access-token")
        if not self._authorized(token):
            return Reply(401, UNAUTHORIZED)
        body = request.json()
        operation = body.get("operationName") or _operation_name(body["query"])
        variables = body.get("variables") or {}
        self.operations.append((operation, variables))
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:
            return graphql_error(f"fake Shopify does not know {operation}")
        requested, answer = handler(variables)
        return self._charge(requested, answer)

    def _charge(self, requested: int, answer: tuple[dict[str, Any], int] | Reply) -> Reply:
        """Shopify's cost accounting: refuse, throttle, or charge the actual cost."""
        assert self.bucket is not None
        if requested > self.max_query_cost:
            return Reply(
                200,
                {
                    "errors": [
                        {
                            "message": f"Query cost is {requested}, which exceeds the single "
                            f"query max cost limit ({self.max_query_cost}).\n\nSee "
                            "https://shopify.dev for more.",
                            "extensions": {
                                "code": "MAX_COST_EXCEEDED",
                                "cost": requested,
                                "maxCost": self.max_query_cost,
                            },
                        }
                    ]
                },
            )
        if isinstance(answer, Reply):
            return answer
        data, actual = answer
        if self.bucket.level() < requested:
            self.throttled += 1
            cost = {
                "requestedQueryCost": requested,
                "actualQueryCost": None,
                "throttleStatus": self.bucket.status(),
            }
            return Reply(
                200,
                {
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {
                                "code": "THROTTLED",
                                "documentation": "https://shopify.dev/api/usage/rate-limits",
                            },
                        }
                    ],
                    "extensions": {"cost": cost},
                },
            )
        self.bucket.available -= actual
        cost = {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": self.bucket.status(),
        }
        return Reply(200, {"data": data, "extensions": {"cost": cost}})

    def _selected(self, since: str) -> list[dict[str, Any]]:
        return self.orders[bisect.bisect_right(self._updated, since) :]

    def _line_items(self, node: dict[str, Any], first: int, after: str | None) -> dict[str, Any]:
        items = node["lineItems"]
        start = _index(after) + 1
        page = items[start : start + first]
        end = start + len(page) - 1
        return {
            "pageInfo": {
                "hasNextPage": end + 1 < len(items),
                "endCursor": _cursor(f"li{node['id']}", end) if page else None,
            },
            "nodes": page,
        }

    def _op_OccOrdersUpdatedSince(self, variables: dict[str, Any]) -> tuple[int, Any]:
        first, items_first = variables["first"], variables["lineItemsFirst"]
        requested = 2 + first * (1 + 2 + 2 + 4 * items_first)
        since = _since(variables.get("query"))
        start = bisect.bisect_right(self._updated, since)
        if variables.get("after") is not None:
            start = max(start, _index(variables["after"]) + 1)
        page = self.orders[start : start + first]
        nodes = []
        actual = 2
        for node in page:
            line_items = self._line_items(node, items_first, None)
            nodes.append({**node, "lineItems": line_items})
            actual += 5 + 4 * len(line_items["nodes"])
        end = start + len(page) - 1
        has_next = end + 1 < len(self.orders)
        cursor = _cursor("order", end) if page else None
        if self.endless_cursor:
            has_next, cursor = True, _cursor("order", 10**6 + len(self.operations))
        elif self.repeat_cursor:
            has_next, cursor = True, _cursor("order", 0)
        data = {
            "orders": {"pageInfo": {"hasNextPage": has_next, "endCursor": cursor}, "nodes": nodes}
        }
        return requested, (data, actual)

    def _op_OccOrderLineItems(self, variables: dict[str, Any]) -> tuple[int, Any]:
        requested = 1 + 2 + variables["first"] * 4
        node = self._by_id.get(variables["id"])
        if node is None:
            return requested, ({"order": None}, 1)
        line_items = self._line_items(node, variables["first"], variables.get("after"))
        data = {"order": {"id": node["id"], "lineItems": line_items}}
        return requested, (data, 3 + 4 * len(line_items["nodes"]))

    def _op_OccOrdersCount(self, variables: dict[str, Any]) -> tuple[int, Any]:
        count = len(self._selected(_since(variables.get("query"))))
        limit = variables.get("limit")
        if limit is not None and count >= limit:
            return 1, ({"ordersCount": {"count": limit, "precision": "AT_LEAST"}}, 1)
        return 1, ({"ordersCount": {"count": count, "precision": "EXACT"}}, 1)

    def _op_OccProductVariants(self, variables: dict[str, Any]) -> tuple[int, Any]:
        first = variables["first"]
        start = _index(variables.get("after")) + 1
        page = self.variants[start : start + first]
        end = start + len(page) - 1
        info = {
            "hasNextPage": end + 1 < len(self.variants),
            "endCursor": _cursor("variant", end) if page else None,
        }
        data = {"productVariants": {"pageInfo": info, "nodes": page}}
        return 2 + 3 * first, (data, 2 + 3 * len(page))

    def _op_OccShop(self, variables: dict[str, Any]) -> tuple[int, Any]:
        shop = {"shopDomain": SHOP, "currencyCode": "USD", "ianaTimezone": "America/Chicago"}
        return 1, ({"shop": shop}, 1)

    def _op_IntrospectionQuery(self, variables: dict[str, Any]) -> tuple[int, Any]:
        if self.introspection is not None:
            return 1, (self.introspection["data"], 1)
        from graphql import build_schema, introspection_from_schema

        schema = build_schema(
            "type QueryRoot { shop: Shop }\ntype Shop { currencyCode: String }\n"
            "schema { query: QueryRoot }"
        )
        return 1, (dict(introspection_from_schema(schema)), 1)

    # --- bulk operations ------------------------------------------------------------------

    def _op_OccBulkOperationRunQuery(self, variables: dict[str, Any]) -> tuple[int, Any]:
        running = [op for op in self.bulk if op.status in ("CREATED", "RUNNING")]
        if running:
            error = {
                "field": None,
                "code": "OPERATION_IN_PROGRESS",
                "message": "A bulk query operation for this app and shop is already in "
                f"progress: {running[0].id}.",
            }
            data = {"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": [error]}}
            return 10, (data, 10)
        grouped = variables["groupObjects"] if self.bulk_grouped is None else self.bulk_grouped
        operation = _BulkOperation(
            f"gid://shopify/BulkOperation/{next(self._numbers)}",
            _since(variables["query"]),
            grouped,
        )
        self.bulk.append(operation)
        data = {
            "bulkOperationRunQuery": {
                "bulkOperation": {"id": operation.id, "status": "CREATED"},
                "userErrors": [],
            }
        }
        return 10, (data, 10)

    def _op_OccBulkOperation(self, variables: dict[str, Any]) -> tuple[int, Any]:
        operation = next((op for op in self.bulk if op.id == variables["id"]), None)
        if operation is None:
            return 1, ({"node": None}, 1)
        operation.polls += 1
        node: dict[str, Any] = {
            "id": operation.id,
            "errorCode": None,
            "url": None,
            "partialDataUrl": None,
            "objectCount": "0",
            "rootObjectCount": "0",
        }
        if operation.polls <= self.bulk_polls:
            operation.status = "RUNNING"
        elif self.bulk_fails is not None:
            operation.status, node["errorCode"] = "FAILED", self.bulk_fails
        else:
            operation.status = "COMPLETED"
            selected = self._selected(operation.since)
            if selected:
                path = f"/bulk/{operation.id.rsplit('/', 1)[1]}.jsonl"
                self.server.route("GET", path, self._bulk_result(selected, operation.grouped))
                operation.url = f"{self.base_url}{path}?X-Goog-Signature=fakesig0123456789"
            node["url"] = operation.url
            node["rootObjectCount"] = str(len(selected))
        node["status"] = operation.status
        return 1, ({"node": node}, 1)

    def _bulk_result(
        self, orders: Iterable[dict[str, Any]], grouped: bool
    ) -> Callable[[Request], Reply]:
        parents: list[str] = []
        children: list[str] = []
        for node in orders:
            head = {k: v for k, v in node.items() if k != "lineItems"}
            lines = [json.dumps({**item, "__parentId": node["id"]}) for item in node["lineItems"]]
            if grouped:
                parents += [json.dumps(head), *lines]
            else:
                parents.append(json.dumps(head))
                children += lines
        body = ("\n".join(parents + children) + "\n").encode()

        def serve(request: Request) -> Reply:
            self.bulk_downloads.append(request)
            return Reply(200, raw=body, headers={"Content-Type": "application/jsonl"})

        return serve


class FakeTime:
    """A monotonic clock that only moves when something sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def generous_bucket(clock: Callable[[], float]) -> Bucket:
    """A bucket no test sync empties (for tests that are not about throttling)."""
    return Bucket(maximum=1e9, restore_rate=1e6, available=1e9, clock=clock)
