"""A small store whose five KPIs are computed by hand (see the comments)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
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
