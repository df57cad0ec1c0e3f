"""The settings page's rows: each alerting setting, its value, whether it was configured
(``OCC_*`` environment, ``occ.toml`` or the app's caller) or left at its default, and the
environment variable and ``occ.toml`` key that change it.

Only the settings listed here are shown — thresholds, windows, forecast, stale-data gating,
refresh interval — never a credential, URL or key: the page reads no field it does not name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from occ.config import Settings
from occ.contracts.kpis import TILE_TITLES, ThresholdProfile
from occ.refresh.compute import KPI_CONFIG_KEYS
from occ.refresh.replay import NOT_REPLAYABLE, REPLAYABLE

__all__ = ["SettingGroup", "SettingRow", "setting_groups"]

_LABELS = {
    "warning": "Warning threshold",
    "critical": "Critical threshold",
    "direction": "Direction",
    "baseline_days": "Baseline (days before the current 24 h)",
    "top_skus": "Top SKUs listed",
    "pending_window_days": "Orders pending fulfillment: window (days)",
    "sla_minutes": "SLA (minutes to the first reply)",
    "priority_sla_minutes": "Priority SLA (minutes)",
    "priority_label": "Label of priority conversations",
    "window_days": "Window (days)",
    "noise_floor": "Noise floor (sessions in the previous window)",
    "velocity_days": "Sales velocity window (days)",
    "slow_mover_velocity": "Slow mover below (units a day)",
    "cover_target_days": "Cover target of a reorder (days)",
    "processing_hours": "Processing time before an order is stuck (hours)",
    "method": "Method",
    "horizon": "Horizon (days)",
    "level": "Prediction interval (%)",
    "fit_days": "Fit window (days)",
    "season_length": "Season length (days)",
    "min_seasonal_history": "Least history for the seasonal model (days)",
    "refresh_interval_minutes": "Tiles are stale after (minutes)",
    "stale_violation_rate": "Stale data: share of records breaking the contract",
    "action_quiet_hours": "A decided action stays out of the queue (hours)",
}
_UNITS = {
    "sales_delta": "% against the baseline",
    "sla_breach_rate": "% of conversations awaiting a reply",
    "traffic_anomalies": "week-over-week ratio (−0.20 = −20 %)",
    "inventory_cover": "days of cover",
    "fulfillment_issue_rate": "% of orders",
    "unsellable_traffic": "% of the window's revenue put at risk by one page",
}
_DIRECTIONS = {
    "above": "above: bad when the value is greater than the threshold",
    "below": "below: bad when the value is at or under the threshold",
    "abs": "abs: bad when the value moves past the threshold either way",
}
_MEASURES = {
    "sales_delta": "sales delta",
    "sla_breach_rate": "SLA breach rate",
    "traffic_anomalies": "traffic anomalies",
    "inventory_cover": "days of cover",
    "fulfillment_issue_rate": "issue rate",
    "unsellable_traffic": "revenue at risk",
}
_SOURCES = ("shopify", "chatwoot", "ga4")


@dataclass(frozen=True, slots=True)
class SettingRow:
    key: str  # dotted path in Settings: kpis.sla.sla_minutes
    label: str
    value: Any
    configured: bool
    toml: str
    env: str
    note: str = ""

    @property
    def shown(self) -> str:
        if self.value is None:
            return "not checked"
        if isinstance(self.value, float):
            return f"{self.value:g}"
        return str(self.value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "source": "configured" if self.configured else "default",
            "toml": self.toml,
            "env": self.env,
        }


@dataclass(frozen=True, slots=True)
class SettingGroup:
    key: str
    title: str
    rows: list[SettingRow]
    kpi: str | None = None
    unit: str = ""
    thresholds: ThresholdProfile | None = None

    @property
    def replayable(self) -> bool:
        return self.kpi in REPLAYABLE

    @property
    def not_replayable(self) -> str | None:
        """Why the KPI cannot be previewed, when it cannot."""
        return NOT_REPLAYABLE.get(self.kpi or "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "kpi": self.kpi,
            "replayable": self.replayable,
            "settings": [row.as_dict() for row in self.rows],
        }


def _configured(settings: Settings, path: tuple[str, ...]) -> bool:
    """Whether every step of ``path`` was given rather than defaulted (a configured table
    holds exactly the entries given)."""
    node: Any = settings
    for part in path:
        if isinstance(node, BaseModel):
            if part not in node.model_fields_set:
                return False
            node = getattr(node, part)
        elif isinstance(node, Mapping):
            return part in node
    return True


def _row(settings: Settings, path: tuple[str, ...], value: Any, note: str = "") -> SettingRow:
    *table, name = path
    label = _LABELS.get(name, name.replace("_", " ").capitalize())
    if path[0] == "stale_after_hours":
        label = f"Stale data: {name} silent for more than (hours)"
    return SettingRow(
        key=".".join(path),
        label=label,
        value=value,
        configured=_configured(settings, path),
        toml=f"[{'.'.join(table)}] {name}" if table else name,
        env="OCC_" + "__".join(path).upper(),
        note=note,
    )


def _model_rows(settings: Settings, model: BaseModel, path: tuple[str, ...]) -> list[SettingRow]:
    rows = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            rows += _model_rows(settings, value, (*path, name))
        else:
            note = _DIRECTIONS.get(value, "") if name == "direction" else ""
            rows.append(_row(settings, (*path, name), value, note))
    return rows


def setting_groups(settings: Settings) -> list[SettingGroup]:
    """The alerting settings, grouped: general, forecast, then one group per KPI."""
    general = [
        _row(settings, ("refresh_interval_minutes",), settings.refresh_interval_minutes),
        _row(settings, ("stale_violation_rate",), settings.stale_violation_rate),
        *(
            _row(settings, ("stale_after_hours", source), settings.stale_after_hours.get(source))
            for source in (*_SOURCES, *sorted(set(settings.stale_after_hours) - set(_SOURCES)))
        ),
        _row(settings, ("action_quiet_hours",), settings.action_quiet_hours),
    ]
    groups = [
        SettingGroup("general", "Refresh, stale data and the approvals queue", general),
        SettingGroup(
            "forecast",
            "Forecasts and their band",
            _model_rows(settings, settings.forecast, ("forecast",)),
        ),
    ]
    for kpi, key in KPI_CONFIG_KEYS.items():
        model = getattr(settings.kpis, key)
        groups.append(
            SettingGroup(
                kpi,
                f"{TILE_TITLES[kpi]} — {_MEASURES[kpi]}",
                _model_rows(settings, model, ("kpis", key)),
                kpi=kpi,
                unit=_UNITS.get(kpi, ""),
                thresholds=model.thresholds,
            )
        )
    return groups
