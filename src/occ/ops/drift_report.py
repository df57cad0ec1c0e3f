"""Drift findings as the operator reads them: Markdown alert blocks and JSON.

Three inputs become the same :class:`~occ.ops.schema_diff.Finding`: schema changes
(:func:`~occ.ops.schema_diff.diff_schemas`), contract-check results
(:mod:`occ.ops.contract_check`) and drift observed in data by the refresh
(:func:`observed_findings` over :func:`occ.store.runs.list_drift` rows). Each finding is one
block::

    ## Schema Drift Alert — YYYY-MM-DD      (the UTC date it was detected)
    **Source**: …
    **Change**: …
    **Detected**: …
    **Impact**: P0|P1|P2
    **Affected**: …
    **Action**: …
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from occ.errors import InputFileError
from occ.ops.schema_diff import IMPACTS, Finding, Impact, diff_schemas
from occ.ops.schema_files import schema_from_introspection
from occ.ops.schema_usage import affected_by_observation
from occ.store.schemas import latest_snapshots

__all__ = [
    "observed_findings",
    "render_markdown",
    "report_document",
    "snapshot_findings",
    "write_report",
]

_SOURCE_NAMES = {
    "shopify": "Shopify Admin API",
    "chatwoot": "Chatwoot REST API",
    "ga4": "GA4 Data API",
}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return _utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


def _observed_change(kind: str, field: str, observed: str, detail: str) -> tuple[Impact, str]:
    if kind == "unknown_enum":
        return "P1", f"New value {observed!r} in {field}, which the contract does not know"
    if kind == "missing_field":
        return "P0", f"Required field {field} missing ({detail})"
    if kind == "type_changed":
        return (
            "P0",
            f"{field} arrived as {observed} where the contract expects another type ({detail})",
        )
    return "P0", f"{field}: {kind} {observed} ({detail})"


def observed_findings(rows: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """Drift the refresh recorded (``list_drift`` rows), one finding per (source, field, change)."""
    findings: list[Finding] = []
    for row in rows:
        source, stream, field = str(row["source"]), str(row["stream"]), str(row["field"])
        kind, observed = str(row["kind"]), str(row["observed"])
        impact, change = _observed_change(kind, field, observed, str(row["detail"]))
        affected = affected_by_observation(stream, field)
        kpis = " and ".join(a.name for a in affected if a.kind == "kpi") or "the KPIs"
        if kind == "unknown_enum":
            issue = " (as an issue)" if field == "displayFulfillmentStatus" else ""
            action = (
                f"Decide how {kpis} interpret {observed!r} (KPIS.md) and add it to "
                f"occ.contracts.{source}; until then occ counts it as unknown{issue} and reports "
                "it here."
            )
        else:
            action = (
                f"Records with it are quarantined and left out of {kpis}: confirm the upstream "
                f"change, update occ.contracts.{source}, then refresh again."
            )
        findings.append(
            Finding(
                source=f"{_SOURCE_NAMES.get(source, source)}, stream {stream} (observed in data)",
                change=change,
                detected_at=_utc(row["first_seen"]),
                impact=impact,
                affected=affected,
                action=action,
                classification="observed",
                change_type=kind,
                coordinate=f"{stream}.{field}",
                observed={
                    "stream": stream,
                    "field": field,
                    "kind": kind,
                    "observed": observed,
                    "firstSeen": _iso(row["first_seen"]),
                    "lastSeen": _iso(row["last_seen"]),
                    "occurrences": int(row["occurrences"]),
                },
            )
        )
    return sorted(findings, key=lambda f: (f.impact, f.coordinate or "", f.change))


def snapshot_findings(connection: Connection, source: str = "shopify") -> list[Finding]:
    """What changed between the last two live schema snapshots (none when fewer than two)."""
    snapshots = latest_snapshots(connection, source, 2)
    if len(snapshots) < 2 or snapshots[0].sha256 == snapshots[1].sha256:
        return []
    newest, previous = snapshots
    label = (
        f"Shopify Admin API {previous.api_version} → {newest.api_version} (live snapshots "
        f"#{previous.id} of {_iso(previous.fetched_at)} and #{newest.id} of "
        f"{_iso(newest.fetched_at)})"
    )
    return diff_schemas(
        schema_from_introspection(previous.schema, f"schema snapshot #{previous.id}"),
        schema_from_introspection(newest.schema, f"schema snapshot #{newest.id}"),
        source=label,
        detected_at=_utc(newest.fetched_at),
    )


def _block(finding: Finding) -> str:
    detected = _iso(finding.detected_at)
    if finding.observed is not None:
        detected = (
            f"{finding.observed['firstSeen']} (first seen); last seen "
            f"{finding.observed['lastSeen']}; {finding.observed['occurrences']} occurrence(s)"
        )
    affected = "; ".join(item.label() for item in finding.affected) or "—"
    return "\n".join(
        (
            f"## Schema Drift Alert — {_utc(finding.detected_at).date().isoformat()}",
            f"**Source**: {finding.source}",
            f"**Change**: {finding.change} [{finding.classification}: {finding.change_type}]",
            f"**Detected**: {detected}",
            f"**Impact**: {finding.impact}",
            f"**Affected**: {affected}",
            f"**Action**: {finding.action}",
        )
    )


def render_markdown(findings: Iterable[Finding], *, checked_at: datetime) -> str:
    """One alert block per finding, separated by a blank line (a note when there are none)."""
    blocks = [_block(finding) for finding in findings]
    if not blocks:
        return f"No schema drift that reaches occ (checked {_iso(checked_at)}).\n"
    return "\n\n".join(blocks) + "\n"


def _finding_json(finding: Finding) -> dict[str, Any]:
    document: dict[str, Any] = {
        "source": finding.source,
        "change": finding.change,
        "detected": _iso(finding.detected_at),
        "impact": finding.impact,
        "affected": [
            {"kind": item.kind, "name": item.name, "module": item.module}
            for item in finding.affected
        ],
        "action": finding.action,
        "classification": finding.classification,
        "changeType": finding.change_type,
        "coordinate": finding.coordinate,
    }
    if finding.observed is not None:
        document["observed"] = dict(finding.observed)
    return document


def report_document(
    findings: Iterable[Finding], *, command: str, checked_at: datetime, **context: Any
) -> dict[str, Any]:
    """The JSON report: what ran, when, a P0/P1/P2 summary and every finding."""
    listed = list(findings)
    summary: dict[str, Any] = {impact: 0 for impact in IMPACTS}
    for finding in listed:
        summary[finding.impact] += 1
    summary["needsAttention"] = summary["P0"] + summary["P1"] > 0
    return {
        "command": command,
        "checkedAt": _iso(checked_at),
        **context,
        "summary": summary,
        "findings": [_finding_json(finding) for finding in listed],
    }


def write_report(out_dir: Path, markdown: str, document: Mapping[str, Any]) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.json`` into ``out_dir`` (created if missing)."""
    markdown_path, json_path = out_dir / "report.md", out_dir / "report.json"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text(markdown, encoding="utf-8")
        json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputFileError(
            f"cannot write the report to {out_dir} ({exc.strerror or exc}); "
            "pass a writable --out DIR"
        ) from None
    return markdown_path, json_path
