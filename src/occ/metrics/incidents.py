"""Cross-source incidents: the anomalies of one refresh that share a cause, with evidence.

Three links between sources are looked for, each by shared entities and by time:

- **support from stuck orders** — an SLA-breach anomaly whose breached conversations mention
  (in a customer's message) orders of the shop that are stuck in fulfillment: countable, not
  fulfilled, older than the processing window. The orders' own fulfillment-rate anomaly joins
  the incident when those orders are among its issues.
- **traffic on a stockout** — a landing page losing traffic whose path names a product
  (``/products/HANDLE``) that cannot be sold: its tracked, deny-when-out variants are at zero
  stock or at most the critical days of cover. The variants' inventory anomalies join it.
- **sales on a stockout** — a sales drop in the day on which a top SKU of the baseline ran out
  (zero stock now, last sold within the last 48 h).

Incidents that share an entity (a variant, a product) are merged. Each cause's ``share`` is
the part of the anomaly the linked evidence explains, computed from the store's own data:
breached conversations that ask about a stuck order over all breached conversations; sessions
lost on the days after the stockout over all sessions lost in the week (times the share of
the product's variants that are out); the baseline revenue of the SKU that ran out over the
revenue gap. What no link explains is the residual cause, so the shares of an anomaly add up
to 1. Pure computation (no I/O, no clock): ``occ.refresh.incidents`` reads the inputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from occ.contracts.anomalies import Anomaly
from occ.contracts.incidents import (
    Incident,
    IncidentAnomaly,
    IncidentKind,
    IncidentLink,
    LikelyCause,
)
from occ.contracts.kpis import (
    SEVERITY_ORDER,
    FulfillmentResult,
    InventoryResult,
    SalesResult,
    SlaResult,
    TrafficResult,
)
from occ.contracts.records import (
    ConversationRecord,
    LandingPageDay,
    OrderRecord,
    VariantRecord,
)
from occ.metrics._common import DAY, NOT_REQUIRED, SETTLED_STATUSES
from occ.metrics.mentions import order_mentions, product_handle

__all__ = ["IncidentInputs", "find_incidents", "stuck"]

RAN_OUT_WITHIN = timedelta(hours=48)
"""A top SKU "ran out on the day" of a sales drop when its last sale is this recent."""
_SHOWN = 3
_CAPACITY = "Reply capacity (staffing, routing or volume)"
_ACQUISITION = "Acquisition change (campaigns, search ranking, referrers)"
_OTHER_SALES = "Other: checkout, payments, promotions or demand"
_RESIDUAL = frozenset({_CAPACITY, _ACQUISITION, _OTHER_SALES})


@dataclass(frozen=True, slots=True)
class IncidentInputs:
    """One refresh's anomalies and KPI results, and the records the links are read from."""

    now: datetime
    anomalies: Sequence[tuple[int, Anomaly]]
    sla: SlaResult | None = None
    fulfillment: FulfillmentResult | None = None
    sales: SalesResult | None = None
    traffic: TrafficResult | None = None
    inventory: InventoryResult | None = None
    conversations: Mapping[int, ConversationRecord] = field(default_factory=dict)
    order_index: Mapping[str, str] = field(default_factory=dict)  # number → order name
    orders_by_name: Mapping[str, OrderRecord] = field(default_factory=dict)
    variants: Sequence[VariantRecord] = ()
    last_sold: Mapping[str, datetime] = field(default_factory=dict)  # variant id → last sale
    recent_orders: Sequence[OrderRecord] = ()  # with line items, the sales windows
    page_days: Sequence[LandingPageDay] = ()
    processing_hours: float = 24
    critical_cover: float = 3
    baseline_days: int = 7
    currency: str = ""
    timezone: str = "UTC"  # the shop's: GA4 days are shop days


@dataclass
class _Draft:
    kinds: list[IncidentKind]
    anchors: list[str]
    title: str
    anomalies: dict[int, IncidentAnomaly]
    links: list[IncidentLink]
    causes: list[LikelyCause]
    entities: set[str]
    started_at: datetime | None


def stuck(order: OrderRecord, now: datetime, processing_hours: float) -> bool:
    """Countable, needing fulfillment, not settled, and older than the processing window."""
    return (
        order.countable
        and order.fulfillment_status not in SETTLED_STATUSES | {NOT_REQUIRED}
        and now - order.created_at > timedelta(hours=processing_hours)
    )


def _ref(fact_id: int, anomaly: Anomaly) -> IncidentAnomaly:
    return IncidentAnomaly(
        fact_id=fact_id,
        kpi=anomaly.kpi,
        key=anomaly.key,
        kind=anomaly.kind,
        severity=anomaly.severity,
        message=anomaly.message,
    )


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def _share(part: float, whole: float) -> float:
    return 0.0 if whole <= 0 else round(min(1.0, max(0.0, part / whole)), 4)


# --- support from stuck orders ---------------------------------------------------------------


def _support(inputs: IncidentInputs) -> list[_Draft]:
    flagged = [(i, a) for i, a in inputs.anomalies if a.kpi == "sla_breach_rate"]
    sla = inputs.sla
    if not flagged or sla is None or not sla.breached:
        return []
    hours = inputs.processing_hours
    links: list[IncidentLink] = []
    linked: list[int] = []
    orders: dict[str, OrderRecord] = {}
    for breach in sla.breached:
        conversation = inputs.conversations.get(breach.conversation_id)
        if conversation is None:
            continue
        mentioned: dict[str, None] = {}
        for message in conversation.messages:
            if message.message_type == 0 and not message.private:
                mentioned.update(dict.fromkeys(order_mentions(message.content, inputs.order_index)))
        for name in mentioned:
            order = inputs.orders_by_name.get(name)
            if order is None or not stuck(order, inputs.now, hours):
                continue
            if breach.conversation_id not in linked:
                linked.append(breach.conversation_id)
            orders[name] = order
            age = (inputs.now - order.created_at) / timedelta(hours=1)
            links.append(
                IncidentLink(
                    kind="order",
                    entity=name,
                    sources=("chatwoot", "shopify"),
                    evidence=(
                        f"Conversation {breach.conversation_id} ({breach.customer_name}, "
                        f"waiting {breach.minutes_waiting} min) asks about {name}, "
                        f"{order.fulfillment_status} {age:.0f} h after it was placed "
                        f"({_utc(order.created_at)})."
                    ),
                )
            )
    if not linked:
        return []
    anomalies = {i: _ref(i, a) for i, a in flagged}
    names = sorted(orders, key=lambda n: (orders[n].created_at, n))
    first_stuck = min(o.created_at for o in orders.values()) + timedelta(hours=hours)
    first_breach = min(
        b.last_customer_message_at + timedelta(minutes=b.sla_minutes)
        for b in sla.breached
        if b.conversation_id in linked
    )
    links.append(
        IncidentLink(
            kind="time",
            entity=names[0],
            sources=("shopify", "chatwoot"),
            evidence=(
                f"The first of these orders passed its {hours:g} h processing window at "
                f"{_utc(first_stuck)}; the first of these conversations breached its SLA at "
                f"{_utc(first_breach)}."
            ),
        )
    )
    fulfillment = inputs.fulfillment
    if fulfillment is not None:
        counted = [issue.name for issue in fulfillment.issues if issue.name in orders]
        flagged_f = [(i, a) for i, a in inputs.anomalies if a.kpi == "fulfillment_issue_rate"]
        if counted and flagged_f:
            anomalies.update((i, _ref(i, a)) for i, a in flagged_f)
            links.append(
                IncidentLink(
                    kind="order",
                    entity=counted[0],
                    sources=("shopify", "shopify"),
                    evidence=(
                        f"{len(counted)} of these orders ({_names(counted)}) are among the "
                        f"{len(fulfillment.issues)} issues of the fulfillment issue rate "
                        f"({fulfillment.value:.1f} %)."
                    ),
                )
            )
    breached = len(sla.breached)
    share = _share(len(linked), breached)
    causes = [
        LikelyCause(
            cause="Orders stuck in fulfillment",
            share=share,
            reason=(
                f"{len(linked)} of {breached} breached conversations ask about orders still "
                f"unfulfilled past {hours:g} h ({_names(names)})."
            ),
        ),
        LikelyCause(
            cause=_CAPACITY,
            share=round(1 - share, 4),
            reason=f"{breached - len(linked)} of {breached} breached conversations name no "
            "stuck order.",
        ),
    ]
    return [
        _Draft(
            kinds=["support_from_stuck_orders"],
            anchors=["sla"],
            title=f"Customers waiting on {len(orders)} order(s) stuck in fulfillment",
            anomalies=anomalies,
            links=links,
            causes=causes,
            entities={f"order:{name}" for name in orders},
            started_at=first_stuck,
        )
    ]


# --- stockouts -------------------------------------------------------------------------------


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
        i: _ref(i, a)
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
    sold = f"last sold {_utc(last)}" if last is not None else "no sale in the orders read"
    return f"{_label(variant)}: {state}, {sold}"


def _traffic(inputs: IncidentInputs) -> list[_Draft]:
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
        variants = by_handle.get(handle or "", [])
        page = pages.get(anomaly.key)
        out = [
            v
            for v in variants
            if v.inventory_quantity <= 0
            or ((c := covers.get(v.variant_id)) is not None and c <= inputs.critical_cover)
        ]
        # A stockout is the link: low cover alone still sells.
        if page is None or handle is None or not any(v.inventory_quantity <= 0 for v in out):
            continue
        drafts.append(
            _traffic_draft(inputs, fact_id, anomaly, page.previous, handle, variants, out)
        )
    return drafts


def _traffic_draft(
    inputs: IncidentInputs,
    fact_id: int,
    anomaly: Anomaly,
    previous: int,
    handle: str,
    variants: list[VariantRecord],
    out: list[VariantRecord],
) -> _Draft:
    traffic = inputs.traffic
    assert traffic is not None
    covers = _covers(inputs.inventory)
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
        time_share = _share(explained, total_lost)
        before = [sessions.get(d, 0) for d in days if d < day_out]
        after_sessions = [sessions.get(d, 0) for d in after]
        links.append(
            IncidentLink(
                kind="time",
                entity=handle,
                sources=("shopify", "ga4"),
                evidence=(
                    f"{product} ran out at {_utc(stockout)} (its last sale); sessions on {page} "
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
        when = f"since {_utc(stockout)}"
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
            cause=_ACQUISITION,
            share=round(1 - share, 4),
            reason=f"{(1 - share) * 100:.0f} % of the sessions lost are not explained by the "
            "stockout.",
        ),
    ]
    ids = {v.variant_id for v in out}
    return _Draft(
        kinds=["traffic_on_stockout"],
        anchors=[f"page:{page}"],
        title=f"{page} is losing traffic while {product} cannot be sold",
        anomalies={
            fact_id: _ref(fact_id, anomaly),
            **_inventory_anomalies(inputs, ids),
            # the same page seen by the unsellable-traffic KPI (revenue at risk)
            **{
                i: _ref(i, a)
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


def _sales(inputs: IncidentInputs) -> list[_Draft]:
    sales = inputs.sales
    flagged = [(i, a) for i, a in inputs.anomalies if a.kpi == "sales_delta"]
    if sales is None or not flagged or sales.current >= sales.baseline:
        return []
    gap = sales.baseline - sales.current
    revenue = _variant_revenue(inputs)
    ranked = sorted(revenue, key=lambda v: (-revenue[v][0], v))
    rank = {v: n for n, v in enumerate(ranked, start=1)}
    top = 5 if not sales.top_skus else max(5, len(sales.top_skus))
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
        share = _share(float(missing), float(gap))
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
                evidence=f"{label} last sold at {_utc(last)}, "
                f"{(inputs.now - last) / timedelta(hours=1):.0f} h before the refresh, and has "
                "sold nothing since: it ran out as the drop began.",
            )
        )
        causes.append(
            LikelyCause(
                cause=f"Stockout of {variant.product_title}",
                share=share,
                reason=(
                    f"{label} ran out at {_utc(last)}; its missing {missing:,.2f}{currency} is "
                    f"{share * 100:.0f} % of the {gap:,.2f}{currency} revenue gap."
                ),
            )
        )
    rest = round(max(0.0, 1 - explained_total), 4)
    causes.append(
        LikelyCause(
            cause=_OTHER_SALES,
            share=rest,
            reason=f"{rest * 100:.0f} % of the revenue gap is not explained by a SKU that ran out.",
        )
    )
    first = sorted(ran_out, key=lambda v: rank[v.variant_id])[0]
    ids = {v.variant_id for v in ran_out}
    return [
        _Draft(
            kinds=["sales_on_stockout"],
            anchors=["sales"],
            title=f"Sales drop on the day top SKU {_label(first)} ran out",
            anomalies={
                **{i: _ref(i, a) for i, a in flagged},
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


# --- merging and output ----------------------------------------------------------------------


def _merge(drafts: list[_Draft]) -> list[_Draft]:
    """Drafts sharing an entity become one (a stockout behind a traffic and a sales drop)."""
    merged: list[_Draft] = []
    for draft in drafts:
        into = next((m for m in merged if m.entities & draft.entities), None)
        if into is None:
            merged.append(draft)
            continue
        into.kinds += [k for k in draft.kinds if k not in into.kinds]
        into.anchors += draft.anchors
        into.anomalies.update(draft.anomalies)
        into.links += [link for link in draft.links if link not in into.links]
        best = {c.cause: c for c in into.causes}
        for cause in draft.causes:
            if cause.cause not in best or cause.share > best[cause.cause].share:
                best[cause.cause] = cause
        into.causes = list(best.values())
        into.entities |= draft.entities
        starts = [s for s in (into.started_at, draft.started_at) if s is not None]
        into.started_at = min(starts) if starts else None
    return merged


def _incident(draft: _Draft) -> Incident:
    anomalies = sorted(
        draft.anomalies.values(), key=lambda a: (-SEVERITY_ORDER[a.severity], a.fact_id)
    )
    digest = hashlib.sha256("|".join(sorted(draft.anchors)).encode()).hexdigest()[:10]
    return Incident(
        id=f"inc-{digest}",
        kinds=draft.kinds,
        title=draft.title,
        severity="critical" if any(a.severity == "critical" for a in anomalies) else "warning",
        started_at=draft.started_at,
        anomalies=anomalies,
        links=draft.links,
        # A residual cause that explains nothing is left out; a linked one always shows.
        causes=sorted(
            (c for c in draft.causes if c.share > 0 or c.cause not in _RESIDUAL),
            key=lambda c: (-c.share, c.cause),
        ),
        entities=sorted(draft.entities),
    )


def find_incidents(inputs: IncidentInputs) -> list[Incident]:
    """The incidents among ``inputs.anomalies``: critical first, then the most anomalies."""
    drafts = _merge([*_sales(inputs), *_traffic(inputs), *_support(inputs)])
    incidents = [_incident(d) for d in drafts]
    return sorted(
        incidents,
        key=lambda i: (-SEVERITY_ORDER[i.severity], -len(i.anomalies), i.id),
    )
