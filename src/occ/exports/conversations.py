"""Reading what a conversation export needs from the store, and computing its rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from occ.contracts.exports import BusinessHours, ConversationExportRow
from occ.contracts.kpis import SlaConfig
from occ.errors import ConfigError, NotFoundError
from occ.metrics.conversations import conversation_rows, linkable_order_numbers
from occ.metrics.mentions import order_index
from occ.metrics.series import day_end
from occ.store import records as store
from occ.store.records import ShopInfo
from occ.store.runs import resolve_shop

__all__ = ["ConversationExport", "conversation_export", "export_days"]

_FIRST_YEAR = 1970
"""No conversation is older: a first day before it is the same as none."""


@dataclass(frozen=True, slots=True)
class ConversationExport:
    """The rows of one export, and what they cover."""

    shop: ShopInfo
    first_day: date | None
    last_day: date | None
    now: datetime
    rows: list[ConversationExportRow]


def export_days(first: str | None, last: str | None) -> tuple[date | None, date | None]:
    """``--from``/``--to`` (YYYY-MM-DD, shop time, inclusive) as dates.

    Raises:
        ConfigError: a value is not a date, or ``last`` is before ``first``.
    """
    days = []
    for option, value in (("--from", first), ("--to", last)):
        try:
            days.append(None if value is None else date.fromisoformat(value))
        except ValueError:
            raise ConfigError(
                f"{option} {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-01"
            ) from None
    since, until = days
    if since is not None and until is not None and until < since:
        raise ConfigError(f"--to {until} is before --from {since}")
    return since, until


def conversation_export(
    connection: Connection,
    shop: str | None,
    *,
    first_day: date | None,
    last_day: date | None,
    now: datetime,
    sla: SlaConfig,
    business_hours: Mapping[int, BusinessHours],
) -> ConversationExport:
    """The export rows of the conversations created on ``[first_day, last_day]`` (shop days,
    each inclusive; either open-ended when None) and not after ``now``.

    Raises:
        NotFoundError: nothing was refreshed yet, the shop is unknown, or the store holds no
            conversation of the shop (Chatwoot not configured or not refreshed).
    """
    info = resolve_shop(connection, shop)
    if store.count_conversations(connection, info.domain) == 0:
        raise NotFoundError(
            f"the store holds no Chatwoot conversation of {info.domain}; configure Chatwoot "
            "(OCC_CHATWOOT_URL, OCC_CHATWOOT_ACCOUNT_ID, OCC_CHATWOOT_API_TOKEN) and run "
            "`occ refresh --source live`, or refresh a recorded folder"
        )
    zone = ZoneInfo(info.timezone)
    # Conversations created after ``now`` did not exist yet for an export as of ``now``; a
    # last day from today on, or a first day long before any shop, bounds nothing (and
    # would overflow the calendar at its ends, 0001-01-01 and 9999-12-31).
    today = now.astimezone(zone).date()
    until = now if last_day is None or last_day >= today else min(day_end(last_day, zone), now)
    since = (
        None
        if first_day is None or first_day.year < _FIRST_YEAR
        else day_end(first_day - timedelta(days=1), zone)
    )
    conversations = store.load_conversations(
        connection, info.domain, created_since=since, created_until=until
    )
    numbers = linkable_order_numbers(conversations)
    index = order_index(store.load_order_names(connection, info.domain, numbers))
    rows = conversation_rows(conversations, now, sla, business_hours, index)
    return ConversationExport(info, first_day, last_day, now, rows)
