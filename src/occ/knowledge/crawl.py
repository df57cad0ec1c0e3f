"""Crawling the store's website politely: robots.txt, sitemaps, conditional re-fetches.

``crawl_site`` reads ``robots.txt`` (its rules for occ's user agent, its ``Sitemap:`` lines),
then the sitemaps (``/sitemap.xml`` when robots names none; sitemap indexes followed, each
sitemap read once so a loop ends, URLs of another host skipped), and fetches every allowed
page on the start URL's host at most ``requests_per_second`` (default 2) with at most
``concurrency`` requests in flight. A page fetched before is asked for again with
``If-None-Match`` / ``If-Modified-Since``: a 304 keeps the earlier copy. Failures (404,
timeouts, endless redirects, non-HTML answers) are recorded per URL and the crawl goes on.

The result is the NDJSON that ``occ knowledge build`` indexes: one
``{"source", "fetchedAt", "content", "etag", "lastModified"}`` or
``{"source", "fetchedAt", "error"}`` per line.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx
from lxml import etree

from occ.sources.http import Pacer
from occ.store.files import replaced_atomically

__all__ = ["CrawlResult", "crawl_site", "read_previous", "write_pages"]

_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_MAX_SITEMAPS = 200


@dataclass
class CrawlResult:
    pages: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    not_modified: int = 0
    requests: int = 0


def _iso_now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _same_site(url: str, host: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.netloc == host


def read_previous(path: Path) -> dict[str, dict[str, Any]]:
    """The pages of an earlier crawl's NDJSON, by URL (for conditional requests)."""
    pages: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return pages
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                page = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(page, dict) and "content" in page and "source" in page:
                pages[str(page["source"])] = page
    return pages


def write_pages(path: Path, pages: Iterable[dict[str, Any]]) -> None:
    """Replace ``path`` with the crawl's NDJSON, whole (never half a crawl)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with replaced_atomically(path) as out:
        for page in pages:
            out.write(json.dumps(page, ensure_ascii=False) + "\n")


class _Crawler:
    def __init__(
        self,
        client: httpx.Client,
        start: str,
        *,
        user_agent: str,
        pacer: Pacer,
        max_bytes: int,
        max_pages: int,
        previous: dict[str, dict[str, Any]],
    ) -> None:
        self.client, self.user_agent, self.pacer = client, user_agent, pacer
        self.max_bytes, self.max_pages, self.previous = max_bytes, max_pages, previous
        parts = urlsplit(start)
        self.host = parts.netloc
        self.root = f"{parts.scheme}://{parts.netloc}/"
        self.result = CrawlResult()
        self.robots = RobotFileParser()
        self._lock = threading.Lock()

    def get(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        self.pacer.wait()
        with self._lock:
            self.result.requests += 1
        return self.client.get(url, headers={"User-Agent": self.user_agent, **(headers or {})})

    def read_robots(self) -> list[str]:
        url = urljoin(self.root, "/robots.txt")
        try:
            answer = self.get(url)
        except httpx.HTTPError as exc:
            self.result.failures.append((url, _reason(exc)))
            self.robots.parse([])
            return []
        if answer.status_code >= 400:
            self.robots.parse([])  # no robots.txt: everything is allowed
            return []
        lines = answer.text.splitlines()
        self.robots.parse(lines)
        return [
            line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("sitemap:")
        ]

    def sitemap_urls(self, sitemaps: list[str]) -> list[str]:
        queue = sitemaps or [urljoin(self.root, "/sitemap.xml")]
        seen: set[str] = set()
        pages: list[str] = []
        while queue and len(seen) < _MAX_SITEMAPS:
            sitemap = queue.pop(0)
            if sitemap in seen:
                continue
            seen.add(sitemap)
            if not _same_site(sitemap, self.host):
                self.result.skipped.append((sitemap, "sitemap on another host"))
                continue
            try:
                answer = self.get(sitemap)
            except httpx.HTTPError as exc:
                self.result.failures.append((sitemap, _reason(exc)))
                continue
            if answer.status_code >= 400:
                self.result.failures.append((sitemap, f"HTTP {answer.status_code}"))
                continue
            try:
                tree = etree.fromstring(
                    answer.content,
                    parser=etree.XMLParser(resolve_entities=False, no_network=True),
                )
            except etree.XMLSyntaxError as exc:
                self.result.failures.append((sitemap, f"not XML ({exc.msg})"))
                continue
            locations = [(loc.text or "").strip() for loc in tree.iter(f"{_SITEMAP_NS}loc", "loc")]
            if etree.QName(tree).localname == "sitemapindex":
                for location in locations:
                    if location in seen:
                        self.result.skipped.append((location, "sitemap already read (a loop)"))
                    else:
                        queue.append(location)
            else:
                pages += [location for location in locations if location]
        return list(dict.fromkeys(pages))

    def fetch(self, url: str) -> dict[str, Any] | None:
        earlier = self.previous.get(url)
        headers = {}
        if earlier is not None and earlier.get("etag"):
            headers["If-None-Match"] = str(earlier["etag"])
        if earlier is not None and earlier.get("lastModified"):
            headers["If-Modified-Since"] = str(earlier["lastModified"])
        try:
            answer = self.get(url, headers)
        except httpx.HTTPError as exc:
            return {"source": url, "fetchedAt": _iso_now(), "error": _reason(exc)}
        if answer.status_code == 304 and earlier is not None:
            with self._lock:
                self.result.not_modified += 1
            return earlier
        if answer.status_code >= 400:
            return {"source": url, "fetchedAt": _iso_now(), "error": f"HTTP {answer.status_code}"}
        kind = answer.headers.get("content-type", "")
        if "html" not in kind:
            return {"source": url, "fetchedAt": _iso_now(), "error": f"not HTML ({kind})"}
        if len(answer.content) > self.max_bytes:
            return {
                "source": url,
                "fetchedAt": _iso_now(),
                "error": f"{len(answer.content):,} bytes, above the {self.max_bytes:,} limit",
            }
        return {
            "source": url,
            "fetchedAt": _iso_now(),
            "content": answer.text,
            "etag": answer.headers.get("etag"),
            "lastModified": answer.headers.get("last-modified"),
        }


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return f"{type(exc).__name__}"


def crawl_site(
    client: httpx.Client,
    start: str,
    *,
    user_agent: str,
    requests_per_second: float = 2.0,
    concurrency: int = 2,
    max_bytes: int = 5_000_000,
    max_pages: int = 1_000,
    previous: dict[str, dict[str, Any]] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_page: Callable[[int, int], None] | None = None,
) -> CrawlResult:
    """Crawl ``start``'s site (see the module doc); ``client`` sets timeouts and redirects."""
    crawler = _Crawler(
        client,
        start,
        user_agent=user_agent,
        pacer=Pacer(requests_per_second * 60, sleep, time.monotonic),
        max_bytes=max_bytes,
        max_pages=max_pages,
        previous=previous or {},
    )
    sitemaps = crawler.read_robots()
    listed = crawler.sitemap_urls(sitemaps)
    if not listed:
        listed = [start]
    urls = []
    for url in listed:
        if not _same_site(url, crawler.host):
            crawler.result.skipped.append((url, "on another host"))
        elif not crawler.robots.can_fetch(user_agent, url):
            crawler.result.skipped.append((url, "disallowed by robots.txt"))
        else:
            urls.append(url)
    if len(urls) > max_pages:
        crawler.result.skipped += [(u, f"beyond max_pages ({max_pages})") for u in urls[max_pages:]]
        urls = urls[:max_pages]
    done = 0
    with ThreadPoolExecutor(
        max_workers=max(1, concurrency), thread_name_prefix="occ-crawl"
    ) as pool:
        for page in pool.map(crawler.fetch, urls):
            done += 1
            if on_page is not None:
                on_page(done, len(urls))
            if page is None:
                continue
            if "error" in page:
                crawler.result.failures.append((page["source"], page["error"]))
            crawler.result.pages.append(page)
    return crawler.result
