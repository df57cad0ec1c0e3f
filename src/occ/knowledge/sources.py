"""Reading the index's sources into passages, reporting what was left out and why.

- a folder of Markdown / plain-text files (runbooks, FAQs);
- an NDJSON of fetched pages, ``{"source", "fetchedAt", "content"}`` or
  ``{"source", "fetchedAt", "error"}`` per line (what ``occ knowledge crawl`` writes, or a
  crawl done elsewhere): the main text of each HTML page is extracted with trafilatura;
- an NDJSON of curated reply templates, in either of two shapes (``key``/``value`` with
  ``metadata``, or ``title``/``content`` with ``pii``); a template marked ``pii: true`` is
  refused with a notice;
- the decision log: each decision as one passage.

Bad input never stops a build: a binary or oversized file, text that is not UTF-8, a line
that is not JSON, broken HTML are each recorded in ``Loaded.skipped`` with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trafilatura

from occ.knowledge.passages import (
    FrontMatterError,
    Passage,
    chunk_text,
    split_markdown,
    split_plain_text,
)

__all__ = [
    "TEXT_SUFFIXES",
    "Loaded",
    "decision_passages",
    "load_folder",
    "load_pages",
    "load_templates",
    "page_passages",
]

TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
_MARKDOWN = frozenset({".md", ".markdown"})


@dataclass
class Loaded:
    """What one source gave: passages, documents read, and what was left out (and why)."""

    passages: list[Passage] = field(default_factory=list)
    documents: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def extend(self, other: Loaded) -> None:
        self.passages += other.passages
        self.documents += other.documents
        self.skipped += other.skipped
        self.failed += other.failed
        self.notices += other.notices


def _text_of(data: bytes) -> tuple[str | None, str | None]:
    """The UTF-8 text of a file, or why it is not one."""
    if b"\x00" in data[:8192]:
        return None, "binary file"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 (byte {exc.start}); re-save it as UTF-8"


def load_folder(folder: Path, max_bytes: int) -> Loaded:
    """The Markdown and plain-text files under ``folder`` (other files are ignored)."""
    loaded = Loaded()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if path.suffix.lower() not in TEXT_SUFFIXES or any(
            part.startswith(".") for part in path.relative_to(folder).parts
        ):
            continue
        size = path.stat().st_size
        if size > max_bytes:
            loaded.skipped.append((relative, f"{size:,} bytes, above the {max_bytes:,} limit"))
            continue
        text, problem = _text_of(path.read_bytes())
        if text is None:
            loaded.skipped.append((relative, problem or "unreadable"))
            continue
        try:
            passages = (
                split_markdown(relative, text)
                if path.suffix.lower() in _MARKDOWN
                else split_plain_text(relative, text)
            )
        except FrontMatterError as exc:
            loaded.skipped.append((relative, f"front matter is not YAML ({exc})"))
            continue
        loaded.documents += 1
        loaded.passages += passages
    return loaded


def page_passages(url: str, html: str, fetched_at: str | None) -> list[Passage]:
    """The main text of one HTML page, in passages of about 180 words (``url#1``, …)."""
    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=True, favor_precision=True
    )
    if not text:
        return []
    meta = trafilatura.extract_metadata(html)
    title = (meta.title if meta is not None and meta.title else None) or url
    return [
        Passage(
            id=f"{url}#{number}",
            source_type="site",
            document=url,
            title=title,
            heading_path=(title,),
            text=chunk,
            url=url,
            metadata={"fetchedAt": fetched_at} if fetched_at else {},
        )
        for number, chunk in enumerate(chunk_text(text), start=1)
    ]


def _json_lines(path: Path, max_bytes: int, loaded: Loaded) -> Iterator[tuple[int, Any]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        loaded.failed.append((str(path), exc.strerror or str(exc)))
        return
    with handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path.name}:{number}"
            if len(raw) > max_bytes:
                loaded.skipped.append((where, f"line of {len(raw):,} bytes, above the limit"))
                continue
            if not raw.strip():
                continue
            try:
                yield number, json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                loaded.skipped.append((where, f"not JSON ({exc.__class__.__name__})"))


def load_pages(path: Path, max_bytes: int) -> Loaded:
    """An NDJSON of fetched pages (see the module doc)."""
    loaded = Loaded()
    for number, line in _json_lines(path, max_bytes, loaded):
        where = f"{path.name}:{number}"
        if not isinstance(line, dict) or not isinstance(line.get("source"), str):
            loaded.skipped.append((where, 'not a page object {"source", "fetchedAt", …}'))
            continue
        url = line["source"]
        if line.get("error") is not None:
            loaded.failed.append((url, str(line["error"])))
            continue
        content = line.get("content")
        if not isinstance(content, str) or not content.strip():
            loaded.skipped.append((url, "no content"))
            continue
        passages = page_passages(url, content, line.get("fetchedAt"))
        if not passages:
            loaded.skipped.append((url, "no main text found in the HTML"))
            continue
        loaded.documents += 1
        loaded.passages += passages
    return loaded


def _template(line: dict[str, Any]) -> tuple[str, str, str, dict[str, Any]] | None:
    """(id, title, text, metadata) of either template shape, None when neither."""
    if "content" in line or "title" in line:
        text, title = line.get("content"), line.get("title")
        meta: dict[str, Any] = {
            k: line[k] for k in ("category", "tone", "tags", "last_reviewed") if k in line
        }
    elif "value" in line:
        text = line.get("value")
        title = " · ".join(str(line[k]) for k in ("topic", "key") if line.get(k)) or None
        meta = dict(line.get("metadata") or {})
        meta |= {k: line[k] for k in ("scope", "topic", "key", "createdAt") if k in line}
    else:
        return None
    if not isinstance(text, str) or not text.strip() or line.get("id") is None:
        return None
    return str(line["id"]), str(title or line["id"]), text.strip(), meta


def load_templates(path: Path, max_bytes: int) -> Loaded:
    """An NDJSON of reply templates; ``pii: true`` ones are refused with a notice."""
    loaded = Loaded()
    for number, line in _json_lines(path, max_bytes, loaded):
        where = f"{path.name}:{number}"
        parsed = _template(line) if isinstance(line, dict) else None
        if parsed is None:
            loaded.skipped.append((where, "not a reply template (id with content or value)"))
            continue
        template_id, title, text, meta = parsed
        if line.get("pii") is True or (line.get("metadata") or {}).get("pii") is True:
            loaded.skipped.append((f"template:{template_id}", "marked as holding personal data"))
            loaded.notices.append(
                f"template {template_id} is marked pii: true and was not indexed; remove the "
                "personal data and the mark to index it"
            )
            continue
        loaded.documents += 1
        loaded.passages.append(
            Passage(
                id=f"template:{template_id}",
                source_type="template",
                document=f"template:{template_id}",
                title=title,
                heading_path=(title,),
                text=text,
                metadata=meta,
            )
        )
    return loaded


def decision_passages(rows: Iterable[Any]) -> Loaded:
    """Decision-log rows (id, scope, actor, action, rationale, created_at, …) as passages."""
    loaded = Loaded()
    for row in rows:
        when = row.created_at.date().isoformat()
        text = f"{row.action}. {row.rationale}" if row.rationale else str(row.action)
        loaded.documents += 1
        loaded.passages.append(
            Passage(
                id=f"decision:{row.id}",
                source_type="decision",
                document=f"decision:{row.id}",
                title=f"Decision of {when} by {row.actor} ({row.scope})",
                heading_path=(f"{row.scope} decision {when}",),
                text=f"{text} Decided by {row.actor} on {when}, scope {row.scope}.",
                url=row.evidence_url,
                metadata={"actor": row.actor, "scope": row.scope, "date": when},
            )
        )
    return loaded
