"""The packet in Markdown (charts as PNG files beside it) and as one self-contained HTML file.

Both read only the packet document and its charts, with the same wording helpers, so the two
say the same thing. Nothing here reads a clock.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from occ.contracts.outcomes import OUTCOME_LABELS
from occ.insights.charts import Chart

__all__ = ["KPI_TITLES", "fmt", "render_html", "render_markdown"]

KPI_TITLES = {
    "sales_delta": "Sales",
    "sla_breach_rate": "SLA breach rate",
    "traffic_anomalies": "Landing-page traffic",
    "inventory_cover": "Inventory days of cover",
    "fulfillment_issue_rate": "Fulfillment issue rate",
    "unsellable_traffic": "Unsellable traffic",
    "sync": "Decision sync",
}


def fmt(value: Any, unit: str = "", digits: int = 2) -> str:
    """A number for a reader: thousands separated, its unit, "—" when there is none."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        text = f"{value:,.{digits}f}"
    else:
        text = str(value)
    if unit == "%":
        return f"{text} %"
    return f"{text} {unit}".strip()


def pct(value: float | None) -> str:
    """A fraction as a percentage."""
    return "—" if value is None else f"{value * 100:.2f} %"


def _window_line(section: dict[str, Any]) -> str:
    window = section.get("window", {})
    if "opensUtc" in window:
        span = f"{window['opensUtc']} – {window['closesUtc']}"
    else:
        span = f"{window.get('previousStart', window.get('start'))} – {window.get('ending')}"
    sources = section.get("dataSources") or section.get("sources") or []
    return f"_Data window: {span}. Sources: {', '.join(sources)}._"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def versus_band(day: dict[str, Any]) -> str:
    """Where a day stands against the forecast band, in words."""
    if day["partial"]:
        return "partial day"
    if day["lower"] is None or day["value"] is None:
        return "—"
    return {"above": "above ▲", "below": "below ▼"}.get(day["outsideBand"] or "", "inside")


def _trend_md(trend: dict[str, Any], chart: Chart | None) -> list[str]:
    lines = [f"### {trend['title']}", ""]
    window = trend["window"]
    lines.append(
        f"_Data window: {window['previousStart']} – {window['ending']} (the week and the week "
        f"before). Sources: {', '.join(trend['sources'])}._"
    )
    lines.append("")
    if trend["status"] != "ok":
        return [*lines, f"**No data:** {trend['reason']}.", ""]
    if chart is not None:
        lines += [f"![{chart.alt}]({chart.name}.png)", ""]
    unit = trend["unit"]
    rows = [
        [
            f"{d['weekday']} {d['date']}",
            fmt(d["value"], unit),
            fmt(d["previous"], unit),
            fmt(d["forecast"], unit),
            "—" if d["lower"] is None else f"{fmt(d['lower'])} – {fmt(d['upper'])}",
            versus_band(d),
        ]
        for d in trend["days"]
    ]
    lines += _table(["Day", "This week", "Week before", "Forecast", "Band", "vs band"], rows)
    week = trend["week"]
    word = "total" if trend["aggregate"] == "total" else "mean"
    change = "" if week["changePct"] is None else f" ({week['changePct']:+.2f} %)"
    lines += [
        "",
        f"Week {word}: {fmt(week['value'], unit)} against {fmt(week['previous'], unit)} the "
        f"week before{change}.",
    ]
    forecast = trend["forecast"]
    if forecast["status"] == "ok":
        lines.append(
            f"Forecast: {forecast['method']}, {forecast['level']} % band, fitted on "
            f"{forecast['fitStart']} – {forecast['fitEnd']}; {week['daysOutsideBand']} of 7 "
            "days outside the band."
        )
    else:
        lines.append(f"Forecast: none ({forecast['reason']}).")
    lines += ["", "Assumptions:", *[f"- {a}" for a in trend["assumptions"]], ""]
    return lines


def render_markdown(packet: dict[str, Any], charts: dict[str, Chart]) -> str:
    """``packet.md``: the narrative, its tables, and links to the PNG charts."""
    week, shop = packet["week"], packet["shop"]
    lines = [
        f"# Weekly insight packet — {shop['domain']}",
        "",
        f"Week {week['start']} to {week['ending']} ({shop['timezone']}; amounts in "
        f"{shop['currency']}).",
    ]
    if "incomplete" in week:
        lines.append(f"**Note:** {week['incomplete']}.")
    lines += ["", "## Headline", ""]
    if packet["headline"]:
        lines += [f"- {item['sentence']}" for item in packet["headline"]]
    else:
        lines.append("No movement could be measured: no KPI had data for the week.")

    lines += ["", "## KPI trends", ""]
    for kpi, trend in packet["trends"].items():
        lines += _trend_md(trend, charts.get(f"trend-{kpi}"))

    review = packet["anomalies"]
    lines += ["## Anomalies", "", _window_line(review), ""]
    if "anomalies" in charts and review["total"]:
        lines += [f"![{charts['anomalies'].alt}](anomalies.png)", ""]
    lines += _table(
        ["KPI", "Warning", "Critical"],
        [
            [KPI_TITLES.get(kpi, kpi), str(c["warning"]), str(c["critical"])]
            for kpi, c in review["counts"].items()
        ],
    )
    rate = review["responseRate"]
    lines += [
        "",
        f"Anomaly response rate: {pct(rate['rate'])} ({rate['answeredWithinHours']} of "
        f"{rate['counted']} answered within {rate['windowHours']} h; {rate['pending']} still "
        "inside their 24 h at the week's end).",
        "",
    ]
    if review["items"]:
        lines += _table(
            ["Detected (UTC)", "KPI", "Severity", "Anomaly", "Acted on", "Response"],
            [
                [
                    item["detectedAt"],
                    KPI_TITLES.get(item["kpi"], item["kpi"]),
                    item["severity"],
                    item["message"],
                    f"{item['decision']['action']} by {item['decision']['actor']}"
                    if item["decision"]
                    else ("pending" if item["pending"] else "no"),
                    "—"
                    if item["responseMinutes"] is None
                    else f"{item['responseMinutes']:,.1f} min",
                ]
                for item in review["items"]
            ],
        )
    else:
        lines.append(f"**No data:** {review['note']}.")

    lines += ["", *_outcomes_md(packet["outcomes"])]

    sync = packet["sync"]
    lines += ["", "## Decision sync health", "", _window_line(sync), ""]
    if sync["status"] != "ok":
        lines.append(f"**No data:** {sync['reason']}.")
    else:
        lines += _sync_md(sync, charts.get("sync-hourly"))
    parity = sync["parity"]
    if parity.get("status") == "missing":
        lines += ["", f"Parity: **no data** — {parity['reason']}."]
    else:
        lines += ["", f"Parity (checked {parity['checkedAt']}): {parity['summary']}."]

    pipeline = packet["pipeline"]
    lines += ["", "## Pipeline health", "", _window_line(pipeline), ""]
    if "note" in pipeline:
        lines.append(f"**No data:** {pipeline['note']}.")
    else:
        lines += _table(
            [
                "Source",
                "Requests",
                "Error rate",
                "Throttled",
                "Records stored",
                "Contract violations",
                "Drift findings",
            ],
            [
                [
                    s["source"],
                    fmt(s["requests"]),
                    pct(s["errorRate"]),
                    fmt(s["throttled"]),
                    fmt(s["recordsStored"]),
                    fmt(s["contractViolations"]),
                    fmt(len(s["driftFindings"])),
                ]
                for s in pipeline["sources"]
            ],
        )
        runs = pipeline["runs"]
        lines += ["", f"Refresh runs in the week: {runs['count']} ({runs['notOk']} not ok)."]
    lines += ["", *[f"- {note}" for note in pipeline["notes"]]]

    lines += ["", "## Watchpoints for next week", ""]
    items = packet["watchpoints"]["items"]
    if items:
        lines += [f"- {item['text']}" for item in items]
    else:
        lines.append(
            "Nothing to watch: no KPI is trending towards its threshold, no forecast "
            "crosses one, no drift finding is open and no SKU runs out within 14 days."
        )
    return "\n".join(lines) + "\n"


OUTCOME_WORDS = {outcome: label.lower() for outcome, label in OUTCOME_LABELS.items()}


def _outcomes_md(section: dict[str, Any]) -> list[str]:
    lines = ["## Did it work?", "", _window_line(section), ""]
    if not section["items"]:
        return [*lines, f"**No data:** {section['note']}."]
    lines += _table(
        ["Kind of action", "Checked", "Worked", "Did not work", "Not enough data", "Share worked"],
        [
            [
                row["title"],
                fmt(row["checked"]),
                fmt(row["worked"]),
                fmt(row["didNotWork"]),
                fmt(row["notEnoughData"]),
                pct(row["share"]),
            ]
            for row in section["byKind"]
        ],
    )
    lines += [
        "",
        "Share worked = worked / (worked + did not work); an action checked without enough "
        "data is neither.",
        "",
    ]
    lines += _table(
        ["Checked as of (UTC)", "Action", "Decided (UTC)", "Outcome", "Why"],
        [
            [
                item["checkedAt"],
                f"{item['kind']} {item['entity'] or ''}".strip(),
                item["decidedAt"],
                OUTCOME_WORDS.get(item["outcome"], item["outcome"]),
                item["reason"],
            ]
            for item in section["items"]
        ],
    )
    return lines


def _sync_md(sync: dict[str, Any], chart: Chart | None) -> list[str]:
    totals, durations = sync["totals"], sync["durationsMs"]
    ok = {True: "within", False: "**above**", None: "—"}
    lines = [
        f"- Records: {fmt(totals['records'])} ({fmt(totals['success'])} succeeded, "
        f"{fmt(totals['failure'])} failed, {fmt(totals['unknown'])} unknown).",
        f"- Failure rate: {pct(totals['failureRate'])}, {ok[sync['failureRateOk']]} the "
        f"{sync['failureRateTarget'] * 100:g} % target.",
        f"- Duration: p50 {fmt(durations['p50'], 'ms')}, p95 {fmt(durations['p95'], 'ms')} "
        f"({ok[sync['p95Ok']]} the {sync['p95CeilingMs']:,.0f} ms ceiling; nearest rank).",
    ]
    retries = sync["retries"]
    if retries["distribution"]:
        spread = ", ".join(
            f"{r['retries']} retries × {r['count']:,}" for r in retries["distribution"]
        )
        lines.append(f"- Retry distribution: {spread}.")
    if sync["errors"]:
        codes = ", ".join(
            f"{e['code']} {e['count']:,} ({e['percentage']} %)" for e in sync["errors"]
        )
        lines.append(f"- Errors by code: {codes}.")
    else:
        lines.append("- Errors by code: none.")
    if chart is not None:
        lines += ["", f"![{chart.alt}]({chart.name}.png)"]
    return lines


_ENV = Environment(
    loader=PackageLoader("occ.insights", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.globals.update(
    fmt=fmt, pct=pct, titles=KPI_TITLES, versus_band=versus_band, outcome_words=OUTCOME_WORDS
)


def render_html(packet: dict[str, Any], charts: dict[str, Chart]) -> str:
    """``index.html``: one file, charts inline as SVG, no request to anything when opened."""
    return _ENV.get_template("packet.html.j2").render(packet=packet, charts=charts)
