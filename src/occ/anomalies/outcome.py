"""Did it work? An approved action's anomaly, checked against its KPI once the horizon passed.

The rule (pure: the caller reads the facts and passes ``now``):

- The check falls due at ``decided_at + horizon`` (``horizon_days``: sales 7 days, CX 3,
  traffic 7, fulfillment 3, inventory the reorder lead time). Before that it is *not checked
  yet* (``None``), and so it stays while no refresh recorded the KPI since, for a grace
  period (``OutcomeConfig.grace_hours``) — a refresh may simply not have run yet.
- It reads the first KPI fact whose as-of instant is at or after the due instant (the
  caller's :class:`KpiReading`). The action **worked** when the KPI — for a landing page or
  a variant, that key — is back inside its thresholds (severity none) and, for a
  forecast-band anomaly, the refresh's observed value lies inside that refresh's band (or
  beyond it on the good side: a breach rate below its band, sessions above theirs; sales
  must be inside); otherwise it **did not work**. A variant out of stock did not work
  whatever its velocity.
- **Not enough data**, with the reason: no refresh recorded the KPI within the grace
  period, the KPI's data was stale (gated) or not configured in that refresh, the key is
  absent from it, the KPI's value is undefined (no baseline, no sales to measure cover, a
  page under the noise floor), or a band check finds no band.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from occ.contracts.kpis import KpiConfig, ThresholdProfile
from occ.contracts.outcomes import Outcome, OutcomeConfig

__all__ = [
    "KindShare",
    "KpiReading",
    "OutcomeVerdict",
    "evaluate_outcome",
    "horizon_days",
    "outcome_shares",
]

_LABELS = {
    "sales_delta": "sales delta",
    "sla_breach_rate": "SLA breach rate",
    "traffic_anomalies": "landing-page traffic",
    "inventory_cover": "inventory days of cover",
    "fulfillment_issue_rate": "fulfillment issue rate",
    "unsellable_traffic": "unsellable traffic",
}
_BAND_NAMES = {"sales": "revenue", "breach-rate": "breach rate", "sessions": "sessions"}


def horizon_days(kpi: str, outcomes: OutcomeConfig, kpis: KpiConfig) -> int | None:
    """Days after the decision its KPI is checked; None for a KPI occ does not check."""
    return {
        "sales_delta": outcomes.sales_days,
        "sla_breach_rate": outcomes.cx_days,
        "traffic_anomalies": outcomes.traffic_days,
        "fulfillment_issue_rate": outcomes.fulfillment_days,
        "inventory_cover": kpis.inventory.lead_time_days,
        # restocking the product (or sending its traffic elsewhere) takes the reorder lead time
        "unsellable_traffic": kpis.inventory.lead_time_days,
    }.get(kpi)


@dataclass(frozen=True, slots=True)
class KpiReading:
    """One refresh's KPI fact as the check reads it.

    ``value`` and ``config`` are the fact's value (status, result, gate) and
    ``metadata.config``; ``forecast`` is the value of that refresh's forecast fact for the
    anomaly's metric and key (``observed``, ``points``, ``level``), when it made one.
    """

    fact_id: int
    as_of: datetime
    value: Mapping[str, Any]
    config: Mapping[str, Any]
    forecast: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class OutcomeVerdict:
    """The outcome, one sentence with its numbers, and the KPI as the check read it."""

    outcome: Outcome
    reason: str
    after: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class _Measured:
    subject: str  # "SLA breach rate", "Sessions landing on /a", "SKU-A (Default)"
    shown: str  # the value as a reader sees it: "12.5 %", "+3.0 % week over week (…)"
    value: float
    severity: str
    unit: str  # "%", "fraction" (shown as a percentage drop), "days"


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _measure(kpi: str, key: str | None, result: Mapping[str, Any], day: str) -> _Measured | str:
    """The KPI's value (for ``key``) in a fact's result, or why there is none to judge."""
    if kpi == "sales_delta":
        delta = result.get("delta_pct")
        if delta is None:
            why = result.get("reason") or "its baseline was 0"
            return f"the sales delta of {day} is undefined ({why})"
        return _Measured("Sales delta", f"{delta:+.1f} %", float(delta), result["severity"], "%")
    if kpi in ("sla_breach_rate", "fulfillment_issue_rate"):
        value = float(result["value"])
        return _Measured(_capital(_LABELS[kpi]), f"{value:.1f} %", value, result["severity"], "%")
    if kpi == "traffic_anomalies":
        page = next((p for p in result.get("pages", []) if p.get("landing_page") == key), None)
        if page is None:
            return f"landing page {key} is not in the GA4 data of the refresh of {day}"
        if page.get("below_noise_floor"):
            return (
                f"landing page {key} had {page['previous']:,} sessions the week before {day}, "
                "under the noise floor: too few to judge"
            )
        if page.get("wow_delta") is None:
            return f"landing page {key} had no sessions the week before {day} to compare with"
        delta = float(page["wow_delta"])
        shown = f"{delta * 100:+.1f} % week over week ({page['current']:,} vs {page['previous']:,})"
        return _Measured(f"Sessions landing on {key}", shown, delta, page["severity"], "fraction")
    if kpi == "inventory_cover":
        variant = next((v for v in result.get("variants", []) if v.get("variant_id") == key), None)
        if variant is None:
            return (
                f"variant {key} is not in the inventory data of {day} (removed, untracked or "
                "selling when out of stock)"
            )
        sku, title = variant.get("sku"), variant.get("title") or key
        name = f"{sku} ({title})" if sku else str(title)
        stock = int(variant.get("inventory_quantity") or 0)
        if stock <= 0:
            return _Measured(name, f"out of stock ({stock:,} in stock)", 0.0, "critical", "stock")
        cover = variant.get("days_of_cover")
        if cover is None:
            return (
                f"{name} sold no unit in the velocity window before {day}: its days of cover "
                "are undefined"
            )
        shown = f"{float(cover):.1f} days of cover ({stock:,} in stock)"
        return _Measured(name, shown, float(cover), variant["severity"], "days")
    if kpi == "unsellable_traffic":
        page = next((p for p in result.get("pages", []) if p.get("landing_page") == key), None)
        subject = f"Traffic on {key}"
        if page is None:  # sellable again, or no longer visited
            return _Measured(subject, "lands on a product that can be sold", 0.0, "none", "%")
        share = page.get("share_of_revenue_pct")
        if share is None:
            return f"the revenue at risk on {key} on {day} could not be estimated (no history)"
        state = str(page["state"]).replace("_", " ")
        shown = f"puts {float(share):.1f} % of the window's revenue at risk ({state})"
        return _Measured(subject, shown, float(share), page["severity"], "%")
    return f"occ does not check outcomes of the KPI {kpi}"


def _threshold_clause(measured: _Measured, profile: ThresholdProfile) -> str:
    severity = measured.severity
    limit = profile.critical if severity == "critical" else profile.warning
    named = "warning" if severity == "none" else severity
    if measured.unit == "stock":
        return "nothing left to sell"
    if profile.direction == "abs":
        if severity == "none":
            return f"back within ±{limit:g} % of its baseline"
        return f"still beyond ±{limit:g} % of its baseline ({named})"
    if measured.unit == "fraction":
        drop = f"{limit * 100:g} %"
        if severity == "none":
            return f"back above the {drop} {named} drop"
        return f"still at or below the {drop} {named} drop"
    unit = " %" if measured.unit == "%" else "-day"
    if profile.direction == "above":
        if severity == "none":
            return f"back under the {limit:g}{unit} {named} threshold"
        return f"still above the {limit:g}{unit} {named} threshold"
    if severity == "none":
        return f"back above the {limit:g}{unit} {named} threshold"
    return f"still at or under the {limit:g}{unit} {named} threshold"


def _band(forecast: Mapping[str, Any] | None) -> tuple[float, float, float, int, str] | None:
    """(observed, lower, upper, level, metric) of a forecast fact's first point, if complete."""
    if not forecast or forecast.get("observed") is None or not forecast.get("points"):
        return None
    point = forecast["points"][0]
    if point.get("lower") is None or point.get("upper") is None:
        return None
    return (
        float(forecast["observed"]),
        float(point["lower"]),
        float(point["upper"]),
        int(forecast.get("level") or 0),
        str(forecast.get("metric", "")),
    )


def _judge(anomaly: Mapping[str, Any], reading: KpiReading) -> OutcomeVerdict:
    kpi, key = str(anomaly.get("kpi")), anomaly.get("key")
    day, label = _day(reading.as_of), _LABELS.get(str(anomaly.get("kpi")), kpi)
    after: dict[str, Any] = {"factId": reading.fact_id, "asOf": reading.as_of.isoformat()}
    value = reading.value
    if value.get("status") != "ok":
        missing = ", ".join(value.get("missingStreams", [])) or "its streams"
        reason = f"The {label} was not configured in the refresh of {day} (missing {missing})."
        return OutcomeVerdict("not_enough_data", reason, after | {"status": value.get("status")})
    gate = value.get("gate")
    if gate:
        reason = f"The {label} of {day} was stale data: {gate.get('reason', 'gated')}."
        return OutcomeVerdict("not_enough_data", reason, after | {"gate": dict(gate)})
    measured = _measure(kpi, key, value.get("result") or {}, day)
    if isinstance(measured, str):
        return OutcomeVerdict("not_enough_data", _capital(measured) + ".", after)
    after |= {"value": measured.value, "severity": measured.severity}
    if "thresholds" not in reading.config:
        reason = f"The {label} fact of {day} records no thresholds to judge it by."
        return OutcomeVerdict("not_enough_data", reason, after)
    profile = ThresholdProfile.model_validate(reading.config["thresholds"])
    clause = _threshold_clause(measured, profile)
    sentence = f"{measured.subject} {measured.shown} on {day}, {clause}"
    if measured.severity != "none" or measured.unit == "stock":
        return OutcomeVerdict("did_not_work", sentence + ".", after)
    if anomaly.get("kind") != "forecast_band":
        return OutcomeVerdict("worked", sentence + ".", after)
    band = _band(reading.forecast)
    if band is None:
        reason = f"{sentence}, but the refresh of {day} made no forecast band to check against."
        return OutcomeVerdict("not_enough_data", reason, after)
    observed, lower, upper, level, metric = band
    after |= {"observed": observed, "lower": lower, "upper": upper}
    name = _BAND_NAMES.get(metric, metric)
    span = f"its {level} % forecast band [{lower:,.2f}, {upper:,.2f}]"
    if lower <= observed <= upper:
        reason = f"{sentence}, and {name} {observed:,.2f} inside {span}."
        return OutcomeVerdict("worked", reason, after)
    side = "above" if observed > upper else "below"
    # A rate bad when high that fell below its band (traffic: rose above it) got better than
    # forecast, not worse: that is what the action was for. Sales are bad either way.
    if (profile.direction, side) in (("above", "below"), ("below", "above")):
        reason = f"{sentence}, and {name} {observed:,.2f} {side} {span}, better than forecast."
        return OutcomeVerdict("worked", reason, after)
    reason = f"{sentence}, but {name} {observed:,.2f} is {side} {span}."
    return OutcomeVerdict("did_not_work", reason, after)


def evaluate_outcome(
    anomaly: Mapping[str, Any],
    reading: KpiReading | None,
    *,
    due: datetime,
    now: datetime,
    grace: timedelta,
) -> OutcomeVerdict | None:
    """The outcome of an approved action on ``anomaly`` (an ``anomaly.*`` fact's value),
    checked as of ``now``; None while it is not checked yet (module docstring).

    ``reading`` is the first KPI fact at or after ``due`` and at or before ``now``.
    """
    if now < due:
        return None
    if reading is None:
        if now < due + grace:
            return None
        label = _LABELS.get(str(anomaly.get("kpi")), str(anomaly.get("kpi")))
        hours = grace.total_seconds() / 3600
        reason = (
            f"No refresh recorded the {label} between the check's due time {_instant(due)} and "
            f"{_instant(now)} ({hours:g} h of grace)."
        )
        return OutcomeVerdict("not_enough_data", reason)
    return _judge(anomaly, reading)


@dataclass(frozen=True, slots=True)
class KindShare:
    """How the checked actions of one kind turned out; ``share`` = worked / judged."""

    kind: str
    worked: int
    did_not_work: int
    not_enough_data: int

    @property
    def judged(self) -> int:
        return self.worked + self.did_not_work

    @property
    def share(self) -> float | None:
        return self.worked / self.judged if self.judged else None

    def as_dict(self) -> dict[str, Any]:
        share = self.share
        return {
            "kind": self.kind,
            "checked": self.judged + self.not_enough_data,
            "worked": self.worked,
            "didNotWork": self.did_not_work,
            "notEnoughData": self.not_enough_data,
            "share": None if share is None else round(share, 4),
        }


def outcome_shares(outcomes: Iterable[tuple[str, str]]) -> list[KindShare]:
    """Per kind of action (sorted by name), from ``(kind, outcome)`` pairs.

    The share counts only the actions that could be judged: "not enough data" is neither a
    success nor a failure, and is counted beside it.
    """
    counts: dict[str, dict[str, int]] = {}
    for kind, outcome in outcomes:
        tally = counts.setdefault(kind, {"worked": 0, "did_not_work": 0, "not_enough_data": 0})
        tally[outcome] += 1
    return [KindShare(kind, **counts[kind]) for kind in sorted(counts)]
