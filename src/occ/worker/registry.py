"""The job registry: what a job is, when it runs, what it runs with.

A job is a function ``job(context) -> str`` (the one-line detail of its outcome) that raises
``JobSkipped`` when it has nothing to do (e.g. no mirror configured) and an ``OccError``
when it fails. ``register_job`` adds it to the schedule of ``occ worker`` with a
``Schedule`` computed from the settings, so every interval stays configurable::

    register_job(
        "knowledge",
        crawl_job,
        lambda settings: Schedule(cron="0 3 * * *"),
        description="re-crawl the runbooks and site pages",
    )

Its waits (backoff, rate limits) go through ``context.sleep``, which ends them when the
worker stops.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from occ.config import Settings

__all__ = [
    "JOBS",
    "JobContext",
    "JobFunction",
    "JobRegistry",
    "JobSkipped",
    "JobSpec",
    "Schedule",
    "WorkerStopping",
    "mirror_url_of",
    "register_job",
]


class JobSkipped(Exception):
    """The job had nothing to do (not configured); the message says why."""


class WorkerStopping(Exception):
    """The worker is stopping: raised from a job's waits to abandon the attempt in flight."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a job runs with: the settings, the primary store, the worker's identity and stop.

    Attributes:
        stopping: set when the worker was asked to stop; long waits go through ``sleep``.
        clock: the current time (tests pass a fixed one).
    """

    settings: Settings
    primary: Engine
    worker_id: str
    stopping: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], datetime] = _utcnow

    def now(self) -> datetime:
        """The current UTC time."""
        return self.clock()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a backoff or a rate limit) unless the worker is stopping.

        Raises:
            WorkerStopping: the worker was asked to stop before or during the wait.
        """
        if self.stopping.wait(seconds):
            raise WorkerStopping("the worker is stopping")


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a job runs: every ``seconds``, or at a crontab expression ``cron`` (UTC).

    Interval jobs also run once as soon as the worker starts; cron jobs only at their times.
    """

    seconds: float | None = None
    cron: str | None = None

    def __post_init__(self) -> None:
        if (self.seconds is None) == (self.cron is None):
            raise ValueError("a Schedule takes either seconds or cron")
        if self.seconds is not None and self.seconds <= 0:
            raise ValueError("a Schedule's seconds must be positive")


JobFunction = Callable[[JobContext], str]


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A registered job: its name (lock ``job:<name>``), function, schedule and description."""

    name: str
    function: JobFunction
    schedule: Callable[[Settings], Schedule]
    description: str

    @property
    def lock_name(self) -> str:
        """The ``job_lock`` row that keeps two workers from running this job at once."""
        return f"job:{self.name}"


class JobRegistry:
    """The jobs a worker schedules, in registration order (the order ``--once`` runs them)."""

    def __init__(self) -> None:
        self._jobs: dict[str, JobSpec] = {}

    def register(
        self,
        name: str,
        function: JobFunction,
        schedule: Callable[[Settings], Schedule],
        *,
        description: str = "",
    ) -> JobSpec:
        """Add a job; its ``schedule`` is computed from the worker's settings at start.

        Raises:
            ValueError: a job of that name is already registered.
        """
        if name in self._jobs:
            raise ValueError(f"a job named {name!r} is already registered")
        spec = JobSpec(name, function, schedule, description)
        self._jobs[name] = spec
        return spec

    def get(self, name: str) -> JobSpec | None:
        """The job named ``name``, if registered."""
        return self._jobs.get(name)

    def names(self) -> list[str]:
        """The registered job names, in order."""
        return list(self._jobs)

    def __iter__(self) -> Iterator[JobSpec]:
        return iter(list(self._jobs.values()))

    def __len__(self) -> int:
        return len(self._jobs)


JOBS = JobRegistry()
"""The registry ``occ worker`` schedules."""


def register_job(
    name: str,
    function: JobFunction,
    schedule: Callable[[Settings], Schedule],
    *,
    description: str = "",
) -> JobSpec:
    """Add a job to the schedule of ``occ worker`` (see the module doc)."""
    return JOBS.register(name, function, schedule, description=description)


def mirror_url_of(settings: Settings) -> str | None:
    """The configured mirror URL (a secret), None when there is no mirror."""
    if settings.mirror_url is None:
        return None
    return settings.mirror_url.get_secret_value() or None
