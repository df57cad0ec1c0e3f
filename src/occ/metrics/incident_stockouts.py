"""Traffic ← stockout and sales ← stockout: a falling product page, or a sales drop, behind
a product that sold out (``occ.metrics.incidents`` has the rules)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from occ.contracts.anomalies import Anomaly
from occ.contracts.incidents import (
    IncidentAnomaly,
    IncidentLink,
    LikelyCause,
)
from occ.contracts.kpis import (
    InventoryResult,
)
from occ.contracts.records import (
    VariantRecord,
)
from occ.metrics._common import DAY
from occ.metrics.incident_draft import (
    ACQUISITION,
    OTHER_SALES,
    RAN_OUT_WITHIN,
    Draft,
    IncidentInputs,
    anomaly_ref,
    share_of,
    utc_text,
)
from occ.metrics.mentions import product_handle

__all__ = ["sales_incidents", "traffic_incidents"]


def _sellable_variants(variants: Sequence[VariantRecord]) -> list[VariantRecord]:
    """Variants whose stock limits sales: tracked and not sold when out of stock."""
    return [v for v in variants if v.tracked and v.inventory_policy != "CONTINUE"]


def _covers(inventory: InventoryResult | None) -> dict[str, float | None]:
    return {v.variant_id: v.days_of_cover for v in inventory.variants} if inventory else {}


def _label(variant: VariantRecord) -> str:
    return variant.sku or f"{variant.product_title} — {variant.title}"


def _inventory_anomalies(
    inputs: IncidentInputs, variant_ids: set[str]
) -> dict[int, IncidentAnomaly]:
    return {
        i: anomaly_ref(i, a)
        for i, a in inputs.anomalies
        if a.kpi == "inventory_cover" and a.key in variant_ids
    }


def _stock_text(variant: VariantRecord, cover: float | None, last: datetime | None) -> str:
    state = (
        f"{variant.inventory_quantity} in stock"
        if variant.inventory_quantity > 0
        else "out of stock"
    )
    if cover is not None and variant.inventory_quantity > 0:
        state += f", {cover:.1f} days of cover"
    sold = f"last sold {utc_text(last)}" if last is not None else "no sale in the orders read"
    return f"{_label(variant)}: {state}, {sold}"


def traffic_incidents(inputs: IncidentInputs) -> list[Draft]:
    """A draft per falling landing page whose product has a variant sold out."""
    traffic = inputs.traffic
    if traffic is None:
        return []
    covers = _covers(inputs.inventory)
    by_handle: dict[str, list[VariantRecord]] = {}
    for variant in _sellable_variants(inputs.variants):
        if variant.product_handle:
            by_handle.setdefault(variant.product_handle.lower(), []).append(variant)
    pages = {p.landing_page: p for p in traffic.pages}
    drafts = []
    for fact_id, anomaly in inputs.anomalies:
        if anomaly.kpi != "traffic_anomalies" or not anomaly.key:
            continue
        handle = product_handle(anomaly.key)
        page = pages.get(anomaly.key)
        variants = by_handle.get(handle or "", [])
        # A stockout is the link: low cover alone still sells.
        if page is None or handle is None or all(v.inventory_quantity > 0 for v in variants):
            continue
        out = [
            v
            for v in variants
            if v.inventory_quantity <= 0
            or ((c := covers.get(v.variant_id)) is not None and c <= inputs.critical_cover)
        ]
        drafts.append(
            _traffic_draft(inputs, covers, fact_id, anomaly, page.previous, handle, variants, out)
        )
    return drafts


def _traffic_draft(
    inputs: IncidentInputs,
    covers: dict[str, float | None],
    fact_id: int,
    anomaly: Anomaly,
    previous: int,
    handle: str,
    variants: list[VariantRecord],
    out: list[VariantRecord],
) -> Draft:
    traffic = inputs.traffic
    assert traffic is not None
    page = str(anomaly.key)
    product = out[0].product_title
    empty = [v for v in out if v.inventory_quantity <= 0]
    ran_out = [inputs.last_sold[v.variant_id] for v in empty if v.variant_id in inputs.last_sold]
    # The product became unsellable when its last variant ran out (only when all are out).
    stockout = max(ran_out) if ran_out and len(empty) == len(variants) else None
    window = (traffic.current_end - traffic.current_start).days + 1
    expected = previous / window if window > 0 else 0.0
    sessions = {d.day: d.sessions for d in inputs.page_days if d.landing_page == page}
    days = [traffic.current_start + timedelta(days=k) for k in range(window)]
    lost = {day: max(0.0, expected - sessions.get(day, 0)) for day in days}
    total_lost = sum(lost.values())
    links = [
        IncidentLink(
            kind="product",
            entity=handle,
            sources=("ga4", "shopify"),
            evidence=f"{page} is the page of the product {product} (handle {handle}).",
        )
    ]
    links += [
        IncidentLink(
            kind="variant",
            entity=v.variant_id,
            sources=("shopify", "shopify"),
            evidence=_stock_text(v, covers.get(v.variant_id), inputs.last_sold.get(v.variant_id))
            + ".",
        )
        for v in out
    ]
    unavailable = len(out) / len(variants)
    if stockout is not None:
        day_out = stockout.astimezone(ZoneInfo(inputs.timezone)).date()
        after = [day for day in days if day >= day_out]
        explained = sum(lost[day] for day in after)
        time_share = share_of(explained, total_lost)
        before = [sessions.get(d, 0) for d in days if d < day_out]
        after_sessions = [sessions.get(d, 0) for d in after]
        links.append(
            IncidentLink(
                kind="time",
                entity=handle,
                sources=("shopify", "ga4"),
                evidence=(
                    f"{product} ran out at {utc_text(stockout)} (its last sale); "
                    f"sessions on {page} "
                    + (
                        f"averaged {_mean(before, expected):.1f} a day before that day and "
                        if before
                        else ""
                    )
                    + f"averaged {_mean(after_sessions, 0.0):.1f} a day from it on, against "
                    f"{expected:.1f} a day the week before."
                ),
            )
        )
        when = f"since {utc_text(stockout)}"
    else:
        time_share = 1.0
        when = "now (when it ran out is not known from the orders read)"
    share = round(time_share * unavailable, 4)
    lost_total = f"{total_lost:.0f}"
    causes = [
        LikelyCause(
            cause=f"Stockout of {product}",
            share=share,
            reason=(
                f"{len(out)} of {len(variants)} variants of {product} cannot be sold {when}; "
                f"{share * 100:.0f} % of the {lost_total} sessions lost this week fall after "
                "it (shopping feeds and ads stop serving unavailable products)."
            ),
        ),
        LikelyCause(
            cause=ACQUISITION,
            share=round(1 - share, 4),
            reason=f"{(1 - share) * 100:.0f} % of the sessions lost are not explained by the "
            "stockout.",
        ),
    ]
    ids = {v.variant_id for v in out}
    return Draft(
        kinds=["traffic_on_stockout"],
        anchors=[f"page:{page}"],
        title=f"{page} is losing traffic while {product} cannot be sold",
        anomalies={
            fact_id: anomaly_ref(fact_id, anomaly),
            **_inventory_anomalies(inputs, ids),
            # the same page seen by the unsellable-traffic KPI (revenue at risk)
            **{
                i: anomaly_ref(i, a)
                for i, a in inputs.anomalies
                if a.kpi == "unsellable_traffic" and a.key == page
            },
        },
        links=links,
        causes=causes,
        entities={f"product:{handle}", *(f"variant:{i}" for i in ids)},
        started_at=stockout,
    )


def _mean(values: Sequence[float], empty: float) -> float:
    return sum(values) / len(values) if values else empty


def _variant_revenue(inputs: IncidentInputs) -> dict[str, tuple[Decimal, Decimal]]:
    """``{variant id: (baseline revenue a day, revenue of the current window)}``.

    The windows of KPIS.md §1: day ``k = (now - createdAt) // 24h``, k = 0 current,
    k = 1..baseline_days the baseline (days with no sale count as 0).
    """
    current: dict[str, Decimal] = {}
    baseline: dict[str, Decimal] = {}
    for order in inputs.recent_orders:
        if (
            not order.countable
            or not inputs.now - (inputs.baseline_days + 1) * DAY < (order.created_at) <= inputs.now
        ):
            continue
        day = (inputs.now - order.created_at) // DAY
        bucket = current if day == 0 else baseline
        for item in order.line_items:
            if item.variant_id:
                bucket[item.variant_id] = bucket.get(item.variant_id, Decimal(0)) + item.amount
    return {
        v: (total / inputs.baseline_days, current.get(v, Decimal(0)))
        for v, total in baseline.items()
    }


def sales_incidents(inputs: IncidentInputs) -> list[Draft]:
    """A draft for a sales drop while top baseline SKUs ran out within ``RAN_OUT_WITHIN``."""
    sales = inputs.sales
    flagged = [(i, a) for i, a in inputs.anomalies if a.kpi == "sales_delta"]
    if sales is None or not flagged or sales.current >= sales.baseline:
        return []
    gap = sales.baseline - sales.current
    revenue = _variant_revenue(inputs)
    ranked = sorted(revenue, key=lambda v: (-revenue[v][0], v))
    rank = {v: n for n, v in enumerate(ranked, start=1)}
    top = inputs.top_skus
    ran_out = [
        v
        for v in _sellable_variants(inputs.variants)
        if v.inventory_quantity <= 0
        and rank.get(v.variant_id, top + 1) <= top
        and (last := inputs.last_sold.get(v.variant_id)) is not None
        and inputs.now - last <= RAN_OUT_WITHIN
    ]
    if not ran_out:
        return []
    links: list[IncidentLink] = []
    causes: list[LikelyCause] = []
    explained_total = 0.0
    currency = f" {inputs.currency}" if inputs.currency else ""
    for variant in sorted(ran_out, key=lambda v: rank[v.variant_id]):
        per_day, now_revenue = revenue[variant.variant_id]
        last = inputs.last_sold[variant.variant_id]
        missing = max(Decimal(0), per_day - now_revenue)
        share = share_of(float(missing), float(gap))
        explained_total += share
        label = _label(variant)
        links.append(
            IncidentLink(
                kind="variant",
                entity=variant.variant_id,
                sources=("shopify", "shopify"),
                evidence=(
                    f"{label} (#{rank[variant.variant_id]} by baseline revenue) made "
                    f"{per_day:,.2f}{currency} a day over the {inputs.baseline_days}-day baseline "
                    f"and {now_revenue:,.2f}{currency} in the last 24 h; it is out of stock."
                ),
            )
        )
        links.append(
            IncidentLink(
                kind="time",
                entity=variant.variant_id,
                sources=("shopify", "shopify"),
                evidence=f"{label} last sold at {utc_text(last)}, "
                f"{(inputs.now - last) / timedelta(hours=1):.0f} h before the refresh, and has "
                "sold nothing since: it ran out as the drop began.",
            )
        )
        causes.append(
            LikelyCause(
                cause=f"Stockout of {variant.product_title}",
                share=share,
                reason=(
                    f"{label} ran out at {utc_text(last)}; its missing {missing:,.2f}{currency} is "
                    f"{share * 100:.0f} % of the {gap:,.2f}{currency} revenue gap."
                ),
            )
        )
    rest = round(max(0.0, 1 - explained_total), 4)
    causes.append(
        LikelyCause(
            cause=OTHER_SALES,
            share=rest,
            reason=f"{rest * 100:.0f} % of the revenue gap is not explained by a SKU that ran out.",
        )
    )
    first = sorted(ran_out, key=lambda v: rank[v.variant_id])[0]
    ids = {v.variant_id for v in ran_out}
    return [
        Draft(
            kinds=["sales_on_stockout"],
            anchors=["sales"],
            title=f"Sales drop on the day top SKU {_label(first)} ran out",
            anomalies={
                **{i: anomaly_ref(i, a) for i, a in flagged},
                **_inventory_anomalies(inputs, ids),
            },
            links=links,
            causes=causes,
            entities={
                *(f"variant:{i}" for i in ids),
                *(f"product:{v.product_handle.lower()}" for v in ran_out if v.product_handle),
            },
            started_at=min(inputs.last_sold[i] for i in ids),
        )
    ]
