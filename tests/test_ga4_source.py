"""The GA4 connector: the official client library over real HTTP against a fake GA4 on loopback.

The library's REST transport talks to a local endpoint, and the real google-auth service-account
flow signs a JWT grant with a generated key and fetches its access token from the fake's
``/token`` route: nothing is patched.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials

from fakes.ga4_server import (
    ACCESS_TOKEN,
    INTERNAL,
    PERMISSION_DENIED,
    PROPERTY_ID,
    RESOURCE_EXHAUSTED,
    RUN_REPORT,
    Ga4Fake,
    google_error,
    landing_rows,
)
from fakes.loopback import Reply, Request
from occ.config import Settings
from occ.contracts.evidence import Evidence
from occ.contracts.ga4 import ReportRow, RunReportResponse
from occ.errors import (
    ConfigError,
    CredentialsRejected,
    RateLimited,
    SourceError,
    UpstreamUnavailable,
)
from occ.sources.ga4 import Ga4Client, analytics_client, ga4_client, load_credentials
from occ.sources.http import RetryPolicy

TODAY = date(2026, 11, 26)


class FakeTime:
    """A monotonic clock that only moves when something sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[Ga4Fake]:
    with Ga4Fake(landing_rows(TODAY, pages=3)).running() as running:
        yield running


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture
def evidence() -> list[Evidence]:
    return []


def _client(
    fake: Ga4Fake,
    folder: Path,
    time_: FakeTime,
    evidence: list[Evidence],
    *,
    base_url: str | None = None,
    max_attempts: int = 3,
    timeout: float = 5.0,
    page_size: int = 25,
    max_pages: int = 50,
) -> Ga4Client:
    credentials = load_credentials(fake.service_account_file(folder))
    return Ga4Client(
        analytics_client(credentials, base_url or fake.base_url),
        PROPERTY_ID,
        evidence=evidence.append,
        policy=RetryPolicy(max_attempts=max_attempts, timeout=timeout),
        sleep=time_.sleep,
        clock=time_.clock,
        api_host="127.0.0.1",
        page_size=page_size,
        max_pages=max_pages,
    )


def _secrets(fake: Ga4Fake, folder: Path) -> list[str]:
    """The access token and a piece of the private key from the key file."""
    key = json.loads((folder / "ga4-service-account.json").read_text())["private_key"]
    return [ACCESS_TOKEN, key.splitlines()[5]]


def test_reads_every_page_of_the_report_in_the_rest_json_shape(
    fake: Ga4Fake, tmp_path: Path, time_: FakeTime, evidence: list[Evidence]
) -> None:
    records = list(_client(fake, tmp_path, time_, evidence).iter_reports(TODAY))

    assert len(records) == 3  # 63 rows, 25 per page
    reports = [RunReportResponse.model_validate_json(record.text) for record in records]
    rows = [ReportRow.model_validate(row) for report in reports for row in report.rows]
    assert len(rows) == 63 and {report.rowCount for report in reports} == {63}
    assert [h.name for h in reports[0].dimensionHeaders] == ["landingPage", "date"]
    assert [h.name for h in reports[0].metricHeaders] == ["sessions"]
    days = {row.dimensionValues[1].value for row in rows}
    assert min(days) == "20261105" and max(days) == "20261125" and len(days) == 21
    bodies = [request.json() for request in fake.requests_to(RUN_REPORT)]
    assert [int(body.get("offset", 0)) for body in bodies] == [0, 25, 50]
    assert {int(body["limit"]) for body in bodies} == {25}
    assert bodies[0]["dateRanges"] == [{"startDate": "2026-11-05", "endDate": "2026-11-25"}]
    assert bodies[0]["dimensions"] == [{"name": "landingPage"}, {"name": "date"}]
    assert bodies[0]["metrics"] == [{"name": "sessions"}]
    assert records[1].location == f"ga4 {RUN_REPORT} 2026-11-05..2026-11-25 offset=25"
    # The real service-account flow: one signed JWT grant, then the bearer token on each call.
    assert fake.tokens_issued == 1
    assert all(
        r.headers["authorization"] == f"Bearer {ACCESS_TOKEN}" for r in fake.requests_to(RUN_REPORT)
    )


def test_client_from_settings_uses_the_key_file_and_default_page_size(
    tmp_path: Path, time_: FakeTime, evidence: list[Evidence]
) -> None:
    with Ga4Fake(landing_rows(TODAY, pages=500)).running() as fake:  # 10,500 rows
        settings = Settings(
            ga4_property_id=f"properties/{PROPERTY_ID}",
            ga4_credentials_file=fake.service_account_file(tmp_path),
            ga4_base_url=fake.base_url,
        )
        client = ga4_client(settings, evidence.append, sleep=time_.sleep, clock=time_.clock)
        assert client is not None
        client.check()
        (probe,) = [request.json() for request in fake.requests_to(RUN_REPORT)]
        assert probe["limit"] == "1"
        assert probe["dateRanges"] == [{"startDate": "7daysAgo", "endDate": "yesterday"}]
        records = list(client.iter_reports(TODAY))
    assert [len(json.loads(r.text)["rows"]) for r in records] == [10_000, 500]
    assert fake.tokens_issued == 1


def test_requests_are_paced_within_the_budget(
    fake: Ga4Fake, tmp_path: Path, time_: FakeTime, evidence: list[Evidence]
) -> None:
    list(_client(fake, tmp_path, time_, evidence).iter_reports(TODAY))
    assert time_.sleeps == [3.0, 3.0]  # 20 requests per minute at most


def test_429_with_retry_after_is_honoured(
    fake: Ga4Fake, tmp_path: Path, time_: FakeTime, evidence: list[Evidence]
) -> None:
    throttled = google_error(429, "RESOURCE_EXHAUSTED", "Exhausted concurrent requests quota.")
    throttled.headers["Retry-After"] = "11"
    fake.script(RUN_REPORT, throttled)
    records = list(_client(fake, tmp_path, time_, evidence).iter_reports(TODAY))
    assert len(records) == 3
    assert time_.sleeps[0] == 11.0
    assert [e.status for e in evidence] == [429, 200, 200, 200]


def test_exhausted_quota_ends_in_rate_limited(
    fake: Ga4Fake, tmp_path: Path, time_: FakeTime, evidence: list[Evidence]
) -> None:
    fake.script(RUN_REPORT, RESOURCE_EXHAUSTED, RESOURCE_EXHAUSTED, RESOURCE_EXHAUSTED)
    with pytest.raises(RateLimited) as caught:
        list(_client(fake, tmp_path, time_, evidence).iter_reports(TODAY))
    message = str(caught.value)
    assert message.startswith("ga4 kept answering 429") and "after 3 attempts" in message
    assert len(fake.requests_to(RUN_REPORT)) == 3 and len(time_.sleeps) == 2


def test_500_then_success(
    fake: Ga4Fake, tmp_path: Path, time_: FakeTime, evidence: list[Evidence]
) -> None:
    fake.script(RUN_REPORT, INTERNAL)
    records = list(_client(fake, tmp_path, time_, evidence).iter_reports(TODAY))
    assert len(records) == 3
    assert [e.status for e in evidence] == [500, 200, 200, 200]


def test_server_errors_stop_after_three_per_refresh(
    fake: Ga4Fake, tmp_path: Path, time_: FakeTime, evidence: list[Evidence]
) -> None:
    fake.script(RUN_REPORT, *[INTERNAL] * 5)
    client = _client(fake, tmp_path, time_, evidence, max_attempts=5)
    with pytest.raises(UpstreamUnavailable, match="answered HTTP 500 3 times"):
        list(client.iter_reports(TODAY))
    assert len(fake.requests_to(RUN_REPORT)) == 3


def test_timeouts_end_in_upstream_unavailable(
    fake: Ga4Fake, tmp_path: Path, time_: FakeTime, evidence: list[Evidence]
) -> None:
    slow = Reply(200, {}, delay=0.6)
    fake.script(RUN_REPORT, slow, slow)
    client = _client(fake, tmp_path, time_, evidence, max_attempts=2, timeout=0.2)
    with pytest.raises(UpstreamUnavailable) as caught:
        list(client.iter_reports(TODAY))
    message = str(caught.value)
    assert message.startswith("ga4 at 127.0.0.1 timed out 2 times") and "\n" not in message


def test_a_revoked_key_names_the_credentials_file_and_leaks_nothing(
    fake: Ga4Fake, tmp_path: Path, time_: FakeTime, evidence: list[Evidence]
) -> None:
    fake.revoked = True
    with pytest.raises(CredentialsRejected) as caught:
        list(_client(fake, tmp_path, time_, evidence).iter_reports(TODAY))
    message = str(caught.value)
    assert "OCC_GA4_CREDENTIALS_FILE" in message and "invalid_grant" in message
    assert not any(secret in message for secret in _secrets(fake, tmp_path))
    assert "\n" not in message and fake.requests_to(RUN_REPORT) == []


def test_a_property_without_access_names_the_property_setting(
    fake: Ga4Fake, tmp_path: Path, time_: FakeTime, evidence: list[Evidence]
) -> None:
    fake.script(RUN_REPORT, PERMISSION_DENIED)
    with pytest.raises(CredentialsRejected) as caught:
        list(_client(fake, tmp_path, time_, evidence).iter_reports(TODAY))
    message = str(caught.value)
    assert "HTTP 403" in message and "OCC_GA4_PROPERTY_ID" in message
    assert not any(secret in message for secret in _secrets(fake, tmp_path))


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(200, raw=b"<html>Sign in</html>", headers={"Content-Type": "text/html"}),
         "a body that is not runReport JSON"),
        (Reply(200, {"rows": "many"}), "a body that is not runReport JSON"),
        (Reply(200, {}), "without the requested headers"),
    ],
)  # fmt: skip
def test_a_malformed_body_is_one_line_source_error(
    fake: Ga4Fake,
    tmp_path: Path,
    time_: FakeTime,
    evidence: list[Evidence],
    reply: Reply,
    expected: str,
) -> None:
    fake.script(RUN_REPORT, reply)
    with pytest.raises(SourceError) as caught:
        list(_client(fake, tmp_path, time_, evidence).iter_reports(TODAY))
    message = str(caught.value)
    assert expected in message and "OCC_GA4_BASE_URL" in message and "\n" not in message


def test_a_report_that_never_reaches_its_row_count_is_bounded(
    fake: Ga4Fake, tmp_path: Path, time_: FakeTime, evidence: list[Evidence]
) -> None:
    def endless(request: Request) -> Reply:
        offset = int(request.json().get("offset", 0))
        rows = [
            {"dimensionValues": [{"value": f"/p{offset + i}"}, {"value": "20261120"}],
             "metricValues": [{"value": "1"}]}
            for i in range(25)
        ]  # fmt: skip
        headers: dict[str, Any] = {
            "dimensionHeaders": [{"name": "landingPage"}, {"name": "date"}],
            "metricHeaders": [{"name": "sessions", "type": "TYPE_INTEGER"}],
        }
        return Reply(200, {**headers, "rows": rows, "rowCount": 10**9})

    fake.server.route("POST", RUN_REPORT, endless)
    client = _client(fake, tmp_path, time_, evidence, max_pages=4)
    with pytest.raises(SourceError, match="did not reach its rowCount after 4 pages"):
        list(client.iter_reports(TODAY))
    assert len(fake.requests_to(RUN_REPORT)) == 4


def test_evidence_holds_each_answer_and_its_quota_but_no_secret(
    fake: Ga4Fake, tmp_path: Path, time_: FakeTime, evidence: list[Evidence]
) -> None:
    fake.script(RUN_REPORT, RESOURCE_EXHAUSTED)
    records = list(_client(fake, tmp_path, time_, evidence).iter_reports(TODAY))

    assert [e.status for e in evidence] == [429, 200, 200, 200]
    assert [e.body.decode() for e in evidence[1:]] == [r.text for r in records]
    for item in evidence:
        assert item.source == "ga4" and item.method == "POST" and item.api_version == "v1beta"
        assert item.endpoint == RUN_REPORT and item.latency_ms >= 0
        for text in (item.body.decode(), json.dumps(dict(item.params)), item.endpoint):
            assert not any(secret in text for secret in _secrets(fake, tmp_path))
    assert evidence[1].params == {
        "startDate": "2026-11-05",
        "endDate": "2026-11-25",
        "offset": 0,
        "limit": 25,
    }
    assert evidence[1].cost is not None and "tokensPerHour" in evidence[1].cost


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_endpoint_names_the_base_url_setting(
    fake: Ga4Fake, tmp_path: Path, time_: FakeTime, evidence: list[Evidence]
) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}"
    client = _client(fake, tmp_path, time_, evidence, base_url=closed, max_attempts=2)
    with pytest.raises(UpstreamUnavailable) as caught:
        list(client.iter_reports(TODAY))
    message = str(caught.value)
    assert "is unreachable" in message and "OCC_GA4_BASE_URL" in message


def test_configuration_errors_are_one_line(tmp_path: Path) -> None:
    assert ga4_client(Settings()) is None
    with pytest.raises(ConfigError, match="set OCC_GA4_CREDENTIALS_FILE too"):
        ga4_client(Settings(ga4_property_id=PROPERTY_ID))
    with pytest.raises(ConfigError, match="set OCC_GA4_PROPERTY_ID too"):
        ga4_client(Settings(ga4_credentials_file=tmp_path / "key.json"))
    missing = Settings(ga4_property_id=PROPERTY_ID, ga4_credentials_file=tmp_path / "none.json")
    with pytest.raises(ConfigError, match=r"none.json cannot be read \(No such file"):
        ga4_client(missing)
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"type": "service_account", "private_key": "-----BEGIN nonsense"}')
    with pytest.raises(ConfigError, match="is not a service-account JSON key"):
        ga4_client(Settings(ga4_property_id=PROPERTY_ID, ga4_credentials_file=garbage))
    with pytest.raises(ConfigError, match="must be the property's numeric id"):
        ga4_client(Settings(ga4_property_id="G-ABC123", ga4_credentials_file=garbage))
    with pytest.raises(ConfigError, match="OCC_GA4_BASE_URL must be"):
        analytics_client(AnonymousCredentials(), "localhost")  # type: ignore[no-untyped-call]
