"""Chatwoot REST connector: open and pending conversations with their labels, and their messages;
and what became of the conversations the store still holds as open or pending.

Requests, all declared in Chatwoot's own OpenAPI document (../shared/contracts/chatwoot/
openapi.json), authenticated by the ``userApiKey`` scheme, the header ``api_access_token``:

- ``GET /api/v1/accounts/{account_id}/conversations?status=open|pending&assignee_type=all&page=N``
  answers ``{"data": {"meta": {..., "all_count"}, "payload": [conversation, ...]}}``; the same
  with ``status=resolved|snoozed`` for the conversations that left the open and pending lists.
- ``GET /api/v1/accounts/{account_id}/conversations/{conversation_id}`` answers one
  conversation object, or 404 once the conversation was deleted.
- ``GET /api/v1/accounts/{account_id}/conversations/{conversation_id}/messages[?before=ID]``
  answers ``{"meta": {...}, "payload": [message, ...]}`` in ascending order.
- ``GET /api/v1/accounts/{account_id}/conversations/meta?status=open`` (:meth:`check`).

Labels are the conversation object's declared ``labels`` list, so no per-conversation
``/labels`` request is made.

**Conversations that left the open and pending lists.** The store upserts conversations by id,
so one stored as open would stay open once resolved. After both lists were read completely,
each conversation the store holds as open or pending (``tracked``) that neither list held has
left those states, and its current state is read:

1. When the previous sync left a cursor (the newest ``last_activity_at`` it read), the
   ``status=resolved``, then the ``status=snoozed`` list, newest activity first, each until a
   page reaches conversations older than the cursor (less an overlap): resolving or snoozing
   writes an activity message, which moves ``last_activity_at``, so a conversation that left
   since sits above the cursor. A page is read only while two or more are unaccounted for,
   and at most n − 1 pages in all (n: those unaccounted for after the lists): a page costs
   what reading one conversation by id does.
2. Each one still unaccounted for is read by id; a 404 means Chatwoot deleted it
   (:meth:`ChatwootClient.deleted_conversations`; the refresh stores it as ``deleted``).

They are yielded with the open and pending ones, so their messages (the final replies, the
resolution's activity message) are read too. The result never depends on the cursor, only
the cost: one the walk misses (its activity message not yet written) is read by id.
Conversations opened and resolved between two syncs, never seen open, are not read.

Where occ relies on what the document does not declare:
- the list's page size (25) and that ``data.meta.all_count`` counts the conversations of the
  ``status`` filter whatever ``assignee_type`` is (ConversationFinder does);
- the list's order, newest ``last_activity_at`` first: ConversationFinder's default
  (``last_activity_at_desc``; ``latest`` before), as ``sort_by`` is not declared;
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
fewer than 20 messages each take about 105 requests, under two minutes. n conversations that
left the lists since the last sync add 1 to 2n − 1 requests to find them (usually a page or
two) and their messages (at least one request each); none left, nothing is added.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from occ.config import Settings
from occ.contracts.chatwoot import OPEN_STATUSES, ConversationNode, MessageNode
from occ.errors import ConfigError, ContractViolation, SourceError
from occ.sources.base import RawRecord
from occ.sources.http import EvidenceSink, Pacer, RetryPolicy, discard_evidence, send

__all__ = [
    "CONVERSATION_PAGE_SIZE",
    "LEFT_STATUSES",
    "MESSAGE_PAGE_SIZE",
    "REQUESTS_PER_MINUTE",
    "STATUSES",
    "ChatwootClient",
    "StoredConversations",
    "chatwoot_client",
    "fetch_conversations",
    "fetch_messages",
]

SOURCE = "chatwoot"
STATUSES = OPEN_STATUSES
LEFT_STATUSES = ("resolved", "snoozed")  # where a conversation goes when it leaves STATUSES
CONVERSATION_PAGE_SIZE = 25  # undeclared: ConversationFinder's page size
MESSAGE_PAGE_SIZE = 20  # declared for ``before`` ("up to 20 messages")
REQUESTS_PER_MINUTE = 60
_CREDENTIAL_HINT = "OCC_CHATWOOT_API_TOKEN and OCC_CHATWOOT_ACCOUNT_ID (and OCC_CHATWOOT_URL)"
_Model = TypeVar("_Model", bound=BaseModel)
_Page = list[tuple[str, Any]]  # (location, conversation object) of one list page


@dataclass(frozen=True, slots=True)
class StoredConversations:
    """What the previous syncs of a shop left in the store, for the next one.

    Attributes:
        tracked: The ids of the conversations stored as open or pending.
        since: Where the resolved and snoozed lists are read back to: the previous sync's
            cursor less an overlap (None: no cursor, each conversation is read by id).
    """

    tracked: frozenset[int] = frozenset()
    since: datetime | None = None


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
        self._newest_activity: int | float | None = None
        self._deleted: list[int] = []

    @property
    def _account_path(self) -> str:
        return f"/api/v1/accounts/{self._account_id}"

    def _get_json(self, path: str, params: Mapping[str, str | int]) -> Any:
        return self._json(path, self._send(path, params))

    def _send(
        self, path: str, params: Mapping[str, str | int], answered: Collection[int] = ()
    ) -> httpx.Response:
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
            answered=answered,
        )
        if response.is_redirect:
            target = httpx.URL(response.headers.get("Location", "")).copy_with(query=None)
            raise SourceError(
                f"{SOURCE} at {request.url.host} redirected {path} to {target}; set "
                "OCC_CHATWOOT_URL to Chatwoot's final address"
            )
        return response

    def _json(self, path: str, response: httpx.Response) -> Any:
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

    def iter_conversations(
        self, tracked: Collection[int] = (), since: datetime | None = None
    ) -> Iterator[RawRecord]:
        """Every open, then every pending conversation; then, as Chatwoot holds it now, each
        ``tracked`` one that neither list held (see the module docstring).

        Args:
            tracked: The conversations the store holds as open or pending.
            since: Where the resolved and snoozed lists are read back to (None: not read,
                each conversation still unaccounted for is read by id).

        Raises:
            SourceError: an answer is not the documented shape, or the pagination is endless.
        """
        listed: set[int] = set()
        for status in STATUSES:
            for page in self._pages(status):
                for location, item in page:
                    conversation_id = _conversation_id(item)
                    if conversation_id is not None:
                        listed.add(conversation_id)
                    yield self._record(location, item)
        left = set(tracked) - listed
        if left:
            yield from self._left(left, since)

    def _pages(self, status: str) -> Generator[_Page]:
        """The ``status`` list page by page, newest activity first: each page's conversations
        that no earlier page held."""
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
            fresh: _Page = []
            for index, item in enumerate(payload):
                conversation_id = _conversation_id(item)
                if conversation_id is not None:
                    if conversation_id in seen:
                        continue  # moved to a later page by new activity: read once
                    seen.add(conversation_id)
                where = f"{SOURCE} {path}?status={status}&page={page} data.payload[{index}]"
                fresh.append((where, item))
            if not fresh:
                raise self._endless(path, f"(status={status}) repeats page {page - 1}")
            yield fresh
            meta = data.get("meta") if isinstance(data, dict) else None
            total = meta.get("all_count") if isinstance(meta, dict) else None
            if isinstance(total, int | float) and len(seen) >= total:
                return
        raise self._endless(path, f"(status={status}) did not end after {self._max_pages} pages")

    def _left(self, left: set[int], since: datetime | None) -> Iterator[RawRecord]:
        """The conversations of ``left`` (emptied as they are found): from the resolved and
        snoozed lists down to ``since``, then the rest one by one (404: deleted)."""
        if since is not None:
            yield from self._walk(left, since)
        for conversation_id in sorted(left):
            record = self._conversation(conversation_id)
            if record is None:
                self._deleted.append(conversation_id)
            else:
                yield record

    def _walk(self, left: set[int], since: datetime) -> Iterator[RawRecord]:
        """Those of ``left`` on the resolved, then the snoozed list, each read down to the
        first page reaching activity older than ``since``; a page only while two or more are
        left, and at most n − 1 pages in all (a page costs what one read by id does)."""
        pages_left = len(left) - 1
        for status in LEFT_STATUSES:
            pages = self._pages(status)
            while len(left) > 1 and pages_left > 0:
                page = next(pages, None)
                if page is None:
                    break
                pages_left -= 1
                for location, item in page:
                    if (conversation_id := _conversation_id(item)) in left:
                        left.discard(conversation_id)
                        yield self._record(location, item)
                activities = [a for _, item in page if (a := _activity(item)) is not None]
                if not activities or min(activities) < since.timestamp():
                    break  # older than the previous sync: nothing further down left since
            pages.close()

    def _conversation(self, conversation_id: int) -> RawRecord | None:
        """One conversation as Chatwoot holds it now; None when it answers 404 (deleted)."""
        path = f"{self._account_path}/conversations/{conversation_id}"
        response = self._send(path, {}, answered=(404,))
        if response.status_code == 404:
            return None
        body = self._json(path, response)
        if not isinstance(body, dict) or _conversation_id(body) != conversation_id:
            raise self._malformed(path, f"conversation {conversation_id} (a conversation object)")
        return self._record(f"{SOURCE} {path}", body)

    def _record(self, location: str, item: Any) -> RawRecord:
        activity = _activity(item)
        if activity is not None and (
            self._newest_activity is None or activity > self._newest_activity
        ):
            self._newest_activity = activity
        return RawRecord(location, _dumps(item))

    def conversations_cursor(self) -> str | None:
        """The newest ``last_activity_at`` of the conversations yielded so far, as ISO text:
        the next sync reads the resolved and snoozed lists back to it (None: none had one)."""
        if self._newest_activity is None:
            return None
        return datetime.fromtimestamp(self._newest_activity, UTC).isoformat()

    def deleted_conversations(self) -> list[int]:
        """The ids that answered 404 so far: deleted in Chatwoot."""
        return list(self._deleted)

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


def _conversation_id(item: Any) -> int | None:
    value = item.get("id") if isinstance(item, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _activity(item: Any) -> int | float | None:
    """A conversation object's ``last_activity_at`` (Unix seconds), when it is a number."""
    value = item.get("last_activity_at") if isinstance(item, dict) else None
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


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


def fetch_conversations(
    client: ChatwootClient, tracked: Collection[int] = (), since: datetime | None = None
) -> Iterator[ConversationNode]:
    """Open and pending conversations, then those of ``tracked`` that left the lists (see
    :meth:`ChatwootClient.iter_conversations`), as validated contract models (library use).

    Raises:
        ContractViolation: a conversation does not match :class:`ConversationNode`.
    """
    records = client.iter_conversations(tracked, since)
    return _validated(records, ConversationNode, "conversation")


def fetch_messages(
    client: ChatwootClient, conversation_ids: Iterable[int]
) -> Iterator[MessageNode]:
    """The messages of ``conversation_ids`` as validated contract models.

    Raises:
        ContractViolation: a message does not match :class:`MessageNode`.
    """
    return _validated(client.iter_messages(conversation_ids), MessageNode, "message")
