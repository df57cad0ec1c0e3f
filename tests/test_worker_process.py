"""``occ worker`` as processes: SIGTERM stops it cleanly; two workers never run one job at once.

Intervals are shortened through ``OCC_*`` environment variables, as an operator would set
them. Each test runs a few seconds.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, func, select

from occ.config import Settings
from occ.decisions import add_decision, sync_outbox
from occ.ops.parity import check_parity, open_mirror
from occ.store.engine import open_store
from occ.store.tables import JobLock, OutboxEntry, SyncEvent
from test_decision_sync import fresh_pg_database

APP_SOURCE = """
import typer
from occ.cli.worker_cmd import worker

app = typer.Typer()


@app.callback()
def _root() -> None:
    '''occ'''


app.command("worker")(worker)
app()
"""
RUN_LINE = re.compile(
    r"job=(?P<job>\S+) outcome=(?P<outcome>\S+) duration=(?P<duration>[\d.]+)s "
    r"started=(?P<started>\S+) worker=(?P<worker>\S+)"
)


class WorkerProcess:
    """One ``occ worker`` process; its stderr lines are collected as they come."""

    def __init__(self, cwd: Path, env: dict[str, str], *args: str) -> None:
        environment = dict(os.environ) | {f"OCC_{k.upper()}": v for k, v in env.items()}
        self.process = subprocess.Popen(
            [sys.executable, "-c", APP_SOURCE, "worker", *args],
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited early:\n{self.stderr}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting; the worker said:\n{self.stderr}")
            time.sleep(0.05)

    def logged(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self, timeout: float = 30.0) -> tuple[int, float]:
        """SIGTERM; the exit status and how long the worker took to exit."""
        sent = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=timeout)
        self._reader.join(timeout=2)
        return status, time.monotonic() - sent

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextmanager
def worker_process(cwd: Path, env: dict[str, str], *args: str) -> Iterator[WorkerProcess]:
    process = WorkerProcess(cwd, env, *args)
    try:
        yield process
    finally:
        process.kill()


def add_decisions(engine: Engine, count: int) -> list[str]:
    now = datetime.now(UTC)
    return [
        add_decision(engine, scope="ops", actor="gm@example.com", action="approve", now=now).id
        for _ in range(count)
    ]


def locks(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(JobLock.name, JobLock.holder))]


def outbox(engine: Engine) -> list[tuple[str, str, str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(OutboxEntry.kind, OutboxEntry.ref_id, OutboxEntry.status, OutboxEntry.attempts)
        )
        return [tuple(row) for row in rows]


def sent_refs(engine: Engine) -> set[str]:
    return {ref for _, ref, status, _ in outbox(engine) if status == "sent"}


def sync_events(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(SyncEvent)).scalar_one())


def test_sigterm_finishes_the_job_in_flight_and_exits_0(tmp_path: Path) -> None:
    db_url, mirror_url = f"sqlite:///{tmp_path / 'occ.db'}", f"sqlite:///{tmp_path / 'm.db'}"
    engine = open_store(db_url)
    first = add_decisions(engine, 5)
    env = {
        "database_url": db_url,
        "mirror_url": mirror_url,
        "worker_sync_seconds": "0.2",
        "worker_lock_seconds": "5",
    }
    with worker_process(tmp_path, env) as worker:
        worker.wait_for(lambda: worker.logged("job=health "))  # every job ran once at start
        late = add_decisions(engine, 3)  # delivered by a later run
        worker.wait_for(lambda: set(first + late) <= sent_refs(engine))
        status, seconds = worker.stop()

    assert status == 0, worker.stderr
    # a sync of a few entries takes milliseconds; the bound only tells a stop from a hang
    # (generous: the machine may be loaded)
    assert seconds < 20
    assert worker.logged("SIGTERM: stopping after the job in flight")
    assert worker.logged("stopped; its locks are released")
    assert locks(engine) == []
    # whatever the worker had attempted was delivered; only never-tried entries are pending
    assert [entry for entry in outbox(engine) if entry[2] == "pending" and entry[3] > 0] == []
    assert not [entry for entry in outbox(engine) if entry[2] == "dead"]
    mirror = open_mirror(mirror_url)
    assert check_parity(engine, mirror).table("decisions").within_threshold
    mirror.dispose()
    engine.dispose()


def test_sigterm_during_a_backoff_abandons_the_attempt_and_keeps_the_entries(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'occ.db'}"
    engine = open_store(db_url)
    ids = add_decisions(engine, 4)
    env = {
        "database_url": db_url,
        "mirror_url": "postgresql+psycopg://occ:s3cret-pw@127.0.0.1:1/mirror",
        "sync_attempts_per_run": "30",  # backoff after backoff: the sync stays in flight
        "worker_sync_seconds": "0.2",
    }
    with worker_process(tmp_path, env) as worker:
        worker.wait_for(lambda: sync_events(engine) >= 4)  # the first attempt was recorded
        status, seconds = worker.stop()

    assert status == 0, worker.stderr
    # abandoned, not waited out: the 29 backoffs left would take minutes (full jitter up to
    # 30 s each); the bound is generous because the machine may be loaded
    assert seconds < 20, worker.stderr
    assert worker.logged("job=sync outcome=abandoned")
    assert not worker.logged("job=health ")  # queued behind the sync: not started
    assert "s3cret-pw" not in worker.stderr
    assert sorted((ref, status) for _, ref, status, _ in outbox(engine)) == sorted(
        (ref, "pending") for ref in ids
    )
    assert locks(engine) == []
    engine.dispose()


def _runs(lines: list[str], job: str) -> list[tuple[str, datetime, datetime]]:
    """(worker, start, end) of every run of ``job`` that held the lock."""
    runs = []
    for line in lines:
        found = RUN_LINE.search(line)
        if found is None or found["job"] != job or found["outcome"] in ("locked", "cancelled"):
            continue
        started = datetime.fromisoformat(found["started"].replace("Z", "+00:00"))
        ended = started + timedelta(seconds=float(found["duration"]))
        runs.append((found["worker"], started, ended))
    return runs


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_workers_never_run_the_same_job_at_once(db_url: str, tmp_path: Path) -> None:
    """A mirror table locked by the test makes each sync last seconds: the other worker waits."""
    engine = open_store(db_url)
    with fresh_pg_database() as mirror_url:
        add_decisions(engine, 1)
        sync_outbox(engine, mirror_url, Settings(sync_timeout_seconds=5))  # creates the tables
        ids = add_decisions(engine, 5)
        blocker = psycopg.connect(mirror_url.replace("+psycopg", ""))
        blocker.execute("LOCK TABLE decision_log IN ACCESS EXCLUSIVE MODE")  # transaction open
        env = {
            "database_url": db_url,
            "mirror_url": mirror_url,
            "worker_sync_seconds": "0.3",
            "worker_lock_seconds": "1.5",  # shorter than a run: renewals keep the lease
            "sync_timeout_seconds": "1",
            "sync_attempts_per_run": "2",
        }
        with (
            worker_process(tmp_path, env, "--job", "sync") as first,
            worker_process(tmp_path, env, "--job", "sync") as second,
        ):

            def failed_runs() -> int:
                lines = first.lines + second.lines
                return sum("job=sync outcome=failed" in line for line in lines)

            first.wait_for(lambda: failed_runs() >= 2, 30)  # two runs of seconds each
            blocker.rollback()  # the mirror answers again: the next sync delivers
            first.wait_for(lambda: set(ids) <= sent_refs(engine), 30)
            results = [first.stop(), second.stop()]
        blocker.close()
        mirror = open_mirror(mirror_url)
        parity = check_parity(engine, mirror)
        mirror.dispose()

    assert [status for status, _ in results] == [0, 0], first.stderr + second.stderr
    runs = sorted(_runs(first.lines, "sync") + _runs(second.lines, "sync"), key=lambda r: r[1])
    assert len(runs) >= 3
    for (_, _, ended), (_, started, _) in zip(runs, runs[1:], strict=False):
        assert started >= ended - timedelta(milliseconds=5), runs  # one run at a time
    locked = [line for line in first.lines + second.lines if "job=sync outcome=locked" in line]
    assert locked, "the second worker never found the sync running"
    assert parity.table("decisions").within_threshold
    assert locks(engine) == []
    engine.dispose()
