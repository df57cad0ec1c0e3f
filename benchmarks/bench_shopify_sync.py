"""Shopify sync benchmark: orders from a fake Admin API over real HTTP into a fresh SQLite store.

Target (the issue): a sync of 100,000 orders across pages of 250 takes under 60 s of occ's own
CPU time, with memory flat in the number of pages.

The fake Admin API (tests/fakes/shopify_server.py) runs in its own process, so its CPU is not
counted; its cost bucket is generous (no throttling waits). Each scenario runs in a fresh
client process that syncs every order through ``ShopifyClient.iter_orders`` into
``occ.refresh.ingest.ingest_stream`` (contract validation and the SQLite upserts, in this
process: ``workers=1``, so no validation CPU hides in worker processes), inside one
transaction. At 20k, 50k and 100k orders read it notes its CPU time (``time.process_time``)
and peak RSS (``ru_maxrss``); flat RSS across the checkpoints means memory does not grow with
the number of pages. Every order has 1–4 line items, every 100th has 12 (drained).

Scenarios:

- ``paged 250×5``: pages of 250 orders with 5 line items each, as the issue asks. Shopify
  would refuse this page (its requested cost is 6,252 points, over the 1,000-point single-query
  limit), so client and fake lift that limit for this row only.
- ``paged 25×8``: ``OCC_SHOPIFY_PAGE_SIZE=25``: occ fits 8 line items per order within 1,000
  points (927), what occ would run against Shopify when paging.
- ``bulk``: the default bulk threshold (10,000): one bulk operation, its JSONL result streamed
  and reassembled — what a first sync of 100,000 orders actually runs.

Run: ``python benchmarks/bench_shopify_sync.py`` (``--orders 20000`` for a quicker run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

CHECKPOINTS = (20_000, 50_000, 100_000)
SCENARIOS: dict[str, dict[str, Any]] = {
    "paged 250×5": {
        "page_size": 250, "line_items_page_size": 5, "max_query_cost": 10_000,
        "bulk_threshold": 10**9,
    },
    "paged 25×8": {"page_size": 25, "bulk_threshold": 10**9},
    "bulk": {"page_size": 50, "bulk_threshold": 10_000},
}  # fmt: skip


def _items(number: int) -> int:
    return 12 if number % 100 == 0 else 1 + number % 4


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _serve(orders: int) -> None:
    """The fake Admin API with ``orders`` orders, until stdin closes."""
    from fakes.shopify_server import ShopifyFake, generous_bucket, make_orders

    fake = ShopifyFake(
        orders=make_orders(orders, step=timedelta(seconds=20), items=_items),
        bucket=generous_bucket(time.monotonic),
        max_query_cost=10_000,
    )
    with fake.running():
        print(json.dumps({"base_url": fake.base_url}), flush=True)
        sys.stdin.read()


def _client(base_url: str, scenario: str, orders: int) -> dict[str, Any]:
    """One sync into a fresh SQLite store, measured at the checkpoints."""
    import httpx
    from pydantic import SecretStr

    from fakes.shopify_server import BASE_TIME, SHOP, TOKEN
    from occ.contracts.evidence import Evidence
    from occ.refresh.ingest import ingest_stream
    from occ.sources.base import RawRecord
    from occ.sources.http import RetryPolicy
    from occ.sources.shopify import ShopifyClient
    from occ.store.engine import open_store

    answers = {"count": 0, "bytes": 0}

    def keep_count(evidence: Evidence) -> None:
        answers["count"] += 1
        answers["bytes"] += len(evidence.body)

    marks: list[dict[str, float]] = []
    wanted = [c for c in CHECKPOINTS if c < orders] + [orders]

    def counted(records: Iterable[RawRecord]) -> Iterator[RawRecord]:
        for number, record in enumerate(records, start=1):
            yield record
            if number in wanted:
                marks.append({"orders": number, "cpu_s": time.process_time() - cpu0,
                              "rss_mb": _peak_rss_mb()})  # fmt: skip

    with tempfile.TemporaryDirectory() as folder:
        engine = open_store(f"sqlite:///{folder}/occ.db")
        with httpx.Client() as http:
            client = ShopifyClient(
                http,
                shop=SHOP,
                access_token=SecretStr(TOKEN),
                base_url=base_url,
                evidence=keep_count,
                policy=RetryPolicy(timeout=120.0),
                bulk_poll_interval=0.05,
                **SCENARIOS[scenario],
            )
            rss0 = _peak_rss_mb()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            with engine.begin() as connection:
                report = ingest_stream(
                    connection,
                    SHOP,
                    "shopify.orders",
                    counted(client.iter_orders(BASE_TIME - timedelta(days=1))),
                    workers=1,
                )
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        engine.dispose()
    return {
        "scenario": scenario,
        "read": report.read,
        "stored": report.stored,
        "quarantined": len(report.quarantined),
        "requests": answers["count"],
        "cpu_s": cpu,
        "wall_s": wall,
        "rss_before_mb": rss0,
        "marks": marks,
    }


def _machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS))
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.orders)
        return
    if args.client:
        base_url, scenario = args.client.split(" ", 1)
        print(json.dumps(_client(base_url, scenario, args.orders)))
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--orders", str(args.orders)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert server.stdout is not None and server.stdin is not None
    base_url = json.loads(server.stdout.readline())["base_url"]
    results = []
    try:
        for scenario in args.scenario or list(SCENARIOS):
            command = [sys.executable, __file__, "--orders", str(args.orders),
                       "--client", f"{base_url} {scenario}"]  # fmt: skip
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    _print(results, args)


def _print(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    marks = sorted({mark["orders"] for result in results for mark in result["marks"]})
    head = ["scenario", "orders stored", "requests", "wall s"]
    head += [f"CPU s @{m // 1000}k" for m in marks] + [f"peak RSS MB @{m // 1000}k" for m in marks]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for result in results:
        by_mark = {mark["orders"]: mark for mark in result["marks"]}
        row = [result["scenario"], f"{result['stored']:,}", f"{result['requests']:,}",
               f"{result['wall_s']:.1f}"]  # fmt: skip
        row += [f"{by_mark[m]['cpu_s']:.1f}" if m in by_mark else "" for m in marks]
        row += [f"{by_mark[m]['rss_mb']:.0f}" if m in by_mark else "" for m in marks]
        print("| " + " | ".join(row) + " |")
    total = {r["scenario"]: f"{r['cpu_s']:.1f} s" for r in results}
    print()
    print(f"Total CPU of the client process, sync and store: {total}.")
    print(f"RSS after imports, before the sync: {results[0]['rss_before_mb']:.0f} MB.")
    print(f"Machine: {_machine()}.")
    print(f"Command: python benchmarks/bench_shopify_sync.py --orders {args.orders}")


if __name__ == "__main__":
    main()
