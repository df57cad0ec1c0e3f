"""The six tile KPIs as pure functions: records + ``now`` + config → KPI results.

Layer rule: this package imports only the standard library and ``occ.contracts``; it never
reads a clock (``now``/``today`` are arguments). Semantics: ../shared/KPIS.md, and the README
for unsellable traffic.
"""

from occ.metrics.fulfillment import compute_fulfillment_issues
from occ.metrics.inventory import compute_inventory_cover
from occ.metrics.sales import compute_sales_delta
from occ.metrics.sla import compute_sla_breaches
from occ.metrics.traffic import compute_traffic_anomalies
from occ.metrics.unsellable import compute_unsellable_traffic

__all__ = [
    "compute_fulfillment_issues",
    "compute_inventory_cover",
    "compute_sales_delta",
    "compute_sla_breaches",
    "compute_traffic_anomalies",
    "compute_unsellable_traffic",
]
