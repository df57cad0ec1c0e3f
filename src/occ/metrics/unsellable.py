"""Unsellable traffic — fact ``shopify.traffic.unsellable`` (README, "Unsellable traffic").

Sessions of the window landing on product pages whose product cannot be sold (every variant
at zero stock, or at or under the inventory KPI's critical days of cover), and the revenue
that traffic puts at risk: sessions × conversion rate × average order value, both rates from
the product's own lookback before the window, else the store's.

Two steps, so that the job reading the store fetches order history only for the products
that need it: :func:`find_unsellable_pages` (GA4 days, variants and their cover) and
:func:`estimate_revenue_at_risk` (the orders of the lookback and the window).
:func:`compute_unsellable_traffic` runs both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from occ.contracts.kpis import (
    InventoryResult,
    Severity,
    UnsellableConfig,
    UnsellablePage,
    UnsellableResult,
    UnsellableVariant,
    VariantCover,
    worst,
)
from occ.contracts.records import LandingPageDay, OrderRecord, VariantRecord
from occ.metrics._common import DAY, worst_first
from occ.metrics.inventory import catalog_lookups
from occ.metrics.mentions import product_handle
from occ.metrics.series import day_end, local_day

__all__ = [
    "UnsellableScan",
    "compute_unsellable_traffic",
    "estimate_revenue_at_risk",
    "find_unsellable_pages",
]

_CENT = Decimal("0.01")
_LineHandle = Callable[[str | None, str | None], str | None]
_Basis = Literal["product", "store", "none"]


@dataclass(frozen=True)
class _Candidate:
    landing_page: str
    handle: str
    product_title: str
    state: Literal["out_of_stock", "low_stock"]
    sessions: int
    variants: tuple[UnsellableVariant, ...]


@dataclass(frozen=True)
class UnsellableScan:
    """The pages found unsellable, before their revenue at risk is estimated.

    ``line_handle`` maps a line item (variant id, SKU) to the handle of one of these pages'
    products, matched as the inventory KPI matches (variant id, else an unambiguous SKU).
    """

    current_start: date
    current_end: date
    lookback_start: date | None
    lookback_end: date
    cover_critical_days: float
    candidates: tuple[_Candidate, ...]
    product_sessions: Mapping[str, int]  # lookback landing sessions of the candidates' products
    store_sessions: int
    product_pages: int
    excluded_sellable: int
    unknown_products: int
    variant_ids: frozenset[str]
    skus: frozenset[str]
    line_handle: _LineHandle

    def orders_window(self, timezone: str) -> tuple[datetime, datetime]:
        """The UTC ``(since, until]`` of the orders :func:`estimate_revenue_at_risk` reads:
        the lookback's and the window's local days."""
        zone = ZoneInfo(timezone)
        first = self.lookback_start or self.current_start
        return day_end(first - DAY, zone), day_end(self.current_end, zone)


def find_unsellable_pages(
    days: Iterable[LandingPageDay],
    today: date,
    variants: Sequence[VariantRecord],
    inventory: InventoryResult,
    config: UnsellableConfig,
    cover_critical_days: float,
) -> UnsellableScan:
    """The product pages with sessions in the window whose product cannot be sold.

    The window is ``[today - w, today - 1]`` (GA4 dates, w = ``config.window_days``, as the
    traffic KPI's current week); the lookback is the ``config.lookback_days`` before it,
    starting no earlier than the first GA4 day stored. A landing page is a product page when
    :func:`occ.metrics.mentions.product_handle` finds a handle in it; several pages of one
    handle (a collection path, a locale prefix) are one product. It is unsellable when every
    variant of the product is listed by the inventory KPI (tracked, DENY policy) and is at
    zero stock or at ``days_of_cover <= cover_critical_days``; a product with any variant
    that still sells (stock and cover above the threshold, untracked, or CONTINUE) is not.

    Args:
        days: Sessions per landing page per day (rows outside the lookback and the window
            are ignored).
        today: The shop-local date of the refresh instant.
        variants: Every variant of the shop.
        inventory: The inventory KPI's result (cover per tracked DENY variant).
        config: Window, lookback and thresholds.
        cover_critical_days: The inventory KPI's critical days of cover.
    """
    current_start = today - config.window_days * DAY
    current_end = today - DAY
    lookback_end = current_start - DAY
    wanted_start = current_start - config.lookback_days * DAY
    window_sessions: dict[str, int] = defaultdict(int)
    lookback_sessions: dict[str, int] = defaultdict(int)
    first_day: date | None = None
    for row in days:
        day = row.day
        if current_start <= day <= current_end:
            window_sessions[row.landing_page] += row.sessions
        elif wanted_start <= day <= lookback_end:
            lookback_sessions[row.landing_page] += row.sessions
            if first_day is None or day < first_day:
                first_day = day

    # Only the products of pages with traffic are looked at: most stores' variants are not.
    page_handles = {
        page: handle
        for page in sorted(window_sessions)
        if window_sessions[page] > 0 and (handle := product_handle(page)) is not None
    }
    handles = set(page_handles.values())
    products: dict[str, list[VariantRecord]] = defaultdict(list)
    if handles:
        for variant in variants:
            handle = (variant.product_handle or "").lower()
            if handle in handles:
                products[handle].append(variant)
    members = {v.variant_id for product in products.values() for v in product}
    covers = {c.variant_id: c for c in inventory.variants if c.variant_id in members}

    candidates: list[_Candidate] = []
    product_pages = excluded = unknown = 0
    for page, handle in page_handles.items():
        product = products.get(handle)
        if product is None:
            unknown += 1
            continue
        product_pages += 1
        listed = [covers.get(variant.variant_id) for variant in product]
        if any(cover is None for cover in listed):
            excluded += 1  # untracked or CONTINUE: the page can always take an order
            continue
        affected = [_affected(cover, cover_critical_days) for cover in listed if cover]
        if any(entry is None for entry in affected):
            continue
        # Out of stock first, then by SKU: the same order whatever order the store read.
        found = sorted(
            (entry for entry in affected if entry is not None),
            key=lambda v: (v.state != "out_of_stock", v.sku or "", v.variant_id),
        )
        candidates.append(
            _Candidate(
                landing_page=page,
                handle=handle,
                product_title=product[0].product_title,
                state="out_of_stock"
                if all(v.state == "out_of_stock" for v in found)
                else "low_stock",
                sessions=window_sessions[page],
                variants=tuple(found),
            )
        )

    wanted = {c.handle for c in candidates}
    chosen = [v for handle in wanted for v in products[handle]]
    product_sessions = dict.fromkeys(wanted, 0)
    if wanted:
        for page, sessions in lookback_sessions.items():
            handle = product_handle(page)
            if handle in product_sessions:
                product_sessions[handle] += sessions
    return UnsellableScan(
        current_start=current_start,
        current_end=current_end,
        lookback_start=first_day,
        lookback_end=lookback_end,
        cover_critical_days=cover_critical_days,
        candidates=tuple(candidates),
        product_sessions=product_sessions,
        store_sessions=sum(lookback_sessions.values()),
        product_pages=product_pages,
        excluded_sellable=excluded,
        unknown_products=unknown,
        variant_ids=frozenset(v.variant_id for v in chosen),
        skus=frozenset(v.sku for v in chosen if v.sku),
        line_handle=_line_matcher(variants, wanted) if wanted else lambda _id, _sku: None,
    )


def _line_matcher(variants: Sequence[VariantRecord], wanted: set[str]) -> _LineHandle:
    """A line item's (variant id, SKU) → the handle of its product when it is ``wanted``."""
    catalog, by_id, by_sku = catalog_lookups(variants)

    def line_handle(variant_id: str | None, sku: str | None) -> str | None:
        position = by_id(variant_id)
        if position is None:
            position = by_sku(sku)
        if position is None:
            return None
        handle = (catalog[position].product_handle or "").lower()
        return handle if handle in wanted else None

    return line_handle


def _affected(cover: VariantCover, critical: float) -> UnsellableVariant | None:
    """The variant as an unsellable one, or None when it still sells."""
    state: Literal["out_of_stock", "low_cover"]
    if cover.inventory_quantity <= 0:
        state = "out_of_stock"
    elif cover.days_of_cover is not None and cover.days_of_cover <= critical:
        state = "low_cover"
    else:
        return None
    return UnsellableVariant(
        variant_id=cover.variant_id,
        sku=cover.sku,
        title=cover.title,
        inventory_quantity=cover.inventory_quantity,
        days_of_cover=cover.days_of_cover,
        state=state,
    )


@dataclass
class _History:
    orders: int = 0
    revenue: Decimal = field(default_factory=Decimal)

    def average_order_value(self) -> Decimal:
        """The orders' mean total, rounded to the cent (needs an order)."""
        return (self.revenue / self.orders).quantize(_CENT, ROUND_HALF_UP)


def estimate_revenue_at_risk(
    scan: UnsellableScan,
    orders: Iterable[OrderRecord],
    timezone: str,
    config: UnsellableConfig,
    currency: str,
) -> UnsellableResult:
    """The revenue at risk of each page of ``scan``, its severity, and the tile's totals.

    ``orders`` are the shop's orders created in ``scan.orders_window`` (others are ignored);
    only their line items of the scan's products matter, so the others may be left out. Only
    countable orders count, placed in local days like every window (KPIS.md).

    Per page: ``conversion = min(orders, sessions) / sessions`` and ``aov = revenue / orders``
    (rounded to the cent) over the lookback — the product's own orders containing it and
    sessions landing on its pages when it has ``config.min_orders`` orders and a session,
    else the store's — and ``revenue_at_risk = window sessions × conversion × aov`` rounded
    to the cent. Severity compares it with the store's revenue in the window: warning or
    critical when it is above that percent of it (``config.thresholds``); any revenue at
    risk in a window without revenue is critical.
    """
    if not scan.candidates:
        return _result(scan, config, currency, [], None, None)
    zone = ZoneInfo(timezone)
    window_revenue = Decimal(0)
    store = _History()
    products: dict[str, _History] = defaultdict(_History)
    for order in orders:
        if not order.countable:
            continue
        day = local_day(order.created_at, zone)
        if scan.current_start <= day <= scan.current_end:
            window_revenue += order.total
            continue
        if scan.lookback_start is None or not scan.lookback_start <= day <= scan.lookback_end:
            continue
        store.orders += 1
        store.revenue += order.total
        handles = {scan.line_handle(item.variant_id, item.sku) for item in order.line_items}
        for handle in handles:
            if handle is not None:
                products[handle].orders += 1
                products[handle].revenue += order.total

    pages = []
    for candidate in scan.candidates:
        own = products.get(candidate.handle, _History())
        own_sessions = scan.product_sessions.get(candidate.handle, 0)
        basis: _Basis
        if own_sessions > 0 and own.orders >= config.min_orders:
            basis, base_sessions, base = "product", own_sessions, own
        elif scan.store_sessions > 0 and store.orders > 0:
            basis, base_sessions, base = "store", scan.store_sessions, store
        else:
            basis, base_sessions, base = "none", 0, _History()
        pages.append(
            _page(candidate, basis, base_sessions, base, own_sessions, own, window_revenue, scan)
        )
    pages = _with_severity(pages, window_revenue, config)
    return _result(scan, config, currency, pages, window_revenue, store)


def _page(
    candidate: _Candidate,
    basis: _Basis,
    base_sessions: int,
    base: _History,
    own_sessions: int,
    own: _History,
    window_revenue: Decimal,
    scan: UnsellableScan,
) -> UnsellablePage:
    conversion: float | None = None
    capped = False
    aov: Decimal | None = None
    at_risk: Decimal | None = None
    share: float | None = None
    if basis != "none":
        converted = min(base.orders, base_sessions)
        capped = base.orders > base_sessions
        conversion = converted / base_sessions
        aov = base.average_order_value()
        at_risk = (candidate.sessions * converted * aov / base_sessions).quantize(
            _CENT, ROUND_HALF_UP
        )
        if window_revenue > 0:
            share = float(at_risk * 100 / window_revenue)
    return UnsellablePage(
        landing_page=candidate.landing_page,
        product_handle=candidate.handle,
        product_title=candidate.product_title,
        state=candidate.state,
        sessions=candidate.sessions,
        variants=list(candidate.variants),
        product_lookback_sessions=own_sessions,
        product_lookback_orders=own.orders,
        product_lookback_revenue=own.revenue,
        basis=basis,
        conversion_rate=conversion,
        conversion_capped=capped,
        average_order_value=aov,
        revenue_at_risk=at_risk,
        share_of_revenue_pct=share,
        severity="none",
        assumption=_assumption(basis, base_sessions, base, own_sessions, own, capped, scan),
    )


def _assumption(
    basis: _Basis,
    base_sessions: int,
    base: _History,
    own_sessions: int,
    own: _History,
    capped: bool,
    scan: UnsellableScan,
) -> str:
    span = _lookback_text(scan)
    if basis == "product":
        text = (
            f"conversion and average order from the product's own {span}: {base.orders:,} "
            f"order(s) containing it, {base_sessions:,} session(s) landing on its pages"
        )
    else:
        text = (
            f"too little history of its own in the {span} ({own.orders:,} order(s), "
            f"{own_sessions:,} landing session(s))"
        )
        text += (
            f": the store's conversion and average order used ({base.orders:,} orders, "
            f"{base_sessions:,} sessions)"
            if basis == "store"
            else ", nor any store-wide sessions and orders: revenue at risk not estimated"
        )
    if capped:
        text += "; more orders than landing sessions (orders also come through other pages), "
        text += "so conversion is capped at 100 %"
    return text[0].upper() + text[1:] + "."


def _lookback_text(scan: UnsellableScan) -> str:
    if scan.lookback_start is None:
        return "lookback (no GA4 day before the window)"
    return f"lookback {scan.lookback_start} – {scan.lookback_end}"


def _with_severity(
    pages: list[UnsellablePage], window_revenue: Decimal, config: UnsellableConfig
) -> list[UnsellablePage]:
    rated = []
    for page in pages:
        severity: Severity = "none"
        if page.revenue_at_risk is not None and page.revenue_at_risk > 0:
            severity = (
                config.thresholds.severity(page.share_of_revenue_pct)
                if window_revenue > 0
                else "critical"
            )
        rated.append(page.model_copy(update={"severity": severity}))
    rated.sort(
        key=lambda p: (
            worst_first(p.severity),
            -(p.revenue_at_risk or Decimal(0)),
            -p.sessions,
            p.landing_page,
        )
    )
    return rated


def _result(
    scan: UnsellableScan,
    config: UnsellableConfig,
    currency: str,
    pages: list[UnsellablePage],
    window_revenue: Decimal | None,
    store: _History | None,
) -> UnsellableResult:
    store_orders = None if store is None else store.orders
    conversion = aov = None
    if store is not None and store.orders and scan.store_sessions:
        conversion = min(store.orders, scan.store_sessions) / scan.store_sessions
        aov = store.average_order_value()
    return UnsellableResult(
        severity=worst([page.severity for page in pages]),
        current_start=scan.current_start,
        current_end=scan.current_end,
        lookback_start=scan.lookback_start,
        lookback_end=scan.lookback_end,
        cover_critical_days=scan.cover_critical_days,
        currency=currency,
        product_pages=scan.product_pages,
        excluded_sellable=scan.excluded_sellable,
        unknown_products=scan.unknown_products,
        sessions=sum(page.sessions for page in pages),
        revenue_at_risk=sum(
            (page.revenue_at_risk for page in pages if page.revenue_at_risk is not None),
            Decimal("0.00"),
        ),
        window_revenue=window_revenue,
        store_lookback_sessions=scan.store_sessions,
        store_lookback_orders=store_orders,
        store_lookback_revenue=None if store is None else store.revenue,
        store_conversion_rate=conversion,
        store_average_order_value=aov,
        pages=pages,
        assumptions=_assumptions(scan, config),
    )


def _assumptions(scan: UnsellableScan, config: UnsellableConfig) -> list[str]:
    notes = [
        "A product page is unsellable when every variant of its product is tracked, denies "
        "sales when out of stock, and is at zero stock or at or under "
        f"{scan.cover_critical_days:g} days of cover (the inventory KPI's critical "
        "threshold); a product with any variant that still sells is not.",
        "Conversion rate = countable orders containing the product / sessions landing on its "
        "pages, average order value = those orders' mean total, both over the lookback "
        "before the window (so that the current stock-out does not lower them); GA4 links no "
        "order to a landing page, so orders reached through other pages count too (the rate "
        "is capped at 100 %).",
        f"Below {config.min_orders} order(s) or without a landing session in the lookback, a "
        "product takes the store's conversion rate (all orders / all sessions) and average "
        "order value.",
        "Revenue at risk = the window's sessions × conversion rate × average order value, "
        "rounded to the cent: the whole window counts as lost, although a low-stock page "
        "sells until its stock runs out.",
    ]
    wanted = scan.current_start - config.lookback_days * DAY
    if scan.lookback_start is None:
        notes.append("No GA4 day before the window: no revenue at risk can be estimated.")
    elif scan.lookback_start > wanted:
        days = (scan.lookback_end - scan.lookback_start).days + 1
        notes.append(
            f"GA4 history starts on {scan.lookback_start}: the lookback has {days} days "
            f"instead of {config.lookback_days}."
        )
    return notes


def compute_unsellable_traffic(
    days: Iterable[LandingPageDay],
    today: date,
    variants: Sequence[VariantRecord],
    inventory: InventoryResult,
    orders: Iterable[OrderRecord],
    timezone: str,
    config: UnsellableConfig,
    cover_critical_days: float,
    currency: str,
) -> UnsellableResult:
    """:func:`find_unsellable_pages` then :func:`estimate_revenue_at_risk` over ``orders``."""
    scan = find_unsellable_pages(days, today, variants, inventory, config, cover_critical_days)
    return estimate_revenue_at_risk(scan, orders, timezone, config, currency)
