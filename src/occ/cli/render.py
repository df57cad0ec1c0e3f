"""Rich rendering of refresh reports and KPI tiles for the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from occ.contracts.kpis import TILE_TITLES
from occ.refresh import RefreshReport

__all__ = ["SEVERITY_LABELS", "render_kpis", "render_refresh"]

# Severity is never shown by colour alone: an icon and a word go with it.
SEVERITY_LABELS = {
    "critical": "[bold red]✖ critical[/]",
    "warning": "[yellow]▲ warning[/]",
    "none": "[green]✔ ok[/]",
    "unconfigured": "[dim]○ unconfigured[/]",
}


def _money(value: Any, currency: str | None) -> str:
    return f"{float(value):,.2f} {currency or ''}".strip()


def _tile(kpi: str, entry: dict[str, Any], currency: str | None) -> tuple[str, str]:
    if entry["status"] != "ok":
        return "—", "source not recorded / not configured"
    if kpi == "sales_delta":
        delta = entry["value"]
        shown = "n/a" if delta is None else f"{delta:+.1f} %"
        detail = (
            f"last 24 h {_money(entry['current'], currency)} vs 7-day baseline "
            f"{_money(entry['baseline'], currency)}; {entry['orderCount']} orders; "
            f"{entry['pendingFulfillment']} pending fulfillment"
        )
        return shown, detail if delta is not None else f"{detail}; {entry.get('reason')}"
    if kpi == "sla_breach_rate":
        breached = len(entry["breached"])
        population = entry["population"]
        return f"{entry['value']:.1f} %", f"{breached} of {population} open/pending breached"
    if kpi == "traffic_anomalies":
        flagged = [page for page in entry["pages"] if page["severity"] != "none"]
        if not flagged:
            return f"{len(entry['pages'])} pages", "no landing page losing traffic"
        worst = flagged[0]
        return (
            f"{len(flagged)} pages",
            f"worst {worst['landingPage']} {worst['wowDelta'] * 100:+.0f} % week over week "
            f"({worst['previous']} → {worst['current']} sessions)",
        )
    if kpi == "inventory_cover":
        flagged = [v for v in entry["variants"] if v["severity"] != "none"]
        if not flagged:
            return "0 SKUs", "no SKU under its cover threshold"
        worst = flagged[0]
        return (
            f"{len(flagged)} SKUs",
            f"worst {worst['sku'] or worst['variantId']} {worst['daysOfCover']:.1f} days of cover; "
            f"reorder {worst['reorderQuantity']}",
        )
    if kpi == "unsellable_traffic":
        return _unsellable(entry)
    return (
        f"{entry['value']:.1f} %",
        f"{len(entry['issues'])} of {entry['population']} orders stuck past the processing window",
    )


def _unsellable(entry: dict[str, Any]) -> tuple[str, str]:
    pages = entry["pages"]
    if not pages:
        return "0 sessions", (
            f"no product page with traffic is out of stock or at ≤ "
            f"{entry['coverCriticalDays']:g} days of cover ({entry['productPages']} checked)"
        )
    worst = pages[0]
    skus = ", ".join(v["sku"] or v["variantId"] for v in worst["variants"][:3])
    return (
        f"{entry['sessions']:,} sessions",
        f"{_money(entry['revenueAtRisk'], entry['currency'])} at risk on {len(pages)} "
        f"page(s); worst {worst['landingPage']} ({worst['state'].replace('_', ' ')}: {skus})",
    )


def render_kpis(console: Console, document: dict[str, Any]) -> None:
    """The tiles of one KPI document (``kpis_document``) as a table, then its anomalies."""
    currency = document.get("currency")
    source = document.get("source") or {}
    table = Table(
        title=f"{document['shop']} — as of {document['now']} ({source.get('kind', '?')} data)",
        title_justify="left",
    )
    table.add_column("Tile")
    table.add_column("Value", justify="right")
    table.add_column("Severity")
    table.add_column("Detail", overflow="fold")
    for kpi, label in TILE_TITLES.items():
        entry = document["kpis"][kpi]
        value, detail = _tile(kpi, entry, currency)
        severity = entry["severity"] if entry["status"] == "ok" else "unconfigured"
        table.add_row(label, escape(value), SEVERITY_LABELS[severity], escape(detail))
    console.print(table)
    anomalies = document.get("anomalies", [])
    if anomalies:
        console.print(f"[bold]{len(anomalies)} anomalies[/]")
        for anomaly in anomalies[:15]:
            console.print(f"  {SEVERITY_LABELS[anomaly['severity']]}  {escape(anomaly['message'])}")
        if len(anomalies) > 15:
            console.print(f"  … and {len(anomalies) - 15} more (occ kpis --json)")


def render_refresh(console: Console, report: RefreshReport) -> None:
    """Per-stream counts, every quarantined record with its location, and drift findings."""
    table = Table(title="Sources", title_justify="left")
    for column in ("Stream", "Read", "Stored", "Quarantined", "Drift"):
        table.add_column(column, justify="left" if column == "Stream" else "right")
    for name, stream in report.streams.items():
        if not stream.recorded:
            table.add_row(name, "[dim]not recorded[/]", "", "", "")
            continue
        table.add_row(
            name,
            str(stream.read),
            str(stream.stored),
            str(len(stream.quarantined)),
            str(sum(stream.drift.values())),
        )
    console.print(table)
    for stream in report.streams.values():
        for item in stream.quarantined:
            console.print(f"[red]quarantined[/] {escape(item.location)}: {escape(item.reason)}")
        for observation, count in stream.drift.items():
            console.print(
                f"[yellow]drift[/] {stream.stream} {observation.field}: "
                f"{escape(observation.detail)}"
                f" ({observation.kind}, {count}×)"
            )
