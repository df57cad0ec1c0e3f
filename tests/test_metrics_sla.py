"""SLA breach rate (KPIS.md §2): population, awaiting reply, SLA minutes, names, replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from occ.contracts.kpis import SlaConfig
from occ.contracts.records import ConversationRecord, MessageRecord
from occ.metrics import compute_sla_breaches

NOW = datetime(2025, 10, 15, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
CONFIG = SlaConfig()
INCOMING, OUTGOING, ACTIVITY, TEMPLATE = 0, 1, 2, 3


def msg(
    message_id: int,
    message_type: int,
    ago: timedelta,
    *,
    private: bool = False,
    sender_name: str | None = None,
) -> MessageRecord:
    return MessageRecord(
        message_id=message_id,
        conversation_id=0,
        message_type=message_type,
        created_at=NOW - ago,
        private=private,
        sender_name=sender_name,
    )


def conv(
    conversation_id: int,
    *messages: MessageRecord,
    status: str = "open",
    labels: tuple[str, ...] = (),
    name: str | None = "Ada",
) -> ConversationRecord:
    return ConversationRecord(
        conversation_id=conversation_id,
        status=status,
        labels=labels,
        customer_name=name,
        created_at=NOW - timedelta(days=1),
        messages=messages,
    )


def breached_minutes(*conversations: ConversationRecord) -> dict[int, int]:
    result = compute_sla_breaches(conversations, NOW, CONFIG)
    return {b.conversation_id: b.minutes_waiting for b in result.breached}


def test_breach_rate_over_open_and_pending_conversations() -> None:
    conversations = [
        conv(1, msg(1, INCOMING, 61 * MIN)),  # breached, 61 min
        conv(2, msg(2, INCOMING, 90 * MIN), msg(3, OUTGOING, 80 * MIN)),  # answered
        conv(3, msg(4, INCOMING, 90 * MIN), msg(5, TEMPLATE, 85 * MIN), status="pending"),
        conv(4, msg(6, INCOMING, 90 * MIN), msg(7, ACTIVITY, 80 * MIN)),  # breached, 90
        conv(5, msg(8, INCOMING, 300 * MIN), status="snoozed"),  # not in population
        conv(6, msg(9, INCOMING, 300 * MIN), status="resolved"),  # not in population
        conv(7, msg(10, INCOMING, 59 * MIN)),  # awaiting, within 60
        conv(8),  # no messages: in population, not awaiting
        conv(9, msg(11, INCOMING, 120 * MIN), msg(12, OUTGOING, 100 * MIN), msg(13, 0, 70 * MIN)),
    ]
    result = compute_sla_breaches(conversations, NOW, CONFIG)

    # population: 1, 2, 3, 4, 7, 8, 9 = 7; awaiting: 1, 4, 7, 9 = 4; breached: 1, 4, 9 = 3
    assert result.population == 7
    assert result.awaiting_reply == 4
    # 3 / 7 * 100 = 42.857… > 40 → critical
    assert result.value == 300 / 7
    assert result.severity == "critical"
    # longest wait first: 9 (customer wrote again 70 min ago after the reply), then 4, then 1
    assert [(b.conversation_id, b.minutes_waiting) for b in result.breached] == [
        (4, 90),
        (9, 70),
        (1, 61),
    ]
    assert result.breached[1].last_customer_message_at == NOW - 70 * MIN


def test_population_zero_is_rate_zero() -> None:
    result = compute_sla_breaches([conv(1, msg(1, 0, 500 * MIN), status="resolved")], NOW, CONFIG)
    assert (result.value, result.severity, result.population, result.breached) == (
        0.0,
        "none",
        0,
        [],
    )


def test_rate_threshold_is_strictly_above() -> None:
    # 1 breached of 5 = 20.0 exactly: not > 20 → none
    conversations = [conv(1, msg(1, INCOMING, 120 * MIN)), *(conv(i) for i in range(2, 6))]
    result = compute_sla_breaches(conversations, NOW, CONFIG)
    assert (result.value, result.severity) == (20.0, "none")


def test_private_notes_and_activity_never_stop_or_start_the_clock() -> None:
    note_reply = conv(
        1,
        msg(1, INCOMING, 90 * MIN),
        msg(2, OUTGOING, 80 * MIN, private=True),  # a private note is not a reply
        msg(3, INCOMING, 5 * MIN, private=True),  # nor does a private incoming restart it
        msg(4, ACTIVITY, 4 * MIN),  # "conversation assigned"
    )
    result = compute_sla_breaches([note_reply], NOW, CONFIG)
    assert [(b.minutes_waiting, b.last_customer_message_at) for b in result.breached] == [
        (90, NOW - 90 * MIN)
    ]


def test_activity_alone_is_not_awaiting() -> None:
    result = compute_sla_breaches([conv(1, msg(1, ACTIVITY, 90 * MIN))], NOW, CONFIG)
    assert (result.population, result.awaiting_reply) == (1, 0)


def test_priority_label_uses_30_minutes() -> None:
    priority = ("priority", "vip")
    assert breached_minutes(
        conv(1, msg(1, INCOMING, 31 * MIN), labels=priority),  # 31 > 30: breached
        conv(2, msg(2, INCOMING, 31 * MIN)),  # default SLA 60: fine
        conv(3, msg(3, INCOMING, 30 * MIN), labels=priority),  # exactly 30: not > 30
        conv(4, msg(4, INCOMING, 60 * MIN)),  # exactly 60: not > 60
        conv(5, msg(5, INCOMING, 60 * MIN + timedelta(seconds=1))),  # 60 min 1 s
    ) == {1: 31, 5: 60}
    result = compute_sla_breaches(
        [conv(1, msg(1, INCOMING, 31 * MIN), labels=priority)], NOW, CONFIG
    )
    assert (result.breached[0].sla_minutes, result.breached[0].labels) == (30, list(priority))


def test_minutes_waiting_is_floored() -> None:
    # 61 min 59 s → 61
    assert breached_minutes(conv(1, msg(1, 0, 61 * MIN + timedelta(seconds=59)))) == {1: 61}


def test_messages_after_now_are_ignored() -> None:
    assert breached_minutes(
        # the agent's reply lands 30 s after now: at `now` the customer is still waiting
        conv(1, msg(1, INCOMING, 100 * MIN), msg(2, OUTGOING, -timedelta(seconds=30))),
        # a customer message after now does not reset the wait to "just now"
        conv(2, msg(3, INCOMING, 100 * MIN), msg(4, INCOMING, -5 * MIN)),
    ) == {1: 100, 2: 100}


def test_reply_in_the_same_second_counts_as_a_reply() -> None:
    same_second = conv(1, msg(1, INCOMING, 90 * MIN), msg(2, OUTGOING, 90 * MIN))
    result = compute_sla_breaches([same_second], NOW, CONFIG)
    assert (result.awaiting_reply, result.breached) == (0, [])


def test_customer_name_fallbacks() -> None:
    conversations = [
        conv(1, msg(1, INCOMING, 90 * MIN, sender_name="Bob"), name="Ada"),
        conv(
            2,
            msg(2, INCOMING, 100 * MIN, private=True, sender_name="Internal"),
            msg(3, INCOMING, 80 * MIN, sender_name="Carl"),
            msg(4, INCOMING, 90 * MIN, sender_name="Bob"),  # first incoming, listed later
            name=None,
        ),
        conv(3, msg(5, INCOMING, 70 * MIN), name=None),
    ]
    result = compute_sla_breaches(conversations, NOW, CONFIG)
    assert {b.conversation_id: b.customer_name for b in result.breached} == {
        1: "Ada",
        2: "Bob",
        3: "Customer",
    }
