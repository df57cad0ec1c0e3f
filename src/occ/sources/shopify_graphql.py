"""One GraphQL exchange with the Shopify Admin API: auth, cost budget, errors, evidence.

:class:`GraphQLTransport` sends occ's documents through :func:`occ.sources.http.send` (which
retries 429s, 5xx and timeouts and records evidence) with the ``X-Shopify-Access-Token``
header of its :class:`~occ.sources.shopify_auth.TokenProvider`. Around each request it keeps
Shopify's cost budget (:class:`CostBucket`: it waits before a query the bucket cannot pay
for, and retries ``THROTTLED`` answers after the computed wait plus jitter), adds the
answer's ``extensions.cost`` to its evidence, and turns everything that goes wrong into one
line naming the source and the setting to check. :class:`CursorPages` is the bounded cursor
pagination every list uses.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from occ.errors import CredentialsRejected, RateLimited, SourceError, UpstreamUnavailable
from occ.sources.http import EvidenceSink, RetryPolicy, send
from occ.sources.shopify_auth import EvidenceBuffer, TokenProvider
from occ.sources.shopify_queries import requested_cost

__all__ = ["SOURCE", "CostBucket", "CursorPages", "GraphQLTransport", "dumps", "get_field"]

SOURCE = "shopify"
SCOPES = "read_orders, read_products and read_inventory"


@dataclass
class CostBucket:
    """Shopify's cost bucket as last reported, refilled at its restore rate since."""

    maximum: float | None = None
    available: float = 0.0
    restore_rate: float = 0.0
    seen_at: float = 0.0

    def observe(self, cost: Any, now: float) -> None:
        status = cost.get("throttleStatus") if isinstance(cost, dict) else None
        if not isinstance(status, dict):
            return
        keys = ("maximumAvailable", "currentlyAvailable", "restoreRate")
        values = [status.get(key) for key in keys]
        numbers = [float(v) for v in values if isinstance(v, int | float)]
        if len(numbers) == len(keys):
            self.maximum, self.available, self.restore_rate = numbers
            self.seen_at = now

    def wait(self, cost: float, now: float) -> float:
        """Seconds until the bucket holds ``cost`` points (0 when unknown or already there)."""
        if self.maximum is None or self.restore_rate <= 0:
            return 0.0
        need = min(cost, self.maximum)
        available = min(self.maximum, self.available + (now - self.seen_at) * self.restore_rate)
        if available >= need:
            return 0.0
        return float(math.ceil((need - available) / self.restore_rate))


@dataclass
class CursorPages:
    """Cursor pagination (``has_next_page``, ``update_state``, ``update_request``), bounded."""

    what: str
    max_pages: int
    cursor: str | None = None
    has_next_page: bool = True
    pages: int = 0
    seen: set[str] = field(default_factory=set)

    def update_request(self, variables: dict[str, Any]) -> dict[str, Any]:
        return {**variables, "after": self.cursor}

    def update_state(self, page_info: Any) -> None:
        self.pages += 1
        info = page_info if isinstance(page_info, dict) else {}
        if info.get("hasNextPage") is not True:
            self.has_next_page = False
            return
        end = info.get("endCursor")
        if not isinstance(end, str) or end in self.seen:
            raise self._endless(f"(page {self.pages} repeats an earlier cursor)")
        if self.pages >= self.max_pages:
            raise self._endless(f"after {self.max_pages} pages")
        self.seen.add(end)
        self.cursor = end

    def _endless(self, why: str) -> SourceError:
        return SourceError(
            f"{SOURCE} pagination of {self.what} did not end {why}; stopped to stay within "
            "the request budget, refresh again and report it if it persists"
        )


def dumps(node: Any) -> str:
    """Compact JSON of one node, as a record's text."""
    return json.dumps(node, ensure_ascii=False, separators=(",", ":"))


def get_field(value: Any, key: str, operation: str) -> Any:
    """``value[key]``, or a one-line error saying the answer is not the queried shape."""
    if not isinstance(value, dict) or key not in value:
        raise SourceError(
            f"{SOURCE} answered {operation} without {key!r}; check OCC_SHOPIFY_API_VERSION "
            "is a supported Admin API version"
        )
    return value[key]


_SIGNED_URL = re.compile(rb'("(?:url|partialDataUrl)"\s*:\s*"[^"?]*)\?[^"]*"')


def _unsign(body: bytes) -> bytes:
    """A bulk operation's answer without the query (signature) of its signed result URLs."""
    return _SIGNED_URL.sub(rb'\1?[redacted]"', body)


def _cost_of(payload: Any) -> Any:
    extensions = payload.get("extensions") if isinstance(payload, dict) else None
    return extensions.get("cost") if isinstance(extensions, dict) else None


class GraphQLTransport:
    """Sends occ's GraphQL documents to one shop's Admin API endpoint.

    Args:
        http: The client that sends the requests.
        shop: The shop's domain (named in error messages).
        api_version: The Admin API version.
        base_url: ``https://{shop}`` or the address that stands in for it.
        auth: Gives the access token.
        evidence: Receives every answer, with its query cost.
        policy: Retries and the per-request timeout.
        sleep: How to wait (tests record the waits instead).
        clock: A monotonic clock (the cost bucket's refill).
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        shop: str,
        api_version: str,
        base_url: str,
        auth: TokenProvider,
        evidence: EvidenceSink,
        policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._shop = shop
        self._api_version = api_version
        self._endpoint = f"{base_url.rstrip('/')}/admin/api/{api_version}/graphql.json"
        self._auth = auth
        self._evidence = evidence
        self._policy = policy
        self._sleep = sleep
        self._clock = clock
        self._bucket = CostBucket()

    def sleep(self, seconds: float) -> None:
        """Wait through the injected ``sleep``."""
        self._sleep(seconds)

    def clock(self) -> float:
        """The injected monotonic clock."""
        return self._clock()

    def _rejected(self, status: int | None, refreshed: bool) -> CredentialsRejected:
        if status == 403:
            return CredentialsRejected(
                f"{SOURCE} denied access to {self._shop} (HTTP 403); check {self._auth.hint} "
                f"and that the app has the {SCOPES} access scopes"
            )
        what = "a freshly issued token" if refreshed else "the credentials"
        return CredentialsRejected(
            f"{SOURCE} rejected {what} for {self._shop} (HTTP {status}: wrong, expired or "
            f"revoked); check {self._auth.hint}"
        )

    def _post(self, operation: str, document: str, variables: Mapping[str, Any]) -> Any:
        """One GraphQL request (renewing a rejected client-credentials token once)."""
        hint = f"OCC_SHOPIFY_SHOP ({self._shop}) and OCC_SHOPIFY_API_VERSION ({self._api_version})"
        refreshed = False
        while True:
            request = self._http.build_request(
                "POST",
                self._endpoint,
                json={"query": document, "variables": variables, "operationName": operation},
                headers={
                    "X-Shopify-Access-Token": self._auth.token(),
                    "Accept": "application/json",
                },
                timeout=self._policy.timeout,
            )
            buffer = EvidenceBuffer(self._evidence)
            try:
                response = send(
                    self._http,
                    request,
                    source=SOURCE,
                    credential_hint=hint,
                    evidence=buffer,
                    policy=self._policy,
                    sleep=self._sleep,
                    api_version=self._api_version,
                    params={"operation": operation, "variables": dict(variables)},
                )
            except CredentialsRejected:
                status = buffer.last_status
                buffer.flush()
                if status == 401 and not refreshed and self._auth.invalidate():
                    refreshed = True
                    continue
                raise self._rejected(status, refreshed) from None
            except SourceError:
                buffer.flush()
                raise
            try:
                payload = json.loads(response.content)
            except ValueError:
                payload = None
            signed = operation == "OccBulkOperation"  # its result URL is a capability
            buffer.flush(_cost_of(payload), body=_unsign if signed else None)
            if response.is_redirect:
                target = httpx.URL(response.headers.get("Location", "")).copy_with(query=None)
                raise SourceError(
                    f"{SOURCE} at {request.url.host} redirected to {target}; set OCC_SHOPIFY_SHOP "
                    "to the shop's name.myshopify.com domain"
                )
            if not isinstance(payload, dict):
                kind = response.headers.get("Content-Type", "no content type").split(";")[0]
                raise UpstreamUnavailable(
                    f"{SOURCE} at {request.url.host} answered {operation} with a body that is "
                    f"not GraphQL JSON (HTTP {response.status_code}, {kind}); refresh again, "
                    f"and check {hint}"
                )
            return payload

    def _graphql_error(self, operation: str, errors: Any) -> SourceError:
        first = errors[0] if isinstance(errors, list) and errors else errors
        message = first.get("message") if isinstance(first, dict) else first
        extensions = first.get("extensions") if isinstance(first, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        text = self._auth.redact(str(message or "no message").strip().splitlines()[0][:300])
        if code == "ACCESS_DENIED":
            return CredentialsRejected(
                f"{SOURCE} denied {operation} on {self._shop}: {text}; give the app the "
                f"{SCOPES} access scopes ({self._auth.hint})"
            )
        if code == "MAX_COST_EXCEEDED":
            return SourceError(
                f"{SOURCE} refused {operation} as too costly: {text}; lower OCC_SHOPIFY_PAGE_SIZE"
            )
        return SourceError(
            f"{SOURCE} answered {operation} with a GraphQL error: {text}"
            f"{f' ({code})' if code else ''}; check OCC_SHOPIFY_API_VERSION ({self._api_version})"
        )

    def execute(
        self, operation: str, document: str, variables: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Run one of occ's documents within the cost budget; the answer's ``data``.

        Raises:
            CredentialsRejected: the credentials or the app's access scopes are refused.
            RateLimited: still throttled (429 or ``THROTTLED``) after the bounded retries.
            UpstreamUnavailable: 5xx, timeouts, unreachable host, or a body that is not JSON.
            SourceError: a GraphQL error, or an answer without the expected data.
        """
        cost = requested_cost(document, variables)
        attempts = self._policy.max_attempts
        for attempt in range(1, attempts + 1):
            wait = self._bucket.wait(cost, self._clock())
            if wait > 0:
                self._sleep(wait)
            payload = self._post(operation, document, variables)
            self._bucket.observe(_cost_of(payload), self._clock())
            errors = payload.get("errors")
            if not errors:
                data = payload.get("data")
                if not isinstance(data, dict):
                    raise SourceError(f"{SOURCE} answered {operation} without data")
                return data
            codes = {
                (e.get("extensions") or {}).get("code")
                for e in (errors if isinstance(errors, list) else [])
                if isinstance(e, dict)
            }
            if not codes & {"THROTTLED", "INTERNAL_SERVER_ERROR"}:
                raise self._graphql_error(operation, errors)
            if attempt == attempts:
                if "THROTTLED" in codes:
                    raise RateLimited(
                        f"{SOURCE} kept throttling {operation} (THROTTLED) after {attempts} "
                        "attempts; another app or job shares the query budget, refresh later"
                    )
                raise UpstreamUnavailable(
                    f"{SOURCE} failed {operation} (INTERNAL_SERVER_ERROR) {attempts} times; "
                    "check Shopify's status and refresh again"
                )
            backoff = min(self._policy.max_wait, self._policy.initial_wait * 2**attempt)
            wait = self._bucket.wait(cost, self._clock()) if "THROTTLED" in codes else 0.0
            self._sleep((wait or backoff) + random.uniform(0, 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def stream_lines(self, url: str) -> Iterator[str]:
        """The lines of a bulk result at its signed ``url`` (sent without the access token)."""
        request = self._http.build_request("GET", url, timeout=self._policy.timeout)
        buffer = EvidenceBuffer(self._evidence)
        try:
            response = send(
                self._http,
                request,
                source=SOURCE,
                credential_hint="nothing: the bulk result link expired",
                evidence=buffer,
                policy=self._policy,
                sleep=self._sleep,
                stream=True,
            )
        except CredentialsRejected:
            raise SourceError(
                f"{SOURCE} bulk result at {request.url.host} refused the download (its link "
                "expired); refresh again to run a new export"
            ) from None
        finally:
            buffer.flush()
        try:
            yield from response.iter_lines()
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(
                f"{SOURCE} bulk result download from {request.url.host} broke off "
                f"({type(exc).__name__}); refresh again"
            ) from None
        finally:
            response.close()
