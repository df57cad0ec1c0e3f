"""The two databases of a parity check and the SQL parity runs in each of them.

Each side is PostgreSQL or SQLite. A row's fingerprint is computed inside its database, from
the row's fields joined by ``SEPARATOR`` (NULL as ``NULL_MARK``):

* PostgreSQL with PostgreSQL: ``hashtextextended`` (64 bits), timestamps as UTC text, JSON
  through ``jsonb`` unless both sides store the same JSON type; summed per segment. ``md5``
  would cost 0.7 µs more per row on PostgreSQL 15 (an OpenSSL context per call): 2.8 s
  instead of 1.0 s per million rows and side.
* PostgreSQL with SQLite: ``md5`` of that text, its first 60 bits summed per segment
  (data-diff's checksum). The SQLite side runs a registered function that builds the very text
  PostgreSQL hashes (``parity_hash.postgres_fingerprint``).
* SQLite with SQLite: Python's built-in ``hash`` of ``json_array(fields…)`` as stored,
  registered as a deterministic SQLite function: a C function, so no Python frame runs per
  row; keyed per process, and both sides are hashed in the same process.

Segment checksums only decide which rows to fetch: fetched rows are compared in canonical
form in Python (``parity_hash.canonical_value``). A checksum that differs for equal rows
(values stored in another format, a server hashing differently) costs fetches, never a
wrong answer.

A segment is a bucket of keys: a key prefix (text keys) or ``key / width`` (integer keys).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from occ.errors import ConfigError, MirrorError, OccError
from occ.ops.parity_hash import Kind, postgres_fingerprint

__all__ = [
    "Column",
    "MirrorTableMissing",
    "MirrorUnreachable",
    "ParityUnavailable",
    "Side",
    "Spread",
    "open_mirror",
]

Role = Literal["primary", "mirror"]
Spread = Literal["postgres", "sqlite", "mixed"]  # the engines of the two sides
_RANGES = 64  # up to this many text buckets are read as key ranges (index)


class ParityUnavailable(OccError):
    """Parity could not run: a database cannot be read or lacks a table (exit 2)."""

    exit_code = 2


class MirrorUnreachable(ParityUnavailable, MirrorError):
    """The mirror database does not answer or refuses the connection (retryable)."""

    retryable = True


class MirrorTableMissing(ParityUnavailable, MirrorError):
    """The mirror has no table parity compares; ``occ decisions sync`` creates it."""


def _reason(exc: BaseException, password: str | None) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    first = lines[0]
    return first.replace(password, "***") if password else first


def open_mirror(url: str, *, connect_timeout: int = 10) -> Engine:
    """An engine on the mirror, checked to answer; nothing is created there.

    Raises:
        ConfigError: ``url`` is not a SQLAlchemy URL.
        MirrorUnreachable: the server does not answer, or the SQLite file does not exist.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            "the mirror URL is not a SQLAlchemy URL; use e.g. postgresql://user@host/db "
            "or sqlite:///path/mirror.db"
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    shown = parsed.render_as_string(hide_password=True)
    backend = parsed.get_backend_name()
    database = parsed.database or ""
    file_uri = parsed.query.get("uri") == "true"  # sqlite:///file:…?uri=true names no path
    in_file = backend == "sqlite" and database not in ("", ":memory:") and not file_uri
    if in_file and not Path(database).exists():
        raise MirrorUnreachable(
            f"the mirror database file {database} does not exist; check --mirror / "
            "OCC_MIRROR_URL, or run `occ decisions sync` to create the mirror"
        )
    connect_args: dict[str, Any] = (
        {"connect_timeout": connect_timeout} if backend == "postgresql" else {}
    )
    try:
        engine = create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
        with engine.connect():
            pass
    except (SQLAlchemyError, ImportError, ArgumentError) as exc:
        raise MirrorUnreachable(
            f"cannot reach the mirror {shown}: {_reason(exc, parsed.password)}; check --mirror "
            "/ OCC_MIRROR_URL and that the server is running"
        ) from None
    return engine


@dataclass(frozen=True, slots=True)
class Column:
    """A compared column as one side stores it."""

    logical: str  # its name in the primary's vocabulary
    name: str  # its name on this side
    kind: Kind  # what it holds
    physical: str  # how this side stores it: text, int, json, jsonb, timestamp, timestamptz


def _physical(sa_type: Any) -> str:
    from sqlalchemy import JSON, DateTime, Integer
    from sqlalchemy.dialects.postgresql import JSONB

    if isinstance(sa_type, JSONB):
        return "jsonb"
    if isinstance(sa_type, JSON):
        return "json"
    if isinstance(sa_type, DateTime):
        return "timestamptz" if sa_type.timezone else "timestamp"
    if isinstance(sa_type, Integer):
        return "int"
    return "text"


class Side:
    """One database of the comparison: its engine and how parity queries it."""

    def __init__(self, engine: Engine, role: Role) -> None:
        self.engine = engine
        self.role: Role = role
        self.dialect = engine.dialect.name
        if self.dialect not in ("postgresql", "sqlite"):
            raise ParityUnavailable(
                f"parity compares PostgreSQL and SQLite databases; the {role} is {self.dialect}"
            )
        self.postgres = self.dialect == "postgresql"
        self.queries = 0
        self._functions: dict[str, tuple[int, Callable[..., object]]] = {"occ_hash": (1, hash)}
        self._collations: dict[tuple[str, str], bool] = {}

    @property
    def shown_url(self) -> str:
        """The URL with its password masked."""
        return self.engine.url.render_as_string(hide_password=True)

    def quote(self, name: str) -> str:
        """``name`` quoted as an identifier where it needs to be."""
        return str(self.engine.dialect.identifier_preparer.quote(name))

    def columns(self, table: str) -> dict[str, str] | None:
        """Column name → physical type of ``table``, or None when the table does not exist."""
        try:
            inspector = inspect(self.engine)
            if not inspector.has_table(table):
                return None
            return {col["name"]: _physical(col["type"]) for col in inspector.get_columns(table)}
        except SQLAlchemyError as exc:
            raise self._failure(exc) from None

    def register(self, name: str, arity: int, function: Callable[..., object]) -> None:
        """A SQLite function to define on every connection parity uses."""
        self._functions[name] = (arity, function)

    def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Run one read query; PostgreSQL in UTC, hash aggregation, no JIT."""
        try:
            with self.engine.connect() as connection:
                if self.postgres:
                    connection.exec_driver_sql(
                        "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; "
                        "SET LOCAL enable_sort = off; SET LOCAL jit = off; "
                        "SET LOCAL work_mem = '64MB'"
                    )
                else:
                    driver = connection.connection.driver_connection
                    for name, (arity, function) in self._functions.items():
                        driver.create_function(name, arity, function, deterministic=True)  # type: ignore[union-attr]
                rows = [tuple(row) for row in connection.execute(text(sql), params)]
        except SQLAlchemyError as exc:
            raise self._failure(exc) from None
        self.queries += 1
        return rows

    def _failure(self, exc: BaseException) -> ParityUnavailable:
        cls = MirrorUnreachable if self.role == "mirror" else ParityUnavailable
        return cls(
            f"the {self.role} {self.shown_url} failed a parity query: "
            f"{_reason(exc, self.engine.url.password)}; check the database and retry"
        )

    # --- expressions -------------------------------------------------------------------------

    def key_text(self, key: Column) -> str:
        """The key as text (how rows are matched across sides)."""
        quoted = self.quote(key.name)
        return f"CAST({quoted} AS TEXT)" if key.physical == "int" else quoted

    def key_int(self, key: Column) -> str:
        """The key as an integer; a text key that is not a number reads as -1."""
        quoted = self.quote(key.name)
        if key.physical == "int":
            return quoted
        if self.postgres:
            return f"coalesce(CAST(substring({quoted} from '^[0-9]{{1,18}}$') AS bigint), -1)"
        return (
            f"(CASE WHEN {quoted} GLOB '[0-9]*' AND NOT {quoted} GLOB '*[^0-9]*' "
            f"AND length({quoted}) <= 18 THEN CAST({quoted} AS INTEGER) ELSE -1 END)"
        )

    def bucket(self, key: Column, integer: bool, resolution: int) -> str:
        """The segment a row falls in at ``resolution`` (prefix length, or width)."""
        if integer:
            return f"({self.key_int(key)} / {int(resolution)})"
        function = "left" if self.postgres else "substr"
        start = "" if self.postgres else "1, "
        return f"{function}({self.key_text(key)}, {start}{int(resolution)})"

    def within(
        self, table: str, key: Column, integer: bool, resolution: int, buckets: Sequence[object]
    ) -> tuple[str, dict[str, Any]]:
        """A WHERE condition (and its parameters) selecting the rows of ``buckets``.

        A few text prefixes are read as key ranges, through the primary-key index, where the
        key compares by code point (SQLite's BINARY, PostgreSQL's C collations).
        """
        expression = self.bucket(key, integer, resolution)
        ranges = not integer and key.physical != "int" and len(buckets) <= _RANGES
        if ranges and (not self.postgres or self._code_point_order(table, key)):
            return self._ranges(key, expression, [str(bucket) for bucket in buckets])
        if self.postgres:
            return f"{expression} = ANY(:buckets)", {"buckets": list(buckets)}
        return (
            f"{expression} IN (SELECT value FROM json_each(:buckets))",
            {"buckets": json.dumps(list(buckets))},
        )

    def _ranges(
        self, key: Column, expression: str, prefixes: list[str]
    ) -> tuple[str, dict[str, Any]]:
        ordered = self.quote(key.name) + ("" if self.postgres else " COLLATE BINARY")
        terms, params = [], {}
        for index, prefix in enumerate(prefixes):
            following = _next_prefix(prefix)
            if following is None:
                terms.append(f"{expression} = :lo{index}")
            else:
                terms.append(f"({ordered} >= :lo{index} AND {ordered} < :hi{index})")
                params[f"hi{index}"] = following
            params[f"lo{index}"] = prefix
        return "(" + " OR ".join(terms) + ")", params

    def _code_point_order(self, table: str, key: Column) -> bool:
        """Whether PostgreSQL orders the key column by code point (C, POSIX, C.UTF-8)."""
        if (table, key.name) not in self._collations:
            rows = self.query(
                "SELECT coalesce(nullif(c.collname, 'default'), d.datcollate) "
                "FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation "
                "CROSS JOIN pg_database d WHERE a.attrelid = to_regclass(:table) "
                "AND a.attname = :column AND d.datname = current_database()",
                table=self.quote(table),
                column=key.name,
            )
            name = str(rows[0][0]) if rows else ""
            self._collations[table, key.name] = name in ("C", "POSIX", "ucs_basic") or (
                name.upper().startswith("C.")
            )
        return self._collations[table, key.name]

    def fingerprint_sum(
        self, key: Column, columns: Sequence[Column], peers: Sequence[Column], spread: Spread
    ) -> str:
        """SQL for the checksum of a segment's rows (PostgreSQL: one numeric sum)."""
        if self.postgres:
            raw_json = spread == "postgres"
            fields = ", ".join(
                f"coalesce({self._pg_field(column, peer, raw_json)}, E'\\x1e')"
                for column, peer in zip(columns, peers, strict=True)
            )
            row = f"concat_ws(E'\\x1f', {self.key_text(key)}, {fields})"
            if spread == "postgres":
                return f'sum(hashtextextended({row} COLLATE "C", 0))'
            return f"sum(CAST(CAST('x' || left(md5({row}), 15) AS bit(60)) AS bigint))"
        if spread == "sqlite":
            values = [
                f"nullif({self.quote(c.name)}, 'null')" if c.kind == "json" else self.quote(c.name)
                for c in columns
            ]
            return f"occ_hash(json_array({', '.join([self.key_text(key), *values])}))"
        names = ", ".join([self.key_text(key), *(self.quote(c.name) for c in columns)])
        function = f"occ_pg_fingerprint_{len(columns) + 1}"
        kinds: list[Kind] = ["text", *(column.kind for column in columns)]
        self.register(function, len(kinds), postgres_fingerprint(kinds))
        return f"{function}({names})"

    def _pg_field(self, column: Column, peer: Column, raw_json: bool) -> str:
        quoted = self.quote(column.name)
        if column.kind == "json":  # JSON null counts as SQL NULL
            if raw_json and peer.physical == column.physical:
                return f"nullif(CAST({quoted} AS TEXT), 'null')"  # same JSON type: as stored
            return f"nullif(CAST(CAST({quoted} AS jsonb) AS TEXT), 'null')"
        if column.kind == "timestamp":
            if column.physical == "timestamptz":
                return f"CAST(({quoted} AT TIME ZONE 'UTC') AS TEXT)"
            if column.physical == "timestamp":
                return f"CAST({quoted} AS TEXT)"
            return f"CAST((CAST({quoted} AS timestamptz) AT TIME ZONE 'UTC') AS TEXT)"
        return quoted if column.physical == "text" else f"CAST({quoted} AS TEXT)"

    # --- queries -----------------------------------------------------------------------------

    def segment_sums(
        self, table: str, bucket: str, checksum: str, where: str, params: dict[str, Any]
    ) -> dict[object, tuple[int, int]]:
        """Bucket → (row count, checksum) for the rows matching ``where``."""
        condition = f" WHERE {where}" if where else ""
        quoted = self.quote(table)
        if self.postgres:
            sql = (
                f"SELECT {bucket} AS b, count(*) AS n, {checksum} AS s "
                f"FROM {quoted}{condition} GROUP BY 1"
            )
            return {row[0]: (int(row[1]), int(row[2])) for row in self.query(sql, **params)}
        # The hash is split in two 32-bit halves so that SQLite's 64-bit sum cannot overflow;
        # LIMIT -1 keeps the subquery a co-routine, so the function runs once per row.
        sql = (
            "SELECT b, count(*), sum(h >> 32), sum(h & 4294967295) FROM "
            f"(SELECT {bucket} AS b, {checksum} AS h FROM {quoted}{condition} LIMIT -1) "
            "GROUP BY b"
        )
        rows = self.query(sql, **params)
        return {row[0]: (int(row[1]), (int(row[2]) << 32) + int(row[3])) for row in rows}

    def rows(
        self, table: str, key: Column, columns: Sequence[Column], where: str, params: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        """(key text, compared values…) of the rows matching ``where``; JSON as text."""
        selected = [self.key_text(key)]
        for column in columns:
            quoted = self.quote(column.name)
            json_value = self.postgres and column.kind == "json"
            selected.append(f"CAST({quoted} AS TEXT)" if json_value else quoted)
        sql = f"SELECT {', '.join(selected)} FROM {self.quote(table)} WHERE {where}"
        return self.query(sql, **params)

    def counts(
        self, table: str, group: Column | None, key: Column, integer: bool
    ) -> tuple[dict[object, int], int]:
        """Rows per value of ``group`` (one None entry without it), and the largest integer key."""
        largest = f"max({self.key_int(key)})" if integer else "0"
        if group is None:
            sql = f"SELECT NULL, count(*), {largest} FROM {self.quote(table)}"
        else:
            grouped = self.quote(group.name)
            sql = f"SELECT {grouped}, count(*), {largest} FROM {self.quote(table)} GROUP BY 1"
        rows = [row for row in self.query(sql) if row[1]]
        return {row[0]: int(row[1]) for row in rows}, max((int(r[2] or 0) for r in rows), default=0)

    def key_bounds(self, table: str, key: Column) -> list[str]:
        """The smallest and largest key (through the primary-key index), none when empty."""
        quoted = self.quote(key.name)
        rows = self.query(f"SELECT min({quoted}), max({quoted}) FROM {self.quote(table)}")
        return [str(value) for value in rows[0] if value is not None] if rows else []

    def group_counts_of(
        self, table: str, group: Column, key: Column, keys: Sequence[str]
    ) -> dict[object, int]:
        """Rows per ``group`` value among the rows whose key is in ``keys``."""
        found: dict[object, int] = {}
        for start in range(0, len(keys), 5000):
            chunk = list(keys[start : start + 5000])
            params: dict[str, Any]
            if self.postgres:
                where, params = f"{self.key_text(key)} = ANY(:keys)", {"keys": chunk}
            else:
                where = f"{self.key_text(key)} IN (SELECT value FROM json_each(:keys))"
                params = {"keys": json.dumps(chunk)}
            sql = (
                f"SELECT {self.quote(group.name)}, count(*) FROM {self.quote(table)} "
                f"WHERE {where} GROUP BY 1"
            )
            for value, count in self.query(sql, **params):
                found[value] = found.get(value, 0) + int(count)
        return found


def _next_prefix(prefix: str) -> str | None:
    """The smallest string above every string starting with ``prefix`` (code-point order)."""
    following = ord(prefix[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:
        following = 0xE000  # surrogates are not characters
    return None if following > 0x10FFFF else prefix[:-1] + chr(following)
