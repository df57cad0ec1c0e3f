"""What a live connector hands over for each upstream answer it received."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Evidence", "EvidenceSink"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One upstream answer as it arrived, with what was asked (no credentials)."""

    source: str
    endpoint: str
    method: str
    status: int
    fetched_at: datetime
    latency_ms: float
    body: bytes
    api_version: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    cost: Mapping[str, Any] | None = None


EvidenceSink = Callable[[Evidence], None]
