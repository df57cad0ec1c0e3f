"""``occ alerts backtest``: what a threshold setting would have raised, week by week."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from occ.anomalies.replay import WeekCount
from occ.cli.shared import (
    ConfigOption,
    DbOption,
    handles_errors,
    open_engine,
    out,
    progress,
    settings_from,
)
from occ.refresh.replay import REPLAYABLE, backtest_query, run_backtest

__all__ = ["alerts_app"]

alerts_app = typer.Typer(
    help="Alert rules: preview a threshold before changing it.", no_args_is_help=True
)


@alerts_app.command("backtest")
@handles_errors
def backtest(
    kpi: Annotated[str, typer.Option("--kpi", help=" | ".join(REPLAYABLE))],
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, shop time)")],
    end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD, shop time)")],
    warning: Annotated[float | None, typer.Option(help="Proposed warning threshold")] = None,
    critical: Annotated[float | None, typer.Option(help="Proposed critical threshold")] = None,
    profile: Annotated[
        str | None, typer.Option(help="current | sensitive (x0.75) | quiet (x1.5)")
    ] = None,
    band: Annotated[
        bool, typer.Option("--band/--no-band", help="Also replay the forecast band (slower)")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    shop: Annotated[str | None, typer.Option(help="Shop domain (default: newest)")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Replay the threshold and forecast-band rules over stored history and count, per week,
    the warnings and criticals a setting would have raised, beside the current setting."""
    settings = settings_from(config, db)
    query = backtest_query(
        kpi,
        start,
        end,
        settings.kpis,
        warning=warning,
        critical=critical,
        profile=profile,
        flag="--",
    )
    engine = open_engine(settings)
    try:
        with progress() as step:
            result = run_backtest(engine, query, settings, shop=shop, band=band, step=step)
    finally:
        engine.dispose()
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict(), indent=2) + "\n")
        return
    _print(kpi, query.label, result.proposed, result.current)


def _print(kpi: str, label: str, proposed: list[WeekCount], current: list[WeekCount]) -> None:
    table = Table(title=f"{kpi}: {label} against the current thresholds", title_justify="left")
    for column in (
        "Week of",
        "Days",
        "Warnings",
        "Criticals",
        "Now: warnings",
        "Now: criticals",
        "Outside band",
    ):
        table.add_column(column, justify="right")
    for p, c in zip(proposed, current, strict=True):
        table.add_row(
            p.week_start.isoformat(),
            str(p.days),
            str(p.warnings),
            str(p.criticals),
            str(c.warnings),
            str(c.criticals),
            "—" if p.outside_band is None else str(p.outside_band),
        )
    out.print(table)
