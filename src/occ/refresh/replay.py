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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from occ.anomalies import InsufficientHistory, forecast_series
from occ.anomalies.replay import Observation
from occ.contracts.forecast import ForecastConfig
from occ.contracts.kpis import KpiConfig
from occ.errors import ConfigError
from occ.metrics.order_days import daily_fulfillment_issue_rate, daily_order_totals
from occ.metrics.series import daily_breach_rate, day_range
from occ.store import records as store
from occ.store.records import ShopInfo

__all__ = ["NOT_REPLAYABLE", "REPLAYABLE", "band_days", "kpi_history"]

REPLAYABLE = ("sales_delta", "sla_breach_rate", "traffic_anomalies", "fulfillment_issue_rate")
NOT_REPLAYABLE = {
    "inventory_cover": "days of cover needs stock history, which Shopify does not keep",
    "unsellable_traffic": (
        "which product pages could not sell on a past day needs that day's stock, which "
        "Shopify does not keep"
    ),
}
_DAY = timedelta(days=1)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


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
    if kpi not in REPLAYABLE:
        reason = NOT_REPLAYABLE.get(kpi, "not a KPI")
        raise ConfigError(
            f"{kpi} cannot be replayed ({reason}); use one of {', '.join(REPLAYABLE)}"
        )
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
