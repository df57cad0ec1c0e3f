"""Operator exports: the business-hours setting of an inbox, and the rows the exports hold.

``BusinessHours`` is a setting (``sla_business_hours``, one per Chatwoot inbox): the weekly
opening hours in an IANA time zone, and optionally holidays, during which an SLA clock runs.
The rows are plain frozen dataclasses, as the source records are: one per conversation
(``ConversationExportRow``) and one per agent or team (``SlaGroupRow``). Their field order is
the column order of the CSV files and the key order of the JSON objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, PrivateAttr, field_validator

__all__ = [
    "WEEKDAYS",
    "BusinessHours",
    "ConversationExportRow",
    "SlaClock",
    "SlaGroupRow",
    "SlaStatus",
    "Window",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day names, in ``date.weekday()`` order."""

SlaStatus = Literal["met", "breached", "pending", "none"]
SlaClock = Literal["24/7", "business_hours"]
Window = tuple[int, int]
"""Opening hours of one day as (first minute, end minute) after local midnight; end ≤ 1440."""

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_DAY_IN_MINUTES = 24 * 60


def _minute(hours: str, minutes: str, text: str) -> int:
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > _DAY_IN_MINUTES:
        raise ValueError(f"{text!r} is not a time range within one day (HH:MM-HH:MM, 24:00 ends)")
    return value


def _window(text: str) -> Window:
    match = _RANGE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time range; write e.g. 09:00-17:00")
    start = _minute(match.group(1), match.group(2), text)
    end = _minute(match.group(3), match.group(4), text)
    if start >= end:
        raise ValueError(
            f"{text!r} ends before it starts; a range cannot cross midnight, split it "
            "(22:00-24:00 on one day, 00:00-02:00 on the next)"
        )
    return start, end


def _days(key: str) -> list[int]:
    """``mon`` → [0]; ``mon-fri`` → [0, 1, 2, 3, 4] (a range may wrap: ``sat-sun``, ``fri-mon``)."""
    names = [part.strip().lower() for part in key.split("-")]
    if len(names) not in (1, 2) or any(name not in WEEKDAYS for name in names):
        raise ValueError(f"{key!r} is not a day (mon … sun) or a range of days (mon-fri)")
    first = WEEKDAYS.index(names[0])
    last = WEEKDAYS.index(names[-1])
    return [(first + offset) % 7 for offset in range((last - first) % 7 + 1)]


def _text(window: Window) -> str:
    start, end = window
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


class BusinessHours(BaseModel):
    """When an inbox's SLA clock runs: weekly opening hours in ``timezone``, less ``holidays``.

    ``hours`` maps a day (``mon`` … ``sun``) or a range of days (``mon-fri``) to its opening
    ranges, local wall time (``["09:00-12:00", "13:00-17:00"]``); a day not named is closed.
    It is kept normalised: one key per open day, its ranges sorted. Opening hours follow the
    local clock across daylight-saving changes (09:00 is 09:00 in summer and winter time).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str
    hours: dict[str, list[str]]
    holidays: list[date] = []
    _week: tuple[tuple[Window, ...], ...] = PrivateAttr(default=())

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone; write e.g. Europe/Berlin"
            ) from None
        return value

    @field_validator("hours", mode="before")
    @classmethod
    def _normalised(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        week: dict[int, list[Window]] = {}
        for key, ranges in value.items():
            if isinstance(ranges, str):
                ranges = [ranges]
            if not isinstance(ranges, list) or not all(isinstance(r, str) for r in ranges):
                raise ValueError(f"{key}: give a list of time ranges, e.g. ['09:00-17:00']")
            for day in _days(str(key)):
                if day in week:
                    raise ValueError(f"{WEEKDAYS[day]} is given twice (in {key!r} and before)")
                windows = sorted(_window(text) for text in ranges)
                for before, after in zip(windows, windows[1:], strict=False):
                    if after[0] < before[1]:
                        raise ValueError(f"{key}: {_text(before)} and {_text(after)} overlap")
                week[day] = windows
        if not any(week.values()):
            raise ValueError("no opening hours at all: the SLA clock would never run")
        return {WEEKDAYS[day]: [_text(w) for w in week[day]] for day in sorted(week) if week[day]}

    def model_post_init(self, context: Any) -> None:
        self._week = tuple(
            tuple(_window(text) for text in self.hours.get(name, ())) for name in WEEKDAYS
        )

    def windows(self, weekday: int) -> tuple[Window, ...]:
        """The opening ranges of ``weekday`` (0 = Monday), in minutes after local midnight."""
        return self._week[weekday]


@dataclass(frozen=True, slots=True)
class ConversationExportRow:
    """One conversation of the export; instants are UTC, minutes rounded to the hundredth.

    ``first_response_minutes`` is wall-clock time; ``sla_clock_minutes`` is what the SLA
    clock counted (business hours only, when the inbox has them) from the first customer
    message to the first reply — or, without a reply yet, to the resolution or ``now``.
    """

    conversation_id: int
    status: str
    customer_name: str | None
    inbox_id: int | None
    assignee_id: int | None
    assignee_name: str | None
    team_id: int | None
    team_name: str | None
    labels: tuple[str, ...]
    created_at: datetime
    first_customer_message_at: datetime | None
    first_response_at: datetime | None
    first_response_minutes: Decimal | None
    sla_minutes: int
    sla_clock: SlaClock
    sla_clock_minutes: Decimal | None
    sla_due_at: datetime | None
    sla_status: SlaStatus
    resolved_at: datetime | None
    resolution_minutes: Decimal | None
    resolved_at_source: Literal["activity", "last_activity_at"] | None
    linked_orders: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SlaGroupRow:
    """% SLA met of one agent or team: ``met / (met + breached)``, pending ones left out.

    ``id`` and ``name`` are None for the conversations assigned to no agent (or no team).
    Percentiles are nearest-rank, over the group's conversations that have a first response.
    """

    group: Literal["agent", "team"]
    id: int | None
    name: str | None
    conversations: int
    met: int
    breached: int
    pending: int
    no_customer_message: int
    sla_met_pct: Decimal | None
    first_response_p50_minutes: Decimal | None
    first_response_p90_minutes: Decimal | None
