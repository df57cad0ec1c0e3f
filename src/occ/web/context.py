"""What every request handler shares: settings, the store, the dashboard cache, the clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from occ.config import Settings
from occ.decisions.actions import SuggestedAction, open_actions
from occ.decisions.operator_metrics import REFRESH_FACT, SESSION_FACT
from occ.store.facts import write_fact
from occ.web.refresher import Refresher
from occ.web.tiles import DashboardCache, RunView

__all__ = ["TEMPLATES_DIR", "WebContext", "context", "request_id"]

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

    def view(self) -> RunView | None:
        with self.engine.connect() as connection:
            return self.cache.current(connection)

    def queue(self, view: RunView | None) -> list[SuggestedAction]:
        if view is None:
            return []
        quiet = timedelta(hours=self.settings.action_quiet_hours)
        with self.engine.connect() as connection:
            return open_actions(connection, view.actions, self.clock(), quiet)

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

    def refresh_source(self) -> str:
        view = self.view()
        if view is not None:
            return view.source_name
        configured = self.settings.shopify_shop or self.settings.chatwoot_url
        return "live" if configured or self.settings.ga4_property_id else "demo"


SESSION_OPENED = SESSION_FACT
REFRESH_TRIGGERED = REFRESH_FACT


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
