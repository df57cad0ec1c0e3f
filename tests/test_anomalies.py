"""Threshold anomalies from KPI results and forecast-band anomalies: messages and severity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np

from occ.anomalies import band_anomaly, detect_anomalies, forecast_series
from occ.contracts.forecast import ForecastConfig, ForecastPoint, ForecastResult
from occ.contracts.kpis import (
    BreachedConversation,
    FulfillmentIssue,
    FulfillmentResult,
    InventoryResult,
    KpiConfig,
    PageTraffic,
    SalesConfig,
    SalesResult,
    SlaResult,
    ThresholdProfile,
    TrafficResult,
    VariantCover,
)

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def _sales(current: str, baseline: str, delta: float | None, severity: str) -> SalesResult:
    return SalesResult.model_validate(
        {
            "current": Decimal(current),
            "baseline": Decimal(baseline),
            "daily_revenue": [Decimal(baseline)] * 7,
            "delta_pct": delta,
            "severity": severity,
            "order_count": 12,
            "currency": "USD",
            "top_skus": [],
            "pending_fulfillment": [],
        }
    )


def _breached(number: int) -> BreachedConversation:
    return BreachedConversation(
        conversation_id=number,
        customer_name="Ann",
        minutes_waiting=95,
        labels=[],
        sla_minutes=60,
        last_customer_message_at=NOW - timedelta(minutes=95),
    )


def _page(
    path: str, current: int, previous: int, delta: float | None, severity: str
) -> PageTraffic:
    return PageTraffic.model_validate(
        {
            "landing_page": path,
            "current": current,
            "previous": previous,
            "wow_delta": delta,
            "severity": severity,
            "below_noise_floor": previous < 10,
        }
    )


def _variant(variant_id: str, cover: float | None, severity: str, **extra: object) -> VariantCover:
    fields: dict[str, object] = {
        "variant_id": variant_id,
        "sku": "TEE-M",
        "title": "Tee / M",
        "inventory_quantity": 5,
        "units_sold": 28,
        "velocity": 2.0,
        "days_of_cover": cover,
        "slow_mover": False,
        "severity": severity,
        "reorder_quantity": 55,
    }
    return VariantCover.model_validate(fields | extra)


def test_sales_anomaly_states_the_drop_against_the_baseline() -> None:
    sales = _sales("1204.50", "1750.00", -31.17, "critical")
    [anomaly] = detect_anomalies(sales, None, None, None, None)
    assert anomaly.message == (
        "Revenue of the last 24 h is 31.2 % below its 7-day baseline "
        "(1,204.50 vs 1,750.00 USD); critical beyond ±30 %."
    )
    assert (anomaly.kpi, anomaly.kind, anomaly.severity) == ("sales_delta", "threshold", "critical")
    assert anomaly.fact_type == "anomaly.sales_delta"
    assert anomaly.value == -31.17 and anomaly.baseline == 1750.0 and anomaly.threshold == 30


def test_quiet_results_raise_no_anomaly() -> None:
    assert detect_anomalies(None, None, None, None, None) == []
    flat = _sales("100.00", "100.00", 0.0, "none")
    no_baseline = _sales("100.00", "0", None, "none")
    sla = SlaResult(value=5.0, severity="none", population=20, awaiting_reply=3, breached=[])
    assert detect_anomalies(flat, sla, None, None, None) == []
    assert detect_anomalies(no_baseline, None, None, None, None) == []


def test_sla_and_fulfillment_anomalies_quote_their_counts_and_thresholds() -> None:
    sla = SlaResult(
        value=45.0,
        severity="critical",
        population=20,
        awaiting_reply=11,
        breached=[_breached(n) for n in range(9)],
    )
    issues = [
        FulfillmentIssue(
            order_id=f"o{n}",
            name=f"#{n}",
            status="UNFULFILLED",
            age_hours=30.0,
            unknown_status=False,
        )
        for n in range(5)
    ]
    fulfillment = FulfillmentResult(
        value=12.5, severity="warning", population=40, issues=issues, unknown_statuses=[]
    )
    sla_anomaly, fulfillment_anomaly = detect_anomalies(None, sla, None, None, fulfillment)
    assert sla_anomaly.message == (
        "SLA breach rate is 45.0 % (9 of 20 open or pending conversations waiting past their "
        "reply SLA), above the 40 % critical threshold."
    )
    assert sla_anomaly.fact_type == "anomaly.sla_breach_rate"
    assert fulfillment_anomaly.message == (
        "Fulfillment issue rate is 12.5 % (5 of 40 orders of the last 7 days not fulfilled "
        "after 24 h), above the 10 % warning threshold."
    )
    assert (fulfillment_anomaly.severity, fulfillment_anomaly.threshold) == ("warning", 10)


def test_one_anomaly_per_flagged_page_and_variant() -> None:
    traffic = TrafficResult(
        severity="critical",
        current_start=date(2026, 11, 18),
        current_end=date(2026, 11, 24),
        previous_start=date(2026, 11, 11),
        previous_end=date(2026, 11, 17),
        pages=[
            _page("/products/tee", 55, 100, -0.45, "critical"),
            _page("/collections/sale%20items", 75, 100, -0.25, "warning"),
            _page("/", 480, 500, -0.04, "none"),
            _page("/blog", 1, 8, -0.875, "none"),  # below the noise floor
        ],
    )
    inventory = InventoryResult(
        severity="critical",
        variants=[
            _variant("gid://shopify/ProductVariant/7", 2.5, "critical"),
            _variant("gid://shopify/ProductVariant/8", 20.0, "none"),
            _variant("gid://shopify/ProductVariant/9", None, "none", slow_mover=True),
        ],
        excluded_untracked=0,
        excluded_continue=0,
    )
    anomalies = detect_anomalies(None, None, traffic, inventory, None)
    assert [(a.kpi, a.key, a.severity) for a in anomalies] == [
        ("traffic_anomalies", "/products/tee", "critical"),
        ("traffic_anomalies", "/collections/sale%20items", "warning"),
        ("inventory_cover", "gid://shopify/ProductVariant/7", "critical"),
    ]
    assert anomalies[0].message == (
        "Sessions landing on /products/tee fell 45.0 % week over week (55 vs 100); "
        "critical at a 40 % drop."
    )
    assert anomalies[1].message.startswith(
        "Sessions landing on /collections/sale%20items fell 25.0 %"
    )
    assert anomalies[0].baseline == 100 and anomalies[0].threshold == -0.40
    assert anomalies[2].message == (
        "TEE-M (Tee / M) has 2.5 days of cover left (5 in stock, selling 2.00 a day; critical "
        "at 3 days); reorder 55 to cover 30 days."
    )


def test_thresholds_come_from_the_given_config() -> None:
    config = KpiConfig(
        sales=SalesConfig(thresholds=ThresholdProfile(warning=10, critical=20, direction="abs"))
    )
    sales = _sales("1300.00", "1000.00", 30.0, "critical")
    [anomaly] = detect_anomalies(sales, None, None, None, None, config=config)
    assert anomaly.threshold == 20
    assert anomaly.message.endswith(
        "30.0 % above its 7-day baseline (1,300.00 vs 1,000.00 USD); critical beyond ±20 %."
    )


def _forecast(value: float, lower: float | None, upper: float | None) -> ForecastResult:
    return ForecastResult(
        metric="daily_revenue",
        method="ses",
        level=95,
        fit_start=date(2026, 10, 1),
        fit_end=date(2026, 11, 25),
        points=[ForecastPoint(date=date(2026, 11, 26), value=value, lower=lower, upper=upper)],
        assumptions=[],
    )


def test_band_rule_warning_outside_and_critical_beyond_another_half_width() -> None:
    band = _forecast(100.0, 80.0, 120.0)  # half-width 20
    assert band_anomaly("daily_revenue", None, 120.0, band) is None  # on the edge: inside
    assert band_anomaly("daily_revenue", None, 80.0, band) is None
    warning = band_anomaly("daily_revenue", None, 135.0, band)
    assert warning is not None and warning.severity == "warning"
    assert warning.message == (
        "daily_revenue on 2026-11-26 is 135.00, above its 95 % forecast band "
        "[80.00, 120.00] (forecast 100.00 by ses)."
    )
    assert (warning.kind, warning.threshold, warning.baseline) == ("forecast_band", 120.0, 100.0)
    assert (warning.lower, warning.upper) == (80.0, 120.0)
    critical = band_anomaly("daily_revenue", None, 140.5, band)
    assert critical is not None and critical.severity == "critical"
    low = band_anomaly("daily_sessions", "/products/tee", 55.0, band)
    assert low is not None and low.severity == "critical" and low.threshold == 80.0
    assert low.message.startswith("daily_sessions of /products/tee on 2026-11-26 is 55.00, below")
    assert low.fact_type == "anomaly.daily_sessions"
    assert band_anomaly("daily_revenue", None, 61.0, band).severity == "warning"  # type: ignore[union-attr]


def test_band_half_width_survives_the_zero_clamp() -> None:
    clamped = _forecast(1.0, 0.0, 5.0)  # unclamped it was [-3, 5]: half-width 4
    assert band_anomaly("daily_units", "v7", 8.5, clamped).severity == "warning"  # type: ignore[union-attr]
    assert band_anomaly("daily_units", "v7", 9.5, clamped).severity == "critical"  # type: ignore[union-attr]


def test_no_band_no_anomaly() -> None:
    assert band_anomaly("m", None, 1e9, _forecast(1.0, None, None)) is None


def test_band_from_a_real_forecast() -> None:
    week = np.array([50.0, 60.0, 70.0, 80.0, 120.0, 160.0, 90.0])
    rng = np.random.default_rng(4)
    values = week[np.arange(56) % 7] + rng.normal(0, 4, 56)
    series = [(date(2026, 10, 1) + timedelta(days=i), float(v)) for i, v in enumerate(values)]
    forecast = forecast_series(series, ForecastConfig(), metric="daily_revenue")
    point = forecast.points[0]
    assert point.lower is not None and point.upper is not None
    assert band_anomaly("daily_revenue", None, point.value, forecast) is None
    spike = band_anomaly("daily_revenue", None, point.upper + 1, forecast)
    assert spike is not None and spike.severity == "warning"
    assert "by seasonal_es" in spike.message
