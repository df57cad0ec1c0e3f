"""Replaying the alert rules over history: what a threshold setting would have raised.

``replay`` takes one KPI's daily observations (a value per day, or per day and entity such
as a landing page), a threshold profile and, optionally, each day's forecast band, and counts
per ISO week (weeks start on Monday) the warnings, the criticals and the days outside the
band — the preview an operator reads before changing a threshold. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from occ.contracts.kpis import ThresholdProfile

__all__ = ["Observation", "WeekCount", "replay", "scaled"]


@dataclass(frozen=True, slots=True)
class Observation:
    """A KPI's value on one day (for one entity when ``key`` is set)."""

    day: date
    value: float | None
    key: str | None = None


@dataclass(frozen=True, slots=True)
class WeekCount:
    week_start: date
    days: int
    warnings: int
    criticals: int
    outside_band: int | None

    def as_dict(self) -> dict[str, object]:
        return {
            "weekStart": self.week_start.isoformat(),
            "days": self.days,
            "warnings": self.warnings,
            "criticals": self.criticals,
            "outsideBand": self.outside_band,
        }


def scaled(profile: ThresholdProfile, factor: float) -> ThresholdProfile:
    """``profile`` with both thresholds multiplied by ``factor`` (< 1: alerts sooner)."""
    if profile.direction == "below" and profile.warning > 0:
        # Days of cover: alerting sooner means a higher threshold.
        factor = 1 / factor
    return profile.model_copy(
        update={"warning": profile.warning * factor, "critical": profile.critical * factor}
    )


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def replay(
    observations: Iterable[Observation],
    profile: ThresholdProfile,
    start: date,
    end: date,
    band: Mapping[date, bool] | None = None,
) -> list[WeekCount]:
    """Warnings and criticals per week of ``[start, end]`` under ``profile``.

    ``band`` maps each day that had a forecast to whether its value fell outside the band;
    None when no band is replayed.
    """
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    weeks: dict[date, list[int]] = {}
    day = start
    while day <= end:
        counts = weeks.setdefault(_monday(day), [0, 0, 0, 0])
        counts[0] += 1
        if band is not None and band.get(day):
            counts[3] += 1
        day += timedelta(days=1)
    for observation in observations:
        if not start <= observation.day <= end:
            continue
        severity = profile.severity(observation.value)
        counts = weeks[_monday(observation.day)]
        if severity == "warning":
            counts[1] += 1
        elif severity == "critical":
            counts[2] += 1
    return [
        WeekCount(week, c[0], c[1], c[2], c[3] if band is not None else None)
        for week, c in sorted(weeks.items())
    ]
