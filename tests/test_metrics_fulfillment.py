"""Fulfillment issue rate (KPIS.md §5): population, processing window, unknown statuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from occ.contracts.kpis import FulfillmentConfig
from occ.contracts.records import OrderRecord
from occ.metrics import compute_fulfillment_issues

NOW = datetime(2025, 10, 15, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
CONFIG = FulfillmentConfig()


def order(
    order_id: str, age: timedelta, status: str, *, cancelled: bool = False, test: bool = False
) -> OrderRecord:
    return OrderRecord(
        order_id=order_id,
        name=f"#{order_id}",
        created_at=NOW - age,
        updated_at=None,
        cancelled_at=NOW if cancelled else None,
        test=test,
        fulfillment_status=status,
        financial_status="PAID",
        total=Decimal("10.00"),
        currency="EUR",
    )


def test_issue_rate_with_unknown_status_and_window_edges() -> None:
    orders = [
        order("fulfilled", 3 * DAY, "FULFILLED"),  # population, fine
        order("late", 25 * HOUR, "UNFULFILLED"),  # issue
        order("edge-24h", 24 * HOUR, "UNFULFILLED"),  # age exactly 24h: not > 24h
        order("on-hold", 2 * DAY, "ON_HOLD"),  # issue
        order("digital", 3 * DAY, "FULFILLMENT_NOT_REQUIRED"),  # not in population
        order("restocked", 4 * DAY, "RESTOCKED"),  # population, fine
        order("drone", 30 * HOUR, "SHIPPED_BY_DRONE"),  # unknown + late: issue
        order("fresh-drift", HOUR, "ZZ_NEW"),  # unknown but within 24h: drift, no issue
        order("cancelled", 2 * DAY, "UNFULFILLED", cancelled=True),
        order("test", 2 * DAY, "UNFULFILLED", test=True),
        order("edge-7d", 7 * DAY, "UNFULFILLED"),  # (now-7d, now]: excluded
        order("old", 8 * DAY, "UNFULFILLED"),
        order("partial", 7 * DAY - HOUR, "PARTIALLY_FULFILLED"),  # 167 h: issue
        order("now", timedelta(0), "UNFULFILLED"),  # exactly now: population, no issue
        order("future", -HOUR, "UNFULFILLED"),  # after now: ignored
    ]
    result = compute_fulfillment_issues(iter(orders), NOW, CONFIG)

    # population: fulfilled, late, edge-24h, on-hold, restocked, drone, fresh-drift, partial,
    # now = 9; issues: late, on-hold, drone, partial = 4 → 4 / 9 * 100 = 44.4 > 25 → critical
    assert result.population == 9
    assert result.value == 400 / 9
    assert result.severity == "critical"
    assert [(i.order_id, i.age_hours, i.unknown_status) for i in result.issues] == [
        ("partial", 167.0, False),
        ("on-hold", 48.0, False),
        ("drone", 30.0, True),
        ("late", 25.0, False),
    ]
    assert result.issues[2].status == "SHIPPED_BY_DRONE"
    assert result.unknown_statuses == ["SHIPPED_BY_DRONE", "ZZ_NEW"]


def test_rate_threshold_is_strictly_above() -> None:
    # 1 issue of 10 = 10.0 exactly: not > 10 → none; 3 of 10 = 30 → critical
    fine = [order(f"ok{i}", DAY, "FULFILLED") for i in range(9)]
    one = compute_fulfillment_issues([*fine, order("late", 2 * DAY, "OPEN")], NOW, CONFIG)
    assert (one.value, one.severity) == (10.0, "none")
    late = [order(f"late{i}", 2 * DAY, "UNFULFILLED") for i in range(3)]
    three = compute_fulfillment_issues([*fine[:7], *late], NOW, CONFIG)
    assert (three.value, three.severity) == (30.0, "critical")


def test_processing_window_is_configurable() -> None:
    orders = [order("a", 5 * HOUR, "UNFULFILLED"), order("b", HOUR, "UNFULFILLED")]
    result = compute_fulfillment_issues(orders, NOW, FulfillmentConfig(processing_hours=4))
    assert [i.order_id for i in result.issues] == ["a"]
    assert result.value == 50.0


def test_only_not_required_orders_is_rate_zero() -> None:
    orders = [order("digital", 3 * DAY, "FULFILLMENT_NOT_REQUIRED")]
    result = compute_fulfillment_issues(orders, NOW, CONFIG)
    assert (result.population, result.value, result.severity, result.issues) == (
        0,
        0.0,
        "none",
        [],
    )
