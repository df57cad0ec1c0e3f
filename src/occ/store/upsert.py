"""Dialect-aware bulk upserts (INSERT … ON CONFLICT DO UPDATE) for SQLite and PostgreSQL.

Two entry points:

- :func:`upsert_rows` takes dicts of Python values and goes through SQLAlchemy's statement
  compilation and column types (fine for a handful of rows).
- :func:`upsert_batch` takes a :class:`RowBatch` of *driver values* — what the column types
  would have handed the DBAPI driver — in one plain statement: the bulk-load path, where
  per-row and per-value SQLAlchemy processing would dominate a million-row load. The
  :class:`DriverValues` of a dialect convert Python values exactly as ``UtcDateTime``,
  ``DecimalText``, ``Date`` and ``JSON`` bind them, so both paths store identical values.

On SQLite a batch travels as one JSON array text and is inserted with one
``INSERT … SELECT … FROM json_each(?)``: SQLite unpacks it in C, and the statement releases
the GIL for its whole run instead of once per row (an ``executemany`` in a process whose other
threads are busy waits for the GIL after every row). Elsewhere it is an ``executemany``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

__all__ = [
    "DriverValues",
    "Row",
    "RowBatch",
    "bulk_load",
    "driver_values",
    "insert_new",
    "row_batch",
    "upsert_batch",
    "upsert_rows",
]

_CHUNK = 5_000
# SQLite page cache while bulk loading (negative: KiB). The default 2 MiB spills the pages of
# a large transaction to the WAL over and over; this bounds the extra memory at 128 MiB.
_BULK_CACHE_KIB = -131_072
# json_each and json_extract are built into every SQLite from 3.38 on.
_SQLITE_JSON = sqlite3.sqlite_version_info >= (3, 38, 0)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

Row = tuple[Any, ...]


def _naive_refused() -> ValueError:
    return ValueError("naive datetime given to a UTC column")


def _sqlite_datetime(value: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DATETIME storage format, always with microseconds, so that the stored
    # text sorts and compares with bound parameters exactly like the instants it holds.
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise _naive_refused()
        value = value.astimezone(UTC)
    text = value.isoformat(" ")  # "YYYY-MM-DD HH:MM:SS[.ffffff]+00:00", the fastest spelling
    return text[:19] + ".000000" if len(text) == 25 else text[:26]


def _aware_datetime(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise _naive_refused()
    return value.astimezone(UTC)


def _read_sqlite_datetime(value: str) -> datetime:
    # What UtcDateTime reads back: the stored UTC wall time, made aware.
    return datetime.fromisoformat(value + "+00:00")


def _read_aware_datetime(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _sqlite_date(value: date) -> str:
    return value.isoformat()


def _same_date(value: date) -> date:
    return value


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _json_text(value: Any) -> str:
    return json.dumps(value)


@dataclass(frozen=True, slots=True)
class DriverValues:
    """How one dialect's DBAPI driver receives occ's column types, and ``UtcDateTime`` back.

    See the module docstring; ``read_timestamp`` turns a ``UtcDateTime`` column's raw driver
    value into what the column type returns (an aware UTC datetime).
    """

    dialect: str
    timestamp: Callable[[datetime | None], Any]  # UtcDateTime
    day: Callable[[date], Any]  # Date
    money: Callable[[Decimal | None], str | None]  # DecimalText
    json: Callable[[Any], str]  # JSON
    read_timestamp: Callable[[Any], datetime]  # a non-null UtcDateTime value


_SQLITE = DriverValues(
    "sqlite", _sqlite_datetime, _sqlite_date, _decimal_text, _json_text, _read_sqlite_datetime
)
_SERVER = DriverValues(
    "postgresql", _aware_datetime, _same_date, _decimal_text, _json_text, _read_aware_datetime
)


def driver_values(dialect: str) -> DriverValues:
    """The converters for ``dialect`` (a SQLAlchemy dialect name such as ``sqlite``)."""
    return _SQLITE if dialect == "sqlite" else _SERVER


@contextmanager
def bulk_load(connection: Connection) -> Iterator[None]:
    """Tune ``connection`` for a bulk load (SQLite: a larger page cache), then restore it."""
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size = {_BULK_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {previous}")


@dataclass(frozen=True, slots=True)
class RowBatch:
    """Driver rows for one table: as tuples, or (SQLite) as one JSON array of row arrays."""

    count: int
    rows: Sequence[Row] = ()
    json: str | None = None


def row_batch(rows: Sequence[Row], dialect: str, integers: Sequence[int] = ()) -> RowBatch:
    """Package ``rows`` for :func:`upsert_batch` on ``dialect`` (cheap to send to a process).

    ``integers`` are the positions of the integer columns. A batch that JSON cannot carry to
    SQLite exactly — an integer beyond 64 bits (SQLite would store it as a float) or a NUL
    character in a text — stays tuples: the driver then stores it, or refuses it, as ever.
    """
    if dialect != "sqlite" or not _SQLITE_JSON or not rows:
        return RowBatch(len(rows), rows=rows)
    for position in integers:
        values = [row[position] for row in rows if row[position] is not None]
        if values and (max(values) > _INT64_MAX or min(values) < _INT64_MIN):
            return RowBatch(len(rows), rows=rows)
    # ensure_ascii=False: text reaches SQLite as the UTF-8 it is, with no \\u escapes.
    text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if "\\u0000" in text:  # json_extract cuts a text at an escaped NUL
        return RowBatch(len(rows), rows=rows)
    return RowBatch(len(rows), json=text)


@cache
def _insert_sql(
    dialect: str,
    paramstyle: str,
    table: str,
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    update: bool,
    from_json: bool,
) -> str:
    preparer = (sqlite if dialect == "sqlite" else postgresql).dialect().identifier_preparer
    quote = preparer.quote
    names = ", ".join(quote(column) for column in columns)
    conflict = ", ".join(quote(key) for key in keys)
    updates = ", ".join(
        f"{quote(column)} = excluded.{quote(column)}" for column in columns if column not in keys
    )
    action = f"DO UPDATE SET {updates}" if update and updates else "DO NOTHING"
    if from_json:
        # WHERE true: SQLite's parser needs it before ON CONFLICT in an INSERT … SELECT.
        values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
        source = f"SELECT {values} FROM json_each(?) WHERE true"
    elif paramstyle == "qmark":
        source = f"VALUES ({', '.join(['?'] * len(columns))})"
    elif paramstyle in ("format", "pyformat"):
        source = f"VALUES ({', '.join(['%s'] * len(columns))})"
    else:
        raise NotImplementedError(f"bulk upsert does not support the {paramstyle} paramstyle")
    return f"INSERT INTO {quote(table)} ({names}) {source} ON CONFLICT ({conflict}) {action}"


def _insert(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    batch: RowBatch,
    keys: Sequence[str],
    update: bool,
) -> int:
    if not batch.count:
        return 0
    dialect = connection.dialect
    sql = _insert_sql(
        dialect.name,
        dialect.paramstyle,
        table.name,
        tuple(columns),
        tuple(keys),
        update,
        batch.json is not None,
    )
    if batch.json is not None:
        return connection.exec_driver_sql(sql, (batch.json,)).rowcount
    changed = 0
    for start in range(0, batch.count, _CHUNK):
        chunk = list(batch.rows[start : start + _CHUNK])
        changed += connection.exec_driver_sql(sql, chunk).rowcount
    return changed


def upsert_batch(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    batch: RowBatch,
    keys: Sequence[str],
) -> int:
    """Upsert ``batch`` (driver values, in ``columns`` order) into ``table``.

    Every non-key column is updated on a key conflict. The same key twice in a batch is fine
    (the last row wins). Returns the number of rows sent.
    """
    _insert(connection, table, columns, batch, keys, update=True)
    return batch.count


def insert_new(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    batch: RowBatch,
    keys: Sequence[str],
) -> int:
    """Insert the rows of ``batch`` whose key is not stored yet; returns how many were new."""
    return _insert(connection, table, columns, batch, keys, update=False)


def upsert_rows(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> int:
    """Insert ``rows`` into ``table``, updating every non-key column on a key conflict.

    Returns the number of rows sent. Rows must all have the same columns.
    """
    if not rows:
        return 0
    dialect = connection.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    updates = {column: statement.excluded[column] for column in rows[0] if column not in set(keys)}
    statement = (
        statement.on_conflict_do_update(index_elements=list(keys), set_=updates)
        if updates
        else statement.on_conflict_do_nothing(index_elements=list(keys))
    )
    for start in range(0, len(rows), _CHUNK):
        connection.execute(statement, list(rows[start : start + _CHUNK]))
    return len(rows)
