"""Traffic anomalies — fact ``ga.sessions.anomalies`` (KPIS.md §3)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from occ.contracts.kpis import PageTraffic, TrafficConfig, TrafficResult, worst
from occ.contracts.records import LandingPageDay
from occ.metrics._common import worst_first

__all__ = ["compute_traffic_anomalies"]


def compute_traffic_anomalies(
    days: Iterable[LandingPageDay], today: date, config: TrafficConfig
) -> TrafficResult:
    """Week-over-week change of sessions per landing page.

    ``current`` is ``[today - w, today - 1]`` and ``previous`` is ``[today - 2w, today - w - 1]``
    (GA4 dates, inclusive; w = ``config.window_days``, 7 by default). Only pages with at least
    one row inside those 2w days are listed. A page with ``previous == 0`` has no delta and is
    never flagged; a page with ``previous < noise_floor`` keeps its delta but is never flagged.

    Args:
        days: Sessions per landing page per day (rows outside the two windows are ignored).
        today: The shop-local date of the refresh instant.
        config: Thresholds (direction ``below``), window length and noise floor.

    Returns:
        The pages worst first (severity, then delta ascending with no delta last, then page)
        and the tile severity, the worst page's.
    """
    window = config.window_days
    current_start = today - timedelta(days=window)
    current_end = today - timedelta(days=1)
    previous_start = today - timedelta(days=2 * window)
    previous_end = today - timedelta(days=window + 1)

    totals: dict[str, list[int]] = {}  # page -> [current, previous]
    for row in days:
        day = row.day
        if current_start <= day <= current_end:
            slot = 0
        elif previous_start <= day <= previous_end:
            slot = 1
        else:
            continue
        page_totals = totals.get(row.landing_page)
        if page_totals is None:
            page_totals = totals[row.landing_page] = [0, 0]
        page_totals[slot] += row.sessions

    pages: list[PageTraffic] = []
    for page, (current, previous) in totals.items():
        # One int/int division is correctly rounded: 80 vs 100 gives exactly -0.2.
        wow_delta = (current - previous) / previous if previous else None
        below_noise_floor = previous < config.noise_floor
        severity = (
            "none"
            if wow_delta is None or below_noise_floor
            else config.thresholds.severity(wow_delta)
        )
        pages.append(
            PageTraffic(
                landing_page=page,
                current=current,
                previous=previous,
                wow_delta=wow_delta,
                severity=severity,
                below_noise_floor=below_noise_floor,
            )
        )
    pages.sort(
        key=lambda entry: (
            worst_first(entry.severity),
            entry.wow_delta is None,
            entry.wow_delta or 0.0,
            entry.landing_page,
        )
    )
    return TrafficResult(
        severity=worst([entry.severity for entry in pages]),
        current_start=current_start,
        current_end=current_end,
        previous_start=previous_start,
        previous_end=previous_end,
        pages=pages,
    )
