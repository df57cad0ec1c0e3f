"""``occ decisions add/list/sync/export-events`` through the real CLI (Typer's CliRunner)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from occ.cli import app
from occ.decisions import EVENT_FIELDS, add_decision

UNREACHABLE = "postgresql+psycopg://occ:cli-s3cret@127.0.0.1:1/mirror"


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["decisions", *args])
    return result.exit_code, result.stdout, result.stderr


def add(runner: CliRunner, db: str, scope: str = "ops") -> str:
    code, stdout, stderr = invoke(
        runner,
        "add",
        "--db",
        db,
        "--scope",
        scope,
        "--actor",
        "ops@shop.test",
        "--action",
        "approve",
        "--payload",
        '{"sku": "HRP-1"}',
    )
    assert code == 0, stderr
    return stdout.strip()


def test_add_then_list_as_json(runner: CliRunner, db_url: str) -> None:
    decision_id = add(runner, db_url, scope="cx")
    code, stdout, _ = invoke(runner, "list", "--db", db_url, "--json")
    assert code == 0
    (listed,) = json.loads(stdout)
    assert (listed["id"], listed["scope"], listed["payload"]) == (
        decision_id,
        "cx",
        {"sku": "HRP-1"},
    )


NOT_EMAILS = [
    "notanemail",
    "ops@localhost",  # no dot in the domain
    "@example.com",  # no local part
    "ops@example.",  # nothing after the domain's dot
    "ops@.com",
    "ops@@example.com",
    "ops@shop@example.com",
    "ops team@example.com",
]


@pytest.mark.parametrize("actor", NOT_EMAILS)
def test_add_refuses_an_actor_that_is_not_an_email(
    runner: CliRunner, db_url: str, actor: str
) -> None:
    code, stdout, stderr = invoke(
        runner, "add", "--db", db_url, "--scope", "ops", "--actor", actor, "--action", "approve"
    )
    assert code == 2 and stdout == ""
    assert "--actor" in stderr and "e-mail" in stderr and "ops@example.com" in stderr
    assert len(stderr.strip().splitlines()) == 1
    code, listed, _ = invoke(runner, "list", "--db", db_url, "--json")
    assert code == 0 and json.loads(listed) == []  # nothing was written


def test_the_dashboard_s_operators_keep_deciding_whatever_rule_their_address_passed(
    engine: Engine,
) -> None:
    """An operator added before the e-mail rule (``ops@example.``) still records decisions:
    the rule is the CLI's, where the actor is typed; the web records the signed-in address."""
    decision = add_decision(
        engine, scope="ops", actor="ops@example.", action="approve", now=datetime.now(UTC)
    )
    assert decision.actor == "ops@example."


def test_an_email_actor_is_kept_as_typed(runner: CliRunner, db_url: str) -> None:
    code, _, stderr = invoke(
        runner,
        *("add", "--db", db_url, "--scope", "ops", "--action", "approve"),
        *("--actor", " Ops.Lead+cx@Shop-Parts.example.co.uk "),
    )
    assert code == 0, stderr
    _, listed, _ = invoke(runner, "list", "--db", db_url, "--json")
    assert json.loads(listed)[0]["actor"] == "Ops.Lead+cx@Shop-Parts.example.co.uk"


def test_sync_from_the_mirror_setting_then_status(
    runner: CliRunner, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(runner, db_url)
    add(runner, db_url)
    monkeypatch.setenv("OCC_MIRROR_URL", f"sqlite:///{tmp_path / 'mirror.db'}")

    code, stdout, stderr = invoke(runner, "sync", "--db", db_url)

    assert code == 0, stderr
    assert "2 sent" in stdout and "0 pending" in stdout
    code, stdout, _ = invoke(runner, "sync", "--db", db_url, "--status", "--json")
    assert code == 0
    status = json.loads(stdout)
    assert status["counts"] == {"decision": {"pending": 0, "sent": 2, "dead": 0}}
    assert status["dead"] == [] and status["last_success_at"] is not None


def test_sync_without_a_mirror_says_how_to_give_one(runner: CliRunner, db_url: str) -> None:
    code, _, stderr = invoke(runner, "sync", "--db", db_url)
    assert code == 2
    assert "--mirror" in stderr and "OCC_MIRROR_URL" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_an_unreachable_mirror_exits_6_with_one_masked_line(
    runner: CliRunner, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(runner, db_url)
    monkeypatch.setenv("OCC_SYNC_ATTEMPTS_PER_RUN", "1")

    code, stdout, stderr = invoke(runner, "sync", "--db", db_url, "--mirror", UNREACHABLE)

    assert code == 6
    assert "ECONNREFUSED" in stderr and "stay pending" in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert "1 failed" in stdout and "1 pending" in stdout
    assert "cli-s3cret" not in stdout + stderr and "occ:***@" in stderr
    out = tmp_path / "events.ndjson"
    code, _, _ = invoke(runner, "export-events", "--db", db_url, "--out", str(out))
    assert code == 0 and "cli-s3cret" not in out.read_text()


def test_dead_entries_are_listed_then_retried_with_retry_dead(
    runner: CliRunner, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decision_id = add(runner, db_url)
    monkeypatch.setenv("OCC_SYNC_ATTEMPTS_PER_RUN", "1")
    monkeypatch.setenv("OCC_SYNC_MAX_ATTEMPTS", "1")
    code, _, stderr = invoke(runner, "sync", "--db", db_url, "--mirror", UNREACHABLE)
    assert code == 6 and "--retry-dead" in stderr

    code, stdout, _ = invoke(runner, "sync", "--db", db_url, "--status")
    assert code == 0
    assert "dead" in stdout and decision_id in stdout and "ECONNREFUSED" in stdout

    mirror = f"sqlite:///{tmp_path / 'mirror.db'}"
    code, stdout, _ = invoke(runner, "sync", "--db", db_url, "--mirror", mirror, "--retry-dead")
    assert code == 0
    assert "1 sent" in stdout and "1 revived" in stdout


def test_a_schema_mismatch_exits_6_naming_the_column(
    runner: CliRunner, db_url: str, tmp_path: Path
) -> None:
    import sqlite3

    with sqlite3.connect(tmp_path / "mirror.db") as mirror:
        mirror.execute("CREATE TABLE facts (id INTEGER PRIMARY KEY, value TEXT)")
    add(runner, db_url)

    code, _, stderr = invoke(
        runner, "sync", "--db", db_url, "--mirror", f"sqlite:///{tmp_path / 'mirror.db'}"
    )

    assert code == 6
    assert "facts" in stderr and "fact_type" in stderr and "ALTER TABLE" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_export_events_writes_ndjson_since_an_instant(
    runner: CliRunner, db_url: str, tmp_path: Path
) -> None:
    add(runner, db_url, scope="inventory")
    mirror = f"sqlite:///{tmp_path / 'mirror.db'}"
    assert invoke(runner, "sync", "--db", db_url, "--mirror", mirror)[0] == 0
    out = tmp_path / "events.ndjson"

    code, stdout, _ = invoke(runner, "export-events", "--db", db_url, "--out", str(out))

    assert code == 0 and "1 event(s)" in stdout
    (event,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert tuple(event) == EVENT_FIELDS
    assert (event["status"], event["scope"], event["attempt"]) == ("SUCCESS", "inventory", 1)
    future = ["--since", "2999-01-01T00:00:00Z", "--out", str(tmp_path / "none.ndjson")]
    code, stdout, _ = invoke(runner, "export-events", "--db", db_url, *future)
    assert code == 0 and "0 event(s)" in stdout
    assert (tmp_path / "none.ndjson").read_text() == ""


def test_export_events_rejects_a_bad_instant_and_an_unwritable_file(
    runner: CliRunner, db_url: str, tmp_path: Path
) -> None:
    out = str(tmp_path / "events.ndjson")
    code, _, stderr = invoke(
        runner, "export-events", "--db", db_url, "--since", "May", "--out", out
    )
    assert code == 2 and "--since" in stderr
    missing = str(tmp_path / "no" / "such" / "dir" / "events.ndjson")
    code, _, stderr = invoke(runner, "export-events", "--db", db_url, "--out", missing)
    assert code == 2 and "cannot write" in stderr and len(stderr.strip().splitlines()) == 1


def test_a_malformed_mirror_url_is_a_config_error(runner: CliRunner, db_url: str) -> None:
    add(runner, db_url)
    code, _, stderr = invoke(runner, "sync", "--db", db_url, "--mirror", "not a url")
    assert code == 2 and "SQLAlchemy URL" in stderr
