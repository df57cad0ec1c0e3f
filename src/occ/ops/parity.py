"""Parity between the primary store and its mirror: counts, and the rows missing or differing.

For each mirrored table (decisions → ``decision_log``, facts → ``facts``) parity reports the
row counts per scope / fact type with their delta, and, row by row, the ids missing on the
mirror, the ids only on the mirror and the ids whose content differs. It finds those rows the
way data-diff does, without reading every row into Python (``parity_table``):

1. both databases checksum their rows per segment of the key space, in SQL (``parity_sql``);
2. segments whose count and checksum agree are equal and dropped;
3. differing segments are split finer and checksummed again, until they hold few rows;
4. only the rows of those segments are fetched and compared in canonical form (``parity_hash``).

Usage (a worker storing the result as a fact does the same)::

    mirror = open_mirror(settings.mirror_url.get_secret_value())
    result = check_parity(primary, mirror, threshold_pct=settings.parity_threshold_pct)
    result.ok, result.as_dict()
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import Engine

from occ.ops.parity_report import GroupCount, ParityResult, ParityStats, TableParity
from occ.ops.parity_sql import (
    MirrorTableMissing,
    MirrorUnreachable,
    ParityUnavailable,
    Side,
    open_mirror,
)
from occ.ops.parity_table import DECISIONS, FACTS, TableCheck, TableSpec

__all__ = [
    "DECISIONS",
    "FACTS",
    "GroupCount",
    "MirrorTableMissing",
    "MirrorUnreachable",
    "ParityResult",
    "ParityStats",
    "ParityUnavailable",
    "TableParity",
    "TableSpec",
    "check_parity",
    "open_mirror",
]


def check_parity(
    primary: Engine,
    mirror: Engine,
    *,
    threshold_pct: float = 1.0,
    segment_rows: int = 256,
    fetch_rows: int = 1024,
    specs: Iterable[TableSpec] = (DECISIONS, FACTS),
) -> ParityResult:
    """Compare the primary store with its mirror, table by table.

    Args:
        primary: the primary store (migrated).
        mirror: the mirror database (``open_mirror``).
        threshold_pct: largest count difference, in %, tolerated per scope / fact type.
        segment_rows: rows a segment should hold on average when the key space is split.
        fetch_rows: a differing segment of at most this many rows is compared row by row.
        specs: the tables to compare.

    Raises:
        MirrorTableMissing: the mirror lacks a table or its ``id`` column.
        ParityUnavailable: a database failed a query (MirrorUnreachable for the mirror).
    """
    started = time.perf_counter()
    primary_side, mirror_side = Side(primary, "primary"), Side(mirror, "mirror")
    checks = [
        TableCheck(spec, primary_side, mirror_side, segment_rows, fetch_rows) for spec in specs
    ]
    tables = tuple(check.run(threshold_pct) for check in checks)
    return ParityResult(
        primary_url=primary_side.shown_url,
        mirror_url=mirror_side.shown_url,
        mirror_shape="legacy" if any(check.legacy for check in checks) else "current",
        threshold_pct=threshold_pct,
        tables=tables,
        seconds=time.perf_counter() - started,
    )
