"""The request pacer the live connectors and the site crawler share (occ.sources.http.Pacer)."""

from __future__ import annotations

import threading
import time

import pytest

from occ.sources.http import Pacer


class FakeTime:
    """A clock that only moves when something sleeps; remembers each thread's last reading.

    ``yield_to_others`` lets other threads run inside every reading and sleep (as a real
    clock and sleep would), so callers that do not take turns would interleave.
    """

    def __init__(self, yield_to_others: float = 0.0) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.read_by: dict[int, float] = {}
        self._lock = threading.Lock()
        self._yield = yield_to_others

    def sleep(self, seconds: float) -> None:
        time.sleep(self._yield)
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def clock(self) -> float:
        time.sleep(self._yield)
        with self._lock:
            self.read_by[threading.get_ident()] = self.now
            return self.now


def test_a_fractional_rate_spaces_starts_and_counts_time_already_passed() -> None:
    time_ = FakeTime()
    pacer = Pacer(120.0, time_.sleep, time_.clock)  # a crawl's 2 per second
    pacer.wait()
    pacer.wait()
    time_.now += 0.2  # the request itself took 0.2 s
    pacer.wait()
    time_.now += 0.7  # longer than the interval: no wait at all
    pacer.wait()
    assert time_.sleeps == [0.5, pytest.approx(0.3)]


def test_a_retry_waits_its_backoff_or_the_interval_whichever_is_longer() -> None:
    time_ = FakeTime()
    pacer = Pacer(60, time_.sleep, time_.clock)
    pacer.wait()
    pacer.wait(at_least=0.25)
    pacer.wait(at_least=4.0)
    assert time_.sleeps == [1.0, 4.0]


def test_threads_sharing_a_pacer_start_one_interval_apart() -> None:
    time_ = FakeTime(yield_to_others=0.005)
    pacer = Pacer(120.0, time_.sleep, time_.clock)
    callers = 4
    together = threading.Barrier(callers)

    def request() -> None:
        together.wait()
        pacer.wait()

    threads = [threading.Thread(target=request) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Each caller's last clock reading is the start the pacer booked for it.
    assert sorted(time_.read_by.values()) == [0.0, 0.5, 1.0, 1.5]
