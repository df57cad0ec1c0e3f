"""Unsellable traffic as a pure function: which pages qualify, the rates, the fallbacks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from occ.contracts.kpis import (
    InventoryConfig,
    ThresholdProfile,
    UnsellableConfig,
    UnsellableResult,
)
from occ.contracts.records import LandingPageDay, LineItemRecord, OrderRecord, VariantRecord
from occ.metrics.inventory import inventory_cover_from_units
from occ.metrics.unsellable import compute_unsellable_traffic

TODAY = date(2026, 11, 26)  # window 11-19 – 11-25, lookback 10-22 – 11-18
CONFIG = UnsellableConfig()
INVENTORY = InventoryConfig()


def variant(
    variant_id: str,
    handle: str,
    stock: int,
    *,
    sku: str | None = None,
    policy: str = "DENY",
    tracked: bool = True,
) -> VariantRecord:
    return VariantRecord(
        variant_id=variant_id,
        sku=sku or variant_id.upper(),
        title=f"Variant {variant_id}",
        product_title=f"Product {handle}",
        product_handle=handle,
        inventory_quantity=stock,
        inventory_policy=policy,
        tracked=tracked,
    )


def order(
    number: int,
    day: date,
    total: str,
    *lines: tuple[str | None, str | None],
    hour: int = 12,
    zone: str = "UTC",
) -> OrderRecord:
    created = datetime.combine(day, time(hour), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return OrderRecord(
        order_id=str(number),
        name=f"#{number}",
        created_at=created,
        updated_at=None,
        cancelled_at=None,
        test=False,
        fulfillment_status="FULFILLED",
        financial_status=None,
        total=Decimal(total),
        currency="USD",
        line_items=tuple(
            LineItemRecord(f"{number}-{i}", v, s, "Line", 1, Decimal(total))
            for i, (v, s) in enumerate(lines)
        ),
    )


def sessions(page: str, first: date, last: date, per_day: int) -> list[LandingPageDay]:
    days = (last - first).days + 1
    return [LandingPageDay(page, first + timedelta(days=k), per_day) for k in range(days)]


WINDOW = (date(2026, 11, 19), date(2026, 11, 25))
LOOKBACK = (date(2026, 10, 22), date(2026, 11, 18))


def compute(
    days: list[LandingPageDay],
    variants: list[VariantRecord],
    orders: list[OrderRecord],
    config: UnsellableConfig = CONFIG,
    zone: str = "UTC",
    units: list[tuple[str | None, str | None, int]] | None = None,
) -> UnsellableResult:
    inventory = inventory_cover_from_units(variants, units or [], INVENTORY)
    return compute_unsellable_traffic(
        days, TODAY, variants, inventory, orders, zone, config, 3.0, "USD"
    )


def test_a_product_with_one_variant_still_selling_is_not_unsellable() -> None:
    """ "All" variants, not "any": a visitor can still buy the size that is in stock."""
    variants = [variant("a1", "shirt", 0), variant("a2", "shirt", 40), variant("b1", "cap", 0)]
    days = sessions("/products/shirt", *WINDOW, 10) + sessions("/products/cap", *WINDOW, 10)
    result = compute(days, variants, [])
    assert [page.landing_page for page in result.pages] == ["/products/cap"]
    assert result.product_pages == 2


def test_an_untracked_or_continue_variant_keeps_the_page_sellable() -> None:
    variants = [
        variant("a1", "kit", 0),
        variant("a2", "kit", 0, tracked=False),
        variant("b1", "pre", 0, policy="CONTINUE"),
    ]
    days = sessions("/products/kit", *WINDOW, 5) + sessions("/products/pre", *WINDOW, 5)
    result = compute(days, variants, [])
    assert result.pages == [] and result.excluded_sellable == 2
    assert result.severity == "none" and result.window_revenue is None


def test_conversion_is_capped_when_orders_outnumber_landing_sessions() -> None:
    variants = [variant("a1", "pump", 0)]
    days = sessions("/products/pump", *WINDOW, 3) + sessions("/", *LOOKBACK, 100)
    days.append(LandingPageDay("/products/pump", LOOKBACK[0], 2))  # 2 landing sessions, 5 orders
    orders = [
        order(k, date(2026, 11, 1) + timedelta(days=k), "50.00", ("a1", None)) for k in range(5)
    ]
    orders.append(order(99, date(2026, 11, 20), "1000.00", (None, "OTHER")))
    result = compute(days, variants, orders)
    [page] = result.pages
    assert page.conversion_capped and page.conversion_rate == 1.0
    assert page.revenue_at_risk == Decimal("1050.00")  # 21 sessions × 1 × 50.00
    assert page.severity == "critical"  # 105 % of the window's 1,000.00
    assert "capped at 100 %" in page.assumption


def test_the_lookback_starts_with_the_first_ga4_day_and_orders_before_it_are_left_out() -> None:
    variants = [variant("a1", "pump", 0)]
    ga4_start = date(2026, 11, 9)
    days = sessions("/products/pump", *WINDOW, 10) + sessions(
        "/products/pump", ga4_start, LOOKBACK[1], 20
    )
    orders = [
        order(1, date(2026, 11, 1), "900.00", ("a1", None)),  # before GA4's history: not counted
        order(2, date(2026, 11, 10), "30.00", ("a1", None)),
        order(3, date(2026, 11, 12), "50.00", ("a1", None)),
        order(4, date(2026, 11, 20), "10000.00", (None, "X")),
    ]
    result = compute(days, variants, orders)
    assert result.lookback_start == ga4_start
    [page] = result.pages
    assert (page.product_lookback_orders, page.product_lookback_sessions) == (2, 200)
    assert page.average_order_value == Decimal("40.00")
    assert page.revenue_at_risk == Decimal("28.00")  # 70 × 2/200 × 40.00
    assert any(
        "GA4 history starts on 2026-11-09: the lookback has 10 days instead of 28" in note
        for note in result.assumptions
    )


def test_a_window_without_revenue_makes_any_revenue_at_risk_critical() -> None:
    variants = [variant("a1", "pump", 0)]
    days = sessions("/products/pump", *WINDOW, 1) + sessions("/products/pump", *LOOKBACK, 1)
    orders = [order(1, date(2026, 11, 1), "10.00", ("a1", None))]
    result = compute(days, variants, orders)
    [page] = result.pages
    assert result.window_revenue == Decimal(0)
    assert page.share_of_revenue_pct is None and page.severity == "critical"
    assert page.revenue_at_risk == Decimal("2.50")  # 7 × 1/28 × 10.00


def test_without_any_history_the_revenue_at_risk_is_not_estimated() -> None:
    variants = [variant("a1", "pump", 0)]
    result = compute(sessions("/products/pump", *WINDOW, 4), variants, [])
    [page] = result.pages
    assert (page.basis, page.revenue_at_risk, page.severity) == ("none", None, "none")
    assert result.revenue_at_risk == Decimal("0.00") and result.sessions == 28
    assert result.lookback_start is None
    assert any("No GA4 day before the window" in n for n in result.assumptions)


def test_line_items_match_by_variant_id_then_unambiguous_sku_and_min_orders_applies() -> None:
    variants = [
        variant("a1", "pump", 0, sku="PUMP"),
        variant("x1", "shared-1", 9, sku="DUP"),
        variant("x2", "pump-kit", 0, sku="DUP"),
    ]
    days = sessions("/products/pump", *WINDOW, 10) + sessions("/products/pump", *LOOKBACK, 10)
    days += sessions("/products/pump-kit", *WINDOW, 10) + sessions("/", *LOOKBACK, 10)
    orders = [
        order(1, date(2026, 11, 1), "20.00", (None, "PUMP")),  # SKU fallback: the pump
        order(2, date(2026, 11, 2), "40.00", ("gone", "PUMP")),  # unknown id: SKU again
        order(3, date(2026, 11, 3), "60.00", (None, "DUP")),  # ambiguous SKU: nothing
        order(4, date(2026, 11, 20), "100.00", (None, "OTHER")),
    ]
    result = compute(days, variants, orders, config=UnsellableConfig(min_orders=2))
    pages = {page.product_handle: page for page in result.pages}
    assert (pages["pump"].basis, pages["pump"].product_lookback_orders) == ("product", 2)
    assert pages["pump"].average_order_value == Decimal("30.00")
    assert (pages["pump-kit"].basis, pages["pump-kit"].product_lookback_orders) == ("store", 0)
    assert pages["pump-kit"].average_order_value == Decimal("40.00")  # 3 orders, 120.00


def test_days_are_the_shops_local_days() -> None:
    variants = [variant("a1", "pump", 0)]
    days = sessions("/products/pump", *WINDOW, 1) + sessions("/products/pump", *LOOKBACK, 1)
    zone = "America/Los_Angeles"
    orders = [
        order(1, date(2026, 11, 1), "10.00", ("a1", None), zone=zone),
        # 2026-11-19 00:00 in Los Angeles closes 11-18: the lookback's, not the window's.
        order(2, date(2026, 11, 19), "30.00", ("a1", None), hour=0, zone=zone),
        order(3, date(2026, 11, 19), "500.00", (None, "X"), hour=1, zone=zone),
    ]
    result = compute(days, variants, orders, zone=zone)
    [page] = result.pages
    assert page.product_lookback_orders == 2 and page.average_order_value == Decimal("20.00")
    assert result.window_revenue == Decimal("500.00")


def test_thresholds_are_configurable() -> None:
    variants = [variant("a1", "pump", 0)]
    days = sessions("/products/pump", *WINDOW, 1) + sessions("/products/pump", *LOOKBACK, 1)
    orders = [
        order(1, date(2026, 11, 1), "10.00", ("a1", None)),
        order(2, date(2026, 11, 20), "100.00", (None, "X")),
    ]
    quiet = UnsellableConfig(
        thresholds=ThresholdProfile(warning=2.5, critical=10, direction="above")
    )
    assert compute(days, variants, orders).severity == "warning"
    assert compute(days, variants, orders, config=quiet).severity == "none"
