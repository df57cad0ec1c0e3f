"""``occ decisions …``: record and list operator decisions; mirror them."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from occ.cli.shared import (
    ConfigOption,
    DbOption,
    NowOption,
    err,
    handles_errors,
    open_engine,
    out,
    parse_now,
    progress,
    settings_from,
)
from occ.contracts.outcomes import OUTCOME_ICONS, OUTCOME_LABELS, OutcomeRecord
from occ.decisions import (
    SyncAborted,
    SyncReport,
    SyncStatus,
    add_decision,
    export_events,
    list_decisions,
    sync_outbox,
    sync_status,
)
from occ.decisions.outcomes import (
    OutcomeCheck,
    OutcomeStatus,
    check_outcomes,
    decision_outcomes,
)
from occ.errors import ConfigError, InputFileError, MirrorError
from occ.store.operators import is_email_address
from occ.store.outcomes import recorded_outcomes

__all__ = ["decisions_app"]

decisions_app = typer.Typer(
    help="The decision log: record, list and mirror operator decisions.", no_args_is_help=True
)


def _payload(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"--payload is not JSON ({exc.msg}); pass a JSON object") from None
    if not isinstance(value, dict):
        raise InputFileError('--payload must be a JSON object, e.g. \'{"sku": "HRP-1"}\'')
    return value


@decisions_app.command("add")
@handles_errors
def add(
    scope: Annotated[str, typer.Option(help="What the decision is about: ops, cx, inventory…")],
    actor: Annotated[str, typer.Option(help="Who decided (an e-mail address)")],
    action: Annotated[str, typer.Option(help="What was decided (approve, reject, snooze, …)")],
    rationale: Annotated[str | None, typer.Option(help="Why")] = None,
    evidence_url: Annotated[str | None, typer.Option(help="What it was based on")] = None,
    external_ref: Annotated[str | None, typer.Option(help="A reference elsewhere")] = None,
    shop: Annotated[str | None, typer.Option(help="Shop domain")] = None,
    payload: Annotated[str | None, typer.Option(help="Extra data, a JSON object")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Record a decision and queue it for the mirror, in one transaction."""
    # Checked here, where the actor is typed: the dashboard and the API record the signed-in
    # operator's stored address, which earlier versions let through looser rules.
    if not is_email_address(actor.strip()):
        raise InputFileError(
            f"--actor {actor!r} is not an e-mail address; pass who decided, "
            "e.g. --actor ops@example.com"
        )
    settings = settings_from(config, db)
    data = _payload(payload)
    engine = open_engine(settings)
    try:
        decision = add_decision(
            engine,
            scope=scope,
            actor=actor,
            action=action,
            now=parse_now(None),
            rationale=rationale,
            evidence_url=evidence_url,
            shop_domain=shop or settings.shop_domain,
            external_ref=external_ref,
            payload=data,
        )
    finally:
        engine.dispose()
    out.print(decision.id, highlight=False)


@decisions_app.command("list")
@handles_errors
def list_(
    scope: Annotated[str | None, typer.Option(help="Only this scope")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """List decisions, newest first, with the outcome of each approved action."""
    settings = settings_from(config, db)
    engine = open_engine(settings)
    try:
        with engine.connect() as connection:
            decisions = list_decisions(connection, scope=scope, limit=limit)
            outcomes = decision_outcomes(connection, decisions, settings)
    finally:
        engine.dispose()
    if as_json:
        documents = [
            d.as_dict() | {"outcome": _outcome_dict(outcomes.get(d.id))} for d in decisions
        ]
        sys.stdout.write(json.dumps(documents, indent=2) + "\n")
        return
    table = Table(title=f"{len(decisions)} decision(s)", title_justify="left")
    for column in ("When (UTC)", "Scope", "Actor", "Action", "Rationale", "Outcome", "Id"):
        table.add_column(column, overflow="fold")
    for d in decisions:
        status = outcomes.get(d.id)
        table.add_row(
            d.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            escape(d.scope),
            escape(d.actor),
            escape(d.action),
            escape(d.rationale or ""),
            "" if status is None else _outcome_cell(status),
            d.id,
        )
    out.print(table)


def _outcome_cell(status: OutcomeStatus) -> str:
    """The outcome in a table cell (its reason is in --json and `occ decisions outcomes`)."""
    if status.checked_at is None:
        return f"{status.icon} {status.label} (due {_when(status.due_at)})"
    return f"{status.icon} {status.label}"


def _outcome_dict(status: OutcomeStatus | None) -> dict[str, Any] | None:
    return None if status is None else status.as_dict()


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


@decisions_app.command("outcomes")
@handles_errors
def outcomes_(
    now: NowOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Check the approved actions whose outcome fell due by --now (did their KPI return inside
    its thresholds or forecast band?), record each, and list every outcome."""
    settings = settings_from(config, db)
    moment = parse_now(now)
    engine = open_engine(settings)
    try:
        checked = check_outcomes(engine, settings, now=moment)
        with engine.connect() as connection:
            recorded = sorted(
                recorded_outcomes(connection).values(),
                key=lambda r: (r.decided_at, r.decision_id),
                reverse=True,
            )
    finally:
        engine.dispose()
    if as_json:
        document = {
            "now": moment.isoformat(),
            "recorded": [r.decision_id for r in checked.recorded],
            "outcomes": [r.as_value() for r in recorded],
            "pending": [p.as_dict() for p in checked.pending],
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    _print_outcomes(checked, recorded)


def _print_outcomes(checked: OutcomeCheck, recorded: list[OutcomeRecord]) -> None:
    """One line per action (outcome, action, decision and check instants), then its reason."""
    out.print(f"As of {_when(checked.now)} UTC: {checked.summary()}.", highlight=False)
    new = {r.decision_id for r in checked.recorded}
    for r in recorded:
        action = escape(f"{r.action_kind} {r.action_entity or ''}".strip())
        out.print(
            f"{OUTCOME_ICONS[r.outcome]} {OUTCOME_LABELS[r.outcome]}"
            + (" (new)" if r.decision_id in new else "")
            + f" — {action} ({r.kpi}), decided {_when(r.decided_at)}, checked as of "
            f"{_when(r.checked_at)}",
            highlight=False,
            soft_wrap=True,
        )
        out.print(f"    {escape(r.reason)}", highlight=False, soft_wrap=True)
    for p in checked.pending:
        action = escape(f"{p.action_kind} {p.action_entity or ''}".strip())
        out.print(
            f"{OUTCOME_ICONS['not_checked']} Not checked yet — {action} ({p.kpi}), decided "
            f"{_when(p.decided_at)}, due {_when(p.due_at)}",
            highlight=False,
            soft_wrap=True,
        )


def _print_notices(report: SyncReport) -> None:
    for notice in report.notices:
        err.print(f"[yellow]notice:[/] {escape(notice)}", highlight=False, soft_wrap=True)


def _summary(report: SyncReport, pending: int) -> str:
    return (
        f"mirror {report.mirror}: {report.sent} sent, {report.skipped} already there, "
        f"{report.failed} failed, {report.dead} dead"
        + (f", {report.revived} revived" if report.revived else "")
        + f"; {pending} pending; {report.attempts} attempt(s) in {report.duration_s:.2f} s"
    )


def _print_status(status: SyncStatus) -> None:
    table = Table(title="Outbox", title_justify="left")
    for column in ("Kind", "Pending", "Sent", "Dead"):
        table.add_column(column, justify="left" if column == "Kind" else "right")
    for kind, counts in status.counts.items():
        table.add_row(kind, *(str(counts.get(s, 0)) for s in ("pending", "sent", "dead")))
    out.print(table)
    when = {
        "oldest pending entry": status.oldest_pending,
        "last attempt": status.last_attempt_at,
        "last success": status.last_success_at,
    }
    for label, moment in when.items():
        shown = "—" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")
        out.print(f"{label}: {shown}", highlight=False)
    if not status.dead:
        return
    out.print(f"{len(status.dead)} dead entr(ies), kept; retry them with --retry-dead:")
    for entry in status.dead:
        out.print(
            f"  {entry['kind']} {escape(entry['ref_id'])} (outbox {entry['id']}): "
            f"{entry['attempts']} attempt(s), {escape(entry['last_error_code'] or '')} "
            f"{escape(entry['last_error'] or '')}",
            highlight=False,
            soft_wrap=True,
        )


@decisions_app.command("sync")
@handles_errors
def sync(
    mirror: Annotated[
        str | None,
        typer.Option("--mirror", help="SQLAlchemy URL of the mirror (default OCC_MIRROR_URL)"),
    ] = None,
    status: Annotated[
        bool, typer.Option("--status", help="Show pending, sent and dead entries; sync nothing")
    ] = False,
    retry_dead: Annotated[
        bool, typer.Option("--retry-dead", help="Put dead entries back to pending, then sync")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Push pending decisions and facts to the mirror (idempotent upserts, retried, logged).

    Exits 6 when the mirror refused the sync or entries stay pending after their attempts.
    """
    settings = settings_from(config, db)
    engine = open_engine(settings)
    try:
        if status:
            with engine.connect() as connection:
                outbox = sync_status(connection)
            if as_json:
                sys.stdout.write(json.dumps(outbox.as_dict(), indent=2) + "\n")
            else:
                _print_status(outbox)
            return
        url = mirror or (settings.mirror_url.get_secret_value() if settings.mirror_url else None)
        if not url:
            raise ConfigError("no mirror to sync to: pass --mirror URL or set OCC_MIRROR_URL")
        try:
            with progress() as describe:
                report = sync_outbox(
                    engine,
                    url,
                    settings,
                    retry_dead=retry_dead,
                    on_progress=describe,
                    create_mirror=True,
                )
        except SyncAborted as aborted:
            _print_notices(aborted.report)
            raise
        with engine.connect() as connection:
            pending = sum(c.get("pending", 0) for c in sync_status(connection).counts.values())
    finally:
        engine.dispose()
    _print_notices(report)
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict() | {"pending": pending}, indent=2) + "\n")
    else:
        out.print(_summary(report, pending), highlight=False, soft_wrap=True)
    if report.ok:
        return
    problems = []
    if report.error is not None:
        problems.append(f"the mirror {report.mirror} failed ({report.error})")
    if report.failed:
        problems.append(f"{report.failed} entr(ies) stay pending for the next `occ decisions sync`")
    if report.dead:
        problems.append(
            f"{report.dead} entr(ies) became dead: see `occ decisions sync --status`, fix the "
            "cause, then run `occ decisions sync --retry-dead`"
        )
    raise MirrorError("; ".join(problems))


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"--since {value!r} is not an ISO-8601 instant; use e.g. 2026-11-26T00:00:00Z"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@decisions_app.command("export-events")
@handles_errors
def export_events_(
    out_file: Annotated[Path, typer.Option("--out", help="The NDJSON file to write")],
    since: Annotated[
        str | None, typer.Option(help="Only events at or after this ISO-8601 instant")
    ] = None,
    kind: Annotated[str, typer.Option(help="Events of decision, fact or all entries")] = "decision",
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write every sync attempt as NDJSON (decisionId, status, durationMs, errorCode, …)."""
    if kind not in ("decision", "fact", "all"):
        raise ConfigError(f"--kind {kind!r} is not one of decision, fact, all")
    moment = _since(since)
    engine = open_engine(settings_from(config, db))
    try:
        with engine.connect() as connection:
            count = export_events(
                connection, moment, out_file, kind=None if kind == "all" else kind
            )
    finally:
        engine.dispose()
    out.print(f"{count} event(s) written to {escape(str(out_file))}", highlight=False)
