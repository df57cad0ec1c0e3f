"""The demo store's cross-source incidents, planted so that each kind occ links shows.

- (f) *support from stuck orders*: two of every three breached conversations open with a
  question about an order that is stuck in fulfillment (its name, as customers write it);
- (g) *traffic on a stockout*: every variant of the product behind the critical traffic drop
  (``/products/an-6-hose-end-90``) sold out on the morning the drop began, a week ago;
- (h) *sales on a stockout*: the best-selling variant of the baseline week (of another
  product) sold out 30 hours ago, inside the day of the sales drop.

The orders after a sell-out lose that variant's lines (an order left empty is not placed),
and the variants' stock is 0. Nothing here draws from a random generator: the rest of the
demo stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from occ.sources import demo_catalog as catalog

__all__ = [
    "STOCKOUT_HANDLE",
    "TOP_SKU_SOLD_OUT_HOURS",
    "ask_about_orders",
    "sell_out",
    "stuck_order_names",
]

STOCKOUT_HANDLE = catalog.CRITICAL_DROP_PAGE.removeprefix("/products/")
TOP_SKU_SOLD_OUT_HOURS = 30
_HOUR, _DAY = 3600, 86400
_QUESTIONS = (
    "Hi, order {name} still says unfulfilled. When will it ship? I need it for a race this "
    "weekend.",
    "Any update on {name}? It was supposed to ship days ago and the tracking is empty.",
    "Order number {number} hasn't moved since I placed it, can you check what is going on?",
)


class _Line(Protocol):
    variant: catalog.CatalogVariant
    cents: int


class _Order(Protocol):
    created: int
    lines: list[Any]
    status: str

    @property
    def countable(self) -> bool: ...

    @property
    def shippable(self) -> bool: ...


def _stockout_instant(now_ts: int, timezone: str) -> int:
    """09:00 shop time on the first day of the traffic KPI's current week (today − 7)."""
    zone = ZoneInfo(timezone)
    first = datetime.fromtimestamp(now_ts, zone).date() - timedelta(days=7)
    return int(datetime.combine(first, time(9), zone).timestamp())


def _top_variant(orders: Sequence[_Order], now_ts: int) -> catalog.CatalogVariant:
    """The tracked, deny-when-out variant with the most revenue over the baseline week."""
    revenue: dict[str, int] = {}
    by_id: dict[str, catalog.CatalogVariant] = {}
    for order in orders:
        if order.countable and now_ts - 8 * _DAY < order.created <= now_ts - _DAY:
            for line in order.lines:
                variant = line.variant
                if (
                    variant.tracked
                    and variant.policy == "DENY"
                    and variant.handle != (STOCKOUT_HANDLE)
                ):
                    by_id[variant.variant_id] = variant
                    revenue[variant.variant_id] = revenue.get(variant.variant_id, 0) + line.cents
    best = min(revenue, key=lambda v: (-revenue[v], v))
    return by_id[best]


def sell_out(orders: list[Any], now_ts: int, timezone: str) -> set[str]:
    """Plant (g) and (h) in ``orders`` (in place); the variant ids to hold at zero stock."""
    top = _top_variant(orders, now_ts)
    cutoffs = {
        v.variant_id: _stockout_instant(now_ts, timezone)
        for v in catalog.CATALOG
        if v.handle == STOCKOUT_HANDLE
    }
    cutoffs[top.variant_id] = now_ts - TOP_SKU_SOLD_OUT_HOURS * _HOUR
    kept = []
    for order in orders:
        order.lines = [
            line
            for line in order.lines
            if order.created <= cutoffs.get(line.variant.variant_id, now_ts)
        ]
        if order.lines:
            kept.append(order)
    orders[:] = kept
    return set(cutoffs)


def stuck_order_names(orders: Sequence[_Order], now_ts: int) -> list[str]:
    """The names (``#1001`` + position) of last week's orders stuck in fulfillment (the
    fulfillment KPI's issues), oldest first."""
    return [
        f"#{1001 + index}"
        for index, order in enumerate(orders)
        if order.shippable
        and order.status not in ("FULFILLED", "RESTOCKED")
        and _DAY < now_ts - order.created < 7 * _DAY
    ]


def ask_about_orders(openers: Iterable[int], names: Sequence[str]) -> dict[int, str]:
    """Questions for two of every three breached conversations (by position): ``{i: text}``."""
    questions: dict[int, str] = {}
    for count, position in enumerate(openers):
        if count % 3 == 2 or count // 3 * 2 + count % 3 >= len(names):
            continue
        name = names[count // 3 * 2 + count % 3]
        template = _QUESTIONS[len(questions) % len(_QUESTIONS)]
        questions[position] = template.format(name=name, number=name.lstrip("#"))
    return questions
