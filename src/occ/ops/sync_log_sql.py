"""The sync-log analyzer's rules, as DuckDB SQL: field aliases, classification, aggregation.

Every rule existing exports depend on lives here, once: which JSON paths name a field
(``ALIASES``), which status words mean success or failure, when a duration is in seconds,
when an epoch number is in milliseconds. ``occ.ops.sync_log`` runs the SQL built here and
shapes its small results into the summary.

The file is read once by DuckDB's NDJSON reader (each line into one struct of every alias;
a line that is not a JSON value becomes NULL) and fanned out to one aggregate per breakdown,
so memory depends on the number of distinct keys (hours, statuses, durations), never on the
number of lines. Only lines that need a second look (malformed ones, for their text and
line number) are read again, by ``parse_samples_sql``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "ALIASES",
    "BREAKDOWN_LIMIT",
    "DURATIONS_SQL",
    "ERRORS_SQL",
    "FAILURE_SAMPLES_SQL",
    "HOURS_SQL",
    "HOUR_LIMIT",
    "OUTCOMES_SQL",
    "RETRIES_SQL",
    "SCOPES_SQL",
    "STATUSES_SQL",
    "WINDOW_SQL",
    "EMPTY",
    "EPOCH_MS_FROM",
    "FAILURE",
    "FAILURE_STATUSES",
    "MESSAGE_SAMPLES",
    "SAMPLE_LIMIT",
    "SECONDS_BELOW",
    "SKIPPED",
    "SUCCESS",
    "SUCCESS_STATUSES",
    "UNKNOWN",
    "aggregate_sql",
    "parse_samples_sql",
    "sql_string",
]

ALIASES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "timestamp": (
            "timestamp",
            "time",
            "loggedAt",
            "generatedAt",
            "createdAt",
            "metadata.generatedAt",
        ),
        "status": ("status", "state", "outcome"),
        "statusCode": ("statusCode", "httpStatus", "response.status"),
        "success": ("success", "ok"),
        "errorCode": ("errorCode", "error_code", "error.code"),
        # ``error`` is a message when it is a string; an object carries code and message.
        "errorMessage": ("errorMessage", "error_message", "error", "error.message", "message"),
        "durationMs": ("durationMs", "duration_ms", "duration", "latencyMs", "metrics.durationMs"),
        "retries": ("retryCount", "retry_count", "retries"),
        "attempt": ("attempt",),  # retries = attempt - 1 when no retry count is given
        "scope": ("scope", "context.scope"),
        "decisionId": ("decisionId", "decision_id", "id"),
    }
)
"""Each field's JSON paths, in order: the first one present (and not JSON null) is taken."""

SUCCESS_STATUSES: Final = ("success", "ok", "completed", "synced")
FAILURE_STATUSES: Final = (
    "failure",
    "failed",
    "error",
    "timeout",
    "timed_out",
    "fatal",
    "rejected",
)
SECONDS_BELOW: Final = 10.0
"""A duration below this is in seconds (older pipelines), at or above it in milliseconds."""
EPOCH_MS_FROM: Final = 1e11
"""An epoch number at or above this is in milliseconds (1e11 s would be the year 5138)."""
SAMPLE_LIMIT: Final = 10
"""Failure samples and malformed-line samples kept."""
MESSAGE_SAMPLES: Final = 3
"""Most frequent messages kept per error code."""
BREAKDOWN_LIMIT: Final = 1000
"""Most entries of one breakdown (the most frequent); a sync log has a handful."""
TEXT_LIMIT: Final = 200
"""Characters kept of a sampled line, message or id."""

# Outcome codes, per line.
UNKNOWN: Final = 0
SUCCESS: Final = 1
FAILURE: Final = 2
SKIPPED: Final = 3  # not JSON, or JSON null: never a record
EMPTY: Final = 4  # no known field: an object without one (a record) or an array/scalar (not)

_MAX_EPOCH_MS: Final = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_READ_BUFFER: Final = 262_144  # bytes; a longer line is still read whole
_FIELDS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {  # field: (column in SQL, type the reader converts its aliases to)
        "timestamp": ("ts_text", "VARCHAR"),  # ISO-8601 text or an epoch number
        "status": ("status", "VARCHAR"),
        "statusCode": ("status_code", "DOUBLE"),
        "success": ("flag", "VARCHAR"),  # 'true' / 'false' for JSON booleans
        "errorCode": ("error_code", "VARCHAR"),
        "errorMessage": ("error_message", "VARCHAR"),
        "durationMs": ("duration", "DOUBLE"),
        "retries": ("retries", "DOUBLE"),
        "attempt": ("attempt", "DOUBLE"),
        "scope": ("scope", "VARCHAR"),
        "decisionId": ("decision_id", "VARCHAR"),
    }
)


def sql_string(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Node:
    """One key of the struct the reader fills: a typed leaf, a struct, or both (then JSON)."""

    def __init__(self) -> None:
        self.leaf: str | None = None
        self.children: dict[str, _Node] = {}

    @property
    def sql_type(self) -> str:
        if self.children and self.leaf is not None:
            return "JSON"
        if self.children:
            fields = ", ".join(f"{_ident(k)} {v.sql_type}" for k, v in self.children.items())
            return f"STRUCT({fields})"
        return self.leaf or "JSON"


def _tree() -> _Node:
    root = _Node()
    for field, paths in ALIASES.items():
        for path in paths:
            node = root
            for part in path.split("."):
                node = node.children.setdefault(part, _Node())
            wanted = _FIELDS[field][1]
            node.leaf = wanted if node.leaf in (None, wanted) else "JSON"
    return root


_ROOT: Final = _tree()


def _path_value(path: str, reader_type: str) -> str:
    """SQL of one alias's raw value (reader type), NULL when absent or of the wrong shape."""
    expr, node, parts = "line", _ROOT, path.split(".")
    for index, part in enumerate(parts):
        node = node.children[part]
        expr = f"{expr}.{_ident(part)}"
        rest = parts[index + 1 :]
        # JSON functions only on the lines that have the key: the rest skip them.
        if node.sql_type == "JSON" and rest:
            text = f"({expr} ->> {sql_string('$.' + '.'.join(_ident(p) for p in rest))})"
            value = text if reader_type == "VARCHAR" else f"TRY_CAST({text} AS {reader_type})"
            return f"CASE WHEN {expr} IS NOT NULL THEN {value} END"
        if node.sql_type == "JSON" and node.leaf != "JSON":
            # Read as JSON because it is also a parent: only a scalar of this type counts.
            scalar = "'VARCHAR'" if reader_type == "VARCHAR" else "'BIGINT', 'UBIGINT', 'DOUBLE'"
            text = f"({expr} ->> '$')"
            value = text if reader_type == "VARCHAR" else f"TRY_CAST({text} AS {reader_type})"
            kind = f"{expr} IS NOT NULL AND json_type({expr}) IN ({scalar})"
            return f"CASE WHEN {kind} THEN {value} END"
    return expr


def _first(field: str) -> str:
    """The field's first alias that is present (not missing, not JSON null)."""
    values = [_path_value(path, _FIELDS[field][1]) for path in ALIASES[field]]
    return values[0] if len(values) == 1 else f"COALESCE({', '.join(values)})"


def _words(words: tuple[str, ...]) -> str:
    return ", ".join(sql_string(word) for word in words)


def _spellings(words: tuple[str, ...]) -> tuple[str, ...]:
    """``words`` as exports write them: lower case, upper case, capitalised."""
    return tuple(dict.fromkeys(w for word in words for w in (word, word.upper(), word.title())))


def _reader(path_literal: str) -> str:
    return (
        f"read_json({path_literal}, format = 'newline_delimited', records = false,"
        f" columns = {{'r': {sql_string(_ROOT.sql_type)}}}, ignore_errors = true,"
        # Smaller read buffers than the default 16 MB: some 30 MB less memory, same speed.
        f" maximum_object_size = {_READ_BUFFER})"
    )


def _whole(column: str) -> str:
    """``column`` when it is a whole number of at least 0 (a count), else NULL."""
    checks = f"{column} >= 0 AND {column} < 1e9 AND {column} = floor({column})"
    return f"CASE WHEN {checks} THEN {column} END"


_SAMPLE_TYPE: Final = (
    "STRUCT(ts DOUBLE, decision_id VARCHAR, status VARCHAR, scope VARCHAR, error_code VARCHAR,"
    " error_message VARCHAR, ms DOUBLE, retries BIGINT)"
)


def aggregate_sql(path_literal: str, seconds_below: float | None = SECONDS_BELOW) -> str:
    """One scan of the file into every breakdown, as rows ``(kind, …)`` for a temp table.

    Kinds: ``hour`` (hour, outcome → count, min/max timestamp; hour NULL without one),
    ``record`` (status as ``text``, scope as ``message``, retries as ``num`` → count, of
    the records), ``duration`` (ms rounded to 0.01 → count, exact sum), ``error`` (code,
    message → count, failures only), ``sample`` (the earliest failures, one list).

    Per line: ``fields`` takes each field's first present alias; ``parsed`` classifies the
    line and checks and converts the values (each cast runs only on values it can succeed
    on); ``events`` settles the timestamp. Only ``events`` is read by several aggregates,
    so the work per line is done once and fanned out.
    """
    fields = ",\n        ".join(
        [
            "unparsed",
            *(f"{_first(name)} AS {column}" for name, (column, _) in _FIELDS.items()),
        ]
    )
    absent = " AND ".join(f"{column} IS NULL" for column, _ in _FIELDS.values())
    seconds = (
        "" if seconds_below is None else f" WHEN duration < {seconds_below} THEN duration * 1000"
    )
    ms = f"CASE WHEN duration < 0 OR NOT isfinite(duration) THEN NULL{seconds} ELSE duration END"
    ts = (
        f"COALESCE(ts_iso, CASE WHEN ts_num >= {EPOCH_MS_FROM:.0f} THEN ts_num"
        " ELSE ts_num * 1000 END)"
    )
    return f"""
WITH events AS (
  SELECT CASE WHEN {ts} BETWEEN 0 AND {_MAX_EPOCH_MS} THEN {ts} END AS ts,
    status, scope, ms, retries, error_code, error_message, decision_id, outcome
  FROM (
    SELECT
      CASE
        WHEN unparsed THEN {SKIPPED}
        WHEN flag = 'true' THEN {SUCCESS}
        WHEN flag = 'false' THEN {FAILURE}
        -- The usual spellings compare as they are; only the rest is trimmed and lowered,
        -- written two ways on purpose: DuckDB computes an expression that appears twice
        -- once, for every line, before this CASE could skip it on the lines above.
        WHEN status IN ({_words(_spellings(SUCCESS_STATUSES))}) THEN {SUCCESS}
        WHEN status IN ({_words(_spellings(FAILURE_STATUSES))}) THEN {FAILURE}
        WHEN lower(trim(status)) IN ({_words(SUCCESS_STATUSES)}) THEN {SUCCESS}
        WHEN trim(lower(status)) IN ({_words(FAILURE_STATUSES)}) THEN {FAILURE}
        WHEN status_code >= 100 AND status_code < 400 THEN {SUCCESS}
        WHEN status_code >= 400 AND status_code < 600 THEN {FAILURE}
        WHEN error_code <> '' OR error_message <> '' THEN {FAILURE}
        WHEN {absent} THEN {EMPTY}
        ELSE {UNKNOWN}
      END AS outcome,
      -- An ISO date always has '-', an epoch number never (a negative one is invalid).
      CASE WHEN contains(ts_text, '-') THEN epoch_ms(TRY_CAST(ts_text AS TIMESTAMPTZ)) END
        AS ts_iso,
      CASE WHEN NOT contains(ts_text, '-') THEN TRY_CAST(ts_text AS DOUBLE) END AS ts_num,
      NULLIF(status, '') AS status, NULLIF(scope, '') AS scope, {ms} AS ms,
      COALESCE({_whole("retries")},
        CASE WHEN attempt >= 1 THEN {_whole("attempt")} - 1 WHEN attempt >= 0 THEN 0 END
      )::BIGINT AS retries,
      NULLIF(error_code, '') AS error_code, NULLIF(error_message, '') AS error_message,
      NULLIF(decision_id, '') AS decision_id
    FROM (
      SELECT
        {fields}
      -- unnest: the struct's fields as columns, far cheaper than extracting each
      FROM (SELECT r IS NULL AS unparsed, unnest(r) FROM {_reader(path_literal)}) AS line
    ) AS fields
  ) AS parsed
)
SELECT 'hour' AS kind, floor(ts / 3600000) AS num, outcome, NULL::VARCHAR AS text,
  NULL::VARCHAR AS message, count(*) AS n, min(ts) AS ts_min, max(ts) AS ts_max,
  NULL::DOUBLE AS total, NULL::{_SAMPLE_TYPE}[] AS samples
FROM events GROUP BY floor(ts / 3600000), outcome
UNION ALL
SELECT 'record', retries, NULL, status, scope, count(*), NULL, NULL, NULL, NULL
FROM events WHERE outcome IN ({UNKNOWN}, {SUCCESS}, {FAILURE}) GROUP BY status, scope, retries
UNION ALL
SELECT 'duration', round(ms, 2), NULL, NULL, NULL, count(*), NULL, NULL, sum(ms), NULL
FROM events WHERE ms IS NOT NULL GROUP BY round(ms, 2)
UNION ALL
SELECT 'error', NULL, NULL, error_code, left(error_message, {TEXT_LIMIT}), count(*), NULL, NULL,
  NULL, NULL
FROM events WHERE outcome = {FAILURE} GROUP BY error_code, left(error_message, {TEXT_LIMIT})
UNION ALL
SELECT 'sample', NULL, NULL, NULL, NULL, count(*), NULL, NULL, NULL,
  min(struct_pack(ts := ts, decision_id := left(decision_id, {TEXT_LIMIT}), status := status,
    scope := scope, error_code := error_code,
    error_message := left(error_message, {TEXT_LIMIT}), ms := ms, retries := retries),
    {SAMPLE_LIMIT})
FROM events WHERE outcome = {FAILURE}
GROUP BY outcome  -- grouped: DuckDB streams grouped consumers, materialises ungrouped ones
"""


def parse_samples_sql(
    path_literal: str,
    *,
    count_non_objects: bool,
    limit: int = SAMPLE_LIMIT,
    first_lines: int | None = None,
) -> str:
    """The first malformed lines (number, text); with ``count_non_objects`` a full scan.

    Lines are read as Latin-1 text so that no byte sequence stops the scan and line numbers
    stay exact; a byte order mark before the first line is not part of it. A line is
    malformed when it is neither blank nor a JSON object. With ``count_non_objects`` the
    result is one row (count of arrays/scalars, samples list); without, the scan stops at
    the ``limit``-th malformed line (at most ``SAMPLE_LIMIT``):
    the caller passes how many it knows there are, so that the scan ends at the last one.

    With ``first_lines`` only that many lines are read, by the single-threaded reader with
    1 MB buffers: twice as fast to the first malformed lines, some 50 MB less memory, but
    its memory grows with the lines it reads (hence the bound), and a line longer than its
    buffer is an error, on which the caller reads again without ``first_lines``.
    """
    if first_lines is None:
        # Not parallel = false: the single-threaded reader keeps the whole file in memory.
        buffers, bound = "max_line_size = 16777216, buffer_size = 16777216", ""
    else:
        buffers = "max_line_size = 1048576, buffer_size = 1048576, parallel = false"
        bound = f" LIMIT {max(0, first_lines)}"
    lines = (
        f"SELECT row_number() OVER () AS line_number, line FROM read_csv({path_literal},"
        " columns = {'line': 'VARCHAR'}, delim = '\\x01', quote = '', escape = '',"
        " header = false, auto_detect = false, strict_mode = false, new_line = '\\r\\n',"
        f" encoding = 'latin-1', {buffers}){bound}"
    )
    # A UTF-8 byte order mark (Latin-1 'ï»¿') opens the first line; the NDJSON reader skips it.
    bom = "chr(239) || chr(187) || chr(191)"
    unmarked = (
        f"SELECT line_number, CASE WHEN line_number = 1 AND starts_with(line, {bom})"
        f" THEN line[4:] ELSE line END AS line FROM ({lines})"
    )
    classified = f"""
SELECT line_number, left(line, {TEXT_LIMIT}) AS text,
  CASE WHEN json_valid(line) THEN json_type(line) END AS json_kind
FROM ({unmarked}) WHERE line IS NOT NULL AND trim(line) <> ''"""
    malformed = f"SELECT * FROM ({classified}) WHERE json_kind IS DISTINCT FROM 'OBJECT'"
    if not count_non_objects:
        return f"{malformed} LIMIT {max(0, min(limit, SAMPLE_LIMIT))}"
    return f"""
SELECT count(*) FILTER (WHERE json_kind IS NOT NULL AND json_kind <> 'NULL'),
  min(struct_pack(line_number := line_number, text := text), {SAMPLE_LIMIT})
FROM ({malformed})"""


HOUR_LIMIT: Final = 8784
"""Most hourly buckets reported (the latest): a leap year."""

OUTCOMES_SQL: Final = "SELECT outcome, sum(n) FROM agg WHERE kind = 'hour' GROUP BY outcome"
WINDOW_SQL: Final = "SELECT min(ts_min), max(ts_max) FROM agg WHERE kind = 'hour'"
HOURS_SQL: Final = f"""
SELECT num, sum(n), sum(n) FILTER (WHERE outcome = {SUCCESS}),
  sum(n) FILTER (WHERE outcome = {FAILURE})
FROM agg WHERE kind = 'hour' AND num IS NOT NULL
GROUP BY num ORDER BY num DESC LIMIT {HOUR_LIMIT}"""
STATUSES_SQL: Final = f"""
SELECT text, sum(n) AS count FROM agg WHERE kind = 'record'
GROUP BY text ORDER BY count DESC, text NULLS LAST LIMIT {BREAKDOWN_LIMIT}"""
SCOPES_SQL: Final = f"""
SELECT message, sum(n) AS count FROM agg WHERE kind = 'record'
GROUP BY message ORDER BY count DESC, message NULLS LAST LIMIT {BREAKDOWN_LIMIT}"""
DURATIONS_SQL: Final = """
WITH d AS (SELECT num, n, total FROM agg WHERE kind = 'duration'),
totals AS (SELECT sum(n) AS count, sum(total) AS total, max(num) AS max FROM d),
ranked AS (SELECT num, sum(n) OVER (ORDER BY num ROWS UNBOUNDED PRECEDING) AS cum FROM d)
-- nearest rank: the smallest duration whose cumulative count reaches ceil(p * count)
SELECT count, total, max,
  (SELECT min(num) FROM ranked WHERE cum >= (50 * count + 99) // 100),
  (SELECT min(num) FROM ranked WHERE cum >= (95 * count + 99) // 100)
FROM totals"""
RETRIES_SQL: Final = f"""
SELECT num, sum(n), sum(sum(num * n)) OVER (), sum(sum(n)) OVER (), max(num) OVER ()
FROM agg WHERE kind = 'record' AND num IS NOT NULL
GROUP BY num ORDER BY num LIMIT {BREAKDOWN_LIMIT}"""
ERRORS_SQL: Final = f"""
WITH e AS (SELECT text AS code, message, n FROM agg WHERE kind = 'error'),
codes AS (SELECT code, sum(n) AS n FROM e GROUP BY code),
ranked AS (
  SELECT code, message, row_number() OVER (PARTITION BY code ORDER BY n DESC, message) AS rank
  FROM e WHERE message IS NOT NULL),
messages AS (
  SELECT code, list(message ORDER BY rank) AS messages FROM ranked
  WHERE rank <= {MESSAGE_SAMPLES} GROUP BY code)
SELECT codes.code, codes.n, messages.messages
FROM codes LEFT JOIN messages ON codes.code IS NOT DISTINCT FROM messages.code
ORDER BY codes.n DESC, codes.code NULLS LAST LIMIT {BREAKDOWN_LIMIT}"""
FAILURE_SAMPLES_SQL: Final = "SELECT samples FROM agg WHERE kind = 'sample'"
