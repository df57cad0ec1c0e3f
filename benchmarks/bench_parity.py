"""Parity benchmark: 1,000,000 decisions on each side, 10 differences, found exactly.

Target (the issue): on PostgreSQL → PostgreSQL, ``occ``'s parity takes no more time than
reladiff (the maintained fork of data-diff) on the same two databases in the same run; on
SQLite → SQLite (which reladiff does not support) it takes under 10 s.

Setup: a migrated primary store and a mirror with the sync's table shape (plain DDL), both
loaded with the same 1,000,000 decisions (COPY on PostgreSQL, executemany on SQLite) and the
same 10,000 facts; then 10 differences are made on the mirror: 4 decisions deleted, 3 changed
(rationale, payload, created_at + 1 µs) and 3 extra. Each tool runs once untimed to warm the
caches, then ``--runs`` times, alternating. occ's time is ``open_mirror`` + ``check_parity``
(decisions and facts); reladiff's is ``connect_to_table`` + ``diff_tables`` (decisions only),
comparing the same nine columns, with ``--reladiff-threads`` threads per database.

Run: ``python benchmarks/bench_parity.py`` (``--rows 100000`` for a quicker run, ``--reuse``
to keep the loaded databases between runs, ``--only sqlite|postgres``). reladiff is optional:
``pip install 'reladiff[postgresql]'``; without it its rows are skipped. It prints a Markdown
table, the differences found, the machine and the command.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine

from occ.ops.parity import check_parity, open_mirror
from occ.store.engine import open_store

PG_SERVER = os.environ.get("OCC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
OUT = Path(__file__).parent / "out" / "parity"
COLUMNS = (
    "id",
    "scope",
    "actor",
    "action",
    "rationale",
    "evidence_url",
    "shop_domain",
    "external_ref",
    "payload",
    "created_at",
)
FACT_COLUMNS = (
    "id",
    "shop_domain",
    "fact_type",
    "scope",
    "value",
    "metadata",
    "evidence_url",
    "created_at",
    "updated_at",
)
BASE = datetime(2026, 1, 1, tzinfo=UTC)
SCOPES = ("ops", "cx", "inventory", "pricing", "marketing")
FACTS = 10_000


def mirror_ddl(postgres: bool) -> list[str]:
    stamp = "timestamptz" if postgres else "timestamp"
    return [
        "CREATE TABLE decision_log (id text PRIMARY KEY, scope text NOT NULL, "
        "actor text NOT NULL, action text NOT NULL, rationale text, evidence_url text, "
        "shop_domain text, external_ref text, payload json, "
        f"created_at {stamp} NOT NULL, version integer NOT NULL DEFAULT 1)",
        "CREATE TABLE facts (id text PRIMARY KEY, shop_domain text NOT NULL, "
        "fact_type text NOT NULL, scope text NOT NULL, value json NOT NULL, "
        f"metadata json NOT NULL, evidence_url text, created_at {stamp} NOT NULL, "
        f"updated_at {stamp} NOT NULL, version integer NOT NULL DEFAULT 1)",
    ]


def _stamp(moment: datetime) -> str:
    """As SQLAlchemy stores a UTC datetime in SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def decisions(rows: int, seed: int = 7) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    made = []
    for n in range(rows):
        payload = (
            None
            if n % 7 == 0
            else f'{{"sku": "SKU-{n % 5000}", "qty": {n % 10}, "price": {n * 37 % 10000 / 100},'
            f' "tags": ["a", "b"]}}'
        )
        made.append(
            (
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                SCOPES[n % 5],
                f"user{n % 50}@shop.example",
                ("approve", "reject", "snooze")[n % 3],
                f"because metric {n} moved",
                f"https://occ.example/evidence/{n}",
                "demo.myshopify.com",
                None if n % 3 else f"ref-{n}",
                payload,
                BASE + timedelta(seconds=n, microseconds=n % 1_000_000),
            )
        )
    return made


def facts() -> list[tuple[Any, ...]]:
    return [
        (
            n,
            "demo.myshopify.com",
            ("kpi.sales", "kpi.sla", "anomaly.stockout")[n % 3],
            "kpi",
            f'{{"amount": {n}.5, "inputs": {{"orders": {n}}}}}',
            '{"baseline_days": 28}',
            None,
            BASE + timedelta(hours=n),
            BASE + timedelta(hours=n, seconds=30),
        )
        for n in range(1, FACTS + 1)
    ]


class Differences:
    """The 10 differences made on the mirror, and what parity must report."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        rng = random.Random(11)
        picked = rng.sample(range(len(rows)), 7)
        self.deleted = sorted(rows[i][0] for i in picked[:4])
        self.changed_rows = [rows[i] for i in picked[4:]]
        self.changed = sorted(row[0] for row in self.changed_rows)
        self.extra_rows = decisions(3, seed=99)
        self.extra = sorted(row[0] for row in self.extra_rows)

    def statements(self) -> list[tuple[str, tuple[Any, ...]]]:
        first, second, third = self.changed_rows
        return [
            *(("DELETE FROM decision_log WHERE id = {p}", (key,)) for key in self.deleted),
            (
                "UPDATE decision_log SET rationale = 'edited on the mirror' WHERE id = {p}",
                (first[0],),
            ),
            ('UPDATE decision_log SET payload = \'{{"sku": "X"}}\' WHERE id = {p}', (second[0],)),
            (
                "UPDATE decision_log SET created_at = {p} WHERE id = {p}",
                (third[9] + timedelta(microseconds=1), third[0]),
            ),
        ]


def load_postgres(name: str, rows: list[tuple[Any, ...]], mirror: bool) -> str:
    url = f"{PG_SERVER.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    if not mirror:
        open_store(url).dispose()
    with psycopg.connect(url) as connection:
        if mirror:
            for statement in mirror_ddl(postgres=True):
                connection.execute(statement)
        with connection.cursor().copy(
            f"COPY decision_log ({', '.join(COLUMNS)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        fact_table = "facts" if mirror else "dashboard_fact"
        with connection.cursor().copy(
            f"COPY {fact_table} ({', '.join(FACT_COLUMNS)}) FROM STDIN"
        ) as copy:
            for fact in facts():
                copy.write_row((str(fact[0]) if mirror else fact[0], *fact[1:]))
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return url


def load_sqlite(path: Path, rows: list[tuple[Any, ...]], mirror: bool) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    if not mirror:
        open_store(url).dispose()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    if mirror:
        for statement in mirror_ddl(postgres=False):
            connection.execute(statement)
    marks = ", ".join("?" * len(COLUMNS))
    connection.executemany(
        f"INSERT INTO decision_log ({', '.join(COLUMNS)}) VALUES ({marks})",
        (row[:9] + (_stamp(row[9]),) for row in rows),
    )
    marks = ", ".join("?" * len(FACT_COLUMNS))
    connection.executemany(
        f"INSERT INTO {'facts' if mirror else 'dashboard_fact'} "
        f"({', '.join(FACT_COLUMNS)}) VALUES ({marks})",
        ((str(f[0]) if mirror else f[0], *f[1:7], _stamp(f[7]), _stamp(f[8])) for f in facts()),
    )
    connection.commit()
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return url


def apply_differences(
    url: str, differences: Differences, rows_extra: list[tuple[Any, ...]]
) -> None:
    postgres = url.startswith("postgresql")
    mark = "%s" if postgres else "?"
    marks = ", ".join([mark] * len(COLUMNS))
    insert = f"INSERT INTO decision_log ({', '.join(COLUMNS)}) VALUES ({marks})"
    extra = [r if postgres else r[:9] + (_stamp(r[9]),) for r in rows_extra]
    statements = [
        (
            sql.format(p=mark),
            tuple(_stamp(v) if isinstance(v, datetime) and not postgres else v for v in params),
        )
        for sql, params in differences.statements()
    ]
    if postgres:
        with psycopg.connect(url) as connection:
            for sql, params in statements:
                connection.execute(sql, params)
            connection.cursor().executemany(insert, extra)
    else:
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        for sql, params in statements:
            connection.execute(sql, params)
        connection.executemany(insert, extra)
        connection.commit()
        connection.close()


def _databases_exist(names: tuple[str, str]) -> bool:
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        found = admin.execute(
            "SELECT count(*) FROM pg_database WHERE datname = ANY(%s)", (list(names),)
        ).fetchone()
    return found is not None and found[0] == len(names)


def run_occ(primary_url: str, mirror_url: str) -> tuple[float, dict[str, list[str]], Any]:
    started = time.perf_counter()
    primary = create_engine(primary_url.replace("postgresql://", "postgresql+psycopg://", 1))
    mirror = open_mirror(mirror_url)
    result = check_parity(primary, mirror)
    elapsed = time.perf_counter() - started
    primary.dispose()
    mirror.dispose()
    table = result.table("decisions")
    found = {
        "missing": list(table.missing_on_mirror),
        "extra": list(table.extra_on_mirror),
        "changed": list(table.differing),
    }
    facts_table = result.table("facts")
    assert not (
        facts_table.missing_on_mirror or facts_table.extra_on_mirror or facts_table.differing
    )
    return elapsed, found, table.stats


def run_reladiff(
    primary_url: str, mirror_url: str, threads: int, columns: tuple[str, ...]
) -> tuple[float, dict[str, list[str]]]:
    from reladiff import connect_to_table, diff_tables

    started = time.perf_counter()
    left = connect_to_table(primary_url, "decision_log", "id", thread_count=threads)
    right = connect_to_table(mirror_url, "decision_log", "id", thread_count=threads)
    signs: dict[str, set[str]] = {}
    for sign, row in diff_tables(
        left, right, extra_columns=columns, threaded=True, max_threadpool_size=threads
    ):
        signs.setdefault(str(row[0]), set()).add(sign)
    elapsed = time.perf_counter() - started
    left.database.close()
    right.database.close()
    found = {
        "missing": sorted(k for k, s in signs.items() if s == {"-"}),
        "extra": sorted(k for k, s in signs.items() if s == {"+"}),
        "changed": sorted(k for k, s in signs.items() if s == {"-", "+"}),
    }
    return elapsed, found


def expected(differences: Differences) -> dict[str, list[str]]:
    return {
        "missing": differences.deleted,
        "extra": differences.extra,
        "changed": differences.changed,
    }


def timed(
    runs: int, tools: dict[str, Callable[[], tuple[float, dict[str, list[str]]]]]
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in tools}
    for tool in tools.values():  # warm-up: caches of both databases
        tool()
    for _ in range(runs):
        for name, tool in tools.items():
            times[name].append(tool()[0])
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reladiff-threads", type=int, default=4)
    parser.add_argument("--only", choices=("postgres", "sqlite"))
    parser.add_argument("--reuse", action="store_true", help="keep databases loaded earlier")
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.ERROR)
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"generating {args.rows:,} decisions …", file=sys.stderr)
    rows = decisions(args.rows)
    differences = Differences(rows)
    want = expected(differences)
    table: list[tuple[str, str, str, str, float, float]] = []
    found_by: dict[str, dict[str, list[str]]] = {}
    all_exact = True

    def row(engines: str, tool: str, found: dict[str, list[str]], times: list[float]) -> None:
        nonlocal all_exact
        exact = found == want
        all_exact = all_exact and (exact or tool.startswith("reladiff"))
        count = sum(len(ids) for ids in found.values())
        verdict = f"{count}/10 {'exact' if exact else 'NOT exact'}"
        table.append(
            (engines, tool, f"{args.rows:,}", verdict, statistics.median(times), min(times))
        )
        found_by[f"{engines} {tool}"] = found

    if args.only != "sqlite":
        names = (f"occ_bench_parity_primary_{args.rows}", f"occ_bench_parity_mirror_{args.rows}")
        base = PG_SERVER.rsplit("/", 1)[0]
        primary_url, mirror_url = (f"{base}/{name}" for name in names)
        if not (args.reuse and _databases_exist(names)):
            print("loading PostgreSQL (COPY) …", file=sys.stderr)
            load_postgres(names[0], rows, mirror=False)
            load_postgres(names[1], rows, mirror=True)
            apply_differences(mirror_url, differences, differences.extra_rows)
        tools: dict[str, Callable[[], tuple[float, dict[str, list[str]]]]] = {
            "occ parity": lambda: run_occ(primary_url, mirror_url)[:2],
        }
        try:
            import reladiff  # noqa: F401
        except ImportError:
            print("reladiff is not installed: its comparison is skipped", file=sys.stderr)
        else:
            threads = args.reladiff_threads
            tools[f"reladiff, 9 columns, {threads} threads"] = lambda: run_reladiff(
                primary_url, mirror_url, threads, COLUMNS[1:]
            )
            tools[f"reladiff, key only, {threads} threads"] = lambda: run_reladiff(
                primary_url, mirror_url, threads, ()
            )
        times = timed(args.runs, tools)
        for name, tool in tools.items():
            row("PostgreSQL → PostgreSQL", name, tool()[1], times[name])
        stats = run_occ(primary_url, mirror_url)[2]
        print(f"occ on PostgreSQL: {stats}", file=sys.stderr)
    if args.only != "postgres":
        primary_path, mirror_path = OUT / f"primary-{args.rows}.db", OUT / f"mirror-{args.rows}.db"
        if not (args.reuse and primary_path.exists() and mirror_path.exists()):
            print("loading SQLite (executemany) …", file=sys.stderr)
            load_sqlite(primary_path, rows, mirror=False)
            load_sqlite(mirror_path, rows, mirror=True)
            apply_differences(f"sqlite:///{mirror_path}", differences, differences.extra_rows)
        sqlite_urls = (f"sqlite:///{primary_path}", f"sqlite:///{mirror_path}")
        times = timed(args.runs, {"occ parity": lambda: run_occ(*sqlite_urls)[:2]})
        elapsed, found, stats = run_occ(*sqlite_urls)
        row("SQLite → SQLite", "occ parity", found, times["occ parity"])
        print(f"occ on SQLite: {stats}", file=sys.stderr)

    out = io.StringIO()
    out.write("| engines | tool | decisions per side | differences found | median s | best s |\n")
    out.write("|---|---|---:|---|---:|---:|\n")
    for engines, tool, rows_text, verdict, median, best in table:
        out.write(f"| {engines} | {tool} | {rows_text} | {verdict} | {median:.2f} | {best:.2f} |\n")
    print(out.getvalue())
    print("Differences made on the mirror (occ must report exactly these):")
    for kind, ids in want.items():
        print(f"- {kind}: {', '.join(ids)}")
    for label, found in found_by.items():
        if label.endswith("occ parity") or found != want:
            verdict = "exactly these" if found == want else "NOT these"
            print(f"{label} reported {verdict}:")
            for kind, ids in found.items():
                print(f"  - {kind}: {', '.join(ids) or '(none)'}")
    occ_pg = [t for t in table if t[0].startswith("PostgreSQL") and t[1] == "occ parity"]
    reladiff_pg = [t for t in table if t[1].startswith("reladiff")]
    if occ_pg and reladiff_pg:
        fastest = min(reladiff_pg, key=lambda t: t[4])
        print(
            f"\nPostgreSQL: occ {occ_pg[0][4]:.2f} s vs fastest reladiff {fastest[4]:.2f} s "
            f"({fastest[1]}): {'within' if occ_pg[0][4] <= fastest[4] else 'OVER'} target"
        )
    occ_sqlite = [t for t in table if t[0].startswith("SQLite")]
    if occ_sqlite:
        verdict = "within" if occ_sqlite[0][4] < 10 else "OVER"
        print(f"SQLite: occ {occ_sqlite[0][4]:.2f} s: {verdict} the 10 s target")
    machine = f"{platform.platform()}, {os.cpu_count()} CPUs"
    print(f"\nMachine: {machine}, Python {platform.python_version()}")
    print(f"Command: python benchmarks/bench_parity.py {' '.join(sys.argv[1:])}".rstrip())
    if not all_exact:
        raise SystemExit("occ did not report exactly the 10 differences")


if __name__ == "__main__":
    main()
