"""Job locks: a lease per job name in the ``job_lock`` table, so two workers never run one job.

A lease is one row ``(name, holder, acquired_at, expires_at)``. Taking it is one atomic
statement on SQLite and PostgreSQL alike::

    INSERT INTO job_lock … ON CONFLICT (name) DO UPDATE SET holder = :me, …
    WHERE job_lock.expires_at < :now OR job_lock.holder = :me
    RETURNING holder

which inserts a free lock, takes over an expired one, extends one's own, and leaves a live
lease of another holder untouched (no row returned). The holder renews its lease while the job
runs (``held_lock``) and deletes the row when done; a worker that crashed holds its locks only
until their lease ends. Times come from the worker's clock, so the lease must be longer than
the clock skew between the workers' hosts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from occ.errors import StoreError
from occ.store.engine import masked_url
from occ.store.tables import JobLock

__all__ = [
    "JOB_LOCKS",
    "Lease",
    "LockHolder",
    "acquire_lock",
    "held_lock",
    "lock_holder",
    "release_lock",
    "renew_lock",
]

JOB_LOCKS = cast(Table, JobLock.__table__)
_log = logging.getLogger("occ.worker")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a lock, since when and until when."""

    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


def _store_error(engine: Engine, action: str, exc: SQLAlchemyError) -> StoreError:
    return StoreError(
        f"cannot {action} in {masked_url(str(engine.url))}: {type(exc).__name__}; "
        "check the database"
    )


def acquire_lock(
    engine: Engine, name: str, holder: str, *, lease_seconds: float, now: datetime | None = None
) -> bool:
    """Take the lock ``name`` for ``holder`` for ``lease_seconds``; False if another holds it.

    Re-acquiring one's own lock extends it; an expired lease of any holder is taken over.

    Raises:
        StoreError: the database failed.
    """
    moment = now or _utcnow()
    values: dict[str, Any] = {
        "name": name,
        "holder": holder,
        "acquired_at": moment,
        "expires_at": moment + timedelta(seconds=lease_seconds),
    }
    insert_of = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    inserted = insert_of(JOB_LOCKS).values(values)
    taken = (JOB_LOCKS.c.expires_at < moment) | (JOB_LOCKS.c.holder == holder)
    statement = inserted.on_conflict_do_update(
        index_elements=[JOB_LOCKS.c.name],
        set_={
            "holder": inserted.excluded.holder,
            "acquired_at": inserted.excluded.acquired_at,
            "expires_at": inserted.excluded.expires_at,
        },
        where=taken,
    ).returning(JOB_LOCKS.c.holder)
    try:
        with engine.begin() as connection:
            row = connection.execute(statement).first()
    except SQLAlchemyError as exc:
        raise _store_error(engine, f"take the job lock {name}", exc) from exc
    return row is not None and row[0] == holder


def renew_lock(
    engine: Engine, name: str, holder: str, *, lease_seconds: float, now: datetime | None = None
) -> bool:
    """Extend ``holder``'s lease on ``name``; False when it no longer holds it.

    Raises:
        StoreError: the database failed.
    """
    moment = now or _utcnow()
    statement = (
        update(JOB_LOCKS)
        .where(JOB_LOCKS.c.name == name, JOB_LOCKS.c.holder == holder)
        .values(expires_at=moment + timedelta(seconds=lease_seconds))
    )
    try:
        with engine.begin() as connection:
            return connection.execute(statement).rowcount == 1
    except SQLAlchemyError as exc:
        raise _store_error(engine, f"renew the job lock {name}", exc) from exc


def release_lock(engine: Engine, name: str, holder: str) -> bool:
    """Give the lock ``name`` back; False when ``holder`` did not hold it (nothing changes).

    Raises:
        StoreError: the database failed.
    """
    statement = delete(JOB_LOCKS).where(JOB_LOCKS.c.name == name, JOB_LOCKS.c.holder == holder)
    try:
        with engine.begin() as connection:
            return connection.execute(statement).rowcount == 1
    except SQLAlchemyError as exc:
        raise _store_error(engine, f"release the job lock {name}", exc) from exc


def lock_holder(engine: Engine, name: str) -> LockHolder | None:
    """The row of lock ``name`` (its lease may have expired), None when nobody took it.

    Raises:
        StoreError: the database failed.
    """
    try:
        with engine.connect() as connection:
            row = connection.execute(select(JOB_LOCKS).where(JOB_LOCKS.c.name == name)).first()
    except SQLAlchemyError as exc:
        raise _store_error(engine, f"read the job lock {name}", exc) from exc
    if row is None:
        return None
    return LockHolder(row.name, row.holder, row.acquired_at, row.expires_at)


class Lease:
    """A lock taken by ``held_lock``: ``acquired`` tells whether this holder got it.

    While held, a daemon thread renews it every third of the lease, so a job longer than the
    lease keeps it; ``lost`` turns True if a renewal found it taken over.
    """

    def __init__(
        self,
        engine: Engine,
        name: str,
        holder: str,
        lease_seconds: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine, self.name, self.holder = engine, name, holder
        self.lease_seconds, self.clock = lease_seconds, clock
        self.acquired = False
        self.lost = False
        self._done = threading.Event()
        self._renewer: threading.Thread | None = None

    def _renew_until_done(self) -> None:
        while not self._done.wait(self.lease_seconds / 3):
            try:
                held = renew_lock(
                    self.engine,
                    self.name,
                    self.holder,
                    lease_seconds=self.lease_seconds,
                    now=self.clock(),
                )
            except StoreError as exc:
                _log.warning("lock %s: renewal failed (%s); retrying", self.name, exc)
                continue
            if not held:
                self.lost = True
                _log.warning("lock %s: lease lost to another worker", self.name)
                return

    def start(self) -> None:
        """Acquire the lock and, if taken, start renewing it."""
        self.acquired = acquire_lock(
            self.engine,
            self.name,
            self.holder,
            lease_seconds=self.lease_seconds,
            now=self.clock(),
        )
        if self.acquired:
            self._renewer = threading.Thread(
                target=self._renew_until_done, name=f"lease {self.name}", daemon=True
            )
            self._renewer.start()

    def stop(self) -> None:
        """Stop renewing and release the lock (a failed release only logs: the lease ends)."""
        self._done.set()
        if self._renewer is not None:
            self._renewer.join()
        if not self.acquired:
            return
        try:
            release_lock(self.engine, self.name, self.holder)
        except StoreError as exc:
            _log.warning("lock %s: not released (%s); its lease will end", self.name, exc)


@contextmanager
def held_lock(
    engine: Engine,
    name: str,
    holder: str,
    *,
    lease_seconds: float,
    clock: Callable[[], datetime] = _utcnow,
) -> Iterator[Lease]:
    """Try the lock ``name``; inside, ``lease.acquired`` says whether to run. Released after.

    Raises:
        StoreError: the database failed while taking the lock.
    """
    lease = Lease(engine, name, holder, lease_seconds, clock)
    lease.start()
    try:
        yield lease
    finally:
        lease.stop()
