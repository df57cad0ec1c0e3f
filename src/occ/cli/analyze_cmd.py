"""``occ analyze …``: summaries of exported logs (sync events)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from occ.cli.shared import ConfigOption, handles_errors, out, parse_now, settings_from
from occ.errors import ConfigError, InputFileError
from occ.ops.sync_log import analyze_sync_log
from occ.ops.sync_log_sql import SECONDS_BELOW
from occ.store.files import replaced_atomically

__all__ = ["analyze_app"]

analyze_app = typer.Typer(
    help="Analyze exported logs, e.g. the NDJSON export of mirror sync events.",
    no_args_is_help=True,
)


@analyze_app.command("sync-log")
@handles_errors
def sync_log(
    file: Annotated[
        Path, typer.Argument(help="NDJSON export of sync events (occ's own or an older one)")
    ],
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="Write the summary JSON to this file instead of stdout"),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(help="Name recorded as the summary's source (default: FILE as given)"),
    ] = None,
    failure_rate_alert: Annotated[
        float | None,
        typer.Option(
            "--failure-rate-alert",
            help="Alert above this failure rate, a fraction (default: sync_failure_rate_alert)",
        ),
    ] = None,
    p95_ms_alert: Annotated[
        float | None,
        typer.Option(
            "--p95-ms-alert",
            help="Alert above this p95 duration in ms (default: sync_p95_ms_alert)",
        ),
    ] = None,
    durations_in_ms: Annotated[
        bool,
        typer.Option(
            "--durations-in-ms",
            help="Every duration is in ms (occ's own export): do not read values under 10 as s",
        ),
    ] = False,
    now: Annotated[
        str | None,
        typer.Option(help="Analysis time recorded as generatedAt, ISO-8601 (default: now)"),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Summarise an NDJSON export of sync events: totals, breakdowns, percentiles, alerts."""
    settings = settings_from(config, None)
    rate = settings.sync_failure_rate_alert if failure_rate_alert is None else failure_rate_alert
    p95 = settings.sync_p95_ms_alert if p95_ms_alert is None else p95_ms_alert
    if not 0 <= rate <= 1:
        raise ConfigError(f"--failure-rate-alert {rate:g} is not a fraction; use e.g. 0.05 for 5 %")
    if not p95 > 0:
        raise ConfigError(f"--p95-ms-alert {p95:g} must be above 0 ms; use e.g. 1000")
    summary = analyze_sync_log(
        file,
        failure_rate_alert=rate,
        p95_ms_alert=p95,
        generated_at=parse_now(now),
        source=source,
        seconds_below=None if durations_in_ms else SECONDS_BELOW,
    )
    text = json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
    if out_path is None:
        sys.stdout.write(text)
        return
    _write(out_path, text)
    out.print(_headline(out_path, summary), highlight=False, soft_wrap=True)


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file, then a rename)."""
    try:
        with replaced_atomically(path) as handle:
            handle.write(text)
    except OSError as exc:
        raise InputFileError(
            f"cannot write {path} ({exc.strerror}); pass --out a path in a writable folder"
        ) from None


def _headline(path: Path, summary: dict[str, Any]) -> str:
    totals = summary["totals"]
    rate = totals["failureRate"]
    rate_text = "no classified events" if rate is None else f"failure rate {rate * 100:.2f} %"
    p95 = summary["durationsMs"]["p95"]
    p95_text = "no durations" if p95 is None else f"p95 {p95:,.2f} ms"
    alerts = len(summary["alerts"])
    return (
        f"Wrote {path}: {totals['records']:,} records, {rate_text}, {p95_text}, "
        f"{alerts} alert{'s' if alerts != 1 else ''}."
    )
