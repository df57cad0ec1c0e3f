"""Anomalies: a KPI value past a fixed threshold or outside its forecast's band."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["Anomaly", "AnomalyKind", "AnomalySeverity"]

AnomalyKind = Literal["threshold", "forecast_band"]
AnomalySeverity = Literal["warning", "critical"]


class Anomaly(BaseModel):
    """One anomaly, recorded as the fact ``anomaly.<kpi>``.

    ``value``, ``baseline`` and ``threshold`` are in the KPI's own unit (percent for rates,
    a fraction for the week-over-week traffic delta, days for cover); ``lower``/``upper``
    are the forecast band for ``forecast_band`` anomalies. ``message`` is one plain sentence
    with the numbers, fit to show an operator as is.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kpi: str
    key: str | None = None
    kind: AnomalyKind
    severity: AnomalySeverity
    value: float
    baseline: float | None = None
    threshold: float | None = None
    lower: float | None = None
    upper: float | None = None
    message: str

    @property
    def fact_type(self) -> str:
        """The fact type this anomaly is recorded under, e.g. ``anomaly.sales_delta``."""
        return f"anomaly.{self.kpi}"
