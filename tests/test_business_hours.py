"""The business-hours SLA clock: nights, weekends, holidays, daylight-saving changes, and the
setting's validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from occ.config import Settings
from occ.contracts.exports import BusinessHours
from occ.metrics.business_hours import business_deadline, business_time, open_intervals

BERLIN = BusinessHours(timezone="Europe/Berlin", hours={"mon-fri": ["09:00-17:00"]})
HOUR = timedelta(hours=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_clock_pauses_over_a_night() -> None:
    # Tue 16:40 CET → Wed 09:30 CET: 20 + 30 minutes
    assert business_time(BERLIN, utc("2026-11-24T15:40"), utc("2026-11-25T08:30")) == timedelta(
        minutes=50
    )
    assert business_deadline(BERLIN, utc("2026-11-24T15:40"), HOUR) == utc("2026-11-25T08:40")


def test_the_clock_pauses_over_a_weekend() -> None:
    # Fri 16:30 CET → Mon 09:45 CET: 30 + 45 minutes; the hour runs out Mon 09:30 CET
    start = utc("2026-11-20T15:30")
    assert business_time(BERLIN, start, utc("2026-11-23T08:45")) == timedelta(minutes=75)
    assert business_deadline(BERLIN, start, HOUR) == utc("2026-11-23T08:30")


def test_opening_hours_follow_the_local_clock_across_the_end_of_summer_time() -> None:
    # Fri 23 Oct 16:30 CEST (UTC+2) → Mon 26 Oct 09:25 CET (UTC+1). Reading Monday with
    # Friday's offset would open at 07:00Z and count 115 minutes.
    start, reply = utc("2026-10-23T14:30"), utc("2026-10-26T08:25")
    assert business_time(BERLIN, start, reply) == timedelta(minutes=55)
    assert business_deadline(BERLIN, start, HOUR) == utc("2026-10-26T08:30")
    assert list(open_intervals(BERLIN, start, reply)) == [
        (utc("2026-10-23T14:30"), utc("2026-10-23T15:00")),
        (utc("2026-10-26T08:00"), utc("2026-10-26T08:25")),
    ]


def test_a_day_open_around_the_clock_is_23_hours_when_summer_time_starts() -> None:
    # US Central: clocks jump from 02:00 to 03:00 on Sunday 8 March 2026.
    always = BusinessHours(timezone="America/Chicago", hours={"mon-sun": ["00:00-24:00"]})
    sunday = business_time(always, utc("2026-03-08T06:00"), utc("2026-03-09T05:00"))
    assert sunday == timedelta(hours=23)
    # … and 25 hours when it ends (Sunday 1 November 2026, 02:00 → 01:00).
    autumn = business_time(always, utc("2026-11-01T05:00"), utc("2026-11-02T06:00"))
    assert autumn == timedelta(hours=25)


def test_a_range_in_the_skipped_hour_starts_when_the_new_clock_reaches_it() -> None:
    night = BusinessHours(timezone="Europe/Berlin", hours={"sun": ["02:30-04:00"]})
    # 29 March 2026: 02:00 CET → 03:00 CEST; 02:30 does not exist, read as 03:30 CEST.
    assert list(open_intervals(night, utc("2026-03-28T00:00"), utc("2026-03-30T00:00"))) == [
        (utc("2026-03-29T01:30"), utc("2026-03-29T02:00"))
    ]


def test_holidays_and_split_days_are_closed_where_they_say() -> None:
    hours = BusinessHours(
        timezone="Europe/Berlin",
        hours={"mon-fri": ["09:00-12:00", "13:00-17:00"], "sat": "10:00-14:00"},
        holidays=["2026-12-25"],
    )
    # Thu 24 Dec 16:30 CET; Fri 25 is a holiday; Sat 26 opens 10:00.
    start = utc("2026-12-24T15:30")
    assert business_deadline(hours, start, HOUR) == utc("2026-12-26T09:30")
    # Lunch is closed: 11:30 → 13:30 counts 30 + 30 minutes.
    lunch = business_time(hours, utc("2026-12-22T10:30"), utc("2026-12-22T12:30"))
    assert lunch == timedelta(minutes=60)


def test_without_business_hours_the_clock_runs_around_the_clock() -> None:
    start = utc("2026-11-20T15:30")
    assert business_time(None, start, start + 3 * HOUR) == 3 * HOUR
    assert business_deadline(None, start, HOUR) == start + HOUR
    assert business_time(BERLIN, start, start - HOUR) == timedelta(0)


def test_hours_are_kept_normalised() -> None:
    hours = BusinessHours(
        timezone="Asia/Tokyo",
        hours={"fri-mon": "9:00-17:00", "wed": ["13:00-18:00", "08:00-12:00"]},
    )
    assert hours.hours == {
        "mon": ["09:00-17:00"],
        "wed": ["08:00-12:00", "13:00-18:00"],
        "fri": ["09:00-17:00"],
        "sat": ["09:00-17:00"],
        "sun": ["09:00-17:00"],
    }
    assert hours.windows(2) == ((480, 720), (780, 1080)) and hours.windows(1) == ()


@pytest.mark.parametrize(
    ("timezone", "hours", "message"),
    [
        ("Mars/Olympus", {"mon": ["09:00-17:00"]}, "is not an IANA time zone"),
        ("UTC", {"mon": ["17:00-09:00"]}, "a range cannot cross midnight"),
        ("UTC", {"mon": ["9-5"]}, "is not a time range; write e.g. 09:00-17:00"),
        ("UTC", {"mon": ["09:00-24:30"]}, "is not a time range within one day"),
        ("UTC", {"mon": ["09:00-12:00", "11:00-13:00"]}, "overlap"),
        ("UTC", {"mon-fri": ["09:00-17:00"], "fri": ["10:00-11:00"]}, "fri is given twice"),
        ("UTC", {"weekdays": ["09:00-17:00"]}, "is not a day (mon … sun)"),
        ("UTC", {"sat": []}, "no opening hours at all"),
    ],
)
def test_a_wrong_setting_says_what_is_wrong(
    timezone: str, hours: dict[str, list[str]], message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        BusinessHours(timezone=timezone, hours=hours)
    assert message in str(raised.value)


def test_the_setting_is_read_per_inbox_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "OCC_SLA_BUSINESS_HOURS",
        '{"4": {"timezone": "America/Chicago", "hours": {"mon-fri": "08:00-18:00"}}}',
    )
    settings = Settings()
    assert list(settings.sla_business_hours) == [4]
    assert settings.sla_business_hours[4].windows(0) == ((480, 1080),)
    assert Settings.model_fields["sla_business_hours"].description
