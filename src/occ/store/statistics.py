"""Planner statistics after a bulk load.

PostgreSQL plans from statistics that autovacuum gathers only after the loading transaction
committed, and only once its naptime comes round: a refresh that has just written a large
first load would run its KPI queries (and the dashboard its first pages) on the estimates of
empty tables, and could pick a nested-loop plan that is quadratic in the orders. ``ANALYZE``
inside the refresh's transaction samples the rows it has just written (about 30,000 per
table, so it costs a fraction of a second however large the table is). SQLite needs none:
without ``sqlite_stat1`` its planner keeps its fixed heuristics, which suit occ's queries.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection

__all__ = ["analyze_tables"]


def analyze_tables(connection: Connection, tables: Iterable[str]) -> list[str]:
    """Gather planner statistics for ``tables`` on PostgreSQL; returns the tables analyzed."""
    if connection.dialect.name != "postgresql":
        return []
    quote = connection.dialect.identifier_preparer.quote
    analyzed = sorted(set(tables))
    for table in analyzed:
        connection.exec_driver_sql(f"ANALYZE {quote(table)}")
    return analyzed
