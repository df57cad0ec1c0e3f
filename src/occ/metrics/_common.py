"""Constants and small helpers shared by the KPI modules (no I/O, no clock)."""

from __future__ import annotations

from datetime import timedelta

from occ.contracts.kpis import SEVERITY_ORDER, Severity

__all__ = [
    "DAY",
    "NOT_REQUIRED",
    "SETTLED_STATUSES",
    "ZERO",
    "rate_pct",
    "worst_first",
]

DAY = timedelta(days=1)
ZERO = timedelta(0)

# Fulfillment statuses that need no more work on an order that needed fulfillment.
SETTLED_STATUSES = frozenset({"FULFILLED", "RESTOCKED"})
NOT_REQUIRED = "FULFILLMENT_NOT_REQUIRED"


def rate_pct(count: int, population: int) -> float:
    """``count / population * 100``, 0.0 for an empty population.

    Computed as ``count * 100 / population`` so a rate that is exactly a threshold
    (e.g. 1 of 10 → 10.0) is one correctly rounded division, never 10.000000000000002.
    """
    if population <= 0:
        return 0.0
    return count * 100 / population


def worst_first(severity: Severity) -> int:
    """Sort key putting critical before warning before none."""
    return -SEVERITY_ORDER[severity]
