"""The real `occ contracts` commands through Typer's CliRunner: reports, exit codes, errors.

Exit status: 0 without P0/P1 findings, 1 with, 2 on bad input (one line naming the file).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Engine
from typer.testing import CliRunner

from conftest import NOW
from fakes.loopback import LoopbackServer, Reply
from occ.cli import app as occ_app
from occ.cli.contracts_cmd import contracts_app
from occ.config import Settings
from occ.ops.schema_files import load_introspection
from occ.refresh import run_refresh
from occ.sources.recorded import recorded_payloads
from scenario import scenario_folder, scenario_orders

SHARED = Path(__file__).parents[1].parent / "shared" / "contracts"
OLD = SHARED / "shopify" / "admin_2025-10.json.gz"
NEW = SHARED / "shopify" / "admin_2026-10.json.gz"
CHATWOOT = SHARED / "chatwoot" / "openapi.json"
NOW_ISO = NOW.isoformat()
BOLD_LINES = ("Source", "Change", "Detected", "Impact", "Affected", "Action")

if not SHARED.is_dir():
    pytest.skip(f"the shared reference folder {SHARED} is missing", allow_module_level=True)


def cli() -> typer.Typer:
    """occ's app once it registers `contracts`; until then the sub-app under a bare root."""
    if any(group.name == "contracts" for group in occ_app.registered_groups):
        return occ_app
    root = typer.Typer()
    root.add_typer(contracts_app, name="contracts")
    root.callback()(lambda: None)
    return root


def invoke(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(cli(), ["contracts", *args])


def blocks(markdown: str) -> list[list[str]]:
    return [block.splitlines() for block in markdown.strip().split("\n\n")]


def assert_alert_format(block: list[str], day: str) -> None:
    assert block[0] == f"## Schema Drift Alert — {day}"
    assert [line.split(":", 1)[0] for line in block[1:]] == [f"**{n}**" for n in BOLD_LINES]
    assert re.fullmatch(r"\*\*Impact\*\*: P[012]", block[4])


# --- diff ------------------------------------------------------------------------------------


def test_diff_of_the_real_versions_reports_the_fulfillment_enum(runner: CliRunner) -> None:
    result = invoke(runner, "diff", str(OLD), str(NEW), "--now", NOW_ISO)
    assert result.exit_code == 1, result.output  # a P1 finding
    found = blocks(result.stdout)
    for block in found:
        assert_alert_format(block, "2026-11-26")
    first = found[0]  # most severe first
    assert first[1] == "**Source**: Shopify Admin API 2025-10 → 2026-10"
    assert "OrderDisplayFulfillmentStatus.FULFILLMENT_NOT_REQUIRED was added" in first[2]
    assert first[3] == "**Detected**: 2026-11-26T15:00:00Z"
    assert first[4] == "**Impact**: P1"
    assert first[5].startswith("**Affected**: fulfillment_issue_rate (occ.metrics.fulfillment)")
    assert "0 P0, 1 P1" in result.stderr


def test_diff_json_carries_the_same_findings(runner: CliRunner) -> None:
    result = invoke(runner, "diff", str(OLD), str(NEW), "--json", "--now", NOW_ISO)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["command"] == "diff" and document["checkedAt"] == "2026-11-26T15:00:00Z"
    assert document["summary"]["P0"] == 0 and document["summary"]["P1"] == 1
    assert document["summary"]["needsAttention"] is True
    finding = document["findings"][0]
    assert finding["changeType"] == "VALUE_ADDED_TO_ENUM"
    assert finding["classification"] == "dangerous" and finding["impact"] == "P1"
    assert finding["affected"][0] == {
        "kind": "kpi",
        "name": "fulfillment_issue_rate",
        "module": "occ.metrics.fulfillment",
    }
    assert set(finding) >= {"source", "change", "detected", "impact", "affected", "action"}


def test_diff_writes_markdown_and_json_reports(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "today"
    result = invoke(runner, "diff", str(OLD), str(NEW), "--out", str(out), "--now", NOW_ISO)
    assert result.exit_code == 1
    markdown = (out / "report.md").read_text()
    document = json.loads((out / "report.json").read_text())
    assert markdown == result.stdout
    assert len(blocks(markdown)) == len(document["findings"])


def test_diff_min_impact_keeps_only_what_needs_attention(runner: CliRunner) -> None:
    result = invoke(runner, "diff", str(OLD), str(NEW), "--min-impact", "P1", "--json")
    assert [f["impact"] for f in json.loads(result.stdout)["findings"]] == ["P1"]
    assert invoke(runner, "diff", str(OLD), str(OLD), "--json").exit_code == 0


def test_a_version_against_itself_exits_0(runner: CliRunner) -> None:
    result = invoke(runner, "diff", str(NEW), str(NEW), "--now", NOW_ISO)
    assert result.exit_code == 0
    assert result.stdout.startswith("No schema drift that reaches occ")


def test_a_missing_file_is_one_line_naming_it_and_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "admin_2027-01.json.gz"
    result = invoke(runner, "diff", str(OLD), str(missing))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0]
    assert "pass a Shopify Admin GraphQL introspection" in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("content", "reason"), [("{}", "no __schema"), ("<html>", "is not JSON")])
def test_a_file_that_is_not_a_schema_exits_2(
    runner: CliRunner, tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "schema.json"
    path.write_text(content)
    result = invoke(runner, "diff", str(path), str(NEW))
    assert result.exit_code == 2
    assert reason in result.stderr and str(path) in result.stderr


def test_a_bad_min_impact_is_refused(runner: CliRunner) -> None:
    result = invoke(runner, "diff", str(OLD), str(NEW), "--min-impact", "P9")
    assert result.exit_code == 2 and "P0, P1 or P2" in result.stderr


# --- check -----------------------------------------------------------------------------------


def test_check_against_both_real_documents_passes(runner: CliRunner) -> None:
    result = invoke(
        runner, "check", "--shopify-schema", str(NEW), "--chatwoot-openapi", str(CHATWOOT), "--json"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["checked"] == [str(NEW), str(CHATWOOT)]
    assert document["summary"]["P0"] == document["summary"]["P1"] == 0


def test_check_reports_a_schema_missing_a_field_occ_queries(
    runner: CliRunner, tmp_path: Path
) -> None:
    introspection = load_introspection(NEW)
    order = next(t for t in introspection["__schema"]["types"] if t["name"] == "Order")
    order["fields"] = [f for f in order["fields"] if f["name"] != "displayFulfillmentStatus"]
    path = tmp_path / "admin_2027-01.json"
    path.write_text(json.dumps({"data": introspection}))
    result = invoke(runner, "check", "--shopify-schema", str(path), "--now", NOW_ISO)
    assert result.exit_code == 1
    first = blocks(result.stdout)[0]
    assert_alert_format(first, "2026-11-26")
    assert first[1] == "**Source**: Shopify Admin API 2027-01 (admin_2027-01.json)"
    assert "displayFulfillmentStatus" in first[2] and first[4] == "**Impact**: P0"


def test_check_without_files_or_shop_says_what_to_pass(runner: CliRunner) -> None:
    result = invoke(runner, "check")
    assert result.exit_code == 2
    assert "--shopify-schema FILE" in result.stderr and "OCC_SHOPIFY_SHOP" in result.stderr


def test_check_with_a_missing_openapi_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = invoke(runner, "check", "--chatwoot-openapi", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "nope.json" in result.stderr and "Chatwoot's OpenAPI document" in result.stderr


def test_live_checks_keep_snapshots_and_drift_reports_the_change(
    runner: CliRunner, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    schemas = {"2025-10": load_introspection(OLD), "2026-10": load_introspection(NEW)}
    server = LoopbackServer()
    for version, introspection in schemas.items():
        server.route(
            "POST",
            f"/admin/api/{version}/graphql.json",
            lambda _request, body=introspection: Reply(200, {"data": body}),
        )
    with server.running():
        monkeypatch.setenv("OCC_SHOPIFY_SHOP", "hotrod.myshopify.com")
        monkeypatch.setenv("OCC_SHOPIFY_ACCESS_TOKEN", "shpat_test")
        monkeypatch.setenv("OCC_SHOPIFY_BASE_URL", server.base_url)
        for version, now in (("2025-10", NOW), ("2026-10", NOW + timedelta(days=1))):
            monkeypatch.setenv("OCC_SHOPIFY_API_VERSION", version)
            result = invoke(runner, "check", "--db", db_url, "--now", now.isoformat(), "--json")
            assert result.exit_code == 0, result.output
            assert json.loads(result.stdout)["checked"] == [
                f"live shop hotrod.myshopify.com ({version})"
            ]
    assert [r.path for r in server.requests] == [
        "/admin/api/2025-10/graphql.json",
        "/admin/api/2026-10/graphql.json",
    ]
    drift = invoke(runner, "drift", "--db", db_url, "--json")
    assert drift.exit_code == 1
    findings = json.loads(drift.stdout)["findings"]
    enum = next(f for f in findings if f["coordinate"].endswith("FULFILLMENT_NOT_REQUIRED"))
    assert enum["impact"] == "P1" and enum["detected"] == "2026-11-27T15:00:00Z"
    assert "2025-10 → 2026-10" in enum["source"]


# --- drift -----------------------------------------------------------------------------------


def refresh(engine: Engine, folder: Path, at: datetime) -> None:
    run_refresh(engine, Settings(), recorded_payloads(folder), NOW, clock=lambda: at)


def test_drift_shows_observed_drift_with_first_and_last_seen_and_count(
    runner: CliRunner, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    orders = scenario_orders(NOW)
    broken = {**orders[0], "id": "gid://shopify/Order/999", "test": "maybe"}  # not a boolean
    folder = scenario_folder(tmp_path / "rec", NOW, orders=[*orders, broken])
    first, second = NOW, NOW + timedelta(hours=1)
    refresh(engine, folder, first)
    refresh(engine, folder, second)
    result = invoke(runner, "drift", "--db", db_url, "--now", NOW_ISO)
    assert result.exit_code == 1, result.output
    found = {block[2]: block for block in blocks(result.stdout)}
    enum = next(block for change, block in found.items() if "AWAITING_PICKUP" in change)
    assert_alert_format(enum, "2026-11-26")
    assert enum[1] == ("**Source**: Shopify Admin API, stream shopify.orders (observed in data)")
    assert enum[3] == (
        "**Detected**: 2026-11-26T15:00:00Z (first seen); last seen 2026-11-26T16:00:00Z; "
        "2 occurrence(s)"
    )
    assert enum[4] == "**Impact**: P1"
    assert enum[5].startswith("**Affected**: fulfillment_issue_rate (occ.metrics.fulfillment)")
    typed = next(block for change, block in found.items() if "test arrived as str" in change)
    assert typed[4] == "**Impact**: P0"
    assert "quarantined" in typed[6]


def test_drift_json_lists_each_observed_finding_once(
    runner: CliRunner, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    folder = scenario_folder(tmp_path / "rec", NOW)
    refresh(engine, folder, NOW)
    refresh(engine, folder, NOW + timedelta(days=1))
    result = invoke(runner, "drift", "--db", db_url, "--json")
    findings = json.loads(result.stdout)["findings"]
    assert [f["observed"] for f in findings] == [
        {
            "stream": "shopify.orders",
            "field": "displayFulfillmentStatus",
            "kind": "unknown_enum",
            "observed": "AWAITING_PICKUP",
            "firstSeen": "2026-11-26T15:00:00Z",
            "lastSeen": "2026-11-27T15:00:00Z",
            "occurrences": 2,
        }
    ]


def test_drift_on_an_empty_store_exits_0(runner: CliRunner, db_url: str) -> None:
    result = invoke(runner, "drift", "--db", db_url, "--now", NOW_ISO)
    assert result.exit_code == 0
    assert result.stdout == "No schema drift that reaches occ (checked 2026-11-26T15:00:00Z).\n"


def test_every_contracts_command_documents_its_exit_status(runner: CliRunner) -> None:
    for command in ("check", "diff", "drift"):
        result = invoke(runner, command, "--help")
        assert result.exit_code == 0
        assert "Exit status" in result.stdout and "1 P0/P1" in result.stdout


def test_a_report_date_is_the_utc_detection_date(runner: CliRunner) -> None:
    result = invoke(runner, "diff", str(OLD), str(NEW), "--now", "2026-11-27T01:30:00+02:00")
    assert blocks(result.stdout)[0][0] == "## Schema Drift Alert — 2026-11-26"
