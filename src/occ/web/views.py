"""What pages and API share: the signed-in principal, CSRF checks, action lookup, filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import Connection

from occ.decisions.actions import SuggestedAction, suggested_actions
from occ.decisions.log import Decision, list_decisions
from occ.errors import InputFileError, NotFoundError
from occ.store.facts import FactRow, facts_by_id
from occ.web.context import WebContext, context
from occ.web.security import CSRF_HEADER, CsrfRejected, Principal, csrf_valid, principal

__all__ = [
    "DecisionFilters",
    "find_action",
    "parse_filters",
    "require",
    "require_csrf",
]


def require(request: Request) -> Principal:
    """The signed-in operator (session or bearer token), else :class:`SignInRequired`."""
    ctx = context(request)
    return principal(request, ctx.engine, ctx.clock)


def require_csrf(request: Request, who: Principal, submitted: str | None = None) -> None:
    """A cookie-signed-in state change must carry the session's CSRF token."""
    if who.via == "token":
        return
    token = submitted if submitted is not None else request.headers.get(CSRF_HEADER)
    if not csrf_valid(request, token):
        raise CsrfRejected()


def find_action(ctx: WebContext, action_id: str) -> tuple[SuggestedAction, FactRow]:
    """The suggested action ``action_id`` (``FACT:KIND:ENTITY``) and its anomaly fact.

    Raises:
        NotFoundError: no anomaly fact or no such action on it.
    """
    head, _, _ = action_id.partition(":")
    if not head.isdigit():
        raise NotFoundError(f"no action {action_id!r}; pick one from the approvals queue")
    with ctx.engine.connect() as connection:
        anomaly = facts_by_id(connection, [int(head)]).get(int(head))
        if anomaly is None or not anomaly.fact_type.startswith("anomaly."):
            raise NotFoundError(f"no action {action_id!r}; pick one from the approvals queue")
        kpi_id = int(anomaly.metadata.get("kpiFactId") or 0)
        kpi_facts = facts_by_id(connection, [kpi_id])
    for action in suggested_actions([anomaly], kpi_facts):
        if action.id == action_id:
            return action, anomaly
    raise NotFoundError(f"no action {action_id!r}; pick one from the approvals queue")


class DecisionFilters:
    """The history page's filters: scope, actor, from/to dates (UTC days, inclusive)."""

    def __init__(
        self, scope: str | None, actor: str | None, since: date | None, until: date | None
    ) -> None:
        self.scope = scope or None
        self.actor = actor or None
        self.since = since
        self.until = until

    @property
    def since_at(self) -> datetime | None:
        return None if self.since is None else datetime.combine(self.since, time(), UTC)

    @property
    def until_at(self) -> datetime | None:
        if self.until is None or self.until == date.max:
            return None  # the last day there is: no upper bound
        return datetime.combine(self.until, time(), UTC) + timedelta(days=1)

    def decisions(
        self, connection: Connection, *, limit: int | None = None, offset: int = 0
    ) -> list[Decision]:
        """The decisions these filters select, newest first."""
        return list_decisions(
            connection,
            scope=self.scope,
            actor=self.actor,
            since=self.since_at,
            until=self.until_at,
            limit=limit,
            offset=offset,
        )

    def query(self) -> dict[str, Any]:
        return {
            "scope": self.scope or "",
            "actor": self.actor or "",
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
        }


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputFileError(f"{name} {value!r} is not a date; use YYYY-MM-DD") from None


def parse_filters(
    scope: str | None, actor: str | None, since: str | None, until: str | None
) -> DecisionFilters:
    filters = DecisionFilters(scope, actor, _day(since, "from"), _day(until, "to"))
    if filters.since and filters.until and filters.since > filters.until:
        raise InputFileError("from is after to; swap the dates")
    return filters
