"""Chatwoot REST payload contracts, checked against Chatwoot's own OpenAPI document.

Where occ relies on something the document does not declare, the field says so:
- ``meta.sender.name`` is not in the ``conversation`` schema, but the list endpoint returns it
  (see ../shared/contracts/chatwoot/SOURCE.md).
- ``snoozed`` is not in the conversation ``status`` enum, but the list filter and the toggle
  endpoint know it: it is a real status.
- ``message_type`` is an integer 0–3 in the document; webhooks and older exports spell it
  ``incoming`` / ``outgoing`` / ``activity`` / ``template``, which are read as the same values.
- ``meta.team`` is not declared anywhere in the document, but Chatwoot's conversation partial
  (``app/views/api/v1/conversations/partials/_conversation.json.jbuilder``) writes it, with the
  team's ``id`` and ``name``, whenever a team is assigned; the conversation has no top-level
  ``team_id``. ``meta.assignee`` is declared (the ``user`` schema: ``id``, ``name``).

``inbox_id``, ``meta.assignee``, ``meta.team`` and ``last_activity_at`` are optional: older
payloads and recorded folders without them still validate (the conversation exports then say
the value is unknown).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from occ.contracts._types import EpochSeconds

__all__ = [
    "CONVERSATION_STATUSES",
    "MESSAGE_TYPES",
    "OPEN_STATUSES",
    "ConversationNode",
    "MessageNode",
]

CONVERSATION_STATUSES = frozenset({"open", "resolved", "pending", "snoozed"})
# The conversations occ reads by list and the SLA KPI counts; a live sync learns what became
# of the ones it stored with these statuses once Chatwoot no longer lists them.
OPEN_STATUSES = ("open", "pending")
MESSAGE_TYPES = {"incoming": 0, "outgoing": 1, "activity": 2, "template": 3}


class _Node(BaseModel):
    # cache_strings="keys": upstream values (ids, names) rarely repeat within a payload, so
    # only field names are worth pydantic's string cache (measured ~5 % faster validation).
    model_config = ConfigDict(extra="ignore", frozen=True, cache_strings="keys")


class Sender(_Node):
    name: str | None = None


class Assignee(_Node):
    """``meta.assignee``: the agent the conversation is assigned to (``user`` schema)."""

    id: int | None = None
    name: str | None = None


class Team(_Node):
    """``meta.team``: the team the conversation is assigned to (undeclared, see above)."""

    id: int | None = None
    name: str | None = None


class ConversationMeta(_Node):
    # Not declared in the OpenAPI conversation schema; returned by the list endpoint.
    sender: Sender | None = None
    assignee: Assignee | None = None
    team: Team | None = None


class MessageNode(_Node):
    id: int
    conversation_id: int
    message_type: int
    created_at: EpochSeconds
    private: bool = False
    content: str | None = None
    sender_type: str | None = None
    sender: dict[str, Any] | None = None

    @field_validator("message_type", mode="before")
    @classmethod
    def _message_type(cls, value: Any) -> Any:
        if isinstance(value, str) and value in MESSAGE_TYPES:
            return MESSAGE_TYPES[value]
        if isinstance(value, bool) or not isinstance(value, int) or value not in (0, 1, 2, 3):
            raise ValueError(f"message_type {value!r} is not 0–3 or incoming/outgoing/…")
        return value


class ConversationNode(_Node):
    id: int
    status: str
    labels: list[str] = []
    created_at: EpochSeconds
    inbox_id: int | None = None
    # Chatwoot moves it to each new message's instant, activity messages included (the
    # "marked resolved" one too): the resolution instant's fallback, see occ.metrics.
    last_activity_at: EpochSeconds | None = None
    meta: ConversationMeta | None = None
    messages: list[MessageNode] = []
