"""Fulfillment issue rate — fact ``shopify.fulfillment.issues`` (KPIS.md §5)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from occ.contracts.kpis import FulfillmentConfig, FulfillmentIssue, FulfillmentResult
from occ.contracts.records import OrderRecord
from occ.contracts.shopify import FULFILLMENT_STATUSES
from occ.metrics._common import DAY, NOT_REQUIRED, SETTLED_STATUSES, rate_pct

__all__ = ["compute_fulfillment_issues", "stuck"]

_HOUR = timedelta(hours=1)


def stuck(order: OrderRecord, now: datetime, processing: timedelta) -> bool:
    """An issue of KPIS.md §5 at any age: countable, needing fulfillment, neither FULFILLED
    nor RESTOCKED, and older than the processing window (strictly)."""
    return (
        order.countable
        and order.fulfillment_status not in SETTLED_STATUSES | {NOT_REQUIRED}
        and now - order.created_at > processing
    )


def compute_fulfillment_issues(
    orders: Iterable[OrderRecord], now: datetime, config: FulfillmentConfig
) -> FulfillmentResult:
    """Share of recent orders still unfulfilled after the processing window.

    Population: countable orders created in ``(now - window_days, now]`` that need
    fulfillment. An order is an issue when its status is neither FULFILLED nor RESTOCKED and
    it is older than ``processing_hours`` (strictly). A status the contract does not know is
    drift: every such status seen in the population is reported in ``unknown_statuses``, and
    such an order counts as an issue once it is past the processing window.

    Args:
        orders: Orders of the shop (any order, any age).
        now: The refresh instant (aware UTC).
        config: Thresholds, population window and processing window.

    Returns:
        The issue rate in percent of the population and the issues, oldest first.
    """
    start = now - config.window_days * DAY
    processing = timedelta(hours=config.processing_hours)
    population = 0
    unknown_statuses: set[str] = set()
    late: list[tuple[OrderRecord, timedelta, bool]] = []
    for order in orders:
        if not start < order.created_at <= now or not order.countable:
            continue
        status = order.fulfillment_status
        if status == NOT_REQUIRED:
            continue
        population += 1
        known = status in FULFILLMENT_STATUSES
        if not known:
            unknown_statuses.add(status)
        if stuck(order, now, processing):
            late.append((order, now - order.created_at, not known))

    late.sort(key=lambda entry: (entry[0].created_at, entry[0].order_id))
    value = rate_pct(len(late), population)
    return FulfillmentResult(
        value=value,
        severity=config.thresholds.severity(value),
        population=population,
        issues=[
            FulfillmentIssue(
                order_id=order.order_id,
                name=order.name,
                status=order.fulfillment_status,
                age_hours=age / _HOUR,
                unknown_status=unknown,
            )
            for order, age, unknown in late
        ],
        unknown_statuses=sorted(unknown_statuses),
    )
