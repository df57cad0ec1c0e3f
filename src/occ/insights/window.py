"""The week a packet covers: seven local days of the shop ending on ``week_ending``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["WeekWindow", "default_week_ending", "iso_utc"]

_DAY = timedelta(days=1)


def default_week_ending(now: datetime, timezone: str) -> date:
    """The last Sunday before the shop's current local day: the newest complete Mon–Sun week."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    return today - timedelta(days=today.isoweekday() % 7 or 7)


@dataclass(frozen=True, slots=True)
class WeekWindow:
    """Seven local days ``[start, ending]`` and the seven before them.

    ``opens``/``closes`` are the UTC instants of the local midnights around the week: the
    half-open window ``(opens, closes]`` of every event-based section.
    """

    ending: date
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start(self) -> date:
        return self.ending - 6 * _DAY

    @property
    def days(self) -> list[date]:
        return [self.start + offset * _DAY for offset in range(7)]

    @property
    def previous_days(self) -> list[date]:
        return [day - 7 * _DAY for day in self.days]

    def midnight(self, day: date) -> datetime:
        """The UTC instant of ``day``'s opening local midnight."""
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    @property
    def opens(self) -> datetime:
        return self.midnight(self.start)

    @property
    def closes(self) -> datetime:
        return self.midnight(self.ending + _DAY)

    def as_dict(self) -> dict[str, str]:
        return {
            "start": self.start.isoformat(),
            "ending": self.ending.isoformat(),
            "timezone": self.timezone,
            "opensUtc": iso_utc(self.opens),
            "closesUtc": iso_utc(self.closes),
            "previousStart": self.previous_days[0].isoformat(),
        }


def iso_utc(moment: datetime) -> str:
    """``moment`` as ISO-8601 UTC with a ``Z``, as every instant of the packet is written."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
