"""Daily order series of a week: revenue, units and the fulfillment issue rate per local day.

They read ``OrderSummary`` rows (an order without its line items) so that weeks of a big
store stay cheap; days are cut at the shop's local midnight as in ``occ.metrics.series``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from occ.contracts.kpis import FulfillmentConfig
from occ.contracts.records import OrderSummary
from occ.metrics._common import DAY, NOT_REQUIRED, SETTLED_STATUSES, rate_pct
from occ.metrics.series import day_end, day_range, local_day

__all__ = ["FULFILLMENT_HISTORY_ASSUMPTION", "daily_fulfillment_issue_rate", "daily_order_totals"]

FULFILLMENT_HISTORY_ASSUMPTION = (
    "Shopify gives an order's current fulfillment status, not its history: each day's issue "
    "rate is the KPI evaluated at that day's closing local midnight with today's statuses, "
    "so an order fulfilled late counts as fulfilled on the days it was still waiting"
)


def daily_order_totals(
    orders: Sequence[OrderSummary], tz: str, start: date, end: date
) -> list[tuple[date, Decimal, int]]:
    """Revenue and units of countable orders per local day in ``[start, end]``, zero-filled."""
    zone = ZoneInfo(tz)
    revenue: dict[date, Decimal] = {day: Decimal(0) for day in day_range(start, end)}
    units: dict[date, int] = dict.fromkeys(revenue, 0)
    for order in orders:
        if not order.countable:
            continue
        day = local_day(order.created_at, zone)
        if day in revenue:
            revenue[day] += order.total
            units[day] += order.units
    return [(day, revenue[day], units[day]) for day in revenue]


def daily_fulfillment_issue_rate(
    orders: Sequence[OrderSummary],
    tz: str,
    start: date,
    end: date,
    config: FulfillmentConfig,
) -> list[tuple[date, float, int]]:
    """The fulfillment issue rate (KPIS.md §5) at the end of each local day, with its population.

    Day ``d``'s rate is ``compute_fulfillment_issues`` at the local midnight closing ``d``
    (see ``FULFILLMENT_HISTORY_ASSUMPTION``): counted by binary search over the sorted
    creation times, so a week of a big store costs a sort, not a pass per day.
    """
    zone = ZoneInfo(tz)
    window = config.window_days * DAY
    processing = timedelta(hours=config.processing_hours)
    eligible = sorted(
        order.created_at
        for order in orders
        if order.countable and order.fulfillment_status != NOT_REQUIRED
    )
    unsettled = sorted(
        order.created_at
        for order in orders
        if order.countable
        and order.fulfillment_status != NOT_REQUIRED
        and order.fulfillment_status not in SETTLED_STATUSES
    )
    rates: list[tuple[date, float, int]] = []
    for day in day_range(start, end):
        instant = day_end(day, zone)
        opened = instant - window
        population = bisect_right(eligible, instant) - bisect_right(eligible, opened)
        # An issue is older than the processing window, strictly: created before instant - p.
        late_before = instant - processing
        issues = max(0, bisect_left(unsettled, late_before) - bisect_right(unsettled, opened))
        rates.append((day, rate_pct(issues, population), population))
    return rates
