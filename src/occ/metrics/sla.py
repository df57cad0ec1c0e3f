"""SLA breach rate — fact ``chatwoot.sla.breaches`` (KPIS.md §2)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from occ.contracts.kpis import BreachedConversation, SlaConfig, SlaResult
from occ.contracts.records import INCOMING_MESSAGE, REPLY_MESSAGE_TYPES, ConversationRecord
from occ.metrics._common import rate_pct

__all__ = ["compute_sla_breaches"]

_POPULATION_STATUSES = frozenset({"open", "pending"})
_MINUTE = timedelta(minutes=1)
_FALLBACK_NAME = "Customer"


def compute_sla_breaches(
    conversations: Iterable[ConversationRecord], now: datetime, config: SlaConfig
) -> SlaResult:
    """Share of open/pending conversations whose customer waits longer than the SLA.

    A conversation awaits a reply when its latest incoming message has no outgoing (1) or
    template (3) message after it. Activity messages (2) and private notes (any type) are
    skipped; messages created after ``now`` are ignored so a replay sees what ``now`` saw.
    Tie rule: Chatwoot stamps whole seconds, so a reply stamped in the same second as the
    latest incoming message counts as a reply (the customer is not awaiting).

    Args:
        conversations: Conversations with their messages (any status, any order).
        now: The refresh instant (aware UTC).
        config: Thresholds, default and priority SLA minutes, and the priority label.

    Returns:
        The breach rate in percent of the population and the breached conversations,
        longest waiting first.
    """
    population = 0
    awaiting = 0
    breached: list[BreachedConversation] = []
    for conversation in conversations:
        if conversation.status not in _POPULATION_STATUSES:
            continue
        population += 1
        last_incoming: datetime | None = None
        last_reply: datetime | None = None
        for message in conversation.messages:
            if message.private:
                continue
            created_at = message.created_at
            if created_at > now:
                continue
            message_type = message.message_type
            if message_type == INCOMING_MESSAGE:
                if last_incoming is None or created_at > last_incoming:
                    last_incoming = created_at
            elif message_type in REPLY_MESSAGE_TYPES:
                if last_reply is None or created_at > last_reply:
                    last_reply = created_at
        if last_incoming is None or (last_reply is not None and last_reply >= last_incoming):
            continue
        awaiting += 1
        sla_minutes = config.minutes_for(conversation.labels)
        waiting = now - last_incoming
        if waiting > timedelta(minutes=sla_minutes):
            breached.append(
                BreachedConversation(
                    conversation_id=conversation.conversation_id,
                    customer_name=_customer_name(conversation, now),
                    minutes_waiting=waiting // _MINUTE,
                    labels=list(conversation.labels),
                    sla_minutes=sla_minutes,
                    last_customer_message_at=last_incoming,
                )
            )

    breached.sort(key=lambda entry: (-entry.minutes_waiting, entry.conversation_id))
    value = rate_pct(len(breached), population)
    return SlaResult(
        value=value,
        severity=config.thresholds.severity(value),
        population=population,
        awaiting_reply=awaiting,
        breached=breached,
    )


def _customer_name(conversation: ConversationRecord, now: datetime) -> str:
    """The conversation's contact name, else the earliest named incoming sender, else a default.

    Only called for breached conversations, so the second walk over messages stays cheap.
    """
    if conversation.customer_name and conversation.customer_name.strip():
        return conversation.customer_name
    first_key: tuple[datetime, int] | None = None
    first_name = _FALLBACK_NAME
    for message in conversation.messages:
        if (
            message.message_type != INCOMING_MESSAGE
            or message.private
            or not message.sender_name
            or message.created_at > now
        ):
            continue
        key = (message.created_at, message.message_id)
        if first_key is None or key < first_key:
            first_key = key
            first_name = message.sender_name
    return first_name
