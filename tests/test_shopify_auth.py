"""Client-credentials tokens over real HTTP against the fake Admin API's token endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from fakes.shopify_server import (
    BASE_TIME,
    CLIENT_ID,
    CLIENT_SECRET,
    SHOP,
    FakeTime,
    ShopifyFake,
    make_orders,
)
from occ.config import Settings
from occ.contracts.evidence import Evidence
from occ.errors import CredentialsRejected
from occ.sources.http import RetryPolicy
from occ.sources.shopify import ShopifyClient, shopify_client

TOKEN_PATH = "/admin/oauth/access_token"


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def cc_client(
    fake: ShopifyFake,
    http: httpx.Client,
    clock: FakeTime,
    evidence: list[Evidence],
    secret: str = CLIENT_SECRET,
) -> ShopifyClient:
    return ShopifyClient(
        http,
        shop=SHOP,
        client_id=CLIENT_ID,
        client_secret=SecretStr(secret),
        base_url=fake.base_url,
        evidence=evidence.append,
        policy=RetryPolicy(max_attempts=3, timeout=5.0),
        sleep=clock.sleep,
        clock=clock.clock,
    )


def exchanges(fake: ShopifyFake) -> list[dict[str, list[str]]]:
    return [parse_qs(r.body.decode()) for r in fake.server.requests if r.path == TOKEN_PATH]


def assert_no_secret(evidence: list[Evidence], fake: ShopifyFake) -> None:
    secrets = [CLIENT_SECRET, *fake.issued]
    for item in evidence:
        text = item.body.decode() + json.dumps(dict(item.params)) + item.endpoint
        assert not [secret for secret in secrets if secret in text], item


def test_the_token_is_exchanged_then_renewed_before_it_expires(
    http: httpx.Client, clock: FakeTime
) -> None:
    fake = ShopifyFake(clock=clock.clock, tokens=set(), token_lifetime=120)
    evidence: list[Evidence] = []
    with fake.running():
        client = cc_client(fake, http, clock, evidence)
        client.check()
        clock.now += 100  # within the lifetime less its margin (120 - 12 s): cached
        client.check()
        clock.now += 10  # 110 s: past the margin, renewed before Shopify would refuse it
        client.check()
    first, second = fake.issued
    assert fake.tokens_seen == [first, first, second]
    assert exchanges(fake) == [
        {"grant_type": ["client_credentials"], "client_id": [CLIENT_ID],
         "client_secret": [CLIENT_SECRET]}
    ] * 2  # fmt: skip
    token_requests = [r for r in fake.server.requests if r.path == TOKEN_PATH]
    assert token_requests[0].headers["content-type"] == "application/x-www-form-urlencoded"
    exchange = [e for e in evidence if e.endpoint == TOKEN_PATH]
    assert [json.loads(e.body)["access_token"] for e in exchange] == ["[redacted]"] * 2
    assert json.loads(exchange[0].body)["expires_in"] == 120
    assert_no_secret(evidence, fake)


def test_a_rejected_token_is_renewed_once(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(orders=make_orders(3), clock=clock.clock, tokens=set())
    evidence: list[Evidence] = []
    with fake.running():
        client = cc_client(fake, http, clock, evidence)
        client.check()
        fake.revoked.update(fake.issued)  # e.g. the app was reinstalled
        records = list(client.iter_orders(BASE_TIME - timedelta(days=1)))
    assert len(records) == 3
    first, second = fake.issued
    assert fake.tokens_seen[:3] == [first, first, second]
    assert [e.status for e in evidence if e.endpoint != TOKEN_PATH][:2] == [200, 401]
    assert_no_secret(evidence, fake)


def test_a_token_refused_even_when_fresh_is_credentials_rejected(
    http: httpx.Client, clock: FakeTime
) -> None:
    fake = ShopifyFake(clock=clock.clock, tokens=set(), token_lifetime=0)  # all expire at once
    evidence: list[Evidence] = []
    with fake.running():
        with pytest.raises(CredentialsRejected) as raised:
            cc_client(fake, http, clock, evidence).check()
    assert str(raised.value) == (
        "shopify rejected a freshly issued token for occ-test.myshopify.com (HTTP 401: wrong, "
        "expired or revoked); check OCC_SHOPIFY_CLIENT_ID and OCC_SHOPIFY_CLIENT_SECRET"
    )
    assert len(exchanges(fake)) == 2
    assert_no_secret(evidence, fake)


def test_wrong_client_credentials_are_rejected_without_showing_them(
    http: httpx.Client, clock: FakeTime
) -> None:
    fake = ShopifyFake(clock=clock.clock, tokens=set())
    evidence: list[Evidence] = []
    wrong = "shpss_not_the_secret_4Kq9"
    with fake.running():
        with pytest.raises(CredentialsRejected) as raised:
            cc_client(fake, http, clock, evidence, secret=wrong).check()
    message = str(raised.value)
    assert message == (
        "shopify refused the app credentials (HTTP 400) at 127.0.0.1; check "
        "OCC_SHOPIFY_CLIENT_ID and OCC_SHOPIFY_CLIENT_SECRET, and that the app is installed on "
        "the shop"
    )
    assert wrong not in message and CLIENT_SECRET not in message
    assert [e.status for e in evidence] == [400]
    assert wrong.encode() not in evidence[0].body
    assert fake.tokens_seen == []  # nothing was sent to the Admin API


def test_the_factory_uses_client_credentials_when_no_token_is_set(
    http: httpx.Client, clock: FakeTime
) -> None:
    fake = ShopifyFake(clock=clock.clock, tokens=set())
    with fake.running():
        settings = Settings(
            shopify_shop=SHOP,
            shopify_client_id=CLIENT_ID,
            shopify_client_secret=SecretStr(CLIENT_SECRET),
            shopify_base_url=fake.base_url,
        )
        client = shopify_client(settings, http, sleep=clock.sleep, clock=clock.clock)
        assert client is not None
        client.check()
    assert len(exchanges(fake)) == 1 and fake.tokens_seen == list(fake.issued)
