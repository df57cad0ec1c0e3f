"""HTTP for the live connectors: retries with backoff and jitter, error translation, evidence.

One place per adapter translates library errors (httpx's ``map_httpcore_exceptions`` idea):
401/403 become :class:`CredentialsRejected`, exhausted 429s :class:`RateLimited`, exhausted
5xx/timeouts :class:`UpstreamUnavailable`. Retrying is tenacity's job (full-jitter exponential
wait, a stop limit); a ``Retry-After`` header is honoured when it asks for longer.

Every response (also the failed ones) is handed to an :data:`EvidenceSink` with its request
metadata, never with credentials: headers are not recorded at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from occ import __version__
from occ.config import Settings
from occ.contracts.evidence import Evidence, EvidenceSink
from occ.errors import CredentialsRejected, RateLimited, SourceError, UpstreamUnavailable

__all__ = [
    "Evidence",
    "EvidenceSink",
    "Pacer",
    "RetryPolicy",
    "RetryableResponse",
    "connector_client",
    "discard_evidence",
    "send",
]


class Pacer:
    """Spaces requests at least ``60 / per_minute`` seconds apart, retries included.

    ``per_minute`` may be fractional (a crawl's 2 per second is 120 per minute). Threads
    sharing one pacer take turns: a caller waits while another sleeps, so starts stay spaced
    however many are in flight (the site crawler fetches with several threads).
    """

    def __init__(
        self, per_minute: float, sleep: Callable[[float], None], clock: Callable[[], float]
    ) -> None:
        self.interval = 60.0 / per_minute
        self._sleep = sleep
        self._clock = clock
        self._last: float | None = None
        self._turn = threading.Lock()

    def wait(self, at_least: float = 0.0) -> None:
        """Sleep ``at_least`` seconds, longer if the previous request was too recent."""
        with self._turn:
            delay = at_least
            if self._last is not None:
                delay = max(delay, self._last + self.interval - self._clock())
            if delay > 0:
                self._sleep(delay)
            self._last = self._clock()


def discard_evidence(_: Evidence) -> None:
    """An evidence sink that keeps nothing (``occ sources check``)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry a retryable failure."""

    max_attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 30.0
    timeout: float = 30.0


class RetryableResponse(Exception):
    """A response worth retrying (429, 5xx); carries it for the final translation."""

    def __init__(self, response: httpx.Response, wait: float | None = None) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.wait = wait


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableResponse | httpx.TimeoutException | httpx.TransportError)


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    jitter = wait_random_exponential(multiplier=policy.initial_wait, max=policy.max_wait)

    def wait(state: RetryCallState) -> float:
        outcome = state.outcome
        failure = outcome.exception() if outcome is not None else None
        asked = failure.wait if isinstance(failure, RetryableResponse) else None
        return max(jitter(state), asked or 0.0)

    return wait


def send(
    client: httpx.Client,
    request: httpx.Request,
    *,
    source: str,
    credential_hint: str,
    evidence: EvidenceSink,
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    api_version: str | None = None,
    params: Mapping[str, Any] | None = None,
    stream: bool = False,
    answered: Collection[int] = (),
) -> httpx.Response:
    """Send ``request``, retrying what is retryable; return a 2xx/3xx response, or one whose
    status is in ``answered`` (a 4xx the caller reads as an answer, e.g. 404 for "deleted").

    ``stream`` leaves a successful body unread (the caller iterates and closes the response;
    its evidence then has an empty body); failed answers are read and recorded as usual.

    Raises:
        CredentialsRejected: 401 or 403 (``credential_hint`` says which setting to check).
        RateLimited: still 429 after ``policy.max_attempts``.
        UpstreamUnavailable: still 5xx, timing out or unreachable after ``policy.max_attempts``.
    """
    endpoint = request.url.copy_with(query=None).path

    def attempt() -> httpx.Response:
        started = time.perf_counter()
        response = client.send(request, stream=stream)
        body = response.read() if not stream or response.status_code >= 300 else b""
        evidence(
            Evidence(
                source=source,
                endpoint=endpoint,
                method=request.method,
                status=response.status_code,
                fetched_at=datetime.now(UTC),
                latency_ms=round((time.perf_counter() - started) * 1000, 3),
                body=body,
                api_version=api_version,
                params=dict(params or {}),
            )
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableResponse(response, _retry_after(response))
        return response

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=_wait(policy),
        retry=retry_if_exception(_is_retryable),
        sleep=sleep,
        reraise=True,
    )
    host = request.url.host
    try:
        response = retrying(attempt)
    except RetryableResponse as exc:
        status = exc.response.status_code
        if status == 429:
            raise RateLimited(
                f"{source} kept answering 429 (rate limited) after {policy.max_attempts} "
                "attempts; wait and refresh again"
            ) from None
        raise UpstreamUnavailable(
            f"{source} at {host} answered HTTP {status} {policy.max_attempts} times; "
            "check the service's status and refresh again"
        ) from None
    except httpx.TimeoutException:
        raise UpstreamUnavailable(
            f"{source} at {host} timed out {policy.max_attempts} times; check the host and "
            "network, or raise the timeout"
        ) from None
    except httpx.TransportError as exc:
        raise UpstreamUnavailable(
            f"{source} at {host} is unreachable ({type(exc).__name__}); check {credential_hint} "
            "and the network"
        ) from None
    if response.status_code in answered:
        return response
    if response.status_code in (401, 403):
        raise CredentialsRejected(
            f"{source} rejected the credentials (HTTP {response.status_code}); "
            f"check {credential_hint}"
        )
    if response.status_code >= 400:
        raise SourceError(
            f"{source} answered HTTP {response.status_code} for {endpoint}; check {credential_hint}"
        )
    return response


@contextmanager
def connector_client(settings: Settings, role: str = "") -> Iterator[httpx.Client]:
    """The HTTP client of the live connectors, whoever runs them (CLI, dashboard, worker).

    The configured timeout on every request, occ's user agent (``role`` named in it), and no
    redirect followed: an API answering with a redirect means a wrong base URL, which the
    connectors report rather than follow.
    """
    note = f"; {role}" if role else ""
    with httpx.Client(
        timeout=settings.http_timeout_seconds,
        headers={"User-Agent": f"occ/{__version__} (+operator control center{note})"},
        follow_redirects=False,
    ) as client:
        yield client
