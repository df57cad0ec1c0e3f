"""Decision sync benchmark: 10,000 decisions pushed to a fresh PostgreSQL mirror.

Target (the issue): a sync of 10,000 decisions to a Postgres mirror in under 10 s.

For each primary (a fresh migrated PostgreSQL database, then a SQLite file) the benchmark
writes ``--decisions`` decisions with their outbox entries (one bulk transaction holding
exactly the rows ``occ.decisions.add_decision`` writes, so the setup does not dominate), then
times one real ``occ.decisions.sync_outbox`` run into a fresh, empty PostgreSQL mirror
database: table creation, claims, upserts, one sync event per entry and the marks included.
It checks that the mirror holds every decision exactly once and prints a Markdown table.

Run: ``python benchmarks/bench_decision_sync.py`` (``--decisions``, ``--batch-size``,
``--pg postgresql://postgres@127.0.0.1:5432/postgres`` to change the defaults).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import Engine, insert, text

from occ.config import Settings
from occ.decisions import sync_outbox
from occ.decisions.log import DECISIONS
from occ.store.engine import open_store
from occ.store.outbox import OUTBOX

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def _database(server: str, prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return name, f"{base}/{name}"


def _drop(server: str, name: str) -> None:
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fill(primary: Engine, count: int) -> None:
    decisions, entries = [], []
    for number in range(count):
        decision_id = str(uuid.uuid4())
        at = NOW + timedelta(seconds=number)
        decisions.append(
            {
                "id": decision_id,
                "scope": ("ops", "cx", "inventory")[number % 3],
                "actor": "ops@bench.test",
                "action": "approve",
                "rationale": f"bench decision {number}",
                "evidence_url": f"https://bench.test/evidence/{number}",
                "shop_domain": "bench.myshopify.com",
                "external_ref": f"PR-{number}",
                "payload": {"number": number, "sku": f"SKU-{number % 500}"},
                "created_at": at,
            }
        )
        entries.append(
            {
                "kind": "decision",
                "ref_id": decision_id,
                "version": 1,
                "scope": decisions[-1]["scope"],
                "status": "pending",
                "attempts": 0,
                "created_at": at,
                "updated_at": at,
            }
        )
    with primary.begin() as connection:
        connection.execute(insert(DECISIONS), decisions)
        connection.execute(insert(OUTBOX), entries)


def _run(label: str, primary_url: str, server: str, args: argparse.Namespace) -> list[str]:
    mirror_name, mirror_url = _database(server, "occ_bench_mirror")
    primary = open_store(primary_url)
    try:
        _fill(primary, args.decisions)
        settings = Settings(sync_batch_size=args.batch_size)
        started = time.perf_counter()
        report = sync_outbox(primary, mirror_url, settings, worker_id="bench")
        seconds = time.perf_counter() - started
        with psycopg.connect(server.rsplit("/", 1)[0] + f"/{mirror_name}") as mirror:
            row = mirror.execute("SELECT count(*), count(DISTINCT id) FROM decision_log")
            rows, distinct = row.fetchone() or (0, 0)
        with primary.connect() as connection:
            events = connection.execute(text("SELECT count(*) FROM sync_event")).scalar_one()
    finally:
        primary.dispose()
        _drop(server, mirror_name)
    assert report.ok and report.sent == rows == distinct == args.decisions, report
    return [
        label,
        f"{args.decisions:,}",
        str(args.batch_size),
        f"{seconds:.2f}",
        f"{args.decisions / seconds:,.0f}",
        f"{events:,}",
        "yes" if seconds < 10 else "**no**",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=Settings().sync_batch_size)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    rows = []
    primary_name, primary_url = _database(args.pg, "occ_bench_primary")
    try:
        rows.append(_run("PostgreSQL", primary_url, args.pg, args))
    finally:
        _drop(args.pg, primary_name)
    with tempfile.TemporaryDirectory() as folder:
        rows.append(_run("SQLite file", f"sqlite:///{Path(folder) / 'occ.db'}", args.pg, args))
    header = ["primary → PG mirror", "decisions", "batch", "seconds", "decisions/s"]
    header += ["sync events", "< 10 s"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(f"Machine: {platform.machine()}, Python {platform.python_version()}, {platform.system()}")
    print(f"Command: python {' '.join(sys.argv)}")


if __name__ == "__main__":
    main()
