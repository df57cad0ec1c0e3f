"""Writing a packet: ``index.html``, ``packet.md`` with its PNG charts, ``packet.json``.

Each file is written under a temporary name in the folder and renamed into place, charts
first and ``index.html`` last, so a reader (the dashboard, a mail job) never sees half a file
and a folder holding ``index.html`` holds everything it shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from occ.contracts.secrets import mask
from occ.errors import InputFileError
from occ.insights.charts import Chart, anomaly_chart, failure_chart, trend_chart
from occ.insights.render import KPI_TITLES, render_html, render_markdown
from occ.store.files import replaced_atomically

__all__ = ["PACKET_FACT_TYPE", "PacketFiles", "packet_charts", "write_packet"]

PACKET_FACT_TYPE = "insights.weekly.packet"
"""The fact recording each packet written: its week, folder and headline."""


@dataclass(frozen=True, slots=True)
class PacketFiles:
    folder: Path
    html: Path
    markdown: Path
    json: Path
    charts: tuple[Path, ...]


def packet_charts(packet: dict[str, Any]) -> dict[str, Chart]:
    """Every chart the packet shows, keyed by file stem."""
    charts: dict[str, Chart] = {}
    for trend in packet["trends"].values():
        if trend["status"] == "ok":
            chart = trend_chart(trend)
            charts[chart.name] = chart
    review = packet["anomalies"]
    if review["total"]:
        charts["anomalies"] = anomaly_chart(review["counts"], KPI_TITLES)
    sync = packet["sync"]
    if sync["status"] == "ok" and sync["hourlyBuckets"]:
        charts["sync-hourly"] = failure_chart(sync["hourlyBuckets"])
    return charts


def _write(path: Path, data: bytes) -> None:
    with replaced_atomically(path, binary=True) as handle:
        handle.write(data)


def write_packet(
    packet: dict[str, Any], folder: Path, step: Callable[[str], None] | None = None
) -> PacketFiles:
    """Draw the charts and write the packet's files into ``folder`` (created if needed).

    Raises:
        InputFileError: ``folder`` cannot be created or written.
    """
    say = step or (lambda _: None)
    say("drawing charts")
    charts = packet_charts(packet)
    say("writing files")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for chart in charts.values():
            path = folder / f"{chart.name}.png"
            _write(path, chart.png)
            written.append(path)
        # Masked like every output: a credential that reached a message or a name is not
        # published in a packet.
        document = json.dumps(packet, indent=2, ensure_ascii=False) + "\n"
        _write(folder / "packet.json", mask(document).encode("utf-8"))
        _write(folder / "packet.md", mask(render_markdown(packet, charts)).encode("utf-8"))
        _write(folder / "index.html", mask(render_html(packet, charts)).encode("utf-8"))
    except OSError as exc:
        raise InputFileError(
            f"cannot write the packet to {folder} ({exc.strerror or exc}); pass --out with a "
            "folder you can write"
        ) from None
    return PacketFiles(
        folder,
        folder / "index.html",
        folder / "packet.md",
        folder / "packet.json",
        tuple(written),
    )
