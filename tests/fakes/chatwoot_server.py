"""A fake Chatwoot on 127.0.0.1 that answers like the real one, failures included.

The answers are shaped as Chatwoot's REST API returns them (the jbuilder views behind
``GET /api/v1/accounts/{id}/conversations``, ``.../conversations/{id}`` and ``.../messages``,
matching ../shared/contracts/chatwoot/openapi.json): conversations under ``data.payload`` with
``data.meta`` counts, 25 conversations per page sorted by last activity (newest first, as
ConversationFinder's default ``last_activity_at_desc``), one conversation by id (404 with
Chatwoot's body once deleted), messages 20 per page in ascending order, older pages through
``before=<message id>``. A wrong ``api_access_token`` gets Chatwoot's 401 body; rack-attack's
throttle answers 429 with the body ``Retry later``.

Between two refreshes a test changes the account as Chatwoot would: :meth:`ChatwootFake.
change_status` resolves or snoozes a conversation (an activity message that moves its
``last_activity_at``), :meth:`ChatwootFake.delete` deletes one, :meth:`ChatwootFake.add` adds
conversations.

A test scripts failures per path: :meth:`ChatwootFake.script` queues replies that are served,
one per request, before the normal answers resume.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fakes.loopback import LoopbackServer, Reply, Request

ACCOUNT_ID = 7
TOKEN = "cw-secret-7Hq2ZpL9xV4mN8rT"  # the secret no log, error or evidence may contain
CONVERSATION_PAGE = 25  # Chatwoot's conversation list page size
MESSAGE_PAGE = 20  # Chatwoot's messages page size (without ``after``)
THROTTLED = Reply(429, raw=b"Retry later\n", headers={"Content-Type": "text/plain"})
UNAUTHORIZED = Reply(401, {"error": "Invalid Access Token"})
NOT_FOUND = Reply(404, {"error": "Resource could not be found"})  # RequestExceptionHandler
# The activity message Chatwoot writes (English locale) when an agent changes the status.
ACTIVITY_TEXT = {
    "resolved": "Conversation was marked resolved by Agent",
    "snoozed": "Conversation was snoozed by Agent",
    "open": "Conversation was reopened by Agent",
}
BASE_TIME = 1_764_158_400  # 2025-11-26 12:00 UTC


def conversation(
    conversation_id: int,
    status: str,
    *,
    labels: tuple[str, ...] = (),
    created_at: int | None = None,
    last_activity_at: int | None = None,
) -> dict[str, Any]:
    """One conversation object as the list endpoint returns it."""
    created = created_at if created_at is not None else BASE_TIME - conversation_id * 600
    activity = last_activity_at if last_activity_at is not None else created + 300
    return {
        "meta": {
            "sender": {
                "additional_attributes": {},
                "availability_status": "offline",
                "email": f"customer{conversation_id}@example.com",
                "id": 1000 + conversation_id,
                "name": f"Customer {conversation_id}",
                "phone_number": None,
                "blocked": False,
                "identifier": None,
                "thumbnail": "",
                "custom_attributes": {},
                "last_activity_at": activity,
                "created_at": created,
            },
            "channel": "Channel::WebWidget",
            "hmac_verified": False,
        },
        "id": conversation_id,
        "messages": [],
        "account_id": ACCOUNT_ID,
        "uuid": f"00000000-0000-4000-8000-{conversation_id:012d}",
        "additional_attributes": {"browser": {"browser_name": "Firefox"}},
        "agent_last_seen_at": 0,
        "assignee_last_seen_at": 0,
        "can_reply": True,
        "contact_last_seen_at": activity,
        "custom_attributes": {},
        "inbox_id": 1,
        "labels": list(labels),
        "muted": False,
        "snoozed_until": None,
        "status": status,
        "created_at": created,
        "updated_at": float(activity),
        "timestamp": activity,
        "first_reply_created_at": None,
        "unread_count": 1,
        "last_non_activity_message": None,
        "last_activity_at": activity,
        "priority": None,
        "waiting_since": created,
        "sla_policy_id": None,
        "applied_sla": {},
        "sla_events": [],
    }


def message(
    message_id: int,
    conversation_id: int,
    *,
    message_type: int = 0,
    created_at: int | None = None,
    private: bool = False,
    content: str | None = None,
) -> dict[str, Any]:
    """One message object as the messages endpoint returns it."""
    incoming = message_type == 0
    return {
        "id": message_id,
        "content": content if content is not None else f"message {message_id}",
        "inbox_id": 1,
        "conversation_id": conversation_id,
        "message_type": message_type,
        "content_type": "text",
        "status": "sent",
        "content_attributes": {},
        "created_at": created_at if created_at is not None else BASE_TIME + message_id,
        "private": private,
        "source_id": None,
        "sender_type": "Contact" if incoming else "User",
        "sender_id": 1000 + conversation_id if incoming else 3,
        "sender": {"id": 3, "name": "Agent", "type": "contact" if incoming else "user"},
    }


class ChatwootFake:
    """Serves conversations and their messages for one account behind one token."""

    def __init__(
        self,
        conversations: list[dict[str, Any]],
        messages: dict[int, list[dict[str, Any]]] | None = None,
        *,
        token: str = TOKEN,
        account_id: int = ACCOUNT_ID,
    ) -> None:
        self.conversations: list[dict[str, Any]] = []
        self.messages: dict[int, list[dict[str, Any]]] = {}
        self.token = token
        self.account_id = account_id
        self.server = LoopbackServer()
        self.scripted: defaultdict[str, deque[Reply]] = defaultdict(deque)
        prefix = f"/api/v1/accounts/{account_id}/conversations"
        self.list_path = prefix
        self.server.route("GET", prefix, self._serve(self._list))
        self.server.route("GET", f"{prefix}/meta", self._serve(self._meta))
        self.add(conversations, messages)

    def add(
        self,
        conversations: list[dict[str, Any]],
        messages: dict[int, list[dict[str, Any]]] | None = None,
    ) -> None:
        """Conversations (and messages) created in Chatwoot, e.g. between two refreshes."""
        self.conversations.extend(conversations)
        for conversation_id, added in (messages or {}).items():
            self.messages.setdefault(conversation_id, []).extend(added)
        for conversation_id in {c["id"] for c in conversations} | set(messages or {}):
            path = self.messages_path(conversation_id)
            self.server.route("GET", path, self._serve(self._messages, conversation_id))
            path = self.conversation_path(conversation_id)
            self.server.route("GET", path, self._serve(self._show, conversation_id))

    def change_status(self, conversation_id: int, status: str, at: int, message_id: int) -> None:
        """An agent sets the status at ``at``: Chatwoot writes an activity message (id
        ``message_id``), which moves the conversation's ``last_activity_at`` to ``at``."""
        found = self.find(conversation_id)
        found.update(status=status, last_activity_at=at, timestamp=at, updated_at=float(at))
        text = ACTIVITY_TEXT[status]
        activity = message(message_id, conversation_id, message_type=2, created_at=at, content=text)
        self.messages.setdefault(conversation_id, []).append(activity)

    def delete(self, conversation_id: int) -> None:
        """The conversation is deleted: gone from the lists, 404 by id and for its messages."""
        self.conversations.remove(self.find(conversation_id))
        self.messages.pop(conversation_id, None)

    def find(self, conversation_id: int) -> dict[str, Any]:
        found = self._stored(conversation_id)
        if found is None:
            raise KeyError(conversation_id)
        return found

    def _stored(self, conversation_id: int) -> dict[str, Any] | None:
        """The conversation as Chatwoot holds it now (None: never created, or deleted)."""
        return next((c for c in self.conversations if c["id"] == conversation_id), None)

    def messages_path(self, conversation_id: int) -> str:
        return f"{self.conversation_path(conversation_id)}/messages"

    def conversation_path(self, conversation_id: int) -> str:
        return f"/api/v1/accounts/{self.account_id}/conversations/{conversation_id}"

    def list_requests(self, status: str) -> list[Request]:
        """The list requests for ``status`` (one per page read)."""
        return [r for r in self.requests_to(self.list_path) if r.query.get("status") == [status]]

    def script(self, path: str, *replies: Reply) -> None:
        """Serve ``replies`` to the next requests to ``path``, then answer normally again."""
        self.scripted[path].extend(replies)

    def requests_to(self, path: str) -> list[Request]:
        return [request for request in self.server.requests if request.path == path]

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @contextmanager
    def running(self) -> Iterator[ChatwootFake]:
        with self.server.running():
            yield self

    def _serve(self, answer: Any, *args: Any) -> Any:
        def handle(request: Request) -> Reply:
            if self.scripted[request.path]:
                return self.scripted[request.path].popleft()
            if request.headers.get("api_access_token") != self.token:
                return UNAUTHORIZED
            reply: Reply = answer(request, *args)
            return reply

        return handle

    def _matching(self, request: Request) -> list[dict[str, Any]]:
        status = request.query.get("status", ["open"])[0]
        found = [c for c in self.conversations if status == "all" or c["status"] == status]
        return sorted(found, key=lambda c: c["last_activity_at"], reverse=True)

    def _counts(self, matching: list[dict[str, Any]]) -> dict[str, int]:
        return {
            "mine_count": 0,
            "unassigned_count": len(matching),
            "assigned_count": 0,
            "all_count": len(matching),
        }

    def _list(self, request: Request) -> Reply:
        matching = self._matching(request)
        page = int(request.query.get("page", ["1"])[0])
        start = (page - 1) * CONVERSATION_PAGE
        payload = matching[start : start + CONVERSATION_PAGE]
        return Reply(200, {"data": {"meta": self._counts(matching), "payload": payload}})

    def _meta(self, request: Request) -> Reply:
        return Reply(200, {"meta": self._counts(self._matching(request))})

    def _show(self, request: Request, conversation_id: int) -> Reply:
        found = self._stored(conversation_id)
        return NOT_FOUND if found is None else Reply(200, found)

    def _messages(self, request: Request, conversation_id: int) -> Reply:
        if self._stored(conversation_id) is None:
            return NOT_FOUND
        ordered = sorted(self.messages.get(conversation_id, []), key=lambda m: m["id"])
        if "before" in request.query:
            before = int(request.query["before"][0])
            ordered = [m for m in ordered if m["id"] < before]
        meta: dict[str, Any] = {
            "labels": [],
            "additional_attributes": {},
            "contact": {},
            "assignee": None,
        }
        return Reply(200, {"meta": meta, "payload": ordered[-MESSAGE_PAGE:]})
