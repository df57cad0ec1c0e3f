"""Traffic anomalies (KPIS.md §3): week-over-week windows, noise floor, ordering."""

from __future__ import annotations

from datetime import date

from occ.contracts.kpis import TrafficConfig
from occ.contracts.records import LandingPageDay
from occ.metrics import compute_traffic_anomalies

TODAY = date(2025, 10, 15)
# current = [10-08, 10-14], previous = [10-01, 10-07]


def day(page: str, iso_day: str, sessions: int) -> LandingPageDay:
    return LandingPageDay(landing_page=page, day=date.fromisoformat(iso_day), sessions=sessions)


def week_pair(page: str, previous: int, current: int) -> list[LandingPageDay]:
    """Sessions on the first and last day of each window (the edges must both count)."""
    return [
        day(page, "2025-10-01", previous // 2),
        day(page, "2025-10-07", previous - previous // 2),
        day(page, "2025-10-08", current // 2),
        day(page, "2025-10-14", current - current // 2),
    ]


ROWS = [
    *week_pair("/a", 100, 80),  # (80 - 100) / 100 = -0.20 → warning (<= is inclusive)
    *week_pair("/b", 100, 60),  # -0.40 → critical
    *week_pair("/c", 100, 81),  # -0.19 → none
    *week_pair("/d", 9, 0),  # -1.0 but previous 9 < 10: listed, never flagged
    *week_pair("/e", 0, 50),  # previous 0: no delta
    *week_pair("/g", 10, 5),  # previous exactly 10 is not under the floor: -0.5 → critical
    *week_pair("/h", 50, 100),  # +1.0 → none
    day("/f", "2025-10-15", 500),  # today is outside both windows
    day("/f", "2025-09-30", 500),  # before the previous window
    day("/a", "2025-09-30", 1000),  # must not leak into /a's previous week
    day("/a", "2025-10-15", 1000),  # nor into its current week
]


def test_pages_worst_first_with_noise_floor_and_previous_zero() -> None:
    result = compute_traffic_anomalies(iter(ROWS), TODAY, TrafficConfig())

    rows = [(p.landing_page, p.previous, p.current, p.wow_delta, p.severity) for p in result.pages]
    assert rows == [
        ("/g", 10, 5, -0.5, "critical"),
        ("/b", 100, 60, -0.4, "critical"),
        ("/a", 100, 80, -0.2, "warning"),
        ("/d", 9, 0, -1.0, "none"),
        ("/c", 100, 81, -0.19, "none"),
        ("/h", 50, 100, 1.0, "none"),
        ("/e", 0, 50, None, "none"),
    ]
    below = {p.landing_page for p in result.pages if p.below_noise_floor}
    assert below == {"/d", "/e"}
    assert result.severity == "critical"
    assert (result.current_start, result.current_end) == (date(2025, 10, 8), date(2025, 10, 14))
    assert (result.previous_start, result.previous_end) == (date(2025, 10, 1), date(2025, 10, 7))


def test_noise_floor_is_configurable_but_previous_zero_is_never_flagged() -> None:
    result = compute_traffic_anomalies(ROWS, TODAY, TrafficConfig(noise_floor=0))
    pages = {p.landing_page: p for p in result.pages}

    assert (pages["/d"].severity, pages["/d"].below_noise_floor) == ("critical", False)
    assert (pages["/e"].wow_delta, pages["/e"].severity) == (None, "none")


def test_tile_severity_is_the_worst_page() -> None:
    warning_only = [*week_pair("/a", 100, 80), *week_pair("/c", 100, 81)]
    assert compute_traffic_anomalies(warning_only, TODAY, TrafficConfig()).severity == "warning"
    empty = compute_traffic_anomalies([], TODAY, TrafficConfig())
    assert (empty.severity, empty.pages) == ("none", [])
