"""The demo store: a hot-rod parts shop generated from a seed, in the upstream APIs' own shapes.

``occ demo`` and the tests need a store that looks like a real one (90 days of orders with
weekly seasonality, ~150 variants, support conversations, GA4 sessions) and that shows each
tile's anomaly relative to ``now``: (a) a sales drop in the last 24 h, (b) SLA breaches,
(c) a product page losing half its traffic, (d) SKUs about to stock out and (e) a
fulfillment backlog. The store's fixed content lives in :mod:`occ.sources.demo_catalog`.

The payloads are raw JSON texts exactly as Shopify, Chatwoot and GA4 answer occ's requests
(the recorded-responses folder of DESIGN.md), so demo data takes the same validation path
into the store as live data. Everything is drawn from ``random.Random(seed)``: the same seed
and ``now`` give byte-identical texts.
"""

from __future__ import annotations

import base64
import json
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from occ.sources import demo_catalog as catalog
from occ.sources import demo_incidents
from occ.sources.base import RawRecord, SourcePayloads

__all__ = ["DEMO_SHOP", "HISTORY_DAYS", "demo_payloads", "demo_recorded_folder"]

DEMO_SHOP: dict[str, str] = {
    "shopDomain": "hotrod-parts-demo.myshopify.com",
    "currencyCode": "USD",
    "ianaTimezone": "America/Chicago",
}
HISTORY_DAYS = 90
_TZ = ZoneInfo(DEMO_SHOP["ianaTimezone"])
_HOUR, _DAY = 3600, 86400
_ORDERS_PER_DAY, _ORDER_TREND = 50.0, 0.15  # ~50 orders a day, +15 % over the 90 days
# (a) the last 24 h get half the orders and end at most at 58 % of the baseline (−42 %).
_SALES_DROP, _SALES_MAX_RATIO = 0.5, 0.58
# (e) at least this share of last week's shippable orders is still unshipped after 24 h.
_BACKLOG_MIN_RATE = 0.32
_FOLDER_FILES = {
    "shopify.orders": "shopify/orders.jsonl",
    "shopify.variants": "shopify/variants.jsonl",
    "chatwoot.conversations": "chatwoot/conversations.jsonl",
    "chatwoot.messages": "chatwoot/messages.jsonl",
    "ga4.landing_pages": "ga4/landing_pages.json",
}


@dataclass(slots=True)
class _Line:
    variant: catalog.CatalogVariant
    quantity: int
    cents: int


@dataclass(slots=True, eq=False)
class _Order:
    created: int  # Unix seconds
    lines: list[_Line]
    shipping_cents: int = 0
    cancelled: bool = False
    test: bool = False
    status: str = "FULFILLED"
    financial: str = "PAID"

    @property
    def total_cents(self) -> int:
        return sum(line.cents for line in self.lines) + self.shipping_cents

    @property
    def countable(self) -> bool:
        return not self.cancelled and not self.test

    @property
    def shippable(self) -> bool:
        return self.countable and self.status != "FULFILLMENT_NOT_REQUIRED"


def demo_payloads(seed: int, now: datetime) -> SourcePayloads:
    """Generate the demo store as raw upstream payloads, its anomalies relative to ``now``.

    Args:
        seed: seeds the only random generator used; same seed and now give identical texts.
        now: the refresh instant (timezone-aware); the 90 days of history end there.

    Returns:
        Payloads of kind ``demo`` holding every stream of :data:`occ.sources.base.STREAMS`.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    moment = now.astimezone(UTC)
    now_ts = math.floor(moment.timestamp())
    root = random.Random(seed)
    # One child generator per upstream: changing one part leaves the others as they were.
    order_rng, stock_rng, chat_rng, ga_rng = (random.Random(root.getrandbits(64)) for _ in range(4))
    orders, sold_out = _orders(order_rng, now_ts)
    order_texts = [
        _dumps(_order_json(order_rng, i, order, now_ts)) for i, order in enumerate(orders)
    ]
    stock = _stock_levels(stock_rng, orders, now_ts)
    stock.update(dict.fromkeys(sold_out, 0))
    variant_texts = [_dumps(catalog.variant_json(v, stock[v.variant_id])) for v in catalog.CATALOG]
    stuck = demo_incidents.stuck_order_names(orders, now_ts)
    conversations, messages = _conversations(chat_rng, now_ts, stuck)
    return SourcePayloads(
        kind="demo",
        name="demo",
        shop=RawRecord("demo:shop", _dumps(DEMO_SHOP)),
        streams={
            "shopify.orders": _records("shopify/orders", order_texts),
            "shopify.variants": _records("shopify/variants", variant_texts),
            "chatwoot.conversations": _records(
                "chatwoot/conversations", map(_dumps, conversations)
            ),
            "chatwoot.messages": _records("chatwoot/messages", map(_dumps, messages)),
            "ga4.landing_pages": _records("ga4/landing_pages", [_dumps(_report(ga_rng, moment))]),
        },
    )


def demo_recorded_folder(seed: int, now: datetime, path: Path) -> None:
    """Write :func:`demo_payloads` as a recorded-responses folder (layout in DESIGN.md)."""
    payloads = demo_payloads(seed, now)
    for sub in ("shopify", "chatwoot", "ga4"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    shop = payloads.shop.text if payloads.shop is not None else "{}"
    (path / "shop.json").write_text(shop + "\n", encoding="utf-8")
    for stream, relative in _FOLDER_FILES.items():
        lines = "".join(record.text + "\n" for record in payloads.streams[stream] or ())
        (path / relative).write_text(lines, encoding="utf-8")


def _dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _records(prefix: str, texts: Iterable[str]) -> tuple[RawRecord, ...]:
    return tuple(RawRecord(f"demo:{prefix}[{i}]", text) for i, text in enumerate(texts))


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _decimal(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _money(cents: int) -> dict[str, Any]:
    return {"shopMoney": {"amount": _decimal(cents), "currencyCode": DEMO_SHOP["currencyCode"]}}


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: the demo's means are small (a few orders an hour).
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


# --- Shopify orders --------------------------------------------------------------------------


def _orders(rng: random.Random, now_ts: int) -> tuple[list[_Order], set[str]]:
    physical = [v for v in catalog.CATALOG if v.kind != "gift_card"]
    cumulative: list[float] = []
    for variant in physical:
        cumulative.append((cumulative[-1] if cumulative else 0.0) + variant.weight)
    orders: list[_Order] = []
    start, hours = now_ts - HISTORY_DAYS * _DAY, HISTORY_DAYS * 24
    for hour in range(hours):
        slot = start + hour * _HOUR  # orders fall in (slot, slot + 1 h]
        local = datetime.fromtimestamp(slot + _HOUR // 2, _TZ)
        rate = (
            _ORDERS_PER_DAY * (1 + _ORDER_TREND * hour / hours) * catalog.DIURNAL_SHARE[local.hour]
        )
        rate *= catalog.ORDER_WEEKDAY[local.weekday()] * (_SALES_DROP if hour >= hours - 24 else 1)
        for _ in range(_poisson(rng, rate)):
            lines, shipping = _basket(rng, physical, cumulative)
            order = _Order(slot + rng.randint(1, _HOUR), lines, shipping)
            order.cancelled, order.test = rng.random() < 0.012, rng.random() < 0.001
            orders.append(order)
    # Traps: a big test order and a big cancelled order in the last 24 h (they must not hide
    # the drop), and an unfulfilled test order from three days ago (it is not a stuck order).
    by_sku = {v.sku: v for v in catalog.CATALOG}

    def line(sku: str, quantity: int) -> _Line:
        return _Line(by_sku[sku], quantity, by_sku[sku].price_cents * quantity)

    trap_lines = [line("HRP-FPIL380-BLK", 1), line("HRP-HANGER-10", 1), line("HRP-PTFE10-20FT", 1)]
    orders.append(
        _Order(now_ts - rng.randint(_HOUR, 5 * _HOUR), [line("HRP-FP450-E85", 2)], test=True)
    )
    orders.append(_Order(now_ts - rng.randint(6 * _HOUR, 18 * _HOUR), trap_lines, cancelled=True))
    orders.append(
        _Order(now_ts - 3 * _DAY - rng.randint(0, _HOUR), [line("HRP-AN6-ST-BLK", 4)], test=True)
    )
    sold_out = demo_incidents.sell_out(orders, now_ts, DEMO_SHOP["ianaTimezone"])
    _enforce_sales_drop(rng, orders, now_ts)
    orders.sort(key=lambda order: order.created)
    _assign_statuses(rng, orders, now_ts)
    _enforce_backlog(orders, now_ts)
    return orders, sold_out


def _basket(
    rng: random.Random, physical: list[catalog.CatalogVariant], cumulative: list[float]
) -> tuple[list[_Line], int]:
    """One order's lines and shipping: mostly 1–2 lines, fittings sold in multiples."""
    if rng.random() < 0.012:
        gift_card = catalog.CATALOG[-1]
        quantity = rng.choices((1, 2, 4), (70, 22, 8))[0]
        return [_Line(gift_card, quantity, gift_card.price_cents * quantity)], 0
    size = rng.choices((1, 2, 3, 4), (55, 28, 12, 5))[0]
    chosen: list[catalog.CatalogVariant] = []
    while len(chosen) < size:
        variant = rng.choices(physical, cum_weights=cumulative)[0]
        if variant not in chosen:
            chosen.append(variant)
    discounted = rng.random() < 0.08  # code HOTROD10: 10 % off every line
    lines = []
    for variant in chosen:
        if variant.kind == "fitting":
            quantity = rng.choices((1, 2, 4, 6, 8), (15, 40, 28, 10, 7))[0]
        elif variant.kind == "clamp":
            quantity = rng.choices((1, 2, 4), (60, 30, 10))[0]
        else:
            quantity = rng.choices((1, 2), (92, 8))[0]
        cents = variant.price_cents * quantity
        lines.append(_Line(variant, quantity, (cents * 90 + 50) // 100 if discounted else cents))
    return lines, 0 if sum(line.cents for line in lines) >= 9900 else 995


def _enforce_sales_drop(rng: random.Random, orders: list[_Order], now_ts: int) -> None:
    """Thin the last 24 h if Poisson noise left them less than 42 % below the baseline."""

    def revenue(start: int, end: int) -> int:
        return sum(o.total_cents for o in orders if o.countable and start < o.created <= end)

    baseline = sum(revenue(now_ts - (k + 1) * _DAY, now_ts - k * _DAY) for k in range(1, 8)) / 7
    current = [o for o in orders if o.countable and o.created > now_ts - _DAY]
    total, dropped = sum(o.total_cents for o in current), set()
    while current and total > _SALES_MAX_RATIO * baseline:
        victim = current.pop(rng.randrange(len(current)))
        total -= victim.total_cents
        dropped.add(id(victim))
    orders[:] = [o for o in orders if id(o) not in dropped]


def _assign_statuses(rng: random.Random, orders: list[_Order], now_ts: int) -> None:
    for order in orders:
        age_hours = (now_ts - order.created) / _HOUR
        if order.lines[0].variant.kind == "gift_card":
            order.status = "FULFILLMENT_NOT_REQUIRED"
        elif order.cancelled:
            order.status = "RESTOCKED" if age_hours > 48 and rng.random() < 0.3 else "UNFULFILLED"
        elif order.test:
            order.status = "UNFULFILLED"
        else:
            statuses, weights = next(
                (s, w) for limit, s, w in catalog.STATUS_BY_AGE if age_hours <= limit
            )
            order.status = rng.choices(statuses, weights)[0]
        draw = rng.random()
        if order.cancelled:
            order.financial = "REFUNDED" if draw < 0.7 else "VOIDED"
        elif age_hours < 48 and draw < 0.05:
            order.financial = "PENDING" if draw < 0.03 else "AUTHORIZED"
        elif age_hours > 72 and draw < 0.015:
            order.financial = "PARTIALLY_REFUNDED"
    # Two orders held for address verification.
    held = [o for o in orders if o.shippable and 48 * _HOUR < now_ts - o.created < 144 * _HOUR]
    for order in rng.sample(held, min(2, len(held))):
        order.status = "ON_HOLD"


def _enforce_backlog(orders: list[_Order], now_ts: int) -> None:
    """Leave the youngest shipped orders unshipped until the backlog reaches its minimum."""
    population = [o for o in orders if o.shippable and o.created > now_ts - 7 * _DAY]
    late = [o for o in population if now_ts - o.created > _DAY]
    issues = sum(1 for o in late if o.status not in ("FULFILLED", "RESTOCKED"))
    for order in sorted((o for o in late if o.status == "FULFILLED"), key=lambda o: -o.created):
        if issues > _BACKLOG_MIN_RATE * len(population):
            break
        order.status, issues = "UNFULFILLED", issues + 1


def _order_json(rng: random.Random, index: int, order: _Order, now_ts: int) -> dict[str, Any]:
    number = 6_204_118_000_000 + 1_319 * index
    cancelled_at = None
    if order.cancelled:
        cancelled_at = updated = min(order.created + rng.randint(600, 20 * _HOUR), now_ts)
    elif order.status in ("FULFILLED", "PARTIALLY_FULFILLED"):
        updated = min(order.created + rng.randint(4 * _HOUR, 30 * _HOUR), now_ts)
    else:
        updated = min(order.created + rng.randint(20, 900), now_ts)
    items = [
        {
            "id": f"gid://shopify/LineItem/{15_871_204_000_000 + 1_013 * (5 * index + j)}",
            "sku": line.variant.sku,
            "title": line.variant.product_title,
            "quantity": line.quantity,
            "variant": {"id": line.variant.variant_id},
            "discountedTotalSet": _money(line.cents),
        }
        for j, line in enumerate(order.lines)
    ]
    cursor = base64.b64encode(f'{{"last_id":{number},"last_value":{number}}}'.encode()).decode()
    page_info = {"hasNextPage": False, "endCursor": cursor}
    # Recordings hold both connection shapes; alternate them.
    line_items: dict[str, Any] = (
        {"nodes": items, "pageInfo": page_info}
        if index % 2
        else {"edges": [{"node": item} for item in items], "pageInfo": page_info}
    )
    return {
        "id": f"gid://shopify/Order/{number}",
        "name": f"#{1001 + index}",
        "createdAt": _iso(order.created),
        "updatedAt": _iso(updated),
        "cancelledAt": None if cancelled_at is None else _iso(cancelled_at),
        "test": order.test,
        "displayFulfillmentStatus": order.status,
        "displayFinancialStatus": order.financial,
        "currentTotalPriceSet": _money(order.total_cents),
        "lineItems": line_items,
    }


# --- Shopify variants ------------------------------------------------------------------------


def _stock_levels(rng: random.Random, orders: list[_Order], now_ts: int) -> dict[str, int]:
    """Inventory per variant id: weeks of cover for most, (d) a few days for the at-risk SKUs."""
    units: dict[str, int] = {}
    for order in orders:
        if order.countable and order.created > now_ts - 14 * _DAY:
            for line in order.lines:
                units[line.variant.variant_id] = (
                    units.get(line.variant.variant_id, 0) + line.quantity
                )
    stock: dict[str, int] = {}
    for variant in catalog.CATALOG:
        velocity = units.get(variant.variant_id, 0) / 14
        if not variant.tracked:
            quantity = 0
        elif variant.policy == "CONTINUE":
            quantity = rng.randint(-4, 2)  # pre-orders oversell
        elif variant.sku in catalog.AT_RISK_SKUS and velocity >= 0.1:
            quantity = math.floor(catalog.AT_RISK_SKUS[variant.sku] * velocity)  # just under
        elif velocity < 0.1:
            quantity = rng.randint(0, 30)
        else:
            quantity = math.ceil(velocity * rng.uniform(16, 90)) + rng.randint(2, 20)
        stock[variant.variant_id] = quantity
    return stock


# --- Chatwoot --------------------------------------------------------------------------------


def _conversations(
    rng: random.Random, now_ts: int, stuck_orders: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Conversations as in ``data.payload`` of the list endpoint, and all their messages.

    (f) Breached conversations open with a question about one of ``stuck_orders``.
    """
    threads: list[tuple[str, bool, list[catalog.Event], bool]] = []
    for status, ending, priority, count in catalog.CONVERSATION_SCENARIOS:
        breached = ending.startswith("breached")
        threads += [
            (status, priority, _thread(rng, ending, priority, now_ts), breached)
            for _ in range(count)
        ]
    threads.sort(key=lambda thread: thread[2][0][0])  # ids follow creation time
    names = rng.sample(catalog.CONTACT_NAMES, len(threads))
    questions = demo_incidents.ask_about_orders(
        (i for i, thread in enumerate(threads) if thread[3]), stuck_orders
    )
    conversations, messages = [], []
    for index, (status, priority, events, _) in enumerate(threads):
        if index in questions:
            events[0] = (events[0][0], "customer", questions[index])
        conversation_id, inbox_id = 2301 + index, rng.choice((1, 1, 2))
        contact = {"id": 5100 + 3 * index, "name": names[index], "type": "contact"}
        agent_id, agent_name = rng.choice(catalog.AGENTS)
        agent = {"id": agent_id, "name": agent_name, "type": "user"}
        for created, kind, content in events:
            messages.append(catalog.message_json(kind, content, contact, agent))
            messages[-1].update(
                conversation_id=conversation_id, inbox_id=inbox_id, created_at=created
            )
        labels = rng.sample(catalog.LABELS, rng.choice((0, 1, 1)))
        labels = ["priority", *labels] if priority else labels
        uuid = "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}".format(
            *(rng.getrandbits(bits) for bits in (32, 16, 12, 12, 48))
        )
        conversation = catalog.conversation_json(
            uuid, status, labels, inbox_id, events, contact, agent
        )
        conversations.append({"id": conversation_id, **conversation})
    # Message ids follow time across conversations; the file lists them per conversation.
    messages.sort(key=lambda message: (message["created_at"], message["conversation_id"]))
    numbered = [{"id": 90_001 + n, **message} for n, message in enumerate(messages)]
    numbered.sort(key=lambda message: (message["conversation_id"], message["id"]))
    conversations.sort(key=lambda conversation: -conversation["last_activity_at"])
    return conversations, numbered


def _thread(rng: random.Random, ending: str, priority: bool, now_ts: int) -> list[catalog.Event]:
    """One conversation's messages, oldest first, ending the way its scenario says."""
    low, high = catalog.WAIT_MINUTES[(ending, priority)]
    anchor = now_ts - rng.randint(low, high) * 60  # the last customer message
    history: list[catalog.Event] = []
    moment = anchor
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        moment -= rng.randint(20, 600) * 60
        history.append((moment, "agent", rng.choice(catalog.AGENT_REPLIES)))
        moment -= rng.randint(4, 80) * 60
        history.append((moment, "customer", rng.choice(catalog.CUSTOMER_FOLLOW_UPS)))
    history.reverse()
    events = [*history, (anchor, "customer", rng.choice(catalog.CUSTOMER_FOLLOW_UPS))]
    events[0] = (events[0][0], "customer", rng.choice(catalog.CUSTOMER_OPENERS))
    waited = now_ts - anchor
    if ending == "breached" and rng.random() < 0.4:  # activity never stops the clock
        events.append((anchor + rng.randint(30, waited - 30), "activity", "assigned"))
    elif ending == "breached_note":  # nor does a private note
        events.append((anchor + waited // 2, "note", rng.choice(catalog.PRIVATE_NOTES)))
    elif ending == "replied":
        events.append(
            (anchor + rng.randint(3, 35) * 60, "agent", rng.choice(catalog.AGENT_REPLIES))
        )
    elif ending == "template":
        reply = rng.choice(catalog.TEMPLATE_REPLIES)
        events.append((anchor + rng.randint(1, 5) * 60, "template", reply))
    elif ending == "snoozed":
        events.append((anchor + rng.randint(5, 60) * 60, "activity", "snoozed"))
    elif ending == "resolved":
        moment = anchor + rng.randint(4, 120) * 60
        events.append((moment, "agent", rng.choice(catalog.AGENT_REPLIES)))
        if rng.random() < 0.4:  # thanks after the reply: awaiting, but resolved
            moment += rng.randint(2, 60) * 60
            events.append((moment, "customer", rng.choice(catalog.CUSTOMER_THANKS)))
        events.append((moment + rng.randint(1, 30) * 60, "activity", "resolved"))
    return events


# --- GA4 -------------------------------------------------------------------------------------


def _report(rng: random.Random, now: datetime) -> dict[str, Any]:
    """One runReport response: sessions per landing page and shop-time date, 90 days."""
    local_now = now.astimezone(_TZ)
    today = local_now.date()
    midnight = datetime.combine(today, datetime.min.time(), _TZ)
    today_share = (local_now - midnight) / timedelta(days=1)
    days = [today - timedelta(days=HISTORY_DAYS - 1 - i) for i in range(HISTORY_DAYS)]
    current = {today - timedelta(days=k) for k in range(1, 8)}
    previous = {today - timedelta(days=k) for k in range(8, 15)}
    counts: dict[str, list[int]] = {}
    for path, base in catalog.LANDING_PAGES:
        if path == catalog.TINY_DROP_PAGE:
            counts[path] = _tiny_page(rng, days, current, previous, today_share)
            continue
        series = [
            base
            * (1 + 0.10 * i / HISTORY_DAYS)
            * catalog.TRAFFIC_WEEKDAY[day.weekday()]
            * math.exp(rng.gauss(0, 0.08))
            * (today_share if day == today else 1.0)
            for i, day in enumerate(days)
        ]
        ratio = sum(v for d, v in zip(days, series, strict=True) if d in current) / sum(
            v for d, v in zip(days, series, strict=True) if d in previous
        )
        # (c) one product page halves, one blog post slips (a warning); the rest hold steady.
        target = None if 0.92 <= ratio <= 1.12 else rng.uniform(0.97, 1.06)
        if path == catalog.CRITICAL_DROP_PAGE:
            target = rng.uniform(0.46, 0.54)
        elif path == catalog.WARNING_DROP_PAGE:
            target = rng.uniform(0.70, 0.76)
        if target is not None:
            scale = target / ratio
            series = [
                v * (scale if d in current or d == today else 1.0)
                for d, v in zip(days, series, strict=True)
            ]
        counts[path] = [round(v) for v in series]
    rows = []
    for i, day in enumerate(days):
        day_counts = sorted(
            ((counts[p][i], p) for p, _ in catalog.LANDING_PAGES), key=lambda r: -r[0]
        )
        for sessions, path in day_counts:
            if sessions > 0:  # GA4 leaves out rows whose metrics are all zero
                dimensions = [{"value": path}, {"value": day.strftime("%Y%m%d")}]
                rows.append(
                    {"dimensionValues": dimensions, "metricValues": [{"value": str(sessions)}]}
                )
    return {
        "dimensionHeaders": [{"name": "landingPage"}, {"name": "date"}],
        "metricHeaders": [{"name": "sessions", "type": "TYPE_INTEGER"}],
        "rows": rows,
        "rowCount": len(rows),
        "metadata": {"currencyCode": "USD", "timeZone": str(_TZ)},
        "kind": "analyticsData#runReport",
    }


def _tiny_page(
    rng: random.Random,
    days: list[date],
    current: set[date],
    previous: set[date],
    today_share: float,
) -> list[int]:
    """A page under the noise floor (< 10 sessions a week) that drops: listed, never flagged."""
    per_day = dict.fromkeys(days, 0)
    for day in rng.choices(sorted(previous), k=rng.randint(6, 9)):
        per_day[day] += 1
    for day in rng.choices(sorted(current), k=rng.randint(1, 3)):
        per_day[day] += 1
    for day in days[:-15]:
        per_day[day] = _poisson(rng, 1.0)
    per_day[days[-1]] = _poisson(rng, today_share)
    return [per_day[day] for day in days]
