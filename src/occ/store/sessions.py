"""Dashboard sessions kept in the store, so that signing out ends a session on the server.

The session cookie carries a random session id; the store keeps only its SHA-256 (as for API
tokens), so a copy of the database resumes nobody's session. A session is live while its row
is neither revoked nor expired; a copy of a cookie taken before sign-out is refused after it.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, delete, insert, select, update

from occ.store.operators import Operator, secret_hash
from occ.store.tables import OperatorSession, OperatorUser

__all__ = ["KEEP_DEAD_FOR", "open_session", "revoke_session", "session_operator"]

KEEP_DEAD_FOR = timedelta(days=1)
"""How long an expired row stays before a sign-in deletes it (a revoked row is deleted that
long after its natural expiry, so the table holds at most about a day and a session's rows)."""
_SESSIONS = cast(Table, OperatorSession.__table__)
_USERS = cast(Table, OperatorUser.__table__)
_LATEST = datetime.max.replace(tzinfo=UTC)


def open_session(
    connection: Connection, operator: Operator, now: datetime, lasts: timedelta
) -> str:
    """Start a session for ``operator`` lasting ``lasts``; its id (for the cookie only).

    Rows expired more than :data:`KEEP_DEAD_FOR` ago are deleted on the way.
    """
    session_id = secrets.token_urlsafe(32)
    try:
        expires_at = now + lasts
    except OverflowError:  # web_session_hours set to centuries
        expires_at = _LATEST
    connection.execute(
        insert(_SESSIONS).values(
            id_hash=secret_hash(session_id),
            operator_id=operator.id,
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
        )
    )
    connection.execute(delete(_SESSIONS).where(_SESSIONS.c.expires_at < now - KEEP_DEAD_FOR))
    return session_id


def session_operator(connection: Connection, session_id: str, now: datetime) -> Operator | None:
    """The operator of a live session (not revoked, not expired), else None."""
    row = connection.execute(
        select(_USERS.c.id, _USERS.c.email)
        .select_from(_SESSIONS.join(_USERS, _USERS.c.id == _SESSIONS.c.operator_id))
        .where(
            _SESSIONS.c.id_hash == secret_hash(session_id),
            _SESSIONS.c.revoked_at.is_(None),
            _SESSIONS.c.expires_at > now,
        )
    ).first()
    return None if row is None else Operator(row.id, row.email)


def revoke_session(connection: Connection, session_id: str, now: datetime) -> bool:
    """End a session for good; whether it had not been revoked already."""
    result = connection.execute(
        update(_SESSIONS)
        .where(_SESSIONS.c.id_hash == secret_hash(session_id), _SESSIONS.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1
