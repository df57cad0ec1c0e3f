"""Recorded-responses folders in which each kind of cross-source incident happens.

Every number the tests assert is worked out in the comments. ``NOW`` is 2026-11-26 15:00 UTC
and the shop's time zone is UTC, so GA4 days are UTC days and "today" is 2026-11-26.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from builders import ago, conversation, ga4_report, iso, line, message, order, variant, write_folder

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
TODAY = NOW.date()


def product_variant(number: int, sku: str, stock: int, handle: str, title: str) -> dict[str, Any]:
    made = variant(number, sku, stock)
    made["product"] = {"title": title, "handle": handle}
    made["title"] = sku
    return made


# --- support from stuck orders ----------------------------------------------------------------
#   orders (last 7 days, all need fulfillment): #2001 UNFULFILLED 50 h (issue, stuck),
#   #2002 FULFILLED 50 h, #2003 UNFULFILLED 2 h (inside the 24 h processing window),
#   #2004 ON_HOLD 30 h (issue, stuck) → fulfillment issue rate 2/4 = 50 % (critical).
#   conversations, all open: c1 breached (90 min), asks "Where is order #2001?";
#   c2 breached (120 min), asks about "order no. 2004" and "#2002" (fulfilled: no link);
#   c3 breached (70 min), asks about "#2001, #2003" (#2003 is not stuck yet);
#   c4 breached (200 min), names "#9999" (not an order of the shop) and its private note
#   names #2004 (notes are not the customer's words); c5 replied in time, names #2001.
#   SLA: 4 of 5 breached = 80 % (critical); linked c1, c2, c3 = 3 of 4 → share 0.75.


def support_folder(folder: Path) -> Path:
    orders = [
        order(2001, ago(NOW, hours=50), "40.00", status="UNFULFILLED"),
        order(2002, ago(NOW, hours=50), "60.00", status="FULFILLED"),
        order(2003, ago(NOW, hours=2), "20.00", status="UNFULFILLED"),
        order(2004, ago(NOW, hours=30), "80.00", status="ON_HOLD"),
    ]
    conversations = [conversation(n, "open", ago(NOW, hours=5)) for n in range(1, 6)]
    messages = [
        message(11, 1, 0, ago(NOW, minutes=90), "Where is order #2001? It never shipped."),
        message(21, 2, 0, ago(NOW, minutes=130), "Hello"),
        message(22, 2, 0, ago(NOW, minutes=120), "order no. 2004 is late, #2002 came fine"),
        message(31, 3, 0, ago(NOW, minutes=70), "I ordered #2001, #2003 — any news?"),
        message(41, 4, 0, ago(NOW, minutes=200), "Call me back about #9999 please"),
        message(42, 4, 1, ago(NOW, minutes=100), "see #2004", private=True),
        message(51, 5, 0, ago(NOW, minutes=40), "Status of #2001?"),
        message(52, 5, 1, ago(NOW, minutes=30), "It ships today."),
    ]
    return write_folder(folder, orders=orders, conversations=conversations, messages=messages)


# --- traffic on a stockout ---------------------------------------------------------------------
#   product brake-kit: variants 71 (BK-RED) and 72 (BK-BLU), both tracked, DENY, 0 in stock.
#   BK-RED sold one a day (10.00) at 12:00 on days −14…−5 (last 2026-11-21 12:00);
#   BK-BLU one a day at 10:00 on days −14…−4 (last 2026-11-22 10:00): the product became
#   unsellable at 2026-11-22 10:00. oil-filter (73, OF-1) has 500 in stock and sells one a
#   day (5.00, at 09:00), today included.
#   GA4 (current week 11-19…11-25, previous 11-12…11-18):
#   /products/brake-kit: 20 a day the week before (140, so 20 expected a day); this week 20,
#   20, 14 (11-21), then 5 a day from 11-22 → 74 sessions, −47.1 % (critical).
#   Lost: 6 on 11-21 + 15 × 4 from 11-22 = 66; after the stockout day 60 → 60/66 = 0.9091
#   (both variants out: × 1).  /blogs/brakes falls 50 % (not a product page: no incident);
#   /products/oil-filter falls 50 % (in stock: no incident).


def _days(first: int, last: int) -> list[date]:
    return [TODAY - timedelta(days=k) for k in range(first, last - 1, -1)]


def traffic_orders() -> list[dict[str, Any]]:
    made: list[dict[str, Any]] = []
    number = 3000
    # (days ago, hour of the sale, variant, SKU, price): one order a day each.
    # OF-1 sells every day, today included: the orders stream is fresh (not gated as stale).
    daily = [
        (range(14, 4, -1), 12, 71, "BK-RED", "10.00"),
        (range(14, 3, -1), 10, 72, "BK-BLU", "10.00"),
        (range(14, -1, -1), 9, 73, "OF-1", "5.00"),
    ]
    for days_ago, hour, variant_id, sku, price in daily:
        for k in days_ago:
            at = datetime.combine(TODAY - timedelta(days=k), datetime.min.time(), UTC)
            number += 1
            made.append(
                order(
                    number,
                    at + timedelta(hours=hour),
                    price,
                    lines=[line(number, variant_id, sku, 1, price)],
                )
            )
    return made


def traffic_variants() -> list[dict[str, Any]]:
    return [
        product_variant(71, "BK-RED", 0, "brake-kit", "Brake Kit"),
        product_variant(72, "BK-BLU", 0, "brake-kit", "Brake Kit"),
        product_variant(73, "OF-1", 500, "oil-filter", "Oil Filter"),
    ]


def traffic_report() -> dict[str, Any]:
    rows: list[tuple[str, str, int]] = []
    current = {
        TODAY - timedelta(days=k): s
        for k, s in zip(range(7, 0, -1), [20, 20, 14, 5, 5, 5, 5], strict=True)
    }
    for day in _days(14, 1):
        stamp = day.strftime("%Y%m%d")
        rows.append(("/products/brake-kit", stamp, current.get(day, 20)))
        rows.append(("/blogs/brakes", stamp, 10 if day in current else 20))
        rows.append(("/products/oil-filter", stamp, 10 if day in current else 20))
    return ga4_report(rows)


def traffic_folder(folder: Path) -> Path:
    return write_folder(
        folder, orders=traffic_orders(), variants=traffic_variants(), ga4=traffic_report()
    )


# --- sales on a stockout -----------------------------------------------------------------------
#   variants: 81 PUMP-1 (Fuel Pump, 0 in stock), 82 HOSE-1 (50 in stock), 83 CLAMP-1 (0 in stock)
#   days k = 1…13 before now: PUMP-1 one order of 100.00 at now − (24k + 6) h, except k = 1 at
#   now − 30 h (its last sale, inside 48 h); HOSE-1 one of 50.00 at now − (24k + 3) h;
#   CLAMP-1 one of 10.00 at now − (24k + 6) h for k = 5…7 only (sold out 5 days ago).
#   current window: HOSE-1 one order of 25.00 at now − 3 h.
#   baseline (k = 1…7): 100 × 7 + 50 × 7 + 10 × 3 = 1080 → 154.2857 a day; current 25.00;
#   delta −83.8 % (critical); gap 129.2857. PUMP-1: 100 a day in the baseline, 0 now → 100 /
#   129.2857 = 0.7735 of the gap; the rest 0.2265. CLAMP-1 ran out 5 days ago: not linked.


def sales_orders() -> list[dict[str, Any]]:
    made: list[dict[str, Any]] = []
    number = 4000
    for k in range(1, 14):
        number += 1
        at = ago(NOW, hours=30) if k == 1 else ago(NOW, hours=24 * k + 6)
        made.append(order(number, at, "100.00", lines=[line(number, 81, "PUMP-1", 1, "100.00")]))
        number += 1
        made.append(
            order(
                number,
                ago(NOW, hours=24 * k + 3),
                "50.00",
                lines=[line(number, 82, "HOSE-1", 1, "50.00")],
            )
        )
        if 5 <= k <= 7:
            number += 1
            made.append(
                order(
                    number,
                    ago(NOW, hours=24 * k + 6),
                    "10.00",
                    lines=[line(number, 83, "CLAMP-1", 1, "10.00")],
                )
            )
    made.append(
        order(4999, ago(NOW, hours=3), "25.00", lines=[line(4999, 82, "HOSE-1", 1, "25.00")])
    )
    return made


def sales_variants() -> list[dict[str, Any]]:
    return [
        product_variant(81, "PUMP-1", 0, "fuel-pump", "Fuel Pump"),
        product_variant(82, "HOSE-1", 50, "hose", "Hose"),
        product_variant(83, "CLAMP-1", 0, "clamp", "Clamp"),
    ]


def sales_folder(folder: Path, **override: Any) -> Path:
    parts: dict[str, Any] = {"orders": sales_orders(), "variants": sales_variants(), **override}
    return write_folder(folder, **parts)


def pump_page_report() -> dict[str, Any]:
    """/products/fuel-pump: 10 a day the week before, 10 a day until 11-24, then 2 a day."""
    rows = []
    for day in _days(14, 1):
        sessions = 2 if day >= date(2026, 11, 24) else 10
        rows.append(("/products/fuel-pump", day.strftime("%Y%m%d"), sessions))
    return ga4_report(rows)


__all__ = ["NOW", "iso", "support_folder", "traffic_folder", "sales_folder", "pump_page_report"]
