"""Chatwoot REST connector: open and pending conversations with their labels, and their messages.

Requests, all declared in Chatwoot's own OpenAPI document (../shared/contracts/chatwoot/
openapi.json), authenticated by the ``userApiKey`` scheme, the header ``api_access_token``:

- ``GET /api/v1/accounts/{account_id}/conversations?status=open|pending&assignee_type=all&page=N``
  answers ``{"data": {"meta": {..., "all_count"}, "payload": [conversation, ...]}}``.
- ``GET /api/v1/accounts/{account_id}/conversations/{conversation_id}/messages[?before=ID]``
  answers ``{"meta": {...}, "payload": [message, ...]}`` in ascending order.
- ``GET /api/v1/accounts/{account_id}/conversations/meta?status=open`` (:meth:`check`).

Labels are the conversation object's declared ``labels`` list, so no per-conversation
``/labels`` request is made. Snoozed (and resolved) conversations are never requested.

Where occ relies on what the document does not declare:
- the list's page size (25) and that ``data.meta.all_count`` counts the conversations of the
  ``status`` filter whatever ``assignee_type`` is (ConversationFinder does);
- ``snoozed`` as a status: the ``status`` filter lists it, the conversation schema does not;
- that ``messages`` without ``before``/``after`` answers the latest 20 messages (only ``before``
  and ``after`` are declared), and that message ids grow with time, so ``before=<oldest id>``
  walks back to the first message;
- that a conversation's ``id`` is the per-account display id that the messages path and each
  message's ``conversation_id`` also use (the document calls all three "the ID");
- that the token's user sees every inbox (an administrator does; an agent sees only the
  inboxes they belong to — undeclared, from ConversationFinder).

Request budget: Chatwoot's rack-attack throttles every client IP (``req/ip``); the code's
default is ``RACK_ATTACK_LIMIT=3000`` requests per minute, the self-hosting guide states 60 per
minute, and operators often lower the limit. occ sends at most 60 requests per minute to
Chatwoot (one per second, retries included), the lowest published figure, so it never exceeds
the limit by design. A refresh costs one request per 25 open or pending conversations plus one
per 20 messages of each conversation (at least one per conversation): 100 conversations of
fewer than 20 messages each take about 105 requests, under two minutes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from occ.config import Settings
from occ.contracts.chatwoot import ConversationNode, MessageNode
from occ.errors import ConfigError, ContractViolation, SourceError
from occ.sources.base import RawRecord
from occ.sources.http import EvidenceSink, Pacer, RetryPolicy, discard_evidence, send

__all__ = [
    "CONVERSATION_PAGE_SIZE",
    "MESSAGE_PAGE_SIZE",
    "REQUESTS_PER_MINUTE",
    "STATUSES",
    "ChatwootClient",
    "chatwoot_client",
    "fetch_conversations",
    "fetch_messages",
]

SOURCE = "chatwoot"
STATUSES = ("open", "pending")
CONVERSATION_PAGE_SIZE = 25  # undeclared: ConversationFinder's page size
MESSAGE_PAGE_SIZE = 20  # declared for ``before`` ("up to 20 messages")
REQUESTS_PER_MINUTE = 60
_CREDENTIAL_HINT = "OCC_CHATWOOT_API_TOKEN and OCC_CHATWOOT_ACCOUNT_ID (and OCC_CHATWOOT_URL)"
_Model = TypeVar("_Model", bound=BaseModel)


class ChatwootClient:
    """Reads one Chatwoot account through an injected ``httpx.Client``.

    Args:
        http: The client that sends the requests (tests hand one pointed at loopback).
        base_url: Chatwoot's address, e.g. ``https://chat.example.com``.
        account_id: The numeric account id.
        token: The user's access token; it goes only into the ``api_access_token`` header.
        evidence: Receives every answer (never a header, so never the token).
        policy: Retries and the per-request timeout.
        sleep: How to wait (tests record the waits instead).
        clock: A monotonic clock for the pacing.
        requests_per_minute: The request budget (see the module docstring).
        max_pages: Pages read per conversation list or per conversation's messages before
            the pagination is declared endless.
    """

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        account_id: int,
        token: SecretStr,
        *,
        evidence: EvidenceSink = discard_evidence,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        requests_per_minute: int = REQUESTS_PER_MINUTE,
        max_pages: int = 400,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._account_id = account_id
        self._token = token
        self._evidence = evidence
        self._policy = policy or RetryPolicy()
        self._pacer = Pacer(requests_per_minute, sleep, clock)
        self._max_pages = max_pages

    @property
    def _account_path(self) -> str:
        return f"/api/v1/accounts/{self._account_id}"

    def _get_json(self, path: str, params: Mapping[str, str | int]) -> Any:
        request = self._http.build_request(
            "GET",
            self._base_url + path,
            params=dict(params),
            headers={
                "api_access_token": self._token.get_secret_value(),
                "Accept": "application/json",
            },
            timeout=self._policy.timeout,
        )
        self._pacer.wait()
        response = send(
            self._http,
            request,
            source=SOURCE,
            credential_hint=_CREDENTIAL_HINT,
            evidence=self._evidence,
            policy=self._policy,
            sleep=self._pacer.wait,
            params=params,
        )
        if response.is_redirect:
            target = httpx.URL(response.headers.get("Location", "")).copy_with(query=None)
            raise SourceError(
                f"{SOURCE} at {request.url.host} redirected {path} to {target}; set "
                "OCC_CHATWOOT_URL to Chatwoot's final address"
            )
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise SourceError(
                f"{SOURCE} answered {path} with a body that is not JSON ({kind}); check "
                "OCC_CHATWOOT_URL points at Chatwoot"
            ) from None

    def _malformed(self, path: str, expected: str) -> SourceError:
        return SourceError(
            f"{SOURCE} answered {path} without {expected}; check OCC_CHATWOOT_URL points at "
            "Chatwoot (API v1)"
        )

    def _endless(self, path: str, why: str) -> SourceError:
        return SourceError(
            f"{SOURCE} pagination of {path} {why}; stopped to stay within the request budget, "
            "check OCC_CHATWOOT_URL points at Chatwoot"
        )

    def check(self) -> None:
        """One cheap request proving URL, account and token work (the open-conversation counts).

        Raises:
            CredentialsRejected: the token is wrong or cannot read the account.
            SourceError: the host is not Chatwoot or the account does not exist.
        """
        path = f"{self._account_path}/conversations/meta"
        body = self._get_json(path, {"status": "open"})
        meta = body.get("meta") if isinstance(body, dict) else None
        if not isinstance(meta, dict) or not isinstance(meta.get("all_count"), int | float):
            raise self._malformed(path, "meta.all_count")

    def iter_conversations(self) -> Iterator[RawRecord]:
        """Every open, then every pending conversation: one record per conversation object.

        Raises:
            SourceError: an answer is not the documented shape, or the pagination is endless.
        """
        for status in STATUSES:
            yield from self._conversations(status)

    def _conversations(self, status: str) -> Iterator[RawRecord]:
        path = f"{self._account_path}/conversations"
        seen: set[int] = set()
        for page in range(1, self._max_pages + 1):
            body = self._get_json(path, {"status": status, "assignee_type": "all", "page": page})
            data = body.get("data") if isinstance(body, dict) else None
            payload = data.get("payload") if isinstance(data, dict) else None
            if not isinstance(payload, list):
                raise self._malformed(path, "data.payload (a list of conversations)")
            if not payload:
                return
            new = 0
            for index, item in enumerate(payload):
                conversation_id = item.get("id") if isinstance(item, dict) else None
                if isinstance(conversation_id, int):
                    if conversation_id in seen:
                        continue  # moved to a later page by new activity: read once
                    seen.add(conversation_id)
                new += 1
                where = f"{SOURCE} {path}?status={status}&page={page} data.payload[{index}]"
                yield RawRecord(where, _dumps(item))
            if new == 0:
                raise self._endless(path, f"(status={status}) repeats page {page - 1}")
            meta = data.get("meta") if isinstance(data, dict) else None
            total = meta.get("all_count") if isinstance(meta, dict) else None
            if isinstance(total, int | float) and len(seen) >= total:
                return
        raise self._endless(path, f"(status={status}) did not end after {self._max_pages} pages")

    def iter_messages(self, conversation_ids: Iterable[int]) -> Iterator[RawRecord]:
        """Every message of each conversation, newest page first: one record per message.

        Raises:
            SourceError: an answer is not the documented shape, or the pagination is endless.
        """
        for conversation_id in conversation_ids:
            yield from self._messages(conversation_id)

    def _messages(self, conversation_id: int) -> Iterator[RawRecord]:
        path = f"{self._account_path}/conversations/{conversation_id}/messages"
        before: int | None = None
        for _ in range(self._max_pages):
            params: dict[str, str | int] = {} if before is None else {"before": before}
            body = self._get_json(path, params)
            payload = body.get("payload") if isinstance(body, dict) else None
            if not isinstance(payload, list):
                raise self._malformed(path, "payload (a list of messages)")
            if not payload:
                return
            query = "" if before is None else f"?before={before}"
            for index, item in enumerate(payload):
                yield RawRecord(f"{SOURCE} {path}{query} payload[{index}]", _dumps(item))
            ids = [m["id"] for m in payload if isinstance(m, dict) and isinstance(m.get("id"), int)]
            if not ids:
                raise self._malformed(path, "message ids")
            oldest = min(ids)
            if before is not None and oldest >= before:
                raise self._endless(path, f"answers messages from id {oldest} for before={before}")
            if len(payload) < MESSAGE_PAGE_SIZE:
                return  # a short page is the first one
            before = oldest
        raise self._endless(path, f"did not end after {self._max_pages} pages")


def _dumps(item: Any) -> str:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def _is_set(value: object) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value().strip())
    return value is not None and value != ""


def chatwoot_client(
    settings: Settings,
    http: httpx.Client,
    evidence: EvidenceSink = discard_evidence,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ChatwootClient | None:
    """The client the settings describe, or None when Chatwoot is not configured at all.

    Raises:
        ConfigError: only some of the three Chatwoot settings are set, or the URL is not http(s).
    """
    given = {
        "OCC_CHATWOOT_URL": settings.chatwoot_url,
        "OCC_CHATWOOT_ACCOUNT_ID": settings.chatwoot_account_id,
        "OCC_CHATWOOT_API_TOKEN": settings.chatwoot_api_token,
    }
    missing = [name for name, value in given.items() if not _is_set(value)]
    if len(missing) == len(given):
        return None
    url, account_id = settings.chatwoot_url, settings.chatwoot_account_id
    token = settings.chatwoot_api_token
    if missing or url is None or account_id is None or token is None:
        raise ConfigError(f"Chatwoot is partly configured: set {' and '.join(missing)} too")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = httpx.URL()
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(
            "OCC_CHATWOOT_URL must be Chatwoot's address, like https://chat.example.com"
        )
    policy = RetryPolicy(
        max_attempts=settings.http_max_attempts, timeout=settings.http_timeout_seconds
    )
    return ChatwootClient(
        http,
        url,
        account_id,
        token,
        evidence=evidence,
        policy=policy,
        sleep=sleep,
        clock=clock,
        requests_per_minute=settings.chatwoot_requests_per_minute,
    )


def _validated(records: Iterable[RawRecord], model: type[_Model], what: str) -> Iterator[_Model]:
    for record in records:
        try:
            yield model.model_validate_json(record.text)
        except ValidationError as exc:
            raise _violation(record, what, exc) from None


def _violation(record: RawRecord, what: str, exc: ValidationError) -> ContractViolation:
    try:
        parsed = json.loads(record.text)
    except ValueError:
        parsed = None
    record_id = parsed.get("id") if isinstance(parsed, dict) else None
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "record"
    got = type(first.get("input")).__name__ if first["type"] != "missing" else "nothing"
    return ContractViolation(
        f"{SOURCE} {what} {record_id if record_id is not None else '?'} ({record.location}) "
        f"breaks its contract at {where}: expected {_expectation(first['msg'])}, got {got}; "
        "the upstream schema moved, report it"
    )


def _expectation(message: str) -> str:
    """Pydantic's "Input should be a valid integer" as "a valid integer"."""
    for prefix in ("Input should be ", "Value error, ", "Field required"):
        if message.startswith(prefix):
            return message.removeprefix(prefix) or "the field"
    return message


def fetch_conversations(client: ChatwootClient) -> Iterator[ConversationNode]:
    """Open and pending conversations as validated contract models (for library use).

    Raises:
        ContractViolation: a conversation does not match :class:`ConversationNode`.
    """
    return _validated(client.iter_conversations(), ConversationNode, "conversation")


def fetch_messages(
    client: ChatwootClient, conversation_ids: Iterable[int]
) -> Iterator[MessageNode]:
    """The messages of ``conversation_ids`` as validated contract models.

    Raises:
        ContractViolation: a message does not match :class:`MessageNode`.
    """
    return _validated(client.iter_messages(conversation_ids), MessageNode, "message")
