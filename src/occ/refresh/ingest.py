"""Validate every raw record against its contract and store what is valid.

A record that violates its contract is neither dropped nor half-read: it is quarantined with
its raw text and the reason, and counted. An enum value the contract does not know is kept,
interpreted as KPIS.md says, and reported as drift. A type change or a missing field is both
quarantined and reported as drift (the upstream schema moved).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection

from occ.contracts.chatwoot import CONVERSATION_STATUSES, ConversationNode, MessageNode
from occ.contracts.ga4 import ReportRow, RunReportResponse
from occ.contracts.records import LandingPageDay
from occ.contracts.shopify import (
    FULFILLMENT_STATUSES,
    INVENTORY_POLICIES,
    OrderNode,
    ProductVariantNode,
)
from occ.refresh.normalize import (
    conversation_record,
    message_record,
    order_record,
    variant_record,
)
from occ.sources.base import STREAMS, RawRecord
from occ.store import records as store
from occ.store.runs import DriftObservation, Quarantined

__all__ = ["IngestResult", "StreamReport", "ingest_stream"]

_BATCH = 5_000
_TYPE_ERRORS = ("_type", "_parsing", "value_error")
Node = TypeVar("Node", bound=BaseModel)


@dataclass
class StreamReport:
    """What happened to one stream: counts, problems with their location, drift."""

    stream: str
    recorded: bool
    read: int = 0
    stored: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)
    drift: Counter[DriftObservation] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "recorded": self.recorded,
            "read": self.read,
            "stored": self.stored,
            "quarantined": len(self.quarantined),
            "problems": [f"{q.location}: {q.reason}" for q in self.quarantined],
            "drift": [
                {
                    "field": obs.field,
                    "kind": obs.kind,
                    "observed": obs.observed,
                    "count": count,
                }
                for obs, count in sorted(self.drift.items(), key=lambda item: item[0].field)
            ],
        }


@dataclass
class IngestResult:
    streams: dict[str, StreamReport] = field(default_factory=dict)


def _reason(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False)[:3]:
        if error["type"] == "json_invalid":
            parts.append(f"malformed JSON ({error['msg'].removeprefix('Invalid JSON: ')})")
            continue
        where = ".".join(str(part) for part in error["loc"]) or "record"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - 3
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _schema_drift(exc: ValidationError, source: str, stream: str) -> list[DriftObservation]:
    """Type changes and missing fields: the upstream's shape moved (not mere corruption)."""
    found = []
    for error in exc.errors(include_url=False):
        kind = error["type"]
        path = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
        if kind == "missing":
            found.append(DriftObservation(source, stream, path, "missing_field", "", error["msg"]))
        elif kind != "json_invalid" and kind.endswith(_TYPE_ERRORS):
            observed = type(error.get("input")).__name__
            found.append(
                DriftObservation(source, stream, path, "type_changed", observed, error["msg"])
            )
    return found


def _validate(
    record: RawRecord, model: type[Node], report: StreamReport, source: str
) -> Node | None:
    report.read += 1
    if record.error is not None:
        report.quarantined.append(
            Quarantined(source, report.stream, record.location, record.error, record.text)
        )
        return None
    try:
        return model.model_validate_json(record.text)
    except ValidationError as exc:
        report.quarantined.append(
            Quarantined(source, report.stream, record.location, _reason(exc), record.text)
        )
        report.drift.update(_schema_drift(exc, source, report.stream))
        return None


def _unknown_enum(
    report: StreamReport, source: str, field_name: str, value: str | None, known: frozenset[str]
) -> None:
    if value is not None and value not in known:
        detail = f"{field_name} {value!r} is not one of the contract's values"
        report.drift[
            DriftObservation(source, report.stream, field_name, "unknown_enum", value, detail)
        ] += 1


def _batched(
    records: Iterable[RawRecord],
    model: type[Node],
    report: StreamReport,
    check: Callable[[Node], None],
) -> Iterable[list[Node]]:
    source = STREAMS[report.stream]
    batch: list[Node] = []
    for record in records:
        node = _validate(record, model, report, source)
        if node is None:
            continue
        check(node)
        batch.append(node)
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _last_by_id(nodes: Sequence[Any]) -> list[Any]:
    # The same object twice in one batch (re-recorded) is one record: the last one wins.
    return list({node.id: node for node in nodes}.values())


def _ingest_orders(
    connection: Connection, shop: str, records: Iterable[RawRecord], report: StreamReport
) -> None:
    def check(node: OrderNode) -> None:
        _unknown_enum(
            report, "shopify", "displayFulfillmentStatus", node.displayFulfillmentStatus,
            FULFILLMENT_STATUSES,
        )  # fmt: skip

    for batch in _batched(records, OrderNode, report, check):
        orders = [order_record(node) for node in _last_by_id(batch)]
        report.stored += store.upsert_orders(connection, shop, orders)


def _ingest_variants(
    connection: Connection, shop: str, records: Iterable[RawRecord], report: StreamReport
) -> None:
    def check(node: ProductVariantNode) -> None:
        _unknown_enum(
            report, "shopify", "inventoryPolicy", node.inventoryPolicy, INVENTORY_POLICIES
        )

    for batch in _batched(records, ProductVariantNode, report, check):
        variants = [variant_record(node) for node in _last_by_id(batch)]
        report.stored += store.upsert_variants(connection, shop, variants)


def _ingest_conversations(
    connection: Connection, shop: str, records: Iterable[RawRecord], report: StreamReport
) -> None:
    def check(node: ConversationNode) -> None:
        _unknown_enum(report, "chatwoot", "status", node.status, CONVERSATION_STATUSES)

    for batch in _batched(records, ConversationNode, report, check):
        conversations = [conversation_record(node) for node in _last_by_id(batch)]
        report.stored += store.upsert_conversations(connection, shop, conversations)
        embedded = [message for c in conversations for message in c.messages]
        store.upsert_messages(connection, shop, embedded)


def _ingest_messages(
    connection: Connection, shop: str, records: Iterable[RawRecord], report: StreamReport
) -> None:
    for batch in _batched(records, MessageNode, report, lambda node: None):
        messages = [message_record(node) for node in _last_by_id(batch)]
        report.stored += store.upsert_messages(connection, shop, messages)


def _report_rows(
    response: RunReportResponse, location: str, report: StreamReport
) -> list[LandingPageDay]:
    dimensions = [header.name for header in response.dimensionHeaders]
    metrics = [header.name for header in response.metricHeaders]
    if "landingPage" not in dimensions or "date" not in dimensions or "sessions" not in metrics:
        reason = (
            "report lacks dimension landingPage/date or metric sessions "
            f"(has {dimensions} and {metrics})"
        )
        report.quarantined.append(Quarantined("ga4", report.stream, location, reason, ""))
        return []
    page_at, date_at, sessions_at = (
        dimensions.index("landingPage"),
        dimensions.index("date"),
        metrics.index("sessions"),
    )
    days = []
    for index, raw_row in enumerate(response.rows):
        where = f"{location} rows[{index}]"
        report.read += 1
        try:
            row = ReportRow.model_validate(raw_row)
            raw_date = row.dimensionValues[date_at].value
            day = datetime.strptime(raw_date, "%Y%m%d").date()
            sessions = int(row.metricValues[sessions_at].value)
            page = row.dimensionValues[page_at].value
        except (ValidationError, ValueError, IndexError) as exc:
            reason = _reason(exc) if isinstance(exc, ValidationError) else str(exc)
            report.quarantined.append(
                Quarantined("ga4", report.stream, where, reason, str(raw_row))
            )
            continue
        days.append(LandingPageDay(page, day, sessions))
    return days


def _ingest_landing_pages(
    connection: Connection, shop: str, records: Iterable[RawRecord], report: StreamReport
) -> None:
    days: list[LandingPageDay] = []
    for record in records:
        report.read -= 1  # the response itself is not a record; its rows are
        response = _validate(record, RunReportResponse, report, "ga4")
        if response is not None:
            days.extend(_report_rows(response, record.location, report))
    report.stored += store.upsert_landing_page_days(connection, shop, days)


_INGESTERS: dict[str, Callable[[Connection, str, Iterable[RawRecord], StreamReport], None]] = {
    "shopify.orders": _ingest_orders,
    "shopify.variants": _ingest_variants,
    "chatwoot.conversations": _ingest_conversations,
    "chatwoot.messages": _ingest_messages,
    "ga4.landing_pages": _ingest_landing_pages,
}


def ingest_stream(
    connection: Connection, shop: str, stream: str, records: Iterable[RawRecord] | None
) -> StreamReport:
    """Validate and upsert one stream; ``records`` None means the stream was not recorded."""
    report = StreamReport(stream=stream, recorded=records is not None)
    if records is not None:
        _INGESTERS[stream](connection, shop, records, report)
    return report
