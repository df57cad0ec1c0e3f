"""Dialect-aware bulk upserts (INSERT … ON CONFLICT DO UPDATE) for SQLite and PostgreSQL.

Two entry points:

- :func:`upsert_rows` takes dicts of Python values and goes through SQLAlchemy's statement
  compilation and column types (fine for a handful of rows).
- :func:`upsert_batch` takes a :class:`RowBatch` of *driver values* — what the column types
  would have handed the DBAPI driver — in one plain statement: the bulk-load path, where
  per-row and per-value SQLAlchemy processing would dominate a million-row load. The
  :class:`DriverValues` of a dialect convert Python values exactly as ``UtcDateTime``,
  ``DecimalText``, ``Date`` and ``JSON`` bind them, so both paths store identical values.

On SQLite a batch travels as a serialized SQLite database (an *image*, built wherever the rows
were made, possibly in another process) whose one table holds the rows: the writing connection
loads it into an attached in-memory schema and copies it with one ``INSERT … SELECT``, so
that no value is bound or parsed one by one where the store is written. Elsewhere it is an
``executemany``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
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
    "loaded_batch",
    "row_batch",
    "upsert_batch",
    "upsert_rows",
]

_CHUNK = 5_000
# SQLite page cache while bulk loading (negative: KiB). The default 2 MiB spills the pages of
# a large transaction to the WAL over and over; this bounds the extra memory at 128 MiB.
_BULK_CACHE_KIB = -131_072
# Serialized databases need Python 3.11's sqlite3 on an SQLite built with them (the default).
_SQLITE_IMAGES = hasattr(sqlite3.Connection, "deserialize")
# Where a batch image is loaded on the writing connection, and its table.
_BATCH_SCHEMA = "occ_batch"
_BATCH_TABLE = f"{_BATCH_SCHEMA}.r"

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
    """Driver rows for one table: as tuples, or (SQLite) as a serialized database image."""

    count: int
    rows: Sequence[Row] = ()
    image: bytes | None = None


def _image(rows: Sequence[Row]) -> bytes:
    width = len(rows[0])
    with closing(sqlite3.connect(":memory:")) as database:
        columns = ", ".join(f"c{i}" for i in range(width))
        database.execute(f"CREATE TABLE r ({columns})")  # no types: values kept as bound
        database.executemany(f"INSERT INTO r VALUES ({', '.join(['?'] * width)})", rows)
        database.commit()
        return database.serialize()


def row_batch(rows: Sequence[Row], dialect: str) -> RowBatch:
    """Package ``rows`` for :func:`upsert_batch` on ``dialect`` (cheap to send to a process).

    On SQLite the rows are bound once, here, into an image. Rows that SQLite cannot bind (an
    integer beyond 64 bits, a type it does not know) stay tuples: the writing connection then
    stores or refuses them as ever.
    """
    if dialect != "sqlite" or not _SQLITE_IMAGES or not rows:
        return RowBatch(len(rows), rows=rows)
    try:
        return RowBatch(len(rows), image=_image(rows))
    except (OverflowError, sqlite3.Error):
        return RowBatch(len(rows), rows=rows)


def _empty_image() -> bytes:
    """The smallest image: one page (an empty database has none to serialize)."""
    if not _SQLITE_IMAGES:
        return b""
    with closing(sqlite3.connect(":memory:")) as database:
        database.execute("PRAGMA page_size = 512")
        database.execute("CREATE TABLE r (c0)")
        return database.serialize()


_EMPTY_IMAGE = _empty_image()


@contextmanager
def loaded_batch(connection: Connection, batch: RowBatch) -> Iterator[str]:
    """Load the image of ``batch`` on ``connection``; yields the table that holds its rows.

    The schema is attached once per connection (SQLite allows that inside a transaction) and
    emptied again on exit, so that no batch outlives its statements.
    """
    assert batch.image is not None
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    attached = connection.exec_driver_sql("PRAGMA database_list").fetchall()
    if _BATCH_SCHEMA not in {row[1] for row in attached}:
        connection.exec_driver_sql(f"ATTACH DATABASE ':memory:' AS {_BATCH_SCHEMA}")
    driver.deserialize(batch.image, name=_BATCH_SCHEMA)
    try:
        yield _BATCH_TABLE
    finally:
        driver.deserialize(_EMPTY_IMAGE, name=_BATCH_SCHEMA)


@cache
def _insert_sql(
    dialect: str,
    paramstyle: str,
    table: str,
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    update: bool,
    from_image: bool,
) -> str:
    preparer = (sqlite if dialect == "sqlite" else postgresql).dialect().identifier_preparer
    quote = preparer.quote
    names = ", ".join(quote(column) for column in columns)
    conflict = ", ".join(quote(key) for key in keys)
    updates = ", ".join(
        f"{quote(column)} = excluded.{quote(column)}" for column in columns if column not in keys
    )
    action = f"DO UPDATE SET {updates}" if update and updates else "DO NOTHING"
    if from_image:
        # WHERE true: SQLite's parser needs it before ON CONFLICT in an INSERT … SELECT.
        source = f"SELECT * FROM {_BATCH_TABLE} WHERE true"
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
        batch.image is not None,
    )
    if batch.image is not None:
        with loaded_batch(connection, batch):
            return connection.exec_driver_sql(sql).rowcount
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
