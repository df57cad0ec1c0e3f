"""A recorded folder with bad records: everything valid is stored, every problem is named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from builders import ago, message, order, write_folder
from conftest import NOW
from occ.cli import app
from occ.config import Settings
from occ.errors import InputFileError
from occ.refresh import QUARANTINE_EXIT_CODE, run_refresh
from occ.sources.base import RawRecord, SourcePayloads
from occ.sources.recorded import recorded_payloads
from occ.store.runs import list_drift
from occ.store.tables import ChatwootMessage, QuarantinedRecord, RefreshRun, ShopifyOrder
from scenario import scenario_folder, scenario_orders

SHOP = "test-shop.myshopify.com"


def bad_folder(root: Path) -> Path:
    orders = scenario_orders(NOW)
    float_money = order(900, ago(NOW, hours=5), "1.00")
    float_money["currentTotalPriceSet"]["shopMoney"]["amount"] = 12.5
    missing_field = order(901, ago(NOW, hours=5), "1.00")
    del missing_field["createdAt"]
    lines = [*orders[:2], '{"id": "gid://shopify/Order/999", "name": ', float_money, missing_field]
    string_time = message(99, 1, 0, ago(NOW, minutes=10))
    string_time["created_at"] = "2026-11-26T14:50:00Z"
    messages = [message(10, 1, 0, ago(NOW, minutes=90)), string_time]
    return scenario_folder(root, NOW, orders=lines + orders[2:], messages=messages)


def test_bad_records_are_quarantined_with_file_and_line(engine: Engine, tmp_path: Path) -> None:
    report = run_refresh(engine, Settings(), recorded_payloads(bad_folder(tmp_path / "rec")), NOW)
    problems = [
        f"{item.location}: {item.reason}"
        for stream in report.streams.values()
        for item in stream.quarantined
    ]
    assert len(problems) == 4
    assert problems[0].startswith("shopify/orders.jsonl:3: malformed JSON")
    assert problems[1].startswith("shopify/orders.jsonl:4: currentTotalPriceSet.shopMoney.amount")
    assert "decimal string" in problems[1] and "got float 12.5" in problems[1]
    assert problems[2] == "shopify/orders.jsonl:5: createdAt: required field missing"
    assert problems[3].startswith("chatwoot/messages.jsonl:2: created_at")
    with engine.connect() as connection:
        orders = connection.execute(select(func.count()).select_from(ShopifyOrder)).scalar()
        messages = connection.execute(select(ChatwootMessage.message_id)).scalars().all()
        kept = connection.execute(select(QuarantinedRecord.raw)).scalars().all()
        drift = {(d["field"], d["kind"]) for d in list_drift(connection, SHOP)}
    assert orders == 10  # every valid order of the scenario
    assert messages == [10]
    assert any('"created_at": "2026-11-26T14:50:00Z"' in raw for raw in kept)
    # a string where Chatwoot sends epoch seconds is schema drift, not only a bad record
    assert ("created_at", "type_changed") in drift
    assert ("createdAt", "missing_field") in drift


def test_cli_exits_with_the_quarantine_status_and_lists_each_problem(
    runner: CliRunner, tmp_path: Path
) -> None:
    folder = bad_folder(tmp_path / "rec")
    db = f"sqlite:///{tmp_path / 'occ.db'}"
    result = runner.invoke(
        app, ["refresh", "--source", f"dir:{folder}", "--now", NOW.isoformat(), "--db", db]
    )
    assert result.exit_code == QUARANTINE_EXIT_CODE, result.output
    assert "shopify/orders.jsonl:3" in result.output
    assert "chatwoot/messages.jsonl:2" in result.output
    assert "4 record(s) quarantined" in result.output
    assert "Traceback" not in result.output
    kpis = runner.invoke(app, ["kpis", "--json", "--db", db])
    assert json.loads(kpis.stdout)["kpis"]["sales_delta"]["severity"] == "critical"


def test_a_failing_source_leaves_nothing_half_written(engine: Engine, tmp_path: Path) -> None:
    def orders_then_failure() -> Iterator[RawRecord]:
        for number, item in enumerate(scenario_orders(NOW), start=1):
            yield RawRecord(f"orders:{number}", json.dumps(item))
        raise InputFileError("cannot read orders.jsonl: Input/output error")

    shop = RawRecord(
        "shop.json", json.dumps({"shopDomain": SHOP, "currencyCode": "USD", "ianaTimezone": "UTC"})
    )
    payloads = SourcePayloads("recorded", "broken", shop, {"shopify.orders": orders_then_failure()})
    try:
        run_refresh(engine, Settings(), payloads, NOW)
    except InputFileError:
        pass
    else:  # pragma: no cover - the failure must surface
        raise AssertionError("the source's failure was swallowed")
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ShopifyOrder)).scalar() == 0
        assert connection.execute(select(func.count()).select_from(RefreshRun)).scalar() == 0


def test_invalid_shop_json_is_one_line_and_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    folder = write_folder(
        tmp_path / "rec",
        shop={"shopDomain": "x", "currencyCode": "USD", "ianaTimezone": "Mars/Base"},
    )
    result = runner.invoke(
        app, ["refresh", "--source", f"dir:{folder}", "--db", f"sqlite:///{tmp_path}/o.db"]
    )
    assert result.exit_code == 2
    assert "ianaTimezone 'Mars/Base' is not an IANA time zone" in result.output
    assert "Traceback" not in result.output


def test_missing_folder_is_one_line_and_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["refresh", "--source", f"dir:{tmp_path}/nope", "--db", f"sqlite:///{tmp_path}/o.db"]
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert not (tmp_path / "o.db").exists()  # nothing was started, nothing written


def test_a_folder_where_a_recorded_file_belongs_is_named_not_skipped(
    runner: CliRunner, tmp_path: Path
) -> None:
    folder = scenario_folder(tmp_path / "rec", NOW)
    (folder / "shopify" / "orders.jsonl").unlink()
    (folder / "shopify" / "orders.jsonl").mkdir()  # e.g. an archive unpacked in place
    result = runner.invoke(
        app, ["refresh", "--source", f"dir:{folder}", "--db", f"sqlite:///{tmp_path}/o.db"]
    )
    assert result.exit_code == 2, result.output
    assert "shopify/orders.jsonl is a folder" in result.output
    assert "Traceback" not in result.output
