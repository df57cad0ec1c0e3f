"""``occ insights weekly``: the weekly insight packet (HTML, Markdown with PNG charts, JSON)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from occ.cli.shared import (
    ConfigOption,
    DbOption,
    NowOption,
    handles_errors,
    open_engine,
    out,
    parse_now,
    progress,
    settings_from,
)
from occ.errors import ConfigError
from occ.worker.packet import make_packet

__all__ = ["insights_app"]

insights_app = typer.Typer(
    help="The weekly insight packet: what moved, what broke and what to watch.",
    no_args_is_help=True,
)


def _week_ending(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"--week-ending {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-22"
        ) from None


@insights_app.command("weekly")
@handles_errors
def weekly(
    week_ending: Annotated[
        str | None,
        typer.Option(
            "--week-ending",
            help="Last day (YYYY-MM-DD, shop time) of the 7-day week (default: last Sunday)",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder to write into (default .occ/packets/WEEK-ENDING)"),
    ] = None,
    shop: Annotated[str | None, typer.Option(help="Shop domain (default: newest)")] = None,
    notebook: Annotated[
        bool,
        typer.Option(
            "--notebook",
            help="Also write packet.ipynb, which recomputes the packet from the database",
        ),
    ] = False,
    now: NowOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write the packet of one week: index.html, packet.md (+ PNG charts) and packet.json."""
    ending = _week_ending(week_ending)
    settings = settings_from(config, db)
    moment = parse_now(now)
    engine = open_engine(settings)
    try:
        with progress() as step:
            made = make_packet(
                settings,
                engine,
                now=moment,
                week_ending=ending,
                out=out_dir,
                shop=shop,
                notebook=notebook,
                step=step,
            )
    finally:
        engine.dispose()
    window = made.window
    out.print(
        f"Weekly insight packet, {window.start} to {window.ending} "
        f"({made.packet['shop']['domain']}):",
        highlight=False,
    )
    for item in made.packet["headline"]:
        out.print(f"  • {escape(item['sentence'])}", highlight=False, soft_wrap=True)
    written = [made.files.html, made.files.markdown, made.files.json]
    if notebook:
        written.append(made.files.folder / "packet.ipynb")
    for path in written:
        out.print(f"  {path}", highlight=False, soft_wrap=True)
