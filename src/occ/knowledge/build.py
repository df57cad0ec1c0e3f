"""Building the index from its sources: what to read, reading it, writing a new version.

A source is a folder (Markdown / text), an NDJSON of pages or of reply templates (told
apart by their first object: pages have ``source``), or a site URL (crawled first, its
pages kept in ``sites/<host>.ndjson`` for the next crawl's conditional requests). The
sources given once are remembered in ``sources.json`` so that the nightly job rebuilds the
same index; the decision log is always indexed. Each build records a
``knowledge.index.built`` fact with what it indexed and what it left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, Table, select

from occ.errors import ConfigError, UpstreamUnavailable
from occ.knowledge.crawl import CrawlResult, crawl_site, read_previous, write_pages
from occ.knowledge.index import BuildStats, Embedder, write_version
from occ.knowledge.sources import (
    Loaded,
    decision_passages,
    load_folder,
    load_pages,
    load_templates,
)
from occ.store.facts import write_fact
from occ.store.runs import newest_shop
from occ.store.tables import DecisionLog

__all__ = [
    "BUILD_FACT_TYPE",
    "BuildReport",
    "CrawlOptions",
    "build_index",
    "is_site_url",
    "registered_sources",
    "shown",
    "source_kind",
]

BUILD_FACT_TYPE = "knowledge.index.built"
_DECISIONS = cast(Table, DecisionLog.__table__)


@dataclass(frozen=True, slots=True)
class CrawlOptions:
    user_agent: str
    requests_per_second: float = 2.0
    concurrency: int = 2
    max_pages: int = 1000


@dataclass
class BuildReport:
    loaded: Loaded
    stats: BuildStats
    sources: list[str]
    crawled: dict[str, dict[str, int]] = field(default_factory=dict)
    fact_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.stats.version,
            "sources": self.sources,
            "documents": self.loaded.documents,
            "passages": self.stats.passages,
            "embedded": self.stats.embedded,
            "reusedEmbeddings": self.stats.reused,
            "model": self.stats.model,
            "skipped": [{"item": item, "reason": why} for item, why in self.loaded.skipped],
            "failed": [{"item": item, "reason": why} for item, why in self.loaded.failed],
            "notices": self.loaded.notices,
            "crawled": self.crawled,
        }


_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*:/+)[^/@\s]*@")


def is_site_url(location: str) -> bool:
    """Whether ``location`` names a web site (``http://`` or ``https://``, in any case)."""
    return location[:8].lower().startswith(("http://", "https://"))


def shown(location: str) -> str:
    """``location`` fit for a message: a ``user:password@`` after any scheme masked."""
    return _USERINFO.sub(r"\1***@", location)


def source_kind(location: str) -> str:
    """``url``, ``folder``, ``pages`` or ``templates``.

    Raises:
        ConfigError: not a URL, an existing folder or an NDJSON file; a URL with credentials.
    """
    if is_site_url(location):
        parts = urlsplit(location)
        if not parts.netloc:
            raise ConfigError(
                f"{shown(location)!r} is not a site URL; use e.g. https://shop.example/"
            )
        if parts.username is not None or parts.password is not None:
            # It would be printed, remembered as a source and kept in every passage's URL.
            raise ConfigError(
                f"the site URL for {parts.hostname} carries credentials; occ indexes public "
                "pages: pass it without user:password@"
            )
        return "url"
    path = Path(location)
    if path.is_dir():
        return "folder"
    if not path.is_file():
        raise ConfigError(
            f"knowledge source {shown(location)!r} is neither a folder, an NDJSON file nor a URL"
        )
    with path.open("rb") as lines:
        for raw in lines:
            if not raw.strip():
                continue
            try:
                first = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise ConfigError(
                    f"{location}: its first line is not JSON; pass an NDJSON of pages or of "
                    "reply templates"
                ) from None
            return "pages" if isinstance(first, dict) and "source" in first else "templates"
    raise ConfigError(f"{location} is empty; pass an NDJSON of pages or of reply templates")


def _normalised(location: str) -> str:
    return location if is_site_url(location) else str(Path(location).resolve())


def registered_sources(root: Path) -> list[str]:
    try:
        listed = json.loads((root / "sources.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return []
    return [str(s) for s in listed] if isinstance(listed, list) else []


def _remember(root: Path, sources: list[str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    partial = root / ".sources.json.partial"
    partial.write_text(json.dumps(sources, indent=2), encoding="utf-8")
    partial.replace(root / "sources.json")


def _site_file(root: Path, url: str) -> Path:
    host = urlsplit(url).netloc.replace(":", "_")
    return root / "sites" / f"{host}.ndjson"


def _nothing_fetched(location: str, result: CrawlResult) -> str:
    """Why no page of ``location`` was fetched, in one line (a failed page named first)."""
    failed = [(p["source"], p["error"]) for p in result.pages if "error" in p]
    failed += [f for f in result.failures if f not in failed]
    if failed:
        url, why = failed[0]
        reason = f"{len(failed):,} requests failed, e.g. {url}: {why}"
    elif result.skipped:
        url, why = result.skipped[0]
        reason = f"{len(result.skipped):,} listed pages were skipped, e.g. {url}: {why}"
    else:
        reason = "it listed no page"
    return (
        f"no page of {location} could be fetched ({reason}); the index and the earlier crawl "
        "are unchanged — check the address and that the site is up"
    )


def _crawl(
    root: Path,
    location: str,
    client: httpx.Client,
    crawl: CrawlOptions,
    max_bytes: int,
    say: Callable[[str, int, int], None],
    *,
    required: bool = False,
) -> tuple[Loaded, dict[str, int]]:
    """Crawl one site into ``sites/<host>.ndjson`` (the previous crawl answers conditional
    requests) and read its pages back like any NDJSON of pages.

    When not one page could be fetched but an earlier crawl stored some, that crawl is kept
    (a site down for the night must not empty the index of its pages) and a notice says so.

    Raises:
        UpstreamUnavailable: ``required`` and not one page could be fetched; nothing was
            written.
    """
    site = _site_file(root, location)
    previous = read_previous(site)
    result = crawl_site(
        client,
        location,
        user_agent=crawl.user_agent,
        requests_per_second=crawl.requests_per_second,
        concurrency=crawl.concurrency,
        max_bytes=max_bytes,
        max_pages=crawl.max_pages,
        previous=previous,
        on_page=lambda done, total: say(f"crawling {location}", done, total),
    )
    stored = sum(1 for page in result.pages if "content" in page)
    if required and not stored:
        raise UpstreamUnavailable(_nothing_fetched(location, result))
    kept = 0
    if stored or not previous:
        write_pages(site, result.pages)
    else:
        kept = len(previous)
    loaded = Loaded(skipped=list(result.skipped))
    if kept:
        loaded.notices.append(
            f"no page of {location} could be fetched this time; kept the previous crawl's"
            f" {kept} page(s) — check that the site is up"
        )
    loaded.extend(load_pages(site, max_bytes))
    # Pages that failed are in the NDJSON (and so in load_pages' failures); robots.txt and
    # sitemap failures are not.
    page_errors = {p["source"] for p in result.pages if "error" in p and not kept}
    loaded.failed += [f for f in result.failures if f[0] not in page_errors]
    counts = {
        "requests": result.requests,
        "pages": stored,  # fetched (or confirmed not modified) and stored
        "pagesFailed": len(result.pages) - stored,
        "notModified": result.not_modified,
        "failures": len(result.failures),
        "keptPrevious": kept,  # pages of the earlier crawl kept when none could be fetched
    }
    return loaded, counts


def build_index(
    root: Path,
    engine: Engine,
    sources: Sequence[str],
    *,
    embedder: Embedder | None,
    now: datetime,
    max_bytes: int,
    client: httpx.Client | None = None,
    crawl: CrawlOptions | None = None,
    step: Callable[[str, int, int], None] | None = None,
    notices: Sequence[str] = (),
    require_pages: Sequence[str] = (),
) -> BuildReport:
    """Read every source (those given, those remembered) and the decision log; write a new
    index version and record the build as a fact.

    ``require_pages`` are site URLs of which at least one page must be fetched (``occ
    knowledge crawl URL``); a remembered site that answers nothing only shows in the report.

    Raises:
        ConfigError: a source is not a folder, an NDJSON file or a URL, or a URL is given
            without an HTTP client.
        UpstreamUnavailable: not one page of a site in ``require_pages`` could be fetched;
            nothing was written (index, earlier crawl and remembered sources unchanged).
    """
    say = step or (lambda _what, _done, _total: None)
    wanted = list(dict.fromkeys([*registered_sources(root), *map(_normalised, sources)]))
    kinds = {location: source_kind(location) for location in wanted}
    required = set(map(_normalised, require_pages))
    loaded = Loaded(notices=list(notices))
    crawled: dict[str, dict[str, int]] = {}
    # The sites that must answer first: one that cannot stops the build before any other
    # source (a remembered site's crawl file, say) was touched.
    order = sorted(wanted, key=lambda location: location not in required)
    for number, location in enumerate(order, start=1):
        say(f"reading {location}", number - 1, len(wanted))
        kind = kinds[location]
        if kind == "folder":
            loaded.extend(load_folder(Path(location), max_bytes))
        elif kind == "pages":
            loaded.extend(load_pages(Path(location), max_bytes))
        elif kind == "templates":
            loaded.extend(load_templates(Path(location), max_bytes))
        else:
            if client is None or crawl is None:
                raise ConfigError(f"{location} needs a crawl; run occ knowledge crawl {location}")
            site_loaded, crawled[location] = _crawl(
                root, location, client, crawl, max_bytes, say, required=location in required
            )
            loaded.extend(site_loaded)
    with engine.connect() as connection:
        rows = connection.execute(select(_DECISIONS).order_by(_DECISIONS.c.created_at)).all()
        shop = newest_shop(connection)
    loaded.extend(decision_passages(rows))
    passages = list({p.id: p for p in loaded.passages}.values())  # last one of an id wins
    report_meta = {
        "documents": loaded.documents,
        "skipped": len(loaded.skipped),
        "failed": len(loaded.failed),
        "builtAt": now.isoformat(),
    }
    stats = write_version(root, passages, embedder, report_meta, step=say)
    _remember(root, wanted)
    report = BuildReport(loaded, stats, wanted, crawled)
    document = report.as_dict()
    with engine.begin() as connection:
        report.fact_id = write_fact(
            connection,
            shop=shop or "local",
            fact_type=BUILD_FACT_TYPE,
            scope="ops",
            value={k: v for k, v in document.items() if k not in ("skipped", "failed")}
            | {
                "skippedCount": len(loaded.skipped),
                "failedCount": len(loaded.failed),
                "skippedSample": document["skipped"][:20],
                "failedSample": document["failed"][:20],
            },
            metadata={"builtAt": now.isoformat()},
            now=now,
        )
    return report
