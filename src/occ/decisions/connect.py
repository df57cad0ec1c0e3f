"""Opening the mirror: an engine with timeouts, timed transactions, one-parameter bulk inserts.

Statement timeouts are set per transaction (``SET LOCAL statement_timeout``), which also works
behind a transaction-mode pooler such as Supabase's; connecting is bounded by libpq's
``connect_timeout`` and SQLite waits at most the same time for a lock (busy timeout).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from occ.contracts.secrets import mask
from occ.errors import ConfigError, MirrorError
from occ.store.engine import masked_url

__all__ = [
    "insert_json_rows",
    "mask_secrets",
    "mirror_engine",
    "mirror_transaction",
    "open_mirror",
]

_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)[^\s@]*@")
_KEY_PASSWORD = re.compile(r"(?i)\b(password|passwd|pwd)(\s*=\s*)('[^']*'|\"[^\"]*\"|[^\s;&]+)")


def mask_secrets(message: str, secrets: Iterable[str] = ()) -> str:
    """``message`` with URL passwords, ``password=…`` pairs and the given ``secrets`` masked."""
    masked = _URL_PASSWORD.sub(r"\1***@", message)
    masked = _KEY_PASSWORD.sub(r"\1\2***", masked)
    for secret in secrets:
        if len(secret) >= 3:  # shorter ones would mangle the message; the regexes cover URLs
            masked = masked.replace(secret, "***")
    return mask(masked)


def _engine_for(url: str, timeout_seconds: float, application_name: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            "the mirror URL is not a SQLAlchemy URL; use e.g. "
            "postgresql+psycopg://user@host/db or sqlite:///mirror.db"
        ) from None
    connect_args: dict[str, Any] = {}
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        # libpq waits at least 2 s; statement timeouts are set per transaction (pooler-safe).
        connect_args = {
            "connect_timeout": max(2, math.ceil(timeout_seconds)),
            "application_name": application_name[:63],
            # a peer gone silent mid-statement is noticed by TCP keepalives, not never
            "keepalives": 1,
            "keepalives_idle": max(1, math.ceil(timeout_seconds)),
            "keepalives_interval": 2,
            "keepalives_count": 3,
        }
    elif backend == "sqlite":
        connect_args = {"timeout": timeout_seconds}  # busy timeout
    try:
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except (ArgumentError, ImportError, SQLAlchemyError) as exc:
        raise ConfigError(
            f"cannot open the mirror {masked_url(url)}: {type(exc).__name__}; "
            "check the URL's driver (postgresql+psycopg or sqlite)"
        ) from None


def mirror_engine(
    url: str, *, timeout_seconds: float = 10.0, application_name: str = "occ-sync"
) -> Engine:
    """An engine for the mirror at ``url``, without connecting (failures surface per attempt).

    Raises:
        ConfigError: the URL is malformed or its driver is missing.
    """
    return _engine_for(url, timeout_seconds, application_name)


def open_mirror(url: str, *, timeout_seconds: float = 10.0) -> Engine:
    """An engine for the mirror at ``url``, checked by one round trip.

    Raises:
        ConfigError: the URL is malformed or its driver is missing.
        MirrorError: the mirror does not answer (one line, password masked).
    """
    engine = _engine_for(url, timeout_seconds, "occ")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        engine.dispose()
        secrets = [make_url(url).password or ""]
        reason = mask_secrets(" ".join(str(getattr(exc, "orig", None) or exc).split()), secrets)
        raise MirrorError(
            f"cannot reach the mirror {masked_url(url)}: {reason[:200]}; "
            "check OCC_MIRROR_URL and that the server is running"
        ) from None
    return engine


@contextmanager
def mirror_transaction(engine: Engine, timeout_seconds: float) -> Iterator[Connection]:
    """One mirror transaction whose statements time out after ``timeout_seconds``."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            milliseconds = max(1, int(timeout_seconds * 1000))
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")
        yield connection


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def insert_json_rows(
    connection: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    *,
    suffix: str = "",
) -> CursorResult[Any]:
    """Postgres: insert ``rows`` as one JSON parameter (``json_populate_recordset``).

    One short statement and one parameter whatever the batch size: the server casts each
    value to the table's own column types (text or uuid ids, json, timestamptz), and the
    driver does not parse a statement with thousands of placeholders per batch.
    """
    quote = connection.dialect.identifier_preparer.quote
    name = quote(table)
    names = ", ".join(quote(column) for column in columns)
    statement = text(
        f"INSERT INTO {name} ({names}) SELECT {names} FROM "
        f"json_populate_recordset(CAST(NULL AS {name}), CAST(:rows AS json)) {suffix}"
    )
    return connection.execute(statement, {"rows": json.dumps(rows, default=_json_value)})
