"""What a parity check found, as immutable values with a JSON form (``as_dict``).

The JSON form is what ``occ parity --json`` prints and what a worker stores as a fact; it
holds ids and counts, and URLs only with their password masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["GroupCount", "ParityResult", "ParityStats", "TableParity"]

_GROUP_FIELDS = {"scope": "byScope", "fact_type": "byFactType"}


def _diff_pct(primary: int, mirror: int) -> float:
    """``mirror - primary`` as a percentage of ``primary`` (100 when only the mirror has rows)."""
    if primary == 0:
        return 0.0 if mirror == 0 else 100.0
    return 100.0 * (mirror - primary) / primary


@dataclass(frozen=True, slots=True)
class GroupCount:
    """Rows of one scope / fact type on each side (key None: rows only the mirror holds)."""

    key: str | None
    primary: int
    mirror: int

    @property
    def delta(self) -> int:
        return self.mirror - self.primary

    @property
    def diff_pct(self) -> float:
        return _diff_pct(self.primary, self.mirror)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "primary": self.primary,
            "mirror": self.mirror,
            "delta": self.delta,
            "diffPct": round(self.diff_pct, 4),
        }


@dataclass(frozen=True, slots=True)
class ParityStats:
    """How much work finding the differences took (bisection at work: few rows fetched)."""

    levels: int  # rounds of segment checksums
    segments_compared: int  # segments whose count and checksum were compared
    rows_fetched: int  # rows read for row-level comparison, both sides together
    queries: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "levels": self.levels,
            "segmentsCompared": self.segments_compared,
            "rowsFetched": self.rows_fetched,
            "queries": self.queries,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class TableParity:
    """Parity of one mirrored table."""

    name: str  # decisions | facts
    primary_table: str
    mirror_table: str
    group_column: str
    compared_columns: tuple[str, ...]  # "actor=who" where the mirror's name differs
    primary_count: int
    mirror_count: int
    by_group: tuple[GroupCount, ...]
    missing_on_mirror: tuple[str, ...]
    extra_on_mirror: tuple[str, ...]
    differing: tuple[str, ...]
    within_threshold: bool
    stats: ParityStats
    notes: tuple[str, ...] = ()

    @property
    def delta(self) -> int:
        return self.mirror_count - self.primary_count

    def as_dict(self) -> dict[str, Any]:
        return {
            "primaryTable": self.primary_table,
            "mirrorTable": self.mirror_table,
            "comparedColumns": list(self.compared_columns),
            "primaryCount": self.primary_count,
            "mirrorCount": self.mirror_count,
            "delta": self.delta,
            "diffPct": round(_diff_pct(self.primary_count, self.mirror_count), 4),
            _GROUP_FIELDS.get(self.group_column, "byGroup"): [g.as_dict() for g in self.by_group],
            "missingOnMirror": list(self.missing_on_mirror),
            "extraOnMirror": list(self.extra_on_mirror),
            "differing": list(self.differing),
            "withinThreshold": self.within_threshold,
            "stats": self.stats.as_dict(),
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class ParityResult:
    """Parity of every mirrored table; ``ok`` when each is within the threshold."""

    primary_url: str  # password masked
    mirror_url: str  # password masked
    mirror_shape: Literal["current", "legacy"]
    threshold_pct: float
    tables: tuple[TableParity, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(table.within_threshold for table in self.tables)

    def table(self, name: str) -> TableParity:
        """The parity of table ``name`` (decisions, facts)."""
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "thresholdPct": self.threshold_pct,
            "primary": self.primary_url,
            "mirror": self.mirror_url,
            "mirrorShape": self.mirror_shape,
            "tables": {table.name: table.as_dict() for table in self.tables},
            "seconds": round(self.seconds, 3),
        }
