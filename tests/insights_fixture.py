"""A fixture store for the weekly packet, whose numbers are known by hand.

The shop is in UTC. NOW is Tuesday 2026-11-24 12:00; the packet's week is Monday 16 to
Sunday 22 November, the week before 9 to 15 November.

- Orders: one countable order of 100.00 USD (2 units of SKU A) at 12:00 every day from 1
  September to 23 November, except Thursday 19 November: 30.00 USD. On 18 November a
  cancelled order (500.00) and a test order (700.00) must not count; 21 November's order is
  instead placed at 01:00 and never fulfilled: an issue from 22 November 01:00 on.
- Variants: A with 10 in stock (about 5 days of cover), B with 1,000 and no sales.
- Chatwoot: conversation 1 (created 17 Nov 09:00, customer message 10:00, no reply: breached
  from then on), conversation 2 (created 10 Nov, answered).
- GA4: /products/a 100 sessions a day up to 15 November, 50 a day from 16 November;
  /blogs/noise 5 a day (under the noise floor).
- Anomaly facts (by their as-of instant) and decisions: A (sales, critical, 19 Nov 18:00)
  answered at 20:00 (120 minutes); B (inventory, warning, 20 Nov 08:00) never answered;
  C (SLA, critical, 22 Nov 20:00) still inside its 24 h at the week's end; D (24 Nov) after
  the week.
- Pipeline: a live run as of 20 Nov (shopify.orders: 5 read, 5 stored; chatwoot.messages: 3
  read, 2 stored), one quarantined Chatwoot record, three Shopify requests (200, 429, 500) and
  one drift finding (displayFulfillmentStatus "ON_HOLD_NEW") in the week.
- Sync events: 10 successes of 100, 200, …, 1,000 ms and 2 timeouts of 1,500 and 2,000 ms
  in the week, one more event after it. A parity fact on 21 November.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from builders import conversation, ga4_report, line, message, order, variant, write_folder
from occ.config import Settings
from occ.contracts.evidence import Evidence
from occ.decisions.events import AttemptRecord, record_attempts
from occ.decisions.log import insert_decision, new_decision
from occ.refresh import run_refresh
from occ.sources.recorded import recorded_payloads
from occ.store.evidence import record_evidence
from occ.store.facts import write_fact
from occ.store.runs import (
    DriftObservation,
    Quarantined,
    finish_run,
    record_drift,
    record_quarantine,
    start_run,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
WEEK_ENDING = date(2026, 11, 22)
SHOP = "week-shop.myshopify.com"
FIRST_DAY = date(2026, 9, 1)
LAST_DAY = date(2026, 11, 23)
THURSDAY = date(2026, 11, 19)
LATE_DAY = date(2026, 11, 21)
SYNC_DURATIONS = [100.0 * k for k in range(1, 11)]
SYNC_FAILURES = [1500.0, 2000.0]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def fixture_folder(folder: Path, *, with_ga4: bool = True) -> Path:
    orders: list[Any] = []
    number = 1000
    for day in _days(FIRST_DAY, LAST_DAY):
        number += 1
        if day == LATE_DAY:
            continue  # that day's only order is the late one below
        total = "30.00" if day == THURSDAY else "100.00"
        orders.append(order(number, _at(day, 12), total, lines=[line(number, 1, "A", 2, total)]))
    orders.append(order(1, _at(date(2026, 11, 18), 9), "500.00", cancelled=_at(THURSDAY, 9)))
    orders.append(order(2, _at(date(2026, 11, 18), 10), "700.00", test=True))
    orders.append(
        order(
            3,
            _at(date(2026, 11, 21), 1),
            "100.00",
            status="UNFULFILLED",
            lines=[line(3, 1, "A", 2, "100.00")],
        )
    )
    conversations = [
        conversation(1, "open", _at(date(2026, 11, 17), 9)),
        conversation(2, "open", _at(date(2026, 11, 10), 9)),
    ]
    messages = [
        message(11, 1, 0, _at(date(2026, 11, 17), 10)),
        message(21, 2, 0, _at(date(2026, 11, 10), 10)),
        message(22, 2, 1, _at(date(2026, 11, 10), 10, 20)),
    ]
    rows = []
    for day in _days(date(2026, 10, 1), LAST_DAY):
        stamp = day.strftime("%Y%m%d")
        rows.append(("/products/a", stamp, 100 if day < date(2026, 11, 16) else 50))
        rows.append(("/blogs/noise", stamp, 5))
    return write_folder(
        folder,
        shop={"shopDomain": SHOP, "currencyCode": "USD", "ianaTimezone": "UTC"},
        orders=orders,
        variants=[variant(1, "A", 10), variant(2, "B", 1000)],
        conversations=conversations,
        messages=messages,
        ga4=ga4_report(rows) if with_ga4 else None,
    )


def _anomaly(connection: Any, as_of: datetime, kpi: str, severity: str, key: Any = None) -> int:
    return write_fact(
        connection,
        shop=SHOP,
        fact_type=f"anomaly.{kpi}",
        scope="ops",
        value={
            "kpi": kpi,
            "key": key,
            "kind": "threshold",
            "severity": severity,
            "value": 1.0,
            "message": f"{kpi} {severity} at {as_of.isoformat()}",
        },
        metadata={"now": as_of.isoformat()},
        now=as_of,
    )


def build_store(engine: Engine, folder: Path, *, with_ga4: bool = True) -> dict[str, Any]:
    """Refresh ``engine`` from the fixture folder and add the week's facts and events."""
    run_refresh(
        engine, Settings(), recorded_payloads(fixture_folder(folder, with_ga4=with_ga4)), NOW
    )
    ids: dict[str, Any] = {}
    with engine.begin() as connection:
        ids["A"] = _anomaly(connection, _at(THURSDAY, 18), "sales_delta", "critical")
        ids["B"] = _anomaly(
            connection, _at(date(2026, 11, 20), 8), "inventory_cover", "warning", "1"
        )
        ids["C"] = _anomaly(connection, _at(date(2026, 11, 22), 20), "sla_breach_rate", "critical")
        ids["D"] = _anomaly(connection, _at(date(2026, 11, 24), 9), "sales_delta", "warning")
        decision = new_decision(
            scope="sales",
            actor="ops@example.com",
            action="review sales drop",
            now=_at(THURSDAY, 20),
            shop_domain=SHOP,
            payload={"factId": ids["A"]},
        )
        insert_decision(connection, decision)
        ids["decision"] = decision.id
        write_fact(
            connection,
            shop=SHOP,
            fact_type="sync.parity",
            scope="ops",
            value={
                "ok": True,
                "tables": {"decisions": {"primary": 1, "mirror": 1, "delta": 0, "diffPct": 0.0}},
            },
            metadata={},
            now=_at(date(2026, 11, 21), 6),
        )
        run_at = _at(date(2026, 11, 20), 5)
        run_id = start_run(connection, SHOP, "live", run_at, run_at)
        streams = {
            "shopify.orders": {"read": 5, "stored": 5},
            "chatwoot.messages": {"read": 3, "stored": 2},
        }
        finish_run(connection, run_id, "quarantined", {"streams": streams}, run_at)
        record_quarantine(
            connection,
            SHOP,
            run_id,
            [Quarantined("chatwoot", "chatwoot.messages", "page 1 #3", "created_at: str", "{}")],
            run_at,
        )
        for status in (200, 429, 500):
            record_evidence(
                connection,
                SHOP,
                run_id,
                Evidence(
                    "shopify",
                    "/admin/api/2025-10/graphql.json",
                    "POST",
                    status,
                    run_at,
                    12.5,
                    b"{}",
                ),
            )
        drift = DriftObservation(
            "shopify", "shopify.orders", "displayFulfillmentStatus", "enum", "ON_HOLD_NEW", ""
        )
        record_drift(connection, SHOP, [drift], [4], run_at)
    moment = _at(date(2026, 11, 18), 3)
    for k, duration in enumerate(SYNC_DURATIONS):
        record = AttemptRecord(k + 1, "decision", f"d{k}", "sales", 1, "SUCCESS")
        record_attempts(engine, [record], duration_ms=duration, at=moment + timedelta(minutes=k))
    for k, duration in enumerate(SYNC_FAILURES):
        record = AttemptRecord(50 + k, "decision", f"f{k}", "sales", 2, "TIMEOUT", "TIMEOUT", "t/o")
        record_attempts(engine, [record], duration_ms=duration, at=_at(date(2026, 11, 20), 4 + k))
    late = AttemptRecord(99, "decision", "late", "sales", 1, "SUCCESS")
    record_attempts(engine, [late], duration_ms=5.0, at=_at(date(2026, 11, 24), 1))
    return ids
