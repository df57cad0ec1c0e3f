"""Sync-log analyzer benchmark: ``analyze_sync_log`` against a bare DuckDB aggregate.

Target (the issue): on a 1,000,000-line export (about 170 MB) the analysis takes at most
twice the time of a bare DuckDB aggregate over the same file, measured in the same run,
with a peak memory under 300 MB; on 10,000,000 lines memory stays under 300 MB.

The export is generated once under ``benchmarks/out/`` (gitignored): a realistic mix of the
field names the analyzer accepts (occ's own export, two older pipelines, an HTTP-style
log), about 3 % failures, and one malformed line in 2,000 (truncated writes, log noise).
Every measurement runs in a fresh process (``--phase``) so that its peak RSS
(``ru_maxrss``, interpreter and imports included) is its own; timings are of the work
only, repeated ``--repeat`` times alternately, and the fastest run is reported.

The bare aggregate is ``SELECT count(*), avg(durationMs) FROM read_json_auto(FILE,
ignore_errors = true)``, the brief's yardstick; the same query with its two columns declared
(no schema sampling) is reported too, and so is the analyzer's own reader with no work after
it (``count(r)`` of the struct of every alias): the floor of any analysis through it.

Run: ``python benchmarks/bench_sync_log.py`` (``--lines 100000`` for a quick run, ``--big``
to add the 10,000,000-line memory run, about 1.7 GB of disk and a few minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "out"
START = datetime(2026, 11, 1, tzinfo=UTC)
SHOP = "bench-shop.myshopify.com"
SCOPES = ("ops", "cx", "inventory", "marketing", "fulfillment")
ERRORS = (
    ("MIRROR_TIMEOUT", "canceling statement due to statement timeout"),
    ("CONFLICT", "duplicate key value violates unique constraint decision_log_pkey"),
    ("UNAVAILABLE", "connection to server at 10.0.3.7, port 5432 failed: Connection refused"),
)
MALFORMED = (
    '{"decisionId": "dec-0", "status": "SUC',  # a write cut short
    "WARN sync worker restarted after SIGTERM",  # log noise in the export
    '{"decisionId": "dec-0", "status": "FAILED", "durationMs": 12',
)
BARE_AUTO = "SELECT count(*), avg(durationMs) FROM read_json_auto({file}, ignore_errors = true)"
BARE_DECLARED = (
    "SELECT count(*), avg(durationMs) FROM read_json({file}, format = 'newline_delimited',"
    " columns = {{'durationMs': 'DOUBLE', 'status': 'VARCHAR'}}, ignore_errors = true)"
)


def _event(rng: random.Random, index: int) -> str:
    """One line: 55 % occ's export, 20 % and 15 % two older pipelines, 10 % HTTP-style."""
    moment = START + timedelta(seconds=index * 0.6 + rng.random())
    failed = rng.random() < 0.03
    code, message = rng.choice(ERRORS)
    duration = int(rng.lognormvariate(5, 0.8))
    style = rng.random()
    record: dict[str, Any]
    if style < 0.55:
        record = {
            "decisionId": f"dec-{index:09d}",
            "status": rng.choice(("FAILED", "TIMEOUT")) if failed else "SUCCESS",
            "durationMs": duration,
            "errorCode": code if failed else None,
            "errorMessage": message if failed else None,
            "attempt": rng.choice((1, 1, 1, 2, 3)),
            "timestamp": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "scope": rng.choice(SCOPES),
        }
    elif style < 0.75:
        record = {
            "id": f"dec-{index:09d}",
            "state": "error" if failed else "ok",
            "duration": round(duration / 1000, 3),  # seconds
            "retries": rng.choice((0, 0, 0, 1, 2)),
            "time": int(moment.timestamp()),
            "context": {"scope": rng.choice(SCOPES), "shop": SHOP},
        }
        if failed:
            record["error"] = {"code": code, "message": message}
    elif style < 0.9:
        record = {
            "decision_id": f"dec-{index:09d}",
            "success": not failed,
            "latencyMs": duration,
            "retry_count": rng.choice((0, 0, 1)),
            "loggedAt": int(moment.timestamp() * 1000),
            "scope": rng.choice(SCOPES),
            "shop": SHOP,
        }
        if failed:
            record["error_code"], record["error_message"] = code, message
    else:
        record = {
            "id": f"dec-{index:09d}",
            "response": {"status": 503 if failed else 200},
            "metrics": {"durationMs": duration},
            "createdAt": (moment + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%f+01:00"),
            "retryCount": rng.choice((0, 1)),
            "shop": SHOP,
        }
    return json.dumps(record, separators=(",", ":"))


def export_file(lines: int) -> Path:
    """The generated export of ``lines`` lines (generated once, then reused)."""
    path = OUT / f"sync-events-{lines}.ndjson"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as handle:
        batch: list[str] = []
        for index in range(lines):
            if rng.random() < 0.0005:
                batch.append(rng.choice(MALFORMED))
            else:
                batch.append(_event(rng, index))
            if len(batch) == 10_000:
                handle.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            handle.write("\n".join(batch) + "\n")
    partial.rename(path)
    return path


def _phase(name: str, file: Path) -> dict[str, Any]:
    """One measurement in this (fresh) process: seconds of the work, peak RSS."""
    if name == "analyze":
        from occ.ops.sync_log import analyze_sync_log

        started = time.perf_counter()
        summary = analyze_sync_log(
            file, failure_rate_alert=0.05, p95_ms_alert=1000, generated_at=datetime.now(UTC)
        )
        seconds = time.perf_counter() - started
        result = {"records": summary["totals"]["records"], "p95": summary["durationsMs"]["p95"]}
    else:
        import duckdb

        if name == "read-aliases":
            from occ.ops.sync_log_sql import _reader, sql_string  # the reader, as it runs

            query = f"SELECT count(*), count(r) FROM {_reader(sql_string(str(file)))}"
        else:
            query = (BARE_AUTO if name == "bare-auto" else BARE_DECLARED).format(file=f"'{file}'")
        started = time.perf_counter()
        connection = duckdb.connect(":memory:", config={"threads": 2})
        row = connection.execute(query).fetchone()
        connection.close()
        seconds = time.perf_counter() - started
        result = {"records": row[0] if row else None}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return {"seconds": seconds, "peak_rss_mb": peak_mb, **result}


def _measure(name: str, file: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", name, str(file)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--big", action="store_true", help="add the 10,000,000-line run")
    parser.add_argument("--phase", nargs=2, metavar=("NAME", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(_phase(args.phase[0], Path(args.phase[1]))))
        return

    file = export_file(args.lines)
    runs: dict[str, list[dict[str, Any]]] = {
        "bare-auto": [],
        "bare-declared": [],
        "read-aliases": [],
        "analyze": [],
    }
    for _ in range(args.repeat):  # alternate, so that load from elsewhere hits all alike
        for name, measured in runs.items():
            measured.append(_measure(name, file))
    best = {name: min(r["seconds"] for r in measured) for name, measured in runs.items()}
    peak = {name: max(r["peak_rss_mb"] for r in measured) for name, measured in runs.items()}
    size_mb = file.stat().st_size / 1e6
    print(f"{args.lines:,} lines, {size_mb:,.0f} MB, fastest of {args.repeat} runs each:\n")
    print("| measurement | time (s) | × bare auto | × bare declared | peak RSS (MB) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    labels = {
        "bare-auto": "bare DuckDB aggregate, `read_json_auto`",
        "bare-declared": "bare DuckDB aggregate, columns declared",
        "read-aliases": "the analyzer's reader alone (every alias, no work after it)",
        "analyze": "`analyze_sync_log` (the whole summary)",
    }
    for name, label in labels.items():
        print(
            f"| {label} | {best[name]:.3f} | {best[name] / best['bare-auto']:.2f} |"
            f" {best[name] / best['bare-declared']:.2f} | {peak[name]:.0f} |"
        )
    if args.big:
        big = export_file(10_000_000)
        big_run = _measure("analyze", big)
        print(
            f"| `analyze_sync_log`, 10,000,000 lines ({big.stat().st_size / 1e9:.2f} GB) |"
            f" {big_run['seconds']:.1f} | | | {big_run['peak_rss_mb']:.0f} |"
        )
    print(
        f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, DuckDB threads 2.\n"
        f"Command: python benchmarks/bench_sync_log.py {' '.join(sys.argv[1:])}".rstrip()
    )


if __name__ == "__main__":
    main()
