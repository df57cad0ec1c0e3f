"""Who is asking, and may they: session or bearer sign-in, CSRF tokens, sign-in rate limit.

- Sessions are Starlette's signed cookies (itsdangerous), HTTP-only and SameSite=Lax; the
  cookie holds a random session id and a CSRF token, nothing else. The session itself is a
  row in the store (``occ.store.sessions``), looked up on every request: sign-out revokes it,
  so a copy of the cookie taken before sign-out signs nobody in afterwards.
- API clients may send ``Authorization: Bearer occ_…`` (``occ users token``) instead; such a
  request carries no ambient credential, so it needs no CSRF token.
- Every state-changing request signed in by cookie must carry the session's CSRF token: the
  ``csrf_token`` form field or the ``X-CSRF-Token`` header (synchronizer-token pattern).
- Failed sign-ins are counted per e-mail and per client address in the store, so that the
  limit holds across processes and restarts.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy import Connection, Engine

from occ.store.operators import Operator, operator_by_token
from occ.store.sessions import open_session, revoke_session, session_operator

__all__ = [
    "CSRF_HEADER",
    "Principal",
    "SignInRequired",
    "csrf_token",
    "csrf_valid",
    "principal",
    "sign_in",
    "sign_out",
]

CSRF_HEADER = "X-CSRF-Token"


class SignInRequired(Exception):
    """No valid session or bearer token (a page redirects to sign-in; the API answers 401)."""


class CsrfRejected(Exception):
    """A state-changing request without the session's CSRF token (403)."""


@dataclass(frozen=True, slots=True)
class Principal:
    operator: Operator
    via: str  # session | token


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created with the session, signed in or not)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_valid(request: Request, submitted: str | None) -> bool:
    expected = request.session.get("csrf")
    return (
        isinstance(expected, str)
        and isinstance(submitted, str)
        and secrets.compare_digest(expected, submitted)
    )


_REMEMBER_S = 10.0
"""How long a bearer token, once found valid, is trusted without asking the store (a token
replaced with ``occ users token`` still signs in that long in a running server)."""
_CLAIM_S = 2.0
"""How long the others use the expired entry while one request re-checks it."""


@dataclass
class TokenCache:
    """Bearer tokens seen valid, per app (token hash: when checked, operator)."""

    known: dict[str, tuple[float, Operator]]
    claimed: dict[str, float]  # token hash: when a request went to re-check it


def _tokens(request: Request) -> TokenCache:
    cache = getattr(request.app.state, "tokens", None)
    if not isinstance(cache, TokenCache):
        cache = TokenCache({}, {})
        request.app.state.tokens = cache
    return cache


def _token_key(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return hashlib.sha256(token.strip().encode()).hexdigest()
    return None


def known(request: Request) -> bool:
    """Whether ``principal`` can answer without the store: a bearer token seen valid moments
    ago (sessions are checked against the store on every request). Past ``_REMEMBER_S`` the
    first request gets False and re-checks; the others keep the entry up to ``_CLAIM_S`` more.
    """
    if isinstance(getattr(request.state, "principal", None), Principal):
        return True
    key = _token_key(request)
    tokens = _tokens(request)
    entry = tokens.known.get(key) if key else None
    if key is None or entry is None:
        return False
    now = time.monotonic()
    if now - entry[0] < _REMEMBER_S:
        return True
    if now - tokens.claimed.get(key, float("-inf")) < _CLAIM_S:
        return True
    tokens.claimed[key] = now
    return False


def _token_operator(tokens: TokenCache, engine: Engine, token: str) -> Operator | None:
    """``operator_by_token``, remembered for ``_REMEMBER_S`` (valid tokens only)."""
    key = hashlib.sha256(token.encode()).hexdigest()
    now = time.monotonic()
    entry = tokens.known.get(key)
    if entry is not None and now - entry[0] < _REMEMBER_S:
        return entry[1]
    try:
        with engine.connect() as connection:
            operator = operator_by_token(connection, token)
    finally:
        tokens.claimed.pop(key, None)
    if len(tokens.known) > 1_000:
        tokens.known.clear()
    if operator is None:
        tokens.known.pop(key, None)
    else:
        tokens.known[key] = (now, operator)
    return operator


def principal(request: Request, engine: Engine, clock: Callable[[], datetime]) -> Principal:
    """The signed-in operator of ``request``: a bearer token's, or a live session's (one
    lookup by primary key; a revoked or expired session counts as none).

    Raises:
        SignInRequired: no live session and no valid bearer token.
    """
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    found: Principal | None = None
    if scheme.lower() == "bearer" and token.strip():
        operator = _token_operator(_tokens(request), engine, token.strip())
        if operator is None:
            raise SignInRequired("the bearer token is not valid; issue one with occ users token")
        found = Principal(operator, "token")
    else:
        session_id = request.session.get("sid")
        if isinstance(session_id, str):
            with engine.connect() as connection:
                operator = session_operator(connection, session_id, clock())
            if operator is not None:
                found = Principal(operator, "session")
    if found is None:
        raise SignInRequired("sign in first")
    request.state.principal = found
    return found


def sign_in(
    request: Request, connection: Connection, operator: Operator, now: datetime, lasts: timedelta
) -> None:
    """Start a fresh session for ``operator`` lasting ``lasts`` (new session id and CSRF token:
    no session fixation); a session the cookie held before is revoked."""
    _revoke(request, connection, now)
    request.session.clear()
    request.session["sid"] = open_session(connection, operator, now, lasts)
    request.session["csrf"] = secrets.token_urlsafe(32)


def sign_out(request: Request, connection: Connection, now: datetime) -> None:
    """Revoke the session in the store and clear the cookie."""
    _revoke(request, connection, now)
    request.session.clear()


def _revoke(request: Request, connection: Connection, now: datetime) -> None:
    session_id = request.session.get("sid")
    if isinstance(session_id, str):
        revoke_session(connection, session_id, now)
