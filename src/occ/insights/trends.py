"""The five KPIs' daily series over the week, against the week before and a forecast band.

Every series is recomputed from the stored records (not from the facts of whichever refreshes
happened to run), so the same database gives the same packet. The band is a forecast fitted
on the ``fit_days`` before the week (``occ.anomalies.forecast_series``) for its seven days:
what the week was expected to be, seen from the Sunday before it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine

from occ.anomalies import InsufficientHistory, forecast_series
from occ.contracts.forecast import ForecastConfig
from occ.contracts.kpis import KpiConfig, ThresholdProfile
from occ.contracts.records import OrderSummary
from occ.insights.window import WeekWindow
from occ.metrics.order_days import (
    FULFILLMENT_HISTORY_ASSUMPTION,
    daily_fulfillment_issue_rate,
    daily_order_totals,
)
from occ.metrics.series import (
    BREACH_RATE_ASSUMPTION,
    DAY_BOUNDARY_ASSUMPTION,
    daily_breach_rate,
    day_range,
    local_day,
)
from occ.store import records as store
from occ.store.records import ShopInfo

__all__ = ["KPI_ORDER", "PageMove", "WeekSeries", "kpi_trends", "page_moves"]

KPI_ORDER = (
    "sales_delta",
    "sla_breach_rate",
    "traffic_anomalies",
    "inventory_cover",
    "fulfillment_issue_rate",
)
_DAY = timedelta(days=1)


@dataclass
class WeekSeries:
    """One KPI's daily values over the fit window, the previous week and the week.

    ``values`` holds ``None`` for days before the source's first record (not zero).
    """

    kpi: str
    title: str
    unit: str
    aggregate: str  # "total" or "mean": how the week is summed up
    values: dict[date, float | None]
    sources: list[str]
    assumptions: list[str]
    threshold: ThresholdProfile | None = None
    missing: str | None = None


@dataclass(frozen=True, slots=True)
class PageMove:
    """One landing page's sessions this week against the week before."""

    landing_page: str
    current: int
    previous: int

    @property
    def delta(self) -> float | None:
        return None if self.previous == 0 else (self.current - self.previous) / self.previous


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _summed(values: Sequence[float | None], aggregate: str) -> float | None:
    known = [v for v in values if v is not None]
    if not known:
        return None
    total = sum(known)
    return total if aggregate == "total" else total / len(known)


def _band(
    series: WeekSeries, window: WeekWindow, config: ForecastConfig
) -> tuple[dict[date, Any], dict[str, Any]]:
    fit_end = window.start - _DAY
    history = [(day, v) for day, v in sorted(series.values.items()) if day <= fit_end]
    if all(v is None for _, v in history):
        return {}, {"status": "missing", "reason": "no history before the week to fit on"}
    try:
        made = forecast_series(
            [(day, float("nan") if v is None else v) for day, v in history],
            config.model_copy(update={"horizon": 7}),
            metric=series.kpi,
        )
    except (InsufficientHistory, ValueError) as exc:
        return {}, {"status": "missing", "reason": str(exc)}
    points = {point.date: point for point in made.points}
    return points, {
        "status": "ok",
        "method": made.method,
        "level": made.level,
        "fitStart": made.fit_start.isoformat() if made.fit_start else None,
        "fitEnd": made.fit_end.isoformat() if made.fit_end else None,
        "assumptions": made.assumptions,
    }


def _document(
    series: WeekSeries, window: WeekWindow, config: ForecastConfig, last_complete: date
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "kpi": series.kpi,
        "title": series.title,
        "unit": series.unit,
        "aggregate": series.aggregate,
        "sources": series.sources,
        "window": {
            "start": window.start.isoformat(),
            "ending": window.ending.isoformat(),
            "previousStart": window.previous_days[0].isoformat(),
        },
        "assumptions": [DAY_BOUNDARY_ASSUMPTION, *series.assumptions],
        "threshold": None
        if series.threshold is None
        else {
            "warning": series.threshold.warning,
            "critical": series.threshold.critical,
            "direction": series.threshold.direction,
        },
    }
    week = [series.values.get(day) for day in window.days]
    if series.missing is None and all(v is None for v in week):
        series.missing = f"no {series.sources[0]} data recorded in the week"
    if series.missing is not None:
        return document | {"status": "missing", "reason": series.missing, "history": {}}
    points, forecast = _band(series, window, config)
    days = []
    outside = 0
    for day, previous_day in zip(window.days, window.previous_days, strict=True):
        value = series.values.get(day)
        point = points.get(day)
        lower = _round(point.lower) if point is not None else None
        upper = _round(point.upper) if point is not None else None
        side = None
        partial = day > last_complete
        if not partial and value is not None and lower is not None and upper is not None:
            side = "below" if value < lower else "above" if value > upper else None
        outside += side is not None
        days.append(
            {
                "date": day.isoformat(),
                "weekday": day.strftime("%A"),
                "value": _round(value),
                "previous": _round(series.values.get(previous_day)),
                "forecast": _round(point.value) if point is not None else None,
                "lower": lower,
                "upper": upper,
                "outsideBand": side,
                "partial": partial,
            }
        )
    # A week still running is compared like for like: its complete days against the same
    # weekdays of the week before.
    complete = [
        (day, previous_day)
        for day, previous_day in zip(window.days, window.previous_days, strict=True)
        if day <= last_complete
    ]
    current = _summed([series.values.get(day) for day, _ in complete], series.aggregate)
    previous = _summed([series.values.get(p) for _, p in complete], series.aggregate)
    change = (
        None
        if current is None or previous is None or previous == 0
        else (current - previous) / previous * 100
    )
    return document | {
        "status": "ok",
        "days": days,
        "week": {
            "value": _round(current),
            "previous": _round(previous),
            "changePct": _round(change, 2),
            "daysOutsideBand": outside if forecast["status"] == "ok" else None,
            "completeDays": len(complete),
        },
        "forecast": forecast,
        "history": {day.isoformat(): _round(v) for day, v in sorted(series.values.items())},
    }


def _first_known(values: dict[date, float], first: date | None) -> dict[date, float | None]:
    return {day: (None if first is None or day < first else v) for day, v in values.items()}


def page_moves(days: Sequence[Any], window: WeekWindow) -> list[PageMove]:
    """Each landing page's sessions in the week and the week before, biggest pages first."""
    current: dict[str, int] = defaultdict(int)
    previous: dict[str, int] = defaultdict(int)
    week, before = set(window.days), set(window.previous_days)
    for row in days:
        if row.day in week:
            current[row.landing_page] += row.sessions
        elif row.day in before:
            previous[row.landing_page] += row.sessions
    pages = set(current) | set(previous)
    return sorted(
        (PageMove(page, current[page], previous[page]) for page in pages),
        key=lambda move: (-max(move.current, move.previous), move.landing_page),
    )


def _order_summaries(
    engine: Engine, shop: str, since: datetime, until: datetime
) -> list[OrderSummary]:
    with engine.connect() as connection:
        return store.load_order_summaries(connection, shop, since, until)


def kpi_trends(
    connection: Connection,
    shop: ShopInfo,
    window: WeekWindow,
    kpis: KpiConfig,
    forecast: ForecastConfig,
    last_complete: date | None = None,
    *,
    has_variants: bool = True,
) -> tuple[dict[str, dict[str, Any]], list[PageMove]]:
    """The five KPI trend documents (keyed by KPI) and the landing pages' weekly moves.

    Days after ``last_complete`` (the week is still running) are shown as partial: outside
    the band checks, the headline and the week's totals.
    """
    complete_until = window.ending if last_complete is None else last_complete
    fit_start = window.previous_days[0] - timedelta(days=forecast.fit_days)
    first, last = fit_start, window.ending
    # Orders of the fulfillment KPI's population window before the first day count too.
    since = window.midnight(first) - timedelta(days=max(kpis.fulfillment.window_days, 1))
    # The orders (the biggest read: ~11 weeks of orders with their units) come on a
    # connection of their own while this one reads conversations and pages.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="occ-orders") as pool:
        pending = pool.submit(
            _order_summaries, connection.engine, shop.domain, since, window.closes
        )
        conversations = store.load_conversations(connection, shop.domain, ("open", "pending"))
        pages = store.load_landing_page_days(connection, shop.domain, first, last)
        orders = pending.result()
    # Oldest first: the store's history may start inside the fit window.
    first_day = local_day(orders[0].created_at, window.zone) if orders else None

    totals = daily_order_totals(orders, shop.timezone, first, last)
    revenue = _first_known({d: float(r) for d, r, _ in totals}, first_day)
    units = _first_known({d: float(u) for d, _, u in totals}, first_day)
    fulfillment = _first_known(
        {
            d: r
            for d, r, _ in daily_fulfillment_issue_rate(
                orders, shop.timezone, first, last, kpis.fulfillment
            )
        },
        first_day,
    )
    week_revenue = sum((r for d, r, _ in totals if d >= window.start), Decimal(0))
    week_orders = bool(orders) and orders[-1].created_at > window.opens
    no_orders = None if week_orders else "no Shopify orders recorded in the week"

    breach: dict[date, float | None] = {}
    sla_missing = None
    if conversations:
        first_conversation = local_day(min(c.created_at for c in conversations), window.zone)
        breach = _first_known(
            dict(daily_breach_rate(conversations, shop.timezone, first, last, kpis.sla)),
            first_conversation,
        )
    else:
        sla_missing = "no open or pending Chatwoot conversations recorded"

    sessions: dict[date, int] = dict.fromkeys(day_range(first, last), 0)
    for row in pages:
        sessions[row.day] = sessions.get(row.day, 0) + row.sessions
    first_page = min((row.day for row in pages), default=None)
    traffic = _first_known({d: float(v) for d, v in sessions.items()}, first_page)
    week_pages = any(row.day >= window.start for row in pages)

    series = [
        WeekSeries(
            "sales_delta",
            f"Revenue per day ({shop.currency})",
            shop.currency,
            "total",
            revenue,
            ["Shopify orders"],
            [
                "countable orders only (not cancelled, not test); money summed as Decimal "
                f"({week_revenue} {shop.currency} in the week)"
            ],
            kpis.sales.thresholds,
            missing=no_orders,
        ),
        WeekSeries(
            "sla_breach_rate",
            "SLA breach rate at day end (%)",
            "%",
            "mean",
            breach,
            ["Chatwoot conversations"],
            [BREACH_RATE_ASSUMPTION],
            kpis.sla.thresholds,
            missing=sla_missing,
        ),
        WeekSeries(
            "traffic_anomalies",
            "Landing-page sessions per day",
            "sessions",
            "total",
            traffic,
            ["GA4 landing pages"],
            ["sum of the sessions of every landing page; GA4 dates are shop-local"],
            missing=None if week_pages else "no GA4 landing-page data recorded in the week",
        ),
        WeekSeries(
            "inventory_cover",
            "Units sold per day (the velocity behind days of cover)",
            "units",
            "total",
            units,
            ["Shopify orders", "Shopify variants"],
            [
                "days of cover is a point-in-time measure (stock history is not recorded): the "
                "week shows the units sold that drive it; SKUs at risk are in the watchpoints"
            ],
            missing=no_orders
            or (None if has_variants else "no Shopify variants recorded (inventory unknown)"),
        ),
        WeekSeries(
            "fulfillment_issue_rate",
            "Fulfillment issue rate at day end (%)",
            "%",
            "mean",
            fulfillment,
            ["Shopify orders"],
            [FULFILLMENT_HISTORY_ASSUMPTION],
            kpis.fulfillment.thresholds,
            missing=no_orders,
        ),
    ]
    documents = {item.kpi: _document(item, window, forecast, complete_until) for item in series}
    return documents, page_moves(pages, window) if week_pages else []
