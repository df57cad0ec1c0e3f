"""Inventory days of cover — fact ``shopify.inventory.coverage`` (KPIS.md §4)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from occ.contracts.kpis import InventoryConfig, InventoryResult, Severity, VariantCover, worst
from occ.contracts.records import OrderRecord, VariantRecord
from occ.metrics._common import DAY, worst_first

__all__ = ["catalog_lookups", "compute_inventory_cover", "inventory_cover_from_units"]

_CONTINUE = "CONTINUE"
_Lookup = Callable[[str | None], int | None]  # a line item's variant id or SKU → position


def compute_inventory_cover(
    variants: Iterable[VariantRecord],
    orders: Iterable[OrderRecord],
    now: datetime,
    config: InventoryConfig,
) -> InventoryResult:
    """Days of cover per variant from the units sold in the velocity window.

    Line items are matched to variants by variant id; a line item without a variant id, or
    with one no variant has, falls back to its SKU. A SKU carried by more than one variant is
    ambiguous and matches none. Untracked variants, then CONTINUE-policy variants, are counted
    and left out. Slow movers (velocity below ``slow_mover_velocity``) are listed, never
    flagged, and get no reorder suggestion. Cover and reorder quantity use integer units
    (``stock * days / units``, ``ceil(units * target / days)``) so boundaries are exact.

    Args:
        variants: The shop's variants with stock on hand.
        orders: Orders of the shop (only countable ones in ``(now - velocity_days, now]`` count).
        now: The refresh instant (aware UTC).
        config: Thresholds (direction ``below``), velocity window, slow-mover velocity and
            cover target.

    Returns:
        The listed variants worst first (severity, then cover ascending with no cover last,
        then variant id), the tile severity and the excluded counts.
    """
    catalog, by_id, by_sku = catalog_lookups(variants)
    units_sold = [0] * len(catalog)
    start = now - config.velocity_days * DAY
    for order in orders:
        if not start < order.created_at <= now or not order.countable:
            continue
        for item in order.line_items:
            position = by_id(item.variant_id)
            if position is None:
                position = by_sku(item.sku)
                if position is None:
                    continue
            units_sold[position] += item.quantity
    return _result(catalog, units_sold, config)


def inventory_cover_from_units(
    variants: Iterable[VariantRecord],
    units_sold: Iterable[tuple[str | None, str | None, int]],
    config: InventoryConfig,
) -> InventoryResult:
    """:func:`compute_inventory_cover` from the units already summed per (variant id, SKU).

    ``units_sold`` holds, for each distinct (variant id, SKU) pair of the line items of the
    countable orders in the velocity window, the sum of their quantities (e.g. aggregated by
    the database). Matching and everything after it is the same code, so the result is the
    one :func:`compute_inventory_cover` gives for those orders.
    """
    catalog, by_id, by_sku = catalog_lookups(variants)
    units = [0] * len(catalog)
    for variant_id, sku, quantity in units_sold:
        position = by_id(variant_id)
        if position is None:
            position = by_sku(sku)
            if position is None:
                continue
        units[position] += quantity
    return _result(catalog, units, config)


def catalog_lookups(
    variants: Iterable[VariantRecord],
) -> tuple[list[VariantRecord], _Lookup, _Lookup]:
    """The variants, and lookups of a line item's variant id and SKU to a variant's position.

    A SKU carried by more than one variant is ambiguous and matches none.
    """
    catalog = list(variants)
    index_by_id: dict[str | None, int] = {}
    index_by_sku: dict[str | None, int] = {}
    ambiguous_skus: set[str] = set()
    for index, variant in enumerate(catalog):
        index_by_id[variant.variant_id] = index
        sku = variant.sku
        if sku:
            if sku in index_by_sku:
                ambiguous_skus.add(sku)
            else:
                index_by_sku[sku] = index
    for sku in ambiguous_skus:
        del index_by_sku[sku]
    return catalog, index_by_id.get, index_by_sku.get


def _result(
    catalog: list[VariantRecord], units_sold: list[int], config: InventoryConfig
) -> InventoryResult:
    excluded_untracked = 0
    excluded_continue = 0
    covers: list[VariantCover] = []
    keys: list[tuple[int, bool, float, str]] = []  # the listing order, see the docstring
    for variant, units in zip(catalog, units_sold, strict=True):
        if not variant.tracked:
            excluded_untracked += 1
            continue
        if variant.inventory_policy == _CONTINUE:
            excluded_continue += 1
            continue
        cover = _variant_cover(variant, max(units, 0), config)
        covers.append(cover)
        days_of_cover = cover.days_of_cover
        keys.append(
            (
                worst_first(cover.severity),
                days_of_cover is None,
                days_of_cover or 0.0,
                cover.variant_id,
            )
        )

    # Sorting positions by precomputed keys: the stable order sorting the covers would give.
    ranked = [covers[i] for i in sorted(range(len(covers)), key=keys.__getitem__)]
    return InventoryResult(
        severity=worst([cover.severity for cover in ranked]),
        variants=ranked,
        excluded_untracked=excluded_untracked,
        excluded_continue=excluded_continue,
    )


def _variant_cover(variant: VariantRecord, units: int, config: InventoryConfig) -> VariantCover:
    """Velocity, cover, severity and reorder quantity of one listed variant."""
    days = config.velocity_days
    stock = max(variant.inventory_quantity, 0)
    velocity = units / days
    days_of_cover = stock * days / units if units else None
    slow_mover = velocity < config.slow_mover_velocity
    severity: Severity = "none" if slow_mover else config.thresholds.severity(days_of_cover)
    reorder_quantity = 0
    if not slow_mover:
        needed = -(-units * config.cover_target_days // days)  # ceil(velocity * target)
        reorder_quantity = max(0, needed - stock)
    return VariantCover(
        variant_id=variant.variant_id,
        sku=variant.sku,
        title=variant.title,
        inventory_quantity=variant.inventory_quantity,
        units_sold=units,
        velocity=velocity,
        days_of_cover=days_of_cover,
        slow_mover=slow_mover,
        severity=severity,
        reorder_quantity=reorder_quantity,
    )
