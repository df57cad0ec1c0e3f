"""Parity between primary and mirror: counts, and the rows missing, extra or differing, by id.

Every test runs on the four pairs of engines (primary SQLite or PostgreSQL × mirror SQLite or
PostgreSQL). The mirror tables are made here with plain DDL, in the shape the mirror sync
writes (or its legacy shape), and filled the way a sync would fill them.
"""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    insert,
    select,
    text,
)

from conftest import NOW, PG_SERVER
from occ.ops.parity import MirrorTableMissing, MirrorUnreachable, check_parity, open_mirror
from occ.store.tables import DashboardFact, DecisionLog

SCOPES = ("cx", "inventory", "ops")
FACT_TYPES = ("anomaly.stockout", "kpi.sales", "kpi.sla")
DECISIONS_TABLE = DecisionLog.__table__
FACTS_TABLE = DashboardFact.__table__


def mirror_ddl(
    dialect: str, *, legacy: bool = False, json_type: str = "json", key_collation: str = ""
) -> list[str]:
    """The mirror's tables, as the sync creates them (timestamps: timestamptz on PostgreSQL)."""
    stamp = "timestamptz" if dialect == "postgresql" else "timestamp"
    key = f"id text {key_collation} PRIMARY KEY".replace("  ", " ")
    if legacy:
        decisions = (
            f"CREATE TABLE decision_log ({key}, who text NOT NULL, "
            "what text NOT NULL, why text, sha text, evidence_url text, "
            f"created_at {stamp} NOT NULL)"
        )
    else:
        decisions = (
            f"CREATE TABLE decision_log ({key}, scope text NOT NULL, "
            "actor text NOT NULL, action text NOT NULL, rationale text, evidence_url text, "
            f"shop_domain text, external_ref text, payload {json_type}, "
            f"created_at {stamp} NOT NULL, version integer NOT NULL DEFAULT 1)"
        )
    facts = (
        "CREATE TABLE facts (id text PRIMARY KEY, shop_domain text NOT NULL, "
        f"fact_type text NOT NULL, scope text NOT NULL, value {json_type} NOT NULL, "
        f"metadata {json_type} NOT NULL, evidence_url text, created_at {stamp} NOT NULL, "
        f"updated_at {stamp} NOT NULL, version integer NOT NULL DEFAULT 1)"
    )
    return [decisions, facts]


def mirror_tables(*, legacy: bool = False) -> tuple[Table, Table]:
    """SQLAlchemy views of the mirror tables, to write rows as the sync does."""
    metadata = MetaData()
    stamp = DateTime(timezone=True)
    if legacy:
        names = ("who", "what", "why", "sha", "evidence_url")
        decisions = Table(
            "decision_log",
            metadata,
            Column("id", Text, primary_key=True),
            *(Column(name, Text) for name in names),
            Column("created_at", stamp),
        )
    else:
        names = ("scope", "actor", "action", "rationale", "evidence_url", "shop_domain")
        decisions = Table(
            "decision_log",
            metadata,
            Column("id", Text, primary_key=True),
            *(Column(name, Text) for name in (*names, "external_ref")),
            Column("payload", JSON(none_as_null=True)),
            Column("created_at", stamp),
            Column("version", Integer),
        )
    facts = Table(
        "facts",
        metadata,
        Column("id", Text, primary_key=True),
        *(Column(name, Text) for name in ("shop_domain", "fact_type", "scope", "evidence_url")),
        Column("value", JSON),
        Column("metadata", JSON),
        Column("created_at", stamp),
        Column("updated_at", stamp),
        Column("version", Integer),
    )
    return decisions, facts


def decision_rows(count: int, *, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        payload = {
            "sku": f"SKU-{n}",
            "qty": n % 10,
            "price": round(n * 0.37 % 100, 2),
            "note": "café ☕ “quoted” \\ \n",
            "nested": {"z": 1, "a": [1.5, None, True, 0.1 + 0.2]},
        }
        rows.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "scope": SCOPES[n % 3],
                "actor": f"ops{n % 4}@shop.example",
                "action": ("approve", "reject", "snooze")[n % 3],
                "rationale": None if n % 5 == 0 else f"stock of SKU-{n} covers {n % 9} days",
                "evidence_url": f"https://occ.example/evidence/{n}",
                "shop_domain": "demo.myshopify.com",
                "external_ref": None if n % 2 else f"ref-{n}",
                "payload": None if n % 7 == 0 else payload,
                "created_at": NOW - timedelta(minutes=n, microseconds=n * 7),
            }
        )
    return rows


def fact_rows(count: int, *, first_id: int = 1) -> list[dict[str, Any]]:
    return [
        {
            "id": first_id + n,
            "shop_domain": "demo.myshopify.com",
            "fact_type": FACT_TYPES[n % 3],
            "scope": "kpi",
            "value": {"amount": 12.5 + n, "inputs": {"orders": n, "window": [7, 28]}},
            "metadata": {"config": {"baseline_days": 28}, "source": "demo"},
            "evidence_url": None if n % 2 else f"https://occ.example/facts/{n}",
            "created_at": NOW - timedelta(hours=n),
            "updated_at": NOW - timedelta(hours=n, seconds=-30),
        }
        for n in range(count)
    ]


def seed(primary: Engine, decisions: list[dict[str, Any]], facts: list[dict[str, Any]]) -> None:
    with primary.begin() as connection:
        if decisions:
            connection.execute(insert(DECISIONS_TABLE), decisions)
        if facts:
            connection.execute(insert(FACTS_TABLE), facts)


def create_mirror(
    mirror: Engine, *, legacy: bool = False, json_type: str = "json", key_collation: str = ""
) -> None:
    dialect = mirror.dialect.name
    statements = mirror_ddl(
        dialect, legacy=legacy, json_type=json_type, key_collation=key_collation
    )
    with mirror.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def mirrored(decision: dict[str, Any], *, legacy: bool = False) -> dict[str, Any]:
    """A primary decision row as the sync writes it to the mirror."""
    if legacy:
        return {
            "id": decision["id"],
            "who": decision["actor"],
            "what": decision["action"],
            "why": decision["rationale"],
            "sha": decision["external_ref"],
            "evidence_url": decision["evidence_url"],
            "created_at": decision["created_at"],
        }
    return {**decision, "version": 1}


def sync(primary: Engine, mirror: Engine, *, legacy: bool = False) -> None:
    """Copy every decision and fact from the primary to the mirror."""
    with primary.connect() as connection:
        decisions = [dict(row) for row in connection.execute(select(DECISIONS_TABLE)).mappings()]
        facts = [dict(row) for row in connection.execute(select(FACTS_TABLE)).mappings()]
    decisions_table, facts_table = mirror_tables(legacy=legacy)
    with mirror.begin() as connection:
        if decisions:
            rows = [mirrored(row, legacy=legacy) for row in decisions]
            connection.execute(insert(decisions_table), rows)
        if facts:
            rows = [{**fact, "id": str(fact["id"]), "version": 1} for fact in facts]
            connection.execute(insert(facts_table), rows)


def on_mirror(mirror: Engine, *statements: tuple[str, dict[str, Any]]) -> None:
    with mirror.begin() as connection:
        for statement, params in statements:
            connection.execute(text(statement), params)


def _pg_admin() -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=3)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def mirror_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty mirror database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "mirror.db"
        sqlite3.connect(path).close()
        yield f"sqlite:///{path}"
        return
    try:
        admin = _pg_admin()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {PG_SERVER} did not answer ({exc})")
    name = f"occ_m_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_SERVER.rsplit('/', 1)[0]}/{name}"
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def mirror(mirror_url: str) -> Iterator[Engine]:
    engine = open_mirror(mirror_url)
    yield engine
    engine.dispose()


def test_a_synced_mirror_is_in_parity(engine: Engine, mirror: Engine) -> None:
    seed(engine, decision_rows(120), fact_rows(60))
    create_mirror(mirror)
    sync(engine, mirror)

    result = check_parity(engine, mirror)

    assert result.ok and result.mirror_shape == "current"
    decisions = result.table("decisions")
    assert decisions.primary_count == decisions.mirror_count == 120
    assert [(g.key, g.primary, g.mirror, g.delta, g.diff_pct) for g in decisions.by_group] == [
        (scope, 40, 40, 0, 0.0) for scope in SCOPES
    ]
    facts = result.table("facts")
    assert [(g.key, g.primary, g.mirror) for g in facts.by_group] == [
        (fact_type, 20, 20) for fact_type in FACT_TYPES
    ]
    for table in (decisions, facts):
        assert table.within_threshold
        assert table.missing_on_mirror == table.extra_on_mirror == table.differing == ()
        # equal rows hash alike in both databases, whatever the engines: nothing is fetched
        assert table.stats.rows_fetched == 0
        assert table.stats.segments_compared > 0


def test_missing_extra_and_changed_rows_are_found_by_id(engine: Engine, mirror: Engine) -> None:
    rows = decision_rows(120)
    seed(engine, rows, fact_rows(60))
    create_mirror(mirror)
    sync(engine, mirror)
    gone, changed = rows[3]["id"], rows[50]["id"]
    extra = decision_rows(1, seed=99)[0]
    decisions_table, facts_table = mirror_tables()
    with mirror.begin() as connection:
        connection.execute(text("DELETE FROM decision_log WHERE id = :id"), {"id": gone})
        connection.execute(
            text("UPDATE decision_log SET rationale = 'edited on the mirror' WHERE id = :id"),
            {"id": changed},
        )
        connection.execute(insert(decisions_table), [mirrored(extra)])
        connection.execute(text("DELETE FROM facts WHERE id = '5'"))
        connection.execute(
            text("UPDATE facts SET evidence_url = 'https://elsewhere' WHERE id = '9'")
        )
        stray_facts = [
            {**fact_rows(1, first_id=999)[0], "id": key, "version": 1} for key in ("999", "x-1")
        ]
        connection.execute(insert(facts_table), stray_facts)

    result = check_parity(engine, mirror)

    decisions = result.table("decisions")
    assert decisions.missing_on_mirror == (gone,)
    assert decisions.extra_on_mirror == (extra["id"],)
    assert decisions.differing == (changed,)
    assert not decisions.within_threshold and not result.ok
    facts = result.table("facts")
    assert (facts.missing_on_mirror, facts.extra_on_mirror, facts.differing) == (
        ("5",),
        ("999", "x-1"),  # a mirror id that is not a number is still matched as text
        ("9",),
    )


def test_a_change_in_any_compared_column_is_found(engine: Engine, mirror: Engine) -> None:
    rows = decision_rows(60)
    seed(engine, rows, fact_rows(3))
    create_mirror(mirror)
    sync(engine, mirror)
    later = NOW + timedelta(microseconds=1)
    changes = {
        "scope": "'marketing'",
        "actor": "'someone@else.example'",
        "action": "'approve '",
        "rationale": "NULL",
        "evidence_url": "''",
        "shop_domain": "'other.myshopify.com'",
        "external_ref": "'ref-x'",
        "payload": '\'{"sku": "SKU-20", "qty": 1}\'',
        "created_at": ":later",
    }
    expected = set()
    for index, (column, value) in enumerate(changes.items(), start=11):
        on_mirror(
            mirror,
            (
                f"UPDATE decision_log SET {column} = {value} WHERE id = :id",
                {"id": rows[index]["id"], "later": later},
            ),
        )
        expected.add(rows[index]["id"])

    decisions = check_parity(engine, mirror).table("decisions")

    assert set(decisions.differing) == expected
    assert decisions.missing_on_mirror == decisions.extra_on_mirror == ()


def test_decisions_fail_on_any_differing_row_facts_tolerate_the_threshold(
    engine: Engine, mirror: Engine
) -> None:
    rows = decision_rows(300)
    seed(engine, rows, fact_rows(300))
    create_mirror(mirror)
    sync(engine, mirror)
    # one decision of a 100-row scope not yet mirrored: 1 % behind, tolerated (sync lag)
    on_mirror(mirror, ("DELETE FROM decision_log WHERE id = :id", {"id": rows[0]["id"]}))
    on_mirror(mirror, ("DELETE FROM facts WHERE id = '1'", {}))  # 1 of 100 of its type
    on_mirror(mirror, ("UPDATE facts SET scope = 'changed' WHERE id = '2'", {}))

    result = check_parity(engine, mirror, threshold_pct=1.0)
    assert result.ok
    assert result.table("decisions").missing_on_mirror == (rows[0]["id"],)
    assert result.table("facts").differing == ("2",)

    on_mirror(
        mirror, ("UPDATE decision_log SET action = 'veto' WHERE id = :id", {"id": rows[1]["id"]})
    )
    result = check_parity(engine, mirror, threshold_pct=1.0)
    assert not result.table("decisions").within_threshold  # content differs: never tolerated
    assert result.table("facts").within_threshold and not result.ok

    on_mirror(mirror, ("DELETE FROM facts WHERE id = '4'", {}))  # 2 of 100 of one type: 2 %
    facts = check_parity(engine, mirror, threshold_pct=1.0).table("facts")
    assert not facts.within_threshold
    assert {g.key: g.diff_pct for g in facts.by_group}[FACT_TYPES[0]] == -2.0
    assert check_parity(engine, mirror, threshold_pct=2.0).table("facts").within_threshold


def test_a_mirror_written_in_other_formats_is_still_in_parity(
    engine: Engine, mirror: Engine
) -> None:
    rows = decision_rows(90)
    facts = fact_rows(30)
    seed(engine, rows, facts)
    postgres = mirror.dialect.name == "postgresql"
    create_mirror(mirror, json_type="jsonb" if postgres else "json")
    east = timezone(timedelta(hours=2))

    def other_json(value: Any) -> str | None:
        return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))

    with mirror.begin() as connection:
        for row in rows:  # sorted compact JSON, local-time ISO timestamps: same values
            connection.execute(
                text(
                    "INSERT INTO decision_log (id, scope, actor, action, rationale, evidence_url,"
                    " shop_domain, external_ref, payload, created_at) VALUES (:id, :scope, "
                    ":actor, :action, :rationale, :evidence_url, :shop_domain, :external_ref, "
                    ":payload, :created_at)"
                ),
                {
                    **row,
                    "payload": other_json(row["payload"]),
                    "created_at": row["created_at"].astimezone(east).isoformat(),
                },
            )
        for fact in facts:
            connection.execute(
                text(
                    "INSERT INTO facts (id, shop_domain, fact_type, scope, value, metadata, "
                    "evidence_url, created_at, updated_at) VALUES (:id, :shop_domain, "
                    ":fact_type, :scope, :value, :metadata, :evidence_url, :created_at, "
                    ":updated_at)"
                ),
                {
                    **fact,
                    "id": str(fact["id"]),
                    "value": other_json(fact["value"]),
                    "metadata": other_json(fact["metadata"]),
                    "created_at": fact["created_at"].isoformat(),
                    "updated_at": fact["updated_at"].isoformat(),
                },
            )

    result = check_parity(engine, mirror)

    assert result.ok
    for table in result.tables:
        assert table.differing == table.missing_on_mirror == table.extra_on_mirror == ()
        if engine.dialect.name == "postgresql" or postgres:
            # normalised in the databases (jsonb, UTC text), so no row needs fetching
            assert table.stats.rows_fetched == 0


def test_a_legacy_mirror_is_compared_on_the_columns_it_has(engine: Engine, mirror: Engine) -> None:
    rows = decision_rows(90)
    seed(engine, rows, fact_rows(9))
    create_mirror(mirror, legacy=True)
    sync(engine, mirror, legacy=True)

    result = check_parity(engine, mirror)

    assert result.ok and result.mirror_shape == "legacy"
    decisions = result.table("decisions")
    assert decisions.compared_columns == (
        "actor=who",
        "action=what",
        "rationale=why",
        "evidence_url",
        "external_ref=sha",
        "created_at",
    )
    assert [(g.key, g.mirror) for g in decisions.by_group] == [(s, 30) for s in SCOPES]
    assert any("legacy" in note for note in decisions.notes)

    edited, gone = rows[4], rows[5]
    on_mirror(
        mirror,
        ("UPDATE decision_log SET why = 'rewritten' WHERE id = :id", {"id": edited["id"]}),
        ("DELETE FROM decision_log WHERE id = :id", {"id": gone["id"]}),
    )
    decisions = check_parity(engine, mirror).table("decisions")
    assert decisions.differing == (edited["id"],)
    assert decisions.missing_on_mirror == (gone["id"],)
    by_scope = {g.key: (g.primary, g.mirror) for g in decisions.by_group}
    assert by_scope[gone["scope"]] == (30, 29)


def test_bisection_fetches_only_the_rows_of_differing_segments(
    engine: Engine, mirror: Engine
) -> None:
    rows = decision_rows(20_000)
    facts = fact_rows(5_000)
    seed(engine, rows, facts)
    create_mirror(mirror)
    sync(engine, mirror)
    extra = decision_rows(1, seed=1234)[0]
    on_mirror(
        mirror,
        ("DELETE FROM decision_log WHERE id = :id", {"id": rows[7]["id"]}),
        ("UPDATE decision_log SET actor = 'mallory' WHERE id = :id", {"id": rows[15_000]["id"]}),
        ("DELETE FROM facts WHERE id = '4000'", {}),
        ("UPDATE facts SET fact_type = 'kpi.other' WHERE id = '17'", {}),
    )
    with mirror.begin() as connection:
        connection.execute(insert(mirror_tables()[0]), [mirrored(extra)])

    for fetch_rows in (1024, 16):  # 16: segments are split again before rows are fetched
        result = check_parity(engine, mirror, fetch_rows=fetch_rows)
        decisions, found_facts = result.table("decisions"), result.table("facts")
        assert decisions.missing_on_mirror == (rows[7]["id"],)
        assert decisions.extra_on_mirror == (extra["id"],)
        assert decisions.differing == (rows[15_000]["id"],)
        assert (found_facts.missing_on_mirror, found_facts.differing) == (("4000",), ("17",))
        # of 40,001 decision rows on the two sides, three segments of ~80 rows are read;
        # of 9,999 fact rows, two segments of 256 ids
        assert decisions.stats.rows_fetched < 1_000
        assert found_facts.stats.rows_fetched <= 2 * 2 * 256
        if fetch_rows == 16:
            assert decisions.stats.levels >= 2 and found_facts.stats.levels >= 2
            assert decisions.stats.rows_fetched < 60


def test_keys_are_matched_by_code_point_whatever_the_mirror_collation(
    engine: Engine, mirror: Engine
) -> None:
    rows = decision_rows(200)
    seed(engine, rows, [])
    postgres = mirror.dialect.name == "postgresql"
    create_mirror(mirror, key_collation='COLLATE "und-x-icu"' if postgres else "COLLATE NOCASE")
    sync(engine, mirror)
    renamed = rows[9]["id"]
    on_mirror(
        mirror,
        (
            "UPDATE decision_log SET id = :upper WHERE id = :id",
            {"id": renamed, "upper": renamed.upper()},
        ),
    )

    decisions = check_parity(engine, mirror, fetch_rows=4).table("decisions")

    assert decisions.missing_on_mirror == (renamed,)
    assert decisions.extra_on_mirror == (renamed.upper(),)
    assert decisions.differing == ()


def test_sequential_text_ids_are_split_until_segments_are_small(
    engine: Engine, mirror: Engine
) -> None:
    rows = decision_rows(3_000)
    for n, row in enumerate(rows):
        row["id"] = f"dec-{n:07d}"  # one long common prefix: the first segments are skewed
    seed(engine, rows, [])
    create_mirror(mirror)
    sync(engine, mirror)
    on_mirror(
        mirror,
        ("UPDATE decision_log SET scope = 'ops2' WHERE id = 'dec-0002345'", {}),
        ("DELETE FROM decision_log WHERE id = 'dec-0000100'", {}),
    )

    decisions = check_parity(engine, mirror, fetch_rows=16).table("decisions")

    assert decisions.differing == ("dec-0002345",)
    assert decisions.missing_on_mirror == ("dec-0000100",)
    assert decisions.stats.levels >= 3
    assert decisions.stats.rows_fetched <= 4 * 16


def test_an_empty_mirror_misses_every_row(engine: Engine, mirror: Engine) -> None:
    rows = decision_rows(50)
    seed(engine, rows, fact_rows(10))
    create_mirror(mirror)

    result = check_parity(engine, mirror)

    decisions = result.table("decisions")
    assert decisions.missing_on_mirror == tuple(sorted(row["id"] for row in rows))
    assert decisions.mirror_count == 0 and not result.ok
    assert [g.diff_pct for g in decisions.by_group] == [-100.0] * 3
    assert result.table("facts").missing_on_mirror == tuple(sorted(str(n) for n in range(1, 11)))


def test_rows_only_on_the_mirror_are_extra(engine: Engine, mirror: Engine) -> None:
    create_mirror(mirror)
    stray = decision_rows(3, seed=5)
    with mirror.begin() as connection:
        connection.execute(insert(mirror_tables()[0]), [mirrored(row) for row in stray])

    decisions = check_parity(engine, mirror).table("decisions")

    assert decisions.extra_on_mirror == tuple(sorted(row["id"] for row in stray))
    assert decisions.primary_count == 0 and decisions.mirror_count == 3
    assert not decisions.within_threshold


def test_a_mirror_without_the_tables_asks_for_a_sync(engine: Engine, mirror: Engine) -> None:
    with pytest.raises(MirrorTableMissing, match="run `occ decisions sync` first") as caught:
        check_parity(engine, mirror)
    assert caught.value.exit_code == 2


def test_an_unreachable_mirror_is_reported_without_its_password(tmp_path: Path) -> None:
    with pytest.raises(MirrorUnreachable) as caught:
        open_mirror("postgresql://u:secretpw@127.0.0.1:1/x")
    assert "secretpw" not in str(caught.value) and "***" in str(caught.value)
    assert caught.value.exit_code == 2

    missing = tmp_path / "nowhere" / "mirror.db"
    with pytest.raises(MirrorUnreachable, match="does not exist"):
        open_mirror(f"sqlite:///{missing}")
    assert not missing.exists()


def test_the_document_is_json_with_masked_urls(engine: Engine, mirror_url: str) -> None:
    seed(engine, decision_rows(12), fact_rows(3))
    if mirror_url.startswith("postgresql"):
        mirror_url = mirror_url.replace("postgres@", "postgres:topsecret@", 1)
    mirror = open_mirror(mirror_url)
    create_mirror(mirror)
    sync(engine, mirror)

    document = check_parity(engine, mirror).as_dict()
    mirror.dispose()

    assert "topsecret" not in json.dumps(document)
    assert document["ok"] is True and document["thresholdPct"] == 1.0
    decisions, facts = document["tables"]["decisions"], document["tables"]["facts"]
    assert decisions["byScope"][0] == {
        "key": "cx",
        "primary": 4,
        "mirror": 4,
        "delta": 0,
        "diffPct": 0.0,
    }
    assert {g["key"] for g in facts["byFactType"]} == set(FACT_TYPES)
    for key in ("primaryCount", "mirrorCount", "missingOnMirror", "extraOnMirror", "differing"):
        assert key in decisions and key in facts
    assert decisions["withinThreshold"] is True
    assert set(decisions["stats"]) >= {"segmentsCompared", "rowsFetched", "levels"}
