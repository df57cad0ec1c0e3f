"""The ``occ`` commands. Settings are built here, once, and passed down."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine

from occ import __version__
from occ.cli.render import render_kpis, render_refresh
from occ.config import Settings, load_settings
from occ.errors import ConfigError, InputFileError, OccError
from occ.refresh import QUARANTINE_EXIT_CODE, RefreshReport, run_refresh
from occ.refresh.forecasts import METRICS, Metric, metric_series, run_backtest, run_forecast
from occ.refresh.view import kpis_document
from occ.sources.base import SourcePayloads
from occ.sources.demo import demo_payloads
from occ.sources.recorded import recorded_payloads
from occ.store.engine import masked_url, open_store
from occ.store.records import load_shop
from occ.store.runs import latest_run

__all__ = ["app", "main"]

app = typer.Typer(
    name="occ",
    help="Operator Control Center: the daily truth of a Shopify store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=False)
err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="SQLAlchemy URL of the store (default OCC_DATABASE_URL or .occ/occ.db)"
    ),
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="occ.toml to read (default ./occ.toml if present)")
]
NowOption = Annotated[
    str | None,
    typer.Option("--now", help="The refresh instant, ISO-8601 (default: the current UTC time)"),
]


def _fail(message: str, code: int) -> typer.Exit:
    one_line = " ".join(message.split())  # driver messages can span lines
    err.print(f"[bold red]error:[/] {escape(one_line)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn an ``OccError`` into one line on stderr and its exit code; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except OccError as exc:
            raise _fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise _fail("interrupted; nothing of the unfinished step was written", 130) from None

    return wrapper


def parse_now(value: str | None) -> datetime:
    """``--now`` as an aware UTC datetime; a value without offset is read as UTC."""
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"--now {value!r} is not an ISO-8601 instant; use e.g. 2026-11-26T15:00:00Z"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _settings(config: Path | None, db: str | None) -> Settings:
    return load_settings(config, database_url=db)


def _store(settings: Settings) -> Engine:
    return open_store(settings.resolved_database_url())


@contextmanager
def _progress() -> Iterator[Callable[[str], None]]:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=None)
        yield lambda description: progress.update(task, description=description)


def _payloads(source: str, settings: Settings, now: datetime) -> SourcePayloads:
    if source == "demo":
        return demo_payloads(settings.demo_seed, now)
    if source.startswith("dir:"):
        return recorded_payloads(Path(source.removeprefix("dir:")).expanduser())
    raise InputFileError(f"unknown source {source!r}; use demo or dir:PATH")


def _refresh(settings: Settings, payloads: SourcePayloads, now: datetime) -> RefreshReport:
    engine = _store(settings)
    try:
        with _progress() as step:
            report = run_refresh(engine, settings, payloads, now, on_step=step)
        render_refresh(out, report)
        with engine.connect() as connection:
            render_kpis(out, kpis_document(connection, report.shop.domain))
    finally:
        engine.dispose()
    return report


def _exit_for(report: RefreshReport) -> None:
    if report.quarantined:
        err.print(
            f"[yellow]{report.quarantined} record(s) quarantined[/]: everything valid was stored; "
            "fix the records listed above and refresh again",
            highlight=False,
        )
        raise typer.Exit(QUARANTINE_EXIT_CODE)


@app.command()
@handles_errors
def refresh(
    source: Annotated[
        str, typer.Option("--source", help="demo, or dir:PATH of a recorded-responses folder")
    ] = "demo",
    now: NowOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Read a source, validate and store its records, compute the KPIs and anomalies."""
    settings = _settings(config, db)
    moment = parse_now(now)
    _exit_for(_refresh(settings, _payloads(source, settings, moment), moment))


@app.command()
@handles_errors
def demo(
    seed: Annotated[int | None, typer.Option(help="Seed of the demo store")] = None,
    now: NowOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Build the deterministic demo store (no credentials) and show its five KPI tiles."""
    settings = _settings(config, db)
    moment = parse_now(now)
    payloads = demo_payloads(seed if seed is not None else settings.demo_seed, moment)
    report = _refresh(settings, payloads, moment)
    out.print(
        f"Demo store {report.shop.domain} in {masked_url(settings.resolved_database_url())}. "
        "Next: occ kpis --json · occ forecast sales --horizon 7",
        highlight=False,
    )
    _exit_for(report)


@app.command()
@handles_errors
def kpis(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tiles")] = False,
    shop: Annotated[str | None, typer.Option(help="Shop domain (default: newest)")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Show the latest KPI results (the five tiles and their anomalies)."""
    engine = _store(_settings(config, db))
    try:
        with engine.connect() as connection:
            document = kpis_document(connection, shop)
    finally:
        engine.dispose()
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    else:
        render_kpis(out, document)


@app.command()
@handles_errors
def forecast(
    metric: Annotated[str, typer.Argument(help="sales | sessions | units | breach-rate")],
    key: Annotated[str | None, typer.Option(help="Landing page or variant id / SKU")] = None,
    horizon: Annotated[int | None, typer.Option(help="Days to forecast")] = None,
    method: Annotated[
        str | None, typer.Option(help="auto | average | ses | seasonal_es | croston")
    ] = None,
    backtest: Annotated[
        int | None, typer.Option("--backtest", help="Rolling origins to evaluate each method on")
    ] = None,
    now: NowOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    shop: Annotated[str | None, typer.Option(help="Shop domain (default: newest)")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Forecast a KPI series as of --now (later data ignored), or backtest the methods."""
    if metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    settings = _settings(config, db)
    overrides: dict[str, Any] = {}
    if horizon is not None:
        overrides["horizon"] = horizon
    if method is not None:
        overrides["method"] = method
    try:
        forecast_config = settings.forecast.model_validate(
            {**settings.forecast.model_dump(), **overrides}
        )
    except ValidationError as exc:
        raise ConfigError(f"bad --horizon or --method: {exc.errors()[0]['msg']}") from None
    moment = parse_now(now)
    engine = _store(settings)
    try:
        with engine.connect() as connection:
            shop_domain = shop or _newest_shop(connection)
            info = load_shop(connection, shop_domain)
            if info is None:
                raise ConfigError(f"shop {shop_domain!r} is not in the store; run occ refresh")
            history_days = forecast_config.fit_days + (backtest or 0) + forecast_config.horizon
            series = metric_series(
                connection, info, _metric(metric), key, moment, history_days, settings.kpis.sla
            )
    finally:
        engine.dispose()
    if backtest is not None:
        _print_backtest(series, forecast_config, backtest, metric, moment, as_json)
        return
    made = run_forecast(
        series[-forecast_config.fit_days :], forecast_config, _metric(metric), key, method
    )
    document = {
        "metric": metric,
        "key": key,
        "method": made.method,
        "now": moment.isoformat(),
        "level": made.level,
        "points": [point.model_dump(mode="json") for point in made.points],
        "assumptions": made.assumptions,
    }
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    table = Table(title=f"{metric}{' ' + key if key else ''} — {made.method}", title_justify="left")
    for column in ("Date", "Forecast", f"Lower {made.level} %", f"Upper {made.level} %"):
        table.add_column(column, justify="right")
    for point in made.points:
        table.add_row(
            point.date.isoformat(),
            f"{point.value:,.2f}",
            "—" if point.lower is None else f"{point.lower:,.2f}",
            "—" if point.upper is None else f"{point.upper:,.2f}",
        )
    out.print(table)
    for assumption in made.assumptions:
        out.print(f"· {escape(assumption)}", highlight=False)


def _metric(name: str) -> Metric:
    for metric in METRICS:
        if metric == name:
            return metric
    raise ConfigError(f"unknown metric {name!r}")


def _newest_shop(connection: Any) -> str:
    run = latest_run(connection)
    if run is None:
        raise ConfigError("no refresh recorded yet; run `occ refresh` or `occ demo` first")
    return str(run["shop_domain"])


def _print_backtest(
    series: list[Any],
    config: Any,
    origins: int,
    metric: str,
    moment: datetime,
    as_json: bool,
) -> None:
    methods = ["average", "ses", "seasonal_es", "croston", "auto"]
    rows = run_backtest(series, config, methods, origins)
    if as_json:
        document = {
            "metric": metric,
            "now": moment.isoformat(),
            "origins": origins,
            "horizon": config.horizon,
            "methods": [row.model_dump(mode="json") for row in rows],
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    table = Table(
        title=f"Backtest of {metric}: {origins} origins, horizon {config.horizon} days",
        title_justify="left",
    )
    for column in ("Method", "MASE", "sMAPE %"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(row.method, f"{row.mase:.3f}", f"{row.smape:.1f}")
    out.print(table)
    out.print("MASE < 1 beats the seasonal-naive forecast; lower is better.", highlight=False)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version")] = False,
) -> None:
    if version:
        out.print(f"occ {__version__}")
        raise typer.Exit(0)


def main() -> None:
    """Console-script entry point."""
    app()
