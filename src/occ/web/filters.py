"""Jinja filters of the dashboard: numbers, money, ages, severities and incident kinds as people
read them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment

from occ.contracts.incidents import INCIDENT_KIND_LABELS

__all__ = ["SEVERITY_ICONS", "install_filters"]

SEVERITY_ICONS = {"critical": "✖", "warning": "▲", "none": "●", "unconfigured": "○"}
SEVERITY_TEXT = {"critical": "Critical", "warning": "Warning", "none": "OK", "unconfigured": "—"}


def _number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{float(value):,.{digits}f}"


def _pct(value: Any, digits: int = 1, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{float(value):{'+' if signed else ''},.{digits}f} %"


def _ratio_pct(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{float(value) * 100:+,.{digits}f} %"


def _general(value: Any) -> str:
    """A threshold as typed in occ.toml: 15, -0.2, 0.05 (no trailing zeros)."""
    return "—" if value is None else f"{float(value):g}"


def _when(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return "—"


def _age(minutes: Any) -> str:
    if minutes is None:
        return "—"
    value = float(minutes)
    if value < 90:
        return f"{value:.0f} min"
    if value < 48 * 60:
        return f"{value / 60:.1f} h"
    return f"{value / 1440:.1f} days"


def install_filters(env: Environment) -> None:
    env.filters["number"] = _number
    env.filters["pct"] = _pct
    env.filters["ratio_pct"] = _ratio_pct
    env.filters["when"] = _when
    env.filters["g"] = _general
    env.filters["age"] = _age
    env.globals["severity_icon"] = lambda s: SEVERITY_ICONS.get(str(s), "●")
    env.globals["severity_text"] = lambda s: SEVERITY_TEXT.get(str(s), str(s))
    env.globals["incident_kind_labels"] = INCIDENT_KIND_LABELS
