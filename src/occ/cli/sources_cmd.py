"""``occ sources check``: can occ reach each configured upstream with its credentials?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import typer
from rich.markup import escape
from rich.table import Table

from occ.cli.shared import ConfigOption, handles_errors, http_client, out, settings_from
from occ.errors import CredentialsRejected, OccError
from occ.sources.chatwoot import chatwoot_client
from occ.sources.ga4 import ga4_client
from occ.sources.http import discard_evidence
from occ.sources.shopify import shopify_client

__all__ = ["sources_app"]

sources_app = typer.Typer(help="Upstream sources: Shopify, Chatwoot, GA4.", no_args_is_help=True)

# Exit status when a configured source is unreachable or rejects its credentials.
SOURCE_FAILED_EXIT = 4


class _Checkable(Protocol):
    def check(self) -> None: ...


def _probe(build: Callable[[], _Checkable | None]) -> tuple[str, str]:
    """Build a source's client and make one small request with it."""
    try:
        client = build()
        if client is None:
            return "○ not configured", "set its OCC_* settings (see the README)"
        client.check()
    except CredentialsRejected as exc:
        return "✖ credentials rejected", str(exc)
    except OccError as exc:
        return "✖ unreachable", str(exc)
    return "✔ reachable", ""


@sources_app.command("check")
@handles_errors
def check(config: ConfigOption = None) -> None:
    """Try each configured source with one small request: reachable, rejected, unconfigured."""
    settings = settings_from(config, None)
    with http_client(settings) as http:
        results = {
            "Shopify": _probe(lambda: shopify_client(settings, http, discard_evidence)),
            "Chatwoot": _probe(lambda: chatwoot_client(settings, http, discard_evidence)),
            "GA4": _probe(lambda: ga4_client(settings, discard_evidence)),
        }
    table = Table(title="Sources", title_justify="left")
    for column in ("Source", "Status", "Detail"):
        table.add_column(column, overflow="fold")
    for name, (status, detail) in results.items():
        table.add_row(name, status, escape(" ".join(detail.split())))
    out.print(table)
    if any(status.startswith("✖") for status, _ in results.values()):
        raise typer.Exit(SOURCE_FAILED_EXIT)
