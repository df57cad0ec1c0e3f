"""The worker's ``knowledge`` job: re-crawl the sites and rebuild the index incrementally.

Nightly at ``worker_knowledge_cron`` (00:30 UTC by default): the sources remembered by
earlier builds and ``knowledge_sources``, plus the decision log. Unchanged passages keep
their embeddings; pages that did not change answer 304 to the conditional requests.
"""

from __future__ import annotations

from occ.knowledge.build import build_index, registered_sources
from occ.knowledge.setup import crawl_client, crawl_options, embedder_for
from occ.worker.registry import JobContext, JobSkipped, Schedule, register_job

__all__ = ["knowledge_job"]


def knowledge_job(context: JobContext) -> str:
    """Rebuild the knowledge index from its sources.

    Raises:
        JobSkipped: no source was ever given (``occ knowledge build --source …``).
    """
    settings = context.settings
    root = settings.resolved_knowledge_dir()
    if not registered_sources(root) and not settings.knowledge_sources:
        raise JobSkipped("no knowledge source yet (occ knowledge build --source FOLDER|URL)")
    embedder, notice = embedder_for(settings)
    with crawl_client(settings) as client:
        report = build_index(
            root,
            context.primary,
            list(settings.knowledge_sources),
            embedder=embedder,
            now=context.now(),
            max_bytes=settings.knowledge_max_bytes,
            client=client,
            crawl=crawl_options(settings),
            notices=[notice] if notice else [],
        )
    stats = report.stats
    return (
        f"version {stats.version}: {stats.passages} passages, {stats.embedded} embedded, "
        f"{stats.reused} unchanged, {len(report.loaded.skipped)} left out, "
        f"{len(report.loaded.failed)} failed"
    )


register_job(
    "knowledge",
    knowledge_job,
    lambda settings: Schedule(cron=settings.worker_knowledge_cron),
    description="re-crawl the sites and rebuild the knowledge index incrementally",
)
