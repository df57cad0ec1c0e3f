"""The Shopify connector's failure handling over real HTTP against the fake Admin API:
throttling by query cost, THROTTLED, 429, 5xx, timeouts, GraphQL errors, malformed bodies,
endless pagination, rejected credentials — and evidence that never holds a secret."""

from __future__ import annotations

import json
import math
import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from fakes.loopback import Reply, Request
from fakes.shopify_server import (
    BASE_TIME,
    MALFORMED,
    SERVER_ERROR,
    SHOP,
    TOKEN,
    TOO_MANY_REQUESTS,
    Bucket,
    FakeTime,
    ShopifyFake,
    generous_bucket,
    graphql_error,
    make_orders,
)
from occ.contracts.evidence import Evidence
from occ.errors import CredentialsRejected, RateLimited, SourceError, UpstreamUnavailable
from occ.sources.http import RetryPolicy
from occ.sources.shopify import ShopifyClient

SINCE = BASE_TIME - timedelta(days=1)


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def client_for(
    fake: ShopifyFake,
    http: httpx.Client,
    clock: FakeTime,
    evidence: list[Evidence] | None = None,
    *,
    attempts: int = 3,
    timeout: float = 5.0,
    **options: Any,
) -> ShopifyClient:
    options.setdefault("access_token", SecretStr(TOKEN))
    return ShopifyClient(
        http,
        shop=SHOP,
        base_url=fake.base_url,
        evidence=(evidence if evidence is not None else []).append,
        policy=RetryPolicy(max_attempts=attempts, timeout=timeout),
        sleep=clock.sleep,
        clock=clock.clock,
        **options,
    )


def test_waits_for_the_cost_bucket_instead_of_being_throttled(
    http: httpx.Client, clock: FakeTime
) -> None:
    # Shopify's Standard bucket: 1,000 points restored at 50/s; a page of 50 orders with 3
    # line items each costs 852 points, so after each page occ must wait for the refill.
    fake = ShopifyFake(
        orders=make_orders(150, items=lambda _: 3),
        clock=clock.clock,
        bucket=Bucket(maximum=1000, restore_rate=50, available=1000, clock=clock.clock),
    )
    evidence: list[Evidence] = []
    with fake.running():
        records = list(client_for(fake, http, clock, evidence).iter_orders(SINCE))
    assert len(records) == 150
    assert fake.throttled == 0
    costs = [e.cost for e in evidence]
    assert all(cost is not None for cost in costs)
    # each wait is ceil((requested - available) / restoreRate), from the answer before it
    expected = [
        math.ceil(
            (after["requestedQueryCost"] - before["throttleStatus"]["currentlyAvailable"])
            / before["throttleStatus"]["restoreRate"]
        )
        for before, after in zip(costs, costs[1:], strict=False)
        if after["requestedQueryCost"] > before["throttleStatus"]["currentlyAvailable"]
    ]
    assert clock.sleeps == expected == [15, 17]


def test_a_throttled_answer_is_retried_after_the_computed_wait(
    http: httpx.Client, clock: FakeTime
) -> None:
    fake = ShopifyFake(
        orders=make_orders(40, items=lambda _: 3),
        clock=clock.clock,
        bucket=Bucket(clock=clock.clock),
    )

    def other_app_emptied_the_bucket(request: Request) -> Reply:
        assert fake.bucket is not None
        fake.bucket.available, fake.bucket.stamped = 10, clock.clock()
        return fake.answer(request)

    with fake.running():
        client = client_for(fake, http, clock)
        stream = client.iter_orders(SINCE)
        fake.script(fake.answer, other_app_emptied_the_bucket)
        records = list(stream)
    assert len(records) == 40
    assert fake.throttled == 1
    (wait,) = clock.sleeps
    assert math.ceil((852 - 10) / 50) <= wait < math.ceil((852 - 10) / 50) + 1  # plus jitter


def test_throttling_that_never_ends_is_rate_limited(http: httpx.Client, clock: FakeTime) -> None:
    throttled = Reply(
        200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
    )
    fake = ShopifyFake(orders=make_orders(3), clock=clock.clock)
    with fake.running():
        fake.script(throttled, throttled, throttled)
        with pytest.raises(RateLimited, match="THROTTLED"):
            client_for(fake, http, clock, attempts=3).shop_record()
    assert len(clock.sleeps) == 2


def test_429_retry_after_is_honoured(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(orders=make_orders(3), clock=clock.clock)
    with fake.running():
        fake.script(TOO_MANY_REQUESTS)
        records = list(client_for(fake, http, clock).iter_orders(SINCE))
    assert len(records) == 3
    assert clock.sleeps == [7.0]


def test_a_500_then_success_is_retried(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(
        orders=make_orders(3), clock=clock.clock, bucket=generous_bucket(clock.clock)
    )
    evidence: list[Evidence] = []
    with fake.running():
        client = client_for(fake, http, clock, evidence)
        stream = client.iter_orders(SINCE)
        fake.script(fake.answer, SERVER_ERROR)
        records = list(stream)
    assert len(records) == 3
    assert [e.status for e in evidence] == [200, 500, 200]
    assert len(clock.sleeps) == 1 and 0 <= clock.sleeps[0] <= 0.5  # backoff with jitter


def test_graphql_internal_errors_are_retried(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(clock=clock.clock)
    with fake.running():
        fake.script(
            graphql_error(
                "Internal error. Looks like something went wrong.", "INTERNAL_SERVER_ERROR"
            )
        )
        client_for(fake, http, clock).check()
    assert len(clock.sleeps) == 1


def test_timeouts_are_retried_then_unavailable(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(orders=make_orders(3), clock=clock.clock)
    slow = Reply(200, {"data": {}}, delay=0.6)
    with fake.running():
        client = client_for(fake, http, clock, attempts=2, timeout=0.1)
        fake.script(slow)
        assert json.loads(client.shop_record().text)["shopDomain"] == SHOP  # one timeout
        fake.script(slow, slow)
        with pytest.raises(UpstreamUnavailable) as raised:
            client.shop_record()
    assert str(raised.value) == (
        "shopify at 127.0.0.1 timed out 2 times; check the host and network, or raise the timeout"
    )


def test_a_graphql_errors_array_is_a_one_line_source_error(
    http: httpx.Client, clock: FakeTime
) -> None:
    fake = ShopifyFake(orders=make_orders(3), clock=clock.clock)
    with fake.running():
        fake.script(
            graphql_error(
                "Field 'displayPaymentMood' doesn't exist on type 'Order'\nmore", "undefinedField"
            )
        )
        with pytest.raises(SourceError) as raised:
            client_for(fake, http, clock).shop_record()
    assert str(raised.value) == (
        "shopify answered OccShop with a GraphQL error: Field 'displayPaymentMood' doesn't exist "
        "on type 'Order' (undefinedField); check OCC_SHOPIFY_API_VERSION (2025-10)"
    )


def test_a_missing_access_scope_says_which_scopes(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(clock=clock.clock)
    with fake.running():
        fake.script(graphql_error("Access denied for orders field.", "ACCESS_DENIED"))
        with pytest.raises(
            CredentialsRejected, match="read_orders, read_products and read_inventory"
        ):
            client_for(fake, http, clock).shop_record()


def test_a_malformed_body_is_one_line(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(orders=make_orders(3), clock=clock.clock)
    with fake.running():
        fake.script(MALFORMED)
        with pytest.raises(UpstreamUnavailable) as raised:
            list(client_for(fake, http, clock).iter_orders(SINCE))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(
        "shopify at 127.0.0.1 answered OccOrdersCount with a body that is not"
    )


@pytest.mark.parametrize("mode", ["endless_cursor", "repeat_cursor"])
def test_a_cursor_that_never_ends_is_bounded(
    http: httpx.Client, clock: FakeTime, mode: str
) -> None:
    fake = ShopifyFake(
        orders=make_orders(120), clock=clock.clock, bucket=generous_bucket(clock.clock)
    )
    setattr(fake, mode, True)
    with fake.running():
        with pytest.raises(SourceError, match="pagination of orders did not end") as raised:
            list(client_for(fake, http, clock).iter_orders(SINCE))
    pages = fake.names().count("OccOrdersUpdatedSince")
    if mode == "endless_cursor":
        # 120 orders are 3 pages of 50: at most twice that and 10 more are read
        assert pages == 2 * 3 + 10
        assert "after 16 pages" in str(raised.value)
    else:
        assert pages == 2 and "repeats an earlier cursor" in str(raised.value)


def test_an_invalid_token_is_rejected_without_showing_it(
    http: httpx.Client, clock: FakeTime
) -> None:
    fake = ShopifyFake(orders=make_orders(3), clock=clock.clock, tokens=set())
    evidence: list[Evidence] = []
    with fake.running():
        with pytest.raises(CredentialsRejected) as raised:
            list(client_for(fake, http, clock, evidence).iter_orders(SINCE))
    message = str(raised.value)
    assert message == (
        "shopify rejected the credentials for occ-test.myshopify.com (HTTP 401: wrong, expired or "
        "revoked); check OCC_SHOPIFY_ACCESS_TOKEN"
    )
    assert TOKEN not in message
    assert [e.status for e in evidence] == [401]
    assert clock.sleeps == []  # a rejection is not retried


def test_403_names_the_access_scopes(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(clock=clock.clock)
    with fake.running():
        fake.script(Reply(403, {"errors": "[API] This action requires merchant approval."}))
        with pytest.raises(CredentialsRejected, match="HTTP 403.*read_orders"):
            client_for(fake, http, clock).shop_record()


def test_an_unreachable_host_names_the_shop_setting(http: httpx.Client, clock: FakeTime) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ShopifyClient(
        http,
        shop=SHOP,
        access_token=SecretStr(TOKEN),
        base_url=f"http://127.0.0.1:{port}",
        policy=RetryPolicy(max_attempts=2, timeout=1.0),
        sleep=clock.sleep,
        clock=clock.clock,
    )
    with pytest.raises(UpstreamUnavailable) as raised:
        client.check()
    assert str(raised.value) == (
        "shopify at 127.0.0.1 is unreachable (ConnectError); check OCC_SHOPIFY_SHOP "
        "(occ-test.myshopify.com) and OCC_SHOPIFY_API_VERSION (2025-10) and the network"
    )


def test_a_wrong_api_version_names_the_setting(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(clock=clock.clock)
    with fake.running():
        with pytest.raises(SourceError, match=r"HTTP 404 .*OCC_SHOPIFY_API_VERSION \(2024-01\)"):
            client_for(fake, http, clock, api_version="2024-01").check()


def test_a_redirect_names_the_shop_setting(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(clock=clock.clock)
    with fake.running():
        fake.script(Reply(301, raw=b"", headers={"Location": "https://shop.example.com/password"}))
        with pytest.raises(
            SourceError,
            match="redirected to https://shop.example.com/password; set OCC_SHOPIFY_SHOP",
        ):
            client_for(fake, http, clock).check()


def test_evidence_has_the_cost_and_never_the_token(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(orders=make_orders(60, items=lambda n: 1 + n % 5), clock=clock.clock)
    evidence: list[Evidence] = []
    with fake.running():
        client = client_for(fake, http, clock, evidence)
        fake.script(TOO_MANY_REQUESTS, SERVER_ERROR)
        list(client.iter_orders(SINCE))
        client.shop_record()
    assert len(evidence) == len(fake.tokens_seen) > 5
    for item in evidence:
        text = item.body.decode() + json.dumps(dict(item.params)) + item.endpoint
        assert TOKEN not in text
    answered = [e for e in evidence if e.status == 200]
    assert all(e.cost is not None and "throttleStatus" in e.cost for e in answered)
    assert {e.params["operation"] for e in answered} == {
        "OccOrdersCount",
        "OccOrdersUpdatedSince",
        "OccOrderLineItems",
        "OccShop",
    }
    assert all(e.api_version == "2025-10" and e.source == "shopify" for e in evidence)
