"""The JSON API under ``/api/v1`` (everything the pages show), plus ``/healthz`` and ``/readyz``.

Signed in by session cookie (then state changes need ``X-CSRF-Token``) or by
``Authorization: Bearer`` token. Errors are problem JSON (RFC 9457).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json
from sqlalchemy import Table, select, text
from sqlalchemy.exc import SQLAlchemyError

from occ import __version__
from occ.decisions.actions import decide
from occ.decisions.log import add_decision
from occ.decisions.operator_metrics import operator_metrics
from occ.decisions.outcomes import decision_outcomes
from occ.errors import NotFoundError
from occ.store.facts import MAX_FACT_ID, facts_by_id
from occ.store.tables import DashboardFact
from occ.web.context import context, memory_first
from occ.web.openapi import errors
from occ.web.preview import PreviewForm, run_preview
from occ.web.settings_view import setting_groups
from occ.web.tiles import KPI_ORDER, TILE_TITLES
from occ.web.views import find_action, parse_filters, require, require_csrf

__all__ = ["router"]

router = APIRouter()
_signed_in = APIRouter(responses=errors(401, 503))
"""The ``/api/v1`` routes: each needs a signed-in operator and reads the store."""
_FACTS: Table = DashboardFact.__table__  # type: ignore[assignment]
_MAX_OFFSET = 2**63 - 1
"""The largest offset SQL's 64-bit OFFSET holds."""


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: str = Field(min_length=1, max_length=64)
    action: str = Field(min_length=1, max_length=255)
    rationale: str | None = Field(default=None, max_length=2000)
    evidence_url: str | None = Field(default=None, max_length=2048)
    external_ref: str | None = Field(default=None, max_length=255)
    shop_domain: str | None = Field(default=None, max_length=255)
    payload: dict[str, Any] | None = None


class VerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["approve", "reject", "snooze"]
    rationale: str | None = Field(default=None, max_length=2000)


@router.get("/healthz", tags=["health"])
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok", "version": __version__}


_NOT_READY: dict[str, Any] = {
    "description": "The database does not answer (`database` names the error's class)",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"status": {"const": "unavailable"}, "database": {"type": "string"}},
                "required": ["status", "database"],
            }
        }
    },
}


@router.get("/readyz", tags=["health"], responses={503: _NOT_READY})
def readyz(request: Request) -> Response:
    """The database answers."""
    ctx = context(request)
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return JSONResponse(
            {"status": "unavailable", "database": type(exc).__name__}, status_code=503
        )
    return JSONResponse({"status": "ready"})


def _view_or_404(request: Request) -> Any:
    view = context(request).view()
    if view is None:
        raise NotFoundError("no refresh recorded yet; run occ refresh or occ demo")
    return view


@_signed_in.get("/api/v1/tiles", tags=["tiles"], responses=errors(404))
@memory_first(queue=False)
def tiles(request: Request) -> Response:
    """The six tiles of the newest refresh, with freshness and source."""
    require(request)
    ctx = context(request)
    view = _view_or_404(request)
    fresh = view.freshness(ctx.clock(), timedelta(minutes=ctx.settings.refresh_interval_minutes))
    head = to_json({"shop": view.shop, "runId": view.run_id, "freshness": fresh})
    return Response(
        head[:-1] + b',"tiles":' + view.tiles_json() + b"}", media_type="application/json"
    )


@_signed_in.get("/api/v1/tiles/{kpi}", tags=["tiles"], responses=errors(404))
def tile(
    request: Request,
    kpi: str,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """One tile with the rows behind it (a page: ``offset``, ``limit``; ``nextOffset`` is
    null on the last page), its forecasts and its configuration."""
    require(request)
    ctx = context(request)
    if kpi not in TILE_TITLES:
        raise NotFoundError(f"no tile {kpi!r}; the tiles are {', '.join(KPI_ORDER)}")
    view = _view_or_404(request)
    tile = view.tiles[kpi]
    fresh = view.freshness(ctx.clock(), timedelta(minutes=ctx.settings.refresh_interval_minutes))
    end = offset + limit
    return {
        **tile.as_dict(),
        "rows": tile.rows[offset:end],
        "offset": offset,
        "limit": limit,
        "nextOffset": end if end < len(tile.rows) else None,
        "freshness": fresh,
        "inputs": tile.fact.value.get("inputs") if tile.fact else None,
        "config": tile.fact.metadata.get("config") if tile.fact else None,
        "forecasts": [f.value for f in tile.forecasts],
    }


def _fact_dict(fact: Any) -> dict[str, Any]:
    return {
        "id": fact.id,
        "shopDomain": fact.shop_domain,
        "factType": fact.fact_type,
        "scope": fact.scope,
        "value": fact.value,
        "metadata": fact.metadata,
        "evidenceUrl": fact.evidence_url,
        "createdAt": fact.created_at.isoformat(),
    }


@_signed_in.get("/api/v1/facts", tags=["facts"])
def facts(
    request: Request,
    fact_type: Annotated[str | None, Query(alias="type", max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, Query(ge=1, le=MAX_FACT_ID)] = None,
) -> dict[str, Any]:
    """Facts, newest first (optionally of one type); page with ``before`` = the last id."""
    require(request)
    ctx = context(request)
    query = select(_FACTS.c.id).order_by(_FACTS.c.id.desc()).limit(limit)
    if fact_type:
        query = query.where(_FACTS.c.fact_type == fact_type)
    if before:
        query = query.where(_FACTS.c.id < before)
    with ctx.engine.connect() as connection:
        ids = list(connection.execute(query).scalars())
        rows = facts_by_id(connection, ids)
    return {"facts": [_fact_dict(rows[i]) for i in ids if i in rows]}


@_signed_in.get("/api/v1/facts/{fact_id}", tags=["facts"], responses=errors(404))
def fact(request: Request, fact_id: int) -> dict[str, Any]:
    require(request)
    ctx = context(request)
    with ctx.engine.connect() as connection:
        found = facts_by_id(connection, [fact_id]).get(fact_id)
    if found is None:
        raise NotFoundError(f"no fact {fact_id}")
    return _fact_dict(found)


@_signed_in.get("/api/v1/anomalies", tags=["anomalies"], responses=errors(404))
def anomalies(request: Request) -> dict[str, Any]:
    """The anomalies of the newest refresh, each with its fact id."""
    require(request)
    view = _view_or_404(request)
    return {
        "runId": view.run_id,
        "anomalies": [
            {"factId": a.id, **a.value} for k in KPI_ORDER for a in view.tiles[k].anomalies
        ],
    }


@_signed_in.get("/api/v1/incidents", tags=["anomalies"], responses=errors(404))
def incidents(request: Request) -> dict[str, Any]:
    """The cross-source incidents of the newest refresh (as ``occ incidents --json``)."""
    require(request)
    view = _view_or_404(request)
    return {"shop": view.shop, "runId": view.run_id, "incidents": view.incidents}


@_signed_in.get("/api/v1/actions", tags=["approvals"])
def actions(request: Request) -> dict[str, Any]:
    """The approvals queue: suggested actions without a verdict."""
    require(request)
    ctx = context(request)
    view = ctx.view()
    return {"actions": [a.as_dict() for a in ctx.queue(view)]}


@_signed_in.post(
    "/api/v1/actions/{action_id:path}/decision",
    tags=["approvals"],
    status_code=201,
    responses=errors(403, 404, 409),
)
def decide_action(request: Request, action_id: str, body: VerdictIn) -> dict[str, Any]:
    """Approve, reject or snooze an action (409 when it already has a verdict)."""
    who = require(request)
    require_csrf(request, who)
    ctx = context(request)
    action, anomaly = find_action(ctx, action_id)
    decision = decide(
        ctx.engine,
        action,
        body.verdict,
        actor=who.operator.email,
        now=ctx.clock(),
        shop=anomaly.shop_domain,
        rationale=body.rationale,
    )
    ctx.cache.invalidate()
    return decision.as_dict()


@_signed_in.get("/api/v1/decisions", tags=["decisions"])
def decisions(
    request: Request,
    scope: str | None = None,
    actor: str | None = None,
    since: Annotated[str | None, Query(alias="from")] = None,
    until: Annotated[str | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=_MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """Decisions, newest first, filtered by scope, actor and UTC dates (inclusive)."""
    require(request)
    ctx = context(request)
    filters = parse_filters(scope, actor, since, until)
    with ctx.engine.connect() as connection:
        rows = filters.decisions(connection, limit=limit, offset=offset)
        outcomes = decision_outcomes(connection, rows, ctx.settings)
    return {
        "decisions": [
            row.as_dict()
            | {"outcome": None if row.id not in outcomes else outcomes[row.id].as_dict()}
            for row in rows
        ]
    }


@_signed_in.post("/api/v1/decisions", tags=["decisions"], status_code=201, responses=errors(403))
def create_decision(request: Request, body: DecisionIn) -> dict[str, Any]:
    """Record a decision (a note, an acknowledgement) by the signed-in operator."""
    who = require(request)
    require_csrf(request, who)
    ctx = context(request)
    decision = add_decision(
        ctx.engine,
        scope=body.scope,
        actor=who.operator.email,
        action=body.action,
        now=ctx.clock(),
        rationale=body.rationale,
        evidence_url=body.evidence_url,
        shop_domain=body.shop_domain,
        external_ref=body.external_ref,
        payload=body.payload,
    )
    return decision.as_dict()


@_signed_in.get("/api/v1/metrics/operators", tags=["metrics"])
def operators(request: Request) -> dict[str, Any]:
    """Activation rate, SLA resolution time and anomaly response rate."""
    require(request)
    ctx = context(request)
    with ctx.engine.connect() as connection:
        return operator_metrics(connection, ctx.clock()).as_dict()


@_signed_in.get("/api/v1/refresh", tags=["refresh"])
def refresh_state(request: Request) -> dict[str, Any]:
    require(request)
    return context(request).refresher.state.as_dict()


@_signed_in.post("/api/v1/refresh", tags=["refresh"], status_code=202, responses=errors(403))
def refresh(request: Request) -> dict[str, Any]:
    """Start a refresh in the background (one at a time); poll GET /api/v1/refresh."""
    who = require(request)
    require_csrf(request, who)
    ctx = context(request)
    state, started, _ = ctx.start_refresh(who.operator.email, request)
    return {**state.as_dict(), "started": started}


@_signed_in.get("/api/v1/settings", tags=["settings"])
def settings(request: Request) -> dict[str, Any]:
    """The alerting settings in force (read-only; never a secret), each with its source
    (``default`` or ``configured``), environment variable and ``occ.toml`` key."""
    require(request)
    return {"groups": [group.as_dict() for group in setting_groups(context(request).settings)]}


@_signed_in.get("/api/v1/alerts/backtest", tags=["alerts"], responses=errors(404))
def alerts_backtest(
    request: Request,
    kpi: Annotated[str, Query(max_length=64)],
    start: Annotated[str, Query(alias="from", max_length=32)] = "",
    end: Annotated[str, Query(alias="to", max_length=32)] = "",
    warning: Annotated[str, Query(max_length=32)] = "",
    critical: Annotated[str, Query(max_length=32)] = "",
    profile: Annotated[str, Query(max_length=32)] = "",
    band: bool = True,
    shop: Annotated[str | None, Query(max_length=255)] = None,
) -> dict[str, Any]:
    """What a proposed threshold (``warning``/``critical``, or ``profile`` current |
    sensitive | quiet) would have raised per week (Monday–Sunday) beside the current one —
    the document of ``occ alerts backtest --json``. ``from``/``to`` default to the last 8
    weeks of stored history; ``band=false`` skips the (slower) forecast-band replay."""
    require(request)
    ctx = context(request)
    form = PreviewForm(kpi, start, end, warning, critical, profile, band)
    return run_preview(ctx.engine, ctx.settings, form, shop=shop).as_dict()


router.include_router(_signed_in)
