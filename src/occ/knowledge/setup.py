"""What a knowledge build or query runs with, chosen from the settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from occ import __version__
from occ.config import Settings
from occ.knowledge.build import CrawlOptions
from occ.knowledge.index import Embedder

__all__ = ["USER_AGENT", "crawl_client", "crawl_options", "embedder_for"]

USER_AGENT = f"occ/{__version__} (+operator control center; knowledge crawler)"

_EMBEDDERS: dict[int, Embedder] = {}


def embedder_for(settings: Settings) -> tuple[Embedder | None, str | None]:
    """The local embedding model (loaded once per process), or None and why not.

    Without the ``dense`` extra, retrieval falls back to BM25 and the reason says so.
    """
    if settings.knowledge_dense == "off":
        return None, "dense embeddings are off (knowledge_dense = off): BM25 only"
    threads = settings.knowledge_threads
    if threads not in _EMBEDDERS:
        from occ.knowledge.dense import DenseUnavailable, load_embedder

        try:
            _EMBEDDERS[threads] = load_embedder(threads)
        except DenseUnavailable as exc:
            return None, f"{exc}; using BM25 only"
    return _EMBEDDERS[threads], None


def crawl_options(settings: Settings) -> CrawlOptions:
    return CrawlOptions(
        user_agent=USER_AGENT,
        requests_per_second=settings.crawl_requests_per_second,
        concurrency=settings.crawl_concurrency,
        max_pages=settings.crawl_max_pages,
    )


@contextmanager
def crawl_client(settings: Settings) -> Iterator[httpx.Client]:
    """The crawler's HTTP client: timeouts, a bounded number of redirects followed."""
    with httpx.Client(
        timeout=settings.http_timeout_seconds,
        follow_redirects=True,
        max_redirects=settings.crawl_max_redirects,
        headers={"User-Agent": USER_AGENT},
    ) as client:
        yield client
