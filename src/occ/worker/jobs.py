"""The worker's built-in jobs, registered in the schedule of ``occ worker``.

- ``sync``: pending decisions and facts to the mirror (``sync_outbox``);
- ``refresh``: a live refresh of every configured upstream (``run_refresh``), then the
  outcome checks that fell due (``check_outcomes``);
- ``health``: the sync events of the last window analysed and, with a mirror, parity
  (``occ.worker.health``).

Later capabilities add theirs with ``register_job`` (``occ.worker.registry``), re-exported
here.
"""

from __future__ import annotations

from occ.config import Settings
from occ.decisions import sync_outbox
from occ.decisions.outcomes import check_outcomes
from occ.errors import MirrorError
from occ.refresh import run_refresh
from occ.refresh.choose import live_source
from occ.sources.http import connector_client
from occ.worker.health import PARITY_FACT_TYPE, health_job, parity_anomaly
from occ.worker.registry import (
    JOBS,
    JobContext,
    JobRegistry,
    JobSkipped,
    JobSpec,
    Schedule,
    WorkerStopping,
    mirror_url_of,
    register_job,
)

__all__ = [
    "JOBS",
    "PARITY_FACT_TYPE",
    "JobContext",
    "JobRegistry",
    "JobSkipped",
    "JobSpec",
    "Schedule",
    "WorkerStopping",
    "health_job",
    "mirror_url_of",
    "parity_anomaly",
    "refresh_job",
    "register_job",
    "sync_job",
]


# --- sync --------------------------------------------------------------------------------------


def sync_job(context: JobContext) -> str:
    """Deliver pending decisions and facts to the mirror.

    A backoff wait interrupted by a stop abandons the attempt: its entries stay pending.

    Raises:
        JobSkipped: no mirror is configured.
        MirrorError: the mirror refused the sync or entries stayed pending.
    """
    url = mirror_url_of(context.settings)
    if url is None:
        raise JobSkipped("no mirror configured (set OCC_MIRROR_URL)")
    report = sync_outbox(
        context.primary, url, context.settings, sleep=context.sleep, worker_id=context.worker_id
    )
    counts = f"sent {report.sent}, skipped {report.skipped}, pending {report.failed}"
    counts += f", dead {report.dead}"
    if report.error is not None:
        raise MirrorError(
            f"{counts}; the mirror {report.mirror} failed ({report.error}); entries stay pending"
        )
    notices = "".join(f"; {notice}" for notice in report.notices)
    return f"{counts}{notices}"


# --- refresh -----------------------------------------------------------------------------------


def _live_configured(settings: Settings) -> bool:
    """Whether any live upstream setting is given (a half-given one fails in the refresh)."""
    return any(
        value is not None and value != ""
        for value in (
            settings.shopify_shop,
            settings.shopify_access_token,
            settings.shopify_client_id,
            settings.shopify_client_secret,
            settings.chatwoot_url,
            settings.chatwoot_account_id,
            settings.chatwoot_api_token,
            settings.ga4_property_id,
            settings.ga4_credentials_file,
        )
    )


def refresh_job(context: JobContext) -> str:
    """Refresh the store from every configured live upstream, as ``occ refresh --source live``.

    The refresh is one transaction: stopped or failed half-way, it leaves the store as it was.

    Raises:
        JobSkipped: no live source is configured.
        OccError: the refresh failed (an upstream, the database, a bad setting).
    """
    settings = context.settings
    if not _live_configured(settings):
        raise JobSkipped("no live source configured (see `occ sources check`)")
    now = context.now()
    with connector_client(settings, "worker") as http:
        payloads = live_source(settings, http, context.primary, now, sleep=context.sleep)
        report = run_refresh(context.primary, settings, payloads, now, clock=context.clock)
    checked = check_outcomes(context.primary, settings, now=now, clock=context.clock)
    stored = sum(stream.stored for stream in report.streams.values())
    detail = f"run {report.run_id} of {report.shop.domain}: {stored:,} records"
    if report.quarantined:
        detail += f", {report.quarantined} quarantined"
    if checked.recorded:
        detail += f"; {checked.summary()}"
    return detail + "".join(f"; {notice}" for notice in payloads.notices)


register_job(
    "sync",
    sync_job,
    lambda settings: Schedule(seconds=settings.worker_sync_seconds),
    description="pending decisions and facts to the mirror",
)
register_job(
    "refresh",
    refresh_job,
    lambda settings: Schedule(seconds=settings.worker_refresh_minutes * 60),
    description="live refresh of the configured upstreams",
)
register_job(
    "health",
    health_job,
    lambda settings: Schedule(seconds=settings.worker_health_minutes * 60),
    description="sync-log analysis and parity, stored as facts",
)
