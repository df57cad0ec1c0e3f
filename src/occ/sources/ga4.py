"""GA4 Data API connector: landing-page sessions per day, through Google's official client.

``runReport`` on ``properties/{OCC_GA4_PROPERTY_ID}`` with the dimensions ``landingPage`` and
``date`` and the metric ``sessions``, for the ``ga4_days`` days before ``today``, ordered by date
then landing page and read page by page with ``limit``/``offset`` until ``rowCount``. Each
response page becomes one record in the REST JSON shape (``dimensionHeaders``,
``metricHeaders``, ``rows``, ``rowCount``), as the ``ga4.landing_pages`` stream expects. The
client library (``google-analytics-data``) does the HTTP over its REST transport; credentials
come from a service-account key file with the ``analytics.readonly`` scope.

Quota and request budget: GA4 charges core-report requests in tokens per property — a
standard property has 200,000 tokens per day, 40,000 per hour and 14,000 per project per hour,
10 concurrent requests and 10 server errors per project per hour (Analytics 360: ten times
the tokens, 50 concurrent requests, 50 server errors). occ sends runReport requests one at a
time (1 of the 10 concurrent requests), at most 20 per minute (one per three seconds, retries
included), at most 50 pages per refresh, and stops retrying server errors after 3 per
refresh. A refresh is usually 1 to 3 requests (10,000 rows each); Google says most requests
cost under 10 tokens, so a refresh spends a few dozen of the 14,000 hourly tokens. Each page's
``propertyQuota`` (asked for with ``returnPropertyQuota``) is kept as the evidence's ``cost``,
so the real spend is visible.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.services.beta_analytics_data.transports.rest import (
    BetaAnalyticsDataRestTransport,
)
from google.analytics.data_v1beta.types import (
    DateRange,
    Dimension,
    Metric,
    OrderBy,
    RunReportRequest,
    RunReportResponse,
)
from google.api_core import exceptions as api_errors
from google.auth import credentials as auth_credentials
from google.auth import exceptions as auth_errors
from google.oauth2 import service_account
from google.protobuf import json_format
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_random_exponential

from occ.config import Settings
from occ.contracts.evidence import Evidence, EvidenceSink
from occ.errors import (
    ConfigError,
    CredentialsRejected,
    OccError,
    RateLimited,
    SourceError,
    UpstreamUnavailable,
)
from occ.sources.base import RawRecord
from occ.sources.http import Pacer, RetryPolicy, discard_evidence

__all__ = ["REQUESTS_PER_MINUTE", "Ga4Client", "analytics_client", "ga4_client", "load_credentials"]

SOURCE = "ga4"
ANALYTICS_READONLY = "https://www.googleapis.com/auth/analytics.readonly"
GOOGLE_HOST = "analyticsdata.googleapis.com"
API_VERSION = "v1beta"
PAGE_SIZE = 10_000
REQUESTS_PER_MINUTE = 20
SERVER_ERRORS_PER_REFRESH = 3
_TRANSIENT = (api_errors.TooManyRequests, api_errors.ServerError, auth_errors.TransportError,
              requests.exceptions.Timeout, requests.exceptions.ConnectionError)  # fmt: skip


def load_credentials(path: Path) -> service_account.Credentials:
    """The service account of the key file ``path``, scoped to read Analytics data.

    Raises:
        ConfigError: the file is missing, unreadable or not a service-account key.
    """
    read_key: Callable[..., service_account.Credentials] = (
        service_account.Credentials.from_service_account_file
    )
    try:
        loaded = read_key(str(path), scopes=[ANALYTICS_READONLY])
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"OCC_GA4_CREDENTIALS_FILE {path} cannot be read ({reason}); point it at the "
            "service account's JSON key file"
        ) from None
    except (ValueError, KeyError, TypeError, IndexError):
        raise ConfigError(
            f"OCC_GA4_CREDENTIALS_FILE {path} is not a service-account JSON key (client_email, "
            "private_key, token_uri); download a new key of the service account"
        ) from None
    return loaded


def analytics_client(
    credentials: auth_credentials.Credentials, base_url: str | None = None
) -> BetaAnalyticsDataClient:
    """The official client over its REST transport, at Google or at ``base_url``.

    Raises:
        ConfigError: ``base_url`` is not an http(s) address.
    """
    host, scheme = GOOGLE_HOST, "https"
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                "OCC_GA4_BASE_URL must be an address like https://analyticsdata.googleapis.com"
            )
        host, scheme = parts.netloc + parts.path.rstrip("/"), parts.scheme
    transport = BetaAnalyticsDataRestTransport(
        host=host, url_scheme=scheme, credentials=credentials
    )
    return BetaAnalyticsDataClient(transport=transport)


def _retry_after(exc: BaseException) -> float:
    response = getattr(exc, "response", None)
    value = str(response.headers.get("Retry-After", "")) if response is not None else ""
    return max(0.0, float(value)) if value.isdigit() else 0.0


class Ga4Client:
    """Reads one GA4 property's landing-page sessions.

    Args:
        analytics: The official client (see :func:`analytics_client`).
        property_id: The property's numeric id.
        days: Days read, ending yesterday.
        evidence: Receives every answer as JSON (never a header, so never a token).
        policy: Retries and the per-request timeout.
        sleep: How to wait (tests record the waits instead).
        clock: A monotonic clock for the pacing.
        api_host: The API's host, for messages.
        page_size: Rows per runReport page (``limit``).
        max_pages: Pages read before the pagination is declared endless.
        requests_per_minute: The request budget (see the module docstring).
    """

    def __init__(
        self,
        analytics: BetaAnalyticsDataClient,
        property_id: str,
        *,
        days: int = 21,
        evidence: EvidenceSink = discard_evidence,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        api_host: str = GOOGLE_HOST,
        page_size: int = PAGE_SIZE,
        max_pages: int = 50,
        requests_per_minute: int = REQUESTS_PER_MINUTE,
    ) -> None:
        self._analytics = analytics
        self._property_id = property_id
        self._days = days
        self._evidence = evidence
        self._policy = policy or RetryPolicy()
        self._pacer = Pacer(requests_per_minute, sleep, clock)
        self._api_host = api_host
        self._page_size = page_size
        self._max_pages = max_pages
        self._server_errors = 0
        self.endpoint = f"/{API_VERSION}/properties/{property_id}:runReport"

    def iter_reports(self, today: date) -> Iterator[RawRecord]:
        """runReport pages for ``[today - days, today - 1]``: one record per response page.

        Raises:
            CredentialsRejected: the key or the property access was refused.
            RateLimited: the property's quota stayed exhausted.
            UpstreamUnavailable: server errors, timeouts or no connection, retries spent.
            SourceError: a malformed answer, or a pagination that does not end.
        """
        start, end = (
            (today - timedelta(days=self._days)).isoformat(),
            (today - timedelta(days=1)).isoformat(),
        )
        offset = 0
        for _ in range(self._max_pages):
            response, text = self._run_report(start, end, offset, self._page_size)
            yield RawRecord(f"{SOURCE} {self.endpoint} {start}..{end} offset={offset}", text)
            rows = len(response.rows)
            offset += rows
            if rows == 0 or offset >= response.row_count:
                return
        raise SourceError(
            f"{SOURCE} runReport for property {self._property_id} did not reach its rowCount "
            f"after {self._max_pages} pages; stopped to stay within the quota, check "
            "OCC_GA4_BASE_URL points at the GA4 Data API"
        )

    def check(self) -> None:
        """One one-row runReport proving the key, the endpoint and the property access.

        Raises:
            CredentialsRejected: the key or the property access was refused.
            SourceError: the endpoint is not the GA4 Data API, or it is unavailable.
        """
        self._run_report("7daysAgo", "yesterday", 0, 1)

    def _request(self, start: str, end: str, offset: int, limit: int) -> RunReportRequest:
        def by(name: str) -> OrderBy:
            return OrderBy(dimension=OrderBy.DimensionOrderBy(dimension_name=name))

        return RunReportRequest(
            property=f"properties/{self._property_id}",
            dimensions=[Dimension(name="landingPage"), Dimension(name="date")],
            metrics=[Metric(name="sessions")],
            date_ranges=[DateRange(start_date=start, end_date=end)],
            order_bys=[by("date"), by("landingPage")],
            offset=offset,
            limit=limit,
            return_property_quota=True,
        )

    def _run_report(self, start: str, end: str, offset: int, limit: int) -> tuple[Any, str]:
        """One runReport page and its REST JSON (proto-plus messages are untyped: Any)."""
        request = self._request(start, end, offset, limit)
        params = {"startDate": start, "endDate": end, "offset": offset, "limit": limit}
        retrying = Retrying(
            stop=self._stop,
            wait=self._wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, _TRANSIENT)),
            sleep=self._pacer.wait,
            reraise=True,
        )
        self._pacer.wait()
        try:
            response, text = retrying(self._attempt, request, params)
        except Exception as exc:  # translated in one place: _translate
            attempts = int(retrying.statistics.get("attempt_number", 1))
            translated = _translate(exc, attempts, self._api_host, self._property_id)
            if translated is exc:
                raise
            raise translated from None
        names = (
            [h.name for h in response.dimension_headers],
            [h.name for h in response.metric_headers],
        )
        if names != (["landingPage", "date"], ["sessions"]):
            raise SourceError(
                f"{SOURCE} answered runReport without the requested headers (got {names[0]} "
                f"and {names[1]}); check OCC_GA4_BASE_URL points at the GA4 Data API"
            )
        return response, text

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self._policy.max_attempts:
            return True
        failure = state.outcome.exception() if state.outcome is not None else None
        spent = self._server_errors >= SERVER_ERRORS_PER_REFRESH
        return isinstance(failure, api_errors.ServerError) and spent

    def _wait(self, state: RetryCallState) -> float:
        jitter = wait_random_exponential(
            multiplier=self._policy.initial_wait, max=self._policy.max_wait
        )
        failure = state.outcome.exception() if state.outcome is not None else None
        return max(jitter(state), _retry_after(failure) if failure else 0.0)

    def _attempt(self, request: RunReportRequest, params: Mapping[str, Any]) -> tuple[Any, str]:
        started = time.perf_counter()
        try:
            response = self._analytics.run_report(
                request=request, timeout=self._policy.timeout, retry=None
            )
        except api_errors.GoogleAPICallError as exc:
            if isinstance(exc, api_errors.ServerError):
                self._server_errors += 1
            failed = exc.response
            if isinstance(failed, requests.Response):
                self._record(failed.status_code, failed.content, started, params, None)
            raise
        text = RunReportResponse.to_json(
            response,
            use_integers_for_enums=False,
            indent=None,
            always_print_fields_with_no_presence=False,
        )
        quota = json.loads(text).get("propertyQuota")
        self._record(200, text.encode(), started, params, quota)
        return response, text

    def _record(
        self,
        status: int,
        body: bytes,
        started: float,
        params: Mapping[str, Any],
        cost: Mapping[str, Any] | None,
    ) -> None:
        self._evidence(
            Evidence(
                source=SOURCE,
                endpoint=self.endpoint,
                method="POST",
                status=status,
                fetched_at=datetime.now(UTC),
                latency_ms=round((time.perf_counter() - started) * 1000, 3),
                body=body,
                api_version=API_VERSION,
                params=dict(params),
                cost=cost,
            )
        )


# Library errors → occ's one-line errors (never a token, never the key), first match wins.
_ERRORS: list[tuple[type[Exception] | tuple[type[Exception], ...], type[OccError], str]] = [
    (api_errors.TooManyRequests, RateLimited, "kept answering 429 (property {prop}'s quota is "
     "spent) after {attempts} attempts; wait for the hourly quota to refill and refresh again"),
    (api_errors.ServerError, UpstreamUnavailable, "at {host} answered HTTP {code} {attempts} "
     "times; check Google's status and refresh again"),
    (requests.exceptions.Timeout, UpstreamUnavailable, "at {host} timed out {attempts} times; "
     "check the network, or raise OCC_HTTP_TIMEOUT_SECONDS"),
    (requests.exceptions.ConnectionError, UpstreamUnavailable, "at {host} is unreachable "
     "({name}); check OCC_GA4_BASE_URL (unset means Google) and the network"),
    (auth_errors.RefreshError, CredentialsRejected, "refused the service-account key "
     "({reason}); check OCC_GA4_CREDENTIALS_FILE holds a current key of an enabled account"),
    (auth_errors.TransportError, UpstreamUnavailable, "token endpoint of "
     "OCC_GA4_CREDENTIALS_FILE is unreachable ({name}); check the network"),
    ((api_errors.Unauthorized, api_errors.Forbidden), CredentialsRejected, "refused property "
     "{prop} (HTTP {code}); check OCC_GA4_PROPERTY_ID and that the service account of "
     "OCC_GA4_CREDENTIALS_FILE has Viewer access to it"),
    (api_errors.GoogleAPICallError, SourceError, "refused runReport for property {prop} (HTTP "
     "{code}: {reason}); check OCC_GA4_PROPERTY_ID"),
    (json_format.ParseError, SourceError, "at {host} answered runReport with a body that is not "
     "runReport JSON; check OCC_GA4_BASE_URL points at the GA4 Data API"),
]  # fmt: skip


def _translate(exc: Exception, attempts: int, host: str, prop: str) -> Exception:
    """``exc`` as occ's error, or ``exc`` itself when it is not a known library error."""
    for kinds, error, template in _ERRORS:
        if isinstance(exc, kinds):
            detail = getattr(exc, "message", None) or (str(exc.args[0]) if exc.args else "")
            reason = " ".join(detail.split())[:120]
            fields = {"host": host, "prop": prop, "attempts": attempts, "reason": reason}
            fields |= {"code": getattr(exc, "code", "?"), "name": type(exc).__name__}
            return error(f"{SOURCE} " + template.format(**fields))
    return exc


def ga4_client(
    settings: Settings,
    evidence: EvidenceSink = discard_evidence,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Ga4Client | None:
    """The client the settings describe, or None when GA4 is not configured at all.

    Raises:
        ConfigError: only one of the two GA4 settings is set, the property id is not numeric,
            the key file cannot be used, or the base URL is not http(s).
    """
    property_id, key_file = settings.ga4_property_id, settings.ga4_credentials_file
    if not property_id and key_file is None:
        return None
    if key_file is None:
        raise ConfigError("GA4 is partly configured: set OCC_GA4_CREDENTIALS_FILE too")
    if not property_id:
        raise ConfigError("GA4 is partly configured: set OCC_GA4_PROPERTY_ID too")
    property_id = property_id.strip().removeprefix("properties/")
    if not property_id.isdigit():
        raise ConfigError(
            "OCC_GA4_PROPERTY_ID must be the property's numeric id (Admin > Property details)"
        )
    analytics = analytics_client(load_credentials(key_file), settings.ga4_base_url)
    api_host = urlsplit(settings.ga4_base_url).netloc if settings.ga4_base_url else GOOGLE_HOST
    return Ga4Client(
        analytics,
        property_id,
        days=settings.ga4_days,
        requests_per_minute=settings.ga4_requests_per_minute,
        evidence=evidence,
        policy=RetryPolicy(
            max_attempts=settings.http_max_attempts, timeout=settings.http_timeout_seconds
        ),
        sleep=sleep,
        clock=clock,
        api_host=api_host,
    )
