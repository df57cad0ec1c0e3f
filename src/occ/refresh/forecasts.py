"""``occ forecast``: a KPI series as of a past or present instant, forecast or backtested."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from occ.anomalies import InsufficientHistory, backtest, forecast_series
from occ.contracts.forecast import BacktestRow, ForecastConfig, ForecastResult
from occ.contracts.kpis import SlaConfig
from occ.errors import ConfigError, NotFoundError
from occ.metrics.series import daily_breach_rate, daily_revenue, daily_sessions, daily_units
from occ.store import records as store
from occ.store.records import ShopInfo

__all__ = ["METRICS", "Metric", "metric_series", "run_backtest", "run_forecast"]

Metric = Literal["sales", "sessions", "units", "breach-rate"]
METRICS: tuple[Metric, ...] = ("sales", "sessions", "units", "breach-rate")


def metric_series(
    connection: Connection,
    shop: ShopInfo,
    metric: Metric,
    key: str | None,
    now: datetime,
    days: int,
    sla: SlaConfig,
) -> list[tuple[date, float]]:
    """The daily series of ``metric`` over the ``days`` complete local days before ``now``.

    Data after ``now`` is ignored, so a past day can be replayed. Days without data count as
    0 (KPIS.md), but a ``now`` with no complete local day of the stream before it has no
    history at all.

    Raises:
        ConfigError: ``key`` is missing for a metric that needs one.
        NotFoundError: no such key, or nothing of the stream recorded before ``now``.
    """
    zone = ZoneInfo(shop.timezone)
    end = now.astimezone(zone).date() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    since = datetime.combine(start, datetime.min.time(), zone) - timedelta(days=1)
    if metric in ("sessions", "units") and not key:
        raise ConfigError(f"forecast {metric} needs --key (a landing page or a variant id / SKU)")
    if metric != "sessions":  # sessions: a page without rows in the window is refused below
        stream = "chatwoot.messages" if metric == "breach-rate" else "shopify.orders"
        span = store.record_days(connection, shop, stream)
        if span is None or span[0] > end:  # no complete local day of it before now
            held = "nothing" if span is None else f"records from {span[0].isoformat()}"
            raise NotFoundError(
                f"no {stream} history before {now.isoformat()} to forecast {metric} from (the"
                f" store holds {held}); pass a later --now or refresh more history"
            )
    if metric == "sales":
        orders = store.load_orders(connection, shop.domain, since, now)
        return [(d, float(v)) for d, v in daily_revenue(orders, shop.timezone, start, end)]
    if metric == "units":
        assert key is not None
        variants = store.load_variants(connection, shop.domain)
        variant = next((v for v in variants if key in (v.variant_id, v.sku)), None)
        if variant is None:
            raise NotFoundError(f"no variant with id or SKU {key!r}; see `occ kpis --json`")
        orders = store.load_orders(connection, shop.domain, since, now)
        series = daily_units(orders, shop.timezone, start, end, variant.variant_id, variant.sku)
        return [(d, float(v)) for d, v in series]
    if metric == "sessions":
        assert key is not None
        rows = store.load_landing_page_days(connection, shop.domain, start, end)
        if not any(row.landing_page == key for row in rows):
            raise NotFoundError(f"no GA4 sessions recorded for landing page {key!r}")
        return [(d, float(v)) for d, v in daily_sessions(rows, key, start, end)]
    conversations = store.load_conversations(connection, shop.domain, ("open", "pending"))
    return daily_breach_rate(conversations, shop.timezone, start, end, sla)


def run_forecast(
    series: list[tuple[date, float]],
    config: ForecastConfig,
    metric: Metric,
    key: str | None,
    method: str | None,
) -> ForecastResult:
    try:
        return forecast_series(series, config, metric=metric, key=key, method=method)
    except InsufficientHistory as exc:
        raise NotFoundError(f"{exc}; refresh more history first") from None


def run_backtest(
    series: list[tuple[date, float]],
    config: ForecastConfig,
    methods: list[str],
    origins: int,
) -> list[BacktestRow]:
    try:
        return backtest(series, config, methods, origins, config.horizon)
    except (InsufficientHistory, ValueError) as exc:
        raise ConfigError(f"backtest impossible: {exc}") from None
