"""`occ export conversations` and `occ export sla` over a recorded folder computed by hand
(tests/export_scenario.py), on SQLite and PostgreSQL, and the dashboard's download links."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from export_scenario import (
    BUSINESS_HOURS_ENV,
    BUSINESS_HOURS_TOML,
    EXPECTED_BY_AGENT,
    EXPECTED_BY_TEAM,
    EXPECTED_ROWS,
    FORMULA_NAME,
    NOW,
    export_folder,
)
from occ.cli import app
from occ.config import Settings
from occ.contracts.kpis import SlaConfig
from occ.contracts.records import ConversationRecord
from occ.exports.files import CONVERSATION_FIELDS, SLA_FIELDS, render_conversations
from occ.metrics.conversations import conversation_rows
from occ.refresh import run_refresh
from occ.sources.recorded import recorded_payloads
from web_fixtures import dashboard

NOW_ISO = NOW.isoformat()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "occ.toml"
    path.write_text(BUSINESS_HOURS_TOML)
    return path


@pytest.fixture
def export_db(runner: CliRunner, db_url: str, tmp_path: Path) -> str:
    folder = export_folder(tmp_path / "rec")
    result = runner.invoke(
        app, ["refresh", "--source", f"dir:{folder}", "--now", NOW_ISO, "--db", db_url]
    )
    assert result.exit_code == 0, result.output
    return db_url


def _export(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, ["export", *args, "--now", NOW_ISO])


def _csv(text: str) -> tuple[list[str], list[tuple[str, ...]]]:
    header, *rows = list(csv.reader(io.StringIO(text)))
    return header, [tuple(row) for row in rows]


def _as_csv(value: Any) -> str:
    """A JSON value spelled as the CSV spells it (to compare the two formats)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(value)
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def test_each_conversation_row_is_exactly_the_hand_computed_one(
    runner: CliRunner, export_db: str, config: Path
) -> None:
    result = _export(runner, "conversations", "--db", export_db, "--config", str(config))
    assert result.exit_code == 0, result.output
    header, rows = _csv(result.stdout)
    assert tuple(header) == CONVERSATION_FIELDS
    assert rows == EXPECTED_ROWS
    assert result.stdout_bytes.endswith(b"\r\n")  # RFC 4180 line ends


def test_json_holds_the_same_fields_and_numbers_as_csv(
    runner: CliRunner, export_db: str, config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "conversations.json"
    common = ["--db", export_db, "--config", str(config)]
    result = _export(runner, "conversations", "--format", "json", "--out", str(out), *common)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # the file, not stdout
    assert f"14 conversation(s) written to {out}" in result.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    assert [list(item) for item in document] == [list(CONVERSATION_FIELDS)] * 14
    spelled = [tuple(_as_csv(item[f]) for f in CONVERSATION_FIELDS) for item in document]
    expected = [(*row[:2], FORMULA_NAME if row[0] == "8" else row[2], *row[3:]) for row in
                EXPECTED_ROWS]  # fmt: skip
    assert spelled == expected  # JSON is no spreadsheet: no formula guard, same text
    first = document[0]
    assert first["first_response_minutes"] == 3955.0 and first["sla_clock_minutes"] == 55.0
    assert document[1]["inbox_id"] == 1 and document[5]["inbox_id"] is None
    assert document[7]["linked_orders"] == ["#1001", "#1003"]
    assert document[10]["labels"] == ["priority", "shipping"]


def test_sla_met_per_agent_and_per_team(
    runner: CliRunner, export_db: str, config: Path, tmp_path: Path
) -> None:
    common = ["--db", export_db, "--config", str(config)]
    by_agent = _export(runner, "sla", *common)
    assert by_agent.exit_code == 0, by_agent.output
    header, rows = _csv(by_agent.stdout)
    assert tuple(header) == SLA_FIELDS
    assert rows == EXPECTED_BY_AGENT
    out = tmp_path / "teams.json"
    by_team = _export(runner, "sla", "--by", "team", "--format", "json", "--out", str(out), *common)
    assert by_team.exit_code == 0, by_team.output
    document = json.loads(out.read_text())
    assert [tuple(_as_csv(item[f]) for f in SLA_FIELDS) for item in document] == EXPECTED_BY_TEAM
    assert document[1]["sla_met_pct"] == 83.33 and document[2]["id"] is None


def test_business_hours_from_the_environment_equal_occ_toml(
    runner: CliRunner, export_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCC_SLA_BUSINESS_HOURS", BUSINESS_HOURS_ENV)
    result = _export(runner, "conversations", "--db", export_db)
    assert result.exit_code == 0, result.output
    assert _csv(result.stdout)[1] == EXPECTED_ROWS


def test_without_business_hours_the_clock_runs_through_nights_and_weekends(
    runner: CliRunner, export_db: str
) -> None:
    result = _export(runner, "conversations", "--db", export_db)
    assert result.exit_code == 0, result.output
    rows = {row[0]: row for row in _csv(result.stdout)[1]}
    clock, due, status = (CONVERSATION_FIELDS.index(f) for f in ("sla_clock", "sla_due_at",
                                                                 "sla_status"))  # fmt: skip
    for conversation, wall in (("9", "1010.00"), ("10", "3915.00"), ("11", "3955.00")):
        row = rows[conversation]
        assert (row[clock], row[clock + 1], row[status]) == ("24/7", wall, "breached")
    assert rows["9"][due] == "2026-11-24T16:40:00Z"
    agents = _csv(_export(runner, "sla", "--db", export_db).stdout)[1]
    assert [row[8] for row in agents] == ["40.00", "50.00", "66.67"]  # Dana 2/5 instead of 4/5


def test_from_and_to_select_the_conversations_created_on_those_shop_days(
    runner: CliRunner, export_db: str, config: Path
) -> None:
    result = _export(
        runner, "conversations", "--from", "2026-11-24", "--to", "2026-11-25",
        "--db", export_db, "--config", str(config),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [row[0] for row in _csv(result.stdout)[1]] == ["1", "2", "9", "3", "4"]


def test_an_export_as_of_a_past_instant_sees_what_that_instant_saw(
    runner: CliRunner, export_db: str, config: Path
) -> None:
    result = runner.invoke(
        app,
        ["export", "conversations", "--now", "2026-11-24T12:00:00Z", "--db", export_db,
         "--config", str(config)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {row[0]: row for row in _csv(result.stdout)[1]}
    assert "3" not in rows and "9" not in rows  # created later
    pending = rows["2"]  # the reply at 12:35 had not come: 60 min, not past the SLA yet
    assert pending[CONVERSATION_FIELDS.index("first_response_at")] == ""
    assert pending[CONVERSATION_FIELDS.index("sla_clock_minutes")] == "60.00"
    assert pending[CONVERSATION_FIELDS.index("sla_status")] == "pending"


def test_output_replaces_the_file_atomically(
    runner: CliRunner, export_db: str, config: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "sla.csv"
    target.write_text("old contents\n")
    result = _export(
        runner, "sla", "--out", str(target), "--db", export_db, "--config", str(config)
    )
    assert result.exit_code == 0, result.output
    assert _csv(target.read_text())[1] == EXPECTED_BY_AGENT
    assert [p.name for p in folder.iterdir()] == ["sla.csv"]  # no temporary file left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["conversations", "--from", "2026-13-01"], "--from '2026-13-01' is not a date"),
        (["conversations", "--from", "2026-11-25", "--to", "2026-11-24"], "is before --from"),
        (["conversations", "--format", "xml"], "unknown --format 'xml'; use csv or json"),
        (["sla", "--by", "customer"], "unknown --by 'customer'; use agent or team"),
        (["sla", "--now", "yesterday"], "is not an ISO-8601 instant"),
        (["conversations", "--out", "{tmp}/missing/x.csv"], "does not exist; create it first"),
        (["conversations", "--out", "{tmp}"], "is a folder; give a file name"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    runner: CliRunner, export_db: str, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "export.csv"
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--out" not in argv:
        argv += ["--out", str(out)]
    result = runner.invoke(app, ["export", *argv, "--db", export_db])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_an_empty_store_says_what_to_do(runner: CliRunner, db_url: str) -> None:
    result = _export(runner, "conversations", "--db", db_url)
    assert result.exit_code == 1
    assert "no refresh recorded yet; run `occ refresh` or `occ demo` first" in result.stderr


def test_a_shop_without_conversations_says_to_configure_chatwoot(
    runner: CliRunner, db_url: str, tmp_path: Path
) -> None:
    from builders import write_folder

    folder = write_folder(tmp_path / "shopify-only", orders=[])
    refreshed = runner.invoke(
        app, ["refresh", "--source", f"dir:{folder}", "--now", NOW_ISO, "--db", db_url]
    )
    assert refreshed.exit_code == 0, refreshed.output
    result = _export(runner, "sla", "--db", db_url)
    assert result.exit_code == 1
    assert "holds no Chatwoot conversation of test-shop.myshopify.com" in result.stderr
    assert "OCC_CHATWOOT_API_TOKEN" in result.stderr


def test_a_window_without_conversations_is_a_header_and_a_notice(
    runner: CliRunner, export_db: str
) -> None:
    result = _export(runner, "sla", "--from", "2026-01-01", "--to", "2026-01-31", "--db", export_db)
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == (",".join(SLA_FIELDS) + "\r\n").encode()
    assert "no conversation was created in that window" in result.stderr


def test_the_dashboard_serves_the_same_exports_to_a_signed_in_operator(
    engine: Engine, tmp_path: Path
) -> None:
    folder = export_folder(tmp_path / "rec")
    run_refresh(engine, Settings(), recorded_payloads(folder), NOW)
    settings = Settings(sla_business_hours=json.loads(BUSINESS_HOURS_ENV))
    with dashboard(engine, folder, settings=settings, clock=lambda: NOW, refresh=False) as dash:
        with dash.client() as anonymous:
            refused = anonymous.get("/exports/conversations.csv")
        with dash.signed_in() as client:
            conversations = client.get("/exports/conversations.csv")
            teams = client.get("/exports/sla.json", params={"by": "team"})
            window = client.get("/exports/conversations.json", params={"from": "2026-11-24"})
            bad = client.get("/exports/sla.csv", params={"by": "inbox"})
            tile = client.get("/tiles/sla_breach_rate")
    assert refused.status_code == 303 and refused.headers["location"].startswith("/signin")
    assert conversations.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="occ-conversations.csv"' in conversations.headers["content-disposition"]
    assert _csv(conversations.text) == (list(CONVERSATION_FIELDS), EXPECTED_ROWS)
    assert teams.headers["content-type"] == "application/json"
    spelled = [tuple(_as_csv(item[f]) for f in SLA_FIELDS) for item in teams.json()]
    assert spelled == EXPECTED_BY_TEAM
    assert [item["conversation_id"] for item in window.json()] == [1, 2, 9, 3, 4, 8, 7]
    assert bad.status_code == 400 and "use agent or team" in bad.text
    assert 'href="/exports/sla.csv?by=team"' in tile.text


def test_the_demo_store_has_agents_teams_and_inboxes_to_export(
    runner: CliRunner, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    built = runner.invoke(app, ["demo", "--no-serve", "--now", NOW_ISO, "--db", db])
    assert built.exit_code == 0, built.output
    rows = json.loads(_export(runner, "conversations", "--format", "json", "--db", db).stdout)
    teams = json.loads(
        _export(runner, "sla", "--by", "team", "--format", "json", "--db", db).stdout
    )
    agents = _csv(_export(runner, "sla", "--db", db).stdout)[1]
    assert {row["inbox_id"] for row in rows} == {1, 2}
    assert [(t["id"], t["name"]) for t in teams] == [(2, "Orders & shipping"), (1, "Parts advice")]
    assert sum(team["conversations"] for team in teams) == len(rows) == 60
    assert [row[2] for row in agents] == ["Dana Whitfield", "Marcus Bell", "Rosa Delgado", ""]
    # Every conversation an agent replied to is assigned to that agent.
    assert all(row["assignee_id"] for row in rows if row["first_response_at"])


def test_exported_text_is_masked_in_both_formats() -> None:
    token = "shpat_" + "0123456789abcdef" * 2
    (row,) = conversation_rows(
        [ConversationRecord(1, "open", (), f"Ann {token}", NOW, ())], NOW, SlaConfig(), {}, {}
    )
    for fmt in ("csv", "json"):
        text = render_conversations([row], fmt)
        assert token not in text and "Ann shpa" in text
