"""The sync-log analyzer's rules, on hand-written NDJSON: aliases, classification, numbers."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from occ.errors import InputFileError
from occ.ops.sync_log import analyze_sync_log
from occ.ops.sync_log_sql import aggregate_sql, sql_string

GENERATED_AT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
T0 = "2026-11-20T10:15:00Z"
T0_MS = 1_795_169_700_000  # T0 in epoch milliseconds


def write(path: Path, lines: list[Any]) -> Path:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + ("\n" if lines else ""), encoding="utf-8")
    return path


def summarise(tmp_path: Path, lines: list[Any], **thresholds: float) -> dict[str, Any]:
    path = write(tmp_path / "events.ndjson", lines)
    return analyze_sync_log(
        path,
        failure_rate_alert=thresholds.get("failure_rate_alert", 0.05),
        p95_ms_alert=thresholds.get("p95_ms_alert", 1000.0),
        generated_at=GENERATED_AT,
    )


def outcome(tmp_path: Path, record: dict[str, Any]) -> str:
    totals = summarise(tmp_path, [record])["totals"]
    (found,) = [name for name in ("success", "failure", "unknown") if totals[name]]
    return found


def test_occ_export_summary_in_full(tmp_path: Path) -> None:
    lines = [
        {"decisionId": "d-1", "status": "SUCCESS", "durationMs": 120, "errorCode": None,
         "errorMessage": None, "attempt": 1, "timestamp": "2026-11-20T10:15:00Z", "scope": "ops"},
        {"decisionId": "d-2", "status": "FAILED", "durationMs": 900, "errorCode": "MIRROR_DOWN",
         "errorMessage": "connection refused", "attempt": 3,
         "timestamp": "2026-11-20T10:45:30.250Z", "scope": "ops"},
        {"decisionId": "d-3", "status": "TIMEOUT", "durationMs": 10000,
         "errorCode": "MIRROR_TIMEOUT", "errorMessage": "statement timeout", "attempt": 2,
         "timestamp": "2026-11-20T11:05:00Z", "scope": "cx"},
        {"decisionId": "d-4", "status": "SUCCESS", "durationMs": 80, "errorCode": None,
         "errorMessage": None, "attempt": 2, "timestamp": "2026-11-20T11:59:59.999Z",
         "scope": "cx"},
    ]  # fmt: skip
    summary = summarise(tmp_path, lines)
    assert summary == {
        "generatedAt": "2026-11-26T15:00:00Z",
        "source": str(tmp_path / "events.ndjson"),
        "timeWindow": {"start": "2026-11-20T10:15:00.000Z", "end": "2026-11-20T11:59:59.999Z"},
        "totals": {"records": 4, "success": 2, "failure": 2, "unknown": 0, "failureRate": 0.5},
        "statusBreakdown": [
            {"status": "SUCCESS", "count": 2},
            {"status": "FAILED", "count": 1},
            {"status": "TIMEOUT", "count": 1},
        ],
        "scopeBreakdown": [{"scope": "cx", "count": 2}, {"scope": "ops", "count": 2}],
        "durationsMs": {"count": 4, "average": 2775.0, "p50": 120.0, "p95": 10000.0,
                        "max": 10000.0},
        "retries": {"count": 4, "average": 1.0, "max": 2,
                    "distribution": [{"retries": 0, "count": 1}, {"retries": 1, "count": 2},
                                     {"retries": 2, "count": 1}]},
        "errors": {"byCode": [
            {"code": "MIRROR_DOWN", "count": 1, "sampleMessages": ["connection refused"],
             "percentage": 50.0},
            {"code": "MIRROR_TIMEOUT", "count": 1, "sampleMessages": ["statement timeout"],
             "percentage": 50.0},
        ]},
        "hourlyBuckets": [
            {"hour": "2026-11-20T10:00:00Z", "total": 2, "success": 1, "failure": 1},
            {"hour": "2026-11-20T11:00:00Z", "total": 2, "success": 1, "failure": 1},
        ],
        "failureSamples": [
            {"timestamp": "2026-11-20T10:45:30.250Z", "decisionId": "d-2", "status": "FAILED",
             "scope": "ops", "errorCode": "MIRROR_DOWN", "errorMessage": "connection refused",
             "durationMs": 900.0, "retries": 2},
            {"timestamp": "2026-11-20T11:05:00.000Z", "decisionId": "d-3", "status": "TIMEOUT",
             "scope": "cx", "errorCode": "MIRROR_TIMEOUT", "errorMessage": "statement timeout",
             "durationMs": 10000.0, "retries": 1},
        ],
        "parse": {"skippedLines": 0, "samples": []},
        "alerts": [
            {"metric": "failureRate", "observed": 0.5, "threshold": 0.05,
             "message": "Failure rate 50.00 % is above the 5 % alert threshold."},
            {"metric": "p95DurationMs", "observed": 10000.0, "threshold": 1000.0,
             "message": "p95 duration 10,000.00 ms is above the 1,000 ms alert threshold."},
        ],
    }  # fmt: skip


@pytest.mark.parametrize(
    "alias", ["timestamp", "time", "loggedAt", "generatedAt", "createdAt", "metadata.generatedAt"]
)
def test_every_timestamp_alias(tmp_path: Path, alias: str) -> None:
    record: dict[str, Any] = {"status": "ok"}
    if alias == "metadata.generatedAt":
        record["metadata"] = {"generatedAt": T0}
    else:
        record[alias] = T0
    window = summarise(tmp_path, [record])["timeWindow"]
    assert window == {"start": "2026-11-20T10:15:00.000Z", "end": "2026-11-20T10:15:00.000Z"}


def test_first_timestamp_alias_present_wins(tmp_path: Path) -> None:
    record = {"status": "ok", "createdAt": "2026-01-01T00:00:00Z", "timestamp": T0}
    assert summarise(tmp_path, [record])["timeWindow"]["start"] == "2026-11-20T10:15:00.000Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (T0_MS // 1000, "2026-11-20T10:15:00.000Z"),  # epoch seconds
        (T0_MS, "2026-11-20T10:15:00.000Z"),  # epoch milliseconds
        (T0_MS + 250, "2026-11-20T10:15:00.250Z"),
        (T0_MS / 1000 + 0.5, "2026-11-20T10:15:00.500Z"),  # fractional seconds
        (str(T0_MS // 1000), "2026-11-20T10:15:00.000Z"),  # a number in a string
        ("2026-11-20T12:15:00+02:00", "2026-11-20T10:15:00.000Z"),
        ("2026-11-20T04:45:00-05:30", "2026-11-20T10:15:00.000Z"),
        ("2026-11-20T10:15:00", "2026-11-20T10:15:00.000Z"),  # no offset: UTC
        ("2026-11-20 10:15:00.123456Z", "2026-11-20T10:15:00.123Z"),
    ],
)
def test_timestamp_formats(tmp_path: Path, value: Any, expected: str) -> None:
    summary = summarise(tmp_path, [{"status": "ok", "timestamp": value}])
    assert summary["timeWindow"]["start"] == expected
    assert summary["hourlyBuckets"][0]["hour"] == "2026-11-20T10:00:00Z"


@pytest.mark.parametrize("value", ["yesterday", "", -5, "2026-13-45T99:00:00Z", 1e300, True])
def test_unusable_timestamps_leave_the_record_counted_but_untimed(
    tmp_path: Path, value: Any
) -> None:
    summary = summarise(tmp_path, [{"status": "ok", "timestamp": value}])
    assert summary["totals"]["records"] == 1
    assert summary["timeWindow"] == {"start": None, "end": None}
    assert summary["hourlyBuckets"] == []


@pytest.mark.parametrize("alias", ["status", "state", "outcome"])
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        *[(w, "success") for w in ("success", "ok", "completed", "synced", "SUCCESS", " Ok ")],
        *[
            (w, "failure")
            for w in ("failure", "failed", "error", "timeout", "timed_out", "fatal", "rejected")
        ],
        ("TIMED_OUT", "failure"),
        ("pending", "unknown"),
    ],
)
def test_status_words(tmp_path: Path, alias: str, word: str, expected: str) -> None:
    assert outcome(tmp_path, {alias: word}) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        *[(w, "success") for w in ("Success", "OK", "SYNCED", "sUcCeSs", " Completed")],
        *[(w, "failure") for w in ("Failed", "ERROR", "Timed_Out", "Rejected ", "fAtAl")],
        ("Pending", "unknown"),
    ],
)
def test_status_words_in_any_case(tmp_path: Path, word: str, expected: str) -> None:
    """The usual spellings take a shortcut; every other one is trimmed and lowered."""
    assert outcome(tmp_path, {"status": word}) == expected


@pytest.mark.parametrize("alias", ["statusCode", "httpStatus", "response.status"])
@pytest.mark.parametrize(
    ("code", "expected"),
    [(200, "success"), (399, "success"), (400, "failure"), (503, "failure"), ("502", "failure")],
)
def test_status_codes(tmp_path: Path, alias: str, code: Any, expected: str) -> None:
    record = {"response": {"status": code}} if alias == "response.status" else {alias: code}
    assert outcome(tmp_path, record) == expected


@pytest.mark.parametrize("alias", ["success", "ok"])
def test_success_flags_win_over_everything(tmp_path: Path, alias: str) -> None:
    assert outcome(tmp_path, {alias: True, "status": "failed", "errorCode": "X"}) == "success"
    assert outcome(tmp_path, {alias: False, "status": "ok", "statusCode": 200}) == "failure"


def test_classification_order(tmp_path: Path) -> None:
    assert outcome(tmp_path, {"status": "ok", "statusCode": 500}) == "success"
    assert outcome(tmp_path, {"status": "weird", "httpStatus": 503}) == "failure"
    assert outcome(tmp_path, {"statusCode": 200, "errorCode": "X"}) == "success"
    assert outcome(tmp_path, {"success": "yes", "status": "failed"}) == "failure"  # not a bool
    assert outcome(tmp_path, {"statusCode": 0, "status": "pending"}) == "unknown"  # not HTTP


@pytest.mark.parametrize(
    ("record", "code", "message"),
    [
        ({"errorCode": "E1"}, "E1", None),
        ({"error_code": "E1"}, "E1", None),
        ({"error": {"code": "E1", "message": "boom"}}, "E1", "boom"),
        ({"errorMessage": "boom"}, None, "boom"),
        ({"error_message": "boom"}, None, "boom"),
        ({"error": "boom"}, None, "boom"),
        ({"message": "boom"}, None, "boom"),
        ({"errorCode": 504, "error": "gateway"}, "504", "gateway"),
    ],
)
def test_an_error_code_or_message_alone_is_a_failure(
    tmp_path: Path, record: dict[str, Any], code: str | None, message: str | None
) -> None:
    summary = summarise(tmp_path, [record])
    assert summary["totals"]["failure"] == 1
    assert summary["errors"]["byCode"] == [
        {"code": code, "count": 1, "sampleMessages": [message] if message else [],
         "percentage": 100.0}
    ]  # fmt: skip


@pytest.mark.parametrize(
    "record", [{}, {"decisionId": "d-1"}, {"status": "queued"}, {"errorCode": ""}, {"x": 1}]
)
def test_records_without_a_verdict_are_unknown(tmp_path: Path, record: dict[str, Any]) -> None:
    summary = summarise(tmp_path, [record])
    assert summary["totals"] == {
        "records": 1, "success": 0, "failure": 0, "unknown": 1, "failureRate": None
    }  # fmt: skip
    assert summary["parse"]["skippedLines"] == 0


def test_failure_rate_ignores_unknowns_and_keeps_four_decimals(tmp_path: Path) -> None:
    lines = [{"status": "ok"}] * 2 + [{"status": "failed"}] + [{"status": "queued"}] * 5
    totals = summarise(tmp_path, lines)["totals"]
    assert totals == {
        "records": 8, "success": 2, "failure": 1, "unknown": 5, "failureRate": 0.3333
    }  # fmt: skip


@pytest.mark.parametrize(
    "alias", ["durationMs", "duration_ms", "duration", "latencyMs", "metrics.durationMs"]
)
def test_every_duration_alias(tmp_path: Path, alias: str) -> None:
    def record(value: float) -> dict[str, Any]:
        if alias == "metrics.durationMs":
            return {"metrics": {"durationMs": value}}
        return {alias: value}

    durations = summarise(tmp_path, [record(250), record(2.5)])["durationsMs"]
    assert durations == {"count": 2, "average": 1375.0, "p50": 250.0, "p95": 2500.0,
                         "max": 2500.0}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "ms"),
    [(9.99, 9990.0), (10, 10.0), (0, 0.0), (0.0421, 42.1), ("120", 120.0), (12.345, 12.35)],
)
def test_a_duration_below_10_is_in_seconds(tmp_path: Path, value: Any, ms: float) -> None:
    assert summarise(tmp_path, [{"durationMs": value}])["durationsMs"]["max"] == ms


@pytest.mark.parametrize("value", [-1, "fast", None, {"ms": 3}])
def test_unusable_durations_are_left_out(tmp_path: Path, value: Any) -> None:
    durations = summarise(tmp_path, [{"durationMs": value}, {"durationMs": 100}])["durationsMs"]
    assert durations["count"] == 1


def test_percentiles_are_nearest_rank(tmp_path: Path) -> None:
    ten = [{"durationMs": 100 * i} for i in range(1, 11)]  # 100 … 1000
    durations = summarise(tmp_path, ten)["durationsMs"]
    assert (durations["p50"], durations["p95"]) == (500.0, 1000.0)  # ranks 5 and 10
    twenty = [{"durationMs": 100 * i} for i in range(1, 21)]
    durations = summarise(tmp_path, twenty)["durationsMs"]
    assert (durations["p50"], durations["p95"]) == (1000.0, 1900.0)  # ranks 10 and 19
    one = summarise(tmp_path, [{"durationMs": 42}])["durationsMs"]
    assert (one["p50"], one["p95"], one["max"]) == (42.0, 42.0, 42.0)


def test_averages_round_to_two_decimals(tmp_path: Path) -> None:
    lines = [{"durationMs": 100}, {"durationMs": 101}, {"durationMs": 101}]
    assert summarise(tmp_path, lines)["durationsMs"]["average"] == 100.67


@pytest.mark.parametrize("alias", ["retryCount", "retry_count", "retries"])
def test_every_retry_alias_and_its_precedence_over_attempt(tmp_path: Path, alias: str) -> None:
    retries = summarise(tmp_path, [{alias: 2, "attempt": 9}, {alias: 0}])["retries"]
    assert retries == {
        "count": 2, "average": 1.0, "max": 2,
        "distribution": [{"retries": 0, "count": 1}, {"retries": 2, "count": 1}],
    }  # fmt: skip


def test_retries_from_attempt_minus_one(tmp_path: Path) -> None:
    lines = [{"attempt": 1}, {"attempt": 3}, {"attempt": 3}, {"attempt": 0}, {"attempt": 1.5}]
    retries = summarise(tmp_path, lines)["retries"]
    assert retries == {
        "count": 4, "average": 1.0, "max": 2,
        "distribution": [{"retries": 0, "count": 2}, {"retries": 2, "count": 2}],
    }  # fmt: skip


@pytest.mark.parametrize("alias", ["scope", "context.scope"])
def test_every_scope_alias(tmp_path: Path, alias: str) -> None:
    record = {"context": {"scope": "cx"}} if alias == "context.scope" else {"scope": "cx"}
    breakdown = summarise(tmp_path, [record, record, {"status": "ok"}])["scopeBreakdown"]
    assert breakdown == [{"scope": "cx", "count": 2}, {"scope": None, "count": 1}]


@pytest.mark.parametrize("alias", ["decisionId", "decision_id", "id"])
def test_every_decision_id_alias(tmp_path: Path, alias: str) -> None:
    samples = summarise(tmp_path, [{alias: "d-9", "status": "failed"}])["failureSamples"]
    assert samples[0]["decisionId"] == "d-9"


def test_breakdowns_are_by_count_then_name(tmp_path: Path) -> None:
    lines = [{"state": "ok"}] * 3 + [{"state": "failed"}, {"state": "error"}, {"x": 1}]
    assert summarise(tmp_path, lines)["statusBreakdown"] == [
        {"status": "ok", "count": 3},
        {"status": "error", "count": 1},
        {"status": "failed", "count": 1},
        {"status": None, "count": 1},
    ]


def test_errors_by_code_with_their_most_frequent_messages(tmp_path: Path) -> None:
    lines = [
        *[{"status": "failed", "errorCode": "E1", "errorMessage": "a"}] * 3,
        *[{"status": "failed", "errorCode": "E1", "errorMessage": m} for m in "bbcde"],
        {"status": "failed", "errorCode": "E2"},
        {"status": "timeout"},
        {"status": "ok", "errorCode": "E3"},  # a success: not an error
    ]
    assert summarise(tmp_path, lines)["errors"]["byCode"] == [
        {"code": "E1", "count": 8, "sampleMessages": ["a", "b", "c"], "percentage": 80.0},
        {"code": "E2", "count": 1, "sampleMessages": [], "percentage": 10.0},
        {"code": None, "count": 1, "sampleMessages": [], "percentage": 10.0},
    ]


def test_hourly_buckets_count_every_timed_record(tmp_path: Path) -> None:
    lines = [
        {"timestamp": "2026-11-20T10:59:59Z", "status": "ok"},
        {"timestamp": "2026-11-20T10:00:00Z", "status": "failed"},
        {"timestamp": "2026-11-20T10:30:00Z", "status": "queued"},
        {"timestamp": "2026-11-20T13:00:00Z", "status": "ok"},
        {"status": "ok"},
    ]
    assert summarise(tmp_path, lines)["hourlyBuckets"] == [
        {"hour": "2026-11-20T10:00:00Z", "total": 3, "success": 1, "failure": 1},
        {"hour": "2026-11-20T13:00:00Z", "total": 1, "success": 1, "failure": 0},
    ]


def test_failure_samples_are_the_ten_earliest(tmp_path: Path) -> None:
    lines = [
        {
            "id": f"d-{minute:02d}",
            "status": "failed",
            "timestamp": f"2026-11-20T10:{minute:02d}:00Z",
        }
        for minute in range(30, 0, -2)
    ]
    samples = summarise(tmp_path, [*lines, {"id": "untimed", "status": "failed"}])["failureSamples"]
    assert [s["decisionId"] for s in samples] == [f"d-{m:02d}" for m in range(2, 22, 2)]


def test_malformed_lines_are_counted_and_sampled_never_fatal(tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(
        b'{"status": "ok"}\n'
        b"not json at all\n"
        b"\n"
        b'{"status": "failed", "errorCode"\n'
        b"[1, 2, 3]\n"
        b'"just a string"\n'
        b"42\n"
        b"null\n"
        b"   \n"
        b'{"status": "ok", "scope": "\xff\xfe"}\n'
        b"{}\n"
        b'{"status": "failed"}'
    )
    summary = analyze_sync_log(
        path, failure_rate_alert=0.05, p95_ms_alert=1000, generated_at=GENERATED_AT
    )
    assert summary["totals"] == {
        "records": 3, "success": 1, "failure": 1, "unknown": 1, "failureRate": 0.5
    }  # fmt: skip
    assert summary["parse"]["skippedLines"] == 7
    assert summary["parse"]["samples"] == [
        {"line": 2, "text": "not json at all"},
        {"line": 4, "text": '{"status": "failed", "errorCode"'},
        {"line": 5, "text": "[1, 2, 3]"},
        {"line": 6, "text": '"just a string"'},
        {"line": 7, "text": "42"},
        {"line": 8, "text": "null"},
    ]  # the non-UTF-8 line 10 is counted; as Latin-1 text it is a JSON object
    assert summary["statusBreakdown"] == [
        {"status": "failed", "count": 1},
        {"status": "ok", "count": 1},
        {"status": None, "count": 1},
    ]


def test_samples_are_the_first_malformed_lines_cut_to_200_characters(tmp_path: Path) -> None:
    lines = [f"garbage {n} " + "x" * 300 if n % 2 else {"status": "ok"} for n in range(40)]
    parse = summarise(tmp_path, lines)["parse"]
    assert parse["skippedLines"] == 20
    assert [s["line"] for s in parse["samples"]] == list(range(2, 21, 2))
    assert all(len(s["text"]) == 200 for s in parse["samples"])


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(b'{"status":"ok"}\r\n\r\nbroken\r\n{"status":"failed"}\r\n')
    summary = analyze_sync_log(
        path, failure_rate_alert=0.05, p95_ms_alert=1000, generated_at=GENERATED_AT
    )
    assert summary["totals"]["records"] == 2
    assert summary["parse"] == {"skippedLines": 1, "samples": [{"line": 3, "text": "broken"}]}


def test_a_line_cut_short_at_the_end_is_found_after_the_earlier_ones(tmp_path: Path) -> None:
    """The sample scan stops at the last skipped line, which a crashed writer leaves last."""
    path = tmp_path / "events.ndjson"
    body = b'{"status": "ok"}\n' * 50
    path.write_bytes(body + b"oops\n" + body + b"]\n" + body + b'{"status": "fail')
    summary = analyze_sync_log(
        path, failure_rate_alert=0.05, p95_ms_alert=1000, generated_at=GENERATED_AT
    )
    assert summary["totals"]["records"] == 150
    assert summary["parse"] == {
        "skippedLines": 3,
        "samples": [
            {"line": 51, "text": "oops"},
            {"line": 102, "text": "]"},
            {"line": 153, "text": '{"status": "fail'},
        ],
    }


def test_malformed_lines_after_a_line_longer_than_a_megabyte(tmp_path: Path) -> None:
    """The quick look at the first lines cannot hold such a line; the full read finds them."""
    path = tmp_path / "events.ndjson"
    huge = json.dumps({"status": "ok", "message": "x" * 2_000_000})
    write(path, [{"status": "ok"}, huge, "broken", {"status": "failed"}, '{"status": "fa'])
    summary = analyze_sync_log(
        path, failure_rate_alert=0.05, p95_ms_alert=1000, generated_at=GENERATED_AT
    )
    assert summary["totals"]["records"] == 3
    assert summary["parse"] == {
        "skippedLines": 2,
        "samples": [{"line": 3, "text": "broken"}, {"line": 5, "text": '{"status": "fa'}],
    }


def test_malformed_lines_only_after_the_first_16_megabytes(tmp_path: Path) -> None:
    """Many skipped lines make the quick look at the start of the file worth it; it finds
    none there, and the full read finds the first ones, with their line numbers."""
    path = tmp_path / "events.ndjson"
    ok = json.dumps({"status": "ok", "message": "x" * 180}) + "\n"
    bad = "".join(f"bad {n}\n" for n in range(300))
    path.write_text(ok * 100_000 + bad + ok * 1_000, encoding="utf-8")
    assert path.stat().st_size > 16 * 1024 * 1024 + 300 * 10
    summary = analyze_sync_log(
        path, failure_rate_alert=0.05, p95_ms_alert=1000, generated_at=GENERATED_AT
    )
    assert summary["totals"]["records"] == 101_000
    assert summary["parse"]["skippedLines"] == 300
    assert summary["parse"]["samples"] == [
        {"line": 100_001 + n, "text": f"bad {n}"} for n in range(10)
    ]


def test_a_byte_order_mark_is_not_a_malformed_line(tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(b'\xef\xbb\xbf{"status": "ok"}\nbroken\n{"status": "failed"}\n')
    summary = analyze_sync_log(
        path, failure_rate_alert=0.05, p95_ms_alert=1000, generated_at=GENERATED_AT
    )
    assert summary["totals"]["records"] == 2
    assert summary["parse"] == {"skippedLines": 1, "samples": [{"line": 2, "text": "broken"}]}


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_an_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(content)
    summary = analyze_sync_log(
        path, failure_rate_alert=0.05, p95_ms_alert=1000, generated_at=GENERATED_AT
    )
    assert summary["totals"] == {
        "records": 0, "success": 0, "failure": 0, "unknown": 0, "failureRate": None
    }  # fmt: skip
    assert summary["timeWindow"] == {"start": None, "end": None}
    assert summary["durationsMs"] == {
        "count": 0, "average": None, "p50": None, "p95": None, "max": None
    }  # fmt: skip
    assert summary["retries"] == {"count": 0, "average": None, "max": None, "distribution": []}
    for key in ("statusBreakdown", "scopeBreakdown", "hourlyBuckets", "failureSamples"):
        assert summary[key] == []
    assert summary["errors"] == {"byCode": []}
    assert summary["parse"] == {"skippedLines": 0, "samples": []}
    assert summary["alerts"] == []


def test_alerts_fire_strictly_above_their_thresholds(tmp_path: Path) -> None:
    # failure rate 1/20 = 0.05; p95 is the 19th of 20 durations: 50 ms
    lines = [{"status": "failed", "durationMs": 1000}] + [{"status": "ok", "durationMs": 50}] * 19
    assert summarise(tmp_path, lines)["alerts"] == []
    assert summarise(tmp_path, lines, failure_rate_alert=0.05, p95_ms_alert=50)["alerts"] == []
    alerts = summarise(tmp_path, lines, failure_rate_alert=0.04, p95_ms_alert=49)["alerts"]
    assert alerts == [
        {"metric": "failureRate", "observed": 0.05, "threshold": 0.04,
         "message": "Failure rate 5.00 % is above the 4 % alert threshold."},
        {"metric": "p95DurationMs", "observed": 50.0, "threshold": 49,
         "message": "p95 duration 50.00 ms is above the 49 ms alert threshold."},
    ]  # fmt: skip


def test_source_and_generated_at(tmp_path: Path) -> None:
    path = write(tmp_path / "events.ndjson", [{"status": "ok"}])
    moment = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)
    summary = analyze_sync_log(
        path, failure_rate_alert=0.05, p95_ms_alert=1000, generated_at=moment, source="nightly"
    )
    assert (summary["source"], summary["generatedAt"]) == ("nightly", "2026-11-26T16:30:00Z")


def test_glob_characters_and_gzip(tmp_path: Path) -> None:
    path = tmp_path / "events[1]*.ndjson.gz"
    path.write_bytes(gzip.compress(b'{"status":"ok"}\n{"status":"failed"}\n'))
    (tmp_path / "events1x.ndjson.gz").write_bytes(gzip.compress(b'{"status":"ok"}\n'))
    summary = analyze_sync_log(
        path, failure_rate_alert=0.05, p95_ms_alert=1000, generated_at=GENERATED_AT
    )
    assert summary["totals"]["records"] == 2
    assert summary["source"] == str(path)


def test_a_missing_file_or_a_directory_is_one_line(tmp_path: Path) -> None:
    for path, phrase in ((tmp_path / "nope.ndjson", "does not exist"), (tmp_path, "directory")):
        with pytest.raises(InputFileError, match=phrase) as caught:
            analyze_sync_log(
                path, failure_rate_alert=0.05, p95_ms_alert=1000, generated_at=GENERATED_AT
            )
        assert "\n" not in str(caught.value)


def test_the_file_is_scanned_once_and_streamed_to_every_aggregate(tmp_path: Path) -> None:
    """Memory stays bounded only while no aggregate gets a materialised copy of the lines."""
    path = write(tmp_path / "events.ndjson", [{"status": "ok", "durationMs": 5}] * 100)
    profile = tmp_path / "profile.json"
    connection = duckdb.connect(":memory:", config={"threads": 2})
    connection.execute("SET enable_profiling = 'json'")
    connection.execute(f"SET profiling_output = {sql_string(str(profile))}")
    connection.execute(f"CREATE TEMP TABLE agg AS {aggregate_sql(sql_string(str(path)))}")
    connection.close()
    operators = json.loads(profile.read_text())["operator"]

    def walk(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [n for node in nodes for n in (node, *walk(node.get("children", [])))]

    found = walk(operators)
    assert [n["name"] for n in found].count("READ_JSON") == 1
    (fanout,) = [n for n in found if n["name"] == "CTE"]
    assert "Materialized Consumers" not in fanout["extra_info"]
    assert int(fanout["extra_info"]["Direct Consumers"]) >= 5
