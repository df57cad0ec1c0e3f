"""``occ secrets scan``: live credentials in files and git history (exit 0 clean, 1 found,
2 when the scan could not run)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from occ.cli.shared import ConfigOption, err, handles_errors, out, settings_from
from occ.ops.secrets_scan import load_baseline, scan

__all__ = ["secrets_app"]

secrets_app = typer.Typer(
    help="Secret hygiene: find live credentials before they leak.", no_args_is_help=True
)


@secrets_app.command("scan")
@handles_errors
def scan_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (default: the current folder)")
    ] = None,
    git_history: Annotated[
        bool, typer.Option("--git-history", help="Also scan every commit's added lines")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (usable as a baseline)")
    ] = False,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline", help="Findings to acknowledge (occ's --json or detect-secrets')"
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Find live credentials (database URLs with passwords, Shopify, Supabase, Chatwoot,
    Google and OpenAI keys, high-entropy secrets); placeholders are not findings."""
    settings = settings_from(config, None)  # every error below is exit 2: the scan could not run
    acknowledged = load_baseline(baseline) if baseline is not None else None
    result = scan(
        paths or [Path(".")],
        git_history=git_history,
        baseline=acknowledged,
        placeholders=settings.secrets_placeholders,
    )
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict(), indent=2) + "\n")
    else:
        for finding in result.findings:
            where = f"{finding.file}:{finding.line}"
            if finding.commit:
                where += f" (commit {finding.commit})"
            out.print(
                f"[red]{escape(where)}[/] {finding.kind} {escape(finding.preview)} — "
                f"{escape(finding.reason)}",
                highlight=False,
                soft_wrap=True,
            )
        summary = (
            f"{len(result.findings)} finding(s) in {result.files} file(s)"
            + (f" and {result.commits} commit(s)" if git_history else "")
            + (f"; {result.acknowledged} acknowledged by the baseline" if baseline else "")
        )
        (err if result.findings else out).print(summary, highlight=False)
    if result.findings:
        raise typer.Exit(1)
