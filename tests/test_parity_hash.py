"""Canonical forms: equal values compare equal across engines, and SQLite can hash what
PostgreSQL hashes (its jsonb and timestamp text, reproduced in Python)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from occ.ops.parity_hash import canonical_value, md5_60, parse_json, postgres_text

TRICKY_JSON = [
    '{"b": 1.50, "aa": [1e2, -0.0, "x\\ny"], "a": null, "é": 1, "z": true}',
    '{"price": 0.30000000000000004, "small": 1E-7, "big": 123456789012345678901234567890}',
    '{"nested": {"k": {"b": [], "a": {}}}, "quote": "say \\"hi\\" \\\\ / \\u0001 \\t"}',
    '[1.0, 12e-1, 100e-5, 1.25e1, -12, 0, "café ☕", false]',
    '{"dup": 1, "dup": 2}',
    '"just a string"',
    "42",
]
TIMESTAMPS = [
    datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
    datetime(2026, 11, 26, 15, 0, 0, 120000, tzinfo=UTC),
    datetime(2026, 11, 26, 17, 0, 0, 7, tzinfo=timezone(timedelta(hours=2))),
    datetime(999, 1, 2, 3, 4, 5, 600, tzinfo=UTC),
]


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("document", TRICKY_JSON)
def test_jsonb_text_is_reproduced_exactly(engine: Engine, document: str) -> None:
    with engine.connect() as connection:
        printed = connection.execute(
            text("SELECT CAST(CAST(CAST(:d AS json) AS jsonb) AS TEXT)"), {"d": document}
        ).scalar_one()
    assert postgres_text("json", document) == printed


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_utc_timestamp_text_is_reproduced_exactly(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.exec_driver_sql("SET LOCAL TimeZone = 'Europe/Paris'")
        for moment in TIMESTAMPS:
            printed = connection.execute(
                text("SELECT CAST((CAST(:t AS timestamptz) AT TIME ZONE 'UTC') AS TEXT)"),
                {"t": moment},
            ).scalar_one()
            assert postgres_text("timestamp", moment) == printed
            # SQLite keeps UTC text without offset; read back, it prints the same
            naive = moment.astimezone(UTC).replace(tzinfo=None)
            assert postgres_text("timestamp", naive.isoformat(sep=" ")) == printed


def test_equal_json_compares_equal_whatever_its_formatting() -> None:
    compact = '{"qty":1,"tags":["a","é"],"price":12.50}'
    spaced = '{"price": 12.5, "tags": ["a", "\\u00e9"], "qty": 1.0}'
    assert canonical_value("json", compact) == canonical_value("json", spaced)
    assert canonical_value("json", {"price": 12.5, "tags": ["a", "é"], "qty": 1}) == (
        canonical_value("json", compact)
    )
    assert canonical_value("json", '{"qty": 2}') != canonical_value("json", '{"qty": 1}')
    assert canonical_value("json", "[true]") != canonical_value("json", "[1]")
    assert canonical_value("json", "null") is None  # JSON null is SQL NULL
    assert canonical_value("json", '"null"') == '"null"'


def test_equal_instants_compare_equal_in_any_notation() -> None:
    forms = [
        datetime(2026, 11, 26, 15, 0, 0, 7, tzinfo=UTC),
        "2026-11-26 15:00:00.000007",
        "2026-11-26T17:00:00.000007+02:00",
        "2026-11-26T15:00:00.000007Z",
    ]
    assert {canonical_value("timestamp", form) for form in forms} == {
        "2026-11-26T15:00:00.000007+00:00"
    }
    assert canonical_value("timestamp", "2026-11-26 15:00:00.000008") != canonical_value(
        "timestamp", forms[0]
    )
    assert canonical_value("timestamp", "not a time") == "!not a time"


def test_numbers_keep_their_exact_value() -> None:
    assert parse_json("0.30000000000000004") == Decimal("0.30000000000000004")
    assert canonical_value("json", "1e2") == canonical_value("json", "100")
    assert canonical_value("json", "0.1") != canonical_value("json", "0.10000000000000001")


def test_md5_60_is_the_first_fifteen_hex_digits() -> None:
    assert md5_60("") == int("d41d8cd98f00b20", 16)
