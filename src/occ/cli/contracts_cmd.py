"""``occ contracts check | diff | drift``: occ's contracts against upstream schemas, and drift.

Every command prints the findings as Schema Drift Alert blocks (Markdown), or as JSON with
``--json``, and writes both with ``--out DIR``. Exit status: 0 when no finding is P0 or P1,
1 when at least one is (:data:`FINDINGS_EXIT_CODE`), 2 on bad input (a missing or unreadable
file, a file that is not a schema, a bad option), other non-zero codes as ``occ`` documents
(3 store, 4 upstream).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from occ.cli.shared import (
    ConfigOption,
    DbOption,
    err,
    handles_errors,
    http_client,
    open_engine,
    parse_now,
    settings_from,
)
from occ.config import Settings
from occ.errors import ConfigError
from occ.ops.contract_check import (
    Introspect,
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
from occ.ops.schema_diff import IMPACTS, Finding, diff_schemas, needs_attention
from occ.ops.schema_files import load_openapi, load_schema, version_label
from occ.sources.shopify import shopify_client
from occ.store.runs import list_drift, newest_shop

__all__ = ["FINDINGS_EXIT_CODE", "contracts_app"]

FINDINGS_EXIT_CODE = 1
_EXIT_HELP = "Exit status: 0 no P0/P1 finding, 1 P0/P1 findings, 2 bad input."

contracts_app = typer.Typer(
    name="contracts",
    help="Check occ's queries and contracts against upstream schemas and report schema drift. "
    + _EXIT_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the JSON report instead")]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Also write report.md and report.json into DIR")
]
NowOption = Annotated[
    str | None,
    typer.Option("--now", help="The detection instant, ISO-8601 (default: the current UTC time)"),
]
MinImpactOption = Annotated[
    str,
    typer.Option(
        "--min-impact", help="Report only findings at least this severe: P0, P1 or P2 (all)"
    ),
]


def _emit(
    findings: list[Finding],
    *,
    command: str,
    checked_at: datetime,
    as_json: bool,
    out: Path | None,
    min_rank: int,
    **context: Any,
) -> None:
    """Print (and with ``--out`` write) the report; exit 1 when anything is P0 or P1."""
    findings = [f for f in findings if IMPACTS.index(f.impact) <= min_rank]
    markdown = render_markdown(findings, checked_at=checked_at)
    document = report_document(findings, command=command, checked_at=checked_at, **context)
    if out is not None:
        markdown_path, json_path = write_report(out, markdown, document)
        err.print(f"wrote {markdown_path} and {json_path}", highlight=False, soft_wrap=True)
    sys.stdout.write(json.dumps(document, indent=2) + "\n" if as_json else markdown)
    counts = ", ".join(f"{document['summary'][impact]} {impact}" for impact in IMPACTS)
    err.print(f"{len(findings)} finding(s): {counts}", highlight=False)
    if needs_attention(findings):
        raise typer.Exit(FINDINGS_EXIT_CODE)


def _impact_rank(value: str) -> int:
    if value.upper() not in IMPACTS:
        raise ConfigError(f"--min-impact {value!r} is not a severity; use P0, P1 or P2")
    return IMPACTS.index(value.upper())


@contracts_app.command()
@handles_errors
def check(
    shopify_schema: Annotated[
        Path | None,
        typer.Option(
            "--shopify-schema", help="Shopify Admin introspection (.json, .json.gz) or SDL file"
        ),
    ] = None,
    chatwoot_openapi: Annotated[
        Path | None, typer.Option("--chatwoot-openapi", help="Chatwoot's OpenAPI document")
    ] = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    min_impact: MinImpactOption = "P2",
    now: NowOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Validate occ's requests and expected response fields against upstream schemas.

    With files, checks against them; without, introspects the live shop (OCC_SHOPIFY_SHOP, at
    the configured API version) and keeps the schema as this run's snapshot for `occ
    contracts drift`. Exit status: 0 no P0/P1 finding, 1 P0/P1 findings, 2 bad input.
    """
    moment, rank = parse_now(now), _impact_rank(min_impact)
    findings: list[Finding] = []
    checked: list[str] = []
    if shopify_schema is not None:
        schema = load_schema(shopify_schema)
        source = f"Shopify Admin API {version_label(shopify_schema)} ({shopify_schema.name})"
        findings += check_shopify_schema(schema, source=source, detected_at=moment)
        checked.append(str(shopify_schema))
    if chatwoot_openapi is not None:
        document = load_openapi(chatwoot_openapi)
        source = f"Chatwoot REST API ({chatwoot_openapi.name})"
        findings += check_chatwoot_openapi(document, source=source, detected_at=moment)
        checked.append(str(chatwoot_openapi))
    if not checked:
        settings = settings_from(config, db)
        findings += _check_live(settings, moment)
        checked.append(f"live shop {settings.shopify_shop} ({settings.shopify_api_version})")
    findings.sort(key=lambda finding: finding.impact)
    _emit(
        findings,
        command="check",
        checked_at=moment,
        as_json=as_json,
        out=out,
        min_rank=rank,
        checked=checked,
    )


def _check_live(settings: Settings, moment: datetime) -> list[Finding]:
    if not settings.shopify_shop:
        raise ConfigError(
            "nothing to check: pass --shopify-schema FILE and/or --chatwoot-openapi FILE, or set "
            "OCC_SHOPIFY_SHOP (with its credentials) to introspect the live shop"
        )
    with http_client(settings) as http:
        introspect = live_introspection(settings, http)
        engine = open_engine(settings)
        try:
            with engine.begin() as connection:
                return check_live_shopify(
                    introspect,
                    connection,
                    api_version=settings.shopify_api_version,
                    detected_at=moment,
                    shop=settings.shopify_shop,
                )
        finally:
            engine.dispose()


def live_introspection(settings: Settings, http: httpx.Client) -> Introspect:
    """The configured shop's introspection call (:meth:`ShopifyClient.introspect`)."""
    client = shopify_client(settings, http)
    if client is None:
        raise ConfigError(
            "OCC_SHOPIFY_SHOP is set but no credentials: set OCC_SHOPIFY_ACCESS_TOKEN, or "
            "OCC_SHOPIFY_CLIENT_ID and OCC_SHOPIFY_CLIENT_SECRET"
        )
    return client.introspect


@contracts_app.command()
@handles_errors
def diff(
    old: Annotated[Path, typer.Argument(help="The schema occ runs against now (.json, .json.gz)")],
    new: Annotated[Path, typer.Argument(help="The schema to move to (.json, .json.gz)")],
    as_json: JsonOption = False,
    out: OutOption = None,
    min_impact: MinImpactOption = "P2",
    now: NowOption = None,
) -> None:
    """Compare two Shopify schema versions: the changes that reach occ's queries and KPIs.

    Each change is classified as GraphQL Inspector does (breaking / dangerous / safe) and
    mapped to P0 (occ's query or KPI breaks), P1 (a KPI may misread), P2 (informational).
    Exit status: 0 no P0/P1 finding, 1 P0/P1 findings, 2 bad input.
    """
    moment, rank = parse_now(now), _impact_rank(min_impact)
    old_schema, new_schema = load_schema(old), load_schema(new)
    source = f"Shopify Admin API {version_label(old)} → {version_label(new)}"
    findings = diff_schemas(old_schema, new_schema, source=source, detected_at=moment)
    _emit(
        findings,
        command="diff",
        checked_at=moment,
        as_json=as_json,
        out=out,
        min_rank=rank,
        old=str(old),
        new=str(new),
    )


@contracts_app.command()
@handles_errors
def drift(
    shop: Annotated[str | None, typer.Option(help="Shop domain (default: newest)")] = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    min_impact: MinImpactOption = "P2",
    now: NowOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Show drift the refreshes observed in data, and the schema change since the last check.

    Observed drift is one finding per (source, field, change) with first/last seen and count;
    with two or more live schema snapshots (`occ contracts check`), the last two are compared.
    Exit status: 0 no P0/P1 finding, 1 P0/P1 findings, 2 bad input.
    """
    moment, rank = parse_now(now), _impact_rank(min_impact)
    engine = open_engine(settings_from(config, db))
    try:
        with engine.connect() as connection:
            if shop is None:
                shop = newest_shop(connection)
            rows = list_drift(connection, shop) if shop is not None else []
            findings = observed_findings(rows) + snapshot_findings(connection)
    finally:
        engine.dispose()
    findings.sort(key=lambda finding: finding.impact)
    _emit(
        findings,
        command="drift",
        checked_at=moment,
        as_json=as_json,
        out=out,
        min_rank=rank,
        shop=shop,
    )
