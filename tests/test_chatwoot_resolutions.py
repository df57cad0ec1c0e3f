"""A live refresh learns what became of the conversations it stored as open or pending.

`occ refresh --source live` twice over real HTTP against a fake Chatwoot on 127.0.0.1: between
the two, conversations are resolved, snoozed and deleted in Chatwoot as an agent would. The
store then holds their true status, the SLA KPI leaves them out, and the conversation export
shows the live resolution times — on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from fakes import chatwoot_server
from fakes.chatwoot_server import ChatwootFake, conversation, message
from fakes.loopback import Reply
from occ.cli import app
from occ.store.cursors import load_cursor
from occ.store.tables import ChatwootConversation

SHOP = "resolutions.example"
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
T1 = int(NOW.timestamp())
WAITING = T1 - 3 * 3600  # every customer has waited three hours at the first refresh
CREATED = T1 - 4 * 3600
AGO = T1 - 2 * 86_400  # activity of conversations resolved or snoozed long ago
REPLIED = T1 + 10 * 60  # the agent answers conversation 1 …
RESOLVED = T1 + 20 * 60  # … and resolves it
LATER = NOW + timedelta(hours=2)


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _account() -> ChatwootFake:
    """Five open conversations and one pending, each awaiting a reply for three hours; 60
    conversations resolved and three snoozed two days ago."""
    waiting = [
        conversation(n, status, created_at=CREATED, last_activity_at=WAITING)
        for n, status in enumerate(["open"] * 5 + ["pending"], start=1)
    ]
    old = [conversation(100 + n, "resolved", last_activity_at=AGO - n) for n in range(60)]
    old += [conversation(170 + n, "snoozed", last_activity_at=AGO - n) for n in range(3)]
    messages = {n: [message(10 * n, n, created_at=WAITING)] for n in range(1, 7)}
    return ChatwootFake(waiting + old, messages)


@pytest.fixture
def chatwoot(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatwootFake]:
    with _account().running() as fake:
        settings = {
            "OCC_SHOP_DOMAIN": SHOP,
            "OCC_CHATWOOT_URL": fake.base_url,
            "OCC_CHATWOOT_ACCOUNT_ID": str(chatwoot_server.ACCOUNT_ID),
            "OCC_CHATWOOT_API_TOKEN": chatwoot_server.TOKEN,
            "OCC_CHATWOOT_REQUESTS_PER_MINUTE": "6000",
        }
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        yield fake


def _refresh(runner: CliRunner, db_url: str, now: datetime) -> Any:
    arguments = ["refresh", "--source", "live", "--now", now.isoformat(), "--db", db_url]
    return runner.invoke(app, arguments)


def _statuses(db_url: str) -> dict[int, str]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            query = select(ChatwootConversation.conversation_id, ChatwootConversation.status)
            return {int(cid): status for cid, status in connection.execute(query) if cid < 100}
    finally:
        engine.dispose()


def _cursor(db_url: str) -> str | None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return load_cursor(connection, SHOP, "chatwoot", "chatwoot.conversations")
    finally:
        engine.dispose()


def _sla(runner: CliRunner, db_url: str) -> dict[str, Any]:
    document = json.loads(runner.invoke(app, ["kpis", "--json", "--db", db_url]).stdout)
    sla: dict[str, Any] = document["kpis"]["sla_breach_rate"]
    return sla


def _pages(fake: ChatwootFake, status: str) -> list[str]:
    return [request.query["page"][0] for request in fake.list_requests(status)]


def _by_id(fake: ChatwootFake) -> list[int]:
    ids = range(1, 300)
    paths = {fake.conversation_path(n): n for n in ids}
    return [paths[r.path] for r in fake.server.requests if r.path in paths]


def _changes_between_refreshes(fake: ChatwootFake) -> None:
    """An agent answers and resolves 1, snoozes 2, deletes 3, resolves 4; 30 customers write
    and are answered and resolved since."""
    fake.messages[1].append(message(11, 1, message_type=1, created_at=REPLIED))
    fake.change_status(1, "resolved", RESOLVED, message_id=12)
    fake.change_status(2, "snoozed", T1 + 25 * 60, message_id=22)
    fake.delete(3)
    fake.change_status(4, "resolved", T1 + 30 * 60, message_id=42)
    fake.add(
        [
            conversation(200 + n, "resolved", created_at=T1 + 3600, last_activity_at=T1 + 3600 + n)
            for n in range(30)
        ]
    )


def test_resolved_snoozed_and_deleted_conversations_leave_the_sla_population(
    runner: CliRunner, db_url: str, chatwoot: ChatwootFake
) -> None:
    first = _refresh(runner, db_url, NOW)
    assert first.exit_code == 0, first.output
    assert _sla(runner, db_url)["population"] == 6
    assert _sla(runner, db_url)["breached"] == [1, 2, 3, 4, 5, 6]
    # Nothing stored was open before: neither the resolved list nor any id was read.
    assert chatwoot.list_requests("resolved") == [] and _by_id(chatwoot) == []
    assert _cursor(db_url) == _iso(WAITING)

    _changes_between_refreshes(chatwoot)
    chatwoot.server.requests.clear()
    second = _refresh(runner, db_url, LATER)
    assert second.exit_code == 0, second.output

    assert _statuses(db_url) == {
        1: "resolved", 2: "snoozed", 3: "deleted", 4: "resolved", 5: "open", 6: "pending",
    }  # fmt: skip
    sla = _sla(runner, db_url)
    assert sla["population"] == 2 and sla["breached"] == [5, 6]
    # The resolved list (four pages: 30 resolved since, 1 and 4, then 60 older than the
    # cursor) is read down to the cursor only; 2 is on the snoozed list's first page; 3, on
    # no list, is read by id: Chatwoot answers 404.
    assert _pages(chatwoot, "resolved") == ["1", "2"]
    assert _pages(chatwoot, "snoozed") == ["1"]
    assert _by_id(chatwoot) == [3]
    assert "Chatwoot no longer has 1 conversation(s) stored as open or pending (3)" in (
        " ".join(second.output.split())
    )
    # Their messages are read: the reply and the resolution's activity message are stored.
    read = {r.path for r in chatwoot.server.requests}
    assert {chatwoot.messages_path(n) for n in (1, 2, 4, 5, 6)} <= read
    assert chatwoot.messages_path(3) not in read
    assert _cursor(db_url) == _iso(T1 + 30 * 60)  # 4's resolution, the newest activity read

    export = runner.invoke(
        app,
        ["export", "conversations", "--format", "json", "--now", LATER.isoformat(),
         "--db", db_url],
    )  # fmt: skip
    assert export.exit_code == 0, export.output
    rows = {row["conversation_id"]: row for row in json.loads(export.stdout, parse_float=Decimal)}
    resolved = rows[1]
    assert resolved["status"] == "resolved"
    assert resolved["first_response_at"] == "2026-11-26T15:10:00Z"
    assert resolved["resolved_at"] == "2026-11-26T15:20:00Z"
    assert resolved["resolved_at_source"] == "activity"
    assert resolved["resolution_minutes"] == Decimal((RESOLVED - CREATED) // 60)
    assert rows[2]["status"] == "snoozed" and rows[2]["resolved_at"] is None
    assert rows[3]["status"] == "deleted" and rows[3]["resolved_at"] is None

    # Nothing left the lists since: the next refresh reads only the open and pending lists.
    chatwoot.server.requests.clear()
    third = _refresh(runner, db_url, LATER + timedelta(minutes=15))
    assert third.exit_code == 0, third.output
    statuses_asked = {r.query["status"][0] for r in chatwoot.requests_to(chatwoot.list_path)}
    assert statuses_asked == {"open", "pending"} and _by_id(chatwoot) == []


def test_a_malformed_answer_fails_the_refresh_and_keeps_the_store(
    runner: CliRunner, db_url: str, chatwoot: ChatwootFake
) -> None:
    assert _refresh(runner, db_url, NOW).exit_code == 0
    chatwoot.delete(3)
    chatwoot.script(chatwoot.conversation_path(3), Reply(200, {"data": {"payload": []}}))
    chatwoot.change_status(1, "resolved", RESOLVED, message_id=12)

    failed = _refresh(runner, db_url, LATER)
    assert failed.exit_code == 4
    assert "without conversation 3" in failed.output and "OCC_CHATWOOT_URL" in failed.output
    assert chatwoot_server.TOKEN not in failed.output
    # One transaction: nothing of the failed refresh was stored, the cursor did not move.
    assert set(_statuses(db_url).values()) == {"open", "pending"}
    assert _cursor(db_url) == _iso(WAITING)


def test_a_drifted_conversation_that_left_is_quarantined_and_stays_as_stored(
    runner: CliRunner, db_url: str, chatwoot: ChatwootFake
) -> None:
    assert _refresh(runner, db_url, NOW).exit_code == 0
    chatwoot.change_status(1, "resolved", RESOLVED, message_id=12)
    chatwoot.find(1)["created_at"] = "2026-11-26T11:00:00Z"  # a string for epoch seconds

    quarantined = _refresh(runner, db_url, LATER)
    assert quarantined.exit_code == 8, quarantined.output
    assert "quarantined" in quarantined.output and "created_at" in quarantined.output
    assert _statuses(db_url)[1] == "open"  # kept aside, not half-read
    assert _sla(runner, db_url)["population"] == 6
