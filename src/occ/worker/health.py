"""The ``health`` job: the sync log of the last window and parity, stored as facts.

The sync events of the last ``worker_health_minutes`` are exported to a temporary NDJSON file
and analysed (``sync.log_summary`` fact, an ``anomaly.sync_failure_rate`` /
``anomaly.sync_p95_ms`` fact per breached alert). With a mirror, what is pending is delivered
first and parity compares both sides (``sync.parity`` fact; ``anomaly.sync_parity`` when it
fails for more than rows still pending in the outbox).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Table, select, tuple_

from occ.config import Settings
from occ.contracts.anomalies import Anomaly
from occ.decisions import export_events, sync_outbox
from occ.errors import MirrorError, OccError
from occ.ops.parity import ParityResult, check_parity, open_mirror
from occ.ops.sync_log import analyze_sync_log, sync_log_anomalies, sync_log_fact
from occ.store.facts import write_fact
from occ.store.runs import newest_shop
from occ.store.tables import OutboxEntry
from occ.worker.locks import held_lock
from occ.worker.registry import JobContext, mirror_url_of

__all__ = ["OPS_SCOPE", "PARITY_FACT_TYPE", "health_job", "parity_anomaly"]

PARITY_FACT_TYPE = "sync.parity"
OPS_SCOPE = "ops"
_OUTBOX = cast(Table, OutboxEntry.__table__)
_PENDING_LISTED = 50  # pending ids kept in a parity fact's metadata


def _ops_shop(connection: Connection, settings: Settings) -> str:
    """The shop the ops facts are filed under: the configured one, else the newest refreshed."""
    configured = settings.shop_domain or settings.shopify_shop
    if configured:
        return configured
    return newest_shop(connection) or "occ"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parity_anomaly(result: ParityResult) -> Anomaly:
    """The ``anomaly.sync_parity`` of a failed parity: critical when decisions are affected."""
    failing = [table for table in result.tables if not table.within_threshold]
    parts = [
        f"{table.name}: {len(table.missing_on_mirror)} missing on the mirror, "
        f"{len(table.extra_on_mirror)} only on the mirror, {len(table.differing)} differing"
        for table in failing
    ]
    worst = max((abs(group.diff_pct) for table in failing for group in table.by_group), default=0.0)
    return Anomaly(
        kpi="sync_parity",
        kind="threshold",
        severity="critical" if any(t.name == "decisions" for t in failing) else "warning",
        value=round(worst, 2),
        threshold=result.threshold_pct,
        message=f"Mirror parity failed ({'; '.join(parts)}); `occ parity --json` lists the ids.",
    )


def _pending_refs(connection: Connection, result: ParityResult) -> list[str]:
    """The ids parity found missing or differing that still have a pending outbox entry."""
    kinds = {"decisions": "decision", "facts": "fact"}
    wanted = {
        (kinds.get(table.name, table.name), ref)
        for table in result.tables
        for ref in (*table.missing_on_mirror, *table.differing)
    }
    if not wanted:
        return []
    rows = connection.execute(
        select(_OUTBOX.c.kind, _OUTBOX.c.ref_id)
        .where(_OUTBOX.c.status == "pending")
        .where(tuple_(_OUTBOX.c.kind, _OUTBOX.c.ref_id).in_(sorted(wanted)))
        .distinct()
    )
    return sorted(f"{kind}:{ref}" for kind, ref in rows)


def _lag_only(result: ParityResult, pending: list[str]) -> bool:
    """Whether every difference is a row the outbox has not delivered yet (sync lag)."""
    differences = sum(
        len(table.missing_on_mirror) + len(table.differing) for table in result.tables
    )
    extra = any(table.extra_on_mirror for table in result.tables)
    return not extra and differences > 0 and len(pending) == differences


def _flush(context: JobContext, url: str) -> str:
    """Deliver what is pending before parity, under the sync job's lock (skipped if held).

    One attempt per entry: a failing mirror is the sync job's to retry, not health's.
    """
    settings = context.settings.model_copy(update={"sync_attempts_per_run": 1})
    with held_lock(
        context.primary,
        "job:sync",
        context.worker_id,
        lease_seconds=settings.worker_lock_seconds,
        clock=context.clock,
    ) as lease:
        if not lease.acquired:
            return "sync running elsewhere"
        try:
            report = sync_outbox(
                context.primary, url, settings, sleep=context.sleep, worker_id=context.worker_id
            )
        except MirrorError as exc:
            return f"sync before parity failed: {exc}"
        return f"synced {report.sent} first" if report.sent else "nothing pending"


def _analyze(context: JobContext, since: datetime, now: datetime) -> dict[str, Any]:
    settings = context.settings
    with tempfile.TemporaryDirectory(prefix="occ-health-") as folder:
        path = Path(folder) / "sync-events.ndjson"
        with context.primary.connect() as connection:
            export_events(connection, since, path, kind=None)
        return analyze_sync_log(
            path,
            failure_rate_alert=settings.sync_failure_rate_alert,
            p95_ms_alert=settings.sync_p95_ms_alert,
            generated_at=now,
            source=f"sync events {_iso(since)} – {_iso(now)}",
            seconds_below=None,  # occ's own export is in milliseconds, however fast
        )


def _parity(context: JobContext, url: str) -> tuple[ParityResult | None, OccError | None, str]:
    """Deliver what is pending, then compare: the result or why it could not run."""
    flushed = _flush(context, url)
    timeout = max(2, int(context.settings.sync_timeout_seconds))
    try:
        mirror = open_mirror(url, connect_timeout=timeout)
        try:
            result = check_parity(
                context.primary, mirror, threshold_pct=context.settings.parity_threshold_pct
            )
        finally:
            mirror.dispose()
    except OccError as exc:
        return None, exc, flushed
    return result, None, flushed


def _write_parity(
    connection: Connection,
    shop: str,
    parity: ParityResult,
    meta: dict[str, Any],
    now: datetime,
) -> tuple[str, Anomaly | None]:
    """The ``sync.parity`` fact and, when it failed for more than sync lag, its anomaly."""
    pending = [] if parity.ok else _pending_refs(connection, parity)
    lag = not parity.ok and _lag_only(parity, pending)
    parity_id = write_fact(
        connection,
        shop=shop,
        fact_type=PARITY_FACT_TYPE,
        scope=OPS_SCOPE,
        value=parity.as_dict(),
        metadata=meta
        | {"pendingOnPrimary": pending[:_PENDING_LISTED], "pendingCount": len(pending)}
        | {"lagOnly": lag},
        now=now,
    )
    if parity.ok:
        return "parity ok", None
    if lag:
        return f"parity: {len(pending)} rows still pending (sync lag)", None
    anomaly = parity_anomaly(parity)
    _write_anomaly(connection, shop, anomaly, meta | {"parityFactId": parity_id}, now)
    return "parity FAILED", anomaly


def _write_anomaly(
    connection: Connection, shop: str, anomaly: Anomaly, meta: dict[str, Any], now: datetime
) -> None:
    write_fact(
        connection,
        shop=shop,
        fact_type=anomaly.fact_type,
        scope=OPS_SCOPE,
        value=anomaly.model_dump(mode="json"),
        metadata=meta,
        now=now,
    )


def health_job(context: JobContext) -> str:
    """Analyse the last window's sync events and check parity; store both as facts.

    Parity runs before this run's facts are written (they are not on the mirror yet), after
    delivering what is pending. A difference that is only rows still pending in the outbox is
    sync lag, recorded in the fact's metadata, not an anomaly.

    Raises:
        OccError: parity could not run (raised after the log summary was stored).
    """
    settings = context.settings
    now = context.now()
    since = now - timedelta(minutes=settings.worker_health_minutes)
    summary = _analyze(context, since, now)
    fact = sync_log_fact(
        summary,
        failure_rate_alert=settings.sync_failure_rate_alert,
        p95_ms_alert=settings.sync_p95_ms_alert,
    )
    url = mirror_url_of(settings)
    parity, parity_error, flushed = (None, None, "") if url is None else _parity(context, url)
    meta = {
        "generatedAt": now.isoformat(),
        "window": {"since": since.isoformat(), "until": now.isoformat()},
        "workerId": context.worker_id,
    }
    anomalies = sync_log_anomalies(summary)
    parity_text = "parity not configured (no mirror)"
    with context.primary.begin() as connection:
        shop = _ops_shop(connection, settings)
        summary_id = write_fact(
            connection,
            shop=shop,
            fact_type=fact.fact_type,
            scope=fact.scope,
            value=fact.value,
            metadata=fact.metadata | meta,
            now=now,
        )
        for anomaly in anomalies:
            _write_anomaly(connection, shop, anomaly, meta | {"summaryFactId": summary_id}, now)
        if parity is not None:
            parity_meta = meta | {"beforeParity": flushed}
            parity_text, failed = _write_parity(connection, shop, parity, parity_meta, now)
            anomalies += [failed] if failed is not None else []
    if parity_error is not None:
        raise parity_error
    totals, durations = summary["totals"], summary["durationsMs"]
    rate = "—" if totals["failureRate"] is None else f"{totals['failureRate'] * 100:.2f} %"
    p95 = "—" if durations["p95"] is None else f"{durations['p95']:,.0f} ms"
    return (
        f"{totals['records']:,} sync events, failure rate {rate}, p95 {p95}; {parity_text}; "
        f"{len(anomalies)} anomalies"
    )
