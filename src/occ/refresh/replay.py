"""``occ alerts backtest``: a KPI's daily values over stored history, replayed through the
alert rules (thresholds and forecast band) to count what each setting would have raised.

Each day's value is the KPI evaluated at that day's closing local midnight (KPIS.md, with
the daily series of ``occ.metrics``): sales delta = the day's revenue against the mean of its
seven days before; SLA breach rate and fulfillment issue rate at the day's end; traffic = each
landing page's week-over-week delta of the seven days ending that day (pages under the noise
floor never flagged). Inventory days of cover and unsellable traffic need stock history,
which Shopify does not keep: they are refused (``NOT_REPLAYABLE`` says why).
The band replay fits a forecast on the ``fit_days`` before each day (rolling origin) and
checks the day's value — daily revenue, the rates, total sessions — against its interval.

``backtest_query`` checks a preview request (dates, KPI, proposed thresholds) and
``run_backtest`` replays it beside the current thresholds: the one composition behind both
``occ alerts backtest`` and the dashboard's settings page (and its JSON twin).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from occ.anomalies import InsufficientHistory, forecast_series
from occ.anomalies.replay import Observation, WeekCount, replay, scaled
from occ.config import Settings
from occ.contracts.forecast import ForecastConfig
from occ.contracts.kpis import KpiConfig, ThresholdProfile
from occ.errors import ConfigError
from occ.metrics.order_days import daily_fulfillment_issue_rate, daily_order_totals
from occ.metrics.series import daily_breach_rate, day_range
from occ.refresh.compute import KPI_CONFIG_KEYS
from occ.store import records as store
from occ.store.records import ShopInfo
from occ.store.runs import newest_as_of, resolve_shop

__all__ = [
    "DEFAULT_WEEKS",
    "MAX_DAYS",
    "NOT_REPLAYABLE",
    "PROFILES",
    "REPLAYABLE",
    "Backtest",
    "BacktestQuery",
    "backtest_query",
    "band_days",
    "check_replayable",
    "default_range",
    "kpi_history",
    "run_backtest",
]

REPLAYABLE = ("sales_delta", "sla_breach_rate", "traffic_anomalies", "fulfillment_issue_rate")
NOT_REPLAYABLE = {
    "inventory_cover": "days of cover needs stock history, which Shopify does not keep",
    "unsellable_traffic": (
        "which product pages could not sell on a past day needs that day's stock, which "
        "Shopify does not keep"
    ),
}
PROFILES = {"current": 1.0, "sensitive": 0.75, "quiet": 1.5}
"""Named proposals: the current thresholds scaled (below 1: alerts sooner)."""
MAX_DAYS = 366
DEFAULT_WEEKS = 8
_STREAMS = {
    "sales_delta": "shopify.orders",
    "sla_breach_rate": "chatwoot.messages",
    "traffic_anomalies": "ga4.landing_pages",
    "fulfillment_issue_rate": "shopify.orders",
}
_BAD_WHEN = {
    "above": "its value is above",
    "below": "its value is at or below",
    "abs": "the size of its change is above",
}
_DAY = timedelta(days=1)
_EARLIEST, _LATEST = date(1970, 1, 1), date(9998, 12, 31)
"""The days a replay takes: no shop's history is older, and the history read before the
first day and the day after the last one stay inside the calendar."""


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def check_replayable(kpi: str, flag: str = "") -> None:
    """Raises ConfigError unless ``kpi`` can be replayed (``flag``: ``--`` for the CLI)."""
    if kpi in REPLAYABLE:
        return
    if kpi in NOT_REPLAYABLE:
        reason = f"{kpi} cannot be replayed ({NOT_REPLAYABLE[kpi]})"
    else:
        reason = f"unknown {flag}kpi {kpi!r}"
    raise ConfigError(f"{reason}; use one of {', '.join(REPLAYABLE)}")


def kpi_history(
    connection: Connection,
    shop: ShopInfo,
    kpi: str,
    start: date,
    end: date,
    config: KpiConfig,
    history_days: int,
) -> tuple[list[Observation], list[tuple[date, float | None]]]:
    """The KPI's observations over ``[start, end]`` and the daily series its band is fitted
    on (from ``history_days`` before ``start``).

    Raises:
        ConfigError: the KPI cannot be replayed.
    """
    check_replayable(kpi)
    zone = ZoneInfo(shop.timezone)
    first = start - timedelta(days=history_days)
    if kpi in ("sales_delta", "fulfillment_issue_rate"):
        since = _midnight(first, zone) - timedelta(days=config.fulfillment.window_days)
        orders = store.load_order_summaries(
            connection, shop.domain, since, _midnight(end + _DAY, zone)
        )
        if kpi == "sales_delta":
            revenue = {
                d: float(r) for d, r, _ in daily_order_totals(orders, shop.timezone, first, end)
            }
            observations = []
            for day in day_range(start, end):
                before = [revenue.get(day - k * _DAY, 0.0) for k in range(1, 8)]
                baseline = sum(before) / 7
                delta = None if baseline == 0 else (revenue[day] - baseline) / baseline * 100
                observations.append(Observation(day, delta))
            return observations, [(d, v) for d, v in sorted(revenue.items())]
        rates = daily_fulfillment_issue_rate(orders, shop.timezone, first, end, config.fulfillment)
        series: list[tuple[date, float | None]] = [(d, r) for d, r, _ in rates]
        return [Observation(d, r) for d, r in series if d >= start], series
    if kpi == "sla_breach_rate":
        conversations = store.load_conversations(connection, shop.domain, ("open", "pending"))
        rates_sla = daily_breach_rate(conversations, shop.timezone, first, end, config.sla)
        return [Observation(d, r) for d, r in rates_sla if d >= start], list(rates_sla)
    window = config.traffic.window_days
    rows = store.load_landing_page_days(connection, shop.domain, first - 2 * window * _DAY, end)
    by_page: dict[str, dict[date, int]] = defaultdict(dict)
    totals: dict[date, float] = {d: 0.0 for d in day_range(first, end)}
    for row in rows:
        by_page[row.landing_page][row.day] = row.sessions
        if row.day in totals:
            totals[row.day] += row.sessions
    observations = []
    for day in day_range(start, end):
        for page, sessions in by_page.items():
            current = sum(sessions.get(day - k * _DAY, 0) for k in range(window))
            previous = sum(sessions.get(day - (window + k) * _DAY, 0) for k in range(window))
            if previous < max(config.traffic.noise_floor, 1):
                continue
            observations.append(Observation(day, (current - previous) / previous, page))
    return observations, [(d, v) for d, v in sorted(totals.items())]


def band_days(
    series: list[tuple[date, float | None]],
    start: date,
    end: date,
    config: ForecastConfig,
    metric: str,
    on_day: Callable[[int, int], None] | None = None,
) -> dict[date, bool]:
    """For each day of ``[start, end]``: was its value outside the forecast band fitted on
    the days before it? Days without enough history are left out."""
    values = dict(series)
    outside: dict[date, bool] = {}
    days = day_range(start, end)
    one_step = config.model_copy(update={"horizon": 1})
    for number, day in enumerate(days, start=1):
        history = [
            (d, float("nan") if v is None else v)
            for d, v in series
            if day - timedelta(days=config.fit_days) <= d < day
        ]
        observed = values.get(day)
        if observed is not None and history:
            try:
                point = forecast_series(history, one_step, metric=metric).points[0]
            except (InsufficientHistory, ValueError):
                point = None
            if point is not None and point.lower is not None and point.upper is not None:
                outside[day] = not point.lower <= observed <= point.upper
        if on_day is not None:
            on_day(number, len(days))
    return outside


# The preview: one request, checked, replayed beside the current thresholds ------------------


@dataclass(frozen=True, slots=True)
class BacktestQuery:
    """A checked preview request: the KPI, the days, the current and proposed thresholds."""

    kpi: str
    start: date
    end: date
    label: str
    current: ThresholdProfile
    proposed: ThresholdProfile


@dataclass(frozen=True, slots=True)
class Backtest:
    """What ``query`` would have raised per week, under the proposed and current thresholds."""

    query: BacktestQuery
    shop: str
    proposed: list[WeekCount]
    current: list[WeekCount]

    def as_dict(self) -> dict[str, Any]:
        """The document of ``occ alerts backtest --json`` and of the JSON API."""
        query = self.query
        return {
            "kpi": query.kpi,
            "shop": self.shop,
            "from": query.start.isoformat(),
            "to": query.end.isoformat(),
            "proposed": {"label": query.label, **query.proposed.model_dump()},
            "current": query.current.model_dump(),
            "weeks": [
                {**p.as_dict(), "current": {"warnings": c.warnings, "criticals": c.criticals}}
                for p, c in zip(self.proposed, self.current, strict=True)
            ],
        }


def _day(value: date | str, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{name} {value!r} is not a date; use YYYY-MM-DD") from None


def _proposed(
    current: ThresholdProfile,
    warning: float | None,
    critical: float | None,
    profile: str | None,
    flag: str,
) -> tuple[str, ThresholdProfile]:
    if profile is not None and (warning is not None or critical is not None):
        raise ConfigError(f"give either {flag}warning/{flag}critical or {flag}profile, not both")
    if profile is not None:
        if profile not in PROFILES:
            raise ConfigError(f"unknown {flag}profile {profile!r}; use {', '.join(PROFILES)}")
        return profile, scaled(current, PROFILES[profile])
    if warning is None and critical is None:
        return "current", current
    for name, number in (("warning", warning), ("critical", critical)):
        if number is not None and not math.isfinite(number):
            raise ConfigError(f"{flag}{name} {number} is not a number; give a finite threshold")
    proposed = current.model_copy(
        update={
            "warning": current.warning if warning is None else warning,
            "critical": current.critical if critical is None else critical,
        }
    )
    return f"warning {proposed.warning:g}, critical {proposed.critical:g}", proposed


def _check_direction(kpi: str, profile: ThresholdProfile, flag: str) -> None:
    """A proposal whose warning threshold would never be reached before its critical one is
    a typo (say, the sign of a week-over-week ratio), not a setting."""
    warning, critical = profile.warning, profile.critical
    pair = f"{flag}warning {warning:g} and {flag}critical {critical:g}"
    bad_when = f"{kpi} alerts when {_BAD_WHEN[profile.direction]} a threshold"
    if profile.direction == "below" and critical > warning:
        raise ConfigError(f"{pair} disagree: {bad_when}, so critical must be at most warning")
    if profile.direction != "below" and critical < warning:
        raise ConfigError(f"{pair} disagree: {bad_when}, so critical must be at least warning")
    if profile.direction == "abs" and warning < 0:
        raise ConfigError(
            f"{flag}warning {warning:g} is negative: {kpi} compares the size of its change, "
            "give thresholds of 0 or more"
        )


def backtest_query(
    kpi: str,
    start: date | str,
    end: date | str,
    config: KpiConfig,
    *,
    warning: float | None = None,
    critical: float | None = None,
    profile: str | None = None,
    flag: str = "",
) -> BacktestQuery:
    """Check a preview request; ``flag`` prefixes the option names in messages (``--``).

    Raises:
        ConfigError: a date is not one, the range is reversed or longer than a year, the KPI
            is unknown or cannot be replayed, or the proposal is ambiguous or inconsistent
            with the KPI's direction.
    """
    first, last = _day(start, f"{flag}from"), _day(end, f"{flag}to")
    if last < first:
        raise ConfigError(f"{flag}to {last} is before {flag}from {first}")
    if first < _EARLIEST or last > _LATEST:
        raise ConfigError(
            f"{flag}from/{flag}to must lie between {_EARLIEST} and {_LATEST}; give days of "
            "the store's history"
        )
    if (last - first).days > MAX_DAYS:
        raise ConfigError(f"replay at most a year at a time; narrow {flag}from/{flag}to")
    check_replayable(kpi, flag)
    current: ThresholdProfile = getattr(config, KPI_CONFIG_KEYS[kpi]).thresholds
    label, proposed = _proposed(current, warning, critical, profile, flag)
    if warning is not None or critical is not None:
        _check_direction(kpi, proposed, flag)
    return BacktestQuery(kpi, first, last, label, current, proposed)


def run_backtest(
    engine: Engine,
    query: BacktestQuery,
    settings: Settings,
    *,
    shop: str | None = None,
    band: bool = True,
    step: Callable[[str], None] | None = None,
) -> Backtest:
    """Replay ``query`` over the stored history of ``shop`` (default: the newest refresh's).

    The store is read first and released; the band replay (a forecast fitted before each
    day, the slow part) runs without holding a connection. ``step`` hears the progress.

    Raises:
        NotFoundError: nothing was refreshed yet, or the shop is not in the store.
        ConfigError: the days lie wholly outside the KPI's stored history (they would replay
            as days without data, raising nothing).
    """
    say = step or (lambda _: None)
    with engine.connect() as connection:
        info = resolve_shop(connection, shop)
        span = history_span(connection, info, query.kpi)
        if span is not None and (query.end < span[0] or query.start > span[1]):
            raise ConfigError(
                f"no {query.kpi} history from {query.start} to {query.end}: the store holds "
                f"{span[0]} to {span[1]}; pick days within them"
            )
        say("reading history")
        observations, series = kpi_history(
            connection,
            info,
            query.kpi,
            query.start,
            query.end,
            settings.kpis,
            settings.forecast.fit_days,
        )
    outside = None
    if band:
        outside = band_days(
            series,
            query.start,
            query.end,
            settings.forecast,
            query.kpi,
            on_day=lambda done, total: say(f"forecast band, day {done} of {total}"),
        )
    return Backtest(
        query,
        info.domain,
        replay(observations, query.proposed, query.start, query.end, outside),
        replay(observations, query.current, query.start, query.end, outside),
    )


def default_range(
    connection: Connection, shop: ShopInfo, kpi: str, weeks: int = DEFAULT_WEEKS
) -> tuple[date, date] | None:
    """The last ``weeks`` weeks (Monday to Sunday, the newest one possibly partial) of the
    KPI's stored history: from its stream's oldest record at most, up to the last day that
    had ended at the latest refresh (a KPI keeps a value after its stream's newest record:
    a breached conversation stays breached); None when the KPI's stream holds nothing.
    """
    span = history_span(connection, shop, kpi)
    if span is None:
        return None
    oldest, newest = span
    monday = newest - timedelta(days=newest.weekday())
    return max(oldest, monday - timedelta(weeks=weeks - 1)), newest


def history_span(connection: Connection, shop: ShopInfo, kpi: str) -> tuple[date, date] | None:
    """The KPI's stored history, in the shop's days: from its stream's oldest record up to
    the last day that had ended at the latest refresh (a KPI keeps a value after its stream's
    newest record: a breached conversation stays breached); None when the stream is empty.
    """
    check_replayable(kpi)
    span = store.record_days(connection, shop, _STREAMS[kpi])
    if span is None:
        return None
    zone = ZoneInfo(shop.timezone)
    oldest, newest = span
    as_of = newest_as_of(connection, shop.domain)
    if as_of is not None and as_of.astimezone(zone).date() - _DAY >= oldest:
        newest = as_of.astimezone(zone).date() - _DAY
    return oldest, newest
