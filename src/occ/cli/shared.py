"""What every ``occ`` command shares: consoles, options, error handling, settings, store, HTTP."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from occ.config import Settings, load_settings
from occ.contracts.secrets import mask
from occ.errors import ConfigError, OccError
from occ.sources.http import connector_client as http_client
from occ.store.engine import open_store

__all__ = [
    "ConfigOption",
    "DbOption",
    "NowOption",
    "err",
    "handles_errors",
    "http_client",
    "open_engine",
    "out",
    "parse_now",
    "progress",
    "settings_from",
]

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


def fail(message: str, code: int) -> typer.Exit:
    """Print ``message`` as one line on stderr and return the exit to raise."""
    one_line = mask(" ".join(message.split()))  # driver messages can span lines
    err.print(f"[bold red]error:[/] {escape(one_line)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn an ``OccError`` into one line on stderr and its exit code; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except OccError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted; nothing of the unfinished step was written", 130) from None

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


def settings_from(config: Path | None, db: str | None) -> Settings:
    """The one ``Settings`` of this command: environment, occ.toml, then the CLI's --db."""
    return load_settings(config, database_url=db)


def open_engine(settings: Settings) -> Engine:
    return open_store(settings.resolved_database_url())


@contextmanager
def progress() -> Iterator[Callable[[str], None]]:
    """A transient Rich spinner on stderr; yields a function that sets its description."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as display:
        task = display.add_task("starting", total=None)
        yield lambda description: display.update(task, description=description)
