"""``occ alerts backtest``: what a threshold setting would have raised, week by week."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from occ.anomalies.replay import WeekCount, replay, scaled
from occ.cli.shared import (
    ConfigOption,
    DbOption,
    handles_errors,
    open_engine,
    out,
    progress,
    settings_from,
)
from occ.contracts.kpis import ThresholdProfile
from occ.errors import ConfigError
from occ.refresh.compute import KPI_CONFIG_KEYS
from occ.refresh.replay import NOT_REPLAYABLE, REPLAYABLE, band_days, kpi_history
from occ.store.runs import resolve_shop

__all__ = ["alerts_app"]

alerts_app = typer.Typer(
    help="Alert rules: preview a threshold before changing it.", no_args_is_help=True
)
PROFILES = {"current": 1.0, "sensitive": 0.75, "quiet": 1.5}


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option} {value!r} is not a date; use YYYY-MM-DD") from None


def _proposed(
    current: ThresholdProfile, warning: float | None, critical: float | None, profile: str | None
) -> tuple[str, ThresholdProfile]:
    if profile is not None and (warning is not None or critical is not None):
        raise ConfigError("give either --warning/--critical or --profile, not both")
    if profile is not None:
        if profile not in PROFILES:
            raise ConfigError(f"unknown --profile {profile!r}; use {', '.join(PROFILES)}")
        return profile, scaled(current, PROFILES[profile])
    if warning is None and critical is None:
        return "current", current
    proposed = current.model_copy(
        update={
            "warning": current.warning if warning is None else warning,
            "critical": current.critical if critical is None else critical,
        }
    )
    return f"warning {proposed.warning:g}, critical {proposed.critical:g}", proposed


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
    first, last = _date(start, "--from"), _date(end, "--to")
    if last < first:
        raise ConfigError(f"--to {last} is before --from {first}")
    if (last - first).days > 366:
        raise ConfigError("replay at most a year at a time; narrow --from/--to")
    settings = settings_from(config, db)
    if kpi not in REPLAYABLE:
        raise ConfigError(
            (
                f"{kpi} cannot be replayed ({NOT_REPLAYABLE[kpi]})"
                if kpi in NOT_REPLAYABLE
                else f"unknown --kpi {kpi!r}"
            )
            + f"; use one of {', '.join(REPLAYABLE)}"
        )
    current = getattr(settings.kpis, KPI_CONFIG_KEYS[kpi]).thresholds
    label, proposed = _proposed(current, warning, critical, profile)
    engine = open_engine(settings)
    try:
        with engine.connect() as connection, progress() as step:
            info = resolve_shop(connection, shop)
            step("reading history")
            observations, series = kpi_history(
                connection, info, kpi, first, last, settings.kpis, settings.forecast.fit_days
            )
    finally:
        engine.dispose()
    outside = None
    if band:
        with progress() as step:
            outside = band_days(
                series,
                first,
                last,
                settings.forecast,
                kpi,
                on_day=lambda done, total: step(f"forecast band, day {done} of {total}"),
            )
    proposed_weeks = replay(observations, proposed, first, last, outside)
    current_weeks = replay(observations, current, first, last, outside)
    document: dict[str, Any] = {
        "kpi": kpi,
        "shop": info.domain,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "proposed": {"label": label, **proposed.model_dump()},
        "current": current.model_dump(),
        "weeks": [
            {**p.as_dict(), "current": {"warnings": c.warnings, "criticals": c.criticals}}
            for p, c in zip(proposed_weeks, current_weeks, strict=True)
        ],
    }
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    _print(kpi, label, proposed_weeks, current_weeks)


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
