"""``occ incidents``: the anomalies of the newest refresh that share a cause across sources."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from occ.cli.render import SEVERITY_LABELS
from occ.cli.shared import ConfigOption, DbOption, handles_errors, open_engine, out, settings_from
from occ.contracts.incidents import INCIDENT_KIND_LABELS
from occ.refresh.incidents import incidents_document

__all__ = ["incidents", "render_incidents"]

KIND_LABELS = {kind: label.lower() for kind, label in INCIDENT_KIND_LABELS.items()}


@handles_errors
def incidents(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    shop: Annotated[str | None, typer.Option(help="Shop domain (default: newest)")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Cross-source incidents of the newest refresh: the anomalies that share a cause, the
    evidence of each link, and the likely causes ranked by the share each explains."""
    engine = open_engine(settings_from(config, db))
    try:
        with engine.connect() as connection:
            document = incidents_document(connection, shop)
    finally:
        engine.dispose()
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        render_incidents(out, document)


def render_incidents(console: Console, document: dict[str, Any]) -> None:
    found = document["incidents"]
    console.print(
        f"[bold]{escape(document['shop'])}[/] — refresh {document['runId']} as of "
        f"{document['now']}: {len(found)} incident(s) among "
        f"{document['anomaliesConsidered']} anomalies"
    )
    if not found:
        console.print("No incident: no anomaly of this refresh shares a cause across sources.")
    for incident in found:
        kinds = ", ".join(KIND_LABELS.get(k, k) for k in incident["kinds"])
        console.print()
        console.print(
            f"{SEVERITY_LABELS[incident['severity']]} [bold]{escape(incident['title'])}[/] "
            f"[dim]({incident['id']}; {kinds}; since {incident['started_at'] or 'unknown'})[/]"
        )
        top = incident["causes"][0]
        console.print(f"  Likely cause: [bold]{escape(top['cause'])}[/] — {escape(top['reason'])}")
        causes = Table("rank", "cause", "share", "why", title="Likely causes", title_justify="left")
        for rank, cause in enumerate(incident["causes"], start=1):
            causes.add_row(
                str(rank),
                escape(cause["cause"]),
                f"{cause['share'] * 100:.0f} %",
                escape(cause["reason"]),
            )
        console.print(causes)
        anomalies = Table("fact", "KPI", "severity", "anomaly", title="Anomalies")
        anomalies.title_justify = "left"
        for anomaly in incident["anomalies"]:
            anomalies.add_row(
                str(anomaly["fact_id"]),
                anomaly["kpi"],
                SEVERITY_LABELS[anomaly["severity"]],
                escape(anomaly["message"]),
            )
        console.print(anomalies)
        console.print("  [bold]Evidence of each link[/]")
        for link in incident["links"]:
            source, target = link["sources"]
            console.print(
                f"  • [dim]{source} → {target} by {link['kind']}[/] {escape(link['evidence'])}"
            )
