"""The conversation export's rules, on records: what counts as a first response, when a
conversation was resolved, rounding and percentiles (the full scenario is in test_exports)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from occ.contracts.kpis import SlaConfig
from occ.contracts.records import ConversationRecord, MessageRecord
from occ.metrics.conversations import (
    conversation_rows,
    linkable_order_numbers,
    minutes,
    nearest_rank,
    sla_by_group,
)

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
START = NOW - timedelta(hours=5)


def _message(
    number: int, kind: int, offset_seconds: int, content: str = "", private: bool = False
) -> MessageRecord:
    return MessageRecord(
        number, 1, kind, START + timedelta(seconds=offset_seconds), private, content=content
    )


def _row(*messages: MessageRecord, status: str = "open", last_activity: int | None = None) -> dict:
    conversation = ConversationRecord(
        1,
        status,
        (),
        "Ann",
        START,
        messages,
        last_activity_at=None
        if last_activity is None
        else START + timedelta(seconds=last_activity),
    )
    (row,) = conversation_rows([conversation], NOW, SlaConfig(), {}, {})
    return {
        "reply": row.first_response_at,
        "frt": row.first_response_minutes,
        "status": row.sla_status,
        "resolved": row.resolved_at,
        "source": row.resolved_at_source,
        "clock": row.sla_clock_minutes,
    }


def test_a_reply_in_the_same_second_counts() -> None:
    row = _row(_message(1, 0, 0), _message(2, 1, 0))
    assert row["frt"] == Decimal("0.00") and row["status"] == "met"


def test_private_notes_activity_and_earlier_templates_are_no_first_response() -> None:
    row = _row(
        _message(1, 3, -60, "greeting"),
        _message(2, 0, 0),
        _message(3, 1, 60, "note", private=True),
        _message(4, 2, 120, "Assigned to Dana"),
        _message(5, 0, 180, "hello?"),
        _message(6, 3, 3601, "template reply"),
    )
    assert row["reply"] == START + timedelta(seconds=3601)
    assert row["frt"] == Decimal("60.02") and row["status"] == "breached"


def test_a_private_incoming_message_does_not_start_the_clock() -> None:
    row = _row(_message(1, 0, 0, private=True), _message(2, 0, 600), _message(3, 1, 900))
    assert row["frt"] == Decimal("5.00")


def test_the_latest_announced_resolution_counts_after_a_reopening() -> None:
    auto = "Conversation was marked resolved by system due to 3 days of inactivity"
    row = _row(
        _message(1, 0, 0),
        _message(2, 1, 60),
        _message(3, 2, 600, "Conversation was marked resolved by Dana"),
        _message(4, 2, 900, "Conversation was reopened by Dana"),
        _message(5, 2, 1200, auto),
        status="resolved",
        last_activity=1500,
    )
    assert row["resolved"] == START + timedelta(seconds=1200) and row["source"] == "activity"


def test_an_open_conversation_has_no_resolution_even_after_an_earlier_one() -> None:
    row = _row(
        _message(1, 0, 0),
        _message(2, 2, 600, "Conversation was marked resolved by Dana"),
        _message(3, 0, 900, "one more thing"),
        last_activity=900,
    )
    assert row["resolved"] is None and row["source"] is None


def test_resolved_without_a_reply_after_the_sla_ran_out_is_breached() -> None:
    row = _row(
        _message(1, 0, 0),
        _message(2, 2, 3700, "Conversation was resolved by Ann"),
        status="resolved",
    )
    assert row["status"] == "breached" and row["clock"] == Decimal("61.67")


def test_a_resolution_after_now_is_not_seen_yet() -> None:
    row = _row(_message(1, 0, 0), status="resolved", last_activity=6 * 3600)
    assert row["resolved"] is None and row["status"] == "breached"  # 5 h waiting at now


def test_minutes_are_rounded_half_up_to_the_hundredth() -> None:
    assert minutes(timedelta(seconds=20)) == Decimal("0.33")
    assert minutes(timedelta(seconds=50)) == Decimal("0.83")
    assert minutes(timedelta(seconds=3)) == Decimal("0.05")  # 0.05 exactly
    assert minutes(timedelta(hours=65, minutes=55)) == Decimal("3955.00")


def test_nearest_rank_percentiles() -> None:
    values = [Decimal(v) for v in (15, 20, 40, 1010, 3955)]
    assert nearest_rank(values, 50) == Decimal(40)
    assert nearest_rank(values, 90) == Decimal(3955)
    assert nearest_rank(values[:1], 90) == Decimal(15)
    assert nearest_rank([], 50) is None


def test_a_group_with_only_pending_conversations_has_no_percentage() -> None:
    conversation = ConversationRecord(
        1, "open", (), None, START, (_message(1, 0, 5 * 3600 - 60),), assignee_id=3
    )
    rows = conversation_rows([conversation], NOW, SlaConfig(), {}, {})
    (group,) = sla_by_group(rows, "agent")
    assert (group.id, group.pending, group.sla_met_pct, group.first_response_p50_minutes) == (
        3,
        1,
        None,
        None,
    )


def test_orders_are_looked_up_for_what_notes_and_replies_mention_not_activity() -> None:
    conversation = ConversationRecord(
        1,
        "resolved",
        (),
        "Ann",
        START,
        (
            _message(1, 0, 0, "where is order #1001?"),
            _message(2, 1, 60, "note: see #01002", private=True),
            _message(3, 2, 120, "Conversation was resolved by #1003"),
        ),
    )
    numbers = linkable_order_numbers([conversation])
    assert numbers == {"1001", "1002"}
    index = {"1001": "#1001", "1002": "#1002", "1003": "#1003"}
    (row,) = conversation_rows([conversation], NOW, SlaConfig(), {}, index)
    assert row.linked_orders == ("#1001", "#1002")
