"""The dashboard's HTML pages: overview, tile detail, fact, approvals, history, metrics, weekly
packets, settings (with the alert backtest preview), sign-in."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from markupsafe import Markup
from sqlalchemy import Table, select

from occ.contracts.secrets import mask
from occ.decisions.actions import decide
from occ.decisions.operator_metrics import SESSION_FACT, operator_metrics
from occ.decisions.outcomes import decision_outcomes
from occ.errors import NotFoundError, OccError
from occ.exports import csv_cell
from occ.insights import PACKET_FACT_TYPE
from occ.store.facts import facts_by_id
from occ.store.operators import (
    authenticate,
    count_failures,
    record_attempt,
    redeem_signin_link,
)
from occ.store.tables import DashboardFact
from occ.web.context import WebContext, context, memory_first
from occ.web.preview import (
    PROFILE_CHOICES,
    PreviewForm,
    default_ranges,
    preview_page,
    run_preview,
)
from occ.web.security import CsrfRejected, Principal, csrf_token, csrf_valid, sign_in, sign_out
from occ.web.settings_view import setting_groups
from occ.web.tiles import KPI_ORDER, TILE_TITLES, RunView
from occ.web.views import find_action, parse_filters, require, require_csrf

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_FACTS = cast(Table, DashboardFact.__table__)
_HISTORY_PAGE = 200
_TILE_PAGE = 200
"""Rows of a tile's detail page (the inventory tile of a large store has 100,000)."""


def _render(
    request: Request,
    name: str,
    values: dict[str, Any],
    who: Principal | None,
    status_code: int = 200,
) -> Response:
    ctx = context(request)
    return ctx.templates.TemplateResponse(
        request,
        name,
        {
            "principal": who,
            "csrf": csrf_token(request),
            "refresh": ctx.refresher.state,
            "flash": request.session.pop("flash", None),
            **values,
        },
        status_code=status_code,
    )


def _freshness(ctx: WebContext, view: RunView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return view.freshness(ctx.clock(), timedelta(minutes=ctx.settings.refresh_interval_minutes))


@router.get("/", response_class=HTMLResponse)
@memory_first(queue=True)
def overview(request: Request) -> Response:
    who = require(request)
    ctx = context(request)
    view = ctx.view()
    counts = ctx.queue_counts(view)
    fresh = _freshness(ctx, view)
    tiles_html = None
    if view is not None and fresh is not None:
        # The tiles change only with the run, the queue and (once stale) the age shown.
        key = (
            view.run_id,
            tuple(counts.get(k, 0) for k in KPI_ORDER),
            fresh["stale"],
            int(fresh["ageMinutes"]) if fresh["stale"] else 0,
        )
        tiles_html = ctx.cache.fragment(
            key,
            lambda: Markup(
                ctx.templates.get_template("_tiles.html").render(
                    tiles=[view.tiles[k] for k in KPI_ORDER], fresh=fresh, queue_by_kpi=counts
                )
            ),
        )
    return _render(
        request,
        "overview.html",
        {
            "view": view,
            "fresh": fresh,
            "queue_count": sum(counts.values()),
            "tiles_html": tiles_html,
        },
        who,
    )


@router.get("/tiles/{kpi}", response_class=HTMLResponse)
def tile_detail(request: Request, kpi: str, page: Annotated[int, Query(ge=1)] = 1) -> Response:
    who = require(request)
    ctx = context(request)
    view = ctx.view()
    if kpi not in TILE_TITLES:
        raise NotFoundError(f"no tile {kpi!r}; the tiles are {', '.join(KPI_ORDER)}")
    if view is None:
        raise NotFoundError("no refresh recorded yet; run occ refresh or occ demo")
    tile = view.tiles[kpi]
    queue = [a for a in ctx.queue(view) if a.kpi == kpi]
    start = (page - 1) * _TILE_PAGE
    if page > 1 and start >= len(tile.rows):
        raise NotFoundError(f"tile {kpi} has no page {page}; it has {len(tile.rows)} rows")
    return _render(
        request,
        "tile.html",
        {
            "view": view,
            "tile": tile,
            "rows": tile.rows[start : start + _TILE_PAGE],
            "page": page,
            "first_row": start + 1,
            "pages": max(1, -(-len(tile.rows) // _TILE_PAGE)),
            "fresh": _freshness(ctx, view),
            "queue": queue,
            "knowledge": ctx.knowledge.for_anomalies(tile.anomalies),
            "fact_json": json.dumps(tile.fact.value.get("inputs"), indent=2) if tile.fact else "",
            "config_json": json.dumps(tile.fact.metadata.get("config"), indent=2)
            if tile.fact
            else "",
        },
        who,
    )


@router.get("/facts/{fact_id}", response_class=HTMLResponse)
def fact_page(request: Request, fact_id: int) -> Response:
    who = require(request)
    ctx = context(request)
    with ctx.engine.connect() as connection:
        fact = facts_by_id(connection, [fact_id]).get(fact_id)
    if fact is None:
        raise NotFoundError(f"no fact {fact_id}; facts are listed in /api/v1/facts")
    return _render(
        request,
        "fact.html",
        {
            "fact": fact,
            "value_json": json.dumps(fact.value, indent=2, default=str),
            "metadata_json": json.dumps(fact.metadata, indent=2, default=str),
        },
        who,
    )


@router.get("/approvals", response_class=HTMLResponse)
def approvals(request: Request) -> Response:
    who = require(request)
    ctx = context(request)
    view = ctx.view()
    return _render(
        request,
        "approvals.html",
        {"view": view, "queue": ctx.queue(view), "titles": TILE_TITLES},
        who,
    )


@router.post("/actions/{action_id:path}/decide")
def decide_action(
    request: Request,
    action_id: str,
    verdict: Annotated[str, Form(pattern="^(approve|reject|snooze)$")],
    csrf_token: Annotated[str, Form()] = "",
    rationale: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    who = require(request)
    require_csrf(request, who, csrf_token)
    ctx = context(request)
    action, anomaly = find_action(ctx, action_id)
    decision = decide(
        ctx.engine,
        action,
        verdict,
        actor=who.operator.email,
        now=ctx.clock(),
        shop=anomaly.shop_domain,
        rationale=rationale,
    )
    ctx.cache.invalidate()
    done = {"approve": "Approved", "reject": "Rejected", "snooze": "Snoozed"}[verdict]
    request.session["flash"] = f"{done}: {action.title} (decision {decision.id[:8]})"
    return RedirectResponse("/approvals", status_code=303)


@router.get("/decisions", response_class=HTMLResponse)
def history(
    request: Request,
    scope: str | None = None,
    actor: str | None = None,
    since: Annotated[str | None, Query(alias="from")] = None,
    until: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    who = require(request)
    ctx = context(request)
    filters = parse_filters(scope, actor, since, until)
    with ctx.engine.connect() as connection:
        rows = filters.decisions(connection, limit=_HISTORY_PAGE)
        outcomes = decision_outcomes(connection, rows, ctx.settings)
    return _render(
        request,
        "decisions.html",
        {
            "decisions": rows,
            "outcomes": outcomes,
            "filters": filters,
            "csv_query": urlencode(filters.query()),
        },
        who,
    )


@router.get("/decisions.csv")
def history_csv(
    request: Request,
    scope: str | None = None,
    actor: str | None = None,
    since: Annotated[str | None, Query(alias="from")] = None,
    until: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    require(request)
    ctx = context(request)
    filters = parse_filters(scope, actor, since, until)
    with ctx.engine.connect() as connection:
        rows = filters.decisions(connection)
        outcomes = decision_outcomes(connection, rows, ctx.settings)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = ["id", "created_at", "scope", "actor", "action", "rationale", "evidence_url"]
    writer.writerow(
        [*columns, "shop_domain", "external_ref", "payload", "outcome", "outcome_reason"]
    )
    for row in rows:
        values = row.as_dict()
        outcome = outcomes.get(row.id)
        writer.writerow(
            [csv_cell(values[c]) for c in columns]
            + [
                csv_cell(values["shop_domain"]),
                csv_cell(values["external_ref"]),
                json.dumps(values["payload"], sort_keys=True) if values["payload"] else "",
                "" if outcome is None else outcome.outcome,
                "" if outcome is None else csv_cell(outcome.reason),
            ]
        )
    return StreamingResponse(
        iter([buffer.getvalue()]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="occ-decisions.csv"'},
    )


@router.get("/metrics", response_class=HTMLResponse)
def metrics_page(request: Request) -> Response:
    who = require(request)
    ctx = context(request)
    with ctx.engine.connect() as connection:
        metrics = operator_metrics(connection, ctx.clock())
    return _render(request, "metrics.html", {"metrics": metrics}, who)


@router.get("/settings", response_class=HTMLResponse)
def settings_page(
    request: Request,
    kpi: Annotated[str | None, Query(max_length=64)] = None,
    start: Annotated[str, Query(alias="from", max_length=32)] = "",
    end: Annotated[str, Query(alias="to", max_length=32)] = "",
    warning: Annotated[str, Query(max_length=32)] = "",
    critical: Annotated[str, Query(max_length=32)] = "",
    profile: Annotated[str, Query(max_length=32)] = "",
    band: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    """The settings in force (read-only) and, per replayable KPI, the backtest preview form;
    a submitted form (``kpi`` given; an unticked band box sends no ``band``) shows what the
    proposal would have raised per week beside the current thresholds."""
    who = require(request)
    ctx = context(request)
    ranges = default_ranges(ctx.engine)
    form = (
        None
        if kpi is None
        else PreviewForm(
            kpi, start, end, warning, critical, profile, band not in (None, "", "off", "0")
        )
    )
    result, error, status = None, None, 200
    if form is not None:
        try:
            result = run_preview(ctx.engine, ctx.settings, form)
        except OccError as exc:
            error = mask(str(exc))
            status = 404 if isinstance(exc, NotFoundError) else 400
    return _render(
        request,
        "settings.html",
        {
            "groups": setting_groups(ctx.settings),
            "ranges": ranges,
            "form": form,
            "result": result,
            "error": error,
            "profiles": PROFILE_CHOICES,
            **({} if result is None or form is None else preview_page(form, result)),
        },
        who,
        status_code=status,
    )


@router.post("/refresh")
def refresh_now(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    who = require(request)
    require_csrf(request, who, csrf_token)
    ctx = context(request)
    _, started, source = ctx.start_refresh(who.operator.email, request)
    request.session["flash"] = (
        f"Refresh of {source} started" if started else "A refresh is already running"
    )
    return RedirectResponse("/", status_code=303)


# Sign-in ---------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only a local path is a redirect target (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: str | None = None) -> Response:
    return _render(request, "signin.html", {"next": _safe_next(next), "error": None}, None)


@router.post("/signin")
def signin(
    request: Request,
    email: Annotated[str, Form(max_length=255)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    ctx = context(request)
    if not csrf_valid(request, csrf_token):
        raise CsrfRejected()
    client = request.client.host if request.client else "unknown"
    now = ctx.clock()
    window = timedelta(minutes=ctx.settings.signin_lockout_minutes)
    with ctx.engine.begin() as connection:
        failures = count_failures(connection, email, client, now - window)
        if failures >= ctx.settings.signin_max_failures:
            minutes = ctx.settings.signin_lockout_minutes
            return _render(
                request,
                "signin.html",
                {
                    "next": _safe_next(next),
                    "error": f"Too many failed sign-ins; wait {minutes:g} minutes and try again.",
                },
                None,
                status_code=429,
            )
        operator = authenticate(connection, email, password)
        record_attempt(connection, email, client, operator is not None, now)
        if operator is not None:
            sign_in(request, connection, operator, now, _session_length(ctx))
    if operator is None:
        return _render(
            request,
            "signin.html",
            {"next": _safe_next(next), "error": "E-mail or password is wrong."},
            None,
            status_code=401,
        )
    ctx.usage_fact(SESSION_FACT, operator.email, request, method="password")
    return RedirectResponse(_safe_next(next), status_code=303)


@router.get("/signin/link")
def signin_link(request: Request, token: str = "") -> Response:
    ctx = context(request)
    now = ctx.clock()
    with ctx.engine.begin() as connection:
        operator = redeem_signin_link(connection, token, now) if token else None
        if operator is not None:
            sign_in(request, connection, operator, now, _session_length(ctx))
    if operator is None:
        return _render(
            request,
            "signin.html",
            {
                "next": "/",
                "error": "This sign-in link is expired or used; sign in with your password "
                "or ask for a new link (occ users link EMAIL).",
            },
            None,
            status_code=401,
        )
    ctx.usage_fact(SESSION_FACT, operator.email, request, method="link")
    return RedirectResponse("/", status_code=303)


@router.post("/signout")
def signout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    who = require(request)
    require_csrf(request, who, csrf_token)
    ctx = context(request)
    with ctx.engine.begin() as connection:
        sign_out(request, connection, ctx.clock())
    return RedirectResponse("/signin", status_code=303)


def _session_length(ctx: WebContext) -> timedelta:
    return timedelta(hours=ctx.settings.web_session_hours)


_PACKET_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
_PACKETS_LISTED = 52


def _packets(ctx: WebContext) -> list[dict[str, Any]]:
    """The newest packet written for each week, newest week first."""
    with ctx.engine.connect() as connection:
        rows = connection.execute(
            select(_FACTS.c.id, _FACTS.c.shop_domain, _FACTS.c.value, _FACTS.c.created_at)
            .where(_FACTS.c.fact_type == PACKET_FACT_TYPE)
            .order_by(_FACTS.c.id.desc())
            .limit(_PACKETS_LISTED * 4)
        ).all()
    weeks: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        value = row.value or {}
        key = (row.shop_domain, str(value.get("weekEnding")))
        if key not in weeks:
            weeks[key] = {**value, "shop": row.shop_domain, "writtenAt": row.created_at}
    listed = sorted(weeks.values(), key=lambda p: (p["weekEnding"], p["shop"]), reverse=True)
    return listed[:_PACKETS_LISTED]


@router.get("/insights", response_class=HTMLResponse)
def insights_page(request: Request) -> Response:
    who = require(request)
    packets = _packets(context(request))
    return _render(
        request,
        "insights.html",
        {"packets": packets, "latest": packets[0] if packets else None},
        who,
    )


@router.get("/insights/{week}", response_class=HTMLResponse)
def insights_packet(request: Request, week: str) -> Response:
    require(request)
    try:
        ending = date.fromisoformat(week)
    except ValueError:
        raise NotFoundError(f"{week!r} is not a week ending (YYYY-MM-DD)") from None
    packet = next(
        (p for p in _packets(context(request)) if p["weekEnding"] == ending.isoformat()), None
    )
    if packet is None:
        raise NotFoundError(
            f"no packet for the week ending {ending}; run occ insights weekly "
            f"--week-ending {ending}"
        )
    page = Path(str(packet["folder"])) / "index.html"
    try:
        html = page.read_text(encoding="utf-8")
    except OSError:
        raise NotFoundError(
            f"the packet of the week ending {ending} is no longer at {page.parent}; run occ "
            f"insights weekly --week-ending {ending}"
        ) from None
    # The packet is one self-contained page: its own inline styles and SVG, nothing else.
    return HTMLResponse(html, headers={"Content-Security-Policy": _PACKET_CSP})
