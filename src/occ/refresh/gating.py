"""Stale-data gating: a KPI whose source looks broken raises no anomaly, and says why.

A KPI is gated when one of its streams (``KPI_STREAMS``):

- broke its data contract in this refresh for more than ``stale_violation_rate`` of the
  records read (a connector sending garbage must not read as "sales fell 100 %"), or
- has no record newer than ``stale_after_hours`` of its source before the refresh instant
  (orders by creation, Chatwoot messages by creation, GA4 by day; a source that stopped
  syncing).

The KPI is still computed and recorded, with ``gate`` holding the reason; its anomalies
(thresholds and forecast band) are not raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from occ.config import Settings
from occ.metrics.series import day_end
from occ.refresh.compute import KPI_STREAMS
from occ.refresh.ingest import StreamReport
from occ.store.records import ShopInfo, newest_records

__all__ = ["kpi_gates"]

_SOURCE_NAMES = {"shopify": "Shopify", "chatwoot": "Chatwoot", "ga4": "GA4"}


def _age_text(hours: float) -> str:
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} h"


def stream_gates(
    connection: Connection,
    shop: ShopInfo,
    now: datetime,
    streams: Mapping[str, StreamReport],
    violation_rate: float,
    after_hours: Mapping[str, float],
) -> dict[str, str]:
    """The reason each gated stream is not trusted, by stream."""
    reasons: dict[str, str] = {}
    for name, report in streams.items():
        if report.read and len(report.quarantined) / report.read > violation_rate:
            share = len(report.quarantined) / report.read * 100
            reasons[name] = (
                f"{share:.1f} % of the {report.read:,} {name} records of this refresh broke the "
                f"data contract (above {violation_rate * 100:g} %)"
            )
    newest = newest_records(connection, shop.domain, now)
    zone = ZoneInfo(shop.timezone)
    for name, moment in newest.items():
        if name in reasons or moment is None:
            continue
        source = name.partition(".")[0]
        limit = after_hours.get(source)
        if limit is None:
            continue
        instant = moment if isinstance(moment, datetime) else day_end(moment, zone)
        age = (now - instant).total_seconds() / 3600
        if age > limit:
            reasons[name] = (
                f"the newest {_SOURCE_NAMES.get(source, source)} record ({name}) is "
                f"{_age_text(age)} old, more than the {limit:g} h expected: the source may "
                "have stopped syncing"
            )
    return reasons


def kpi_gates(
    connection: Connection,
    shop: ShopInfo,
    now: datetime,
    streams: Mapping[str, StreamReport],
    settings: Settings,
) -> dict[str, str]:
    """The reason each gated KPI raises no anomaly, by KPI."""
    by_stream = stream_gates(
        connection,
        shop,
        now,
        streams,
        settings.stale_violation_rate,
        settings.stale_after_hours,
    )
    gates = {}
    for kpi, needed in KPI_STREAMS.items():
        reasons = [by_stream[s] for s in needed if s in by_stream]
        if reasons:
            gates[kpi] = "; ".join(reasons)
    return gates
