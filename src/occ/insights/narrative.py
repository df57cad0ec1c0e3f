"""The packet's sentences: the headline (largest movements) and next week's watchpoints.

Every number in a sentence is read from the trend documents, the inventory cover or the
pipeline section: nothing is typed. A movement's size is its change divided by its KPI's
warning threshold (revenue and units by the sales threshold), so a 31 % revenue drop (15 %
threshold) outranks a 25 % rise in sessions (20 % threshold) — the ``score`` in the JSON.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from occ.anomalies import InsufficientHistory, forecast_series
from occ.contracts.forecast import ForecastConfig
from occ.contracts.kpis import InventoryResult, KpiConfig
from occ.insights.trends import PageMove

__all__ = ["headline", "watchpoints"]

HEADLINE_SIZE = 3
STOCKOUT_DAYS = 14
_SKUS_LISTED = 10


def _pct(value: float) -> str:
    return f"{abs(value):.0f} %"


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def _weekday(day: str) -> str:
    return date.fromisoformat(day).strftime("%A")


def _band_clause(day: dict[str, Any]) -> str:
    if day.get("lower") is None:
        return ""
    if day.get("outsideBand"):
        return "; the forecast band did not cover it"
    return "; it stayed inside the forecast band"


def _sales(trend: dict[str, Any], threshold: float, currency: str) -> list[dict[str, Any]]:
    days = trend["days"]
    values = {d["date"]: d["value"] for d in days}
    found = []
    # Each day against the mean of its seven days before (the KPI's baseline, by local day).
    history = trend["history"]
    best: tuple[float, dict[str, Any], float] | None = None
    for day in days:
        if day["value"] is None or day["partial"]:
            continue
        before = [history.get(d) for d in _seven_before(day["date"])]
        if any(v is None for v in before):
            continue
        baseline = sum(v for v in before if v is not None) / 7
        if baseline <= 0:
            continue
        delta = (day["value"] - baseline) / baseline * 100
        if best is None or abs(delta) > abs(best[0]):
            best = (delta, day, baseline)
    if best is not None:
        delta, day, baseline = best
        direction = "rose" if delta > 0 else "fell"
        place = "above" if delta > 0 else "below"
        found.append(
            {
                "kpi": "sales_delta",
                "score": round(abs(delta) / threshold, 4),
                "sentence": (
                    f"Revenue {direction} {_pct(delta)} {place} its 7-day baseline on "
                    f"{day['weekday']} ({_money(day['value'], currency)} vs "
                    f"{_money(baseline, currency)}){_band_clause(day)}."
                ),
                "numbers": {"day": day["date"], "value": day["value"], "baseline": baseline},
            }
        )
    week = trend["week"]
    if week["changePct"] is not None and values:
        change = week["changePct"]
        found.append(
            {
                "kpi": "sales_delta",
                "score": round(abs(change) / threshold, 4),
                "sentence": (
                    f"Revenue for {_span(week)[0]} was {_money(week['value'], currency)}, "
                    f"{_pct(change)} {'up on' if change > 0 else 'down on'} {_span(week)[1]} "
                    f"({_money(week['previous'], currency)})."
                ),
                "numbers": {"value": week["value"], "previous": week["previous"]},
            }
        )
    return found


def _span(week: dict[str, Any]) -> tuple[str, str]:
    """How to name the week and the one before: whole, or the days complete so far."""
    days = week.get("completeDays", 7)
    if days >= 7:
        return "the week", "the week before"
    return f"the week's first {days} days", "the same days of the week before"


def _seven_before(day: str) -> list[str]:
    start = date.fromisoformat(day)
    return [(start - timedelta(days=k)).isoformat() for k in range(1, 8)]


def _rate_peak(trend: dict[str, Any], label: str, warning: float) -> list[dict[str, Any]]:
    known = [d for d in trend["days"] if d["value"] is not None and not d["partial"]]
    if not known or warning <= 0:
        return []
    peak = max(known, key=lambda d: d["value"])  # the first day at the peak
    week = trend["week"]
    before = (
        f", against {week['previous']:.1f} % {_span(week)[1]}"
        if week["previous"] is not None
        else ""
    )
    return [
        {
            "kpi": trend["kpi"],
            "score": round(peak["value"] / warning, 4),
            "sentence": (
                f"The {label} peaked at {peak['value']:.1f} % on {peak['weekday']} (warning "
                f"above {warning:g} %); {_span(week)[0]} averaged {week['value']:.1f} %{before}"
                f"{_band_clause(peak)}."
            ),
            "numbers": {"day": peak["date"], "peak": peak["value"], "mean": week["value"]},
        }
    ]


def _traffic(
    trend: dict[str, Any], moves: list[PageMove], config: KpiConfig
) -> list[dict[str, Any]]:
    found = []
    warning = abs(config.traffic.thresholds.warning) or 0.2
    watched = [m for m in moves if m.previous >= config.traffic.noise_floor and m.delta is not None]
    if watched:
        move = max(watched, key=lambda m: (abs(m.delta or 0.0), m.previous, m.landing_page))
        delta = move.delta or 0.0
        found.append(
            {
                "kpi": "traffic_anomalies",
                "score": round(abs(delta) / warning, 4),
                "sentence": (
                    f"Sessions landing on {move.landing_page} {'rose' if delta > 0 else 'fell'} "
                    f"{_pct(delta * 100)} week over week ({move.current:,} vs {move.previous:,})."
                ),
                "numbers": {
                    "landingPage": move.landing_page,
                    "current": move.current,
                    "previous": move.previous,
                },
            }
        )
    week = trend["week"]
    if week["changePct"] is not None:
        change = week["changePct"]
        found.append(
            {
                "kpi": "traffic_anomalies",
                "score": round(abs(change) / 100 / warning, 4),
                "sentence": (
                    f"Landing-page sessions totalled {week['value']:,.0f} in {_span(week)[0]}, "
                    f"{_pct(change)} {'up' if change > 0 else 'down'} on {_span(week)[1]} "
                    f"({week['previous']:,.0f})."
                ),
                "numbers": {"value": week["value"], "previous": week["previous"]},
            }
        )
    return found


def _units(trend: dict[str, Any], threshold: float) -> list[dict[str, Any]]:
    week = trend["week"]
    if week["changePct"] is None:
        return []
    change = week["changePct"]
    return [
        {
            "kpi": "inventory_cover",
            "score": round(abs(change) / threshold, 4),
            "sentence": (
                f"Units sold in {_span(week)[0]} {'rose' if change > 0 else 'fell'} "
                f"{_pct(change)} on {_span(week)[1]} ({week['value']:,.0f} vs "
                f"{week['previous']:,.0f}), moving every SKU's days of cover with them."
            ),
            "numbers": {"value": week["value"], "previous": week["previous"]},
        }
    ]


def headline(
    trends: dict[str, dict[str, Any]], moves: list[PageMove], config: KpiConfig, currency: str
) -> list[dict[str, Any]]:
    """The largest movements of the week, at most three, largest first."""
    sales_threshold = config.sales.thresholds.warning or 15.0
    candidates: list[dict[str, Any]] = []
    for kpi, trend in trends.items():
        if trend["status"] != "ok":
            continue
        if kpi == "sales_delta":
            candidates += _sales(trend, sales_threshold, currency)
        elif kpi == "sla_breach_rate":
            candidates += _rate_peak(trend, "SLA breach rate", config.sla.thresholds.warning)
        elif kpi == "fulfillment_issue_rate":
            candidates += _rate_peak(
                trend, "fulfillment issue rate", config.fulfillment.thresholds.warning
            )
        elif kpi == "traffic_anomalies":
            candidates += _traffic(trend, moves, config)
        elif kpi == "inventory_cover":
            candidates += _units(trend, sales_threshold)
    # One sentence per KPI: its largest movement.
    best: dict[str, dict[str, Any]] = {}
    for candidate in candidates:
        known = best.get(candidate["kpi"])
        if known is None or candidate["score"] > known["score"]:
            best[candidate["kpi"]] = candidate
    ranked = sorted(best.values(), key=lambda c: (-c["score"], c["kpi"]))
    return [c for c in ranked if c["score"] > 0][:HEADLINE_SIZE]


def _slope(values: list[float]) -> float:
    """Least-squares slope per day."""
    n = len(values)
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    den = sum((x - mean_x) ** 2 for x in range(n))
    return num / den if den else 0.0


def _trending(trend: dict[str, Any], label: str, warning: float) -> dict[str, Any] | None:
    values = [d["value"] for d in trend["days"] if d["value"] is not None and not d["partial"]]
    if len(values) < 4:
        return None
    slope, last = _slope(values), values[-1]
    if slope <= 0 or last >= warning:
        return None
    days = (warning - last) / slope
    if days > 7:
        return None
    return {
        "kind": "trend",
        "kpi": trend["kpi"],
        "text": (
            f"The {label} rose {slope:.1f} points a day over the week (last {last:.1f} %): at "
            f"that pace it crosses the {warning:g} % warning in about {days:.0f} days."
        ),
        "numbers": {"slopePerDay": round(slope, 4), "last": last, "warning": warning},
    }


def _forecast_crossing(
    history: dict[str, float | None],
    trend: dict[str, Any],
    label: str,
    warning: float,
    config: ForecastConfig,
) -> dict[str, Any] | None:
    partial = {d["date"] for d in trend["days"] if d["partial"]}
    series = sorted(
        (date.fromisoformat(day), float("nan") if v is None else v)
        for day, v in history.items()
        if day not in partial
    )
    if all(v != v for _, v in series):
        return None
    ending = date.fromisoformat(trend["window"]["ending"])
    # Fitted up to the last complete day, forecast through the seven days after the week.
    horizon = (ending - series[-1][0]).days + 7
    try:
        made = forecast_series(
            series, config.model_copy(update={"horizon": horizon}), metric=trend["kpi"]
        )
    except (InsufficientHistory, ValueError):
        return None
    crossing = next((p for p in made.points if p.date > ending and p.value > warning), None)
    if crossing is None:
        return None
    return {
        "kind": "forecast",
        "kpi": trend["kpi"],
        "text": (
            f"The {label} forecast ({made.method}) reaches {crossing.value:.1f} % on "
            f"{crossing.date.strftime('%A %d %B')}, above the {warning:g} % warning."
        ),
        "numbers": {"date": crossing.date.isoformat(), "forecast": round(crossing.value, 4)},
    }


def watchpoints(
    trends: dict[str, dict[str, Any]],
    inventory: InventoryResult | None,
    pipeline: dict[str, Any],
    config: KpiConfig,
    forecast: ForecastConfig,
) -> list[dict[str, Any]]:
    """What to check next week, each with the numbers it came from."""
    points: list[dict[str, Any]] = []
    rates = (
        ("sla_breach_rate", "SLA breach rate", config.sla.thresholds.warning),
        ("fulfillment_issue_rate", "fulfillment issue rate", config.fulfillment.thresholds.warning),
    )
    for kpi, label, warning in rates:
        trend = trends[kpi]
        if trend["status"] != "ok":
            continue
        rising = _trending(trend, label, warning)
        if rising is not None:
            points.append(rising)
        crossing = _forecast_crossing(trend["history"], trend, label, warning, forecast)
        if crossing is not None:
            points.append(crossing)
    for source in pipeline["sources"]:
        for finding in source["driftFindings"]:
            points.append(
                {
                    "kind": "drift",
                    "kpi": None,
                    "text": (
                        f"Open drift finding: {finding['stream']} field {finding['field']} "
                        f"({finding['kind']}) sent {finding['observed']!r} "
                        f"{finding['occurrences']:,} times since {finding['firstSeen'][:10]}; "
                        "check the data contract (occ contracts drift)."
                    ),
                    "numbers": finding,
                }
            )
    if inventory is not None:
        running_out = [
            v
            for v in inventory.variants
            if not v.slow_mover and v.days_of_cover is not None and v.days_of_cover <= STOCKOUT_DAYS
        ]
        for variant in running_out[:_SKUS_LISTED]:
            name = variant.sku or variant.title
            cover = variant.days_of_cover or 0.0
            points.append(
                {
                    "kind": "stockout",
                    "kpi": "inventory_cover",
                    "text": (
                        f"{name} ({variant.title}) "
                        + (
                            f"will stock out in about {cover:.1f} days: "
                            f"{variant.inventory_quantity:,} in stock"
                            if variant.inventory_quantity > 0
                            else "is out of stock"
                        )
                        + f", selling {variant.velocity:.2f} a day; reorder "
                        f"{variant.reorder_quantity:,}."
                    ),
                    "numbers": {
                        "variantId": variant.variant_id,
                        "sku": variant.sku,
                        "daysOfCover": round(cover, 4),
                        "inStock": variant.inventory_quantity,
                        "velocity": round(variant.velocity, 4),
                        "reorder": variant.reorder_quantity,
                    },
                }
            )
        if len(running_out) > _SKUS_LISTED:
            points.append(
                {
                    "kind": "stockout",
                    "kpi": "inventory_cover",
                    "text": (
                        f"… and {len(running_out) - _SKUS_LISTED:,} more SKUs under "
                        f"{STOCKOUT_DAYS} days of cover (the inventory tile lists them)."
                    ),
                    "numbers": {"more": len(running_out) - _SKUS_LISTED},
                }
            )
    return points
