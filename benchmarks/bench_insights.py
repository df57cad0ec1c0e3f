"""Weekly insight packet benchmark: the packet of the 1,000,000-order store, end to end.

Target (the issue): the packet for the foundation benchmark's store in under 20 s.

Method: the store of ``bench_dashboard.prepare_store`` (1,000,000 orders over 90 days,
2.5 M line items, 100,000 variants, 50,000 conversations, 2,000 landing pages, loaded by a
real refresh into PostgreSQL; reused when already loaded). Each repeat runs what
``occ insights weekly --week-ending 2026-11-22`` runs (``occ.worker.packet.make_packet``:
the daily series over the forecast fit window and the two weeks, the forecast bands, the
anomalies with their decisions, the week's sync events through the sync-log analyzer,
pipeline health, the watchpoints with days of cover for every variant, the charts, and the
three files), in a fresh process so that no import or cache is warm. Wall time and peak RSS
of that process are printed per repeat, then the median.

Run: ``python benchmarks/bench_insights.py`` (``--repeat N``; ``--orders 20000`` for a quick
check on a small store).
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dashboard import _default_url, prepare_store  # noqa: E402
from generate_store import NOW, StoreSize, cached_store  # noqa: E402

WEEK_ENDING = "2026-11-22"
_CHILD = """
import sys, time, resource
from datetime import date, datetime
from pathlib import Path
started = time.perf_counter()
from occ.config import Settings
from occ.store.engine import open_store
from occ.worker.packet import make_packet
engine = open_store(sys.argv[1])
made = make_packet(Settings(), engine, now=datetime.fromisoformat(sys.argv[2]),
                   week_ending=date.fromisoformat(sys.argv[3]), out=Path(sys.argv[4]))
elapsed = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{elapsed:.3f} {rss:.0f} {len(made.packet['headline'])}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=StoreSize().orders)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = StoreSize(orders=args.orders) if args.orders != StoreSize().orders else StoreSize()
    folder, counts = cached_store(size)
    url = _default_url(size)
    store = prepare_store(url, folder, reload=False)
    print(f"store: {counts} ({'reused' if store['reused'] else 'loaded'}, {store['load_s']:.0f} s)")
    times, peaks = [], []
    for attempt in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory(prefix="occ-bench-packet-") as out:
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", _CHILD, url, NOW.isoformat(), WEEK_ENDING, out],
                check=True,
                capture_output=True,
                text=True,
            )
            wall = time.perf_counter() - started
            inner, rss, headline = done.stdout.split()
            files = sorted(p.name for p in Path(out).iterdir())
        times.append(wall)
        peaks.append(float(rss))
        print(
            f"repeat {attempt}: {wall:.2f} s wall ({float(inner):.2f} s in the process), "
            f"peak RSS {float(rss):.0f} MB, {headline} headline sentences, {len(files)} files"
        )
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print()
    print(f"| store | packet (median of {args.repeat}) | peak RSS | target |")
    print("|---|---|---|---|")
    print(
        f"| {counts['orders']:,} orders, {counts['line_items']:,} line items, PostgreSQL "
        f"| {statistics.median(times):.2f} s | {max(peaks):.0f} MB | < 20 s |"
    )
    print(
        f"\nmachine: {platform.machine()}, Python {platform.python_version()}, "
        f"child CPU {cpu.ru_utime + cpu.ru_stime:.1f} s; "
        f"command: python benchmarks/bench_insights.py --repeat {args.repeat}"
    )


if __name__ == "__main__":
    main()
