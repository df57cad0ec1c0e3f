"""Outcome checks over three refreshes of the hand-computed scenario store (tests/scenario.py).

- T0 (Thursday 26 Nov 15:00 UTC): the scenario as it is — SLA breach rate 50 % (critical),
  fulfillment issue rate 3/7 = 42.9 % (critical), /a down 50 % week over week (critical),
  SKU-A 4.7 days of cover (warning), sales +75 % (critical).
- DECIDED (T0 + 1 h): reply to a breached conversation, expedite a stuck order, review /a and
  reorder SKU-A are approved; the sales review is rejected. Checks fall due 3 days later for
  the reply and the order (29 Nov 16:00), 7 days later for the page and the reorder
  (3 Dec 16:00; the reorder lead time defaults to 7 days).
- T1 (Monday 30 Nov 15:00): every conversation was answered (breach rate 0 %: the reply
  worked); the orders are the scenario's again (3 of 7 stuck: expediting did not work).
- T2 (Friday 4 Dec 15:00): /a is back to 10 sessions a day in both weeks (0 % week over week:
  the review worked); Shopify sent nothing newer than at T1, 4 days before — its KPIs are
  stale, so the reorder's outcome is "not enough data".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from builders import ago, ga4_report, message, write_folder
from occ.decisions.actions import SuggestedAction, decide, suggested_actions
from occ.store.facts import FactRow, facts_by_id
from scenario import (
    scenario_conversations,
    scenario_folder,
    scenario_ga4,
    scenario_orders,
    scenario_variants,
)

T0 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
DECIDED = T0 + timedelta(hours=1)
T1 = T0 + timedelta(days=4)
T2 = T0 + timedelta(days=8)
SHOP = "test-shop.myshopify.com"
OPERATOR = "ops@example.com"
APPROVED = ("reply", "expedite", "review_page", "reorder")
REJECTED = ("review_sales",)

WORKED_REPLY = "SLA breach rate 0.0 % on 2026-11-30, back under the 20 % warning threshold."
FAILED_EXPEDITE = (
    "Fulfillment issue rate 42.9 % on 2026-11-30, still above the 25 % critical threshold."
)
WORKED_PAGE = (
    "Sessions landing on /a +0.0 % week over week (70 vs 70) on 2026-12-04, back above the "
    "-20 % warning drop."
)
STALE_REORDER = (
    "The inventory days of cover of 2026-12-04 was stale data: the newest Shopify record "
    "(shopify.orders) is 4.0 days old, more than the 48 h expected"
)


def answered_conversations(now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The scenario's conversations, each answered 80 minutes before ``now``."""
    conversations, _ = scenario_conversations(now)
    messages = []
    for item in conversations:
        number = int(item["id"])
        messages.append(message(1000 + 10 * number, number, 0, ago(now, minutes=90)))
        messages.append(message(1001 + 10 * number, number, 1, ago(now, minutes=80)))
    return conversations, messages


def recovered_ga4(today: date) -> dict[str, Any]:
    """/a at 10 sessions a day over both weeks before ``today``; /c steady."""
    rows = []
    for offset in range(1, 15):
        day = (today - timedelta(days=offset)).strftime("%Y%m%d")
        rows += [("/a", day, 10), ("/c", day, 20)]
    return ga4_report(rows)


def folder_at_t0(folder: Path) -> Path:
    return scenario_folder(folder, T0)


def folder_at_t1(folder: Path) -> Path:
    conversations, messages = answered_conversations(T1)
    return write_folder(
        folder,
        orders=scenario_orders(T1),
        variants=scenario_variants(),
        conversations=conversations,
        messages=messages,
        ga4=scenario_ga4(T1.date()),
    )


def folder_at_t2(folder: Path) -> Path:
    conversations, messages = answered_conversations(T1)  # nothing new from Chatwoot either
    return write_folder(
        folder,
        orders=scenario_orders(T1),  # Shopify sent nothing newer than at T1
        variants=scenario_variants(),
        conversations=conversations,
        messages=messages,
        ga4=recovered_ga4(T2.date()),
    )


def open_actions(engine: Engine, anomaly_ids: list[int]) -> list[SuggestedAction]:
    """The approvals queue of a refresh's anomalies, as the dashboard builds it."""
    with engine.connect() as connection:
        anomalies: list[FactRow] = list(facts_by_id(connection, anomaly_ids).values())
        kpi_ids = [int(a.metadata.get("kpiFactId") or 0) for a in anomalies]
        kpi_facts = facts_by_id(connection, kpi_ids)
    return suggested_actions(sorted(anomalies, key=lambda a: a.id), kpi_facts)


def decide_scenario(engine: Engine, anomaly_ids: list[int]) -> dict[str, str]:
    """Approve the first action of each kind in ``APPROVED``, reject the sales review; the
    decision ids by kind."""
    actions = open_actions(engine, anomaly_ids)
    decided: dict[str, str] = {}
    for kind in APPROVED + REJECTED:
        action = next(a for a in actions if a.kind == kind)
        verdict = "approve" if kind in APPROVED else "reject"
        made = decide(engine, action, verdict, actor=OPERATOR, now=DECIDED, shop=SHOP)
        decided[kind] = made.id
    return decided
