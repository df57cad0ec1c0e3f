"""The Shopify connector over real HTTP against a fake Admin API on 127.0.0.1: paging, line
items, cursor, variants, shop, introspection, contract validation and the factory."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import build_client_schema
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
    variant,
)
from occ.config import Settings
from occ.contracts.evidence import Evidence
from occ.contracts.shopify import OrderNode, ProductVariantNode, ShopNode
from occ.errors import ConfigError, ContractViolation
from occ.sources.http import RetryPolicy
from occ.sources.shopify import ShopifyClient, fetch_orders, shopify_client
from occ.sources.shopify_queries import MAX_QUERY_COST

SHOPIFY_SCHEMA = Path(__file__).resolve().parents[2] / "shared/contracts/shopify"
SINCE = BASE_TIME - timedelta(days=1)


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def client_for(
    fake: ShopifyFake, http: httpx.Client, clock: FakeTime, evidence: list[Evidence] | None = None,
    **options: Any,
) -> ShopifyClient:  # fmt: skip
    options.setdefault("access_token", SecretStr(TOKEN))
    return ShopifyClient(
        http,
        shop=SHOP,
        base_url=fake.base_url,
        evidence=(evidence if evidence is not None else []).append,
        policy=RetryPolicy(max_attempts=3, timeout=5.0),
        sleep=clock.sleep,
        clock=clock.clock,
        **options,
    )


def complete(node: dict[str, Any]) -> dict[str, Any]:
    """What occ yields for a fake order: the node with every line item under ``nodes``."""
    return {**node, "lineItems": {"nodes": node["lineItems"]}}


def test_orders_are_paged_by_cursor_oldest_change_first(
    http: httpx.Client, clock: FakeTime
) -> None:
    orders = make_orders(120)
    fake = ShopifyFake(orders=orders[::-1], clock=clock.clock, bucket=generous_bucket(clock.clock))
    with fake.running():
        records = list(client_for(fake, http, clock).iter_orders(SINCE))
    assert [json.loads(r.text) for r in records] == [complete(o) for o in orders]
    assert fake.names() == ["OccOrdersCount"] + ["OccOrdersUpdatedSince"] * 3
    pages = [v for name, v in fake.operations if name == "OccOrdersUpdatedSince"]
    assert [(p["first"], p["lineItemsFirst"]) for p in pages] == [(50, 3)] * 3
    assert pages[0]["after"] is None and pages[1]["after"] is not None
    assert records[-1].location == "shopify:orders page 3 gid://shopify/Order/120"
    assert set(fake.tokens_seen) == {TOKEN}
    for record in records:
        OrderNode.model_validate_json(record.text)


def test_only_orders_updated_after_the_cursor_are_read(http: httpx.Client, clock: FakeTime) -> None:
    orders = make_orders(120)
    fake = ShopifyFake(orders=orders, clock=clock.clock, bucket=generous_bucket(clock.clock))
    since = BASE_TIME + timedelta(minutes=70)  # order 70's update
    with fake.running():
        client = client_for(fake, http, clock)
        assert client.highest_updated_at is None and client.orders_cursor() is None
        records = list(client.iter_orders(since))
    assert [json.loads(r.text)["id"] for r in records] == [o["id"] for o in orders[70:]]
    assert fake.operations[1][1]["query"] == "updated_at:>'2026-10-01T01:10:00Z'"
    assert client.highest_updated_at == BASE_TIME + timedelta(minutes=120)
    assert client.orders_cursor() == "2026-10-01T02:00:00+00:00"


def test_the_stream_sends_nothing_until_it_is_read(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(orders=make_orders(3), clock=clock.clock)
    with fake.running():
        stream = client_for(fake, http, clock).iter_orders(SINCE)
        assert fake.operations == []
        assert len(list(stream)) == 3


def test_line_items_beyond_the_first_page_are_drained(http: httpx.Client, clock: FakeTime) -> None:
    orders = [
        order(1, BASE_TIME, items=600),
        order(2, BASE_TIME + timedelta(minutes=1), items=5),
        order(3, BASE_TIME + timedelta(minutes=2), items=3),
    ]
    fake = ShopifyFake(orders=orders, clock=clock.clock, bucket=generous_bucket(clock.clock))
    with fake.running():
        records = list(client_for(fake, http, clock).iter_orders(SINCE))
    assert [json.loads(r.text) for r in records] == [complete(o) for o in orders]
    assert len(OrderNode.model_validate_json(records[0].text).lineItems) == 600
    drains = [v for name, v in fake.operations if name == "OccOrderLineItems"]
    # 3 on the orders page, then 249 a page (250 would cost 1,003 points): 249 + 249 + 99
    assert [(d["id"], d["first"]) for d in drains] == [("gid://shopify/Order/1", 249)] * 3 + [
        ("gid://shopify/Order/2", 249)
    ]


def test_no_query_exceeds_the_single_query_cost_limit(http: httpx.Client, clock: FakeTime) -> None:
    # 250 orders with even one line item each would cost 2,252 points: the page shrinks to 110.
    orders = make_orders(300)
    fake = ShopifyFake(orders=orders, clock=clock.clock, bucket=generous_bucket(clock.clock))
    with fake.running():
        records = list(client_for(fake, http, clock, page_size=250).iter_orders(SINCE))
    assert len(records) == 300
    firsts = {v["first"] for name, v in fake.operations if name == "OccOrdersUpdatedSince"}
    assert firsts == {110}
    assert fake.max_query_cost == MAX_QUERY_COST


def test_a_page_shopify_finds_too_costly_names_the_setting(
    http: httpx.Client, clock: FakeTime
) -> None:
    fake = ShopifyFake(orders=make_orders(5), clock=clock.clock)
    with fake.running():
        client = client_for(fake, http, clock, page_size=250, max_query_cost=10_000)
        with pytest.raises(Exception, match="lower OCC_SHOPIFY_PAGE_SIZE") as raised:
            list(client.iter_orders(SINCE))
    assert "\n" not in str(raised.value)


def test_variants_shop_and_check(http: httpx.Client, clock: FakeTime) -> None:
    variants = [variant(n) for n in range(1, 261)]
    fake = ShopifyFake(variants=variants, clock=clock.clock, bucket=generous_bucket(clock.clock))
    with fake.running():
        client = client_for(fake, http, clock)
        records = list(client.iter_variants())
        shop = client.shop_record()
        client.check()
    assert [json.loads(r.text) for r in records] == variants
    assert [v["first"] for name, v in fake.operations if name == "OccProductVariants"] == [250] * 2
    assert records[-1].location == "shopify:variants page 2 gid://shopify/ProductVariant/260"
    for record in records:
        ProductVariantNode.model_validate_json(record.text)
    assert ShopNode.model_validate_json(shop.text).shopDomain == SHOP
    assert fake.names()[-1] == "OccShop"  # check(): one request, for one point


def test_introspection_returns_the_schema_in_the_published_shape(
    http: httpx.Client, clock: FakeTime
) -> None:
    published = SHOPIFY_SCHEMA / "admin_2025-10.json.gz"
    if not published.is_file():
        pytest.skip(f"{published} is missing")
    with gzip.open(published, "rt", encoding="utf-8") as file:
        introspection = json.load(file)
    fake = ShopifyFake(clock=clock.clock, introspection=introspection)
    with fake.running():
        schema = client_for(fake, http, clock).introspect()
    assert schema.keys() == {"data"} and "__schema" in schema["data"]
    assert schema["data"] == introspection["data"]
    names = {t["name"] for t in schema["data"]["__schema"]["types"]}
    assert {"Order", "LineItem", "ProductVariant"} <= names


def test_introspection_of_a_small_schema_builds(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(clock=clock.clock)
    with fake.running():
        schema = client_for(fake, http, clock).introspect()
    assert build_client_schema(schema["data"]).get_type("Shop") is not None


def test_fetch_orders_validates_and_names_the_violation(
    http: httpx.Client, clock: FakeTime
) -> None:
    broken = order(2, BASE_TIME + timedelta(minutes=2), items=2)
    broken["lineItems"][1]["quantity"] = "many"
    fake = ShopifyFake(orders=[order(1, BASE_TIME), broken], clock=clock.clock)
    with fake.running():
        models = fetch_orders(client_for(fake, http, clock), SINCE)
        assert next(models).id == "gid://shopify/Order/1"
        with pytest.raises(ContractViolation) as raised:
            next(models)
    message = str(raised.value)
    assert "gid://shopify/Order/2" in message
    assert "lineItems.1.quantity" in message
    assert "expected a valid integer" in message and "got 'many'" in message


def test_factory_returns_none_unless_configured(http: httpx.Client) -> None:
    assert shopify_client(Settings(), http, [].append) is None
    assert shopify_client(Settings(shopify_shop=SHOP), http, [].append) is None
    assert shopify_client(Settings(shopify_access_token=SecretStr(TOKEN)), http) is None
    with pytest.raises(ConfigError, match="set OCC_SHOPIFY_CLIENT_SECRET too"):
        shopify_client(Settings(shopify_shop=SHOP, shopify_client_id="abc"), http)
    with pytest.raises(ConfigError, match="not a shop domain"):
        shopify_client(
            Settings(shopify_shop="bad shop/x", shopify_access_token=SecretStr(TOKEN)), http
        )


def test_factory_builds_a_working_client_from_settings(http: httpx.Client, clock: FakeTime) -> None:
    fake = ShopifyFake(orders=make_orders(30), clock=clock.clock)
    settings = Settings(
        shopify_shop="occ-test",  # the name alone is completed to name.myshopify.com
        shopify_access_token=SecretStr(TOKEN),
        shopify_page_size=25,
    )
    with fake.running():
        settings = settings.model_copy(update={"shopify_base_url": fake.base_url})
        client = shopify_client(settings, http, [].append, sleep=clock.sleep, clock=clock.clock)
        assert client is not None
        assert json.loads(client.shop_record().text)["shopDomain"] == SHOP
        assert len(list(client.iter_orders(SINCE))) == 30
    pages = [v for name, v in fake.operations if name == "OccOrdersUpdatedSince"]
    assert (pages[0]["first"], pages[0]["lineItemsFirst"]) == (25, 8)
