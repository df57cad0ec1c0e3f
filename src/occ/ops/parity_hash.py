"""Canonical forms of compared values: what parity calls equal, and the row hashes made in Python.

Three forms, one per use:

* ``canonical_value`` — the truth at row level: timestamps as UTC ISO with microseconds, JSON
  with sorted keys and numbers compared by value (``1.0`` equals ``1``, as in ``jsonb``), and
  JSON ``null`` equal to SQL NULL (SQLAlchemy writes either for ``None``).
* ``postgres_text`` — exactly the text PostgreSQL prints for a value normalised in SQL
  (``CAST(CAST(x AS jsonb) AS text)``, ``CAST((ts AT TIME ZONE 'UTC') AS text)``), so that a
  SQLite side can hash the same bytes as a PostgreSQL side when the two engines are compared.
* ``md5_60`` — the first 60 bits of an MD5, as data-diff sums them per segment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Literal

__all__ = [
    "NULL_MARK",
    "SEPARATOR",
    "Kind",
    "canonical_value",
    "json_text",
    "md5_60",
    "parse_json",
    "postgres_fingerprint",
    "postgres_text",
    "utc_datetime",
]

Kind = Literal["text", "json", "timestamp", "int"]

SEPARATOR = "\x1f"  # ASCII unit separator between the fields of a row's text
NULL_MARK = "\x1e"  # stands for SQL NULL, distinct from the empty string
_WIDE = Context(prec=10_000)


def md5_60(text: str) -> int:
    """The first 15 hex digits of ``md5(text)`` as an integer (PostgreSQL's ``bit(60)`` cast)."""
    return int.from_bytes(hashlib.md5(text.encode()).digest()[:8], "big") >> 4


class _InvalidJson(str):
    """Text of a JSON column that does not parse; compared as text."""


def parse_json(value: object) -> object:
    """A JSON column's value parsed, numbers kept exact (``Decimal``), whatever the driver gave."""
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode()
    if isinstance(value, str):
        try:
            parsed: object = json.loads(value, parse_float=Decimal, parse_constant=Decimal)
        except ValueError:
            return _InvalidJson(value)
        return parsed
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _jsonb_key_order(key: str) -> tuple[int, bytes]:
    encoded = key.encode()
    return len(encoded), encoded  # jsonb orders object keys by byte length, then bytes


def _number_text(number: Decimal | int, *, postgres: bool) -> str:
    if isinstance(number, int):
        return str(number) if postgres else format(Decimal(number).normalize(_WIDE), "f")
    if not number.is_finite():
        return str(number)
    if number.is_zero():
        return format(number, "f").lstrip("-") if postgres else "0"
    # PostgreSQL's numeric keeps the scale it was written with; by value, 1.50 == 1.5 == 15e-1
    return format(number, "f") if postgres else format(number.normalize(_WIDE), "f")


def json_text(value: object, *, postgres: bool) -> str:
    """Parsed JSON as ``jsonb`` prints it: keys in jsonb order, ``", "`` and ``": "``.

    Args:
        value: the output of ``parse_json``.
        postgres: print numbers as PostgreSQL's ``numeric`` does (``1.50`` stays ``1.50``);
            otherwise normalise them so that equal values print alike.
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, _InvalidJson):
        return "!" + value
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):  # from a driver that parsed the JSON itself
        value = Decimal(repr(value))
    if isinstance(value, int | Decimal):
        return _number_text(value, postgres=postgres)
    if isinstance(value, dict):
        members = (
            f"{json.dumps(key, ensure_ascii=False)}: {json_text(value[key], postgres=postgres)}"
            for key in sorted(value, key=_jsonb_key_order)
        )
        return "{" + ", ".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(json_text(item, postgres=postgres) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def utc_datetime(value: object) -> datetime | None:
    """A timestamp value as an aware UTC datetime (naive means UTC); None if unreadable."""
    moment: datetime
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _postgres_timestamp(moment: datetime) -> str:
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    return text + f".{moment.microsecond:06d}".rstrip("0") if moment.microsecond else text


def canonical_value(kind: Kind, value: object) -> str | None:
    """The form two values are compared in at row level (None for SQL NULL and JSON null)."""
    if value is None:
        return None
    if kind == "json":
        parsed = parse_json(value)
        return None if parsed is None else json_text(parsed, postgres=False)
    if kind == "timestamp":
        moment = utc_datetime(value)
        return "!" + str(value) if moment is None else moment.isoformat(timespec="microseconds")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode(errors="replace")
    return value if isinstance(value, str) else str(value)


def postgres_text(kind: Kind, value: object) -> str | None:
    """The text PostgreSQL's normalising expression prints for ``value`` (None for NULL)."""
    if value is None:
        return None
    if kind == "json":
        parsed = parse_json(value)
        return None if parsed is None else json_text(parsed, postgres=True)
    if kind == "timestamp":
        moment = utc_datetime(value)
        return str(value) if moment is None else _postgres_timestamp(moment)
    return canonical_value("text", value)


def postgres_fingerprint(kinds: Sequence[Kind]) -> Callable[..., int]:
    """A SQLite function hashing a row exactly as the PostgreSQL side's SQL hashes it.

    The PostgreSQL side computes ``md5(concat_ws(SEPARATOR, coalesce(x, NULL_MARK), …))``; this
    builds the same text from SQLite's stored values, so both engines can be bisected together.
    """

    def fingerprint(*values: object) -> int:
        parts = (postgres_text(kind, value) for kind, value in zip(kinds, values, strict=True))
        return md5_60(SEPARATOR.join(NULL_MARK if part is None else part for part in parts))

    return fingerprint
