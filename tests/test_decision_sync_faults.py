"""The faults a decision sync must survive, on real PostgreSQL (and SQLite where it applies).

After each: every decision is on the mirror exactly once once it is reachable, the sync
events tell what happened, and the outbox holds nothing pending.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from conftest import _pg_admin, _pg_url
from occ.cli import app
from occ.decisions import SyncAborted, SyncReport, prepare_mirror, sync_outbox
from occ.decisions.connect import mirror_engine
from occ.store.engine import open_store
from test_decision_sync import (
    Sleeps,
    add_decisions,
    add_fact,
    assert_parity,
    events,
    fresh_pg_database,
    mirror_execute,
    mirror_rows,
    mirror_url,
    outbox,
    pg_mirror,
    settings,
)

__all__ = ["mirror_url", "pg_mirror"]  # fixtures, imported for pytest


@pytest.fixture
def pg_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A fresh, migrated PostgreSQL primary."""
    template = request.getfixturevalue("pg_template")
    if template.startswith("!"):
        pytest.skip(template[1:])
    name = f"occ_t_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    engine = open_store(_pg_url(name))
    yield engine
    engine.dispose()
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepared(url: str) -> None:
    """Create the mirror tables, as a first sync would."""
    engine = mirror_engine(url)
    try:
        prepare_mirror(engine)
    finally:
        engine.dispose()


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def slow_mirror(url: str, seconds: float) -> None:
    """Every statement writing decision_log takes ``seconds`` longer."""
    prepared(url)
    mirror_execute(
        url,
        "CREATE FUNCTION occ_test_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"PERFORM pg_sleep({seconds}); RETURN NULL; END $$",
        "CREATE TRIGGER occ_test_slow BEFORE INSERT ON decision_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION occ_test_slow()",
    )


def assert_exactly_once(engine: Engine, mirror_url: str, ids: list[str]) -> None:
    """Every decision once on the mirror, nothing pending, and parity clean."""
    mirrored = [row["id"] for row in mirror_rows(mirror_url, "decision_log")]
    assert sorted(mirrored) == sorted(ids)  # every decision, none twice
    assert {entry["status"] for entry in outbox(engine)} == {"sent"}
    assert_parity(engine, mirror_url)


@pytest.mark.postgres
def test_a_mirror_failing_every_second_statement_still_gets_everything(
    engine: Engine, pg_mirror: str
) -> None:
    prepared(pg_mirror)
    mirror_execute(
        pg_mirror,
        "CREATE SEQUENCE occ_test_flaky",
        "CREATE FUNCTION occ_test_flaky() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF mod(nextval('occ_test_flaky'), 2) = 1 THEN "
        "RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = '40001'; "
        "END IF; RETURN NULL; END $$",
        "CREATE TRIGGER occ_test_flaky BEFORE INSERT ON decision_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION occ_test_flaky()",
    )
    ids = add_decisions(engine, 7)
    add_fact(engine)
    sleeps = Sleeps()

    report = sync_outbox(engine, pg_mirror, settings(sync_batch_size=3), sleep=sleeps)

    assert (report.sent, report.failed) == (8, 0) and report.ok
    assert_exactly_once(engine, pg_mirror, ids)
    recorded = events(engine)
    # three batches, each failing once then succeeding: one backoff wait per batch
    assert len(sleeps) == 3
    assert Counter((e["status"], e["error_code"], e["attempt"]) for e in recorded) == {
        ("FAILED", "40001", 1): 8,
        ("SUCCESS", None, 2): 8,
    }


@pytest.mark.postgres
def test_a_statement_hanging_on_a_lock_times_out_and_is_delivered_after_release(
    engine: Engine, pg_mirror: str
) -> None:
    prepared(pg_mirror)
    ids = add_decisions(engine, 2)
    locker = psycopg.connect(libpq(pg_mirror))
    locker.execute("LOCK TABLE decision_log IN ACCESS EXCLUSIVE MODE")  # held until rollback
    try:
        started = time.monotonic()
        blocked = sync_outbox(
            engine,
            pg_mirror,
            settings(sync_timeout_seconds=0.3, sync_attempts_per_run=2),
            sleep=Sleeps(),
        )
        elapsed = time.monotonic() - started
    finally:
        locker.rollback()
        locker.close()

    assert (blocked.sent, blocked.failed, blocked.error_code) == (0, 2, "57014")
    assert elapsed < 20  # two 0.3 s timeouts, not a hang (the lock is held until rollback)
    timeouts = events(engine)
    assert {(e["status"], e["error_code"]) for e in timeouts} == {("TIMEOUT", "57014")}
    assert len(timeouts) == 4 and all(e["duration_ms"] >= 250 for e in timeouts)
    assert {(e["status"], e["last_error_code"]) for e in outbox(engine)} == {("pending", "57014")}

    released = sync_outbox(engine, pg_mirror, settings(), sleep=Sleeps())

    assert released.sent == 2
    assert_exactly_once(engine, pg_mirror, ids)


def test_a_locked_sqlite_mirror_times_out_then_delivers(engine: Engine, tmp_path: Path) -> None:
    mirror = f"sqlite:///{tmp_path / 'mirror.db'}"
    prepared(mirror)
    ids = add_decisions(engine, 1)
    locker = sqlite3.connect(tmp_path / "mirror.db", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        blocked = sync_outbox(
            engine, mirror, settings(sync_timeout_seconds=0.2, sync_attempts_per_run=2)
        )
    finally:
        locker.execute("ROLLBACK")
        locker.close()

    assert (blocked.failed, blocked.error_code) == (1, "SQLITE_BUSY")
    assert {e["status"] for e in events(engine)} == {"TIMEOUT"}
    assert sync_outbox(engine, mirror, settings()).sent == 1
    assert_exactly_once(engine, mirror, ids)


def test_a_crash_after_the_mirror_commit_leaves_a_no_op_redelivery(
    engine: Engine, pg_mirror: str
) -> None:
    ids = add_decisions(engine, 3)

    def crash(_: str) -> None:  # runs after the mirror committed, before the entries are marked
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        sync_outbox(engine, pg_mirror, settings(), on_progress=crash)

    assert len(mirror_rows(pg_mirror, "decision_log")) == 3
    assert {entry["status"] for entry in outbox(engine)} == {"pending"}
    assert [e["status"] for e in events(engine)] == ["SUCCESS"] * 3

    restart = sync_outbox(engine, pg_mirror, settings())

    assert (restart.sent, restart.skipped) == (0, 3)
    assert_exactly_once(engine, pg_mirror, ids)
    assert [e["status"] for e in events(engine)] == ["SUCCESS"] * 3 + ["SKIPPED"] * 3


def test_a_row_committed_on_the_mirror_but_not_marked_is_not_duplicated(
    engine: Engine, mirror_url: str
) -> None:
    (decision_id,) = add_decisions(engine, 1)
    prepared(mirror_url)
    created = "2026-11-26 15:00:00" + ("+00" if mirror_url.startswith("postgresql") else ".000000")
    mirror_execute(  # what a crash between the mirror commit and the mark leaves behind
        mirror_url,
        "INSERT INTO decision_log (id, scope, actor, action, rationale, external_ref, payload, "
        f"created_at, version) VALUES ('{decision_id}', 'ops', 'ops@shop.test', 'approve', "
        f"'reason 0', 'PR-0', '{{\"number\": 0}}', '{created}', 1)",
    )

    report = sync_outbox(engine, mirror_url, settings())

    assert (report.sent, report.skipped) == (0, 1)
    assert_exactly_once(engine, mirror_url, [decision_id])
    assert [e["status"] for e in events(engine)] == ["SKIPPED"]


@pytest.mark.postgres
def test_a_sync_killed_mid_run_and_restarted_mirrors_everything_once(
    pg_engine: Engine, pg_mirror: str, runner: CliRunner
) -> None:
    ids = add_decisions(pg_engine, 200)
    slow_mirror(pg_mirror, 0.05)
    db_url = pg_engine.url.render_as_string(hide_password=False)
    env = os.environ | {"OCC_MIRROR_URL": pg_mirror, "OCC_SYNC_BATCH_SIZE": "10"}
    worker = subprocess.Popen(
        [sys.executable, "-c", "from occ.cli import main; main()", "decisions", "sync"]
        + ["--db", db_url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and worker.poll() is None:
            if len(mirror_rows(pg_mirror, "decision_log")) >= 30:
                break
            time.sleep(0.02)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert worker.returncode == -signal.SIGKILL
    assert 0 < len(mirror_rows(pg_mirror, "decision_log")) < 200  # killed mid-run
    assert "pending" in {entry["status"] for entry in outbox(pg_engine)}

    restarted = runner.invoke(app, ["decisions", "sync", "--db", db_url, "--mirror", pg_mirror])

    assert restarted.exit_code == 0, restarted.output
    assert_exactly_once(pg_engine, pg_mirror, ids)
    by_decision: dict[str, Counter[str]] = {}
    for event in events(pg_engine):
        by_decision.setdefault(event["decision_id"], Counter())[event["status"]] += 1
    assert set(by_decision) == set(ids)
    assert all(c["SUCCESS"] + c["SKIPPED"] >= 1 and c["SUCCESS"] <= 1 for c in by_decision.values())


@pytest.mark.postgres
def test_two_workers_at_once_never_claim_the_same_entry(pg_engine: Engine, pg_mirror: str) -> None:
    ids = add_decisions(pg_engine, 60)
    slow_mirror(pg_mirror, 0.02)
    reports: list[SyncReport] = []
    start = threading.Barrier(2)

    def work(name: str) -> None:
        start.wait()
        reports.append(
            sync_outbox(pg_engine, pg_mirror, settings(sync_batch_size=5), worker_id=name)
        )

    workers = [threading.Thread(target=work, args=(name,)) for name in ("w1", "w2")]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)

    assert sorted(report.worker_id for report in reports) == ["w1", "w2"]
    assert all(report.sent > 0 for report in reports)  # both took part
    assert sum(report.sent for report in reports) == 60
    assert sum(report.skipped for report in reports) == 0  # no entry delivered twice
    assert_exactly_once(pg_engine, pg_mirror, ids)
    assert Counter(e["status"] for e in events(pg_engine)) == {"SUCCESS": 60}


@pytest.mark.postgres
def test_permission_denied_stops_the_run_with_one_line_and_no_password(
    engine: Engine, request: pytest.FixtureRequest
) -> None:
    if request.getfixturevalue("pg_template").startswith("!"):
        pytest.skip("no PostgreSQL server")
    role = f"occ_ro_{uuid.uuid4().hex[:8]}"
    password = "n0t-to-be-seen"
    add_decisions(engine, 2)
    with fresh_pg_database() as admin_url:
        prepared(admin_url)
        database = admin_url.rsplit("/", 1)[1]
        with _pg_admin() as admin:
            admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        try:
            mirror_execute(
                admin_url,
                f'GRANT CONNECT ON DATABASE "{database}" TO {role}',
                f"GRANT USAGE ON SCHEMA public TO {role}",
                f"GRANT SELECT ON decision_log, facts TO {role}",
            )
            host = admin_url.split("@", 1)[1]
            readonly_url = f"postgresql+psycopg://{role}:{password}@{host}"
            sleeps = Sleeps()
            with pytest.raises(SyncAborted) as aborted:
                sync_outbox(engine, readonly_url, settings(), sleep=sleeps)
        finally:
            with _pg_admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                admin.execute(f"DROP ROLE IF EXISTS {role}")

    message = str(aborted.value)
    assert "42501" in message and "grant INSERT" in message and "\n" not in message
    assert password not in message and sleeps == []  # never retried
    recorded = events(engine)
    assert [(e["status"], e["error_code"]) for e in recorded] == [("FAILED", "42501")] * 2
    assert all(password not in (e["error_message"] or "") for e in recorded)
    assert {(e["status"], e["last_error_code"]) for e in outbox(engine)} == {("pending", "42501")}


@pytest.mark.postgres
def test_an_unreachable_mirror_on_a_postgres_primary_leaves_every_entry_pending(
    pg_engine: Engine, pg_mirror: str
) -> None:
    ids = add_decisions(pg_engine, 12)
    down = sync_outbox(
        pg_engine,
        "postgresql+psycopg://occ:pw@127.0.0.1:1/mirror",
        settings(sync_batch_size=5, sync_attempts_per_run=2),
        sleep=Sleeps(),
    )
    # the first batch failed twice; the run stopped instead of hammering a dead mirror
    assert (down.failed, down.error_code) == (5, "ECONNREFUSED")
    assert len(events(pg_engine)) == 10
    assert {entry["status"] for entry in outbox(pg_engine)} == {"pending"}

    up = sync_outbox(pg_engine, pg_mirror, settings(sync_batch_size=5))

    assert up.sent == 12
    assert_exactly_once(pg_engine, pg_mirror, ids)
