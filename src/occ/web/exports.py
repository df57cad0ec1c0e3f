"""Download links of the operator exports (``occ export``), behind the dashboard's sign-in.

``/exports/conversations.csv|json`` and ``/exports/sla.csv|json`` (``?by=agent|team``), each
with ``?from=&to=`` (shop days, inclusive) and ``?shop=``; the SLA is judged at the request's
instant. Same files as the CLI writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from occ.errors import ConfigError
from occ.exports import (
    FORMATS,
    ConversationExport,
    conversation_export,
    export_days,
    render_conversations,
    render_sla,
)
from occ.metrics.conversations import sla_by_group
from occ.web.context import context
from occ.web.views import require

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _export(
    request: Request, shop: str | None, since: str | None, until: str | None
) -> ConversationExport:
    """The export as of the request's instant (the caller checked the sign-in)."""
    ctx = context(request)
    first_day, last_day = export_days(since or None, until or None)
    with ctx.engine.connect() as connection:
        return conversation_export(
            connection,
            shop or None,
            first_day=first_day,
            last_day=last_day,
            now=ctx.clock(),
            sla=ctx.settings.kpis.sla,
            business_hours=ctx.settings.sla_business_hours,
        )


def _download(text: str, name: str, fmt: str) -> Response:
    return Response(
        text,
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="occ-{name}.{fmt}"'},
    )


Since = Annotated[str | None, Query(alias="from")]
Until = Annotated[str | None, Query(alias="to")]


def _conversations_route(fmt: str) -> Callable[..., Response]:
    def download(
        request: Request, shop: str | None = None, since: Since = None, until: Until = None
    ) -> Response:
        require(request)
        made = _export(request, shop, since, until)
        return _download(render_conversations(made.rows, fmt), "conversations", fmt)

    return download


def _sla_route(fmt: str) -> Callable[..., Response]:
    def download(
        request: Request,
        by: str = "agent",
        shop: str | None = None,
        since: Since = None,
        until: Until = None,
    ) -> Response:
        require(request)
        if by not in ("agent", "team"):
            raise ConfigError(f"unknown by={by!r}; use agent or team")
        made = _export(request, shop, since, until)
        groups = sla_by_group(made.rows, "agent" if by == "agent" else "team")
        return _download(render_sla(groups, fmt), f"sla-by-{by}", fmt)

    return download


# One route per file name and format, e.g. /exports/sla.json.
for _fmt in FORMATS:
    router.add_api_route(f"/exports/conversations.{_fmt}", _conversations_route(_fmt))
    router.add_api_route(f"/exports/sla.{_fmt}", _sla_route(_fmt))
