"""Summarise an NDJSON export of sync events: totals, breakdowns, percentiles, alerts.

``analyze_sync_log`` reads occ's own export (``occ decisions export-events``) or any older
pipeline's NDJSON, whatever its field names (see ``occ.ops.sync_log_sql.ALIASES``), in one
streaming DuckDB pass with bounded memory, and returns the summary as a JSON-ready dict.
``sync_log_fact`` and ``sync_log_anomalies`` turn that summary into what the worker stores:
one fact and an ``Anomaly`` per breached threshold.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import duckdb

from occ.contracts.anomalies import Anomaly, AnomalySeverity
from occ.errors import InputFileError
from occ.ops.sync_log_sql import (
    DURATIONS_SQL,
    EMPTY,
    ERRORS_SQL,
    FAILURE,
    FAILURE_SAMPLES_SQL,
    HOURS_SQL,
    OUTCOMES_SQL,
    RETRIES_SQL,
    SAMPLE_LIMIT,
    SCOPES_SQL,
    SECONDS_BELOW,
    SKIPPED,
    STATUSES_SQL,
    SUCCESS,
    UNKNOWN,
    WINDOW_SQL,
    aggregate_sql,
    parse_samples_sql,
    sql_string,
)

__all__ = [
    "MEMORY_LIMIT",
    "SYNC_LOG_FACT_TYPE",
    "THREADS",
    "SyncLogFact",
    "analyze_sync_log",
    "sync_log_anomalies",
    "sync_log_fact",
]

SYNC_LOG_FACT_TYPE: Final = "sync.log_summary"
MEMORY_LIMIT: Final = "200MB"
"""DuckDB's memory cap; beyond it aggregates spill to a temporary directory."""
THREADS: Final = 2
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR_MS: Final = 3_600_000
_QUICK_BYTES: Final = 16 * 1024 * 1024
"""Bytes at the start of the file the quick read for malformed lines looks at."""
_COMPRESSED: Final = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd")  # gzip, zstd


def analyze_sync_log(
    path: Path,
    *,
    failure_rate_alert: float,
    p95_ms_alert: float,
    generated_at: datetime,
    source: str | None = None,
    seconds_below: float | None = SECONDS_BELOW,
) -> dict[str, Any]:
    """The summary of the sync events in ``path`` (NDJSON), with the breached alerts.

    Args:
        path: the export; lines that are not JSON objects are counted and sampled, blank
            lines ignored; ``.gz`` and ``.zst`` files are read compressed.
        failure_rate_alert: failure rate (a fraction) above which an alert is listed.
        p95_ms_alert: p95 duration (ms) above which an alert is listed.
        generated_at: the analysis time, recorded as ``generatedAt``.
        source: name recorded as ``source`` (default: ``path`` as given).
        seconds_below: a duration under this is read as seconds (older pipelines' exports);
            None for an export known to be in milliseconds, such as occ's own, where a
            3 ms attempt must stay 3 ms.

    Raises:
        InputFileError: ``path`` is missing, a directory, unreadable, or not NDJSON text.
    """
    _check_readable(path)
    with _connection() as (connection, workdir):
        try:
            literal = sql_string(_safe_path(path, workdir))
            summary = _summary(connection, literal, seconds_below, path)
        except duckdb.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputFileError(
                f"cannot read {path} as NDJSON ({reason}); pass an NDJSON export of sync events"
            ) from None
    summary["generatedAt"] = generated_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    summary["source"] = source if source is not None else str(path)
    summary["alerts"] = _alerts(summary, failure_rate_alert, p95_ms_alert)
    return {key: summary[key] for key in _KEYS}


_KEYS: Final = (
    "generatedAt",
    "source",
    "timeWindow",
    "totals",
    "statusBreakdown",
    "scopeBreakdown",
    "durationsMs",
    "retries",
    "errors",
    "hourlyBuckets",
    "failureSamples",
    "parse",
    "alerts",
)


def _check_readable(path: Path) -> None:
    if path.is_dir():
        raise InputFileError(f"{path} is a directory; pass the NDJSON file of sync events")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except FileNotFoundError:
        raise InputFileError(
            f"sync log {path} does not exist; pass the path of an NDJSON export"
        ) from None
    except OSError as exc:
        raise InputFileError(
            f"cannot read {path} ({exc.strerror}); check the path and its permissions"
        ) from None


def _safe_path(path: Path, workdir: Path) -> str:
    """The path DuckDB reads: absolute, and never a glob pattern (a link when it has one)."""
    absolute = path.resolve()
    if not any(char in str(absolute) for char in "*?[{"):
        return str(absolute)
    link = workdir / ("events" + "".join(absolute.suffixes[-2:]))
    os.symlink(absolute, link)
    return str(link)


@contextmanager
def _connection() -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    """An in-memory DuckDB with a memory cap, spilling to a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="occ-sync-log-") as workdir:
        connection = duckdb.connect(
            ":memory:",
            config={
                "threads": THREADS,
                "memory_limit": MEMORY_LIMIT,
                "temp_directory": str(Path(workdir) / "spill"),
                "autoinstall_known_extensions": False,
            },
        )
        try:
            connection.execute("SET TimeZone = 'UTC'")
            yield connection, Path(workdir)
        finally:
            connection.close()


def _summary(
    connection: duckdb.DuckDBPyConnection, literal: str, seconds_below: float | None, path: Path
) -> dict[str, Any]:
    """Scan the file into the ``agg`` table, then read every section out of it."""
    connection.execute("SET preserve_insertion_order = false")
    connection.execute(f"CREATE TEMP TABLE agg AS {aggregate_sql(literal, seconds_below)}")
    outcomes = {int(k): int(n) for k, n in connection.execute(OUTCOMES_SQL).fetchall()}
    lines = sum(outcomes.values())  # every line but the blank ones
    empty, skipped = outcomes.pop(EMPTY, 0), outcomes.pop(SKIPPED, 0)
    objects, parse = _parse(connection, literal, empty, skipped, (path, lines))
    success, failure = outcomes.get(SUCCESS, 0), outcomes.get(FAILURE, 0)
    unknown = outcomes.get(UNKNOWN, 0) + objects
    window = connection.execute(WINDOW_SQL).fetchone() or (None, None)
    hours = connection.execute(HOURS_SQL).fetchall()
    samples = connection.execute(FAILURE_SAMPLES_SQL).fetchone()
    return {
        "timeWindow": {"start": _iso(window[0]), "end": _iso(window[1])},
        "totals": {
            "records": success + failure + unknown,
            "success": success,
            "failure": failure,
            "unknown": unknown,
            "failureRate": round(failure / (success + failure), 4) if success + failure else None,
        },
        "statusBreakdown": [
            {"status": k, "count": n} for k, n in _breakdown(connection, STATUSES_SQL, objects)
        ],
        "scopeBreakdown": [
            {"scope": k, "count": n} for k, n in _breakdown(connection, SCOPES_SQL, objects)
        ],
        "durationsMs": _durations(connection),
        "retries": _retries(connection),
        "errors": {"byCode": _errors(connection, failure)},
        "hourlyBuckets": [
            {
                "hour": _iso(hour * _HOUR_MS, with_ms=False),
                "total": int(total),
                "success": int(ok or 0),
                "failure": int(failed or 0),
            }
            for hour, total, ok, failed in reversed(hours)
        ],
        "failureSamples": [_failure_sample(s) for s in (samples[0] if samples else None) or []],
        "parse": parse,
    }


def _breakdown(
    connection: duckdb.DuckDBPyConnection, query: str, objects: int
) -> list[tuple[str | None, int]]:
    """Counts by value, most frequent first; ``objects`` more records have no value."""
    counts: dict[str | None, int] = {k: int(n) for k, n in connection.execute(query).fetchall()}
    if objects:
        counts[None] = counts.get(None, 0) + objects
    return sorted(counts.items(), key=lambda item: (-item[1], item[0] is None, item[0] or ""))


def _durations(connection: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Count, average, nearest-rank p50/p95 and max of the durations (ms)."""
    count, total, maximum, p50, p95 = connection.execute(DURATIONS_SQL).fetchone() or (None,) * 5
    if not count:
        return {"count": 0, "average": None, "p50": None, "p95": None, "max": None}
    return {
        "count": int(count),
        "average": round(total / count, 2),
        "p50": round(p50, 2),
        "p95": round(p95, 2),
        "max": round(maximum, 2),
    }


def _retries(connection: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    rows = connection.execute(RETRIES_SQL).fetchall()
    if not rows:
        return {"count": 0, "average": None, "max": None, "distribution": []}
    _, _, total, count, maximum = rows[0]
    return {
        "count": int(count),
        "average": round(total / count, 2),
        "max": int(maximum),
        "distribution": [{"retries": int(num), "count": int(n)} for num, n, *_ in rows],
    }


def _errors(connection: duckdb.DuckDBPyConnection, failures: int) -> list[dict[str, Any]]:
    """Failures by error code, with each code's most frequent messages."""
    return [
        {
            "code": code,
            "count": int(n),
            "percentage": round(100 * n / failures, 2),
            "sampleMessages": list(messages or []),
        }
        for code, n, messages in connection.execute(ERRORS_SQL).fetchall()
    ]


def _failure_sample(sample: dict[str, Any]) -> dict[str, Any]:
    ms = sample["ms"]
    return {
        "timestamp": _iso(sample["ts"]),
        "decisionId": sample["decision_id"],
        "status": sample["status"],
        "scope": sample["scope"],
        "errorCode": sample["error_code"],
        "errorMessage": sample["error_message"],
        "durationMs": None if ms is None else round(ms, 2),
        "retries": sample["retries"],
    }


def _parse(
    connection: duckdb.DuckDBPyConnection,
    literal: str,
    empty: int,
    skipped: int,
    source: tuple[Path, int],
) -> tuple[int, dict[str, Any]]:
    """The ``parse`` section, and how many lines without a known field are objects.

    Those lines are records (unknown) when they are JSON objects, skipped lines when they
    are arrays or scalars; only a full read of the text tells, so it runs only for them.
    ``source`` is the file and its number of non-blank lines.
    """
    if not empty and not skipped:
        return 0, {"skippedLines": 0, "samples": []}
    connection.execute("SET preserve_insertion_order = true")  # line numbers, first lines
    if empty:
        row = connection.execute(parse_samples_sql(literal, count_non_objects=True)).fetchone()
        non_objects, samples = (min(int(row[0]), empty), row[1] or []) if row else (0, [])
        found = [(s["line_number"], s["text"]) for s in samples]
    else:
        non_objects = 0
        found = [(n, text) for n, text, _ in _first_malformed(connection, literal, skipped, source)]
    return empty - non_objects, {
        "skippedLines": skipped + non_objects,
        "samples": [{"line": int(n), "text": text} for n, text in sorted(found)[:SAMPLE_LIMIT]],
    }


def _first_malformed(
    connection: duckdb.DuckDBPyConnection,
    literal: str,
    skipped: int,
    source: tuple[Path, int],
) -> list[tuple[Any, ...]]:
    """The first malformed lines, of the ``skipped`` ones in ``source`` (file, lines).

    Every malformed line is among the skipped ones, so the read stops once as many are
    found. When they are likely within the file's first ``_QUICK_BYTES`` (it is that short,
    or the skipped lines, spread evenly, would put them in the first half of it), the
    quicker bounded read looks there first; otherwise, or when it does not find them all,
    the whole file is read (stopping at the last one).
    """
    path, lines = source
    wanted = min(skipped, SAMPLE_LIMIT)
    first = _lines_within(path, _QUICK_BYTES)
    if first is not None and (first >= lines or 2 * lines * wanted <= first * skipped):
        query = parse_samples_sql(
            literal, count_non_objects=False, limit=skipped, first_lines=first
        )
        try:
            rows = connection.execute(query).fetchall()
        except duckdb.Error:  # a line longer than the bounded read's buffer
            rows = []
        if len(rows) >= wanted:
            return rows
    query = parse_samples_sql(literal, count_non_objects=False, limit=skipped)
    return connection.execute(query).fetchall()


def _lines_within(path: Path, size: int) -> int | None:
    """How many lines end within the first ``size`` bytes of ``path`` (all of them, when it
    is shorter); None for a compressed file, or one that cannot be read now.

    The bounded read's memory grows with the text it reads, so it is bounded by this count
    rather than by a number of lines, which may be of any length.
    """
    count = 0
    try:
        with path.open("rb") as handle:
            if any(handle.read(4).startswith(magic) for magic in _COMPRESSED):
                return None
            handle.seek(0)
            while size > 0:
                chunk = handle.read(min(size, 1 << 20))
                if not chunk:
                    return count + 1  # the whole file; its last line may have no newline
                count += chunk.count(b"\n")
                size -= len(chunk)
    except OSError:
        return None
    return count


def _iso(ms: float | None, *, with_ms: bool = True) -> str | None:
    """Epoch milliseconds as ISO-8601 UTC with a ``Z``."""
    if ms is None:
        return None
    whole = int(ms // 1)
    moment = _EPOCH + timedelta(milliseconds=whole)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{whole % 1000:03d}Z" if with_ms else f"{text}Z"


def _alerts(
    summary: dict[str, Any], failure_rate_alert: float, p95_ms_alert: float
) -> list[dict[str, Any]]:
    """Each breached threshold with the observed value (as reported) and the threshold."""
    alerts: list[dict[str, Any]] = []
    rate = summary["totals"]["failureRate"]
    if rate is not None and rate > failure_rate_alert:
        alerts.append(
            {
                "metric": "failureRate",
                "observed": rate,
                "threshold": failure_rate_alert,
                "message": (
                    f"Failure rate {rate * 100:.2f} % is above the {failure_rate_alert * 100:g} %"
                    " alert threshold."
                ),
            }
        )
    p95 = summary["durationsMs"]["p95"]
    if p95 is not None and p95 > p95_ms_alert:
        alerts.append(
            {
                "metric": "p95DurationMs",
                "observed": p95,
                "threshold": p95_ms_alert,
                "message": f"p95 duration {p95:,.2f} ms is above the {p95_ms_alert:,g} ms alert"
                " threshold.",
            }
        )
    return alerts


@dataclass(frozen=True, slots=True)
class SyncLogFact:
    """What the worker passes to ``occ.store.facts.write_fact`` for one analyzed export."""

    fact_type: str
    scope: str
    value: dict[str, Any]
    metadata: dict[str, Any]


def sync_log_fact(
    summary: dict[str, Any], *, failure_rate_alert: float, p95_ms_alert: float
) -> SyncLogFact:
    """The summary as a ``sync.log_summary`` fact; the thresholds go in its metadata."""
    return SyncLogFact(
        fact_type=SYNC_LOG_FACT_TYPE,
        scope="ops",
        value=summary,
        metadata={
            "syncFailureRateAlert": failure_rate_alert,
            "syncP95MsAlert": p95_ms_alert,
            "source": summary["source"],
        },
    )


def sync_log_anomalies(summary: dict[str, Any]) -> list[Anomaly]:
    """One threshold ``Anomaly`` per alert of ``summary``; critical at twice the threshold.

    The failure rate is in percent, as every rate of an ``Anomaly`` is; p95 in ms.
    """
    anomalies: list[Anomaly] = []
    totals, durations = summary["totals"], summary["durationsMs"]
    for alert in summary["alerts"]:
        observed, threshold = float(alert["observed"]), float(alert["threshold"])
        severity: AnomalySeverity = "critical" if observed >= 2 * threshold else "warning"
        if alert["metric"] == "failureRate":
            classified = totals["success"] + totals["failure"]
            message = (
                f"Sync failure rate is {observed * 100:.2f} % ({totals['failure']:,} of "
                f"{classified:,} classified events in {summary['source']}), above the "
                f"{threshold * 100:g} % alert threshold."
            )
            anomalies.append(
                Anomaly(
                    kpi="sync_failure_rate",
                    kind="threshold",
                    severity=severity,
                    value=round(observed * 100, 2),
                    threshold=threshold * 100,
                    message=message,
                )
            )
        elif alert["metric"] == "p95DurationMs":
            message = (
                f"Sync p95 duration is {observed:,.2f} ms over {durations['count']:,} timed "
                f"events in {summary['source']}, above the {threshold:,g} ms alert threshold."
            )
            anomalies.append(
                Anomaly(
                    kpi="sync_p95_ms",
                    kind="threshold",
                    severity=severity,
                    value=observed,
                    threshold=threshold,
                    message=message,
                )
            )
    return anomalies
