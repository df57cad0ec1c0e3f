"""One mirrored table's parity: its spec, its shape on each side, bisection, row comparison.

A segment is every key with the same prefix (text ids) or the same ``id / width`` (integer
ids), so the first level is one ``GROUP BY`` per side, and each further level one more,
restricted to the segments that differed. ``ParityStats`` counts segments and fetched rows.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from occ.ops.parity_hash import Kind, canonical_value
from occ.ops.parity_report import GroupCount, ParityStats, TableParity
from occ.ops.parity_sql import Column, MirrorTableMissing, ParityUnavailable, Side, Spread

__all__ = ["DECISIONS", "FACTS", "TableCheck", "TableSpec"]

T = TypeVar("T")
_MAX_PREFIX = 64  # text keys are never split finer than this many characters
_MAX_FIRST_SEGMENTS = 65_536
_BATCH_ROWS = 50_000  # rows fetched per query at row level, at most (estimated)
_SYNC_HINT = "run `occ decisions sync` first"


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One mirrored table: where it lives on each side and what is compared."""

    name: str
    primary_table: str
    mirror_table: str
    group: str  # counted per value of this column
    columns: tuple[tuple[str, Kind], ...]  # compared, besides the key ``id``
    legacy: Mapping[str, str] = field(default_factory=dict)  # column → its legacy mirror name
    any_differing_fails: bool = False


DECISIONS = TableSpec(
    name="decisions",
    primary_table="decision_log",
    mirror_table="decision_log",
    group="scope",
    columns=(
        ("scope", "text"),
        ("actor", "text"),
        ("action", "text"),
        ("rationale", "text"),
        ("evidence_url", "text"),
        ("shop_domain", "text"),
        ("external_ref", "text"),
        ("payload", "json"),
        ("created_at", "timestamp"),
    ),
    legacy={"actor": "who", "action": "what", "rationale": "why", "external_ref": "sha"},
    any_differing_fails=True,
)
FACTS = TableSpec(
    name="facts",
    primary_table="dashboard_fact",
    mirror_table="facts",
    group="fact_type",
    columns=(
        ("shop_domain", "text"),
        ("fact_type", "text"),
        ("scope", "text"),
        ("value", "json"),
        ("metadata", "json"),
        ("evidence_url", "text"),
        ("created_at", "timestamp"),
        ("updated_at", "timestamp"),
    ),
)


class TableCheck:
    """Parity of one table; building it reads both sides' columns (fails fast)."""

    def __init__(
        self, spec: TableSpec, primary: Side, mirror: Side, segment_rows: int, fetch_rows: int
    ) -> None:
        self.spec, self.primary, self.mirror = spec, primary, mirror
        self.segment_rows, self.fetch_rows = max(1, segment_rows), max(1, fetch_rows)
        self.spread: Spread = (
            "postgres"
            if primary.postgres and mirror.postgres
            else "sqlite"
            if not primary.postgres and not mirror.postgres
            else "mixed"
        )
        self._shape()
        self.missing: set[str] = set()
        self.extra: set[str] = set()
        self.differing: set[str] = set()
        self.to_compare: list[tuple[int, object, int]] = []  # resolution, bucket, rows
        self.one_sided: list[tuple[bool, int, object, int]] = []  # on primary?, …
        self.levels = self.segments = self.fetched = 0

    def _shape(self) -> None:
        spec = self.spec
        primary_columns = self.primary.columns(spec.primary_table)
        if primary_columns is None:
            raise ParityUnavailable(
                f"the primary {self.primary.shown_url} has no table {spec.primary_table}; "
                "run any occ command on it to migrate it"
            )
        mirror_columns = self.mirror.columns(spec.mirror_table)
        if mirror_columns is None:
            raise MirrorTableMissing(
                f"the mirror {self.mirror.shown_url} has no table {spec.mirror_table}; "
                + _SYNC_HINT
            )
        if "id" not in mirror_columns:
            raise MirrorTableMissing(
                f"the mirror table {spec.mirror_table} has no id column; " + _SYNC_HINT
            )
        self.key_p = Column("id", "id", "text", primary_columns["id"])
        self.key_m = Column("id", "id", "text", mirror_columns["id"])
        self.integer_keys = self.key_p.physical == "int"
        self.legacy = False
        pairs: list[tuple[Column, Column]] = []
        for name, kind in spec.columns:
            mirror_name = name if name in mirror_columns else spec.legacy.get(name, "")
            if name not in primary_columns or mirror_name not in mirror_columns:
                continue
            self.legacy = self.legacy or mirror_name != name
            pairs.append(
                (
                    Column(name, name, kind, primary_columns[name]),
                    Column(name, mirror_name, kind, mirror_columns[mirror_name]),
                )
            )
        self.columns_p = [pair[0] for pair in pairs]
        self.columns_m = [pair[1] for pair in pairs]
        self.group_p = Column(spec.group, spec.group, "text", primary_columns[spec.group])
        self.group_m = (
            Column(spec.group, spec.group, "text", mirror_columns[spec.group])
            if spec.group in mirror_columns
            else None
        )

    def _pairs(self) -> list[tuple[Column, Column]]:
        return list(zip(self.columns_p, self.columns_m, strict=True))

    def _both(self, on_primary: Callable[[], T], on_mirror: Callable[[], Any]) -> tuple[T, Any]:
        # Two SQLite sides run one after the other: their row hash is a Python callback, and
        # two threads handing the GIL back and forth per row are slower than one.
        if self.spread == "sqlite":
            return on_primary(), on_mirror()
        with ThreadPoolExecutor(max_workers=1) as pool:
            mirror_future = pool.submit(on_mirror)
            return on_primary(), mirror_future.result()

    def run(self, threshold_pct: float) -> TableParity:
        """Count, bisect, compare rows, and judge against ``threshold_pct``.

        Raises:
            ParityUnavailable: a database failed a query.
        """
        started = time.perf_counter()
        spec, primary, mirror = self.spec, self.primary, self.mirror
        queries_before = primary.queries + mirror.queries
        (counts_p, largest_p), (counts_m, largest_m) = self._both(
            lambda: primary.counts(spec.primary_table, self.group_p, self.key_p, self.integer_keys),
            lambda: mirror.counts(spec.mirror_table, self.group_m, self.key_m, self.integer_keys),
        )
        total_p, total_m = sum(counts_p.values()), sum(counts_m.values())
        if total_p or total_m:
            self._bisect(max(total_p, total_m), max(largest_p, largest_m))
            self._compare_rows()
        notes: list[str] = []
        if self.group_m is None:
            counts_m = self._derived_mirror_counts(counts_p)
            notes.append(
                f"the mirror has no {spec.group} column (legacy shape): its per-{spec.group} "
                "counts are derived from the primary's rows that it holds"
            )
        if self.legacy:
            renamed = [f"{p.name}={m.name}" for p, m in self._pairs() if p.name != m.name]
            notes.append(f"legacy mirror columns compared as {', '.join(renamed)}")
        groups = tuple(
            GroupCount(
                None if key is None else str(key), counts_p.get(key, 0), counts_m.get(key, 0)
            )
            for key in sorted(set(counts_p) | set(counts_m), key=lambda k: (k is None, str(k)))
        )
        within = all(abs(group.diff_pct) <= threshold_pct for group in groups)
        if spec.any_differing_fails:
            within = within and not self.differing
        else:
            within = within and 100.0 * len(self.differing) / max(total_p, 1) <= threshold_pct
        stats = ParityStats(
            levels=self.levels,
            segments_compared=self.segments,
            rows_fetched=self.fetched,
            queries=primary.queries + mirror.queries - queries_before,
            seconds=time.perf_counter() - started,
        )
        return TableParity(
            name=spec.name,
            primary_table=spec.primary_table,
            mirror_table=spec.mirror_table,
            group_column=spec.group,
            compared_columns=tuple(
                f"{p.name}={m.name}" if p.name != m.name else p.name for p, m in self._pairs()
            ),
            primary_count=total_p,
            mirror_count=total_m,
            by_group=groups,
            missing_on_mirror=tuple(sorted(self.missing)),
            extra_on_mirror=tuple(sorted(self.extra)),
            differing=tuple(sorted(self.differing)),
            within_threshold=within,
            stats=stats,
            notes=tuple(notes),
        )

    # --- segments ----------------------------------------------------------------------------

    def _first_resolution(self, rows: int, largest_key: int) -> int:
        if not self.integer_keys:
            # keys sharing a prefix (dec-000001 …) are split after it, not one level per character
            bounds_p, bounds_m = self._both(
                partial(self.primary.key_bounds, self.spec.primary_table, self.key_p),
                partial(self.mirror.key_bounds, self.spec.mirror_table, self.key_m),
            )
            shared = len(os.path.commonprefix([*bounds_p, *bounds_m]))
            return min(_MAX_PREFIX, shared + min(4, _hex_digits(rows, self.segment_rows)))
        wanted = min(max(1, math.ceil(rows / self.segment_rows)), _MAX_FIRST_SEGMENTS)
        width = (max(largest_key, 0) + 1) / wanted
        return 1 if width <= 1 else int(16 ** _hex_digits(width, 1))

    def _finer(self, resolution: int, biggest: int) -> int | None:
        step = _hex_digits(biggest, self.segment_rows)
        if self.integer_keys:
            return None if resolution <= 1 else max(1, resolution // 16**step)
        return None if resolution >= _MAX_PREFIX else min(_MAX_PREFIX, resolution + step)

    def _bisect(self, rows: int, largest_key: int) -> None:
        primary, mirror, integer = self.primary, self.mirror, self.integer_keys
        checksum_p = primary.fingerprint_sum(
            self.key_p, self.columns_p, self.columns_m, self.spread
        )
        checksum_m = mirror.fingerprint_sum(self.key_m, self.columns_m, self.columns_p, self.spread)
        resolution = self._first_resolution(rows, largest_key)
        where_p: tuple[str, dict[str, Any]] = ("", {})
        where_m: tuple[str, dict[str, Any]] = ("", {})
        while True:
            sums_p, sums_m = self._both(
                partial(
                    primary.segment_sums,
                    self.spec.primary_table,
                    primary.bucket(self.key_p, integer, resolution),
                    checksum_p,
                    *where_p,
                ),
                partial(
                    mirror.segment_sums,
                    self.spec.mirror_table,
                    mirror.bucket(self.key_m, integer, resolution),
                    checksum_m,
                    *where_m,
                ),
            )
            self.levels += 1
            buckets = set(sums_p) | set(sums_m)
            self.segments += len(buckets)
            finer_needed: list[tuple[object, int]] = []
            for bucket in buckets:
                on_primary, on_mirror = sums_p.get(bucket), sums_m.get(bucket)
                if on_primary == on_mirror:
                    continue
                if on_primary is None or on_mirror is None:
                    rows_here = (on_primary or on_mirror or (0, 0))[0]
                    self.one_sided.append((on_mirror is None, resolution, bucket, rows_here))
                    continue
                biggest = max(on_primary[0], on_mirror[0])
                if biggest <= self.fetch_rows:
                    self.to_compare.append((resolution, bucket, biggest))
                else:
                    finer_needed.append((bucket, biggest))
            if not finer_needed:
                return
            finer = self._finer(resolution, max(rows for _, rows in finer_needed))
            if finer is None:
                self.to_compare.extend((resolution, b, n) for b, n in finer_needed)
                return
            parents = [bucket for bucket, _ in finer_needed]
            where_p = primary.within(
                self.spec.primary_table, self.key_p, integer, resolution, parents
            )
            where_m = mirror.within(
                self.spec.mirror_table, self.key_m, integer, resolution, parents
            )
            resolution = finer

    # --- rows --------------------------------------------------------------------------------

    def _compare_rows(self) -> None:
        primary, mirror, integer = self.primary, self.mirror, self.integer_keys
        kinds = [column.kind for column in self.columns_p]
        for resolution, buckets in _batches(self.to_compare):
            rows_p, rows_m = self._both(
                partial(
                    primary.rows,
                    self.spec.primary_table,
                    self.key_p,
                    self.columns_p,
                    *primary.within(
                        self.spec.primary_table, self.key_p, integer, resolution, buckets
                    ),
                ),
                partial(
                    mirror.rows,
                    self.spec.mirror_table,
                    self.key_m,
                    self.columns_m,
                    *mirror.within(
                        self.spec.mirror_table, self.key_m, integer, resolution, buckets
                    ),
                ),
            )
            self.fetched += len(rows_p) + len(rows_m)
            canonical_p = _canonical_rows(rows_p, kinds)
            canonical_m = _canonical_rows(rows_m, kinds)
            self.missing.update(canonical_p.keys() - canonical_m.keys())
            self.extra.update(canonical_m.keys() - canonical_p.keys())
            self.differing.update(
                key
                for key in canonical_p.keys() & canonical_m.keys()
                if canonical_p[key] != canonical_m[key]
            )
        for on_primary in (True, False):
            side, key, table = (
                (primary, self.key_p, self.spec.primary_table)
                if on_primary
                else (mirror, self.key_m, self.spec.mirror_table)
            )
            found = self.missing if on_primary else self.extra
            entries = ((r, b, n) for p, r, b, n in self.one_sided if p == on_primary)
            for resolution, buckets in _batches(entries):
                keys = side.rows(
                    table, key, [], *side.within(table, key, integer, resolution, buckets)
                )
                self.fetched += len(keys)
                found.update(str(row[0]) for row in keys)

    def _derived_mirror_counts(self, counts_p: dict[object, int]) -> dict[object, int]:
        missing = self.primary.group_counts_of(
            self.spec.primary_table, self.group_p, self.key_p, sorted(self.missing)
        )
        derived = {group: count - missing.get(group, 0) for group, count in counts_p.items()}
        if self.extra:
            derived[None] = len(self.extra)
        return derived


def _hex_digits(rows: float, per_segment: int) -> int:
    """Hex digits of key space that split ``rows`` into segments of about ``per_segment``."""
    return max(1, math.ceil(math.log(max(rows / per_segment, 1.0), 16) - 1e-9))


def _batches(
    entries: Iterable[tuple[int, object, int]],
) -> Iterable[tuple[int, list[object]]]:
    """Buckets grouped by resolution, in batches of about ``_BATCH_ROWS`` rows."""
    by_resolution: dict[int, list[tuple[object, int]]] = {}
    for resolution, bucket, rows in entries:
        by_resolution.setdefault(resolution, []).append((bucket, rows))
    for resolution, buckets in by_resolution.items():
        batch: list[object] = []
        batch_rows = 0
        for bucket, rows in buckets:
            if batch and batch_rows + rows > _BATCH_ROWS:
                yield resolution, batch
                batch, batch_rows = [], 0
            batch.append(bucket)
            batch_rows += rows
        if batch:
            yield resolution, batch


def _canonical_rows(
    rows: list[tuple[Any, ...]], kinds: list[Kind]
) -> dict[str, tuple[str | None, ...]]:
    return {
        str(row[0]): tuple(
            canonical_value(kind, value) for kind, value in zip(kinds, row[1:], strict=True)
        )
        for row in rows
    }
