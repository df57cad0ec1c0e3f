"""``occ analyze sync-log`` through the real CLI; the worker's fact and anomalies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from occ.cli.analyze_cmd import analyze_app
from occ.ops.sync_log import (
    SYNC_LOG_FACT_TYPE,
    analyze_sync_log,
    sync_log_anomalies,
    sync_log_fact,
)
from test_sync_log import GENERATED_AT, write

# The sub-app as app.py mounts it (app.add_typer(analyze_app, name="analyze")).
cli = typer.Typer()
cli.add_typer(analyze_app, name="analyze")

EVENTS = [
    {"decisionId": "d-1", "status": "SUCCESS", "durationMs": 80, "timestamp": "2026-11-20T10:00Z"},
    {"decisionId": "d-2", "status": "SUCCESS", "durationMs": 90, "timestamp": "2026-11-20T10:01Z"},
    {"decisionId": "d-3", "status": "FAILED", "durationMs": 1500, "errorCode": "DOWN",
     "timestamp": "2026-11-20T10:02:00Z"},
]  # fmt: skip


@pytest.fixture
def events(tmp_path: Path) -> Path:
    return write(tmp_path / "events.ndjson", EVENTS)


def test_prints_the_summary_json_on_stdout(runner: CliRunner, events: Path) -> None:
    result = runner.invoke(
        cli, ["analyze", "sync-log", str(events), "--now", "2026-11-26T15:00:00Z"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["generatedAt"] == "2026-11-26T15:00:00Z"
    assert summary["totals"]["failureRate"] == 0.3333
    assert [a["metric"] for a in summary["alerts"]] == ["failureRate", "p95DurationMs"]


def test_out_writes_the_file_and_says_so(runner: CliRunner, events: Path, tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    result = runner.invoke(cli, ["analyze", "sync-log", str(events), "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["totals"]["records"] == 3
    assert "Wrote" in result.stdout and "3 records" in result.stdout and "2 alerts" in result.stdout
    assert not list(tmp_path.glob(".*partial"))


def test_thresholds_from_settings_and_the_command_line(runner: CliRunner, events: Path) -> None:
    env = {"OCC_SYNC_FAILURE_RATE_ALERT": "0.5", "OCC_SYNC_P95_MS_ALERT": "2000"}
    result = runner.invoke(cli, ["analyze", "sync-log", str(events)], env=env)
    assert json.loads(result.stdout)["alerts"] == []
    result = runner.invoke(
        cli, ["analyze", "sync-log", str(events), "--p95-ms-alert", "1499.5"], env=env
    )
    (alert,) = json.loads(result.stdout)["alerts"]
    assert (alert["metric"], alert["observed"], alert["threshold"]) == (
        "p95DurationMs",
        1500.0,
        1499.5,
    )
    result = runner.invoke(
        cli, ["analyze", "sync-log", str(events), "--failure-rate-alert", "0.3"], env=env
    )
    (alert,) = json.loads(result.stdout)["alerts"]
    assert (alert["metric"], alert["threshold"]) == ("failureRate", 0.3)


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["missing.ndjson"], "does not exist"),
        (["."], "is a directory"),
        (["EVENTS", "--failure-rate-alert", "5"], "not a fraction"),
        (["EVENTS", "--p95-ms-alert", "0"], "above 0 ms"),
        (["EVENTS", "--out", "no/such/folder/summary.json"], "cannot write"),
        (["EVENTS", "--now", "yesterday"], "not an ISO-8601 instant"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(
    runner: CliRunner, events: Path, args: list[str], phrase: str
) -> None:
    args = [str(events) if arg == "EVENTS" else arg for arg in args]
    result = runner.invoke(cli, ["analyze", "sync-log", *args])
    assert result.exit_code == 2
    assert phrase in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_the_worker_gets_a_fact_and_percent_anomalies(events: Path) -> None:
    summary = analyze_sync_log(
        events, failure_rate_alert=0.05, p95_ms_alert=700, generated_at=GENERATED_AT
    )
    fact = sync_log_fact(summary, failure_rate_alert=0.05, p95_ms_alert=700)
    assert (fact.fact_type, fact.scope, fact.value) == (SYNC_LOG_FACT_TYPE, "ops", summary)
    assert fact.metadata["syncFailureRateAlert"] == 0.05
    rate, p95 = sync_log_anomalies(summary)
    assert (rate.fact_type, rate.kind, rate.severity) == (
        "anomaly.sync_failure_rate",
        "threshold",
        "critical",
    )
    assert (rate.value, rate.threshold) == (33.33, 5.0)
    assert "1 of 3 classified events" in rate.message
    assert (p95.kpi, p95.severity, p95.value, p95.threshold) == (
        "sync_p95_ms",
        "critical",
        1500.0,
        700.0,
    )
    calm = analyze_sync_log(
        events, failure_rate_alert=0.5, p95_ms_alert=1000, generated_at=GENERATED_AT
    )
    (warning,) = sync_log_anomalies(calm)
    assert (warning.kpi, warning.severity) == ("sync_p95_ms", "warning")


def test_durations_in_ms_keeps_fast_attempts_in_milliseconds(tmp_path: Path) -> None:
    export = tmp_path / "events.ndjson"
    export.write_text(
        '{"decisionId": "a", "status": "SUCCESS", "durationMs": 4, "attempt": 1}\n'
        '{"decisionId": "b", "status": "SUCCESS", "durationMs": 6, "attempt": 1}\n'
    )
    runner = CliRunner()
    legacy = json.loads(runner.invoke(cli, ["analyze", "sync-log", str(export)]).stdout)
    own = json.loads(
        runner.invoke(cli, ["analyze", "sync-log", str(export), "--durations-in-ms"]).stdout
    )
    assert legacy["durationsMs"]["max"] == 6000.0  # the documented rule for older exports
    assert own["durationsMs"]["max"] == 6.0
    assert own["alerts"] == []


def test_the_runbooks_analyze_command_reads_occs_own_export_in_milliseconds(
    tmp_path: Path,
) -> None:
    """README's "Watch it." step, run as written, on what `occ decisions export-events` writes."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    watch_it = readme.split("**Watch it.**", 1)[1].split("**Act on", 1)[0]
    written = re.search(r"`occ (analyze sync-log\s[^`]+)`", watch_it)
    assert written is not None
    export = tmp_path / "events.ndjson"
    export.write_text(  # occ's export: durationMs in milliseconds, a healthy 2-28 ms mirror
        "".join(
            json.dumps({"decisionId": f"d{n}", "status": "SUCCESS", "durationMs": ms, "attempt": 1})
            + "\n"
            for n, ms in enumerate([2.8, 3.1, 27.6])
        )
    )
    args = [str(export) if word == "events.ndjson" else word for word in written[1].split()]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["durationsMs"]["max"] == 27.6
    assert summary["alerts"] == []  # no false "p95 above 1,000 ms"
