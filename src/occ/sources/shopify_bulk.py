"""Shopify bulk operations: the path of a first sync or backfill above the bulk threshold.

A bulk operation has Shopify run :data:`~occ.sources.shopify_queries.BULK_ORDERS_QUERY` in the
background (``bulkOperationRunQuery``, 10 points), occ polls it (``node(id:)``, 1 point each,
every few seconds) until it is ``COMPLETED``, then streams its JSONL result from the signed URL
Shopify gives — without the access token, which that URL does not need. The result is flat: an
order line, then (``groupObjects: true``) one line per line item carrying ``__parentId``.
:func:`reassemble` puts each order back together in the shape the paged query answers
(``lineItems: {"nodes": [...]}``), one order at a time, so memory stays flat however large the
result is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol

from occ.errors import CredentialsRejected, SourceError, UpstreamUnavailable
from occ.sources.shopify_queries import (
    BULK_OPERATION_QUERY,
    BULK_RUN_MUTATION,
    bulk_orders_query,
)

__all__ = ["BulkTransport", "bulk_orders", "reassemble"]

SOURCE = "shopify"
_FAILED = {"FAILED", "CANCELED", "CANCELING", "EXPIRED"}
_MAX_POLL_INTERVAL = 30.0


class BulkTransport(Protocol):
    """What the bulk path needs of the client: GraphQL calls, a download, time."""

    def execute(
        self, operation: str, document: str, variables: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Run one of occ's documents; the ``data`` of the answer."""
        ...

    def stream_lines(self, url: str) -> Iterator[str]:
        """The lines of the document at ``url``, read as they arrive."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (tests record the wait instead)."""
        ...

    def clock(self) -> float:
        """A monotonic clock."""
        ...


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SourceError(
            f"{SOURCE} answered without {what}; check OCC_SHOPIFY_API_VERSION supports bulk "
            "operations"
        )
    return value


def _start(transport: BulkTransport, updated_since: datetime) -> str:
    data = transport.execute(
        "OccBulkOperationRunQuery",
        BULK_RUN_MUTATION,
        {"query": bulk_orders_query(updated_since), "groupObjects": True},
    )
    payload = _object(data.get("bulkOperationRunQuery"), "bulkOperationRunQuery")
    errors = payload.get("userErrors") or []
    if errors:
        first = errors[0] if isinstance(errors[0], dict) else {}
        message = str(first.get("message") or "unknown error").splitlines()[0][:300]
        raise SourceError(
            f"{SOURCE} refused to start the bulk order export: {message}; if another bulk "
            "query of this app is running, wait for it to finish and refresh again"
        )
    operation = _object(payload.get("bulkOperation"), "bulkOperation")
    operation_id = operation.get("id")
    if not isinstance(operation_id, str):
        raise SourceError(f"{SOURCE} started a bulk operation without an id")
    return operation_id


def _wait_for_result(
    transport: BulkTransport, operation_id: str, poll_interval: float, timeout: float
) -> str | None:
    """Poll until the operation completes: its result URL (None when it found nothing)."""
    deadline = transport.clock() + timeout
    interval = poll_interval
    while True:
        data = transport.execute("OccBulkOperation", BULK_OPERATION_QUERY, {"id": operation_id})
        operation = _object(data.get("node"), f"the bulk operation {operation_id}")
        status = operation.get("status")
        if status == "COMPLETED":
            url = operation.get("url")
            return url if isinstance(url, str) and url else None
        if status in _FAILED:
            code = operation.get("errorCode") or "no error code"
            if code == "ACCESS_DENIED":
                raise CredentialsRejected(
                    f"{SOURCE} denied the bulk order export (ACCESS_DENIED); give the app the "
                    "read_orders access scope"
                )
            raise UpstreamUnavailable(
                f"{SOURCE} bulk operation {operation_id} ended {status} ({code}); refresh "
                "again, or raise OCC_SHOPIFY_BULK_THRESHOLD to page through the orders instead"
            )
        if transport.clock() + interval > deadline:
            raise UpstreamUnavailable(
                f"{SOURCE} bulk operation {operation_id} is still {status} after "
                f"{timeout:.0f} s; it keeps running at Shopify, refresh again later"
            )
        transport.sleep(interval)
        interval = min(interval * 1.5, _MAX_POLL_INTERVAL)


def reassemble(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Whole orders from a grouped bulk JSONL result: ``(line number, order)`` each.

    Raises:
        SourceError: a line is not JSON, or a line item does not follow its order (the
            result was not grouped).
    """
    order: dict[str, Any] | None = None
    order_line = 0
    items: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise SourceError(
                f"{SOURCE} bulk result line {number} is not JSON; refresh again"
            ) from None
        if not isinstance(item, dict):
            raise SourceError(f"{SOURCE} bulk result line {number} is not a JSON object")
        parent = item.pop("__parentId", None)
        if parent is None:
            if order is not None:
                order["lineItems"] = {"nodes": items}
                yield order_line, order
            order, order_line, items = item, number, []
        elif order is not None and parent == order.get("id"):
            items.append(item)
        else:
            raise SourceError(
                f"{SOURCE} bulk result line {number}: a line item of {parent} does not follow "
                "its order (the result is not grouped); refresh again"
            )
    if order is not None:
        order["lineItems"] = {"nodes": items}
        yield order_line, order


def bulk_orders(
    transport: BulkTransport,
    updated_since: datetime,
    *,
    poll_interval: float = 2.0,
    timeout: float = 6 * 3600.0,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every order updated after ``updated_since`` by a bulk operation, reassembled.

    Raises:
        SourceError: Shopify refused the operation or its result is malformed.
        UpstreamUnavailable: the operation failed or did not finish within ``timeout``.
    """
    operation_id = _start(transport, updated_since)
    url = _wait_for_result(transport, operation_id, poll_interval, timeout)
    if url is None:
        return
    yield from reassemble(transport.stream_lines(url))
