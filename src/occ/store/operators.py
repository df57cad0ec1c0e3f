"""Operators of the dashboard: accounts, API tokens, one-time sign-in links, sign-in attempts.

Passwords are hashed with argon2 (argon2-cffi, its recommended parameters); API tokens and
sign-in links are random and only their SHA-256 is stored, so a copy of the database signs
nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from occ.errors import InputFileError, NotFoundError
from occ.store.tables import AppSecret, OperatorUser, SigninAttempt, SigninLink

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "Operator",
    "add_operator",
    "app_secret",
    "authenticate",
    "count_failures",
    "is_email_address",
    "issue_api_token",
    "issue_signin_link",
    "normalize_email",
    "operator_by_token",
    "record_attempt",
    "redeem_signin_link",
    "secret_hash",
]

MIN_PASSWORD_LENGTH = 12
_USERS = cast(Table, OperatorUser.__table__)
_ATTEMPTS = cast(Table, SigninAttempt.__table__)
_LINKS = cast(Table, SigninLink.__table__)
_SECRETS = cast(Table, AppSecret.__table__)
_HASHER = PasswordHasher()
# Verifying an unknown e-mail costs the same as a known one (no account enumeration by time).
_DUMMY_HASH = _HASHER.hash("occ-no-such-operator")


@dataclass(frozen=True, slots=True)
class Operator:
    id: int
    email: str


def secret_hash(token: str) -> str:
    """What the store keeps of a bearer secret (API token, sign-in link, session id)."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_email_address(value: str) -> bool:
    """occ's one rule for an e-mail address (operators, decision actors).

    Exactly one ``@``, a non-empty local part, a domain of at least two non-empty
    dot-separated labels, no whitespace, at most 255 characters. Deliberately simple (no
    deliverability or RFC 5322 quoting): it catches a name or a typo where an address belongs.
    """
    local, at, domain = value.partition("@")
    return (
        bool(at and local)
        and "@" not in domain
        and len(domain.split(".")) >= 2
        and all(domain.split("."))
        and not any(character.isspace() for character in value)
        and len(value) <= 255
    )


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if not is_email_address(value):
        raise InputFileError(f"{email!r} is not an e-mail address; use e.g. ops@example.com")
    return value


def add_operator(connection: Connection, email: str, password: str, now: datetime) -> Operator:
    """Create an operator with an argon2 hash of ``password``.

    Raises:
        InputFileError: the e-mail is malformed, the password too short, or the operator exists.
    """
    address = normalize_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputFileError(
            f"the password is shorter than {MIN_PASSWORD_LENGTH} characters; choose a longer one"
        )
    if _operator(connection, address) is not None:
        raise InputFileError(f"operator {address} already exists")
    try:
        result = connection.execute(
            insert(_USERS).values(
                email=address, password_hash=_HASHER.hash(password), created_at=now
            )
        )
    except IntegrityError:  # created by another process in the meantime
        raise InputFileError(f"operator {address} already exists") from None
    return Operator(int(result.inserted_primary_key[0]), address)  # type: ignore[index]


def _operator(connection: Connection, email: str) -> tuple[Operator, str] | None:
    row = connection.execute(
        select(_USERS.c.id, _USERS.c.email, _USERS.c.password_hash).where(
            _USERS.c.email == email.strip().lower()
        )
    ).first()
    return None if row is None else (Operator(row.id, row.email), row.password_hash)


def authenticate(connection: Connection, email: str, password: str) -> Operator | None:
    """The operator when ``password`` is theirs, else None (same cost either way)."""
    found = _operator(connection, email)
    try:
        _HASHER.verify(found[1] if found else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return found[0] if found else None


def issue_api_token(connection: Connection, email: str) -> str:
    """A new bearer token for ``email`` (replacing any earlier one); shown once, stored hashed.

    Raises:
        NotFoundError: no such operator.
    """
    found = _operator(connection, email)
    if found is None:
        raise NotFoundError(f"no operator {email}; add one with `occ users add {email}`")
    token = "occ_" + secrets.token_urlsafe(32)
    connection.execute(
        update(_USERS).where(_USERS.c.id == found[0].id).values(api_token_hash=secret_hash(token))
    )
    return token


def operator_by_token(connection: Connection, token: str) -> Operator | None:
    row = connection.execute(
        select(_USERS.c.id, _USERS.c.email).where(_USERS.c.api_token_hash == secret_hash(token))
    ).first()
    return None if row is None else Operator(row.id, row.email)


def issue_signin_link(
    connection: Connection, email: str, now: datetime, valid_for: timedelta
) -> str:
    """A one-time sign-in token for ``email``, valid for ``valid_for``.

    Raises:
        NotFoundError: no such operator.
    """
    if _operator(connection, email) is None:
        raise NotFoundError(f"no operator {email}; add one with `occ users add {email}`")
    token = secrets.token_urlsafe(32)
    connection.execute(
        insert(_LINKS).values(
            token_hash=secret_hash(token),
            email=email.strip().lower(),
            expires_at=now + valid_for,
            used_at=None,
        )
    )
    return token


def redeem_signin_link(connection: Connection, token: str, now: datetime) -> Operator | None:
    """The operator of an unused, unexpired link, marking it used; None otherwise."""
    hashed = secret_hash(token)
    result = connection.execute(
        update(_LINKS)
        .where(_LINKS.c.token_hash == hashed, _LINKS.c.used_at.is_(None))
        .where(_LINKS.c.expires_at > now)
        .values(used_at=now)
    )
    if result.rowcount != 1:
        return None
    email = connection.execute(select(_LINKS.c.email).where(_LINKS.c.token_hash == hashed)).scalar()
    found = _operator(connection, str(email))
    return None if found is None else found[0]


def record_attempt(
    connection: Connection, email: str, client: str, succeeded: bool, now: datetime
) -> None:
    connection.execute(
        insert(_ATTEMPTS).values(
            email=email.strip().lower()[:255], client=client[:64], succeeded=succeeded, at=now
        )
    )
    # Attempts older than a day are of no use to the limiter.
    connection.execute(delete(_ATTEMPTS).where(_ATTEMPTS.c.at < now - timedelta(days=1)))


def count_failures(connection: Connection, email: str, client: str, since: datetime) -> int:
    """Failed attempts since ``since`` for this e-mail or from this client, whichever is more."""
    counts = []
    for column, value in ((_ATTEMPTS.c.email, email.strip().lower()), (_ATTEMPTS.c.client, client)):
        counts.append(
            connection.execute(
                select(func.count())
                .select_from(_ATTEMPTS)
                .where(column == value, _ATTEMPTS.c.at >= since, _ATTEMPTS.c.succeeded.is_(False))
            ).scalar_one()
        )
    return max(counts)


def app_secret(engine: Engine, name: str, now: datetime) -> str:
    """A random secret occ keeps for itself (created on first use, shared by every process)."""
    query = select(_SECRETS.c.value).where(_SECRETS.c.name == name)
    with engine.connect() as connection:
        existing = connection.execute(query).scalar()
    if existing is not None:
        return str(existing)
    value = secrets.token_urlsafe(48)
    try:
        with engine.begin() as connection:
            connection.execute(insert(_SECRETS).values(name=name, value=value, created_at=now))
        return value
    except IntegrityError:  # another process created it first
        with engine.connect() as connection:
            return str(connection.execute(query).scalar())
