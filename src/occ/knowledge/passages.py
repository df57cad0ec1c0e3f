"""Passages: the unit the knowledge index stores and returns.

A Markdown document is split at every heading (``#`` … ``######``, outside fenced code); a
passage is the text under one heading up to the next, and keeps its heading path (H1 down
to its own heading) as context. Its id is ``<document>#<heading path slug>``, e.g.
``cx/sla.md#support-sla/first-reply``. YAML front matter between ``---`` lines is the
document's metadata, never text. A plain-text document is one passage, ``<document>#``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = [
    "SOURCE_TYPES",
    "FrontMatterError",
    "Passage",
    "chunk_text",
    "slugify",
    "split_markdown",
    "split_plain_text",
]

SOURCE_TYPES = ("runbook", "site", "decision", "template")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_CHUNK_WORDS = 180


def slugify(heading: str) -> str:
    """``First reply (priority)`` → ``first-reply-priority``."""
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")


@dataclass(frozen=True, slots=True)
class Passage:
    """One searchable passage with where it came from.

    ``document`` is the source document's id (a path relative to its folder, a URL,
    ``decision:<uuid>``, ``template:<id>``); ``text`` is the passage's own text, and
    ``search_text`` what is indexed: its title and heading path, then its text.
    """

    id: str
    source_type: str
    document: str
    title: str
    heading_path: tuple[str, ...]
    text: str
    url: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def search_text(self) -> str:
        context = " > ".join(self.heading_path) or self.title
        return f"{context}\n{self.text}"

    @property
    def digest(self) -> str:
        """SHA-256 of what is indexed: an unchanged digest is never embedded again."""
        return hashlib.sha256(self.search_text.encode("utf-8")).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sourceType": self.source_type,
            "document": self.document,
            "title": self.title,
            "headingPath": list(self.heading_path),
            "text": self.text,
            "url": self.url,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        return cls(
            id=data["id"],
            source_type=data["sourceType"],
            document=data["document"],
            title=data["title"],
            heading_path=tuple(data["headingPath"]),
            text=data["text"],
            url=data.get("url"),
            metadata=data.get("metadata") or {},
        )


class FrontMatterError(ValueError):
    """The YAML between the opening ``---`` lines does not parse."""


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        return {}, text
    lines = text.splitlines(keepends=True)
    if lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            try:
                loaded = yaml.safe_load("".join(lines[1:end]))
            except yaml.YAMLError as exc:
                raise FrontMatterError(str(exc).splitlines()[0]) from None
            metadata = loaded if isinstance(loaded, dict) else {}
            return _plain(metadata), "".join(lines[end + 1 :])
    return {}, text  # no closing line: not front matter


def _plain(value: Any) -> Any:
    """YAML values as JSON ones (dates become ISO strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def split_markdown(document: str, text: str, source_type: str = "runbook") -> list[Passage]:
    """The passages of one Markdown document (see the module doc).

    Raises:
        FrontMatterError: the front matter is not YAML.
    """
    metadata, body = _front_matter(text)
    sections: list[tuple[tuple[str, ...], list[str]]] = [((), [])]
    path: list[tuple[int, str]] = []
    fenced = False
    for line in body.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line)
        if heading is None:
            sections[-1][1].append(line)
            continue
        level, title = len(heading.group(1)), heading.group(2).strip()
        path = [(lvl, name) for lvl, name in path if lvl < level] + [(level, title)]
        sections.append((tuple(name for _, name in path), []))
    title = str(metadata.get("title") or next((h[0] for h, _ in sections if h), document))
    passages = []
    for headings, lines in sections:
        content = "\n".join(lines).strip()
        if not content:
            continue
        passages.append(
            Passage(
                id=f"{document}#{'/'.join(slugify(h) for h in headings)}",
                source_type=source_type,
                document=document,
                title=title,
                heading_path=headings,
                text=content,
                metadata=metadata,
            )
        )
    return passages


def split_plain_text(document: str, text: str, source_type: str = "runbook") -> list[Passage]:
    """A plain-text document: one passage."""
    content = text.strip()
    if not content:
        return []
    return [Passage(f"{document}#", source_type, document, document, (), content)]


def chunk_text(text: str, words: int = _CHUNK_WORDS) -> list[str]:
    """Paragraphs packed into chunks of about ``words`` words (a long paragraph is cut)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for paragraph in (p.strip() for p in re.split(r"\n\s*\n|\n", text)):
        if not paragraph:
            continue
        tokens = paragraph.split()
        while len(tokens) > words:
            if current:
                chunks.append("\n".join(current))
                current, size = [], 0
            chunks.append(" ".join(tokens[:words]))
            tokens = tokens[words:]
        if size + len(tokens) > words and current:
            chunks.append("\n".join(current))
            current, size = [], 0
        current.append(" ".join(tokens))
        size += len(tokens)
    if current:
        chunks.append("\n".join(current))
    return chunks
