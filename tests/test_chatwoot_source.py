"""The Chatwoot connector over real HTTP against a fake Chatwoot on 127.0.0.1."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from fakes.chatwoot_server import (
    ACCOUNT_ID,
    BASE_TIME,
    THROTTLED,
    TOKEN,
    ChatwootFake,
    conversation,
    message,
)
from fakes.loopback import Reply, Request
from occ.config import Settings
from occ.contracts.chatwoot import ConversationNode, MessageNode
from occ.contracts.evidence import Evidence
from occ.errors import (
    ConfigError,
    ContractViolation,
    CredentialsRejected,
    SourceError,
    UpstreamUnavailable,
)
from occ.sources.chatwoot import (
    ChatwootClient,
    chatwoot_client,
    fetch_conversations,
    fetch_messages,
)
from occ.sources.http import RetryPolicy

OPENAPI = Path(__file__).resolve().parents[2] / "shared/contracts/chatwoot/openapi.json"
LIST = f"/api/v1/accounts/{ACCOUNT_ID}/conversations"


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


def _conversations() -> list[dict[str, Any]]:
    found = [conversation(i, "open", labels=("vip",) if i % 5 == 0 else ()) for i in range(1, 31)]
    found += [conversation(i, "pending") for i in range(31, 34)]
    found += [conversation(i, "snoozed") for i in range(34, 38)]
    found += [conversation(i, "resolved") for i in range(38, 40)]
    return found


def _messages() -> dict[int, list[dict[str, Any]]]:
    many = [message(100 + n, 1, message_type=n % 2) for n in range(45)]
    few = [message(300 + n, 31, message_type=n % 2, private=n == 2) for n in range(5)]
    return {1: many, 31: few}


@pytest.fixture
def fake() -> Iterator[ChatwootFake]:
    with ChatwootFake(_conversations(), _messages()).running() as running:
        yield running


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture
def evidence() -> list[Evidence]:
    return []


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def _client(
    fake: ChatwootFake,
    http: httpx.Client,
    time_: FakeTime,
    evidence: list[Evidence],
    *,
    token: str = TOKEN,
    timeout: float = 5.0,
    max_pages: int = 400,
) -> ChatwootClient:
    return ChatwootClient(
        http,
        fake.base_url,
        ACCOUNT_ID,
        SecretStr(token),
        evidence=evidence.append,
        policy=RetryPolicy(max_attempts=3, timeout=timeout),
        sleep=time_.sleep,
        clock=time_.clock,
        max_pages=max_pages,
    )


def test_reads_every_page_of_open_and_pending_conversations_only(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    records = list(_client(fake, http, time_, evidence).iter_conversations())

    nodes = [ConversationNode.model_validate_json(record.text) for record in records]
    assert sorted(node.id for node in nodes) == list(range(1, 34))
    assert {node.status for node in nodes} == {"open", "pending"}
    assert [n.labels for n in nodes if n.id == 5] == [["vip"]]
    assert all(node.meta and node.meta.sender and node.meta.sender.name for node in nodes)
    asked = [(r.query["status"][0], r.query["page"][0]) for r in fake.requests_to(LIST)]
    # 30 open conversations are two pages of 25; the count in data.meta ends each walk.
    assert asked == [("open", "1"), ("open", "2"), ("pending", "1")]
    assert records[0].location == f"chatwoot {LIST}?status=open&page=1 data.payload[0]"


def test_messages_are_drained_through_before_the_oldest_id(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    records = list(_client(fake, http, time_, evidence).iter_messages([1, 31]))

    nodes = [MessageNode.model_validate_json(record.text) for record in records]
    assert sorted(node.id for node in nodes if node.conversation_id == 1) == list(range(100, 145))
    assert sorted(node.id for node in nodes if node.conversation_id == 31) == list(range(300, 305))
    assert [node.private for node in nodes if node.id == 302] == [True]
    befores = [r.query.get("before", [None])[0] for r in fake.requests_to(fake.messages_path(1))]
    assert befores == [None, "125", "105"]
    # A first page shorter than 20 is the whole conversation: one request.
    assert len(fake.requests_to(fake.messages_path(31))) == 1


def _resolve(spec: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in item:
        return item
    node: Any = spec
    for part in item["$ref"].removeprefix("#/").split("/"):
        node = node[part]
    resolved: dict[str, Any] = node
    return resolved


def _operation(spec: dict[str, Any], request: Request) -> tuple[str, dict[str, Any], list[Any]]:
    matches = []
    for template, path_item in spec["paths"].items():
        pattern = "^" + re.sub(r"\{[^/]+\}", r"[^/]+", template) + "$"
        if re.match(pattern, request.path) and request.method.lower() in path_item:
            matches.append((template.count("{"), template, path_item))
    assert matches, f"{request.method} {request.path} is not in Chatwoot's OpenAPI document"
    _, template, path_item = min(matches)
    operation = path_item[request.method.lower()]
    parameters = path_item.get("parameters", []) + operation.get("parameters", [])
    return template, operation, [_resolve(spec, p) for p in parameters]


def test_every_request_occ_sends_is_declared_in_chatwoots_openapi(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    client = _client(fake, http, time_, evidence)
    client.check()
    # 35 snoozed and 38 resolved left the lists; 99 was deleted: every kind of request is sent.
    list(client.iter_conversations([1, 35, 38, 99], since=datetime(2020, 1, 1, tzinfo=UTC)))
    list(client.iter_messages([1, 31]))
    spec = json.loads(OPENAPI.read_text())

    templates = set()
    for request in fake.server.requests:
        template, operation, parameters = _operation(spec, request)
        templates.add(template)
        declared = {p["name"]: p for p in parameters if p["in"] == "query"}
        for name, values in request.query.items():
            assert name in declared, f"{template} does not declare ?{name}"
            schema = declared[name]["schema"]
            for value in values:
                assert value in schema.get("enum", [value]), f"{name}={value} not in its enum"
                assert schema["type"] != "integer" or value.isdigit()
        schemes = [name for option in operation["security"] for name in option]
        headers = {spec["components"]["securitySchemes"][name]["name"] for name in schemes}
        assert headers == {"api_access_token"}
        assert request.headers["api_access_token"] == TOKEN
    assert templates == {
        "/api/v1/accounts/{account_id}/conversations",
        "/api/v1/accounts/{account_id}/conversations/meta",
        "/api/v1/accounts/{account_id}/conversations/{conversation_id}",
        "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages",
    }
    statuses = {v for r in fake.requests_to(LIST) for v in r.query["status"]}
    assert statuses == {"open", "pending", "resolved", "snoozed"}


def test_throttling_without_retry_after_backs_off_and_recovers(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    fake.script(LIST, THROTTLED, THROTTLED)
    records = list(_client(fake, http, time_, evidence).iter_conversations())
    assert len(records) == 33
    assert [e.status for e in evidence[:3]] == [429, 429, 200]


def test_429_retry_after_is_honoured(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    retry_after = Reply(429, raw=b"Retry later\n", headers={"Retry-After": "7"})
    fake.script(LIST, retry_after)
    records = list(_client(fake, http, time_, evidence).iter_conversations())
    assert len(records) == 33
    assert time_.sleeps[0] == 7.0


def test_500_then_success(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    fake.script(fake.messages_path(31), Reply(500, {"error": "Internal Server Error"}))
    records = list(_client(fake, http, time_, evidence).iter_messages([31]))
    assert len(records) == 5
    assert [e.status for e in evidence] == [500, 200]


def test_timeouts_end_in_upstream_unavailable(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    slow = Reply(200, {"data": {"meta": {}, "payload": []}}, delay=0.6)
    fake.script(LIST, slow, slow, slow)
    with pytest.raises(UpstreamUnavailable) as caught:
        list(_client(fake, http, time_, evidence, timeout=0.2).iter_conversations())
    message = str(caught.value)
    assert "chatwoot" in message and "timed out 3 times" in message and "\n" not in message


def test_rejected_token_names_the_setting_and_never_the_token(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    expired = "cw-expired-Qq81bWs0PnYz"
    with pytest.raises(CredentialsRejected) as caught:
        list(_client(fake, http, time_, evidence, token=expired).iter_conversations())
    message = str(caught.value)
    assert "chatwoot" in message and "OCC_CHATWOOT_API_TOKEN" in message and "401" in message
    assert expired not in message and TOKEN not in message and "\n" not in message
    assert fake.server.requests[0].headers["api_access_token"] == expired


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(200, raw=b"<html><body>Welcome</body></html>", headers={
            "Content-Type": "text/html; charset=utf-8"}), "not JSON (text/html)"),
        (Reply(200, {"payload": []}), "without data.payload"),
        (Reply(200, {"data": {"payload": {"id": 1}}}), "without data.payload"),
    ],
)  # fmt: skip
def test_malformed_body_is_one_line_source_error(
    fake: ChatwootFake,
    http: httpx.Client,
    time_: FakeTime,
    evidence: list[Evidence],
    reply: Reply,
    expected: str,
) -> None:
    fake.script(LIST, reply)
    with pytest.raises(SourceError) as caught:
        list(_client(fake, http, time_, evidence).iter_conversations())
    message = str(caught.value)
    assert expected in message and "OCC_CHATWOOT_URL" in message and "\n" not in message


def test_endless_conversation_pages_are_bounded(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    def endless(request: Request) -> Reply:
        page = int(request.query["page"][0])
        payload = [conversation(page * 100 + i, "open") for i in range(25)]
        return Reply(200, {"data": {"meta": {"all_count": 10**9}, "payload": payload}})

    fake.server.route("GET", LIST, endless)
    records = []
    with pytest.raises(SourceError, match="did not end after 4 pages"):
        for record in _client(fake, http, time_, evidence, max_pages=4).iter_conversations():
            records.append(record)
    assert len(fake.server.requests) == 4 and len(records) == 100


def test_a_list_that_ignores_page_stops_at_once(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    same = {"data": {"meta": {"all_count": 500}, "payload": [conversation(1, "open")]}}
    fake.server.route("GET", LIST, lambda request: Reply(200, same))
    with pytest.raises(SourceError, match="repeats page 1"):
        list(_client(fake, http, time_, evidence).iter_conversations())
    assert len(fake.server.requests) == 2


def test_messages_that_ignore_before_are_bounded(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    page = [message(500 + n, 1) for n in range(20)]
    fake.server.route("GET", fake.messages_path(1), lambda r: Reply(200, {"payload": page}))
    with pytest.raises(SourceError, match="answers messages from id 500 for before=500"):
        list(_client(fake, http, time_, evidence).iter_messages([1]))
    assert len(fake.server.requests) == 2


def test_evidence_is_recorded_for_every_answer_without_the_token(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    fake.script(LIST, THROTTLED)
    client = _client(fake, http, time_, evidence)
    client.check()
    list(client.iter_conversations())
    list(client.iter_messages([1, 31]))
    with pytest.raises(CredentialsRejected):
        _client(fake, http, time_, evidence, token="cw-wrong-token").check()

    assert len(evidence) == len(fake.server.requests) == 10
    assert [e.status for e in evidence].count(429) == 1 and evidence[-1].status == 401
    for item in evidence:
        assert item.source == "chatwoot" and item.method == "GET"
        assert item.endpoint.startswith(f"/api/v1/accounts/{ACCOUNT_ID}/conversations")
        for text in (item.body.decode(), json.dumps(dict(item.params)), item.endpoint):
            assert TOKEN not in text and "cw-wrong-token" not in text
    assert {"status": "pending", "assignee_type": "all", "page": 1} in [
        dict(e.params) for e in evidence
    ]


def test_requests_stay_within_sixty_per_minute(
    fake: ChatwootFake, time_: FakeTime, evidence: list[Evidence]
) -> None:
    sent_at: list[float] = []
    with httpx.Client(event_hooks={"request": [lambda _: sent_at.append(time_.now)]}) as http:
        fake.script(LIST, Reply(500, {}))
        client = _client(fake, http, time_, evidence)
        list(client.iter_conversations())
        list(client.iter_messages([1, 31]))
    assert len(sent_at) == 8
    gaps = [later - earlier for earlier, later in zip(sent_at, sent_at[1:], strict=False)]
    assert min(gaps) >= 1.0  # retries included
    assert all(sum(1 for t in sent_at if start <= t < start + 60) <= 60 for start in sent_at)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_unreachable_host_names_the_url_setting(
    http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    client = ChatwootClient(
        http,
        f"http://127.0.0.1:{_closed_port()}",
        ACCOUNT_ID,
        SecretStr(TOKEN),
        policy=RetryPolicy(max_attempts=2, timeout=1.0),
        sleep=time_.sleep,
        clock=time_.clock,
    )
    with pytest.raises(UpstreamUnavailable) as caught:
        client.check()
    message = str(caught.value)
    assert "chatwoot at 127.0.0.1 is unreachable" in message and "OCC_CHATWOOT_URL" in message
    assert TOKEN not in message


def test_check_refuses_an_answer_without_the_counts(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    fake.script(f"{LIST}/meta", Reply(200, {"status": "ok"}))
    with pytest.raises(SourceError, match="without meta.all_count; check OCC_CHATWOOT_URL"):
        _client(fake, http, time_, evidence).check()


def test_a_redirect_is_not_followed_with_the_token(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    moved = Reply(301, raw=b"", headers={"Location": "https://chat.example.com/app?x=1"})
    fake.script(f"{LIST}/meta", moved)
    with pytest.raises(SourceError, match="redirected .* to https://chat.example.com/app; set"):
        _client(fake, http, time_, evidence).check()
    assert len(fake.server.requests) == 1


def test_client_from_settings(fake: ChatwootFake, http: httpx.Client, time_: FakeTime) -> None:
    assert chatwoot_client(Settings(), http) is None
    with pytest.raises(ConfigError, match="set OCC_CHATWOOT_API_TOKEN too"):
        chatwoot_client(Settings(chatwoot_url=fake.base_url, chatwoot_account_id=7), http)
    with pytest.raises(ConfigError, match="OCC_CHATWOOT_URL must be"):
        chatwoot_client(
            Settings(
                chatwoot_url="chat.example.com",
                chatwoot_account_id=7,
                chatwoot_api_token=SecretStr(TOKEN),
            ),
            http,
        )
    settings = Settings(
        chatwoot_url=fake.base_url + "/",
        chatwoot_account_id=ACCOUNT_ID,
        chatwoot_api_token=SecretStr(TOKEN),
    )
    client = chatwoot_client(settings, http, sleep=time_.sleep, clock=time_.clock)
    assert client is not None
    client.check()
    (probe,) = fake.server.requests
    assert probe.path == f"{LIST}/meta" and probe.query == {"status": ["open"]}


def test_fetch_functions_yield_validated_models(
    fake: ChatwootFake, http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    client = _client(fake, http, time_, evidence)
    conversations = list(fetch_conversations(client))
    assert len(conversations) == 33 and all(isinstance(c, ConversationNode) for c in conversations)
    messages = list(fetch_messages(client, [c.id for c in conversations]))
    # Only conversations 1 and 31 have messages in the fake; the others have none.
    assert len(messages) == 50 and all(isinstance(m, MessageNode) for m in messages)


def test_fetch_names_record_field_and_types_of_a_contract_violation(
    http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    drifted = conversation(5, "open")
    drifted["created_at"] = "2025-11-26T12:00:00Z"
    with ChatwootFake([drifted]).running() as fake:
        with pytest.raises(ContractViolation) as caught:
            list(fetch_conversations(_client(fake, http, time_, evidence)))
    message = str(caught.value)
    assert message.startswith("chatwoot conversation 5 (chatwoot /api/v1/accounts/7/")
    assert "at created_at: expected" in message and "Unix seconds" in message
    assert "got str" in message


# --- conversations that left the open and pending lists -------------------------------------

SINCE = datetime.fromtimestamp(BASE_TIME, UTC)  # the previous sync's cursor less the overlap
RECENT = BASE_TIME + 3600  # activity since the previous sync
OLD = BASE_TIME - 86_400  # activity before it


def _account_after_a_sync() -> ChatwootFake:
    """Tracked 1–5 were open at the previous sync. Since then 1 stayed open, 4 was resolved
    and 5 snoozed, 2 was resolved though its activity still reads older than the cursor (its
    activity message not written yet), 3 was deleted; 30 others were opened and resolved."""
    found = [conversation(1, "open", last_activity_at=RECENT)]
    found += [conversation(4, "resolved", last_activity_at=RECENT + 60)]
    found += [conversation(5, "snoozed", last_activity_at=RECENT + 120)]
    found += [conversation(2, "resolved", last_activity_at=OLD - 100)]
    found += [
        conversation(200 + n, "resolved", last_activity_at=RECENT + 600 + n) for n in range(30)
    ]
    found += [conversation(100 + n, "resolved", last_activity_at=OLD - n) for n in range(55)]
    found += [conversation(170 + n, "snoozed", last_activity_at=OLD - n) for n in range(3)]
    return ChatwootFake(found)


def _pages_read(fake: ChatwootFake, status: str) -> list[str]:
    return [request.query["page"][0] for request in fake.list_requests(status)]


def _shown(fake: ChatwootFake) -> list[int]:
    prefix = f"{LIST}/"
    return [
        int(r.path.removeprefix(prefix))
        for r in fake.server.requests
        if r.path.startswith(prefix) and r.path.removeprefix(prefix).isdigit()
    ]


def test_conversations_that_left_are_found_down_to_the_cursor_then_by_id(
    http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    with _account_after_a_sync().running() as fake:
        client = _client(fake, http, time_, evidence)
        records = list(client.iter_conversations([1, 2, 3, 4, 5], since=SINCE))

    statuses = {
        node.id: node.status
        for node in (ConversationNode.model_validate_json(r.text) for r in records)
    }
    assert statuses == {1: "open", 4: "resolved", 5: "snoozed", 2: "resolved"}
    # The resolved list has four pages; its second reaches activity older than the cursor.
    assert _pages_read(fake, "resolved") == ["1", "2"]
    assert _pages_read(fake, "snoozed") == ["1"]
    # Only what the lists did not account for is read by id: 2 (behind the cursor) and 3.
    assert _shown(fake) == [2, 3]
    assert client.deleted_conversations() == [3]
    # The next cursor: the newest activity among the conversations read (4 at RECENT + 60 …).
    newest = max(RECENT, RECENT + 60, RECENT + 120, OLD - 100)
    assert client.conversations_cursor() == datetime.fromtimestamp(newest, UTC).isoformat()
    assert records[-1].location == f"chatwoot {LIST}/2"


def test_without_a_cursor_each_conversation_that_left_is_read_by_id(
    http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    with _account_after_a_sync().running() as fake:
        client = _client(fake, http, time_, evidence)
        records = list(client.iter_conversations([1, 3, 4, 5], since=None))

    assert sorted(json.loads(r.text)["id"] for r in records) == [1, 4, 5]
    assert fake.list_requests("resolved") == fake.list_requests("snoozed") == []
    assert _shown(fake) == [3, 4, 5] and client.deleted_conversations() == [3]


def test_one_conversation_that_left_costs_one_request_and_none_costs_nothing(
    http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    with _account_after_a_sync().running() as fake:
        client = _client(fake, http, time_, evidence)
        list(client.iter_conversations([1], since=SINCE))
        assert [r.query["status"][0] for r in fake.requests_to(LIST)] == ["open", "pending"]
        assert _shown(fake) == []

        records = list(client.iter_conversations([1, 4], since=SINCE))
    assert [json.loads(r.text)["status"] for r in records] == ["open", "resolved"]
    assert fake.list_requests("resolved") == [] and _shown(fake) == [4]


def test_a_malformed_resolved_list_is_one_line_source_error(
    http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    with _account_after_a_sync().running() as fake:
        normal = fake.server.routes[("GET", LIST)]

        def resolved_is_malformed(request: Request) -> Reply:
            if request.query.get("status") == ["resolved"]:
                return Reply(200, {"payload": []})
            return normal(request)

        fake.server.route("GET", LIST, resolved_is_malformed)
        with pytest.raises(SourceError) as caught:
            list(_client(fake, http, time_, evidence).iter_conversations([2, 3, 4], since=SINCE))
    message = str(caught.value)
    assert "without data.payload" in message and "OCC_CHATWOOT_URL" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(200, {"error": "Resource could not be found"}), "without conversation 4"),
        (Reply(200, [conversation(4, "resolved")]), "without conversation 4"),
        (Reply(200, conversation(5, "resolved")), "without conversation 4"),
        (Reply(200, raw=b"<html></html>", headers={"Content-Type": "text/html"}), "not JSON"),
        (Reply(422, {"error": "unprocessable"}), "answered HTTP 422"),
    ],
)
def test_a_malformed_conversation_by_id_is_one_line_source_error(
    http: httpx.Client, time_: FakeTime, evidence: list[Evidence], reply: Reply, expected: str
) -> None:
    with _account_after_a_sync().running() as fake:
        fake.script(fake.conversation_path(4), reply)
        with pytest.raises(SourceError) as caught:
            list(_client(fake, http, time_, evidence).iter_conversations([1, 4], since=SINCE))
    message = str(caught.value)
    assert expected in message and "\n" not in message and TOKEN not in message


def test_a_drifted_conversation_that_left_is_a_contract_violation(
    http: httpx.Client, time_: FakeTime, evidence: list[Evidence]
) -> None:
    drifted = conversation(4, "resolved", last_activity_at=RECENT)
    drifted["created_at"] = "2025-11-26T12:00:00Z"
    with ChatwootFake([drifted]).running() as fake:
        client = _client(fake, http, time_, evidence)
        assert list(fetch_conversations(client)) == []  # neither listed nor tracked: not read
        with pytest.raises(ContractViolation) as caught:
            list(fetch_conversations(client, [4]))
    message = str(caught.value)
    assert message.startswith(f"chatwoot conversation 4 (chatwoot {LIST}/4)")
    assert "at created_at: expected" in message and "got str" in message
