"""Anomalies from the KPI results (fixed thresholds) and from forecasts (prediction bands).

Threshold anomalies carry ``value`` (the KPI value, in the unit of its thresholds),
``threshold`` (the configured threshold of the reported severity) and, for the KPIs that
compare against a reference, ``baseline`` in the underlying measure: the daily baseline
revenue for sales, the previous week's sessions for a page. Unsellable traffic is in money:
``value`` is a page's revenue at risk, ``baseline`` the store's revenue in the window and
``threshold`` the threshold's percent of it.

Band rule (``band_anomaly``): a value outside the first forecast point's ``[lower, upper]``
is a warning; it is critical when it lies outside by more than the interval's half-width
again, i.e. beyond ``upper + h`` or below ``lower - h`` with ``h`` the larger of
``upper - forecast`` and ``forecast - lower`` (the larger side, so that clamping the lower
bound at 0 does not shrink it). A zero-width band makes any value outside it critical.
"""

from __future__ import annotations

from occ.contracts.anomalies import Anomaly, AnomalySeverity
from occ.contracts.forecast import ForecastResult
from occ.contracts.kpis import (
    UNSELLABLE_VARIANTS_NAMED,
    FulfillmentResult,
    InventoryResult,
    KpiConfig,
    SalesResult,
    Severity,
    SlaResult,
    ThresholdProfile,
    TrafficResult,
    UnsellablePage,
    UnsellableResult,
)

__all__ = ["FORECAST_METRICS", "KPI_NAMES", "band_anomaly", "detect_anomalies"]

KPI_NAMES = {
    "sales": "sales_delta",
    "sla": "sla_breach_rate",
    "traffic": "traffic_anomalies",
    "inventory": "inventory_cover",
    "fulfillment": "fulfillment_issue_rate",
    "unsellable": "unsellable_traffic",
}
FORECAST_METRICS = {
    "sales_delta": "sales",
    "sla_breach_rate": "breach-rate",
    "traffic_anomalies": "sessions",
    "inventory_cover": "units",
}
"""The forecast metric of each KPI: its band is what a forecast-band anomaly is raised against."""


def _threshold(profile: ThresholdProfile, severity: Severity) -> float:
    return profile.critical if severity == "critical" else profile.warning


def _flagged(severity: Severity) -> AnomalySeverity | None:
    if severity == "critical":
        return "critical"
    return "warning" if severity == "warning" else None


def _sales(sales: SalesResult, config: KpiConfig) -> Anomaly | None:
    severity = _flagged(sales.severity)
    if severity is None or sales.delta_pct is None:
        return None
    delta = sales.delta_pct
    threshold = _threshold(config.sales.thresholds, severity)
    direction = "above" if delta > 0 else "below"
    days = len(sales.daily_revenue) or config.sales.baseline_days
    message = (
        f"Revenue of the last 24 h is {abs(delta):.1f} % {direction} its {days}-day baseline "
        f"({sales.current:,.2f} vs {sales.baseline:,.2f} {sales.currency}); "
        f"{severity} beyond ±{threshold:g} %."
    )
    return Anomaly(
        kpi=KPI_NAMES["sales"],
        kind="threshold",
        severity=severity,
        value=delta,
        baseline=float(sales.baseline),
        threshold=threshold,
        message=message,
    )


def _sla(sla: SlaResult, config: KpiConfig) -> Anomaly | None:
    severity = _flagged(sla.severity)
    if severity is None:
        return None
    threshold = _threshold(config.sla.thresholds, severity)
    message = (
        f"SLA breach rate is {sla.value:.1f} % ({len(sla.breached)} of {sla.population} open "
        f"or pending conversations waiting past their reply SLA), above the {threshold:g} % "
        f"{severity} threshold."
    )
    return Anomaly(
        kpi=KPI_NAMES["sla"],
        kind="threshold",
        severity=severity,
        value=sla.value,
        threshold=threshold,
        message=message,
    )


def _traffic(traffic: TrafficResult, config: KpiConfig) -> list[Anomaly]:
    anomalies: list[Anomaly] = []
    for page in traffic.pages:
        severity = _flagged(page.severity)
        if severity is None or page.wow_delta is None:
            continue
        threshold = _threshold(config.traffic.thresholds, severity)
        message = (
            f"Sessions landing on {page.landing_page} fell {-page.wow_delta * 100:.1f} % week "
            f"over week ({page.current:,} vs {page.previous:,}); {severity} at a "
            f"{-threshold * 100:g} % drop."
        )
        anomalies.append(
            Anomaly(
                kpi=KPI_NAMES["traffic"],
                key=page.landing_page,
                kind="threshold",
                severity=severity,
                value=page.wow_delta,
                baseline=float(page.previous),
                threshold=threshold,
                message=message,
            )
        )
    return anomalies


def _inventory(inventory: InventoryResult, config: KpiConfig) -> list[Anomaly]:
    anomalies: list[Anomaly] = []
    for variant in inventory.variants:
        severity = _flagged(variant.severity)
        if severity is None or variant.days_of_cover is None:
            continue
        threshold = _threshold(config.inventory.thresholds, severity)
        name = f"{variant.sku} ({variant.title})" if variant.sku else variant.title
        message = (
            f"{name} has {variant.days_of_cover:.1f} days of cover left "
            f"({variant.inventory_quantity:,} in stock, selling {variant.velocity:.2f} a day; "
            f"{severity} at {threshold:g} days); reorder {variant.reorder_quantity:,} "
            f"to cover {config.inventory.cover_target_days} days."
        )
        anomalies.append(
            Anomaly(
                kpi=KPI_NAMES["inventory"],
                key=variant.variant_id,
                kind="threshold",
                severity=severity,
                value=variant.days_of_cover,
                threshold=threshold,
                message=message,
            )
        )
    return anomalies


def _fulfillment(fulfillment: FulfillmentResult, config: KpiConfig) -> Anomaly | None:
    severity = _flagged(fulfillment.severity)
    if severity is None:
        return None
    threshold = _threshold(config.fulfillment.thresholds, severity)
    message = (
        f"Fulfillment issue rate is {fulfillment.value:.1f} % ({len(fulfillment.issues)} of "
        f"{fulfillment.population} orders of the last {config.fulfillment.window_days} days "
        f"not fulfilled after {config.fulfillment.processing_hours:g} h), above the "
        f"{threshold:g} % {severity} threshold."
    )
    return Anomaly(
        kpi=KPI_NAMES["fulfillment"],
        kind="threshold",
        severity=severity,
        value=fulfillment.value,
        threshold=threshold,
        message=message,
    )


def _stock_text(page: UnsellablePage) -> str:
    named = [
        f"{variant.sku or variant.title}: {variant.inventory_quantity:,} in stock"
        + (
            f", {variant.days_of_cover:.1f} days of cover"
            if variant.state == "low_cover" and variant.days_of_cover is not None
            else ""
        )
        for variant in page.variants[:UNSELLABLE_VARIANTS_NAMED]
    ]
    more = len(page.variants) - UNSELLABLE_VARIANTS_NAMED
    return "; ".join(named) + (f"; {more} more variant(s)" if more > 0 else "")


def _unsellable(result: UnsellableResult, config: KpiConfig) -> list[Anomaly]:
    anomalies: list[Anomaly] = []
    window = f"{result.current_start} – {result.current_end}"
    for page in result.pages:
        severity = _flagged(page.severity)
        if (
            severity is None
            or page.revenue_at_risk is None
            or page.conversion_rate is None
            or page.average_order_value is None
        ):
            continue
        percent = _threshold(config.unsellable.thresholds, severity)
        revenue = result.window_revenue or 0
        stock = (
            "is out of stock"
            if page.state == "out_of_stock"
            else f"has no variant with more than {result.cover_critical_days:g} days of cover"
        )
        rates = "its own" if page.basis == "product" else "the store's"
        share = (
            f"{page.share_of_revenue_pct:.2f} % of the window's {revenue:,.2f} "
            f"{result.currency} revenue; "
            f"{severity} above {percent:g} %"
            if page.share_of_revenue_pct is not None
            else f"in a window without revenue; {severity}"
        )
        message = (
            f"{page.landing_page} took {page.sessions:,} sessions in {window} while "
            f"{page.product_title} {stock} ({_stock_text(page)}): about "
            f"{page.revenue_at_risk:,.2f} {result.currency} of revenue at risk "
            f"({page.sessions:,} × {page.conversion_rate * 100:.2f} % conversion × "
            f"{page.average_order_value:,.2f} average order, {rates} rates), {share}."
        )
        anomalies.append(
            Anomaly(
                kpi=KPI_NAMES["unsellable"],
                key=page.landing_page,
                kind="threshold",
                severity=severity,
                value=float(page.revenue_at_risk),
                baseline=float(revenue),
                threshold=float(revenue) * percent / 100,
                message=message,
            )
        )
    return anomalies


def detect_anomalies(
    sales: SalesResult | None,
    sla: SlaResult | None,
    traffic: TrafficResult | None,
    inventory: InventoryResult | None,
    fulfillment: FulfillmentResult | None,
    *,
    unsellable: UnsellableResult | None = None,
    config: KpiConfig | None = None,
) -> list[Anomaly]:
    """Threshold anomalies of one refresh, in tile order.

    One each for sales, SLA and fulfillment when their severity is not ``none``, one per
    flagged landing page, one per flagged variant and one per flagged unsellable product
    page (in the results' worst-first order). ``config`` supplies the thresholds quoted in
    the anomalies (the defaults when omitted).
    """
    config = config or KpiConfig()
    anomalies: list[Anomaly] = []
    single = [
        None if sales is None else _sales(sales, config),
        None if sla is None else _sla(sla, config),
    ]
    anomalies.extend(anomaly for anomaly in single if anomaly is not None)
    if traffic is not None:
        anomalies.extend(_traffic(traffic, config))
    if inventory is not None:
        anomalies.extend(_inventory(inventory, config))
    if fulfillment is not None:
        found = _fulfillment(fulfillment, config)
        if found is not None:
            anomalies.append(found)
    if unsellable is not None:
        anomalies.extend(_unsellable(unsellable, config))
    return anomalies


def band_anomaly(
    kpi: str, key: str | None, value: float, forecast: ForecastResult
) -> Anomaly | None:
    """Flag ``value`` when it falls outside the first forecast point's band (module docstring).

    Returns ``None`` inside the band, and when the forecast has no point or no interval.
    """
    if not forecast.points:
        return None
    point = forecast.points[0]
    if point.lower is None or point.upper is None:
        return None
    if point.lower <= value <= point.upper:
        return None
    above = value > point.upper
    half_width = max(point.upper - point.value, point.value - point.lower)
    outside_by = value - point.upper if above else point.lower - value
    severity: AnomalySeverity = "critical" if outside_by > half_width else "warning"
    subject = kpi if key is None else f"{kpi} of {key}"
    message = (
        f"{subject} on {point.date} is {value:,.2f}, {'above' if above else 'below'} its "
        f"{forecast.level} % forecast band [{point.lower:,.2f}, {point.upper:,.2f}] "
        f"(forecast {point.value:,.2f} by {forecast.method})."
    )
    return Anomaly(
        kpi=kpi,
        key=key,
        kind="forecast_band",
        severity=severity,
        value=value,
        baseline=point.value,
        threshold=point.upper if above else point.lower,
        lower=point.lower,
        upper=point.upper,
        message=message,
    )
