"""Job locks: one holder at a time, taken over after the lease, released, renewed while held.

Every test runs against a fresh migrated store on SQLite and on the real PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, create_engine

from conftest import NOW
from occ.errors import StoreError
from occ.worker.locks import acquire_lock, held_lock, lock_holder, release_lock, renew_lock

LEASE = 60.0


def test_a_second_holder_cannot_take_a_live_lease(engine: Engine) -> None:
    assert acquire_lock(engine, "job:sync", "worker-a", lease_seconds=LEASE, now=NOW)

    later = NOW + timedelta(seconds=LEASE - 1)
    assert not acquire_lock(engine, "job:sync", "worker-b", lease_seconds=LEASE, now=later)

    holder = lock_holder(engine, "job:sync")
    assert holder is not None
    assert (holder.holder, holder.acquired_at, holder.expires_at) == (
        "worker-a",
        NOW,
        NOW + timedelta(seconds=LEASE),
    )


def test_an_expired_lease_is_taken_over(engine: Engine) -> None:
    acquire_lock(engine, "job:sync", "worker-a", lease_seconds=LEASE, now=NOW)

    after = NOW + timedelta(seconds=LEASE + 1)
    assert acquire_lock(engine, "job:sync", "worker-b", lease_seconds=LEASE, now=after)

    holder = lock_holder(engine, "job:sync")
    assert holder is not None and holder.holder == "worker-b"
    # the first holder lost it: it can neither renew nor release it any more
    assert not renew_lock(engine, "job:sync", "worker-a", lease_seconds=LEASE, now=after)
    assert not release_lock(engine, "job:sync", "worker-a")
    assert lock_holder(engine, "job:sync") == holder


def test_release_frees_the_lock_for_the_next_holder(engine: Engine) -> None:
    acquire_lock(engine, "job:sync", "worker-a", lease_seconds=LEASE, now=NOW)

    assert release_lock(engine, "job:sync", "worker-a")

    assert lock_holder(engine, "job:sync") is None
    assert acquire_lock(engine, "job:sync", "worker-b", lease_seconds=LEASE, now=NOW)


def test_locks_of_different_jobs_are_independent(engine: Engine) -> None:
    assert acquire_lock(engine, "job:sync", "worker-a", lease_seconds=LEASE, now=NOW)
    assert acquire_lock(engine, "job:health", "worker-b", lease_seconds=LEASE, now=NOW)
    assert not acquire_lock(engine, "job:health", "worker-a", lease_seconds=LEASE, now=NOW)


def test_the_holder_extends_its_own_lease(engine: Engine) -> None:
    acquire_lock(engine, "job:sync", "worker-a", lease_seconds=LEASE, now=NOW)
    later = NOW + timedelta(seconds=LEASE - 5)

    assert renew_lock(engine, "job:sync", "worker-a", lease_seconds=LEASE, now=later)
    # past the first lease, but inside the renewed one: still held
    past_first = NOW + timedelta(seconds=LEASE + 5)
    assert not acquire_lock(engine, "job:sync", "worker-b", lease_seconds=LEASE, now=past_first)
    # acquiring again as the holder extends it too
    assert acquire_lock(engine, "job:sync", "worker-a", lease_seconds=LEASE, now=past_first)
    holder = lock_holder(engine, "job:sync")
    assert holder is not None
    assert holder.expires_at == past_first + timedelta(seconds=LEASE)


def test_racing_holders_get_the_lock_exactly_once(engine: Engine) -> None:
    start = threading.Barrier(8)
    winners: list[str] = []

    def contend(name: str) -> None:
        start.wait()
        if acquire_lock(engine, "job:race", name, lease_seconds=LEASE):
            winners.append(name)

    threads = [threading.Thread(target=contend, args=(f"worker-{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(winners) == 1
    holder = lock_holder(engine, "job:race")
    assert holder is not None and holder.holder == winners[0]


def test_held_lock_renews_a_lease_shorter_than_the_job_and_releases_it(engine: Engine) -> None:
    lease = 0.3
    with held_lock(engine, "job:long", "worker-a", lease_seconds=lease) as held:
        assert held.acquired
        time.sleep(3 * lease)  # three leases long: only the renewals keep it
        assert not acquire_lock(engine, "job:long", "worker-b", lease_seconds=lease)
        assert not held.lost
    assert lock_holder(engine, "job:long") is None


def test_held_lock_releases_when_the_job_raises(engine: Engine) -> None:
    with pytest.raises(RuntimeError):
        with held_lock(engine, "job:sync", "worker-a", lease_seconds=LEASE) as held:
            assert held.acquired
            raise RuntimeError("the job failed")
    assert lock_holder(engine, "job:sync") is None


def test_held_lock_not_acquired_leaves_the_other_holder_alone(engine: Engine) -> None:
    acquire_lock(engine, "job:sync", "worker-a", lease_seconds=LEASE)

    with held_lock(engine, "job:sync", "worker-b", lease_seconds=LEASE) as held:
        assert not held.acquired

    holder = lock_holder(engine, "job:sync")
    assert holder is not None and holder.holder == "worker-a"


def test_an_unreachable_database_is_a_store_error_without_the_password() -> None:
    engine = create_engine(
        "postgresql+psycopg://occ:s3cret-pw@127.0.0.1:1/occ", connect_args={"connect_timeout": 2}
    )
    with pytest.raises(StoreError) as raised:
        acquire_lock(engine, "job:sync", "worker-a", lease_seconds=LEASE)
    assert "s3cret-pw" not in str(raised.value)
    assert "127.0.0.1:1" in str(raised.value)
