"""Pipeline health of the week, per source: requests, errors, throttling, records, contracts.

Read from what every refresh keeps: the upstream answers (``source_evidence``: one row per
HTTP attempt, failed ones included), the runs' reports (records read and stored per stream),
the quarantined records (contract violations) and the drift findings.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, cast

from sqlalchemy import Connection, Table, func, select

from occ.insights.window import WeekWindow, iso_utc
from occ.store.tables import DriftFinding, QuarantinedRecord, RefreshRun, SourceEvidence

__all__ = ["CACHE_NOTE", "SOURCES", "pipeline_health"]

SOURCES = ("shopify", "chatwoot", "ga4")
CACHE_NOTE = (
    "occ's connectors keep no response cache (every refresh reads upstream), so there is no "
    "hit rate to report"
)
_EVIDENCE = cast(Table, SourceEvidence.__table__)
_RUNS = cast(Table, RefreshRun.__table__)
_QUARANTINE = cast(Table, QuarantinedRecord.__table__)
_DRIFT = cast(Table, DriftFinding.__table__)


def _source_of(stream: str) -> str:
    return stream.partition(".")[0]


def pipeline_health(connection: Connection, shop: str, window: WeekWindow) -> dict[str, Any]:
    """The pipeline section: one row per source, and the week's refresh runs."""
    in_week = (_EVIDENCE.c.fetched_at > window.opens) & (_EVIDENCE.c.fetched_at <= window.closes)
    requests: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    evidence = connection.execute(
        select(_EVIDENCE.c.source, _EVIDENCE.c.status, func.count())
        .where((_EVIDENCE.c.shop_domain == shop) & in_week)
        .group_by(_EVIDENCE.c.source, _EVIDENCE.c.status)
    ).all()
    for source, status, count in evidence:
        row = requests[str(source)]
        row["requests"] += count
        row["errors"] += count if status >= 400 else 0
        row["throttled"] += count if status == 429 else 0

    runs = connection.execute(
        select(_RUNS.c.id, _RUNS.c.source, _RUNS.c.status, _RUNS.c.report)
        .where(
            (_RUNS.c.shop_domain == shop)
            & (_RUNS.c.as_of > window.opens)
            & (_RUNS.c.as_of <= window.closes)
        )
        .order_by(_RUNS.c.id)
    ).all()
    ingested: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for run in runs:
        streams = (run.report or {}).get("streams", {}) if isinstance(run.report, dict) else {}
        for stream, counts in streams.items():
            row = ingested[_source_of(stream)]
            row["read"] += int(counts.get("read", 0))
            row["stored"] += int(counts.get("stored", 0))

    violations: dict[str, int] = dict(
        connection.execute(
            select(_QUARANTINE.c.source, func.count())
            .where(
                (_QUARANTINE.c.shop_domain == shop)
                & (_QUARANTINE.c.created_at > window.opens)
                & (_QUARANTINE.c.created_at <= window.closes)
            )
            .group_by(_QUARANTINE.c.source)
        ).all()
    )
    drift_rows = connection.execute(
        select(_DRIFT)
        .where(
            (_DRIFT.c.shop_domain == shop)
            & (_DRIFT.c.last_seen > window.opens)
            & (_DRIFT.c.first_seen <= window.closes)
        )
        .order_by(_DRIFT.c.id)
    ).mappings()
    drift: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for finding in drift_rows:
        drift[str(finding["source"])].append(
            {
                "stream": finding["stream"],
                "field": finding["field"],
                "kind": finding["kind"],
                "observed": finding["observed"],
                "occurrences": finding["occurrences"],
                "firstSeen": iso_utc(finding["first_seen"]),
                "new": finding["first_seen"] > window.opens,
            }
        )

    names = sorted(set(SOURCES) | set(requests) | set(ingested) | set(violations) | set(drift))
    sources = []
    for name in names:
        asked = requests.get(name)
        stored = ingested.get(name)
        sources.append(
            {
                "source": name,
                "requests": asked["requests"] if asked else None,
                "errors": asked["errors"] if asked else None,
                "errorRate": round(asked["errors"] / asked["requests"], 4) if asked else None,
                "throttled": asked["throttled"] if asked else None,
                "recordsRead": stored["read"] if stored else None,
                "recordsStored": stored["stored"] if stored else None,
                "contractViolations": int(violations.get(name, 0)),
                "driftFindings": drift.get(name, []),
                "cacheHitRate": None,
            }
        )
    by_kind: dict[str, int] = defaultdict(int)
    for run in runs:
        by_kind[str(run.source).partition(":")[0]] += 1
    document: dict[str, Any] = {
        "window": {"opensUtc": iso_utc(window.opens), "closesUtc": iso_utc(window.closes)},
        "sources": sources,
        "runs": {
            "count": len(runs),
            "bySource": dict(sorted(by_kind.items())),
            "notOk": sum(1 for run in runs if run.status not in ("ok", "running")),
        },
        "dataSources": ["source_evidence (HTTP attempts)", "refresh runs", "quarantine", "drift"],
        "notes": [
            "requests and error rates count every HTTP attempt to the live APIs, retries "
            "included; recorded and demo refreshes make none",
            "throttled = answers HTTP 429 (each made occ wait before retrying)",
            CACHE_NOTE,
        ],
    }
    if not runs and not evidence:
        document["note"] = "no refresh ran in the week: no pipeline data"
    return document
