"""The dashboard's "Refresh now": one refresh at a time, in a background thread.

The request that starts it returns at once; the page polls ``GET /api/v1/refresh`` and
reloads when the run is finished. Other requests are served meanwhile (a refresh is one
write transaction; readers keep seeing the previous run until it commits).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from occ.config import Settings
from occ.decisions.outcomes import check_outcomes
from occ.errors import OccError
from occ.refresh import run_refresh
from occ.refresh.choose import source_payloads
from occ.sources.http import connector_client

__all__ = ["RefreshState", "Refresher"]


@dataclass(frozen=True, slots=True)
class RefreshState:
    status: str = "idle"  # idle | running | finished | failed
    source: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    run_id: int | None = None
    error: str | None = None
    requested_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "source": self.source,
            "startedAt": self.started_at.isoformat() if self.started_at else None,
            "finishedAt": self.finished_at.isoformat() if self.finished_at else None,
            "runId": self.run_id,
            "error": self.error,
            "requestedBy": self.requested_by,
        }


class Refresher:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        clock: Callable[[], datetime],
        on_finished: Callable[[], None] = lambda: None,
    ) -> None:
        self._on_finished = on_finished
        self._engine = engine
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._state = RefreshState()
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> RefreshState:
        return self._state

    def start(self, source: str, operator: str) -> tuple[RefreshState, bool]:
        """Start a refresh of ``source`` unless one runs; the state, and whether it started."""
        with self._lock:
            if self._state.status == "running":
                return self._state, False
            self._state = RefreshState(
                status="running", source=source, started_at=self._clock(), requested_by=operator
            )
            self._thread = threading.Thread(
                target=self._run, args=(source,), name="occ-refresh", daemon=True
            )
            self._thread.start()
            return self._state, True

    def wait(self, timeout: float | None = None) -> RefreshState:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self._state

    def _run(self, source: str) -> None:
        now = self._clock()
        try:
            with connector_client(self._settings) as http:
                payloads = source_payloads(source, self._settings, now, self._engine, http)
                report = run_refresh(self._engine, self._settings, payloads, now)
            check_outcomes(self._engine, self._settings, now=now, clock=self._clock)
            final = replace(
                self._state, status="finished", finished_at=self._clock(), run_id=report.run_id
            )
        except OccError as exc:
            final = replace(self._state, status="failed", finished_at=self._clock(), error=str(exc))
        except Exception as exc:  # the thread must always leave a final state
            final = replace(
                self._state,
                status="failed",
                finished_at=self._clock(),
                error=f"refresh failed: {type(exc).__name__}; see the server log",
            )
        with self._lock:
            self._on_finished()  # before the state says so: a reader then sees the run
            self._state = final
