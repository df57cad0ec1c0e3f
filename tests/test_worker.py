"""``occ worker --once`` and the job registry, in process, against real stores and mirrors.

The primary is a SQLite file or a fresh PostgreSQL database; the mirror a SQLite file (or an
unreachable PostgreSQL server for the failure tests). The signal and two-worker tests run
real worker processes: ``test_worker_process.py``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Engine, select
from typer.testing import CliRunner, Result

from fakes import shopify_server
from fakes.shopify_server import ShopifyFake, make_orders, variant
from occ.cli.worker_cmd import worker
from occ.config import Settings
from occ.decisions import add_decision
from occ.decisions.events import AttemptRecord, record_attempts
from occ.store.engine import open_store
from occ.store.facts import FactRow, facts_by_id
from occ.store.tables import DashboardFact, OutboxEntry, RefreshRun
from occ.worker import (
    JOBS,
    JobContext,
    JobRegistry,
    JobSkipped,
    Schedule,
    acquire_lock,
    lock_holder,
    register_job,
    run_job,
    run_worker,
)

UNREACHABLE_MIRROR = "postgresql+psycopg://occ:s3cret-pw@127.0.0.1:1/mirror"


def occ_app() -> typer.Typer:
    """The command as ``occ.cli.app`` registers it."""
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """occ"""

    app.command("worker")(worker)
    return app


APP = occ_app()


def add_decisions(engine: Engine, count: int) -> list[str]:
    now = datetime.now(UTC)
    return [
        add_decision(engine, scope="ops", actor="gm@example.com", action="approve", now=now).id
        for _ in range(count)
    ]


def run_once(runner: CliRunner, db_url: str, *args: str, **env: str) -> Result:
    environment = {f"OCC_{name.upper()}": value for name, value in env.items()}
    return runner.invoke(APP, ["worker", "--once", "--db", db_url, *args], env=environment)


def facts(engine: Engine, fact_type: str) -> list[FactRow]:
    with engine.connect() as connection:
        ids = connection.execute(
            select(DashboardFact.id).where(DashboardFact.fact_type == fact_type)
        ).scalars()
        found = facts_by_id(connection, ids)
    return [found[fact_id] for fact_id in sorted(found)]


def mirror_ids(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM decision_log")}


def outbox_statuses(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(OutboxEntry.ref_id, OutboxEntry.status).where(OutboxEntry.kind == "decision")
        )
        return {ref: status for ref, status in rows}


def job_lines(stderr: str, job: str) -> list[str]:
    return [line for line in stderr.splitlines() if f"job={job} " in line]


@pytest.fixture
def primary(db_url: str) -> Iterator[Engine]:
    store = open_store(db_url)
    yield store
    store.dispose()


def test_once_delivers_the_decisions_and_writes_the_health_facts(
    runner: CliRunner, db_url: str, primary: Engine, tmp_path: Path
) -> None:
    ids = add_decisions(primary, 3)
    mirror = tmp_path / "mirror.db"

    result = run_once(runner, db_url, mirror_url=f"sqlite:///{mirror}")

    assert result.exit_code == 0, result.output
    assert mirror_ids(mirror) == set(ids)
    assert set(outbox_statuses(primary).values()) == {"sent"}
    [summary] = facts(primary, "sync.log_summary")
    assert summary.value["totals"]["success"] == 3
    assert summary.value["totals"]["failure"] == 0
    assert summary.scope == "ops"
    [parity] = facts(primary, "sync.parity")
    assert parity.value["ok"] is True
    assert parity.value["tables"]["decisions"]["primaryCount"] == 3
    assert facts(primary, "anomaly.sync_parity") == []
    # one line per job run, with its outcome and duration
    assert "outcome=ok" in job_lines(result.stderr, "sync")[0]
    assert "sent 3" in job_lines(result.stderr, "sync")[0]
    assert "outcome=skipped" in job_lines(result.stderr, "refresh")[0]
    [health] = job_lines(result.stderr, "health")
    assert "outcome=ok" in health and "parity ok" in health and "duration=" in health
    for job in ("sync", "refresh", "health"):
        assert lock_holder(primary, f"job:{job}") is None


def test_a_row_deleted_from_the_mirror_raises_a_parity_anomaly(
    runner: CliRunner, db_url: str, primary: Engine, tmp_path: Path
) -> None:
    ids = add_decisions(primary, 4)
    mirror = tmp_path / "mirror.db"
    assert (
        run_once(runner, db_url, "--job", "sync", mirror_url=f"sqlite:///{mirror}").exit_code == 0
    )
    with sqlite3.connect(mirror) as connection:
        connection.execute("DELETE FROM decision_log WHERE id = ?", (ids[0],))

    result = run_once(runner, db_url, "--job", "health", mirror_url=f"sqlite:///{mirror}")

    assert result.exit_code == 0, result.output
    [parity] = facts(primary, "sync.parity")
    assert parity.value["ok"] is False
    assert parity.value["tables"]["decisions"]["missingOnMirror"] == [ids[0]]
    assert parity.metadata["lagOnly"] is False
    [anomaly] = facts(primary, "anomaly.sync_parity")
    assert anomaly.value["severity"] == "critical"
    assert anomaly.value["kind"] == "threshold"
    assert "decisions: 1 missing on the mirror" in anomaly.value["message"]
    assert anomaly.metadata["parityFactId"] == parity.id
    assert "parity FAILED" in job_lines(result.stderr, "health")[0]


def test_health_delivers_what_is_pending_before_comparing(
    runner: CliRunner, db_url: str, primary: Engine, tmp_path: Path
) -> None:
    add_decisions(primary, 2)
    mirror = tmp_path / "mirror.db"
    run_once(runner, db_url, "--job", "sync", mirror_url=f"sqlite:///{mirror}")
    late = add_decisions(primary, 1)

    result = run_once(runner, db_url, "--job", "health", mirror_url=f"sqlite:///{mirror}")

    assert result.exit_code == 0, result.output
    [parity] = facts(primary, "sync.parity")
    assert parity.value["ok"] is True
    assert late[0] in mirror_ids(mirror)
    assert parity.metadata["beforeParity"] == "synced 1 first"


def test_rows_still_pending_are_sync_lag_not_a_parity_anomaly(
    runner: CliRunner, db_url: str, primary: Engine, tmp_path: Path
) -> None:
    add_decisions(primary, 2)
    mirror = tmp_path / "mirror.db"
    run_once(runner, db_url, "--job", "sync", mirror_url=f"sqlite:///{mirror}")
    late = add_decisions(primary, 1)
    # another worker is syncing right now: health cannot deliver first
    assert acquire_lock(primary, "job:sync", "other-worker", lease_seconds=60)

    result = run_once(runner, db_url, "--job", "health", mirror_url=f"sqlite:///{mirror}")

    assert result.exit_code == 0, result.output
    [parity] = facts(primary, "sync.parity")
    assert parity.value["ok"] is False
    assert parity.metadata["lagOnly"] is True
    assert parity.metadata["pendingOnPrimary"] == [f"decision:{late[0]}"]
    assert parity.metadata["beforeParity"] == "sync running elsewhere"
    assert facts(primary, "anomaly.sync_parity") == []
    assert "sync lag" in job_lines(result.stderr, "health")[0]
    holder = lock_holder(primary, "job:sync")
    assert holder is not None and holder.holder == "other-worker"


def test_a_job_locked_by_another_worker_is_skipped(
    runner: CliRunner, db_url: str, primary: Engine, tmp_path: Path
) -> None:
    ids = add_decisions(primary, 2)
    assert acquire_lock(primary, "job:sync", "other-worker", lease_seconds=60)

    result = run_once(
        runner, db_url, "--job", "sync", mirror_url=f"sqlite:///{tmp_path / 'mirror.db'}"
    )

    assert result.exit_code == 0, result.output
    [line] = job_lines(result.stderr, "sync")
    assert "outcome=locked" in line
    assert outbox_statuses(primary) == {ref: "pending" for ref in ids}
    holder = lock_holder(primary, "job:sync")
    assert holder is not None and holder.holder == "other-worker"


def test_a_failing_job_logs_one_masked_line_and_the_others_still_run(
    runner: CliRunner, db_url: str, primary: Engine
) -> None:
    add_decisions(primary, 3)

    result = run_once(runner, db_url, mirror_url=UNREACHABLE_MIRROR, sync_attempts_per_run="1")

    assert result.exit_code == 6, result.output  # the first failure: the mirror refused
    assert "s3cret-pw" not in result.output
    [sync] = job_lines(result.stderr, "sync")
    assert "outcome=failed" in sync and "ECONNREFUSED" in sync and "occ:***@" in sync
    [health] = job_lines(result.stderr, "health")
    assert "outcome=failed" in health and "cannot reach the mirror" in health
    # health still analysed the failed attempts before parity failed
    [summary] = facts(primary, "sync.log_summary")
    assert summary.value["totals"]["failure"] == 3
    [anomaly] = facts(primary, "anomaly.sync_failure_rate")
    assert anomaly.value["severity"] == "critical"
    assert anomaly.value["value"] == 100.0
    assert facts(primary, "sync.parity") == []
    assert set(outbox_statuses(primary).values()) == {"pending"}
    assert lock_holder(primary, "job:sync") is None


def test_without_a_mirror_sync_is_skipped_and_health_records_the_log_only(
    runner: CliRunner, db_url: str, primary: Engine
) -> None:
    add_decisions(primary, 1)

    result = run_once(runner, db_url)

    assert result.exit_code == 0, result.output
    [sync] = job_lines(result.stderr, "sync")
    assert "outcome=skipped" in sync and "no mirror configured" in sync
    assert "parity not configured" in job_lines(result.stderr, "health")[0]
    [summary] = facts(primary, "sync.log_summary")
    assert summary.value["totals"]["records"] == 0
    assert facts(primary, "sync.parity") == []


def test_the_refresh_job_reads_the_configured_live_source(
    runner: CliRunner, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    shopify = ShopifyFake(
        orders=make_orders(12, start=now - timedelta(days=2), step=timedelta(hours=3)),
        variants=[variant(n) for n in range(1, 4)],
    )
    db_url = f"sqlite:///{tmp_path / 'live.db'}"
    with shopify.running():
        result = run_once(
            runner,
            db_url,
            "--job",
            "refresh",
            shopify_shop=shopify_server.SHOP,
            shopify_access_token=shopify_server.TOKEN,
            shopify_base_url=shopify.base_url,
        )

    assert result.exit_code == 0, result.output
    [line] = job_lines(result.stderr, "refresh")
    assert "outcome=ok" in line and f"of {shopify_server.SHOP}" in line
    assert "Chatwoot is not configured" in line
    assert shopify_server.TOKEN not in result.output
    engine = open_store(db_url)
    with engine.connect() as connection:
        runs = connection.execute(select(RefreshRun.status, RefreshRun.source)).all()
    engine.dispose()
    assert [tuple(run) for run in runs] == [("ok", "live")]


def test_a_failing_refresh_masks_the_token(runner: CliRunner, tmp_path: Path) -> None:
    result = run_once(
        runner,
        f"sqlite:///{tmp_path / 'occ.db'}",
        "--job",
        "refresh",
        shopify_shop="occ-test.myshopify.com",
        shopify_access_token="shpat_never_logged_7a1",
        shopify_base_url="http://127.0.0.1:1",
        http_max_attempts="1",
    )

    assert result.exit_code == 4, result.output  # an upstream error
    [line] = job_lines(result.stderr, "refresh")
    assert "outcome=failed" in line
    assert "shpat_never_logged_7a1" not in result.output


def test_an_unknown_job_is_a_setting_error(runner: CliRunner, tmp_path: Path) -> None:
    result = run_once(runner, f"sqlite:///{tmp_path / 'occ.db'}", "--job", "nope")

    assert result.exit_code == 2
    assert "unknown job nope" in result.stderr and "sync, refresh, health" in result.stderr


# --- the registry later capabilities use --------------------------------------------------------


def test_the_built_in_jobs_follow_the_worker_settings() -> None:
    settings = Settings(worker_sync_seconds=5, worker_refresh_minutes=15, worker_health_minutes=30)
    schedules = {spec.name: spec.schedule(settings) for spec in JOBS}

    assert schedules == {
        "sync": Schedule(seconds=5),
        "refresh": Schedule(seconds=900),
        "health": Schedule(seconds=1800),
        "insights": Schedule(cron="5 * * * *"),  # writes when the shop's Monday 06:00 is past
        "knowledge": Schedule(cron="30 0 * * *"),
    }


def test_a_job_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_job("sync", lambda context: "", lambda settings: Schedule(seconds=1))


@pytest.mark.parametrize("schedule", [{}, {"seconds": 1, "cron": "* * * * *"}, {"seconds": 0}])
def test_a_schedule_is_an_interval_or_a_cron(schedule: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Schedule(**schedule)


def test_a_registered_job_runs_on_its_interval_under_its_lock_and_stops(
    tmp_path: Path,
) -> None:
    """A later capability's jobs: an interval one runs repeatedly, a cron one only at its time."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'occ.db'}")
    registry = JobRegistry()
    runs: list[str | None] = []

    def crawl(context: JobContext) -> str:
        holder = lock_holder(context.primary, "job:crawl")
        runs.append(holder.holder if holder is not None else None)
        return "crawled"

    def packet(context: JobContext) -> str:
        raise AssertionError("a weekly job must not run at start")

    registry.register("crawl", crawl, lambda s: Schedule(seconds=0.1))
    registry.register("packet", packet, lambda s: Schedule(cron="0 7 * * mon"))
    stop = threading.Event()
    statuses: list[int] = []
    thread = threading.Thread(
        target=lambda: statuses.append(run_worker(settings, registry=registry, stopping=stop))
    )
    thread.start()
    deadline = time.monotonic() + 10
    while len(runs) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=10)

    assert statuses == [0]
    assert len(runs) >= 3
    assert all(holder is not None and holder.count(":") == 2 for holder in runs)
    engine = open_store(settings.resolved_database_url())
    assert lock_holder(engine, "job:crawl") is None
    engine.dispose()


def test_run_job_reports_a_skip_and_a_bug_without_raising(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'occ.db'}")
    engine = open_store(settings.resolved_database_url())
    context = JobContext(settings, engine, "worker-test")
    registry = JobRegistry()

    def idle(context: JobContext) -> str:
        raise JobSkipped("nothing configured")

    def broken(context: JobContext) -> str:
        return str(1 / 0)

    skipped = run_job(registry.register("idle", idle, lambda s: Schedule(seconds=1)), context)
    failed = run_job(registry.register("broken", broken, lambda s: Schedule(seconds=1)), context)
    engine.dispose()

    assert (skipped.outcome, skipped.detail, skipped.exit_code) == (
        "skipped",
        "nothing configured",
        0,
    )
    assert failed.outcome == "failed" and failed.exit_code == 1
    assert failed.detail.startswith("unexpected ZeroDivisionError: division by zero (at ")


def test_attempts_of_a_few_ms_raise_no_p95_anomaly(runner: CliRunner, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'occ.db'}"
    engine = open_store(db_url)
    ids = add_decisions(engine, 3)
    attempts = [AttemptRecord(n, "decision", ref, "ops", 1, "SUCCESS") for n, ref in enumerate(ids)]
    record_attempts(engine, attempts, duration_ms=4.0, at=datetime.now(UTC))

    run_once(runner, db_url, "--job", "health")

    [summary] = facts(engine, "sync.log_summary")
    anomalies = facts(engine, "anomaly.sync_p95_ms")
    engine.dispose()
    assert summary.value["durationsMs"]["p95"] == 4.0
    assert anomalies == []
