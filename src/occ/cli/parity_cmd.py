"""``occ parity``: compare the primary store with its mirror, counts and rows.

Registered in ``occ.cli.app`` with ``app.command("parity")(parity)``.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from occ.cli.shared import (
    ConfigOption,
    DbOption,
    handles_errors,
    open_engine,
    out,
    progress,
    settings_from,
)
from occ.errors import ConfigError, StoreError
from occ.ops.parity import ParityResult, ParityUnavailable, TableParity, check_parity, open_mirror

__all__ = ["parity"]

_IDS_SHOWN = 10


@handles_errors
def parity(
    mirror: Annotated[
        str | None,
        typer.Option("--mirror", help="SQLAlchemy URL of the mirror (default OCC_MIRROR_URL)"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the parity document as JSON")
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help="Count difference (%) tolerated per scope / fact type "
            "(default OCC_PARITY_THRESHOLD_PCT, 1.0)",
        ),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Compare primary and mirror: counts per scope / fact type, rows missing or differing.

    Exits 0 within the threshold (and no decision differing), 1 outside it, 2 when parity
    could not run (mirror unreachable, mirror table missing).
    """
    settings = settings_from(config, db)
    secret = settings.mirror_url.get_secret_value() if settings.mirror_url else None
    mirror_url = mirror or secret
    if not mirror_url:
        raise ConfigError("no mirror to compare with; pass --mirror URL or set OCC_MIRROR_URL")
    threshold_pct = settings.parity_threshold_pct if threshold is None else threshold
    if threshold_pct < 0:
        raise ConfigError(f"--threshold {threshold_pct} is negative; pass a percentage ≥ 0")
    mirror_engine = open_mirror(mirror_url)
    try:
        try:
            primary = open_engine(settings)
        except StoreError as exc:
            raise ParityUnavailable(str(exc)) from None
        try:
            with progress() as step:
                step("comparing primary and mirror")
                result = check_parity(primary, mirror_engine, threshold_pct=threshold_pct)
        finally:
            primary.dispose()
    finally:
        mirror_engine.dispose()
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict(), indent=2) + "\n")
    else:
        _render(result)
    if not result.ok:
        raise typer.Exit(1)


def _ids(label: str, ids: tuple[str, ...]) -> None:
    if not ids:
        return
    shown = ", ".join(ids[:_IDS_SHOWN])
    more = (
        f" … and {len(ids) - _IDS_SHOWN} more (--json lists all)" if len(ids) > _IDS_SHOWN else ""
    )
    out.print(f"  {label} ({len(ids)}): {escape(shown)}{more}", highlight=False)


def _render_table(table: TableParity, threshold_pct: float) -> None:
    out.print(
        f"[bold]{table.name}[/] ({table.primary_table} → {table.mirror_table}): "
        f"primary {table.primary_count:,} · mirror {table.mirror_count:,} · Δ {table.delta:+,}",
        highlight=False,
    )
    grid = Table()
    for column in (table.group_column, "Primary", "Mirror", "Delta", "Diff %"):
        grid.add_column(column, justify="left" if column == table.group_column else "right")
    for group in table.by_group:
        flag = "" if abs(group.diff_pct) <= threshold_pct else " ✗"
        grid.add_row(
            escape(group.key if group.key is not None else "(only on mirror)"),
            f"{group.primary:,}",
            f"{group.mirror:,}",
            f"{group.delta:+,}",
            f"{group.diff_pct:.2f}{flag}",
        )
    out.print(grid)
    _ids("missing on mirror", table.missing_on_mirror)
    _ids("only on mirror", table.extra_on_mirror)
    _ids("content differs", table.differing)
    for note in table.notes:
        out.print(f"  · {escape(note)}", highlight=False)
    stats = table.stats
    verdict = "within threshold" if table.within_threshold else "[bold red]outside threshold[/]"
    out.print(
        f"  {verdict} · {stats.segments_compared:,} segments compared, "
        f"{stats.rows_fetched:,} rows fetched, {stats.seconds:.2f} s",
        highlight=False,
    )


def _render(result: ParityResult) -> None:
    out.print(f"Mirror {escape(result.mirror_url)} ({result.mirror_shape} shape)", highlight=False)
    for table in result.tables:
        _render_table(table, result.threshold_pct)
    if result.ok:
        out.print(f"[green]parity OK[/] within {result.threshold_pct:g} %", highlight=False)
    else:
        failed = ", ".join(table.name for table in result.tables if not table.within_threshold)
        out.print(f"[bold red]parity FAILED[/]: {failed}", highlight=False)
