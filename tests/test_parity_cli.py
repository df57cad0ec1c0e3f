"""``occ parity``: exit 0 within the threshold, 1 outside it, 2 when it could not run."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from occ.cli.parity_cmd import parity
from occ.ops.parity import open_mirror
from occ.store.engine import open_store
from test_parity import create_mirror, decision_rows, fact_rows, seed, sync


def occ_app() -> typer.Typer:
    """The command registered as ``occ.cli.app`` registers it."""
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """occ"""

    app.command("parity")(parity)
    return app


APP = occ_app()


def synced_mirror(db_url: str, tmp_path: Path, decisions: int = 30) -> tuple[Engine, str]:
    """A primary with rows, and a SQLite mirror holding the same rows."""
    primary = open_store(db_url)
    seed(primary, decision_rows(decisions), fact_rows(9))
    path = tmp_path / "mirror.db"
    sqlite3.connect(path).close()
    mirror = open_mirror(f"sqlite:///{path}")
    create_mirror(mirror)
    sync(primary, mirror)
    primary.dispose()
    return mirror, f"sqlite:///{path}"


def test_a_mirror_in_parity_exits_0_and_prints_the_document(
    runner: CliRunner, db_url: str, tmp_path: Path
) -> None:
    mirror, mirror_url = synced_mirror(db_url, tmp_path)
    mirror.dispose()

    result = runner.invoke(APP, ["parity", "--db", db_url, "--mirror", mirror_url, "--json"])

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert document["tables"]["decisions"]["primaryCount"] == 30
    assert document["tables"]["facts"]["byFactType"][0]["mirror"] == 3

    human = runner.invoke(APP, ["parity", "--db", db_url, "--mirror", mirror_url])
    assert human.exit_code == 0, human.output
    assert "parity OK" in human.stdout and "inventory" in human.stdout


def test_differences_exit_1_and_name_the_rows(
    runner: CliRunner, db_url: str, tmp_path: Path
) -> None:
    mirror, mirror_url = synced_mirror(db_url, tmp_path)
    rows = decision_rows(30)
    with mirror.begin() as connection:
        connection.execute(
            text("UPDATE decision_log SET rationale = 'edited' WHERE id = :id"),
            {"id": rows[2]["id"]},
        )
        connection.execute(text("DELETE FROM decision_log WHERE id = :id"), {"id": rows[3]["id"]})
    mirror.dispose()

    result = runner.invoke(APP, ["parity", "--db", db_url, "--mirror", mirror_url])

    assert result.exit_code == 1, result.output
    assert rows[2]["id"] in result.stdout and rows[3]["id"] in result.stdout
    assert "parity FAILED" in result.stdout and "decisions" in result.stdout
    document = json.loads(
        runner.invoke(APP, ["parity", "--db", db_url, "--mirror", mirror_url, "--json"]).stdout
    )
    assert document["tables"]["decisions"]["differing"] == [rows[2]["id"]]
    assert document["tables"]["decisions"]["missingOnMirror"] == [rows[3]["id"]]


def test_the_threshold_option_and_the_mirror_setting_are_used(
    runner: CliRunner, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror, mirror_url = synced_mirror(db_url, tmp_path)
    with mirror.begin() as connection:
        connection.execute(text("DELETE FROM facts WHERE id = '1'"))  # 1 of 3: 33 %
    mirror.dispose()
    monkeypatch.setenv("OCC_MIRROR_URL", mirror_url)

    assert runner.invoke(APP, ["parity", "--db", db_url]).exit_code == 1
    result = runner.invoke(APP, ["parity", "--db", db_url, "--threshold", "40"])
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("OCC_PARITY_THRESHOLD_PCT", "50")
    assert runner.invoke(APP, ["parity", "--db", db_url]).exit_code == 0


def test_an_unreachable_mirror_exits_2_without_printing_its_password(
    runner: CliRunner, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'occ.db'}"
    url = "postgresql://u:secretpw@127.0.0.1:1/x"

    result = runner.invoke(APP, ["parity", "--db", db, "--mirror", url])

    assert result.exit_code == 2
    assert "secretpw" not in result.output
    assert "cannot reach the mirror" in result.output and "u:***@127.0.0.1:1/x" in result.output
    assert "Traceback" not in result.output


def test_a_mirror_without_tables_exits_2_and_asks_for_a_sync(
    runner: CliRunner, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'occ.db'}"
    empty = tmp_path / "empty-mirror.db"
    sqlite3.connect(empty).close()

    result = runner.invoke(APP, ["parity", "--db", db, "--mirror", f"sqlite:///{empty}"])

    assert result.exit_code == 2
    assert "run `occ decisions sync` first" in " ".join(result.output.split())


def test_no_mirror_configured_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(APP, ["parity", "--db", f"sqlite:///{tmp_path / 'occ.db'}"])
    assert result.exit_code == 2
    assert "--mirror" in result.output and "OCC_MIRROR_URL" in result.output
