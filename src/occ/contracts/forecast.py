"""Forecast configuration and results (KPIS.md, Forecasts)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ForecastConfig", "ForecastMethod", "ForecastPoint", "ForecastResult"]

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
    model_config = ConfigDict(frozen=True)

    metric: str
    key: str | None = None
    method: str
    level: int
    fit_start: date | None
    fit_end: date | None
    points: list[ForecastPoint]
    assumptions: list[str]
