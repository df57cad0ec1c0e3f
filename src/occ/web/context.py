"""What every request handler shares: settings, the store, the dashboard cache, the clock."""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from occ.config import Settings
from occ.decisions.actions import DecisionMark, SuggestedAction
from occ.decisions.operator_metrics import REFRESH_FACT
from occ.store.facts import write_fact
from occ.web.knowledge import KnowledgeShelf
from occ.web.refresher import Refresher, RefreshState
from occ.web.security import known
from occ.web.tiles import DashboardCache, RunView

__all__ = ["TEMPLATES_DIR", "WebContext", "context", "memory_first", "request_id"]

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


@dataclass
class WebContext:
    settings: Settings
    engine: Engine
    cache: DashboardCache
    refresher: Refresher
    templates: Jinja2Templates
    clock: Callable[[], datetime]
    knowledge: KnowledgeShelf

    def view(self) -> RunView | None:
        view = self.cache.recent()
        if view is not None:
            return view
        with self.engine.connect() as connection:
            return self.cache.current(connection)

    def warm(self, request: Request, *, queue: bool) -> bool:
        """Whether the sign-in, the newest view and (``queue``) its decisions are in memory."""
        if not known(request):
            return False
        view = self.cache.servable()
        if view is None:
            return False
        return not queue or self.cache.servable_mark(view) is not None

    def _mark(self, view: RunView) -> DecisionMark:
        mark = self.cache.recent_mark(view)
        if mark is None:
            with self.engine.connect() as connection:
                mark = self.cache.decisions(connection, view)
        return mark

    def queue_counts(self, view: RunView | None) -> Counter[str]:
        """How many actions of each KPI wait for a verdict (without listing them)."""
        if view is None:
            return Counter()
        since = self.clock() - timedelta(hours=self.settings.action_quiet_hours)
        closed = self._mark(view).closed(view.actions_by_id, view.actions_by_subject, since)
        counts = Counter(view.action_counts)
        counts.subtract(a.kpi for a in closed)
        return counts

    def queue(self, view: RunView | None) -> list[SuggestedAction]:
        if view is None:
            return []
        since = self.clock() - timedelta(hours=self.settings.action_quiet_hours)
        return self._mark(view).open(view.actions, since)

    def usage_fact(self, fact_type: str, operator: str, request: Request, **extra: Any) -> None:
        """Record a usage fact (mirrored like every fact) for the operator metrics."""
        view = self.view()
        shop = view.shop if view else (self.settings.shop_domain or "unknown")
        now = self.clock()
        with self.engine.begin() as connection:
            write_fact(
                connection,
                shop=shop,
                fact_type=fact_type,
                scope="usage",
                value={"operator": operator, "requestId": request_id(request), **extra},
                metadata={"path": request.url.path},
                now=now,
            )

    def start_refresh(self, operator: str, request: Request) -> tuple[RefreshState, bool, str]:
        """Start "Refresh now" (unless one runs) and record it as a usage fact when started:
        the state, whether it started, and the source it reads."""
        source = self.refresh_source()
        state, started = self.refresher.start(source, operator)
        if started:
            self.usage_fact(REFRESH_FACT, operator, request, source=source)
        return state, started, source

    def refresh_source(self) -> str:
        view = self.view()
        if view is not None:
            return view.source_name
        configured = self.settings.shopify_shop or self.settings.chatwoot_url
        return "live" if configured or self.settings.ga4_property_id else "demo"


def memory_first(
    *, queue: bool
) -> Callable[[Callable[..., Response]], Callable[..., Awaitable[Response]]]:
    """Run a sync handler on the event loop when all it reads is in memory (no store round
    trip: the common case of a dashboard polled by many clients), else in the threadpool
    as FastAPI runs any sync handler, so that a query never blocks the loop.

    ``queue``: the handler reads the approvals queue (the decisions on the run's actions).
    """

    def wrap(handler: Callable[..., Response]) -> Callable[..., Awaitable[Response]]:
        @functools.wraps(handler)
        async def run(request: Request, *args: Any, **kwargs: Any) -> Response:
            if context(request).warm(request, queue=queue):
                return handler(request, *args, **kwargs)
            return await run_in_threadpool(handler, request, *args, **kwargs)

        return run

    return wrap


def context(request: Request) -> WebContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, WebContext)
    return ctx


def request_id(request: Request) -> str:
    value = getattr(request.state, "request_id", None)
    if not isinstance(value, str):
        value = str(uuid.uuid4())
        request.state.request_id = value
    return value
