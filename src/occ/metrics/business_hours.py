"""An SLA clock that runs only inside an inbox's business hours (``sla_business_hours``).

Opening hours are local wall time in the inbox's IANA time zone: each day's ranges are turned
into UTC instants through :mod:`zoneinfo`, so a day on which the clocks change keeps its
09:00–17:00 (eight hours) and only a range that spans the change itself is an hour shorter or
longer. A local time that does not exist (the hour skipped in spring) is read with the offset
before the change, i.e. one hour later on the new clock; an ambiguous one (the hour repeated
in autumn) is its first occurrence.

Why not a library: the business-time packages on PyPI either compute in naive local time (a
DST change then shifts every later range by an hour) or depend on pytz, and none is
maintained; the computation layer may use the standard library only, and this is two small
functions over one interval generator.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from occ.contracts.exports import BusinessHours

__all__ = ["business_deadline", "business_time", "open_intervals"]

_DAY = timedelta(days=1)
_MIDNIGHT = 24 * 60
# A deadline is searched this many days ahead at most: far beyond any SLA, and finite even
# when holidays close every open day for years.
_SEARCH_DAYS = 3660


def _instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    if minute == _MIDNIGHT:
        local = datetime.combine(day + _DAY, time(0), tzinfo=zone)
    else:
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(UTC)


def _day_intervals(
    hours: BusinessHours, day: date, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    if day in hours.holidays:
        return []
    return [
        (_instant(day, start, zone), _instant(day, end, zone))
        for start, end in hours.windows(day.weekday())
    ]


def _days_from(moment: datetime, zone: ZoneInfo) -> Iterator[date]:
    # The day before too: its ranges end at the latest at local midnight, which may be after
    # ``moment`` when ``moment`` falls in the local day's first hour of a DST change.
    day = moment.astimezone(zone).date() - _DAY
    while True:
        yield day
        day += _DAY


def open_intervals(
    hours: BusinessHours, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The open parts of ``[start, end)`` as UTC intervals, in order."""
    zone = ZoneInfo(hours.timezone)
    last_day = end.astimezone(zone).date()
    for day in _days_from(start, zone):
        if day > last_day:
            return
        for opens, closes in _day_intervals(hours, day, zone):
            opens, closes = max(opens, start), min(closes, end)
            if opens < closes:
                yield opens, closes


def business_time(hours: BusinessHours | None, start: datetime, end: datetime) -> timedelta:
    """How long the SLA clock runs between ``start`` and ``end`` (24/7 when ``hours`` is None).

    Zero when ``end`` is not after ``start``.
    """
    if end <= start:
        return timedelta(0)
    if hours is None:
        return end - start
    total = timedelta(0)
    for opens, closes in open_intervals(hours, start, end):
        total += closes - opens
    return total


def business_deadline(hours: BusinessHours | None, start: datetime, budget: timedelta) -> datetime:
    """The instant at which a clock started at ``start`` has run ``budget`` (24/7 when None).

    Raises:
        ValueError: the clock never runs that long within ten years (holidays close it all).
    """
    if hours is None:
        return start + budget
    zone = ZoneInfo(hours.timezone)
    left = budget
    for count, day in enumerate(_days_from(start, zone)):
        if count > _SEARCH_DAYS:
            break
        for opens, closes in _day_intervals(hours, day, zone):
            opens = max(opens, start)
            if opens >= closes:
                continue
            if closes - opens >= left:
                return opens + left
            left -= closes - opens
    raise ValueError(f"business hours in {hours.timezone} never add up to {budget}")
