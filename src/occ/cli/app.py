"""The ``occ`` commands. Settings are built here, once, and passed down."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from occ import __version__
from occ.cli.alerts_cmd import alerts_app
from occ.cli.analyze_cmd import analyze_app
from occ.cli.contracts_cmd import contracts_app
from occ.cli.decisions_cmd import decisions_app
from occ.cli.export_cmd import export_app
from occ.cli.incidents_cmd import incidents
from occ.cli.insights_cmd import insights_app
from occ.cli.knowledge_cmd import knowledge_app
from occ.cli.links import dashboard_address, signin_link
from occ.cli.parity_cmd import parity
from occ.cli.render import render_kpis, render_refresh
from occ.cli.secrets_cmd import secrets_app
from occ.cli.serve_cmd import check_port, serve, serve_app
from occ.cli.shared import (
    ConfigOption,
    DbOption,
    NowOption,
    err,
    handles_errors,
    http_client,
    open_engine,
    out,
    parse_now,
    progress,
    settings_from,
)
from occ.cli.sources_cmd import sources_app
from occ.cli.users_cmd import DEMO_OPERATOR, demo_operator_link, users_app
from occ.cli.worker_cmd import worker
from occ.config import Settings
from occ.contracts.secrets import install_log_masking
from occ.decisions.outcomes import check_outcomes
from occ.errors import ConfigError
from occ.refresh import QUARANTINE_EXIT_CODE, RefreshReport, run_refresh
from occ.refresh.choose import offline_payloads, source_payloads
from occ.refresh.forecasts import METRICS, Metric, metric_series, run_backtest, run_forecast
from occ.refresh.view import kpis_document
from occ.store.engine import masked_url
from occ.store.runs import resolve_shop
from occ.worker.packet import make_packet

__all__ = ["app", "main"]

app = typer.Typer(
    name="occ",
    help="Operator Control Center: the daily truth of a Shopify store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _refresh(
    settings: Settings, now: datetime, source: str, seed: int | None = None
) -> RefreshReport:
    offline = offline_payloads(source, settings, now, seed)  # fails before the db is opened
    engine = open_engine(settings)
    try:
        with http_client(settings) as http:
            payloads = offline or source_payloads(source, settings, now, engine, http, seed)
            for notice in payloads.notices:
                err.print(f"[yellow]notice:[/] {escape(notice)}", highlight=False)
            before = len(payloads.notices)
            with progress() as step:
                report = run_refresh(engine, settings, payloads, now, on_step=step)
            for notice in payloads.notices[before:]:  # what the refresh itself noticed
                err.print(f"[yellow]notice:[/] {escape(notice)}", highlight=False)
        checked = check_outcomes(engine, settings, now=now)
        render_refresh(out, report)
        if checked.recorded:
            out.print(f"Outcome checks: {checked.summary()}.", highlight=False, soft_wrap=True)
        with engine.connect() as connection:
            render_kpis(out, kpis_document(connection, report.shop.domain))
        for incident in report.snapshot.incidents:
            cause = incident.causes[0]
            out.print(
                f"[bold]Incident[/] {escape(incident.title)} — likely cause: "
                f"{escape(cause.cause)} ({cause.share * 100:.0f} %)",
                highlight=False,
            )
        if report.snapshot.incidents:
            out.print("Evidence and ranked causes: occ incidents", highlight=False)
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
        str,
        typer.Option(
            "--source", help="demo, live (every configured API), or dir:PATH of a recorded folder"
        ),
    ] = "demo",
    now: NowOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Read a source, validate and store its records, compute the KPIs and anomalies."""
    settings = settings_from(config, db)
    moment = parse_now(now)
    _exit_for(_refresh(settings, moment, source))


def _demo_packet(settings: Settings, moment: datetime, report: RefreshReport) -> None:
    """The insight packet of the demo's week so far (it ends on the demo's day)."""
    engine = open_engine(settings)
    try:
        with progress() as step:
            made = make_packet(
                settings,
                engine,
                now=moment,
                week_ending=moment.astimezone(ZoneInfo(report.shop.timezone)).date(),
                shop=report.shop.domain,
                step=step,
            )
    finally:
        engine.dispose()
    out.print(f"Weekly insight packet: {made.files.html}", highlight=False, soft_wrap=True)


@app.command()
@handles_errors
def demo(
    seed: Annotated[int | None, typer.Option(help="Seed of the demo store")] = None,
    now: NowOption = None,
    serve: Annotated[
        bool,
        typer.Option("--serve/--no-serve", help="End by serving the dashboard (default) or not"),
    ] = True,
    port: Annotated[int | None, typer.Option(help="Dashboard port (default 8000)")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Build the deterministic demo store (no credentials), show its five KPI tiles, and serve
    its dashboard with a one-time sign-in link."""
    settings = settings_from(config, db)
    moment = parse_now(now)
    host, bind_port = settings.web_host, port or settings.web_port
    if serve:
        check_port(host, bind_port)  # before the work, not after it
    report = _refresh(settings, moment, "demo", seed if seed is not None else settings.demo_seed)
    out.print(
        f"Demo store {report.shop.domain} in {masked_url(settings.resolved_database_url())}. "
        "Next: occ kpis --json · occ forecast sales --horizon 7",
        highlight=False,
    )
    _demo_packet(settings, moment, report)
    if not serve:
        _exit_for(report)
        return
    engine = open_engine(settings)
    try:
        with engine.begin() as connection:
            token = demo_operator_link(connection, datetime.now(UTC))
        address = dashboard_address(host, bind_port)
        out.print(f"Dashboard: {address}/", highlight=False, soft_wrap=True)
        out.print(
            f"Sign in as {DEMO_OPERATOR}: {signin_link(address, token)} "
            "(one-time link, valid 1 h; Ctrl-C stops the server)",
            highlight=False,
            soft_wrap=True,
        )
        serve_app(settings, engine, host, bind_port)
    finally:
        engine.dispose()


@app.command()
@handles_errors
def kpis(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tiles")] = False,
    shop: Annotated[str | None, typer.Option(help="Shop domain (default: newest)")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Show the latest KPI results (the six tiles and their anomalies)."""
    engine = open_engine(settings_from(config, db))
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
    settings = settings_from(config, db)
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
    engine = open_engine(settings)
    try:
        with engine.connect() as connection:
            info = resolve_shop(connection, shop)
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


app.add_typer(sources_app, name="sources")
app.add_typer(contracts_app, name="contracts")
app.add_typer(decisions_app, name="decisions")
app.add_typer(analyze_app, name="analyze")
app.command("parity")(parity)
app.command("worker")(worker)
app.command("serve")(serve)
app.add_typer(users_app, name="users")
app.add_typer(insights_app, name="insights")
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(secrets_app, name="secrets")
app.add_typer(alerts_app, name="alerts")
app.command("incidents")(incidents)
app.add_typer(export_app, name="export")


def main() -> None:
    """Console-script entry point."""
    install_log_masking()
    app()
