"""Validate every raw record against its contract and store what is valid.

A record that violates its contract is neither dropped nor half-read: it is quarantined with
its raw text and the reason, and counted. An enum value the contract does not know is kept,
interpreted as KPIS.md says, and reported as drift. A type change or a missing field is both
quarantined and reported as drift (the upstream schema moved).

Records are handled in batches: each batch is validated and turned into the store's driver
rows (:mod:`occ.store.rows`), then written through the caller's connection, inside its
transaction. A large stream (more than one batch) is validated by worker processes (one per
core), a few batches ahead, while this process writes the batches already validated: on a
first load validation costs far more than the inserts, and the inserts cannot leave the
transaction's connection. A recorded JSON-lines file travels to the workers as chunks of raw
lines (:class:`occ.sources.jsonl.LineChunk`), which they split, decode and locate
themselves; on SQLite a batch comes back as a serialized database image
(:func:`occ.store.upsert.row_batch`), so this process neither touches each line nor binds
each value. Batches are written in stream order and workers only validate, so the outcome
(rows, quarantine, drift) is the same as validating here, and a failure anywhere still
leaves nothing written.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date
from itertools import chain, islice
from multiprocessing.context import BaseContext
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection

from occ.contracts.chatwoot import CONVERSATION_STATUSES, ConversationNode, MessageNode
from occ.contracts.ga4 import ReportRow, RunReport, RunReportResponse
from occ.contracts.records import LandingPageDay
from occ.contracts.shopify import (
    FULFILLMENT_STATUSES,
    INVENTORY_POLICIES,
    OrderNode,
    ProductVariantNode,
)
from occ.refresh.normalize import conversation_rows, message_row, order_rows, variant_row
from occ.sources.base import STREAMS, RawRecord
from occ.sources.jsonl import JsonLinesFile, LineChunk
from occ.store import records as store
from occ.store import rows
from occ.store.runs import DriftObservation, Quarantined
from occ.store.tables import (
    ChatwootConversation,
    ChatwootMessage,
    GaLandingPageDay,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyVariant,
)
from occ.store.upsert import DriverValues, Row, RowBatch, bulk_load, driver_values, row_batch

__all__ = ["IngestResult", "STREAM_TABLES", "StreamReport", "ingest_stream"]

_BATCH = 10_000
# The store's tables each stream writes.
STREAM_TABLES: dict[str, tuple[str, ...]] = {
    "shopify.orders": (ShopifyOrder.__tablename__, ShopifyLineItem.__tablename__),
    "shopify.variants": (ShopifyVariant.__tablename__,),
    "chatwoot.conversations": (
        ChatwootConversation.__tablename__,
        ChatwootMessage.__tablename__,
    ),
    "chatwoot.messages": (ChatwootMessage.__tablename__,),
    "ga4.landing_pages": (GaLandingPageDay.__tablename__,),
}
# Worker processes for a large stream: past three, this process's inserts are the bottleneck.
_MAX_WORKERS = 3
# Batches submitted per worker before waiting for the oldest: enough that no worker runs dry
# while this process writes, few enough to bound the memory.
_QUEUED_PER_WORKER = 2
_WORKER_NICENESS = 5
_WORKER_GC_THRESHOLD = 100_000
_TYPE_ERRORS = ("_type", "_parsing", "value_error")

# What one batch becomes: the stream's main rows and their child rows (line items of orders,
# messages embedded in conversations).
_Tables = tuple[RowBatch, RowBatch]
# One record's rows: its upstream id (the last record of an id wins), its row, its child rows.
_RecordRows = tuple[Any, Row, list[Row]]


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


def _expected(message: str) -> str:
    # pydantic says "Input should be a valid integer": keep what it should be.
    return message.removeprefix("Input should be ").removeprefix("Value error, ")


def _got(error: Any) -> str:
    shown = repr(error.get("input"))
    return f"{type(error.get('input')).__name__} {shown[:40]}{'…' if len(shown) > 40 else ''}"


def _reason(exc: ValidationError) -> str:
    """Each violation as field path, expected and got (at most three), one line."""
    parts = []
    for error in exc.errors(include_url=False)[:3]:
        if error["type"] == "json_invalid":
            parts.append(f"malformed JSON ({error['msg'].removeprefix('Invalid JSON: ')})")
            continue
        where = ".".join(str(part) for part in error["loc"]) or "record"
        if error["type"] == "missing":
            parts.append(f"{where}: required field missing")
            continue
        parts.append(f"{where}: expected {_expected(error['msg'])}, got {_got(error)}")
    more = len(exc.errors()) - 3
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _schema_drift(exc: ValidationError, source: str, stream: str) -> list[DriftObservation]:
    """Type changes and missing fields: the upstream's shape moved (not mere corruption)."""
    found = []
    for error in exc.errors(include_url=False):
        kind = error["type"]
        path = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
        if kind == "missing":
            detail = f"{path} is missing, the contract requires it"
            found.append(DriftObservation(source, stream, path, "missing_field", "", detail))
        elif kind != "json_invalid" and kind.endswith(_TYPE_ERRORS):
            observed = type(error.get("input")).__name__
            detail = f"expected {_expected(error['msg'])}, got {observed}"
            found.append(DriftObservation(source, stream, path, "type_changed", observed, detail))
    return found


def _unknown_enum(
    drift: Counter[DriftObservation],
    stream: str,
    field_name: str,
    value: str | None,
    known: frozenset[str],
) -> None:
    if value is not None and value not in known:
        detail = f"{field_name} {value!r} is not one of the contract's values"
        source = STREAMS[stream]
        drift[DriftObservation(source, stream, field_name, "unknown_enum", value, detail)] += 1


# --- one record: contract model → the store's driver rows ----------------------------------


def _order(shop: str, node: Any, values: DriverValues, drift: Counter[Any]) -> _RecordRows:
    _unknown_enum(
        drift, "shopify.orders", "displayFulfillmentStatus", node.displayFulfillmentStatus,
        FULFILLMENT_STATUSES,
    )  # fmt: skip
    order, lines = order_rows(shop, node, values)
    return node.id, order, lines


def _variant(shop: str, node: Any, values: DriverValues, drift: Counter[Any]) -> _RecordRows:
    _unknown_enum(
        drift, "shopify.variants", "inventoryPolicy", node.inventoryPolicy, INVENTORY_POLICIES
    )
    return node.id, variant_row(shop, node, values), []


def _conversation(shop: str, node: Any, values: DriverValues, drift: Counter[Any]) -> _RecordRows:
    _unknown_enum(drift, "chatwoot.conversations", "status", node.status, CONVERSATION_STATUSES)
    conversation, messages = conversation_rows(shop, node, values)
    return node.id, conversation, messages


def _message(shop: str, node: Any, values: DriverValues, drift: Counter[Any]) -> _RecordRows:
    return node.id, message_row(shop, node, values), []


def _write_orders(connection: Connection, tables: _Tables) -> int:
    return rows.write_orders(connection, *tables)


def _write_variants(connection: Connection, tables: _Tables) -> int:
    return rows.write_variants(connection, tables[0])


def _write_conversations(connection: Connection, tables: _Tables) -> int:
    stored = rows.write_conversations(connection, tables[0])
    rows.write_messages(connection, tables[1])
    return stored


def _write_messages(connection: Connection, tables: _Tables) -> int:
    return rows.write_messages(connection, tables[0])


@dataclass(frozen=True)
class _RecordStream:
    """How one JSON-lines stream is validated, turned into rows and written."""

    model: type[BaseModel]
    rows: Callable[[str, Any, DriverValues, Counter[Any]], _RecordRows]
    write: Callable[[Connection, _Tables], int]


_RECORD_STREAMS: dict[str, _RecordStream] = {
    "shopify.orders": _RecordStream(OrderNode, _order, _write_orders),
    "shopify.variants": _RecordStream(ProductVariantNode, _variant, _write_variants),
    "chatwoot.conversations": _RecordStream(ConversationNode, _conversation, _write_conversations),
    "chatwoot.messages": _RecordStream(MessageNode, _message, _write_messages),
}


# --- one batch: validated wherever it runs, written here ----------------------------------


# A batch as it travels to where it is validated: records, or whole lines of a file (split
# and decoded where they are validated, so that this process does not touch each line).
_RawBatch = list[RawRecord] | LineChunk


@dataclass
class _Batch:
    """What one batch became: rows of the valid records, the records read, the problems."""

    tables: _Tables
    read: int
    problems: list[tuple[str, str, str]]  # location, reason, raw text; in record order
    drift: Counter[DriftObservation]


def _validate_batch(stream: str, shop: str, dialect: str, raw: _RawBatch) -> _Batch:
    """Validate the records of one batch and turn the valid ones into driver rows.

    Each model becomes plain row tuples at once, so that a batch keeps no model alive: a
    batch of live pydantic models makes the cyclic garbage collector rescan the whole heap.
    """
    spec = _RECORD_STREAMS[stream]
    source = STREAMS[stream]
    values = driver_values(dialect)
    # What model_validate_json calls, without its per-call Python wrapper.
    validate = spec.model.__pydantic_validator__.validate_json
    to_rows = spec.rows
    problems: list[tuple[str, str, str]] = []
    drift: Counter[DriftObservation] = Counter()
    main: dict[Any, Row] = {}
    children: dict[Any, list[Row]] = {}

    def accept(node: Any) -> None:
        # The same object twice in one batch (re-recorded) is one record: the last one wins.
        key, row, child_rows = to_rows(shop, node, values, drift)
        main[key] = row
        children[key] = child_rows

    def check(record: RawRecord) -> None:
        if record.error is not None:
            problems.append((record.location, record.error, record.text))
            return
        try:
            node = validate(record.text)
        except ValidationError as exc:
            problems.append((record.location, _reason(exc), record.text))
            drift.update(_schema_drift(exc, source, stream))
            return
        accept(node)

    if not isinstance(raw, LineChunk):
        for record in raw:
            check(record)
        return _Batch(_tables(main, children, dialect), len(raw), problems, drift)
    read = 0
    for number, line in raw.lines():
        read += 1
        try:  # the bytes as they are: pydantic refuses what is not UTF-8 JSON
            node = validate(line)
        except ValidationError:
            check(raw.record(number, line))  # the same record, located and decoded
            continue
        accept(node)
    return _Batch(_tables(main, children, dialect), read, problems, drift)


def _tables(main: dict[Any, Row], children: dict[Any, list[Row]], dialect: str) -> _Tables:
    return (
        row_batch(list(main.values()), dialect),
        row_batch([row for group in children.values() for row in group], dialect),
    )


def _raw_batches(records: Iterable[RawRecord], size: int) -> Iterator[_RawBatch]:
    if isinstance(records, JsonLinesFile):
        yield from records.chunks(size)
        return
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def _worker_started() -> None:
    # Everything imported so far lives as long as the worker: keep the collector off it.
    gc.freeze()
    # A batch allocates a few hundred thousand acyclic objects, freed by reference counting:
    # collecting the young generation every 700 of them is wasted work.
    gc.set_threshold(_WORKER_GC_THRESHOLD)
    # Batches are written in order by this process alone: it must never wait for a core.
    os.nice(_WORKER_NICENESS)


def _worker_count() -> int:
    """One worker per core: this process's share (the inserts; reading records that do not come
    from a file) is the smaller one, and leaving it a core of its own measured slower."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return min(cores, _MAX_WORKERS) if cores > 1 else 0


def _start_pool(workers: int) -> ProcessPoolExecutor | None:
    """Worker processes, or None where the platform cannot start them (then work here)."""
    context: BaseContext
    if "forkserver" in multiprocessing.get_all_start_methods():
        # Forked from a server that imported this module once: no per-worker import time,
        # and no fork of this process (its threads and open database connection).
        server = multiprocessing.get_context("forkserver")
        server.set_forkserver_preload([__name__])
        context = server
    else:
        context = multiprocessing.get_context("spawn")
    try:
        return ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_started)
    except (OSError, NotImplementedError):
        return None


def _ingest_records(
    connection: Connection,
    shop: str,
    records: Iterable[RawRecord],
    report: StreamReport,
    *,
    workers: int,
    batch_size: int,
    on_progress: Callable[[int], None],
) -> None:
    stream_name = report.stream
    spec = _RECORD_STREAMS[stream_name]
    source = STREAMS[stream_name]
    dialect = connection.dialect.name

    def write(batch: _Batch) -> None:
        report.read += batch.read
        for location, reason, text in batch.problems:
            report.quarantined.append(Quarantined(source, stream_name, location, reason, text))
        report.drift.update(batch.drift)
        report.stored += spec.write(connection, batch.tables)
        on_progress(report.read)

    def here(raw: _RawBatch) -> None:
        write(_validate_batch(stream_name, shop, dialect, raw))

    batches = _raw_batches(records, batch_size)
    head = list(islice(batches, 2))
    pool = _start_pool(workers) if len(head) > 1 and workers > 0 else None
    stream = chain(head, batches)
    if pool is None:
        for raw in stream:
            here(raw)
        return
    # Batches not yet written, oldest first, each with its worker's future once submitted.
    ahead: deque[tuple[_RawBatch, Future[_Batch] | None]] = deque()

    def write_oldest(keep: int) -> None:
        while len(ahead) > keep:
            future = ahead[0][1]
            assert future is not None
            write(future.result())
            ahead.popleft()

    try:
        for raw in stream:
            ahead.append((raw, None))  # kept for the fallback below should the submit fail
            ahead[-1] = (raw, pool.submit(_validate_batch, stream_name, shop, dialect, raw))
            write_oldest(_QUEUED_PER_WORKER * workers)
        write_oldest(0)
    except BrokenProcessPool:
        # A worker could not start or died (e.g. it cannot re-import this __main__): validate
        # the rest here. Only whole batches were written, in order, so nothing is lost.
        for raw in chain([raw for raw, _ in ahead], stream):
            here(raw)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --- GA4: one response, many rows -----------------------------------------------------------


def _ga4_date(raw: str) -> date:
    """GA4's ``date`` dimension (``YYYYMMDD``, eight ASCII digits) as a date.

    Raises:
        ValueError: ``raw`` is not a day written that way; the message is the row's
            quarantine reason (``raw`` JSON-quoted, so that it stays one line).
    """
    if len(raw) == 8 and raw.isascii() and raw.isdigit():
        try:
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        except ValueError:
            why = ": no such day"  # e.g. 20261131
    else:
        why = ""
    quoted = json.dumps(raw, ensure_ascii=False)
    raise ValueError(f"date {quoted} is not a GA4 date (YYYYMMDD){why}")


def _ga4_sessions(raw: str) -> int:
    """GA4's ``sessions`` metric (a count, sent as ASCII digits) as an int.

    Raises:
        ValueError: ``raw`` is not a whole number of at least 0; the message is the row's
            quarantine reason.
    """
    if raw.isascii() and raw.isdigit():
        return int(raw)
    quoted = json.dumps(raw, ensure_ascii=False)
    raise ValueError(f"sessions {quoted} is not a count of sessions (digits 0-9 only)")


_Columns = tuple[int, int, int]  # where landingPage, date and sessions are in a report's rows


def _columns(response: RunReport | RunReportResponse) -> _Columns | str:
    """Where landingPage, date and sessions are in the rows, or why the report has none."""
    dimensions = [header.name for header in response.dimensionHeaders]
    metrics = [header.name for header in response.metricHeaders]
    if "landingPage" not in dimensions or "date" not in dimensions or "sessions" not in metrics:
        return (
            "report lacks dimension landingPage/date or metric sessions "
            f"(has {dimensions} and {metrics})"
        )
    return dimensions.index("landingPage"), dimensions.index("date"), metrics.index("sessions")


def _day(row: ReportRow, columns: _Columns, dates: dict[str, date]) -> LandingPageDay:
    """One row as a page's sessions on a day (``dates``: the days already converted).

    Raises:
        ValueError: the row has no such date, count or column; the message is its quarantine
            reason.
    """
    page_at, date_at, sessions_at = columns
    dimensions, metrics = row.dimensionValues, row.metricValues
    if len(dimensions) <= max(page_at, date_at) or len(metrics) <= sessions_at:
        raise ValueError(
            f"row has {len(dimensions)} dimension and {len(metrics)} metric value(s); the"
            f" report's headers name at least {max(page_at, date_at) + 1} and {sessions_at + 1}"
        )
    raw_day = dimensions[date_at].value
    day = dates.get(raw_day)
    if day is None:
        day = dates[raw_day] = _ga4_date(raw_day)
    sessions = _ga4_sessions(metrics[sessions_at].value)
    return LandingPageDay(dimensions[page_at].value, day, sessions)


def _clean_report_days(text: str) -> list[LandingPageDay] | None:
    """The days of a response that is valid throughout, read in one pass; None otherwise."""
    try:
        response = RunReport.model_validate_json(text)
    except ValidationError:
        return None
    columns = _columns(response)
    if isinstance(columns, str):
        return None
    dates: dict[str, date] = {}  # a report spans a few dozen days
    try:
        return [_day(row, columns, dates) for row in response.rows]
    except ValueError:
        return None


def _report_rows(
    response: RunReportResponse, location: str, report: StreamReport
) -> list[LandingPageDay]:
    columns = _columns(response)
    if isinstance(columns, str):
        report.quarantined.append(Quarantined("ga4", report.stream, location, columns, ""))
        return []
    days = []
    dates: dict[str, date] = {}
    validate = ReportRow.model_validate
    for index, raw_row in enumerate(response.rows):
        report.read += 1
        try:
            days.append(_day(validate(raw_row), columns, dates))
        except (ValidationError, ValueError) as exc:
            reason = _reason(exc) if isinstance(exc, ValidationError) else str(exc)
            report.quarantined.append(
                Quarantined("ga4", report.stream, f"{location} rows[{index}]", reason, str(raw_row))
            )
    return days


def _ingest_landing_pages(
    connection: Connection, shop: str, records: Iterable[RawRecord], report: StreamReport
) -> None:
    days: list[LandingPageDay] = []
    with store.paused_collector():  # a report is a few hundred thousand acyclic objects
        _read_reports(records, days, report)
    report.stored += store.upsert_landing_page_days(connection, shop, days)


def _read_reports(
    records: Iterable[RawRecord], days: list[LandingPageDay], report: StreamReport
) -> None:
    for record in records:
        if record.error is not None:
            report.quarantined.append(
                Quarantined("ga4", report.stream, record.location, record.error, record.text)
            )
            continue
        clean = _clean_report_days(record.text)
        if clean is not None:
            report.read += len(clean)
            days.extend(clean)
            continue
        try:  # read again row by row: each bad row is located and kept aside
            response = RunReportResponse.model_validate_json(record.text)
        except ValidationError as exc:
            report.quarantined.append(
                Quarantined("ga4", report.stream, record.location, _reason(exc), record.text)
            )
            report.drift.update(_schema_drift(exc, "ga4", report.stream))
            continue
        days.extend(_report_rows(response, record.location, report))


def ingest_stream(
    connection: Connection,
    shop: str,
    stream: str,
    records: Iterable[RawRecord] | None,
    *,
    workers: int | None = None,
    batch_size: int = _BATCH,
    on_progress: Callable[[int], None] | None = None,
) -> StreamReport:
    """Validate and upsert one stream; ``records`` None means the stream was not recorded.

    Args:
        connection: The refresh's connection; every row is written through it.
        shop: The shop domain the records belong to.
        stream: A name of :data:`occ.sources.base.STREAMS`.
        records: The stream's raw records, or None when it was not recorded.
        workers: Worker processes validating a stream of more than one batch (default: one
            per core, at most three, none on a single core); 0 validates here.
        batch_size: Records per batch (lines per chunk of a JSON-lines file).
        on_progress: Called with the number of records read so far after each stored batch.
    """
    report = StreamReport(stream=stream, recorded=records is not None)
    if records is None:
        return report
    if stream == "ga4.landing_pages":
        _ingest_landing_pages(connection, shop, records, report)
    else:
        with bulk_load(connection):
            _ingest_records(
                connection,
                shop,
                records,
                report,
                workers=_worker_count() if workers is None else workers,
                batch_size=batch_size,
                on_progress=on_progress or (lambda _: None),
            )
    return report
