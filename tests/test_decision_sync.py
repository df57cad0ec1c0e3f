"""Decision sync: delivery, idempotence, versions, legacy mirrors, dead entries, event export.

Primary and mirror are real databases: SQLite files and fresh PostgreSQL databases on
127.0.0.1:5432 (the mirror ones are created empty, as a new Supabase project would be).
The fault tests that need PostgreSQL features live in ``test_decision_sync_faults.py``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from typer.testing import CliRunner

from conftest import NOW, _pg_admin, _pg_url
from occ.cli import app
from occ.config import Settings
from occ.decisions import (
    EVENT_FIELDS,
    MirrorSchemaError,
    SyncAborted,
    add_decision,
    classify,
    export_events,
    mask_secrets,
    open_mirror,
    sync_outbox,
    sync_status,
)
from occ.errors import ConfigError, MirrorError
from occ.ops.parity import check_parity
from occ.store.facts import write_fact
from occ.store.outbox import enqueue

UNREACHABLE = "postgresql+psycopg://occ:s3cret-pw@127.0.0.1:1/mirror"


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """An empty PostgreSQL database (no occ schema): a new mirror."""
    name = f"occ_m_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def mirror_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty mirror: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mirror.db'}"
        return
    template = request.getfixturevalue("pg_template")
    if template.startswith("!"):
        pytest.skip(template[1:])
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def pg_mirror(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty PostgreSQL mirror."""
    template = request.getfixturevalue("pg_template")
    if template.startswith("!"):
        pytest.skip(template[1:])
    with fresh_pg_database() as url:
        yield url


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"sync_timeout_seconds": 5.0} | overrides
    return Settings(**values)


class Sleeps(list[float]):
    """The backoff waits a run asked for (nobody waits in tests)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def add_decisions(engine: Engine, count: int, scope: str = "ops") -> list[str]:
    return [
        add_decision(
            engine,
            scope=scope,
            actor="ops@shop.test",
            action="approve",
            now=NOW + timedelta(seconds=number),
            rationale=f"reason {number}",
            external_ref=f"PR-{number}",
            payload={"number": number},
        ).id
        for number in range(count)
    ]


def add_fact(engine: Engine, fact_type: str = "sales_delta") -> int:
    with engine.begin() as connection:
        return write_fact(
            connection,
            shop="shop.test",
            fact_type=fact_type,
            scope="sales",
            value={"delta_pct": -12.5},
            metadata={"window_days": 7},
            now=NOW,
            evidence_url="https://shop.test/evidence/1",
        )


def mirror_rows(url: str, table: str) -> list[dict[str, Any]]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))
            return [dict(row) for row in rows.mappings()]
    finally:
        engine.dispose()


def mirror_execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def assert_parity(engine: Engine, mirror_url: str) -> None:
    """The parity check (``occ parity``) finds the mirror equal to the primary."""
    mirror = open_mirror(mirror_url)
    try:
        parity = check_parity(engine, mirror)
    finally:
        mirror.dispose()
    assert parity.ok, parity.as_dict()


def events(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM sync_event ORDER BY id")).mappings()
        return [dict(row) for row in rows]


def outbox(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM outbox ORDER BY id")).mappings()
        return [dict(row) for row in rows]


def test_first_sync_creates_the_tables_and_mirrors_decisions_and_facts_once(
    engine: Engine, mirror_url: str
) -> None:
    ids = add_decisions(engine, 5)
    fact_id = add_fact(engine)

    report = sync_outbox(engine, mirror_url, settings(sync_batch_size=2), sleep=Sleeps())

    assert (report.sent, report.skipped, report.failed, report.dead) == (6, 0, 0, 0)
    assert report.ok and report.error is None and report.notices == []
    mirrored = mirror_rows(mirror_url, "decision_log")
    assert sorted(row["id"] for row in mirrored) == sorted(ids)
    first = next(row for row in mirrored if row["payload"] in ({"number": 0}, '{"number": 0}'))
    assert (first["actor"], first["action"], first["rationale"]) == (
        "ops@shop.test",
        "approve",
        "reason 0",
    )
    assert first["external_ref"] == "PR-0" and first["version"] == 1
    (fact,) = mirror_rows(mirror_url, "facts")
    assert (fact["id"], fact["fact_type"], fact["scope"]) == (fact_id, "sales_delta", "sales")
    assert fact["evidence_url"] == "https://shop.test/evidence/1"
    assert {entry["status"] for entry in outbox(engine)} == {"sent"}
    recorded = events(engine)
    assert len(recorded) == 6 and {e["status"] for e in recorded} == {"SUCCESS"}
    assert {e["attempt"] for e in recorded} == {1}

    again = sync_outbox(engine, mirror_url, settings(), sleep=Sleeps())
    assert (again.sent, again.attempts) == (0, 0)
    assert len(mirror_rows(mirror_url, "decision_log")) == 5
    assert_parity(engine, mirror_url)


def test_redelivering_a_sent_entry_is_a_recorded_no_op(engine: Engine, mirror_url: str) -> None:
    (decision_id,) = add_decisions(engine, 1)
    sync_outbox(engine, mirror_url, settings(), sleep=Sleeps())
    with engine.begin() as connection:  # the same entry delivered a second time
        connection.execute(text("UPDATE outbox SET status = 'pending'"))

    report = sync_outbox(engine, mirror_url, settings(), sleep=Sleeps())

    assert (report.sent, report.skipped) == (0, 1)
    assert [row["id"] for row in mirror_rows(mirror_url, "decision_log")] == [decision_id]
    assert [e["status"] for e in events(engine)] == ["SUCCESS", "SKIPPED"]
    assert outbox(engine)[0]["status"] == "sent"


def test_an_older_version_arriving_after_a_newer_one_changes_nothing(
    engine: Engine, mirror_url: str
) -> None:
    (decision_id,) = add_decisions(engine, 1)
    with engine.begin() as connection:
        enqueue(connection, kind="decision", ref_id=decision_id, at=NOW, version=2)
    report = sync_outbox(engine, mirror_url, settings(), sleep=Sleeps())
    # Both versions in one batch: version 2 carries the row, version 1 is superseded.
    assert (report.sent, report.skipped) == (1, 1)
    assert mirror_rows(mirror_url, "decision_log")[0]["version"] == 2

    with engine.begin() as connection:  # version 1 replayed late, with other content
        connection.execute(text("UPDATE decision_log SET rationale = 'rewritten'"))
        connection.execute(text("UPDATE outbox SET status = 'pending' WHERE version = 1"))
    late = sync_outbox(engine, mirror_url, settings(), sleep=Sleeps())

    assert (late.sent, late.skipped) == (0, 1)
    (row,) = mirror_rows(mirror_url, "decision_log")
    assert (row["version"], row["rationale"]) == (2, "reason 0")


def test_unreachable_mirror_keeps_entries_pending_then_delivers_them(
    engine: Engine, mirror_url: str
) -> None:
    ids = add_decisions(engine, 3)
    sleeps = Sleeps()

    report = sync_outbox(engine, UNREACHABLE, settings(sync_attempts_per_run=3), sleep=sleeps)

    assert (report.sent, report.failed, report.dead) == (0, 3, 0)
    assert report.error_code == "ECONNREFUSED" and not report.ok
    assert len(sleeps) == 2 and all(0 <= wait <= 30 for wait in sleeps)
    failed = events(engine)
    assert len(failed) == 9
    assert {(e["status"], e["error_code"]) for e in failed} == {("FAILED", "ECONNREFUSED")}
    assert sorted(e["attempt"] for e in failed if e["decision_id"] == ids[0]) == [1, 2, 3]
    entries = outbox(engine)
    assert {(e["status"], e["attempts"], e["last_error_code"]) for e in entries} == {
        ("pending", 3, "ECONNREFUSED")
    }
    everything = json.dumps([failed, entries, report.as_dict()], default=str)
    assert "s3cret-pw" not in everything and "***" in report.mirror

    later = sync_outbox(engine, mirror_url, settings(), sleep=Sleeps())

    assert later.sent == 3 and later.ok
    assert sorted(r["id"] for r in mirror_rows(mirror_url, "decision_log")) == sorted(ids)
    success = [e for e in events(engine) if e["status"] == "SUCCESS"]
    assert len(success) == 3 and {e["attempt"] for e in success} == {4}


def test_entries_past_the_maximum_attempts_are_dead_listed_and_retried_on_demand(
    engine: Engine, mirror_url: str
) -> None:
    ids = add_decisions(engine, 2)
    failing = settings(sync_attempts_per_run=2, sync_max_attempts=3)

    first = sync_outbox(engine, UNREACHABLE, failing, sleep=Sleeps())
    second = sync_outbox(engine, UNREACHABLE, failing, sleep=Sleeps())

    assert (first.failed, first.dead) == (2, 0)
    assert (second.failed, second.dead) == (0, 2)  # the third attempt reached the maximum
    assert len(events(engine)) == 6  # 2 entries x (2 + 1) attempts, never a fourth
    with engine.connect() as connection:
        status = sync_status(connection)
    assert status.counts["decision"] == {"pending": 0, "sent": 0, "dead": 2}
    assert sorted(entry["ref_id"] for entry in status.dead) == sorted(ids)
    assert {entry["last_error_code"] for entry in status.dead} == {"ECONNREFUSED"}

    ignored = sync_outbox(engine, mirror_url, settings(), sleep=Sleeps())
    assert ignored.sent == 0  # dead entries wait for --retry-dead
    revived = sync_outbox(engine, mirror_url, settings(), sleep=Sleeps(), retry_dead=True)

    assert (revived.revived, revived.sent) == (2, 2)
    assert len(mirror_rows(mirror_url, "decision_log")) == 2
    assert {entry["status"] for entry in outbox(engine)} == {"sent"}


LEGACY_TABLE = (
    "CREATE TABLE decision_log (id {id} PRIMARY KEY, who TEXT NOT NULL, what TEXT NOT NULL, "
    "why TEXT, sha TEXT, evidence_url TEXT, created_at {timestamp} NOT NULL)"
)


def test_a_legacy_mirror_is_detected_once_and_written_in_its_own_shape(
    engine: Engine, mirror_url: str
) -> None:
    postgres = mirror_url.startswith("postgresql")  # a Supabase-style table: uuid ids
    shape = (
        {"id": "UUID", "timestamp": "TIMESTAMPTZ"}
        if postgres
        else {"id": "TEXT", "timestamp": "TEXT"}
    )
    mirror_execute(mirror_url, LEGACY_TABLE.format(**shape))
    ids = add_decisions(engine, 5)
    add_fact(engine)

    report = sync_outbox(engine, mirror_url, settings(sync_batch_size=2), sleep=Sleeps())

    assert report.sent == 6 and len(report.notices) == 1  # three batches, one detection
    assert "legacy" in report.notices[0] and "actor→who" in report.notices[0]
    rows = mirror_rows(mirror_url, "decision_log")
    for row in rows:
        row["id"] = str(row["id"])
    assert sorted(row["id"] for row in rows) == sorted(ids)
    assert set(rows[0]) == {"id", "who", "what", "why", "sha", "evidence_url", "created_at"}
    first = next(row for row in rows if row["id"] == ids[0])
    assert (first["who"], first["what"], first["why"], first["sha"]) == (
        "ops@shop.test",
        "approve",
        "reason 0",
        "PR-0",
    )
    assert len(mirror_rows(mirror_url, "facts")) == 1
    assert {e["status"] for e in events(engine)} == {"SUCCESS"}

    with engine.begin() as connection:
        connection.execute(text("UPDATE outbox SET status = 'pending'"))
    replay = sync_outbox(engine, mirror_url, settings(), sleep=Sleeps())
    assert (replay.sent, replay.skipped) == (0, 6)
    assert len(mirror_rows(mirror_url, "decision_log")) == 5
    if not postgres:  # parity cannot segment uuid keys yet (min(uuid) does not exist)
        assert_parity(engine, mirror_url)


def test_a_mirror_table_of_another_shape_stops_the_run_naming_the_column(
    engine: Engine, mirror_url: str
) -> None:
    mirror_execute(
        mirror_url,
        "CREATE TABLE decision_log (id TEXT PRIMARY KEY, scope TEXT, actor TEXT, action TEXT, "
        "created_at TEXT)",
    )
    add_decisions(engine, 2)
    sleeps = Sleeps()

    with pytest.raises(SyncAborted) as aborted:
        sync_outbox(engine, mirror_url, settings(), sleep=sleeps)

    message = str(aborted.value)
    assert "decision_log" in message and "version" in message and "ALTER TABLE" in message
    assert "\n" not in message and sleeps == []  # not retried
    assert [(e["status"], e["error_code"]) for e in events(engine)] == [("FAILED", "42703")] * 2
    assert {e["status"] for e in outbox(engine)} == {"pending"}


def test_a_decision_missing_from_the_primary_is_dead_not_dropped(
    engine: Engine, mirror_url: str
) -> None:
    with engine.begin() as connection:
        enqueue(connection, kind="decision", ref_id="no-such-decision", at=NOW, scope="ops")
    add_decisions(engine, 1)

    report = sync_outbox(engine, mirror_url, settings(), sleep=Sleeps())

    assert (report.sent, report.dead) == (1, 1) and not report.ok
    with engine.connect() as connection:
        (dead,) = sync_status(connection).dead
    assert (dead["ref_id"], dead["last_error_code"]) == ("no-such-decision", "MISSING")


def test_export_events_writes_exactly_the_analyzer_fields(
    engine: Engine, mirror_url: str, tmp_path: Path
) -> None:
    clock = iter(NOW + timedelta(minutes=minute) for minute in range(100))
    add_decisions(engine, 2, scope="cx")
    add_fact(engine)
    sync_outbox(engine, UNREACHABLE, settings(sync_attempts_per_run=1), now=lambda: next(clock))
    sync_outbox(engine, mirror_url, settings(), now=lambda: next(clock), sleep=Sleeps())
    out = tmp_path / "events.ndjson"

    with engine.connect() as connection:
        written = export_events(connection, None, out)
        since = export_events(connection, NOW + timedelta(minutes=1), tmp_path / "late.ndjson")
        everything = export_events(connection, None, tmp_path / "all.ndjson", kind=None)

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert written == len(lines) == 4 and since == 2 and everything == 6
    assert all(tuple(event) == EVENT_FIELDS for event in lines)
    failed, success = lines[0], lines[-1]
    assert (failed["status"], failed["errorCode"], failed["attempt"]) == (
        "FAILED",
        "ECONNREFUSED",
        1,
    )
    assert "s3cret-pw" not in out.read_text()
    assert (success["status"], success["errorCode"], success["errorMessage"]) == (
        "SUCCESS",
        None,
        None,
    )
    assert success["scope"] == "cx" and success["attempt"] == 2
    assert success["timestamp"] == "2026-11-26T15:02:00.000Z"
    assert isinstance(success["durationMs"], float) and success["durationMs"] >= 0


def test_secrets_are_masked_in_messages() -> None:
    message = (
        "cannot connect to postgresql://app:hunter2@db.example/x and "
        "host=db password=hunter2 user=app; also 'topsecret'"
    )
    masked = mask_secrets(message, ["topsecret"])
    assert "hunter2" not in masked and "topsecret" not in masked
    assert "postgresql://app:***@db.example/x" in masked and "password=***" in masked


def test_classification_follows_sqlstates() -> None:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    class DriverError(Exception):
        def __init__(self, message: str, sqlstate: str | None = None) -> None:
            super().__init__(message)
            self.sqlstate = sqlstate

    def failure(state: str | None, message: str = "x") -> tuple[str, str, bool]:
        error = OperationalError("SELECT 1", {}, DriverError(message, state))
        found = classify(error)
        return found.status, found.code, found.retryable

    assert failure("40001") == ("FAILED", "40001", True)
    assert failure("40P01") == ("FAILED", "40P01", True)
    assert failure("57014") == ("TIMEOUT", "57014", True)
    assert failure("08006") == ("FAILED", "08006", True)
    assert failure("53300") == ("FAILED", "53300", True)
    assert failure("42501") == ("FAILED", "42501", False)
    assert failure("42703") == ("FAILED", "42703", False)
    assert failure("42P01") == ("FAILED", "42P01", False)
    assert failure(None, "connection timeout expired") == ("TIMEOUT", "ETIMEDOUT", True)
    assert failure(None, "Connection reset by peer") == ("FAILED", "ECONNRESET", True)
    programming = ProgrammingError("SELECT", {}, DriverError("syntax"))
    assert classify(programming).retryable is False
    schema = classify(MirrorSchemaError("the mirror table facts has no column x", "42703"))
    assert (schema.code, schema.retryable) == ("42703", False)


def test_open_mirror_checks_the_connection_and_masks_the_password(tmp_path: Path) -> None:
    engine = open_mirror(f"sqlite:///{tmp_path / 'mirror.db'}")
    engine.dispose()
    with pytest.raises(MirrorError) as unreachable:
        open_mirror(UNREACHABLE, timeout_seconds=1)
    message = str(unreachable.value)
    assert "s3cret-pw" not in message and "occ:***@127.0.0.1:1" in message
    assert "\n" not in message
    with pytest.raises(ConfigError):
        open_mirror("not a url")


def test_a_decision_without_payload_is_null_on_the_mirror(engine: Engine, mirror_url: str) -> None:
    add_decision(engine, scope="ops", actor="a@shop.test", action="snooze", now=NOW)
    sync_outbox(engine, mirror_url, settings())
    (row,) = mirror_rows(mirror_url, "decision_log")
    assert row["payload"] is None and row["rationale"] is None


def test_an_explicit_sync_with_nothing_pending_creates_the_mirror_for_parity(
    engine: Engine, mirror_url: str, runner: CliRunner
) -> None:
    """`occ parity` on a missing mirror says to run `occ decisions sync`: that must create it."""
    db = engine.url.render_as_string(hide_password=False)
    report = sync_outbox(engine, mirror_url, settings())  # the worker's way: nothing to do
    assert (report.sent, report.attempts) == (0, 0)
    mirror = create_engine(mirror_url)
    try:
        assert not inspect(mirror).has_table("decision_log")  # left alone
    finally:
        mirror.dispose()

    synced = runner.invoke(app, ["decisions", "sync", "--db", db, "--mirror", mirror_url])
    parity = runner.invoke(app, ["parity", "--db", db, "--mirror", mirror_url, "--json"])

    assert synced.exit_code == 0, synced.output
    assert mirror_rows(mirror_url, "decision_log") == [] == mirror_rows(mirror_url, "facts")
    assert parity.exit_code == 0, parity.output
    assert events(engine) == []  # no attempt was made, none is recorded


def test_an_explicit_sync_with_nothing_pending_stops_on_a_mirror_of_another_shape(
    engine: Engine, mirror_url: str
) -> None:
    mirror_execute(mirror_url, "CREATE TABLE decision_log (id TEXT PRIMARY KEY, scope TEXT)")

    with pytest.raises(SyncAborted) as aborted:
        sync_outbox(engine, mirror_url, settings(), create_mirror=True)

    assert "decision_log" in str(aborted.value) and "\n" not in str(aborted.value)
    assert aborted.value.report.error_code == "42703"
