"""Forecast configuration and results (KPIS.md, Forecasts)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BacktestRow",
    "ForecastConfig",
    "ForecastMethod",
    "ForecastPoint",
    "ForecastResult",
]

ForecastMethod = Literal["auto", "average", "ses", "seasonal_es", "croston"]


class ForecastConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    method: ForecastMethod = "auto"
    horizon: int = Field(default=7, ge=1, le=90)
    level: int = Field(default=95, ge=50, le=99)
    fit_days: int = Field(default=56, ge=7)
    season_length: int = Field(default=7, ge=2)
    min_seasonal_history: int = Field(default=28, ge=14)


class ForecastPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    date: date
    value: float
    lower: float | None
    upper: float | None


class ForecastResult(BaseModel):
    """A forecast with everything needed to judge it: method, fit window and assumptions.

    ``method`` is the method actually used (never ``auto``); ``requested_method`` is what was
    asked for, so a fallback is visible as a difference between the two.
    """

    model_config = ConfigDict(frozen=True)

    metric: str
    key: str | None = None
    method: str
    level: int
    fit_start: date | None
    fit_end: date | None
    points: list[ForecastPoint]
    assumptions: list[str]
    requested_method: str | None = None
    interval_method: str | None = None
    history_days: int | None = None


class BacktestRow(BaseModel):
    """One method's accuracy over rolling forecast origins.

    ``mase`` is the mean over origins of MAE / in-sample seasonal-naive MAE (``None`` when no
    origin had a non-zero scale); ``smape`` is in percent (0-200, 0/0 counted as 0) and ``mae``
    in the series' unit, both averaged over every forecast point evaluated.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: str
    origins: int
    horizon: int
    mase: float | None
    smape: float
    mae: float
    methods_used: list[str] = Field(default_factory=list)
