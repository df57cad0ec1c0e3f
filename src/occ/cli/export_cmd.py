"""``occ export conversations`` and ``occ export sla``: operator exports as CSV or JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from occ.cli.shared import (
    ConfigOption,
    DbOption,
    NowOption,
    err,
    handles_errors,
    open_engine,
    parse_now,
    settings_from,
)
from occ.errors import ConfigError
from occ.exports import (
    FORMATS,
    ConversationExport,
    check_writable,
    conversation_export,
    export_days,
    render_conversations,
    render_sla,
    write_atomically,
)
from occ.metrics.conversations import sla_by_group

__all__ = ["export_app"]

export_app = typer.Typer(
    help="Operator exports: conversations with their first response, resolution and SLA, and "
    "% SLA met per agent or team, as CSV or JSON.",
    no_args_is_help=True,
)
GROUPS = ("agent", "team")

FromOption = Annotated[
    str | None,
    typer.Option(
        "--from", help="First day (YYYY-MM-DD, shop time) of conversation creation (default: all)"
    ),
]
ToOption = Annotated[
    str | None,
    typer.Option("--to", help="Last day (YYYY-MM-DD, shop time), inclusive (default: all)"),
]
FormatOption = Annotated[str, typer.Option("--format", help="csv (default) or json")]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="File to write (atomically); default: standard output"),
]
ShopOption = Annotated[str | None, typer.Option(help="Shop domain (default: newest)")]


def _checked(fmt: str, out_file: Path | None) -> None:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown --format {fmt!r}; use {' or '.join(FORMATS)}")
    if out_file is not None:
        check_writable(out_file)


def _export(
    shop: str | None,
    first: str | None,
    last: str | None,
    now: str | None,
    db: str | None,
    config: Path | None,
) -> ConversationExport:
    first_day, last_day = export_days(first, last)
    moment = parse_now(now)
    settings = settings_from(config, db)
    engine = open_engine(settings)
    try:
        with engine.connect() as connection:
            return conversation_export(
                connection,
                shop,
                first_day=first_day,
                last_day=last_day,
                now=moment,
                sla=settings.kpis.sla,
                business_hours=settings.sla_business_hours,
            )
    finally:
        engine.dispose()


def _emit(text: str, out_file: Path | None, what: str) -> None:
    if out_file is None:
        sys.stdout.write(text)
        return
    write_atomically(out_file, text)
    err.print(f"{what} written to {escape(str(out_file))}", highlight=False, soft_wrap=True)


@export_app.command("conversations")
@handles_errors
def conversations(
    first: FromOption = None,
    last: ToOption = None,
    fmt: FormatOption = "csv",
    out_file: OutOption = None,
    shop: ShopOption = None,
    now: NowOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """One row per conversation: first response and resolution times, SLA met / breached /
    pending (business hours respected where configured), labels, assignee, team, inbox and
    the orders its messages mention."""
    _checked(fmt, out_file)
    made = _export(shop, first, last, now, db, config)
    if not made.rows:
        err.print("notice: no conversation was created in that window", highlight=False)
    _emit(render_conversations(made.rows, fmt), out_file, f"{len(made.rows)} conversation(s)")


@export_app.command("sla")
@handles_errors
def sla(
    by: Annotated[str, typer.Option("--by", help="agent (default) or team")] = "agent",
    first: FromOption = None,
    last: ToOption = None,
    fmt: FormatOption = "csv",
    out_file: OutOption = None,
    shop: ShopOption = None,
    now: NowOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """% SLA met per agent or per team (met / (met + breached); conversations still inside
    their SLA left out), with counts and nearest-rank first-response percentiles."""
    if by not in GROUPS:
        raise ConfigError(f"unknown --by {by!r}; use {' or '.join(GROUPS)}")
    _checked(fmt, out_file)
    made = _export(shop, first, last, now, db, config)
    groups = sla_by_group(made.rows, "agent" if by == "agent" else "team")
    if not groups:
        err.print("notice: no conversation was created in that window", highlight=False)
    _emit(render_sla(groups, fmt), out_file, f"{len(groups)} {by}(s)")
