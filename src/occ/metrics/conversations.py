"""Conversation exports: one row per conversation, and % SLA met per agent and per team.

Per conversation, as of ``now`` (messages created after ``now`` are ignored, so an export
replayed for a past instant sees what that instant saw):

- **first response**: from the first incoming customer message (type 0) to the first outgoing
  (1) or template (3) message at or after it — KPIS.md's message-type rules; activity
  messages (2) and private notes (any type) never count. A reply stamped in the same second
  counts (Chatwoot stamps whole seconds), as in the SLA KPI.
- **SLA**: 60 minutes, 30 with the label ``priority`` (``kpis.sla``), counted by the inbox's
  business-hours clock when ``sla_business_hours`` names the inbox, else 24/7. *met*: the
  first response came within the SLA (at most the SLA: the KPI breaches only past it);
  *breached*: it came later, or none came and the SLA ran out before ``now`` or before the
  conversation was resolved; *pending*: no response yet and the SLA has not run out (left out
  of % SLA met); *none*: the conversation has no customer message. A conversation resolved
  within its SLA without a reply is *met*, as Chatwoot's own SLA policies count it.
- **resolution**: created → resolved, for conversations whose status is ``resolved``. The
  instant is the latest activity message announcing the resolution ("Conversation was marked
  resolved by …", "Conversation was resolved by …", Chatwoot's English texts, auto-resolution
  included); when there is none (another locale, messages not read), the conversation's
  ``last_activity_at``, which Chatwoot moves to each new message's instant — that of the
  resolution's activity message included. ``resolved_at_source`` says which.
- **linked orders**: the shop's orders named in the conversation's messages (private notes
  included, activity messages not), resolved by :func:`occ.metrics.mentions.order_mentions`.

The SLA breach-rate KPI (KPIS.md §2, latest customer message, 24/7) is unchanged: this is
a per-conversation account of the first response, for exports.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from occ.contracts.exports import BusinessHours, ConversationExportRow, SlaGroupRow, SlaStatus
from occ.contracts.kpis import SlaConfig
from occ.contracts.records import (
    ACTIVITY_MESSAGE,
    INCOMING_MESSAGE,
    REPLY_MESSAGE_TYPES,
    ConversationRecord,
    MessageRecord,
)
from occ.metrics.business_hours import business_deadline, business_time
from occ.metrics.mentions import mentioned_numbers, order_mentions

__all__ = [
    "conversation_rows",
    "linkable_order_numbers",
    "minutes",
    "nearest_rank",
    "sla_by_group",
]

_RESOLVED_ACTIVITY = re.compile(r"^\s*conversation was (?:marked )?resolved\b", re.IGNORECASE)
_HUNDREDTH = Decimal("0.01")
_MICROSECONDS_PER_MINUTE = 60_000_000
_PERCENTILES = (50, 90)


def minutes(duration: timedelta) -> Decimal:
    """``duration`` in minutes, rounded half up to the hundredth (from exact microseconds)."""
    micro = duration // timedelta(microseconds=1)
    return (Decimal(micro) / _MICROSECONDS_PER_MINUTE).quantize(_HUNDREDTH, ROUND_HALF_UP)


def nearest_rank(values: list[Decimal], percentile: int) -> Decimal | None:
    """The nearest-rank ``percentile`` of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percentile * len(ordered) / 100))
    return ordered[rank - 1]


def _links_orders(message: MessageRecord) -> bool:
    """Whether ``message`` may name an order: private notes do, activity messages do not."""
    return message.message_type != ACTIVITY_MESSAGE


def linkable_order_numbers(conversations: Iterable[ConversationRecord]) -> set[str]:
    """The order numbers the messages of ``conversations`` may link (not yet resolved): the
    numbers of the shop's orders to look up before :func:`conversation_rows`."""
    return {
        number
        for conversation in conversations
        for message in conversation.messages
        if _links_orders(message)
        for number in mentioned_numbers(message.content)
    }


def _visible(messages: Iterable[MessageRecord], now: datetime) -> list[MessageRecord]:
    return sorted(
        (m for m in messages if m.created_at <= now),
        key=lambda message: (message.created_at, message.message_id),
    )


def _first_response(
    messages: list[MessageRecord],
) -> tuple[datetime | None, datetime | None]:
    first_incoming: datetime | None = None
    for message in messages:
        if message.private:
            continue
        if first_incoming is None:
            if message.message_type == INCOMING_MESSAGE:
                first_incoming = message.created_at
        elif message.message_type in REPLY_MESSAGE_TYPES:
            return first_incoming, message.created_at
    return first_incoming, None


def _resolution(
    conversation: ConversationRecord, messages: list[MessageRecord], now: datetime
) -> tuple[datetime | None, Literal["activity", "last_activity_at"] | None]:
    if conversation.status != "resolved":
        return None, None
    announced = [
        m.created_at
        for m in messages
        if m.message_type == ACTIVITY_MESSAGE and m.content and _RESOLVED_ACTIVITY.match(m.content)
    ]
    if announced:
        return max(announced), "activity"
    last = conversation.last_activity_at
    if last is not None and last <= now:
        return last, "last_activity_at"
    return None, None


def _sla_status(
    clock_to_reply: timedelta | None,
    clock_so_far: timedelta,
    budget: timedelta,
    resolved: bool,
) -> SlaStatus:
    if clock_to_reply is not None:
        return "met" if clock_to_reply <= budget else "breached"
    if clock_so_far > budget:
        return "breached"
    return "met" if resolved else "pending"


def conversation_rows(
    conversations: Iterable[ConversationRecord],
    now: datetime,
    sla: SlaConfig,
    business_hours: Mapping[int, BusinessHours],
    order_index: Mapping[str, str],
) -> list[ConversationExportRow]:
    """One export row per conversation, oldest first (then by id).

    Args:
        conversations: Conversations with their messages.
        now: The export instant (aware UTC): pending SLAs and later messages are judged at it.
        sla: SLA minutes, priority SLA minutes and the priority label (``kpis.sla``).
        business_hours: Inbox id → its business hours; an inbox not named runs 24/7.
        order_index: ``occ.metrics.mentions.order_index`` of the shop's order names.
    """
    rows = []
    for conversation in conversations:
        messages = _visible(conversation.messages, now)
        first_incoming, first_reply = _first_response(messages)
        resolved_at, resolved_source = _resolution(conversation, messages, now)
        hours = (
            business_hours.get(conversation.inbox_id) if conversation.inbox_id is not None else None
        )
        sla_minutes = sla.minutes_for(conversation.labels)
        budget = timedelta(minutes=sla_minutes)
        status: SlaStatus = "none"
        clock: timedelta | None = None
        due_at = None
        if first_incoming is not None:
            due_at = business_deadline(hours, first_incoming, budget)
            to_reply = business_time(hours, first_incoming, first_reply) if first_reply else None
            stop = resolved_at if resolved_at is not None else now
            clock = to_reply if to_reply is not None else business_time(hours, first_incoming, stop)
            status = _sla_status(to_reply, clock, budget, resolved_at is not None)
        linked: dict[str, None] = {}
        for message in messages:
            if _links_orders(message):
                linked.update(dict.fromkeys(order_mentions(message.content, order_index)))
        rows.append(
            ConversationExportRow(
                conversation_id=conversation.conversation_id,
                status=conversation.status,
                customer_name=conversation.customer_name,
                inbox_id=conversation.inbox_id,
                assignee_id=conversation.assignee_id,
                assignee_name=conversation.assignee_name,
                team_id=conversation.team_id,
                team_name=conversation.team_name,
                labels=tuple(conversation.labels),
                created_at=conversation.created_at,
                first_customer_message_at=first_incoming,
                first_response_at=first_reply,
                first_response_minutes=(
                    minutes(first_reply - first_incoming)
                    if first_reply is not None and first_incoming is not None
                    else None
                ),
                sla_minutes=sla_minutes,
                sla_clock="24/7" if hours is None else "business_hours",
                sla_clock_minutes=None if clock is None else minutes(clock),
                sla_due_at=due_at,
                sla_status=status,
                resolved_at=resolved_at,
                resolution_minutes=(
                    None if resolved_at is None else minutes(resolved_at - conversation.created_at)
                ),
                resolved_at_source=resolved_source,
                linked_orders=tuple(linked),
            )
        )
    rows.sort(key=lambda row: (row.created_at, row.conversation_id))
    return rows


def sla_by_group(
    rows: Iterable[ConversationExportRow], by: Literal["agent", "team"]
) -> list[SlaGroupRow]:
    """% SLA met per agent (the assignee) or per team: ``met / (met + breached) * 100``.

    Pending conversations and those without a customer message are counted but left out of
    the percentage (None when no conversation of the group is met or breached). Groups are
    sorted by name, then id; the unassigned group comes last.
    """
    groups: dict[int | None, list[ConversationExportRow]] = defaultdict(list)
    names: dict[int | None, str | None] = {}
    for row in rows:
        key = row.assignee_id if by == "agent" else row.team_id
        name = row.assignee_name if by == "agent" else row.team_name
        groups[key].append(row)
        if name or key not in names:
            names[key] = name
    result = []
    for key, members in groups.items():
        counts: dict[SlaStatus, int] = {"met": 0, "breached": 0, "pending": 0, "none": 0}
        for member in members:
            counts[member.sla_status] += 1
        judged = counts["met"] + counts["breached"]
        responses = [
            m.first_response_minutes for m in members if m.first_response_minutes is not None
        ]
        p50, p90 = (nearest_rank(responses, p) for p in _PERCENTILES)
        result.append(
            SlaGroupRow(
                group=by,
                id=key,
                name=names.get(key),
                conversations=len(members),
                met=counts["met"],
                breached=counts["breached"],
                pending=counts["pending"],
                no_customer_message=counts["none"],
                sla_met_pct=(
                    (Decimal(counts["met"] * 100) / judged).quantize(_HUNDREDTH, ROUND_HALF_UP)
                    if judged
                    else None
                ),
                first_response_p50_minutes=p50,
                first_response_p90_minutes=p90,
            )
        )
    result.sort(key=lambda group: (group.id is None, (group.name or "").casefold(), group.id or 0))
    return result
