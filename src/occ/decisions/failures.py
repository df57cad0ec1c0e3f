"""Classifying mirror failures: an event status, an error code, and whether to retry.

One place translates driver errors (psycopg's SQLSTATE, sqlite3's error name, the text of a
connection failure that has neither) into what a sync event records:

- retryable: serialization failures and deadlocks (40001, 40P01), statement and lock
  timeouts (57014, 55P03 → ``TIMEOUT``), connection failures (class 08, refused, reset,
  timed out), server shutdown or overload (57P01-57P03, class 53 — the "429/503" of a
  database), SQLite's busy/locked (``TIMEOUT``) and I/O errors;
- never retried: everything else, notably permission denied (42501), an undefined column or
  table (42703, 42P01), bad credentials (28xxx) and a mirror table of the wrong shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from occ.decisions.connect import mask_secrets
from occ.decisions.mirror import MirrorSchemaError
from occ.errors import MirrorError

__all__ = ["HINTS", "Failure", "classify"]

_RETRYABLE_STATES = frozenset({"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03"})
_RETRYABLE_CLASSES = ("08", "53", "58")  # connection, insufficient resources, system error
_TIMEOUT_STATES = frozenset({"57014", "55P03"})  # statement timeout, lock timeout
_NETWORK = (  # driver messages without a SQLSTATE → (code, status)
    ("connection refused", "ECONNREFUSED", "FAILED"),
    ("timeout expired", "ETIMEDOUT", "TIMEOUT"),
    ("timed out", "ETIMEDOUT", "TIMEOUT"),
    ("connection reset", "ECONNRESET", "FAILED"),
    ("server closed the connection", "ECONNRESET", "FAILED"),
    ("could not translate host name", "EAI_AGAIN", "FAILED"),
    ("no route to host", "EHOSTUNREACH", "FAILED"),
    ("network is unreachable", "ENETUNREACH", "FAILED"),
)
HINTS = {
    "42501": "grant INSERT, UPDATE and SELECT on decision_log and facts (and CREATE on the "
    "schema) to the mirror's user",
    "28P01": "check the user and password of the mirror URL",
    "28000": "check the user of the mirror URL and the server's pg_hba.conf",
    "3D000": "create the mirror database or fix its name in the mirror URL",
}


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed attempt, classified: event status, error code, masked message, retryable."""

    status: str  # FAILED | TIMEOUT
    code: str
    message: str
    retryable: bool


def _one_line(error: object) -> str:
    return " ".join(str(error).split())[:400]


def classify(exc: BaseException, secrets: Sequence[str] = ()) -> Failure:
    """Translate a mirror failure into an event status and code (a SQLSTATE where known)."""
    if isinstance(exc, MirrorSchemaError):
        return Failure("FAILED", exc.code, str(exc), False)
    if isinstance(exc, MirrorError):
        return Failure("FAILED", "EMIRROR", mask_secrets(str(exc), secrets), exc.retryable)
    if isinstance(exc, PoolTimeout):
        return Failure("TIMEOUT", "ETIMEDOUT", _one_line(exc), True)
    if not isinstance(exc, DBAPIError):
        return Failure("FAILED", type(exc).__name__, mask_secrets(_one_line(exc), secrets), False)
    orig = exc.orig
    message = mask_secrets(_one_line(orig if orig is not None else exc), secrets)
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str) and state:
        retryable = state in _RETRYABLE_STATES or state.startswith(_RETRYABLE_CLASSES)
        status = "TIMEOUT" if state in _TIMEOUT_STATES else "FAILED"
        return Failure(status, state, message, retryable)
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str):
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return Failure("TIMEOUT", name, message, True)
        retryable = name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN"))
        return Failure("FAILED", name, message, retryable)
    lowered = message.lower()
    for needle, code, status in _NETWORK:
        if needle in lowered:
            return Failure(status, code, message, True)
    if exc.connection_invalidated:
        return Failure("FAILED", "ECONNRESET", message, True)
    # A driver OperationalError without a code is a connection-level failure.
    operational = type(orig).__name__ == "OperationalError"
    return Failure("FAILED", type(orig).__name__, message, operational)
