"""``occ worker``: run occ's scheduled jobs until SIGINT/SIGTERM, or each once (``--once``).

Registered in ``occ.cli.app`` with ``app.command("worker")(worker)``.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from occ.cli.shared import ConfigOption, DbOption, handles_errors, settings_from
from occ.worker import JOBS, LOGGER_NAME, run_worker

__all__ = ["worker"]


class _UtcFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{moment}.{int(record.msecs):03d}Z"


@contextmanager
def _log_to_stderr() -> Iterator[None]:
    """One line per record on stderr (the current one: tests capture it) while the worker runs."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_UtcFormatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger(LOGGER_NAME)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    scheduler_logger = logging.getLogger("apscheduler")
    scheduler_level = scheduler_logger.level
    scheduler_logger.addHandler(handler)
    # errors only: a tick skipped while the job still runs is not a run, and not a line
    scheduler_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
        scheduler_logger.removeHandler(handler)
        scheduler_logger.setLevel(scheduler_level)
        handler.flush()


@handles_errors
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run each job once (a cron entry, a test) and exit")
    ] = False,
    job: Annotated[
        list[str] | None,
        typer.Option(
            "--job",
            help=f"Only this job (repeatable); the jobs: {', '.join(JOBS.names())}",
        ),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Run occ's scheduled jobs: decision sync, live refresh, sync health (log and parity).

    Intervals come from the worker_* settings. Each run takes its job's lock in the database,
    so two workers never run one job at once, and logs one line to stderr. SIGINT/SIGTERM
    stop after the job in flight (exit 0). With --once, exits with the first failed job's
    status (0 when none failed).
    """
    settings = settings_from(config, db)
    with _log_to_stderr():
        status = run_worker(settings, once=once, jobs=job)
    if status:
        raise typer.Exit(status)
