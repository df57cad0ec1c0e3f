"""The bulk-load path: worker-process validation and driver-row upserts store what the plain
path stores — same rows, same quarantine with file:line, same drift — on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from builders import ago, conversation, ga4_report, line, message, order, variant, write_folder
from conftest import NOW
from occ.config import Settings
from occ.contracts.chatwoot import ConversationNode
from occ.contracts.kpis import InventoryConfig
from occ.contracts.records import LineItemRecord, OrderRecord, VariantRecord
from occ.contracts.shopify import OrderNode, ProductVariantNode
from occ.metrics import compute_inventory_cover
from occ.metrics.inventory import inventory_cover_from_units
from occ.refresh import normalize, run_refresh
from occ.refresh.ingest import STREAM_TABLES, StreamReport, ingest_stream
from occ.sources.base import RawRecord
from occ.sources.recorded import recorded_payloads
from occ.store import records as store
from occ.store import rows
from occ.store.engine import open_store
from occ.store.facts import latest_facts
from occ.store.tables import (
    ChatwootConversation,
    ChatwootMessage,
    GaLandingPageDay,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyVariant,
)
from occ.store.upsert import driver_values, row_batch

SHOP = "test-shop.myshopify.com"
CHICAGO = timezone(timedelta(hours=-6))
STREAMS = ("shopify.orders", "shopify.variants", "chatwoot.conversations", "chatwoot.messages")


def _orders() -> list[Any]:
    orders: list[Any] = [
        order(
            n,
            ago(NOW, hours=n),
            f"{n}.10",
            status="AWAITING_PICKUP" if n % 5 == 0 else "FULFILLED",
            lines=[line(10 * n + k, n, f"SKU-{n}", k + 1, f"{k}.05") for k in range(n % 3 + 1)],
        )
        for n in range(1, 15)
    ]
    orders.insert(4, '{"id": "gid://shopify/Order/999", "name": ')  # malformed: line 5
    bad_money = order(900, ago(NOW, hours=2), "1.00")
    bad_money["currentTotalPriceSet"]["shopMoney"]["amount"] = 1.5  # a float: line 9
    orders.insert(8, bad_money)
    # Order 5 again, later in the file and in another batch: it loses two of its three lines.
    orders.append(order(5, ago(NOW, hours=5), "99.99", lines=[line(50, 5, "SKU-5", 7, "99.99")]))
    orders.append(order(7, ago(NOW, hours=7), "7.77"))  # again, now without lines
    return orders


def _folder(root: Path) -> Path:
    conversations = [
        conversation(n, "open" if n % 2 else "snoozed", ago(NOW, days=1), ["priority"] * (n % 2))
        for n in range(1, 8)
    ]
    conversations[2]["messages"] = [message(500, 3, 0, ago(NOW, minutes=70))]
    messages: list[Any] = [message(n, n % 7 + 1, n % 2, ago(NOW, minutes=n)) for n in range(1, 12)]
    string_time = message(99, 1, 0, ago(NOW, minutes=10))
    string_time["created_at"] = "2026-11-26T14:50:00Z"
    messages.insert(3, string_time)
    return write_folder(
        root,
        orders=_orders(),
        variants=[
            variant(n, f"SKU-{n}", n, policy="BACKORDER" if n == 4 else "DENY") for n in range(1, 9)
        ],
        conversations=conversations,
        messages=messages,
    )


def _ingest(engine: Engine, folder: Path, workers: int) -> dict[str, StreamReport]:
    payloads = recorded_payloads(folder)
    with engine.begin() as connection:
        return {
            stream: ingest_stream(
                connection, SHOP, stream, payloads.streams[stream], workers=workers, batch_size=3
            )
            for stream in STREAMS
        }


def _contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    tables = (ShopifyOrder, ShopifyLineItem, ShopifyVariant, ChatwootConversation, ChatwootMessage)
    with engine.connect() as connection:
        return {
            table.__tablename__: sorted(
                tuple(row) for row in connection.execute(select(table.__table__))
            )
            for table in tables
        }


def _summary(reports: dict[str, StreamReport]) -> dict[str, Any]:
    return {name: report.as_dict() for name, report in reports.items()}


def test_worker_processes_store_exactly_what_the_plain_path_stores(
    engine: Engine, tmp_path: Path
) -> None:
    folder = _folder(tmp_path / "rec")
    parallel = _ingest(engine, folder, workers=2)
    stored_in_parallel = _contents(engine)
    sequential = _ingest(engine, folder, workers=0)  # the same folder again: an upsert

    assert _summary(parallel) == _summary(sequential)
    assert _contents(engine) == stored_in_parallel
    orders = parallel["shopify.orders"]
    # 16 valid records in batches of 3; a batch stores each id once
    assert (orders.read, orders.stored, len(orders.quarantined)) == (18, 16, 2)
    assert [q.location for q in orders.quarantined] == [
        "shopify/orders.jsonl:5",
        "shopify/orders.jsonl:9",
    ]
    assert "malformed JSON" in orders.quarantined[0].reason
    assert "decimal string" in orders.quarantined[1].reason
    assert {(d.field, d.kind): n for d, n in orders.drift.items()} == {
        ("displayFulfillmentStatus", "unknown_enum"): 2,
        ("currentTotalPriceSet.shopMoney.amount", "type_changed"): 1,
    }
    assert parallel["shopify.variants"].drift.total() == 1
    assert [q.location for q in parallel["chatwoot.messages"].quarantined] == [
        "chatwoot/messages.jsonl:4"
    ]

    lines = stored_in_parallel["shopify_line_item"]
    assert [row[2:] for row in lines if row[1] == "gid://shopify/Order/5"] == [
        ("gid://shopify/LineItem/50", "gid://shopify/ProductVariant/5", "SKU-5", "Item SKU-5")
        + (7, Decimal("99.99"))
    ]
    assert not [row for row in lines if row[1] == "gid://shopify/Order/7"]
    assert len(stored_in_parallel["shopify_order"]) == 14
    assert any(row[1] == 500 for row in stored_in_parallel["chatwoot_message"])


def test_driver_rows_round_trip_exact_money_and_utc_times(engine: Engine) -> None:
    created = datetime(2026, 11, 26, 9, 30, 15, 250, tzinfo=UTC)
    record = OrderRecord(
        order_id="gid://shopify/Order/1",
        name="#1",
        created_at=created,
        updated_at=None,
        cancelled_at=created.astimezone(CHICAGO),  # any offset: stored as the same instant
        test=False,
        fulfillment_status="FULFILLED",
        financial_status=None,
        total=Decimal("10.10"),
        currency="USD",
        line_items=(LineItemRecord("l1", None, "SKU", "T", 2, Decimal("0.1000")),),
    )
    with engine.begin() as connection:
        assert store.upsert_orders(connection, SHOP, [record]) == 1
    with engine.connect() as connection:
        (loaded,) = store.load_orders(connection, SHOP, datetime(2026, 11, 26, tzinfo=UTC), NOW)
    assert loaded == record
    assert str(loaded.total) == "10.10" and str(loaded.line_items[0].amount) == "0.1000"
    assert loaded.created_at.tzinfo is UTC and loaded.cancelled_at == created


def test_a_naive_datetime_is_refused(engine: Engine) -> None:
    naive = datetime(2026, 11, 26, 9, 0)
    record = OrderRecord("o", "#1", naive, None, None, False, "FULFILLED", None, Decimal(1), "USD")
    with engine.begin() as connection, pytest.raises(ValueError, match="naive"):
        store.upsert_orders(connection, SHOP, [record])


def test_labels_are_stored_as_json(engine: Engine, tmp_path: Path) -> None:
    folder = write_folder(
        tmp_path / "rec", conversations=[conversation(1, "open", NOW, ["priority", "vip"])]
    )
    _ingest(engine, folder, workers=0)
    with engine.connect() as connection:
        (loaded,) = store.load_conversations(connection, SHOP)
    assert loaded.labels == ("priority", "vip")


def test_rows_from_models_equal_rows_from_records() -> None:

    no_id_line = line(7, None, "", 1, "2.50")
    no_id_line["id"] = None  # an older export: the position is the identity
    raw_order = order(
        1, ago(NOW, hours=1), "12.50", lines=[line(5, 2, "A", 2, "10.00"), no_id_line]
    )
    raw_variant = variant(3, "", 0)
    raw_variant["inventoryQuantity"] = None
    raw_conversation = conversation(
        4, "open", NOW, ["priority"], inbox=2, agent=(3, "Dana"), team=(1, "Parts"),
        last_activity=NOW,
    )  # fmt: skip
    raw_conversation["messages"] = [message(9, 4, 0, NOW)]
    bare_conversation = ConversationNode.model_validate(conversation(5, "open", NOW))
    for dialect in ("sqlite", "postgresql"):
        values = driver_values(dialect)
        order_node = OrderNode.model_validate(raw_order)
        assert normalize.order_rows(SHOP, order_node, values) == rows.order_rows(
            SHOP, normalize.order_record(order_node), values
        )
        variant_node = ProductVariantNode.model_validate(raw_variant)
        assert normalize.variant_row(SHOP, variant_node, values) == rows.variant_row(
            SHOP, normalize.variant_record(variant_node), values
        )
        conversation_node = ConversationNode.model_validate(raw_conversation)
        assert normalize.conversation_rows(SHOP, conversation_node, values) == (
            rows.conversation_rows(SHOP, normalize.conversation_record(conversation_node), values)
        )
        assert normalize.conversation_rows(SHOP, bare_conversation, values) == (
            rows.conversation_rows(SHOP, normalize.conversation_record(bare_conversation), values)
        )
    head, _ = normalize.conversation_rows(SHOP, conversation_node, driver_values("postgresql"))
    assert head[-6:] == (2, 3, "Dana", 1, "Parts", NOW)  # inbox, assignee, team, last activity
    bare, _ = normalize.conversation_rows(SHOP, bare_conversation, driver_values("postgresql"))
    assert bare[-6:] == (None,) * 6  # an older payload without them still validates
    order_row, line_rows = normalize.order_rows(SHOP, order_node, driver_values("sqlite"))
    assert order_row[3] == "2026-11-26 14:00:00.000000"  # SQLAlchemy's SQLite DATETIME text
    assert [r[2] for r in line_rows] == ["gid://shopify/LineItem/5", "gid://shopify/Order/1#1"]
    assert line_rows[1][4] is None  # an empty SKU is no SKU


def test_units_sold_summed_by_the_database_give_the_same_cover(engine: Engine) -> None:

    def record(
        n: int, age_hours: float, lines: list[tuple[str | None, str | None, int]], **kw: Any
    ):
        items = tuple(
            LineItemRecord(f"{n}-{i}", v, s, "T", q, Decimal("1"))
            for i, (v, s, q) in enumerate(lines)
        )
        return OrderRecord(
            f"o{n}", f"#{n}", NOW - timedelta(hours=age_hours), None, kw.get("cancelled"),
            kw.get("test", False), "FULFILLED", None, Decimal("1"), "USD", items,
        )  # fmt: skip

    orders = [
        record(1, 1, [("v1", "A", 3), (None, "B", 2), ("gone", "B", 1), (None, None, 4)]),
        record(2, 24 * 13, [("v1", "A", 5), ("v2", "dup", 1), (None, "dup", 7)]),
        record(3, 24 * 14, [("v1", "A", 100)]),  # exactly at the window start: excluded
        record(4, 2, [("v1", "A", 100)], cancelled=NOW),
        record(5, 2, [("v2", "A", 100)], test=True),
        record(6, -1, [("v1", "A", 100)]),  # after now
    ]
    variants = [
        VariantRecord("v1", "A", "T", "P", None, 4, "DENY", True),
        VariantRecord("v2", "dup", "T", "P", None, 1, "DENY", True),
        VariantRecord("v3", "B", "T", "P", None, 0, "DENY", True),
        VariantRecord("v4", "dup", "T", "P", None, 9, "DENY", True),
    ]
    with engine.begin() as connection:
        store.upsert_orders(connection, SHOP, orders)
    with engine.connect() as connection:
        units = store.load_units_sold(connection, SHOP, NOW - timedelta(days=14), NOW)
    assert sorted(units, key=str) == sorted(
        [
            ("v1", "A", 8),
            (None, "B", 2),
            ("gone", "B", 1),
            (None, None, 4),
            ("v2", "dup", 1),
            (None, "dup", 7),
        ],
        key=str,
    )
    config = InventoryConfig()
    expected = compute_inventory_cover(variants, orders, NOW, config)
    assert inventory_cover_from_units(variants, units, config) == expected
    assert {v.variant_id: v.units_sold for v in expected.variants} == {
        "v1": 8, "v2": 1, "v3": 3, "v4": 0,
    }  # fmt: skip


def test_sqlite_batches_travel_as_images_unless_sqlite_cannot_bind_them() -> None:
    batch = row_batch([("a", 1), ("b", 2**63 - 1), ("c\x00d", None)], "sqlite")
    assert batch.image is not None and batch.count == 3 and not batch.rows
    too_big = row_batch([("a", 2**63)], "sqlite")  # beyond SQLite's 64-bit integers
    assert too_big.image is None and too_big.rows == [("a", 2**63)]
    assert row_batch([("a", 1)], "postgresql").rows == [("a", 1)]


def test_a_batch_image_is_released_after_its_statement(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'image.db'}")
    variant_row = (SHOP, "v1", "SKU-1", "Default", "Hose", "hose", 3, "DENY", True, "9.50")
    with engine.begin() as connection:
        rows.write_variants(connection, row_batch([variant_row], "sqlite"))
        left = connection.exec_driver_sql("SELECT count(*) FROM occ_batch.r").scalar_one()
        stored = connection.exec_driver_sql("SELECT * FROM shopify_variant").all()
    engine.dispose()
    assert left == 0
    assert [tuple(row) for row in stored] == [(*variant_row[:8], 1, "9.50")]


def test_a_nul_character_survives_the_bulk_path_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nul.db'}"
    engine = open_store(url)
    odd = message(1, 1, 0, ago(NOW, minutes=5))
    odd["content"] = "before\x00after 😀"
    folder = write_folder(tmp_path / "rec", messages=[odd])
    _ingest(engine, folder, workers=0)
    with engine.connect() as connection:
        content = connection.execute(select(ChatwootMessage.content)).scalar_one()
    engine.dispose()
    assert content == "before\x00after 😀"


def test_the_refresh_inventory_kpi_equals_the_metric_over_every_order(
    engine: Engine, tmp_path: Path
) -> None:
    orders = [
        order(
            n,
            ago(NOW, hours=hours),
            "5.00",
            cancelled=ago(NOW, hours=1) if n == 4 else None,
            lines=[
                line(10 * n, 1 + n % 2, f"SKU-{1 + n % 2}", n, "5.00"),
                line(10 * n + 1, None, "SKU-1", 1, "1.00"),
            ],
        )
        for n, hours in enumerate(
            [1, 30, 24 * 7.5, 24 * 8 + 1, 24 * 9, 24 * 13.9, 24 * 14 + 1], start=1
        )
    ]
    folder = write_folder(
        tmp_path / "rec", orders=orders, variants=[variant(1, "SKU-1", 10), variant(2, "SKU-2", 3)]
    )
    run_refresh(engine, Settings(), recorded_payloads(folder), NOW)
    with engine.connect() as connection:
        fact = latest_facts(connection, SHOP, ["shopify.inventory.coverage"])
        every_order = store.load_orders(connection, SHOP, NOW - timedelta(days=30), NOW)
        variants = store.load_variants(connection, SHOP)
    expected = compute_inventory_cover(variants, every_order, NOW, InventoryConfig())
    stored = fact["shopify.inventory.coverage"].value["result"]
    assert stored == expected.model_dump(mode="json")
    # countable orders 1, 2, 3, 5, 6 (4 is cancelled, 7 too old): odd ones sell variant 2, even
    # ones variant 1, and each sells one unit of SKU-1 (variant 1) by SKU
    assert {v["variant_id"]: v["units_sold"] for v in stored["variants"]} == {
        "gid://shopify/ProductVariant/1": 2 + 6 + 5,
        "gid://shopify/ProductVariant/2": 1 + 3 + 5,
    }


def test_file_lines_read_where_they_are_validated_match_records_read_here(
    engine: Engine, tmp_path: Path
) -> None:
    """A recorded file goes to the workers as chunks of raw lines; any other iterable as
    records. Line endings, blank lines, bytes that are not UTF-8 and a last line without its
    newline come out the same both ways, located by their line number in the file."""
    folder = write_folder(tmp_path / "rec", orders=[])
    good = [json.dumps(order(n, ago(NOW, hours=n), f"{n}.00")).encode() for n in range(1, 5)]
    odd = json.dumps(order(9, ago(NOW, hours=9), "9.00")).replace('"#9"', '"#\xff9"')
    (folder / "shopify" / "orders.jsonl").write_bytes(
        good[0] + b"\r\n"  # 1
        + b"\n"  # 2: blank
        + b"  \t\r\n"  # 3: blank
        + odd.encode("latin-1") + b"\n"  # 4: not UTF-8
        + good[1] + b"\n"  # 5
        + b"{broken\n"  # 6
        + good[2] + b"\n"  # 7
        + good[3]  # 8: no newline at the end
    )  # fmt: skip
    stream = "shopify.orders"
    file_records = recorded_payloads(folder).streams[stream]
    assert file_records is not None
    with engine.begin() as connection:
        progress: list[int] = []
        chunked = ingest_stream(
            connection, SHOP, stream, file_records, workers=2, batch_size=3,
            on_progress=progress.append,
        )  # fmt: skip
        listed = ingest_stream(connection, SHOP, stream, list(file_records), workers=0)
    assert chunked.as_dict() == listed.as_dict()
    assert (chunked.read, chunked.stored) == (6, 4)
    assert progress == [1, 4, 6]  # records read after each chunk of 3 lines was stored
    assert [q.location for q in chunked.quarantined] == [
        "shopify/orders.jsonl:4",
        "shopify/orders.jsonl:6",
    ]
    assert chunked.quarantined[0].reason.startswith("not UTF-8 text")
    assert chunked.quarantined[1].reason.startswith("malformed JSON")
    assert chunked.quarantined[1].raw == "{broken"


def test_a_ga4_report_with_bad_rows_keeps_the_good_ones_and_locates_the_bad(
    engine: Engine, tmp_path: Path
) -> None:
    """A clean report is read in one pass; one with a bad row is read again row by row."""
    report = ga4_report([("/a", "20261120", 5), ("/b", "20261399", 6), ("/c", "20261121", 7)])
    report["rows"].append({"dimensionValues": [{"value": "/d"}, {"value": "20261122"}]})
    report["rows"].append(
        {"dimensionValues": [{"value": "/e"}, {"value": "20261122"}], "metricValues": [{}]}
    )
    report["rows"].append({"dimensionValues": [{"value": "/g"}], "metricValues": [{"value": "1"}]})
    report["rows"][2]["metricValues"][0]["value"] = "many"
    clean = ga4_report([("/a", "20261120", 9), ("/f", "20261121", 4)])
    folder = write_folder(tmp_path / "rec", ga4=report)
    records = recorded_payloads(folder).streams["ga4.landing_pages"]
    assert records is not None
    first = next(iter(records))
    records = [first, RawRecord("second.json", json.dumps(clean))]
    with engine.begin() as connection:
        result = ingest_stream(connection, SHOP, "ga4.landing_pages", records)
        stored = connection.execute(
            select(GaLandingPageDay.landing_page, GaLandingPageDay.sessions)
        ).all()
    assert (result.read, result.stored) == (8, 2)
    assert [(q.location, q.reason) for q in result.quarantined] == [
        (
            "ga4/landing_pages.json rows[1]",
            'date "20261399" is not a GA4 date (YYYYMMDD): no such day',
        ),
        (
            "ga4/landing_pages.json rows[2]",
            'sessions "many" is not a count of sessions (digits 0-9 only)',
        ),
        ("ga4/landing_pages.json rows[3]", "metricValues: required field missing"),
        ("ga4/landing_pages.json rows[4]", "metricValues.0.value: required field missing"),
        (
            "ga4/landing_pages.json rows[5]",
            "row has 1 dimension and 1 metric value(s); the report's headers name at least 2 and 1",
        ),
    ]
    assert result.quarantined[3].raw == str(report["rows"][4])
    assert sorted(stored) == [("/a", 9), ("/f", 4)]  # the later report wins for /a


@pytest.mark.parametrize(
    ("raw_day", "reason"),
    [
        pytest.param("2026110199", 'date "2026110199" is not a GA4 date (YYYYMMDD)', id="long"),
        # Too short: strptime read "2026111" as 1 November, though it may as well be 11 January.
        pytest.param("2026111", 'date "2026111" is not a GA4 date (YYYYMMDD)', id="short"),
        pytest.param("", 'date "" is not a GA4 date (YYYYMMDD)', id="empty"),
        pytest.param("2026-11-01", 'date "2026-11-01" is not a GA4 date (YYYYMMDD)', id="iso"),
        pytest.param("2026110a", 'date "2026110a" is not a GA4 date (YYYYMMDD)', id="letter"),
        pytest.param(
            "２０２６１１０１",
            'date "２０２６１１０１" is not a GA4 date (YYYYMMDD)',
            id="fullwidth",
        ),
        pytest.param(  # escaped: the reason stays one line
            "20261101\n", 'date "20261101\\n" is not a GA4 date (YYYYMMDD)', id="newline"
        ),
        pytest.param(
            "20261131", 'date "20261131" is not a GA4 date (YYYYMMDD): no such day', id="31-nov"
        ),
        pytest.param(
            "20270229", 'date "20270229" is not a GA4 date (YYYYMMDD): no such day', id="29-feb"
        ),
        pytest.param(
            "20261301", 'date "20261301" is not a GA4 date (YYYYMMDD): no such day', id="month-13"
        ),
    ],
)
def test_a_ga4_row_whose_date_is_not_yyyymmdd_is_quarantined_saying_so(
    engine: Engine, raw_day: str, reason: str
) -> None:
    report = ga4_report([("/a", "20280229", 5), ("/b", raw_day, 6)])
    records = [RawRecord("ga4/landing_pages.json", json.dumps(report))]
    with engine.begin() as connection:
        result = ingest_stream(connection, SHOP, "ga4.landing_pages", records)
        stored = connection.execute(select(GaLandingPageDay.landing_page)).scalars().all()
    assert [(q.source, q.stream, q.location, q.reason) for q in result.quarantined] == [
        ("ga4", "ga4.landing_pages", "ga4/landing_pages.json rows[1]", reason)
    ]
    assert result.quarantined[0].raw == str(report["rows"][1])
    assert (result.read, result.stored, stored) == (2, 1, ["/a"])  # a leap day is a day


@pytest.mark.parametrize(
    "raw_sessions",
    [
        pytest.param("-5", id="negative"),
        pytest.param(" 12", id="space"),  # int() would have read these three
        pytest.param("1_000", id="underscore"),
        pytest.param("１２", id="fullwidth"),
        pytest.param("12.0", id="decimal"),
        pytest.param("", id="empty"),
    ],
)
def test_a_ga4_row_whose_sessions_are_not_a_count_is_quarantined_saying_so(
    engine: Engine, raw_sessions: str
) -> None:
    report = ga4_report([("/a", "20261120", 5), ("/b", "20261120", 6)])
    report["rows"][1]["metricValues"][0]["value"] = raw_sessions
    records = [RawRecord("ga4/landing_pages.json", json.dumps(report))]
    with engine.begin() as connection:
        result = ingest_stream(connection, SHOP, "ga4.landing_pages", records)
    quoted = json.dumps(raw_sessions, ensure_ascii=False)
    assert [(q.location, q.reason) for q in result.quarantined] == [
        (
            "ga4/landing_pages.json rows[1]",
            f"sessions {quoted} is not a count of sessions (digits 0-9 only)",
        )
    ]
    assert (result.read, result.stored) == (2, 1)


def test_a_bulk_load_gathers_planner_statistics_in_its_transaction(
    engine: Engine, tmp_path: Path
) -> None:
    """PostgreSQL plans the refresh's own KPI queries from the rows it has just written."""
    assert {t for tables in STREAM_TABLES.values() for t in tables} <= set(
        ShopifyOrder.metadata.tables
    )
    variants = [variant(n, f"SKU-{n}", n % 7) for n in range(1, 10_001)]
    folder = write_folder(tmp_path / "rec", variants=variants, orders=[order(1, NOW, "1.00")])
    steps: list[str] = []
    run_refresh(engine, Settings(), recorded_payloads(folder), NOW, on_step=steps.append)
    with engine.connect() as connection:
        if engine.dialect.name != "postgresql":
            assert "gathering planner statistics" in steps  # a no-op on SQLite
            tables = connection.exec_driver_sql("SELECT name FROM sqlite_master").scalars()
            assert "sqlite_stat1" not in set(tables)
            return
        estimates = dict(
            connection.exec_driver_sql(
                "SELECT relname, reltuples FROM pg_class "
                "WHERE relname IN ('shopify_variant', 'shopify_order')"
            ).all()
        )
    assert estimates["shopify_variant"] == 10_000  # ANALYZE saw the uncommitted rows
    assert estimates["shopify_order"] == -1  # one order: left to autovacuum, never analyzed
