"""The week's order series: each day's value is the KPI's own computation at that day's end."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from occ.contracts.kpis import FulfillmentConfig
from occ.contracts.records import OrderRecord, OrderSummary
from occ.metrics import compute_fulfillment_issues
from occ.metrics.order_days import daily_fulfillment_issue_rate, daily_order_totals, day_end
from occ.metrics.series import daily_revenue

TZ = "America/Chicago"
STATUSES = [
    "FULFILLED",
    "UNFULFILLED",
    "PARTIALLY_FULFILLED",
    "RESTOCKED",
    "ON_HOLD",
    "FULFILLMENT_NOT_REQUIRED",
    "SOMETHING_NEW",
]


def _orders(seed: int) -> list[OrderRecord]:
    rng = random.Random(seed)
    start = datetime(2026, 10, 20, tzinfo=UTC)
    orders = []
    for number in range(600):
        created = start + timedelta(seconds=rng.randrange(30 * 86_400))
        if number % 50 == 0:  # exactly at a local midnight: belongs to the day it ends
            local = created.astimezone(ZoneInfo(TZ))
            created = datetime.combine(local.date(), datetime.min.time(), ZoneInfo(TZ))
            created = created.astimezone(UTC)
        orders.append(
            OrderRecord(
                order_id=str(number),
                name=f"#{number}",
                created_at=created,
                updated_at=None,
                cancelled_at=created if number % 17 == 0 else None,
                test=number % 23 == 0,
                fulfillment_status=rng.choice(STATUSES),
                financial_status="PAID",
                total=Decimal(rng.randrange(100, 20_000)) / 100,
                currency="USD",
            )
        )
    return orders


def _summaries(orders: list[OrderRecord]) -> list[OrderSummary]:
    return sorted(
        (OrderSummary(o.created_at, o.countable, o.fulfillment_status, o.total, 1) for o in orders),
        key=lambda s: s.created_at,
    )


def test_each_days_issue_rate_is_the_kpi_at_that_days_end() -> None:
    orders = _orders(7)
    config = FulfillmentConfig()
    start, end = date(2026, 10, 25), date(2026, 11, 18)
    series = daily_fulfillment_issue_rate(_summaries(orders), TZ, start, end, config)
    assert len(series) == (end - start).days + 1
    for day, rate, population in series:
        expected = compute_fulfillment_issues(orders, day_end(day, ZoneInfo(TZ)), config)
        assert (rate, population) == (expected.value, expected.population), day


def test_daily_totals_match_the_forecast_series_revenue() -> None:
    orders = _orders(11)
    start, end = date(2026, 10, 20), date(2026, 11, 19)
    totals = daily_order_totals(_summaries(orders), TZ, start, end)
    assert [(d, r) for d, r, _ in totals] == daily_revenue(orders, TZ, start, end)
    zone = ZoneInfo(TZ)
    midnight = [o for o in orders if o.created_at.astimezone(zone).time() == datetime.min.time()]
    assert midnight  # the boundary case is exercised
    # Units are 1 an order: each day counts the countable orders of its window, an order at
    # a local midnight in the day that midnight ends.
    for day, _, units in totals:
        opens, closes = day_end(day - timedelta(days=1), zone), day_end(day, zone)
        assert units == sum(1 for o in orders if o.countable and opens < o.created_at <= closes)
