"""Daily KPI series for forecasting, with days cut at the shop's local midnight.

A local day ``d`` is the half-open window ``(midnight of d, midnight of d+1]`` in the shop's
IANA timezone, like every KPI window (KPIS.md): an order created exactly at local midnight
belongs to the day that midnight ends, so that the sum of seven days ending at a local
midnight equals the KPI's windows for ``now`` at that midnight. Every day in ``[start, end]``
is present, zero-filled.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from occ.contracts.kpis import SlaConfig
from occ.contracts.records import ConversationRecord, LandingPageDay, OrderRecord

__all__ = [
    "BREACH_RATE_ASSUMPTION",
    "DAY_BOUNDARY_ASSUMPTION",
    "daily_breach_rate",
    "daily_revenue",
    "daily_sessions",
    "daily_units",
    "day_end",
    "day_range",
    "local_day",
]

DAY_BOUNDARY_ASSUMPTION = (
    "days are cut at the shop's local midnight; an event exactly at midnight belongs to "
    "the day that midnight ends (half-open windows, as in the KPIs)"
)
BREACH_RATE_ASSUMPTION = (
    "Chatwoot's conversation list gives no status history: each past day's SLA breach rate "
    "uses the conversations' current status (open/pending) with the messages created up to "
    "that day's local midnight, so conversations resolved since then are missing from "
    "earlier days"
)

_OPEN_STATUSES = frozenset({"open", "pending"})
_INCOMING = 0
_REPLIES = frozenset({1, 3})  # outgoing and template messages stop the clock
_ONE_TICK = timedelta(microseconds=1)


def day_end(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant of the local midnight that closes ``day``."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The shop-local day whose half-open window ``(midnight, next midnight]`` holds ``moment``."""
    return (moment - _ONE_TICK).astimezone(zone).date()


def day_range(start: date, end: date) -> list[date]:
    """Every day of ``[start, end]``."""
    if end < start:
        raise ValueError(f"series end {end} is before its start {start}")
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def daily_revenue(
    orders: Iterable[OrderRecord], tz: str, start: date, end: date
) -> list[tuple[date, Decimal]]:
    """Revenue of countable orders per local day in ``[start, end]``, zero-filled."""
    zone = ZoneInfo(tz)
    totals: dict[date, Decimal] = {day: Decimal(0) for day in day_range(start, end)}
    for order in orders:
        if not order.countable:
            continue
        day = local_day(order.created_at, zone)
        if day in totals:
            totals[day] += order.total
    return list(totals.items())


def daily_units(
    orders: Iterable[OrderRecord],
    tz: str,
    start: date,
    end: date,
    variant_id: str,
    sku: str | None = None,
) -> list[tuple[date, int]]:
    """Units of one variant sold in countable orders per local day, zero-filled.

    Line items match by variant id; a line item without a variant id matches by ``sku``
    (KPIS.md §4).
    """
    zone = ZoneInfo(tz)
    units: dict[date, int] = {day: 0 for day in day_range(start, end)}
    for order in orders:
        # Match the line items first: one variant is in few orders, and the local day (a
        # time-zone conversion) is only needed for those.
        sold = 0
        matched = False
        for item in order.line_items:
            item_variant = item.variant_id
            if item_variant is not None:
                if item_variant != variant_id:
                    continue
            elif sku is None or item.sku != sku:
                continue
            matched = True
            sold += item.quantity
        if not matched or not order.countable:
            continue
        day = local_day(order.created_at, zone)
        if day in units:
            units[day] += sold
    return list(units.items())


def daily_sessions(
    days: Iterable[LandingPageDay], landing_page: str, start: date, end: date
) -> list[tuple[date, int]]:
    """Sessions of one landing page per day, zero-filled (GA4 dates are already shop-local)."""
    sessions: dict[date, int] = {day: 0 for day in day_range(start, end)}
    for row in days:
        if row.landing_page == landing_page and row.day in sessions:
            sessions[row.day] += row.sessions
    return list(sessions.items())


class _Timeline:
    """One conversation's clock-relevant messages, sorted, for checks at many instants."""

    __slots__ = ("created_at", "moments", "replies", "sla_minutes")

    def __init__(self, conversation: ConversationRecord, config: SlaConfig) -> None:
        # Chatwoot stamps whole seconds: a reply in the same second as an incoming message
        # counts as answering it (as in occ.metrics.sla), so replies sort after at a tie.
        relevant = sorted(
            (message.created_at, message.message_type != _INCOMING)
            for message in conversation.messages
            if not message.private
            and (message.message_type == _INCOMING or message.message_type in _REPLIES)
        )
        self.created_at = conversation.created_at
        self.moments = [moment for moment, _ in relevant]
        self.replies = [is_reply for _, is_reply in relevant]
        priority = config.priority_label in conversation.labels
        self.sla_minutes = config.priority_sla_minutes if priority else config.sla_minutes

    def breached_at(self, instant: datetime) -> bool:
        """Awaiting a reply at ``instant`` for longer than the SLA (KPIS.md §2)."""
        seen = bisect_right(self.moments, instant)
        if seen == 0 or self.replies[seen - 1]:
            return False  # no customer message yet, or the latest one was answered
        waited = instant - self.moments[seen - 1]
        return waited > timedelta(minutes=self.sla_minutes)


def daily_breach_rate(
    conversations: Iterable[ConversationRecord],
    tz: str,
    start: date,
    end: date,
    config: SlaConfig,
) -> list[tuple[date, float]]:
    """SLA breach rate (percent) at the end of each local day in ``[start, end]``.

    The rate of day ``d`` is evaluated at the local midnight after ``d`` over the
    conversations created by then whose *current* status is open or pending, with only the
    messages created by then (see ``BREACH_RATE_ASSUMPTION``). Activity messages and private
    notes neither start nor stop the clock; template messages count as replies.
    """
    zone = ZoneInfo(tz)
    timelines = [
        _Timeline(conversation, config)
        for conversation in conversations
        if conversation.status in _OPEN_STATUSES
    ]
    rates: list[tuple[date, float]] = []
    for day in day_range(start, end):
        instant = day_end(day, zone)
        population = [timeline for timeline in timelines if timeline.created_at <= instant]
        breached = sum(1 for timeline in population if timeline.breached_at(instant))
        rates.append((day, breached / len(population) * 100 if population else 0.0))
    return rates
