"""Sales delta (KPIS.md §1): windows, countable orders, baseline, thresholds, top SKUs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from occ.contracts.kpis import SalesConfig
from occ.contracts.records import LineItemRecord, OrderRecord
from occ.metrics import compute_sales_delta

NOW = datetime(2025, 10, 15, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
CONFIG = SalesConfig()


def item(sku: str | None, amount: str, quantity: int = 1, title: str = "Item") -> LineItemRecord:
    return LineItemRecord(
        line_item_id=f"li-{sku}-{amount}",
        variant_id=None,
        sku=sku,
        title=title,
        quantity=quantity,
        amount=Decimal(amount),
    )


def order(
    order_id: str,
    age: timedelta,
    total: str,
    *,
    status: str = "FULFILLED",
    cancelled: bool = False,
    test: bool = False,
    items: tuple[LineItemRecord, ...] = (),
) -> OrderRecord:
    created_at = NOW - age
    return OrderRecord(
        order_id=order_id,
        name=f"#{order_id}",
        created_at=created_at,
        updated_at=None,
        cancelled_at=created_at + HOUR if cancelled else None,
        test=test,
        fulfillment_status=status,
        financial_status="PAID",
        total=Decimal(total),
        currency="EUR",
        line_items=items,
    )


def flat_baseline(per_day: str) -> list[OrderRecord]:
    """One order of ``per_day`` in the middle of each baseline day k = 1..7."""
    return [order(f"base-{k}", k * DAY + 12 * HOUR, per_day) for k in range(1, 8)]


def test_windows_are_half_open_and_only_countable_orders_count() -> None:
    orders = [
        order("now", timedelta(0), "100.00"),  # exactly now: current
        order("almost-24h", DAY - timedelta(seconds=1), "15.50"),  # current
        order("edge-24h", DAY, "50.00"),  # exactly now-24h: day k=1, not current
        order("cancelled", HOUR, "20.00", cancelled=True),  # never counts
        order("test", 2 * HOUR, "30.00", test=True),  # never counts
        order("future", -timedelta(minutes=1), "999.00"),  # after now: ignored
        order("day1", 47 * HOUR, "20.00"),  # k=1
        order("day7", 7 * DAY, "28.00"),  # exactly now-7d: k=7 (end of its window)
        order("day8", 8 * DAY, "1000.00"),  # exactly now-8d: outside the baseline
        order("old-cancelled", 3 * DAY, "500.00", cancelled=True),
    ]
    result = compute_sales_delta(iter(orders), NOW, CONFIG, "EUR")

    # current = 100.00 + 15.50 = 115.50 from 2 orders
    assert result.current == Decimal("115.50")
    assert result.order_count == 2
    # day 1 = 50 + 20 = 70, day 7 = 28, others 0; baseline = 98 / 7 = 14
    assert result.daily_revenue == [Decimal(v) for v in ("70", "0", "0", "0", "0", "0", "28")]
    assert result.baseline == Decimal("14")
    # delta = (115.50 - 14) / 14 * 100 = 101.5 / 14 * 100 = 725
    assert result.delta_pct == 725.0
    assert result.severity == "critical"
    assert result.reason is None
    assert result.currency == "EUR"


def test_baseline_zero_gives_no_delta_and_a_reason() -> None:
    orders = [order("today", HOUR, "80.00"), order("cancelled", 2 * DAY, "50.00", cancelled=True)]
    result = compute_sales_delta(orders, NOW, CONFIG, "USD")

    assert result.current == Decimal("80.00")
    assert result.baseline == 0
    assert result.daily_revenue == [Decimal(0)] * 7
    assert result.delta_pct is None
    assert result.severity == "none"
    assert result.reason and "baseline" in result.reason
    assert result.currency == "USD"


@pytest.mark.parametrize(
    ("current", "delta", "severity"),
    [
        ("115.00", 15.0, "none"),  # (115 - 100) / 100 * 100 = 15: not > 15
        ("115.01", 15.01, "warning"),
        ("85.00", -15.0, "none"),
        ("84.99", -15.01, "warning"),
        ("130.00", 30.0, "warning"),  # 30 is not > 30
        ("130.01", 30.01, "critical"),
        ("70.00", -30.0, "warning"),
        ("69.99", -30.01, "critical"),
    ],
)
def test_threshold_boundaries(current: str, delta: float, severity: str) -> None:
    # baseline: 100.00 on each of the 7 days → mean 100
    orders = [*flat_baseline("100.00"), order("today", HOUR, current)]
    result = compute_sales_delta(orders, NOW, CONFIG, "EUR")

    assert result.baseline == Decimal("100")
    # Decimal arithmetic, then one float conversion: exactly the literal, no 15.000000000000002
    assert result.delta_pct == delta
    assert result.severity == severity


def test_money_stays_decimal() -> None:
    orders = [
        order("a", HOUR, "0.10", items=(item("DIME", "0.10"),)),
        order("b", 2 * HOUR, "0.20", items=(item("DIME", "0.20", quantity=2),)),
    ]
    result = compute_sales_delta(orders, NOW, CONFIG, "EUR")

    # float would give 0.30000000000000004
    assert result.current == Decimal("0.30")
    assert str(result.current) == "0.30"
    assert result.top_skus[0].revenue == Decimal("0.30")
    assert result.top_skus[0].units == 3


def test_top_skus_rank_by_revenue_fall_back_to_title_and_break_ties_by_sku() -> None:
    orders = [
        order("o1", HOUR, "25.00", items=(item("A", "10.00", 2), item("B", "15.00"))),
        order(
            "o2", 2 * HOUR, "40.00", items=(item("A", "5.00"), item(None, "20.00", title="Gift"))
        ),
        order("o3", 3 * HOUR, "15.00", items=(item("", "15.00", title="Sticker"),)),
        # Not the current window / not countable: their SKUs must not appear.
        order("old", 25 * HOUR, "1000.00", items=(item("Z", "1000.00"),)),
        order("void", HOUR, "900.00", cancelled=True, items=(item("Y", "900.00"),)),
    ]
    result = compute_sales_delta(orders, NOW, SalesConfig(top_skus=3), "EUR")

    # Gift 20; A 10 + 5 = 15 (3 units); B 15; Sticker 15 → ties at 15 sorted A, B, Sticker
    assert [(s.sku, s.revenue, s.units) for s in result.top_skus] == [
        ("Gift", Decimal("20.00"), 1),
        ("A", Decimal("15.00"), 3),
        ("B", Decimal("15.00"), 1),
    ]


def test_pending_fulfillment_lists_open_orders_of_the_window_oldest_first() -> None:
    orders = [
        order("on-hold", HOUR, "1", status="ON_HOLD"),
        order("unfulfilled", 6 * DAY, "1", status="UNFULFILLED"),
        order("drift", 2 * DAY, "1", status="BRAND_NEW_STATUS"),
        order("done", 3 * DAY, "1", status="FULFILLED"),
        order("restocked", 3 * DAY, "1", status="RESTOCKED"),
        order("digital", 3 * DAY, "1", status="FULFILLMENT_NOT_REQUIRED"),
        order("cancelled", 3 * DAY, "1", status="UNFULFILLED", cancelled=True),
        order("test", 3 * DAY, "1", status="UNFULFILLED", test=True),
        order("edge-7d", 7 * DAY, "1", status="UNFULFILLED"),  # (now-7d, now]: excluded
        order("old", 8 * DAY, "1", status="UNFULFILLED"),
    ]
    result = compute_sales_delta(orders, NOW, CONFIG, "EUR")

    assert [(p.order_id, p.status) for p in result.pending_fulfillment] == [
        ("unfulfilled", "UNFULFILLED"),
        ("drift", "BRAND_NEW_STATUS"),
        ("on-hold", "ON_HOLD"),
    ]
    assert result.pending_fulfillment[0].created_at == NOW - 6 * DAY
