"""A small store whose five KPIs are computed by hand (see the comments)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from builders import ago, conversation, ga4_report, line, message, order, variant, write_folder

#   current window (now-24h, now]: #1 120.10 + #2 29.90 = 150.00 (#3 cancelled, #4 test excluded)
#   baseline: k=1..6 one order of 100.00, k=7 none → 600/7; delta = (150 - 600/7)/(600/7) = +75 %
#   fulfillment population: #1, #2 and k=1..6 minus k=3 (FULFILLMENT_NOT_REQUIRED) = 7
#   issues: k=1 UNFULFILLED (25 h), k=2 ON_HOLD, k=4 AWAITING_PICKUP (unknown → issue) = 3/7
#   SKU-A units in 14 days: 2 + 1 + 6 = 9 → 9/14 per day; stock 3 → 4.667 days (warning);
#   reorder ceil(9/14*30) - 3 = 20 - 3 = 17. SKU-B 1/14 < 0.1 → slow mover.
#   SLA: population c1 c2 c3 c5 (c4 snoozed); breached c1 (90 > 60) and c2 (45 > 30, priority)
#   traffic: /a 70 → 35 (-50 %, critical); /b 7 → 0 under the noise floor; /c 140 → 140
BASELINE_STATUSES = {
    1: "UNFULFILLED",
    2: "ON_HOLD",
    3: "FULFILLMENT_NOT_REQUIRED",
    4: "AWAITING_PICKUP",
    5: "FULFILLED",
    6: "FULFILLED",
}


def scenario_orders(now: datetime) -> list[dict[str, Any]]:
    orders = [
        order(
            1,
            ago(now, hours=1),
            "120.10",
            lines=[line(11, 1, "SKU-A", 2, "80.00"), line(12, 2, "SKU-B", 1, "40.10")],
        ),
        order(
            2,
            ago(now, hours=2),
            "29.90",
            status="UNFULFILLED",
            lines=[line(21, 1, "SKU-A", 1, "29.90")],
        ),
        order(
            3,
            ago(now, hours=3),
            "500.00",
            cancelled=ago(now, hours=2),
            lines=[line(31, 1, "SKU-A", 5, "500.00")],
        ),
        order(4, ago(now, hours=4), "300.00", test=True, lines=[line(41, 1, "SKU-A", 3, "300.00")]),
    ]
    for k, status in BASELINE_STATUSES.items():
        orders.append(
            order(
                100 + k,
                ago(now, hours=24 * k + 1),
                "100.00",
                status=status,
                lines=[line(1000 + k, 1, "SKU-A", 1, "100.00")],
            )
        )
    return orders


def scenario_variants() -> list[dict[str, Any]]:
    return [
        variant(1, "SKU-A", 3),
        variant(2, "SKU-B", 50),
        variant(3, "SKU-C", 0, policy="CONTINUE"),
        variant(4, "SKU-D", 0, tracked=False),
    ]


def scenario_conversations(now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    start = ago(now, days=1)
    conversations = [
        conversation(1, "open", start),
        conversation(2, "open", start, ["priority"]),
        conversation(3, "pending", start),
        conversation(4, "snoozed", start),
        conversation(5, "open", start),
    ]
    messages = [
        message(10, 1, 0, ago(now, minutes=90)),
        message(20, 2, 0, ago(now, minutes=45)),
        message(30, 3, 0, ago(now, minutes=120)),
        message(31, 3, 1, ago(now, minutes=100)),
        message(40, 4, 0, ago(now, minutes=200)),
        message(50, 5, 0, ago(now, minutes=50)),
    ]
    return conversations, messages


def scenario_ga4(today: date) -> dict[str, Any]:
    rows = []
    for offset in range(1, 15):
        day = (today - timedelta(days=offset)).strftime("%Y%m%d")
        current = offset <= 7
        rows.append(("/a", day, 5 if current else 10))
        rows.append(("/b", day, 0 if current else 1))
        rows.append(("/c", day, 20))
    return ga4_report(rows)


def scenario_folder(folder: Path, now: datetime, **override: Any) -> Path:
    conversations, messages = scenario_conversations(now)
    parts: dict[str, Any] = {
        "orders": scenario_orders(now),
        "variants": scenario_variants(),
        "conversations": conversations,
        "messages": messages,
        "ga4": scenario_ga4(now.date()),
    }
    parts.update(override)
    return write_folder(folder, **parts)


# Unsellable traffic (README, "Unsellable traffic"), now = 2026-11-26 15:00 UTC, shop in UTC:
#   window 2026-11-19 – 2026-11-25 (GA4 days, offsets 1..7), lookback 2026-10-22 – 11-18 (8..35)
#   store lookback: 22 countable orders (7 fuel pump 100.10, 10 fitting, 5 healthy 20.00)
#     revenue 700.70 + 455.00 + 100.00 = 1,255.70 → AOV 57.08; sessions 280+140+140+560+280
#     = 1,400 → conversion 22 / 1,400. Window revenue 7×80 + 7×20 + 4,300 = 5,000.00.
#   /products/fuel-pump (P-OUT, stock 0): 140 sessions; own 7 orders / 280 sessions, AOV 100.10
#     → 140 × 7 × 100.10 / 280 = 350.35, 7.007 % of 5,000 → critical (> 5 %)
#   an-6-fitting (LOW-1 stock 2, 14 units in 14 days → 2.0 days ≤ 3; LOW-2 stock 0), two pages
#     of 35 sessions: own 10 orders (one holds both variants) / 280 sessions, AOV 45.50
#     → 35 × 10 × 45.50 / 280 = 56.875 → 56.88 each, 1.1376 % → warning (> 1 %)
#   /products/new-gauge (N-1 stock 0, no history of its own): 50 sessions at the store's rates
#     → 50 × 22 × 57.08 / 1,400 = 44.848… → 44.85, 0.897 % → none
#   not listed: /products/healthy-pump (500 in stock), /blogs/… (no product), /products/
#   preorder-kit (CONTINUE: sells anyway), /products/discontinued (no such product).
UNSELLABLE_PAGES = {
    # page: (sessions a day in the window, sessions a day in the lookback)
    "/products/fuel-pump": (20, 10),
    "/products/an-6-fitting": (5, 5),
    "/collections/fittings/products/an-6-fitting": (5, 5),
    "/products/healthy-pump": (30, 20),
    "/blogs/tech/ptfe-vs-rubber-hose": (10, 10),
    "/products/preorder-kit": (3, 0),
    "/products/discontinued": (2, 0),
}
NEW_GAUGE_SESSIONS = (10, 10, 10, 5, 5, 5, 5)  # offsets 1..7, nothing before


def unsellable_variants() -> list[dict[str, Any]]:
    fitting = {"handle": "an-6-fitting", "product": "AN-6 Fitting"}
    return [
        variant(201, "P-OUT", 0, handle="fuel-pump", product="Fuel Pump"),
        variant(211, "LOW-1", 2, **fitting),
        variant(212, "LOW-2", 0, **fitting),
        variant(221, "H-1", 500, handle="healthy-pump", product="Healthy Pump"),
        variant(231, "N-1", 0, handle="new-gauge", product="New Gauge"),
        variant(241, "PRE-1", 0, policy="CONTINUE", handle="preorder-kit", product="Kit"),
    ]


def unsellable_orders(now: datetime) -> list[dict[str, Any]]:
    def day(offset: int, hour: int = 12) -> datetime:
        return datetime.combine(now.date() - timedelta(days=offset), time(hour), tzinfo=UTC)

    orders = [
        order(2000 + k, day(29 + k), "100.10", lines=[line(20000 + k, 201, "P-OUT", 1, "90.10")])
        for k in range(7)
    ]
    for k in range(9):
        orders.append(
            order(2100 + k, day(27 + k), "40.00", lines=[line(21000 + k, 211, "LOW-1", 1, "40.00")])
        )
    both = [line(21100, 211, "LOW-1", 1, "45.00"), line(21101, 212, "LOW-2", 1, "50.00")]
    orders.append(order(2109, day(26), "95.00", lines=both))
    orders += [
        order(2200 + k, day(21 + k), "20.00", lines=[line(22000 + k, 221, "H-1", 1, "20.00")])
        for k in range(5)
    ]
    # Not counted: cancelled, test, before the lookback, today (after the window).
    p_out = [line(23000, 201, "P-OUT", 1, "999.00")]
    orders.append(order(2300, day(20), "999.00", cancelled=day(19), lines=p_out))
    orders.append(
        order(2301, day(19), "500.00", test=True, lines=[line(23010, 201, "P-OUT", 1, "500.00")])
    )
    orders.append(order(2302, day(36), "300.00", lines=[line(23020, 201, "P-OUT", 1, "300.00")]))
    orders.append(order(2303, day(0, 10), "1000.00", lines=[line(23030, 221, "H-1", 1, "1000.00")]))
    # The window: LOW-1 sells 2 a day (its velocity), the healthy pump too, and one big order.
    for k in range(1, 8):
        orders.append(
            order(2400 + k, day(k), "80.00", lines=[line(24000 + k, 211, "LOW-1", 2, "80.00")])
        )
        orders.append(
            order(2500 + k, day(k, 9), "20.00", lines=[line(25000 + k, 221, "H-1", 1, "20.00")])
        )
    orders.append(order(2600, day(3, 8), "4300.00", lines=[line(26000, 221, "H-1", 5, "4300.00")]))
    return orders


def unsellable_ga4(today: date) -> dict[str, Any]:
    rows = []
    for offset in range(1, 36):
        when = (today - timedelta(days=offset)).strftime("%Y%m%d")
        for page, (window, lookback) in UNSELLABLE_PAGES.items():
            sessions = window if offset <= 7 else lookback
            if sessions:
                rows.append((page, when, sessions))
        if offset <= 7:
            rows.append(("/products/new-gauge", when, NEW_GAUGE_SESSIONS[offset - 1]))
    rows.append(("/products/fuel-pump", today.strftime("%Y%m%d"), 99))  # today: not in the window
    return ga4_report(rows)


def unsellable_folder(folder: Path, now: datetime, **override: Any) -> Path:
    parts: dict[str, Any] = {
        "orders": unsellable_orders(now),
        "variants": unsellable_variants(),
        "ga4": unsellable_ga4(now.date()),
    }
    parts.update(override)
    return write_folder(folder, **parts)
