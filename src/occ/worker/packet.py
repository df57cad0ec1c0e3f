"""The weekly insight packet, composed: store sections + the week's sync-log summary + parity.

``make_packet`` is what ``occ insights weekly`` and the worker's ``insights`` job run: it
analyses the week's sync events with ``occ.ops`` (the same summary as ``occ analyze
sync-log``), reads the newest parity fact of the week, has ``occ.insights`` build and write
the packet, and records a ``insights.weekly.packet`` fact so the dashboard can find it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Table, desc, func, select

from occ.config import Settings
from occ.decisions.events import export_events
from occ.errors import ConfigError, NotFoundError
from occ.insights import (
    PACKET_FACT_TYPE,
    PacketFiles,
    WeekWindow,
    build_packet,
    default_week_ending,
    write_packet,
)
from occ.insights.packet import SyncTargets
from occ.insights.window import iso_utc
from occ.ops.sync_log import analyze_sync_log
from occ.store.facts import write_fact
from occ.store.runs import resolve_shop
from occ.store.tables import DashboardFact, RefreshRun
from occ.worker.health import PARITY_FACT_TYPE
from occ.worker.notebook import write_notebook
from occ.worker.registry import JobContext, JobSkipped, Schedule, register_job

__all__ = ["MadePacket", "compose_packet", "due_week", "insights_job", "make_packet"]

_FACTS = cast(Table, DashboardFact.__table__)
_RUNS = cast(Table, RefreshRun.__table__)


@dataclass(frozen=True, slots=True)
class MadePacket:
    window: WeekWindow
    files: PacketFiles
    packet: dict[str, Any]
    fact_id: int


def _sync_summary(
    connection: Connection, window: WeekWindow, settings: Settings
) -> dict[str, Any] | None:
    with tempfile.TemporaryDirectory(prefix="occ-packet-") as folder:
        path = Path(folder) / "sync-events.ndjson"
        if not export_events(connection, window.opens, path, kind=None, until=window.closes):
            return None
        return analyze_sync_log(
            path,
            failure_rate_alert=settings.sync_failure_rate_alert,
            p95_ms_alert=settings.sync_p95_ms_alert,
            generated_at=window.closes,  # not the wall clock: the packet is reproducible
            source=f"sync events {iso_utc(window.opens)} – {iso_utc(window.closes)}",
            seconds_below=None,
        )


def _parity(connection: Connection, window: WeekWindow) -> dict[str, Any] | None:
    row = connection.execute(
        select(_FACTS.c.value, _FACTS.c.created_at)
        .where((_FACTS.c.fact_type == PARITY_FACT_TYPE) & (_FACTS.c.created_at <= window.closes))
        .order_by(desc(_FACTS.c.created_at), desc(_FACTS.c.id))
        .limit(1)
    ).first()
    if row is None:
        return None
    value = row.value or {}
    tables = value.get("tables", {})
    parts = [
        f"{name} {t.get('primary', '?')} on the primary, {t.get('mirror', '?')} on the mirror"
        for name, t in sorted(tables.items())
    ]
    verdict = "ok" if value.get("ok") else "FAILED"
    return {
        "checkedAt": iso_utc(row.created_at),
        "ok": bool(value.get("ok")),
        "summary": f"{verdict} — " + "; ".join(parts) if parts else verdict,
        "tables": {
            name: {k: t.get(k) for k in ("primary", "mirror", "delta", "diffPct")}
            for name, t in sorted(tables.items())
        },
    }


def _data_until(connection: Connection, shop: str) -> datetime | None:
    newest: datetime | None = connection.execute(
        select(func.max(_RUNS.c.as_of)).where(
            (_RUNS.c.shop_domain == shop) & _RUNS.c.finished_at.is_not(None)
        )
    ).scalar()
    return newest


def compose_packet(
    settings: Settings,
    engine: Engine,
    *,
    now: datetime,
    week_ending: date | None = None,
    shop: str | None = None,
    step: Callable[[str], None] | None = None,
) -> tuple[WeekWindow, dict[str, Any]]:
    """The packet document of the week ending ``week_ending`` (default: last Sunday).

    Raises:
        NotFoundError: nothing was refreshed yet, or ``shop`` is not in the store.
        ConfigError: the week has not begun yet.
    """
    with engine.connect() as connection:
        info = resolve_shop(connection, shop, settings.shop_domain)
        ending = week_ending or default_week_ending(now, info.timezone)
        window = WeekWindow(ending, info.timezone)
        if window.opens >= now:
            raise ConfigError(
                f"the week ending {ending} has not begun yet; pick a --week-ending up to "
                f"{now.astimezone(window.zone).date() + timedelta(days=6)}"
            )
        say = step or (lambda _: None)
        say("sync events of the week")
        summary = _sync_summary(connection, window, settings)
        packet = build_packet(
            connection,
            info,
            window,
            settings.kpis,
            settings.forecast,
            sync_summary=summary,
            parity=_parity(connection, window),
            sync_targets=SyncTargets(settings.sync_failure_rate_alert, settings.sync_p95_ms_alert),
            data_until=_data_until(connection, info.domain),
            step=say,
        )
    return window, packet


def make_packet(
    settings: Settings,
    engine: Engine,
    *,
    now: datetime,
    week_ending: date | None = None,
    out: Path | None = None,
    shop: str | None = None,
    notebook: bool = False,
    step: Callable[[str], None] | None = None,
) -> MadePacket:
    """Build and write the packet (``compose_packet``), and record it as a fact.

    ``notebook`` also writes ``packet.ipynb``, which recomputes the packet from the database.

    Raises:
        NotFoundError: nothing was refreshed yet, or ``shop`` is not in the store.
        ConfigError: the week has not begun yet, or ``notebook`` without nbformat.
        InputFileError: the output folder cannot be written.
    """
    say = step or (lambda _: None)
    window, packet = compose_packet(
        settings, engine, now=now, week_ending=week_ending, shop=shop, step=say
    )
    ending = window.ending
    domain = packet["shop"]["domain"]
    folder = out if out is not None else settings.resolved_packets_dir() / ending.isoformat()
    files = write_packet(packet, folder, say)
    if notebook:
        write_notebook(folder / "packet.ipynb", domain, ending, iso_utc(now))
    with engine.begin() as connection:
        fact_id = write_fact(
            connection,
            shop=domain,
            fact_type=PACKET_FACT_TYPE,
            scope="ops",
            value={
                "weekEnding": ending.isoformat(),
                "weekStart": window.start.isoformat(),
                "folder": str(files.folder.resolve()),
                "headline": [item["sentence"] for item in packet["headline"]],
                "anomalies": packet["anomalies"]["total"],
                "watchpoints": len(packet["watchpoints"]["items"]),
            },
            metadata={"generatedAt": iso_utc(now)},
            now=now,
        )
    return MadePacket(window, files, packet, fact_id)


def due_week(now: datetime, timezone: str, weekday: int, hour: int) -> date:
    """The newest week (ending on a Sunday) whose packet time (``weekday`` at ``hour``, local,
    in the week after it) has come by ``now``."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    ending = default_week_ending(now, timezone)
    due = datetime.combine(ending + timedelta(days=weekday), time(hour), tzinfo=zone)
    return ending if local >= due else ending - timedelta(days=7)


def insights_job(context: JobContext) -> str:
    """Write last week's packet once its time has come (Monday 06:00, shop time, by default).

    The job runs hourly and writes a packet only when the due week's folder has none, so a
    worker that was down at 06:00 catches up at its next run.
    """
    settings = context.settings
    now = context.now()
    with context.primary.connect() as connection:
        try:
            info = resolve_shop(connection, None, settings.shop_domain)
        except NotFoundError as exc:
            raise JobSkipped(str(exc)) from None
    ending = due_week(now, info.timezone, settings.insights_weekday, settings.insights_hour)
    folder = settings.resolved_packets_dir() / ending.isoformat()
    if (folder / "index.html").exists():
        raise JobSkipped(f"the packet of the week ending {ending} is written ({folder})")
    made = make_packet(settings, context.primary, now=now, week_ending=ending, out=folder)
    return f"packet of the week ending {ending} written to {made.files.folder}"


register_job(
    "insights",
    insights_job,
    lambda settings: Schedule(cron="5 * * * *"),
    description="last week's insight packet, once its day and hour have come (shop time)",
)
