"""The packet's charts, drawn with matplotlib (object API, no pyplot state: safe in a worker).

Readable in print and without colour: this week is a solid line with round markers, the
week before a dashed line with square markers, the forecast band a hatched area, a
threshold a dash-dotted line, and days outside the band carry a cross; the colours are the
Okabe–Ito palette, distinguishable with the common colour-vision deficiencies. Each chart is
rendered as SVG (inline in ``index.html``) and PNG (beside ``packet.md``); the SVG carries
no date and fixed ids, so the same numbers draw the same file.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: never a GUI backend
from matplotlib import rcParams  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["Chart", "anomaly_chart", "failure_chart", "trend_chart"]

BLUE, ORANGE, VERMILLION, GREY, SKY = "#0072B2", "#E69F00", "#D55E00", "#555555", "#56B4E9"
_SIZE = (7.2, 3.0)
_DPI = 110

rcParams["svg.hashsalt"] = "occ-insights"  # stable element ids
rcParams["svg.fonttype"] = "path"  # text drawn as paths: same look in every viewer
rcParams["font.size"] = 9


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart: its file stem, its alternative text, and the two renderings."""

    name: str
    alt: str
    svg: str
    png: bytes


def _render(figure: Figure, name: str, alt: str) -> Chart:
    FigureCanvasAgg(figure)
    svg = io.StringIO()
    figure.savefig(svg, format="svg", metadata={"Date": None}, bbox_inches="tight")
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=_DPI, metadata={"Software": None}, bbox_inches="tight")
    text = svg.getvalue()
    # Inline in HTML: no XML prolog, no RDF metadata block (namespace URIs, not resources).
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text[text.index("<svg") :], flags=re.S)
    return Chart(name, alt, text, png.getvalue())


def _figure() -> tuple[Figure, Any]:
    figure = Figure(figsize=_SIZE, layout="constrained")
    axes = figure.add_subplot()
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def trend_chart(trend: dict[str, Any]) -> Chart:
    """The week's daily values against the week before, the forecast band and a threshold."""
    days = trend["days"]
    labels = [date.fromisoformat(d["date"]).strftime("%a %d") for d in days]
    x = list(range(len(days)))
    figure, axes = _figure()
    lower = [d["lower"] for d in days]
    upper = [d["upper"] for d in days]
    if all(v is not None for v in lower + upper):
        axes.fill_between(
            x,
            lower,
            upper,
            facecolor=to_rgba(SKY, 0.22),
            hatch="///",
            edgecolor=to_rgba(BLUE, 0.45),  # the hatch's colour: visible in grey print
            linewidth=0,
            label=f"forecast band ({trend['forecast']['level']} %)",
        )
        axes.plot(
            x,
            [d["forecast"] for d in days],
            color=SKY,
            linestyle=":",
            linewidth=1.4,
            label="forecast",
        )
    previous = [d["previous"] for d in days]
    if any(v is not None for v in previous):
        axes.plot(
            x,
            [float("nan") if v is None else v for v in previous],
            color=GREY,
            linestyle="--",
            marker="s",
            markersize=4,
            linewidth=1.2,
            label="week before",
        )
    values = [float("nan") if d["value"] is None else d["value"] for d in days]
    axes.plot(
        x,
        [float("nan") if d["partial"] else v for d, v in zip(days, values, strict=True)],
        color=BLUE,
        marker="o",
        markersize=5,
        linewidth=2,
        label="this week",
    )
    partial = [i for i, d in enumerate(days) if d["partial"]]
    if partial:
        start = max(partial[0] - 1, 0)
        axes.plot(
            x[start:],
            values[start:],
            color=BLUE,
            linestyle=":",
            marker="o",
            markerfacecolor="white",
            markevery=[i - start for i in partial],
            markersize=5,
            linewidth=1.5,
            label="partial day",
        )
    outside = [(i, d["value"]) for i, d in enumerate(days) if d["outsideBand"]]
    if outside:
        axes.scatter(
            [i for i, _ in outside],
            [v for _, v in outside],
            marker="X",
            s=90,
            color=VERMILLION,
            zorder=5,
            label="outside the band",
        )
    threshold = trend.get("threshold")
    if threshold and threshold["direction"] == "above":
        axes.axhline(
            threshold["warning"],
            color=ORANGE,
            linestyle="-.",
            linewidth=1.2,
            label=f"warning {threshold['warning']:g} %",
        )
    axes.set_xticks(x, labels)
    axes.set_ylabel(trend["unit"])
    axes.set_ylim(bottom=0)
    axes.set_title(trend["title"], loc="left", fontsize=10, fontweight="bold")
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    alt = (
        f"{trend['title']}: daily values of the week ending {trend['window']['ending']} "
        "against the week before and the forecast band"
    )
    return _render(figure, f"trend-{trend['kpi']}", alt)


def anomaly_chart(counts: dict[str, dict[str, int]], titles: dict[str, str]) -> Chart:
    """Anomalies of the week by KPI, warning and critical side by side (hatched apart)."""
    figure, axes = _figure()
    kpis = list(counts)
    y = list(range(len(kpis)))
    warning = [counts[k]["warning"] for k in kpis]
    critical = [counts[k]["critical"] for k in kpis]
    height = 0.38
    bars_w = axes.barh(
        [i - height / 2 for i in y],
        warning,
        height,
        color=ORANGE,
        hatch="..",
        edgecolor="black",
        label="warning",
    )
    bars_c = axes.barh(
        [i + height / 2 for i in y],
        critical,
        height,
        color=VERMILLION,
        hatch="//",
        edgecolor="black",
        label="critical",
    )
    axes.bar_label(bars_w, padding=2, fontsize=7)
    axes.bar_label(bars_c, padding=2, fontsize=7)
    axes.set_yticks(y, [titles.get(k, k) for k in kpis])
    axes.invert_yaxis()
    axes.grid(axis="y", visible=False)
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.set_xlabel("anomalies first detected in the week")
    axes.set_title("Anomalies by KPI and severity", loc="left", fontsize=10, fontweight="bold")
    axes.legend(fontsize=7, frameon=False)
    return _render(figure, "anomalies", "Anomalies of the week by KPI and severity")


def failure_chart(hourly: list[dict[str, Any]]) -> Chart:
    """Sync attempts per hour: failures (hatched) stacked on successes."""
    figure, axes = _figure()
    x = list(range(len(hourly)))
    success = [h["success"] for h in hourly]
    failure = [h["failure"] for h in hourly]
    axes.bar(x, success, color=SKY, edgecolor=BLUE, linewidth=0.3, label="succeeded")
    axes.bar(
        x,
        failure,
        bottom=success,
        color=VERMILLION,
        hatch="xx",
        edgecolor="black",
        linewidth=0.3,
        label="failed",
    )
    step = max(1, len(hourly) // 8)
    axes.set_xticks(x[::step], [h["hour"][5:13].replace("T", " ") + "h" for h in hourly][::step])
    axes.set_ylabel("sync attempts")
    axes.set_title(
        "Decision sync: attempts per hour (UTC)", loc="left", fontsize=10, fontweight="bold"
    )
    axes.legend(fontsize=7, frameon=False)
    return _render(figure, "sync-hourly", "Sync attempts per hour, failures hatched")
