"""Dashboard load benchmark: the overview page and the tile API under concurrent clients.

Target (the issue): with the 1,000,000-order store of the foundation benchmark in PostgreSQL,
the overview page p95 under 100 ms and the tile API p95 under 50 ms at 50 concurrent clients
for 30 s (a load generator on loopback), no errors.

Method:

1. The store: the recorded-responses folder of ``generate_store.cached_store`` (1,000,000
   orders, 2.5 M line items, 100,000 variants, 50,000 conversations, 2,000 landing pages by
   default) is loaded into a PostgreSQL database of its own by one real
   ``occ.refresh.run_refresh`` as of ``generate_store.NOW``. A database whose newest finished
   refresh run is of the same folder is reused as it is (``--reload`` drops and reloads it);
   the load time printed is then the one that run recorded.
2. An operator with a bearer token (``occ.store.operators``): every request sends
   ``Authorization: Bearer``, which signs pages and API alike in (one token lookup each).
3. The server: a separate process running what ``occ serve`` runs (``serve_app``: the
   ``create_app`` app on uvicorn, 1 worker, log level warning, no access log) on 127.0.0.1,
   a free port; ``--workers N`` runs N uvicorn workers of the same app instead (their shared
   socket hands the clients' keep-alive connections out unevenly: one worker may get most).
   uvicorn's "auto" picks httptools and uvloop when importable, else h11 on asyncio: the
   machine table says which.
4. The load generator, in this process: ``--clients`` asyncio clients, each on one keep-alive
   HTTP/1.1 connection, sending a request as soon as the previous response has been read
   (closed loop, like wrk). The client is a few lines over asyncio streams rather than httpx,
   whose per-request CPU would be taken from the server: the machine's cores are shared by
   client, server and PostgreSQL, and the CPU each of them used is printed per scenario.
   Each scenario runs ``--warmup`` seconds (not counted), then ``--seconds`` seconds, after
   which no request is started and those under way are waited for (up to the 30 s timeout).
   The latencies are those of every request answered after the warm-up (one begun in the
   warm-up and answered in the window counts: a slow server is not flattered); requests/s are
   the answers within the window per second. Latency is from writing the request to reading
   the last byte of the response; percentiles are nearest-rank; any status but 200, a broken
   connection or a timeout (30 s) is an error. Between scenarios the server is left to finish
   what it was given, and the machine to become quiet (``--quiet-below``): it is shared.

Scenarios: ``GET /`` (overview page), ``GET /api/v1/tiles`` (the five tiles) and
``GET /api/v1/tiles/{kpi}`` (one tile with its first page of 500 rows, the five KPIs in
turn); on request (``--scenario healthz``) ``GET /healthz``, the floor of any request on this
server (no sign-in, no query).

Run: ``python benchmarks/bench_dashboard.py`` (add ``--orders 20000 --seconds 5`` for a quick
check). It prints a Markdown table, the machine and the command.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from bench_refresh import _busy_s, _steal_s
from generate_store import NOW, StoreSize, cached_store

KPIS = (
    "sales_delta",
    "sla_breach_rate",
    "traffic_anomalies",
    "inventory_cover",
    "fulfillment_issue_rate",
)
SCENARIOS: dict[str, tuple[str, list[str], str, float | None]] = {
    # name: (what, paths, accept, p95 target in ms)
    "overview": ("overview page", ["/"], "text/html", 100.0),
    "tiles": ("tile API, all tiles", ["/api/v1/tiles"], "application/json", 50.0),
    "tile": (
        "tile API, one tile, first page of 500 rows (5 KPIs in turn)",
        [f"/api/v1/tiles/{kpi}" for kpi in KPIS],
        "application/json",
        None,
    ),
    # Not run by default: the floor of any request (no database, no sign-in) on this server.
    "healthz": ("floor: health check, no sign-in or query", ["/healthz"], "application/json", None),
}
DEFAULT_SCENARIOS = ("overview", "tiles", "tile")
OPERATOR = "bench@example.com"
_DB_ENV = "BENCH_DASHBOARD_DB"


# --- the store -------------------------------------------------------------------------------


def _default_url(size: StoreSize) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/occ_bench_dashboard_o{size.orders}"


def _create_database(url: str, drop: bool) -> None:
    """Create the database of ``url`` on its server (dropping it first when ``drop``)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    name = target.database
    assert name and name.replace("_", "").isalnum(), f"unexpected database name {name!r}"
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if drop:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def _newest_run(url: str) -> dict[str, Any] | None:
    from sqlalchemy import select

    from occ.store.engine import open_store
    from occ.store.tables import RefreshRun

    engine = open_store(url)
    try:
        with engine.connect() as connection:
            row = (
                connection.execute(
                    select(RefreshRun.__table__)
                    .where(RefreshRun.finished_at.is_not(None))
                    .order_by(RefreshRun.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
    finally:
        engine.dispose()
    return None if row is None else dict(row)


def prepare_store(url: str, folder: Path, reload: bool) -> dict[str, Any]:
    """A database holding ``folder``'s store: reused when loaded already, else loaded now."""
    from occ.config import Settings
    from occ.refresh import run_refresh
    from occ.sources.recorded import recorded_payloads
    from occ.store.engine import open_store

    source = f"dir:{folder}"
    _create_database(url, drop=reload)
    run = _newest_run(url)
    if run is not None and run["source"] == source:
        recorded = (run["finished_at"] - run["started_at"]).total_seconds()
        return {"reused": True, "run_id": run["id"], "load_s": recorded, "status": run["status"]}
    if run is not None:
        raise SystemExit(
            f"{url} holds another store ({run['source']}); pass --reload to drop and reload it"
        )
    engine = open_store(url)
    started = time.perf_counter()
    report = run_refresh(engine, Settings(), recorded_payloads(folder), NOW)
    elapsed = time.perf_counter() - started
    engine.dispose()
    status = "quarantined" if report.quarantined else "ok"
    return {"reused": False, "run_id": report.run_id, "load_s": elapsed, "status": status}


def bearer_token(url: str) -> str:
    """A fresh API token of the benchmark's operator (created on first use)."""
    from occ.errors import InputFileError
    from occ.store.engine import open_store
    from occ.store.operators import add_operator, issue_api_token

    engine = open_store(url, run_migrations=False)
    try:
        with engine.begin() as connection:
            try:
                add_operator(connection, OPERATOR, "bench-dashboard-password", NOW)
            except InputFileError:  # there from an earlier run
                pass
            return issue_api_token(connection, OPERATOR)
    finally:
        engine.dispose()


# --- the server ------------------------------------------------------------------------------


def make_app() -> Any:
    """The app factory of ``--workers N`` (uvicorn imports this module in each worker)."""
    from occ.config import Settings
    from occ.store.engine import open_store
    from occ.web import create_app

    return create_app(Settings(), open_store(os.environ[_DB_ENV], run_migrations=False))


def serve(url: str, port: int, workers: int) -> None:
    """Run the dashboard as ``occ serve`` does (``--workers 1``), or with N uvicorn workers."""
    if workers == 1:
        from occ.cli.serve_cmd import serve_app
        from occ.config import Settings
        from occ.store.engine import open_store

        engine = open_store(url, run_migrations=False)
        serve_app(Settings(), engine, "127.0.0.1", port)
        return
    import uvicorn

    os.environ[_DB_ENV] = url
    uvicorn.run(
        "bench_dashboard:make_app",
        factory=True,
        app_dir=str(Path(__file__).resolve().parent),
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server(url: str, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    command = [sys.executable, __file__, "--serve", "--db", url, "--port", str(port)]
    server = subprocess.Popen([*command, "--workers", str(workers)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                if probe.recv(64).startswith(b"HTTP/1.1 200"):
                    return server, port
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not answer /healthz within 60 s")


def _tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) of ``root`` and every live descendant."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    total, wanted = 0.0, {root}
    changed = True
    while changed:
        changed = False
        for pid, (parent, _) in stats.items():
            if parent in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    for pid in wanted:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def _postgres_cpu_s() -> float:
    """CPU seconds of every process named postgres, with the exited backends the server reaped."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        if head.endswith("(postgres"):
            fields = tail.split()  # utime, stime, then the reaped children's cutime, cstime
            total += sum(int(value) for value in fields[11:15]) / tick
    return total


def _wait_until_quiet(limit: float, patience_s: float) -> float:
    """Wait (up to ``patience_s``) until the whole machine uses under ``limit`` cores (3 s samples).

    The figures are latencies on a machine shared with other work (test suites, browsers): what
    they take is taken from the server. Returns the cores in use when measuring starts.
    """
    deadline = time.monotonic() + patience_s
    while True:
        busy = _busy_s()
        time.sleep(3)
        cores = (_busy_s() - busy) / 3
        if cores < limit or time.monotonic() > deadline:
            return cores


def _wait_server_idle(pid: int, patience_s: float = 120) -> None:
    """Wait until the server has worked off what the clients left (under 5 % of a core)."""
    deadline = time.monotonic() + patience_s
    before = _tree_cpu_s(pid)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = _tree_cpu_s(pid)
        if now - before < 0.05:
            return
        before = now


# --- the load generator ----------------------------------------------------------------------


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    bytes_read: int = 0
    completed_in_window: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def _response(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """Read one HTTP/1.1 response: (status, body bytes, connection kept open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    size = 0
    if b"content-length" in headers:
        size = int(headers[b"content-length"])
        await reader.readexactly(size)
    elif headers.get(b"transfer-encoding") == b"chunked":
        while True:
            chunk = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(chunk + 2)
            size += chunk
            if chunk == 0:
                break
    return status, size, headers.get(b"connection") != b"close"


async def _client(
    port: int,
    requests: list[bytes],
    index: int,
    window: tuple[float, float],
    tally: Tally,
    timeout: float,
) -> None:
    measure_from, stop_at = window
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    turn = index
    while time.perf_counter() < stop_at:
        request = requests[turn % len(requests)]
        turn += 1
        started = time.perf_counter()
        status, kind = 0, ""
        try:
            if writer is None or reader is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
            writer.write(request)
            status, size, keep = await asyncio.wait_for(_response(reader), timeout)
            tally.bytes_read += size
            if not keep:
                writer.close()
                reader = writer = None
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, TimeoutError) as exc:
            kind = type(exc).__name__
            if writer is not None:
                writer.close()
            reader = writer = None
        finished = time.perf_counter()
        if finished < measure_from:
            continue
        if finished <= stop_at:
            tally.completed_in_window += 1
        if kind:
            tally.error(kind)
        elif status != 200:
            tally.error(f"HTTP {status}")
        tally.latencies_ms.append((finished - started) * 1000)
    if writer is not None:
        writer.close()


async def _load(
    port: int, requests: list[bytes], clients: int, warmup: float, seconds: float
) -> Tally:
    tally = Tally()
    start = time.perf_counter()
    window = (start + warmup, start + warmup + seconds)
    await asyncio.gather(
        *(_client(port, requests, i, window, tally, timeout=30) for i in range(clients))
    )
    return tally


def _percentile(ordered: list[float], pct: float) -> float:
    """Nearest rank: the smallest value with at least ``pct`` % of the values at or below it."""
    if not ordered:
        return float("nan")
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


def _request(port: int, path: str, accept: str, token: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: {accept}\r\n"
        f"Authorization: Bearer {token}\r\nUser-Agent: occ-bench-dashboard\r\n\r\n"
    ).encode()


def _check_answers(port: int, token: str) -> dict[str, int]:
    """Each path answers 200 with the store's data (not an empty or error page); body sizes."""
    import httpx

    sizes: dict[str, int] = {}
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    ) as client:
        page = client.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 200, (page.status_code, page.text[:300])
        assert "Sales Pulse" in page.text and "No data yet" not in page.text, page.text[:300]
        sizes["/"] = len(page.content)
        tiles = client.get("/api/v1/tiles")
        assert tiles.status_code == 200, (tiles.status_code, tiles.text[:300])
        body = tiles.json()
        assert [t["kpi"] for t in body["tiles"]] == list(KPIS), body
        assert all(t["status"] == "ok" for t in body["tiles"]), body
        sizes["/api/v1/tiles"] = len(tiles.content)
        for kpi in KPIS:
            one = client.get(f"/api/v1/tiles/{kpi}")
            assert one.status_code == 200, (kpi, one.status_code, one.text[:300])
            sizes[f"/api/v1/tiles/{kpi}"] = len(one.content)
    return sizes


def run_scenario(
    name: str, port: int, token: str, server_pid: int, args: argparse.Namespace
) -> dict[str, Any]:
    _what, paths, accept, _target = SCENARIOS[name]
    requests = [_request(port, path, accept, token) for path in paths]
    cpu = (time.process_time(), _tree_cpu_s(server_pid), _postgres_cpu_s(), _busy_s(), _steal_s())
    wall = time.perf_counter()
    tally = asyncio.run(_load(port, requests, args.clients, args.warmup, args.seconds))
    wall = time.perf_counter() - wall
    client_cpu = time.process_time() - cpu[0]
    server_cpu = _tree_cpu_s(server_pid) - cpu[1]
    postgres_cpu = _postgres_cpu_s() - cpu[2]
    busy = _busy_s() - cpu[3]
    ordered = sorted(tally.latencies_ms)
    return {
        "requests": len(ordered),
        "rps": tally.completed_in_window / args.seconds,
        "p50": _percentile(ordered, 50),
        "p95": _percentile(ordered, 95),
        "p99": _percentile(ordered, 99),
        "max": ordered[-1] if ordered else float("nan"),
        "errors": sum(tally.errors.values()),
        "error_kinds": tally.errors,
        "mb_per_s": tally.bytes_read / wall / 1e6,
        # CPU over warm-up + measured window, in cores (CPU seconds per wall second).
        "cores": {
            "client": client_cpu / wall,
            "server": server_cpu / wall,
            "postgres": postgres_cpu / wall,
            "other": max(busy - client_cpu - server_cpu - postgres_cpu, 0) / wall,
            "steal": (_steal_s() - cpu[4]) / wall,
        },
    }


# --- the report ------------------------------------------------------------------------------


def _machine(url: str) -> dict[str, str]:
    import fastapi
    import sqlalchemy
    import uvicorn
    from sqlalchemy import text

    from occ.store.engine import open_store

    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as info:
        mem_kb = int(next(line for line in info if line.startswith("MemTotal")).split()[1])
    engine = open_store(url, run_migrations=False)
    with engine.connect() as connection:
        postgres = str(connection.execute(text("SHOW server_version")).scalar())
    engine.dispose()
    return {
        "cores (nproc)": f"{os.cpu_count()} (shared by the load generator, the server and "
        "PostgreSQL)",
        "CPU": cpu,
        "RAM": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "PostgreSQL": f"{postgres} on 127.0.0.1 (loopback)",
        "uvicorn / FastAPI / SQLAlchemy": (
            f"{uvicorn.__version__} / {fastapi.__version__} / {sqlalchemy.__version__}"
        ),
        # What uvicorn's "auto" picks in this environment (the server's): httptools and uvloop
        # when importable (uvicorn[standard]), else pure-Python h11 on asyncio.
        "uvicorn HTTP parser / event loop": (
            f"{'httptools' if find_spec('httptools') else 'h11'} / "
            f"{'uvloop' if find_spec('uvloop') else 'asyncio'}"
        ),
    }


def _ms(value: float) -> str:
    return f"{value:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=StoreSize.orders)
    parser.add_argument("--seconds", type=float, default=30, help="measured time per scenario")
    parser.add_argument("--warmup", type=float, default=3, help="uncounted time before it")
    parser.add_argument("--clients", type=int, default=50, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (occ serve: 1)")
    parser.add_argument(
        "--scenario", action="append", choices=tuple(SCENARIOS), help="default: all"
    )
    parser.add_argument("--db", help="SQLAlchemy URL (default: occ_bench_dashboard_o<orders>)")
    parser.add_argument("--reload", action="store_true", help="drop the database and reload it")
    parser.add_argument(
        "--quiet-below",
        type=float,
        default=0.2,
        help="before each scenario, wait for the machine to use fewer cores than this",
    )
    parser.add_argument("--quiet-wait", type=float, default=900, help="longest such wait (s)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = StoreSize(orders=args.orders)
    url = args.db or _default_url(size)
    if args.serve:
        serve(url, args.port, args.workers)
        return

    started = time.perf_counter()
    folder, counts = cached_store(size)
    print(f"store: {folder} {counts} (ready in {time.perf_counter() - started:.1f} s)")
    store = prepare_store(url, folder, args.reload)
    how = "reused, loaded earlier" if store["reused"] else "loaded now"
    print(f"database: {url} ({how}: refresh run {store['run_id']}, {store['load_s']:.1f} s)")
    token = bearer_token(url)
    server, port = _start_server(url, args.workers)
    results: dict[str, dict[str, Any]] = {}
    try:
        sizes = _check_answers(port, token)
        print(f"server pid {server.pid} on 127.0.0.1:{port}; response sizes (bytes): {sizes}")
        for name in args.scenario or DEFAULT_SCENARIOS:
            quiet = _wait_until_quiet(args.quiet_below, args.quiet_wait)
            results[name] = run_scenario(name, port, token, server.pid, args)
            results[name]["busy_before"] = quiet
            print(f"{name}: {json.dumps(results[name])}", flush=True)
            _wait_server_idle(server.pid)
    finally:
        server.terminate()
        server.wait(15)

    print()
    print(
        f"{args.clients} concurrent clients (keep-alive, closed loop), {args.seconds:g} s per "
        f"scenario after {args.warmup:g} s of warm-up; {args.workers} uvicorn worker(s); "
        f"store of {counts['orders']:,} orders ({counts['line_items']:,} line items) in "
        f"PostgreSQL, {'reused (its load took' if store['reused'] else 'loaded in'} "
        f"{store['load_s']:,.0f} s{')' if store['reused'] else ''}; cores the machine used "
        "just before each scenario: "
        + ", ".join(f"{name} {result['busy_before']:.2f}" for name, result in results.items())
    )
    print()
    print(
        "| scenario | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors "
        "| p95 target | met | CPU cores: client / server / PostgreSQL / other |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, result in results.items():
        what, paths, _accept, target = SCENARIOS[name]
        shown = paths[0] if len(paths) == 1 else "/api/v1/tiles/{kpi}"
        clean = result["requests"] > 0 and not result["errors"]
        met = "" if target is None else "yes" if clean and result["p95"] < target else "no"
        errors = f"{result['errors']:,}"
        if result["error_kinds"]:
            errors += " (" + ", ".join(f"{k} {v:,}" for k, v in result["error_kinds"].items()) + ")"
        cores = result["cores"]
        print(
            f"| {what} `GET {shown}` | {result['requests']:,} | {result['rps']:,.0f} "
            f"| {_ms(result['p50'])} | **{_ms(result['p95'])}** | {_ms(result['p99'])} "
            f"| {_ms(result['max'])} | {errors} "
            f"| {'(reported)' if target is None else f'< {target:g} ms, no errors'} | {met} "
            f"| {cores['client']:.2f} / {cores['server']:.2f} / {cores['postgres']:.2f} "
            f"/ {cores['other']:.2f} |"
        )
    print()
    print("| machine | |\n|---|---|")
    for key, value in _machine(url).items():
        print(f"| {key} | {value} |")
    print()
    command = " ".join(["python", "benchmarks/bench_dashboard.py", *sys.argv[1:]])
    print(f"command: `{command}` (run {datetime.now().isoformat(timespec='seconds')})")


if __name__ == "__main__":
    main()
