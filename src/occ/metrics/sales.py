"""Sales delta — fact ``shopify.sales.summary`` (KPIS.md §1)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from occ.contracts.kpis import PendingOrder, SalesConfig, SalesResult, TopSku
from occ.contracts.records import OrderRecord
from occ.metrics._common import DAY, NOT_REQUIRED, SETTLED_STATUSES

__all__ = ["compute_sales_delta"]

_DONE_STATUSES = SETTLED_STATUSES | {NOT_REQUIRED}
# Pinned so the result never depends on a caller's global decimal context.
_DECIMAL_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)


def compute_sales_delta(
    orders: Iterable[OrderRecord], now: datetime, config: SalesConfig, currency: str
) -> SalesResult:
    """Compare the last 24h of revenue with the mean of the previous days.

    One pass over ``orders``: each countable order falls in day ``k = (now - created_at) // 24h``,
    which is exactly the half-open window ``(now-(k+1)·24h, now-k·24h]``; k = 0 is the current
    window, k = 1..baseline_days the baseline. Orders created after ``now`` are ignored.

    Args:
        orders: Orders of the shop (any order, any age).
        now: The refresh instant (aware UTC).
        config: Thresholds, baseline length, top-SKU count and pending window.
        currency: The shop currency, carried into the result.

    Returns:
        The current revenue, baseline, delta in percent, severity, top SKUs and the
        orders still pending fulfillment.
    """
    baseline_days = config.baseline_days
    pending_window = config.pending_window_days * DAY
    earliest = now - max(baseline_days + 1, config.pending_window_days) * DAY
    with localcontext(_DECIMAL_CONTEXT):
        current = Decimal(0)
        daily = [Decimal(0)] * baseline_days
        order_count = 0
        sku_revenue: dict[str, Decimal] = {}
        sku_units: dict[str, int] = {}
        pending: list[OrderRecord] = []
        for order in orders:
            created_at = order.created_at
            if not earliest < created_at <= now or not order.countable:
                continue
            age = now - created_at
            if age < pending_window and order.fulfillment_status not in _DONE_STATUSES:
                pending.append(order)
            day = age // DAY
            if day == 0:
                current += order.total
                order_count += 1
                for item in order.line_items:
                    key = item.sku or item.title
                    sku_revenue[key] = sku_revenue.get(key, Decimal(0)) + item.amount
                    sku_units[key] = sku_units.get(key, 0) + item.quantity
            elif day <= baseline_days:
                daily[day - 1] += order.total

        baseline = sum(daily, Decimal(0)) / baseline_days
        reason: str | None = None
        if baseline == 0:
            delta_pct: float | None = None
            severity = config.thresholds.severity(None)
            reason = f"baseline is 0: no countable revenue in the previous {baseline_days} days"
        else:
            delta_pct = float((current - baseline) / baseline * 100)
            severity = config.thresholds.severity(delta_pct)

    ranked = sorted(sku_revenue.items(), key=lambda entry: (-entry[1], entry[0]))
    pending.sort(key=lambda order: (order.created_at, order.order_id))
    return SalesResult(
        current=current,
        baseline=baseline,
        daily_revenue=daily,
        delta_pct=delta_pct,
        severity=severity,
        reason=reason,
        order_count=order_count,
        currency=currency,
        top_skus=[
            TopSku(sku=sku, revenue=revenue, units=sku_units[sku])
            for sku, revenue in ranked[: config.top_skus]
        ],
        pending_fulfillment=[
            PendingOrder(
                order_id=order.order_id,
                name=order.name,
                created_at=order.created_at,
                status=order.fulfillment_status,
            )
            for order in pending
        ],
    )
