"""The sync run: pending outbox entries → idempotent upserts on the mirror, every attempt logged.

How one run goes, batch by batch (``sync_batch_size`` entries):

1. Claim. On Postgres the batch is selected ``FOR UPDATE SKIP LOCKED`` in a primary
   transaction that stays open while it is delivered: concurrent workers take disjoint
   batches, and a crashed worker's claim ends with its connection. SQLite has one writer and
   nothing is locked; a second worker would only repeat deliveries the version guard ignores.
2. Deliver, retried by tenacity (full-jitter exponential wait, at most
   ``sync_attempts_per_run`` attempts) for retryable failures only. One attempt = one mirror
   transaction upserting the batch's decisions and facts. When it has committed or failed,
   the attempt writes one sync event per entry, in its own small primary transaction.
3. Mark. Only after the mirror committed are the entries marked sent (in the claim
   transaction). A crash in between leaves them pending; their next delivery is a no-op
   (``version`` guard) recorded as ``SKIPPED``.

The Postgres claim is held through the backoff waits of its batch (at most
``sync_attempts_per_run - 1`` waits of up to 30 s). A batch still failing after its attempts
ends the run (the mirror is down: the rest would fail alike) and its entries stay pending
with their last error; an entry that reaches ``sync_max_attempts`` becomes dead, kept and
listed until ``retry_dead``. A non-retryable failure (permission denied, schema mismatch)
ends the run with :class:`SyncAborted`.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity import wait_random_exponential as full_jitter
from tenacity.stop import stop_base

from occ.config import Settings
from occ.decisions.connect import mirror_engine, mirror_transaction
from occ.decisions.events import AttemptRecord, record_attempts
from occ.decisions.failures import HINTS, Failure, classify
from occ.decisions.mirror import MirrorSchema, prepare_mirror, upsert_decisions, upsert_facts
from occ.errors import MirrorError
from occ.store.engine import masked_url
from occ.store.outbox import (
    ClaimedEntry,
    EntryOutcome,
    claim_pending,
    outbox_counts,
    record_outcomes,
    referenced_rows,
    revive_dead,
)

__all__ = ["SyncAborted", "SyncReport", "sync_outbox"]

_BACKOFF_S = 0.5  # full jitter: attempt n waits uniform(0, min(_BACKOFF_S * 2**(n-1), max))
_BACKOFF_MAX_S = 30.0


@dataclass(slots=True)
class SyncReport:
    """What one sync run did.

    Attributes:
        sent: entries the mirror took (inserted or updated).
        skipped: entries delivered as no-ops (the mirror already had that version or newer).
        failed: entries left pending after failed attempts in this run.
        dead: entries that reached ``sync_max_attempts`` in this run.
        revived: dead entries put back to pending (``retry_dead``).
        attempts: sync events written (one per entry per attempt).
        error: the failure that ended the run early (``CODE: message``), None if none.
    """

    mirror: str
    worker_id: str
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    dead: int = 0
    revived: int = 0
    attempts: int = 0
    notices: list[str] = field(default_factory=list)
    error: str | None = None
    error_code: str | None = None
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the run delivered everything it claimed."""
        return self.error is None and self.failed == 0 and self.dead == 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ok": self.ok}


class SyncAborted(MirrorError):
    """A non-retryable mirror failure stopped the run; ``report`` says what was done before."""

    def __init__(self, message: str, report: SyncReport) -> None:
        super().__init__(message)
        self.report = report


class _AttemptFailed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _mirror_secrets(url: str) -> tuple[str, ...]:
    try:
        password = make_url(url).password
    except ArgumentError:
        return ()
    return (str(password),) if password else ()


class _Run:
    """One sync run's state: the mirror's shape (read once), the report, the injected clock."""

    def __init__(
        self,
        primary: Engine,
        mirror: Engine,
        settings: Settings,
        report: SyncReport,
        now: Callable[[], datetime],
        sleep: Callable[[float], None],
        secrets: tuple[str, ...],
    ) -> None:
        self.primary, self.mirror, self.settings, self.report = primary, mirror, settings, report
        self.now, self.sleep, self.secrets = now, sleep, secrets
        self.schema: MirrorSchema | None = None

    def _record(self, records: list[AttemptRecord], started: float) -> None:
        duration_ms = (time.perf_counter() - started) * 1000
        record_attempts(
            self.primary, records, duration_ms=duration_ms, at=self.now(), secrets=self.secrets
        )
        self.report.attempts += len(records)

    def _write(
        self, carriers: dict[tuple[str, str], ClaimedEntry], rows: dict[tuple[str, str], Any]
    ) -> set[tuple[str, str]]:
        timeout = self.settings.sync_timeout_seconds
        schema = self.prepared()
        payload = {kind: [] for kind in ("decision", "fact")}  # type: dict[str, list[Any]]
        for (kind, ref), entry in carriers.items():
            payload[kind].append(rows[kind, ref] | {"version": entry.version})
        with mirror_transaction(self.mirror, timeout) as connection:
            changed = {
                ("decision", i) for i in upsert_decisions(connection, schema, payload["decision"])
            }
            changed |= {("fact", i) for i in upsert_facts(connection, schema, payload["fact"])}
        return changed

    def prepared(self) -> MirrorSchema:
        """The mirror's tables, created when absent and read once per run (notices kept)."""
        if self.schema is None:
            timeout = self.settings.sync_timeout_seconds
            self.schema = prepare_mirror(self.mirror, timeout_seconds=timeout)
            self.report.notices.extend(self.schema.notices)
        return self.schema

    def prepare(self) -> None:
        """Create the mirror's tables though nothing was delivered (an explicit sync).

        Raises:
            SyncAborted: the mirror refused for good (permission, schema).
        """
        try:
            self.prepared()
        except (SQLAlchemyError, MirrorError) as exc:
            self.fail(classify(exc, self.secrets))

    def deliver(
        self, entries: Sequence[ClaimedEntry], rows: dict[tuple[str, str], Any]
    ) -> tuple[list[EntryOutcome], Failure | None]:
        """Deliver one claimed batch, retrying what is retryable; return each entry's outcome."""
        outcomes: list[EntryOutcome] = []
        missing = [e for e in entries if (e.kind, e.ref_id) not in rows]
        if missing:  # nothing to mirror: never retried, kept as dead and listed
            why = "the row is no longer in the primary store; nothing to mirror"
            self._record(
                [_event(e, e.attempts + 1, "FAILED", "MISSING", why) for e in missing],
                time.perf_counter(),
            )
            outcomes += [
                EntryOutcome(e.id, "dead", e.attempts + 1, "MISSING", why) for e in missing
            ]
            self.report.dead += len(missing)
        live = [e for e in entries if (e.kind, e.ref_id) in rows]
        if not live:
            return outcomes, None
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.sync_attempts_per_run) | _NothingLeft(live),
            wait=full_jitter(multiplier=_BACKOFF_S, max=_BACKOFF_MAX_S),
            retry=retry_if_exception(_retryable),
            sleep=self.sleep,
            reraise=True,
        )
        number = 0
        try:
            for attempt in retrying:
                with attempt:
                    number = attempt.retry_state.attempt_number
                    self._attempt(live, rows, number, outcomes)
        except _AttemptFailed as exc:
            failure = exc.failure
            outcomes += [
                EntryOutcome(e.id, "pending", e.attempts + number, failure.code, failure.message)
                for e in live
            ]
            self.report.failed += len(live)
            return outcomes, failure
        return outcomes, None

    def _attempt(
        self,
        live: list[ClaimedEntry],
        rows: dict[tuple[str, str], Any],
        number: int,
        outcomes: list[EntryOutcome],
    ) -> None:
        """Attempt ``number`` of this run for the ``live`` entries (emptied on success)."""
        carriers: dict[tuple[str, str], ClaimedEntry] = {}
        for entry in live:  # one row per (kind, ref): the highest version carries it
            key = (entry.kind, entry.ref_id)
            if key not in carriers or carriers[key].version < entry.version:
                carriers[key] = entry
        started = time.perf_counter()
        try:
            changed = self._write(carriers, rows)
        except (SQLAlchemyError, MirrorError) as exc:
            failure = classify(exc, self.secrets)
            self._record(
                [
                    _event(e, e.attempts + number, failure.status, failure.code, failure.message)
                    for e in live
                ],
                started,
            )
            limit = self.settings.sync_max_attempts
            dead = [e for e in live if e.attempts + number >= limit]
            outcomes += [
                EntryOutcome(e.id, "dead", e.attempts + number, failure.code, failure.message)
                for e in dead
            ]
            self.report.dead += len(dead)
            live[:] = [e for e in live if e.attempts + number < limit]
            raise _AttemptFailed(failure) from exc
        records: list[AttemptRecord] = []
        for entry in live:
            key = (entry.kind, entry.ref_id)
            if carriers[key] is entry and key in changed:
                records.append(_event(entry, entry.attempts + number, "SUCCESS"))
                self.report.sent += 1
            else:
                note = (
                    "the mirror already has this version or a newer one"
                    if carriers[key] is entry
                    else f"superseded by version {carriers[key].version} in the same delivery"
                )
                records.append(_event(entry, entry.attempts + number, "SKIPPED", None, note))
                self.report.skipped += 1
            outcomes.append(EntryOutcome(entry.id, "sent", entry.attempts + number))
        self._record(records, started)
        live.clear()

    def batch(self, on_progress: Callable[[str], None] | None, total: int) -> bool:
        """Claim, deliver and mark one batch; False when nothing is left or the run must end.

        Raises:
            SyncAborted: a non-retryable failure (after its entries' errors were stored).
        """
        lock = self.primary.dialect.name == "postgresql"
        with self.primary.connect() as claim:
            entries = claim_pending(claim, self.settings.sync_batch_size, lock=lock)
            if not entries:
                return False
            rows = referenced_rows(claim, entries)
            if not lock:
                claim.commit()  # SQLite: hold no transaction while the mirror is written
            outcomes, failure = self.deliver(entries, rows)
            if on_progress is not None:
                done = self.report.sent + self.report.skipped
                on_progress(f"mirrored {done} of {total} entries")
            record_outcomes(claim, outcomes, self.now())
            claim.commit()
        if failure is None:
            return True
        self.fail(failure)
        return False

    def fail(self, failure: Failure) -> None:
        """Report ``failure``; the run ends (a retryable one waits for the next run).

        Raises:
            SyncAborted: ``failure`` is not retryable.
        """
        self.report.error = f"{failure.code}: {failure.message}"
        self.report.error_code = failure.code
        if failure.retryable:
            return
        hint = HINTS.get(failure.code, "fix the mirror, then run `occ decisions sync` again")
        message = (
            failure.message
            if failure.code in ("42703", "42P10") and "mirror table" in failure.message
            else f"the mirror {self.report.mirror} refused the sync "
            f"({failure.code}: {failure.message}); {hint}"
        )
        raise SyncAborted(message, self.report)


class _NothingLeft(stop_base):
    """Stop retrying once every entry of the batch reached its maximum total of attempts."""

    def __init__(self, live: list[ClaimedEntry]) -> None:
        self.live = live

    def __call__(self, retry_state: RetryCallState) -> bool:
        return not self.live


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, _AttemptFailed) and exc.failure.retryable


def _event(
    entry: ClaimedEntry,
    attempt: int,
    status: str,
    code: str | None = None,
    message: str | None = None,
) -> AttemptRecord:
    return AttemptRecord(
        entry.id, entry.kind, entry.ref_id, entry.scope, attempt, status, code, message
    )


def sync_outbox(
    primary: Engine,
    mirror_url: str,
    settings: Settings,
    *,
    now: Callable[[], datetime] = _utcnow,
    sleep: Callable[[float], None] = time.sleep,
    worker_id: str | None = None,
    retry_dead: bool = False,
    on_progress: Callable[[str], None] | None = None,
    create_mirror: bool = False,
) -> SyncReport:
    """Push every pending outbox entry to the mirror at ``mirror_url``; see the module doc.

    Safe to run in several workers at once on a Postgres primary. ``sleep`` is the backoff's
    (tests pass a recorder); ``on_progress`` gets a line after each batch was delivered.
    With ``create_mirror`` (an operator's explicit sync) the mirror's tables are created and
    checked even when nothing is pending, so that parity has a mirror to compare; the worker's
    continuous runs leave the mirror alone until there is something to deliver.

    Raises:
        ConfigError: the mirror URL is malformed or names a missing driver.
        SyncAborted: a non-retryable mirror failure (a ``MirrorError``; exit code 6).
    """
    started = time.perf_counter()
    worker = worker_id or f"{socket.gethostname()}:{os.getpid()}"
    report = SyncReport(mirror=masked_url(mirror_url), worker_id=worker)
    mirror = mirror_engine(
        mirror_url,
        timeout_seconds=settings.sync_timeout_seconds,
        application_name=f"occ-sync {worker}",
    )
    run = _Run(primary, mirror, settings, report, now, sleep, _mirror_secrets(mirror_url))
    try:
        with primary.begin() as connection:
            if retry_dead:
                report.revived = revive_dead(connection, now())
            total = sum(
                n for (_, status), n in outbox_counts(connection).items() if status == "pending"
            )
        while run.batch(on_progress, total):
            pass
        if create_mirror and run.schema is None and report.error is None:
            run.prepare()
    finally:
        mirror.dispose()
        report.duration_s = round(time.perf_counter() - started, 3)
    return report
