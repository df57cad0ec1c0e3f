"""GA4 Data API ``runReport`` response contract (dimensions landingPage + date, metric sessions)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["RunReportResponse", "ReportRow"]


class _Node(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Header(_Node):
    name: str


class Value(_Node):
    value: str


class ReportRow(_Node):
    dimensionValues: list[Value]
    metricValues: list[Value]


class RunReportResponse(_Node):
    dimensionHeaders: list[Header]
    metricHeaders: list[Header]
    rows: list[dict[str, object]] = []
    rowCount: int | None = None
