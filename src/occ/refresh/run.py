"""One refresh: read a source, validate and store its records, compute and record the KPIs.

Everything happens in one database transaction: a refresh that fails half-way (an
unreachable database, an interrupted run) leaves the store as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from occ.config import Settings
from occ.contracts.evidence import Evidence
from occ.contracts.shopify import ShopNode
from occ.errors import InputFileError, SourceError, StoreError
from occ.refresh.compute import KPI_STREAMS, KpiSnapshot, compute_and_record
from occ.refresh.gating import kpi_gates
from occ.refresh.ingest import STREAM_TABLES, StreamReport, ingest_stream
from occ.sources.base import STREAMS, SourcePayloads
from occ.store import records as store
from occ.store.conversation_sync import mark_conversations_deleted
from occ.store.cursors import save_cursor
from occ.store.engine import masked_url
from occ.store.evidence import prune_evidence, record_evidence
from occ.store.records import ShopInfo
from occ.store.runs import finish_run, record_drift, record_quarantine, start_run
from occ.store.schemas import save_snapshot
from occ.store.statistics import analyze_tables

__all__ = ["QUARANTINE_EXIT_CODE", "RefreshReport", "run_refresh"]

# Exit status of `occ refresh` when it finished but kept records aside.
QUARANTINE_EXIT_CODE = 8
# Records a stream must store in one refresh for its tables' planner statistics to be
# gathered at once (occ.store.statistics): a first load, not a routine incremental refresh.
_BULK_ROWS = 10_000


@dataclass
class RefreshReport:
    run_id: int
    shop: ShopInfo
    now: datetime
    source: SourcePayloads
    streams: dict[str, StreamReport] = field(default_factory=dict)
    snapshot: KpiSnapshot = field(default_factory=KpiSnapshot)

    @property
    def quarantined(self) -> int:
        return sum(len(report.quarantined) for report in self.streams.values())

    @property
    def drift_findings(self) -> int:
        return sum(len(report.drift) for report in self.streams.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "shop": self.shop.domain,
            "now": self.now.isoformat(),
            "source": {"kind": self.source.kind, "name": self.source.name},
            "streams": {name: report.as_dict() for name, report in self.streams.items()},
            "quarantined": self.quarantined,
            "factIds": self.snapshot.fact_ids,
            "anomalyFactIds": self.snapshot.anomaly_fact_ids,
            "forecastFactIds": self.snapshot.forecast_fact_ids,
            "incidentsFactId": self.snapshot.incidents_fact_id,
        }


def _shop(payloads: SourcePayloads, settings: Settings) -> ShopInfo:
    if payloads.shop is None:
        if settings.shop_domain is None:
            raise InputFileError(
                f"{payloads.name} has no shop.json and OCC_SHOP_DOMAIN is not set; "
                "add shop.json or set the shop domain"
            )
        return ShopInfo((settings.shop_domain, "USD", "UTC"))
    try:
        node = ShopNode.model_validate_json(payloads.shop.text)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise InputFileError(
            f"{payloads.shop.location} is not a valid shop object ({where}: {first['msg']}); "
            'write {"shopDomain", "currencyCode", "ianaTimezone"}'
        ) from None
    try:
        ZoneInfo(node.ianaTimezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputFileError(
            f"{payloads.shop.location}: ianaTimezone {node.ianaTimezone!r} is not an IANA time "
            "zone; use e.g. America/Chicago"
        ) from None
    return ShopInfo((node.shopDomain, node.currencyCode, node.ianaTimezone))


def _progress(step: Callable[[str], None], stream: str) -> Callable[[int], None]:
    return lambda count: step(f"reading {stream}: {count:,} records")


def _snapshot(connection: Connection, shop: str, payloads: SourcePayloads, at: datetime) -> None:
    """Keep the live schema of this run, so `occ contracts drift` can diff run to run."""
    assert payloads.schema is not None
    source, api_version, introspect = payloads.schema
    try:
        schema = introspect()
    except SourceError as exc:
        payloads.notices.append(f"{source} schema not snapshotted: {exc}")
        return
    save_snapshot(
        connection, source=source, api_version=api_version, schema=schema, fetched_at=at, shop=shop
    )


def _keep(connection: Connection, shop: str, run_id: int, evidence: Evidence) -> None:
    record_evidence(connection, shop, run_id, evidence)


def _mark_deleted(connection: Connection, shop: str, payloads: SourcePayloads) -> None:
    """Store the conversations Chatwoot answered 404 for as deleted (live refreshes)."""
    deleted = payloads.deleted_conversations
    ids = sorted(deleted()) if deleted is not None else []
    if mark_conversations_deleted(connection, shop, ids):
        shown = ", ".join(str(i) for i in ids[:10]) + (" …" if len(ids) > 10 else "")
        payloads.notices.append(
            f"Chatwoot no longer has {len(ids)} conversation(s) stored as open or pending "
            f"({shown}): stored as deleted, outside the SLA population"
        )


def _configured(streams: dict[str, StreamReport]) -> set[str]:
    return {
        kpi for kpi, needed in KPI_STREAMS.items() if all(streams[name].recorded for name in needed)
    }


def run_refresh(
    engine: Engine,
    settings: Settings,
    payloads: SourcePayloads,
    now: datetime,
    *,
    on_step: Callable[[str], None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RefreshReport:
    """Load ``payloads`` into the store and record the KPIs as of ``now``.

    Raises:
        InputFileError: the source's shop object is unusable.
        StoreError: the database failed; nothing of this refresh was written.
    """
    step = on_step or (lambda _: None)
    shop = _shop(payloads, settings)
    try:
        with engine.begin() as connection:
            started = clock()
            store.upsert_shop(connection, shop.domain, shop.currency, shop.timezone, started)
            run_id = start_run(connection, shop.domain, payloads.name, now, started)
            report = RefreshReport(run_id=run_id, shop=shop, now=now, source=payloads)
            if payloads.evidence is not None:
                payloads.evidence.attach(
                    lambda evidence: _keep(connection, shop.domain, run_id, evidence)
                )
                retention = timedelta(days=settings.evidence_retention_days)
                prune_evidence(connection, started - retention)
            if payloads.schema is not None:
                step("snapshotting the upstream schema")
                _snapshot(connection, shop.domain, payloads, started)
            for stream in STREAMS:
                step(f"reading {stream}")
                records = payloads.streams.get(stream)
                stream_report = ingest_stream(
                    connection,
                    shop.domain,
                    stream,
                    records,
                    on_progress=_progress(step, stream),
                )
                if records is not None:
                    step(f"stored {stream}: {stream_report.read:,} records")
                report.streams[stream] = stream_report
                record_quarantine(
                    connection, shop.domain, run_id, stream_report.quarantined, started
                )
                observations = list(stream_report.drift)
                counts = [stream_report.drift[obs] for obs in observations]
                record_drift(connection, shop.domain, observations, counts, started)
                if stream == "chatwoot.conversations":
                    _mark_deleted(connection, shop.domain, payloads)
                cursor = payloads.cursors.get(stream)
                new_cursor = cursor() if cursor is not None else None
                if new_cursor is not None:
                    save_cursor(
                        connection, shop.domain, STREAMS[stream], stream, new_cursor, started
                    )
            bulk = [
                table
                for stream, stream_report in report.streams.items()
                if stream_report.stored >= _BULK_ROWS
                for table in STREAM_TABLES[stream]
            ]
            if bulk:
                step("gathering planner statistics")
                analyze_tables(connection, bulk)
            gates = kpi_gates(connection, shop, now, report.streams, settings)
            report.snapshot = compute_and_record(
                connection,
                shop,
                now,
                settings.kpis,
                settings.forecast,
                _configured(report.streams),
                {"kind": payloads.kind, "name": payloads.name, "runId": run_id},
                generated_at=clock(),
                on_step=step,
                evidence_url=(
                    f"occ://refresh-runs/{run_id}/evidence"
                    if payloads.evidence is not None
                    else None
                ),
                gates=gates,
            )
            status = "quarantined" if report.quarantined else "ok"
            finish_run(connection, run_id, status, report.as_dict(), clock())
    except SQLAlchemyError as exc:
        raise StoreError(
            f"refresh failed in the database {masked_url(str(engine.url))}: "
            f"{type(exc).__name__}; nothing was written — check the database and retry"
        ) from exc
    finally:
        if payloads.evidence is not None:
            payloads.evidence.detach()
    return report
