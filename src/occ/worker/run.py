"""The worker: every registered job on its schedule (APScheduler), each under its job lock.

``run_worker`` schedules each job of the registry (interval jobs also run at start), and
stops cleanly on SIGINT/SIGTERM: the signal handler only sets an event; the main thread then
shuts the scheduler down, waiting for the job in flight. A job's waits (sync backoff, rate
limits) end at once on a stop and abandon that attempt; what it did not commit stays pending
and is delivered by the next run. A second signal exits at once (every write is a
transaction: the database rolls back what was not committed, and the locks' leases end).

Each run of a job takes its lock ``job:<name>`` in the primary store (``occ.worker.locks``);
held by another live worker, the run is skipped. One log line per run: job, outcome,
duration, start, and a detail with every secret masked. A failed job does not stop the worker.

On a SQLite primary (one writer) the jobs of a worker run one at a time; on PostgreSQL they
run side by side, one thread each.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any, Literal

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from occ.config import Settings
from occ.decisions import mask_secrets
from occ.errors import ConfigError, OccError
from occ.store.engine import open_store
from occ.worker.jobs import JOBS, JobContext, JobRegistry, JobSkipped, JobSpec, WorkerStopping
from occ.worker.locks import held_lock

__all__ = [
    "LOGGER_NAME",
    "JobRun",
    "Outcome",
    "new_worker_id",
    "run_job",
    "run_worker",
    "secrets_of",
]

LOGGER_NAME = "occ.worker"
Outcome = Literal["ok", "skipped", "locked", "failed", "abandoned", "cancelled"]
_log = logging.getLogger(LOGGER_NAME)
_LEVELS: dict[str, int] = {"failed": logging.ERROR, "abandoned": logging.WARNING}


@dataclass(frozen=True, slots=True)
class JobRun:
    """One run of a job: its outcome and the one-line detail that was logged.

    ``started`` and ``duration_s`` cover the job while its lock was held, so the logged runs
    of one job never overlap, whichever workers ran them.
    """

    job: str
    outcome: Outcome
    started: datetime
    duration_s: float
    detail: str
    exit_code: int = 0

    def line(self, worker_id: str) -> str:
        """The log line of this run."""
        started = self.started.astimezone(UTC).isoformat(timespec="milliseconds")
        return (
            f"job={self.job} outcome={self.outcome} duration={self.duration_s:.3f}s "
            f"started={started.replace('+00:00', 'Z')} worker={worker_id} — {self.detail}"
        )


def new_worker_id() -> str:
    """``host:pid:token``: unique per worker process, readable in ``job_lock.holder``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _password(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return make_url(url).password
    except ArgumentError:
        return None


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """Every secret a log line could carry: tokens and database passwords.

    URLs themselves are shown with their password masked, as everywhere in occ.
    """
    values: list[str | None] = [_password(settings.database_url)]
    if settings.mirror_url is not None:
        values.append(_password(settings.mirror_url.get_secret_value()))
    for secret in (
        settings.shopify_access_token,
        settings.shopify_client_secret,
        settings.chatwoot_api_token,
    ):
        if secret is not None:
            values.append(secret.get_secret_value())
    return tuple(value for value in values if value)


def _one_line(message: str, secrets: Sequence[str]) -> str:
    return mask_secrets(" ".join(message.split()), secrets)


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f" (at {os.path.basename(last.filename)}:{last.lineno})"


class _Timer:
    """When a run started and how long it took; restarted once the lock is held."""

    def __init__(self, context: JobContext) -> None:
        self.context = context
        self.restart()

    def restart(self) -> None:
        self.started, self._clock = self.context.now(), time.perf_counter()
        self.elapsed: float | None = None

    def stop(self) -> None:
        self.elapsed = time.perf_counter() - self._clock

    def seconds(self) -> float:
        return round(
            self.elapsed if self.elapsed is not None else time.perf_counter() - self._clock, 3
        )


def run_job(spec: JobSpec, context: JobContext) -> JobRun:
    """Run ``spec`` once under its lock, log one line, and return what happened.

    Never raises for a job's failure: the worker goes on with its other runs.
    """
    timer = _Timer(context)
    if context.stopping.is_set():
        return JobRun(spec.name, "cancelled", timer.started, 0.0, "the worker is stopping")
    outcome: Outcome = "ok"
    exit_code = 0
    secrets = secrets_of(context.settings)
    try:
        with held_lock(
            context.primary,
            spec.lock_name,
            context.worker_id,
            lease_seconds=context.settings.worker_lock_seconds,
            clock=context.clock,
        ) as lease:
            timer.restart()
            try:
                if lease.acquired:
                    detail = spec.function(context)
                else:
                    outcome, detail = "locked", "running in another worker; skipped"
            finally:
                timer.stop()
    except JobSkipped as exc:
        outcome, detail = "skipped", str(exc)
    except WorkerStopping:
        outcome = "abandoned"
        detail = "stopped during a wait; the attempt in flight stays pending for the next run"
    except OccError as exc:
        outcome, detail, exit_code = "failed", str(exc), exc.exit_code
    except Exception as exc:  # a bug, or a library error nobody translated: log, keep running
        outcome, exit_code = "failed", 1
        detail = f"unexpected {type(exc).__name__}: {exc}{_where(exc)}"
    run = JobRun(
        spec.name, outcome, timer.started, timer.seconds(), _one_line(detail, secrets), exit_code
    )
    _log.log(_LEVELS.get(outcome, logging.INFO), run.line(context.worker_id))
    return run


def _trigger(spec: JobSpec, settings: Settings) -> tuple[Any, bool]:
    """The APScheduler trigger of ``spec``, and whether it also runs at start (intervals)."""
    schedule = spec.schedule(settings)
    if schedule.seconds is not None:
        return IntervalTrigger(seconds=schedule.seconds, timezone=UTC), True
    try:
        return CronTrigger.from_crontab(schedule.cron, timezone=UTC), False
    except ValueError as exc:
        raise ConfigError(f"job {spec.name}: bad cron schedule {schedule.cron!r} ({exc})") from None


def _describe(spec: JobSpec, settings: Settings) -> str:
    schedule = spec.schedule(settings)
    if schedule.seconds is None:
        return f"{spec.name} at cron {schedule.cron!r} UTC"
    if schedule.seconds >= 60:
        return f"{spec.name} every {schedule.seconds / 60:g} min"
    return f"{spec.name} every {schedule.seconds:g} s"


@contextmanager
def _stop_on_signals(stopping: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stopping``; a second one exits at once. Main thread only."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stopping.is_set():
            _log.warning("%s again: exiting now; unfinished transactions roll back", name)
            logging.shutdown()
            os._exit(128 + signum)
        _log.info("%s: stopping after the job in flight (send it again to exit now)", name)
        stopping.set()

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _selected(registry: JobRegistry, names: Sequence[str] | None) -> list[JobSpec]:
    if not names:
        return list(registry)
    unknown = [name for name in names if registry.get(name) is None]
    if unknown:
        raise ConfigError(
            f"unknown job {', '.join(unknown)}; the jobs are {', '.join(registry.names())}"
        )
    return [spec for spec in registry if spec.name in names]


def run_worker(
    settings: Settings,
    *,
    once: bool = False,
    jobs: Sequence[str] | None = None,
    registry: JobRegistry = JOBS,
    stopping: threading.Event | None = None,
) -> int:
    """Run the scheduled jobs until SIGINT/SIGTERM (or ``stopping``); return the exit status.

    Args:
        once: run each selected job once, in registration order, and return: 0 when none
            failed, else the exit code of the first failure.
        jobs: the names of the jobs to run (default: all registered).
        stopping: an event that stops the worker like a signal does.

    Raises:
        StoreError: the primary store cannot be opened.
        ConfigError: an unknown job name or a bad schedule.
    """
    selected = _selected(registry, jobs)
    stop = stopping or threading.Event()
    primary = open_store(settings.resolved_database_url())
    context = JobContext(settings, primary, new_worker_id(), stop)
    try:
        if once:
            with _stop_on_signals(stop):
                runs = [run_job(spec, context) for spec in selected]
            return next((run.exit_code for run in runs if run.exit_code), 0)
        _schedule_until_stopped(selected, context)
        return 0
    finally:
        primary.dispose()


def _schedule_until_stopped(selected: list[JobSpec], context: JobContext) -> None:
    settings = context.settings
    triggers = [(spec, *_trigger(spec, settings)) for spec in selected]
    threads = 1 if context.primary.dialect.name == "sqlite" else max(1, len(selected))
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(max_workers=threads)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    start = datetime.now(UTC)
    for index, (spec, trigger, at_start) in enumerate(triggers):
        # a millisecond apart: the first runs go in registration order (sync before health)
        first_run = start + timedelta(milliseconds=index)
        extra: dict[str, Any] = {"next_run_time": first_run} if at_start else {}
        scheduler.add_job(
            run_job, trigger, args=(spec, context), id=spec.name, name=spec.name, **extra
        )
    with _stop_on_signals(context.stopping):
        scheduler.start()
        _log.info(
            "worker %s started: %s",
            context.worker_id,
            ", ".join(_describe(spec, settings) for spec in selected) or "no jobs",
        )
        try:
            while not context.stopping.wait(0.5):
                pass
        finally:
            context.stopping.set()
            scheduler.shutdown(wait=True)
    _log.info("worker %s stopped; its locks are released", context.worker_id)
