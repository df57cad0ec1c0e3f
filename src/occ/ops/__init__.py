"""Operations on occ's upstream contracts: schema diffs, contract checks, drift reports.

A jobs-layer package: it may import ``occ.store``, ``occ.sources``, ``occ.contracts``,
``occ.config`` and ``occ.errors``, never ``occ.cli``.
"""

from occ.ops.contract_check import (
    check_chatwoot_openapi,
    check_live_shopify,
    check_shopify_schema,
)
from occ.ops.drift_report import (
    observed_findings,
    render_markdown,
    report_document,
    snapshot_findings,
    write_report,
)
from occ.ops.schema_diff import Finding, Impact, diff_schemas, needs_attention
from occ.ops.schema_files import load_introspection, load_openapi, load_schema
from occ.ops.schema_usage import Affected, SchemaUsage, schema_usage

__all__ = [
    "Affected",
    "Finding",
    "Impact",
    "SchemaUsage",
    "check_chatwoot_openapi",
    "check_live_shopify",
    "check_shopify_schema",
    "diff_schemas",
    "load_introspection",
    "load_openapi",
    "load_schema",
    "needs_attention",
    "observed_findings",
    "render_markdown",
    "report_document",
    "schema_usage",
    "snapshot_findings",
    "write_report",
]
