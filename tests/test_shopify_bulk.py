"""The bulk path over real HTTP: a sync above the threshold runs a bulk operation, polls it,
streams its JSONL result from the signed URL and reassembles each order with its line items."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from fakes.shopify_server import (
    BASE_TIME,
    SHOP,
    TOKEN,
    FakeTime,
    ShopifyFake,
    generous_bucket,
    make_orders,
    order,
)
from occ.contracts.evidence import Evidence
from occ.contracts.shopify import OrderNode
from occ.errors import SourceError, UpstreamUnavailable
from occ.sources.http import RetryPolicy
from occ.sources.shopify import ShopifyClient
from occ.sources.shopify_bulk import reassemble

SINCE = BASE_TIME - timedelta(days=1)


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def client_for(
    fake: ShopifyFake, http: httpx.Client, clock: FakeTime, evidence: list[Evidence], **options: Any
) -> ShopifyClient:
    return ShopifyClient(
        http,
        shop=SHOP,
        access_token=SecretStr(TOKEN),
        base_url=fake.base_url,
        evidence=evidence.append,
        policy=RetryPolicy(max_attempts=3, timeout=5.0),
        sleep=clock.sleep,
        clock=clock.clock,
        **options,
    )


def shop_orders() -> list[dict[str, Any]]:
    orders = make_orders(24, items=lambda n: n % 4)  # some orders have no line items
    orders.append(order(25, BASE_TIME + timedelta(hours=2), items=300))
    return orders


def test_a_sync_above_the_threshold_runs_a_bulk_operation(
    http: httpx.Client, clock: FakeTime
) -> None:
    fake = ShopifyFake(orders=shop_orders(), clock=clock.clock, bulk_polls=3)
    evidence: list[Evidence] = []
    with fake.running():
        client = client_for(fake, http, clock, evidence, bulk_threshold=10, bulk_poll_interval=2)
        records = list(client.iter_orders(SINCE))
        paged = ShopifyFake(
            orders=shop_orders(), clock=clock.clock, bucket=generous_bucket(clock.clock)
        )
        with paged.running():
            expected = list(client_for(paged, http, clock, []).iter_orders(SINCE))
    assert fake.names() == ["OccOrdersCount", "OccBulkOperationRunQuery"] + ["OccBulkOperation"] * 4
    assert fake.operations[0][1]["limit"] == 11
    run = fake.operations[1][1]
    assert run["groupObjects"] is True and "updated_at:>'2026-09-30T00:00:00Z'" in run["query"]
    assert clock.sleeps == [2, 3, 4.5]  # the poll interval grows
    # the same orders as paging reads them, line items reassembled in order
    assert [json.loads(r.text) for r in records] == [json.loads(r.text) for r in expected]
    assert len(json.loads(records[-1].text)["lineItems"]["nodes"]) == 300
    assert records[0].location == "shopify:orders bulk line 1 gid://shopify/Order/1"
    for record in records:
        OrderNode.model_validate_json(record.text)
    assert client.highest_updated_at == BASE_TIME + timedelta(hours=2)
    # the signed result URL is fetched without the access token, and its signature is not kept
    (download,) = fake.bulk_downloads
    assert "x-shopify-access-token" not in download.headers
    assert download.query["X-Goog-Signature"] == ["fakesig0123456789"]
    download_evidence = [e for e in evidence if e.method == "GET"]
    assert [(e.endpoint, e.status, e.body) for e in download_evidence] == [
        (download.path, 200, b"")
    ]
    for item in evidence:
        text = item.body.decode() + json.dumps(dict(item.params)) + item.endpoint
        assert TOKEN not in text and "fakesig" not in text
    completed = json.loads(evidence[-2].body)["data"]["node"]
    assert completed["url"] == f"{fake.base_url}{download.path}?[redacted]"


def test_a_bulk_operation_with_no_orders_yields_nothing(
    http: httpx.Client, clock: FakeTime
) -> None:
    fake = ShopifyFake(orders=make_orders(5), clock=clock.clock)
    with fake.running():
        client = client_for(fake, http, clock, [], bulk_threshold=0)
        assert list(client.iter_orders(BASE_TIME + timedelta(days=1))) == []
    assert fake.names() == ["OccOrdersCount"]  # nothing changed: not even a bulk operation


def test_a_failed_bulk_operation_names_its_error_code(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(orders=make_orders(5), clock=clock.clock, bulk_fails="INTERNAL_SERVER_ERROR")
    with fake.running():
        client = client_for(fake, http, clock, [], bulk_threshold=1)
        with pytest.raises(UpstreamUnavailable, match="ended FAILED \\(INTERNAL_SERVER_ERROR\\)"):
            list(client.iter_orders(SINCE))


def test_a_bulk_operation_already_running_is_reported(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(orders=make_orders(5), clock=clock.clock, bulk_polls=10**6)
    with fake.running():
        client = client_for(fake, http, clock, [], bulk_threshold=1, bulk_timeout=10)
        with pytest.raises(UpstreamUnavailable, match="still RUNNING after 10 s"):
            list(client.iter_orders(SINCE))
        with pytest.raises(SourceError, match="already in progress"):
            list(client.iter_orders(SINCE))


def test_an_ungrouped_result_is_an_error_not_a_wrong_order(
    http: httpx.Client, clock: FakeTime
) -> None:
    fake = ShopifyFake(
        orders=make_orders(5, items=lambda _: 1), clock=clock.clock, bulk_grouped=False
    )
    with fake.running():
        client = client_for(fake, http, clock, [], bulk_threshold=1)
        with pytest.raises(
            SourceError, match="line 6: a line item of gid://shopify/Order/1 does not follow"
        ):
            list(client.iter_orders(SINCE))


def test_reassemble_reads_a_grouped_result_line_by_line() -> None:
    read: list[str] = []

    def lines() -> Iterator[str]:
        for line in [
            '{"id":"gid://shopify/Order/1","name":"#1"}',
            '{"id":"gid://shopify/LineItem/1","__parentId":"gid://shopify/Order/1"}',
            "",
            '{"id":"gid://shopify/Order/2","name":"#2"}',
            '{"id":"gid://shopify/Order/3","name":"#3"}',
        ]:
            read.append(line)
            yield line

    orders = reassemble(lines())
    item = {"id": "gid://shopify/LineItem/1"}
    assert next(orders) == (
        1, {"id": "gid://shopify/Order/1", "name": "#1", "lineItems": {"nodes": [item]}}
    )  # fmt: skip
    assert len(read) == 4  # an order is complete when the next one starts: nothing read ahead
    assert [number for number, _ in orders] == [4, 5]
    with pytest.raises(SourceError, match="line 1 is not JSON"):
        list(reassemble(["{not json"]))
