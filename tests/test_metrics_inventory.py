"""Inventory days of cover (KPIS.md §4): velocity, matching, exclusions, ordering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from occ.contracts.kpis import InventoryConfig
from occ.contracts.records import LineItemRecord, OrderRecord, VariantRecord
from occ.metrics import compute_inventory_cover

NOW = datetime(2025, 10, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
CONFIG = InventoryConfig()


def variant(
    variant_id: str, sku: str | None, stock: int, *, policy: str = "DENY", tracked: bool = True
) -> VariantRecord:
    return VariantRecord(
        variant_id=variant_id,
        sku=sku,
        title=f"Title {variant_id}",
        product_title="Product",
        product_handle=None,
        inventory_quantity=stock,
        inventory_policy=policy,
        tracked=tracked,
    )


def line(variant_id: str | None, sku: str | None, quantity: int) -> LineItemRecord:
    return LineItemRecord(
        line_item_id=f"{variant_id}-{sku}-{quantity}",
        variant_id=variant_id,
        sku=sku,
        title="Line",
        quantity=quantity,
        amount=Decimal("1.00"),
    )


def order(
    age: timedelta, *items: LineItemRecord, cancelled: bool = False, test: bool = False
) -> OrderRecord:
    return OrderRecord(
        order_id=f"o-{age}",
        name="#1",
        created_at=NOW - age,
        updated_at=None,
        cancelled_at=NOW if cancelled else None,
        test=test,
        fulfillment_status="FULFILLED",
        financial_status=None,
        total=Decimal("1.00"),
        currency="EUR",
        line_items=items,
    )


VARIANTS = [
    variant("v1", "A1", 10),
    variant("v2", "B2", 7),
    variant("v3", "C3", 3),
    variant("v4", "D4", -5),  # oversold: stock counts as 0
    variant("v5", "E5", 2),  # sold through line items without a usable variant id
    variant("v6", "F6", 0),  # slow mover
    variant("v7", "G7", 50),  # no sales at all
    variant("v8", "H8", 1, tracked=False),
    variant("v9", "I9", 1, policy="CONTINUE"),
    variant("v10", "J10", 1, policy="CONTINUE", tracked=False),  # counted as untracked
]
ORDERS = [
    order(timedelta(0), line("v1", "A1", 4)),  # exactly now: counts
    order(14 * DAY - timedelta(seconds=1), line("v1", "A1", 10)),  # just inside 14 days
    order(14 * DAY, line("v1", "A1", 100)),  # exactly now-14d: outside
    order(-DAY, line("v1", "A1", 100)),  # after now: outside
    order(DAY, line("v1", "A1", 100), cancelled=True),
    order(DAY, line("v1", "A1", 100), test=True),
    order(2 * DAY, line("v2", "B2", 14), line("v3", "C3", 14), line("v4", "D4", 7)),
    order(3 * DAY, line(None, "E5", 2), line("gid://unknown", "E5", 5)),  # SKU fallback: 7
    order(4 * DAY, line("v6", "F6", 1), line("v8", "H8", 100), line("v9", "I9", 100)),
    order(5 * DAY, line(None, None, 3), line(None, "NOPE", 3)),  # matches nothing
]


def test_days_of_cover_worst_first() -> None:
    result = compute_inventory_cover(iter(VARIANTS), iter(ORDERS), NOW, CONFIG)

    rows = [
        (v.variant_id, v.units_sold, v.days_of_cover, v.slow_mover, v.severity, v.reorder_quantity)
        for v in result.variants
    ]
    assert rows == [
        # v4: 7 units → 0.5/day; stock max(-5, 0) = 0 → 0 days; reorder ceil(0.5·30) - 0 = 15
        ("v4", 7, 0.0, False, "critical", 15),
        # v3: 14 units → 1/day; 3 / 1 = 3 days (<= 3 critical); reorder 30 - 3 = 27
        ("v3", 14, 3.0, False, "critical", 27),
        # v5: 2 + 5 = 7 units → 0.5/day; 2 / 0.5 = 4 days; reorder 15 - 2 = 13
        ("v5", 7, 4.0, False, "warning", 13),
        # v2: 14 units → 1/day; 7 / 1 = 7 days (<= 7 warning); reorder 30 - 7 = 23
        ("v2", 14, 7.0, False, "warning", 23),
        # v6: 1 unit → 1/14 = 0.071/day < 0.1: slow mover, never flagged, no reorder
        ("v6", 1, 0.0, True, "none", 0),
        # v1: 4 + 10 units → 1/day; 10 days; reorder 30 - 10 = 20
        ("v1", 14, 10.0, False, "none", 20),
        # v7: velocity 0 → no cover, slow mover
        ("v7", 0, None, True, "none", 0),
    ]
    by_id = {v.variant_id: v for v in result.variants}
    assert by_id["v4"].inventory_quantity == -5
    assert by_id["v4"].velocity == 0.5
    assert by_id["v7"].velocity == 0.0
    assert result.severity == "critical"
    assert (result.excluded_untracked, result.excluded_continue) == (2, 1)


def test_reorder_quantity_rounds_velocity_times_target_up() -> None:
    # 3 units in 14 days → 3/14/day; 30 days need 90/14 = 6.43 → 7; stock 1 → reorder 6
    result = compute_inventory_cover(
        [variant("v", "S", 1)], [order(DAY, line("v", "S", 3))], NOW, CONFIG
    )
    assert result.variants[0].reorder_quantity == 6
    # 1 / (3/14) = 14/3 = 4.67 days → warning
    assert result.variants[0].days_of_cover == 14 / 3
    assert result.variants[0].severity == "warning"


def test_ambiguous_sku_matches_no_variant() -> None:
    variants = [variant("x1", "DUP", 5), variant("x2", "DUP", 5), variant("x3", "UNIQ", 5)]
    orders = [order(DAY, line(None, "DUP", 14), line("x3", "DUP", 14))]
    result = compute_inventory_cover(variants, orders, NOW, CONFIG)
    # the first line item cannot say which DUP it was; the second has a known variant id
    assert {v.variant_id: v.units_sold for v in result.variants} == {"x1": 0, "x2": 0, "x3": 14}


def test_slow_mover_threshold_is_strict() -> None:
    # 1 unit in 10 days = 0.1/day: not < 0.1, so flagged normally (0 stock → critical)
    config = InventoryConfig(velocity_days=10)
    result = compute_inventory_cover(
        [variant("v", "S", 0)], [order(DAY, line("v", "S", 1))], NOW, config
    )
    assert (result.variants[0].slow_mover, result.variants[0].severity) == (False, "critical")


def test_nothing_listed_is_severity_none() -> None:
    result = compute_inventory_cover([variant("v", "S", 1, tracked=False)], [], NOW, CONFIG)
    assert (result.severity, result.variants, result.excluded_untracked) == ("none", [], 1)
