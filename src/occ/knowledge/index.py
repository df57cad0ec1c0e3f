"""The index on disk: versioned folders, switched atomically, rebuilt incrementally.

Layout under the knowledge folder (``.occ/knowledge`` by default)::

    CURRENT                       the version readers use (one line, replaced atomically)
    versions/<n>/passages.jsonl   the passages, in index order
    versions/<n>/bm25/            the lexical index (bm25s, Snowball English stemmer)
    versions/<n>/dense.npy        the passages' embeddings (float32, L2-normalised), if any
    versions/<n>/manifest.json    counts, the embedding model, what was left out

A build writes a new version next to the current one and then replaces ``CURRENT``: a query
running meanwhile keeps reading the version it opened, a new query opens the new one. The
embeddings of passages whose text did not change (same digest) are copied from the previous
version, never computed again. The two newest versions are kept.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import bm25s
import numpy as np
import Stemmer

from occ.knowledge.passages import Passage
from occ.store.files import replaced_atomically

__all__ = [
    "BuildStats",
    "Embedder",
    "IndexVersion",
    "current_version",
    "lexical_tokens",
    "stems",
    "write_version",
]

_KEEP_VERSIONS = 2
_STEMMER = Stemmer.Stemmer("english")


class Embedder(Protocol):
    """A sentence-embedding model: texts to L2-normalised float32 vectors."""

    name: str

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray[Any, Any]: ...


def lexical_tokens(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stop-words removed, Snowball-stemmed tokens (index and queries alike)."""
    tokens = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_STEMMER, show_progress=False, return_ids=False
    )
    return [list(t) for t in tokens]


def stems(words: Sequence[str]) -> list[str]:
    """Each word lower-cased and stemmed as the index does (for highlighting)."""
    return list(_STEMMER.stemWords([w.lower() for w in words]))


@dataclass(frozen=True, slots=True)
class BuildStats:
    passages: int
    embedded: int
    reused: int
    version: str
    model: str | None


@dataclass
class IndexVersion:
    """One version of the index, loaded for queries."""

    folder: Path
    passages: list[Passage]
    lexical: bm25s.BM25 | None
    vectors: np.ndarray[Any, Any] | None
    manifest: dict[str, Any]


def _versions(root: Path) -> Path:
    return root / "versions"


def current_version(root: Path) -> IndexVersion | None:
    """The version ``CURRENT`` names, loaded; None when no index was built yet."""
    try:
        name = (root / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    folder = _versions(root) / name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    with (folder / "passages.jsonl").open(encoding="utf-8") as lines:
        passages = [Passage.from_dict(json.loads(line)) for line in lines]
    lexical = bm25s.BM25.load(str(folder / "bm25")) if passages else None
    dense_path = folder / "dense.npy"
    vectors = np.load(dense_path, mmap_mode="r") if dense_path.exists() else None
    return IndexVersion(folder, passages, lexical, vectors, manifest)


def _next_name(root: Path) -> str:
    taken = [int(p.name) for p in _versions(root).glob("*") if p.name.isdigit()]
    return str(max(taken, default=0) + 1)


def _reused_vectors(previous: IndexVersion | None, model: str) -> dict[str, np.ndarray[Any, Any]]:
    if previous is None or previous.vectors is None or previous.manifest.get("model") != model:
        return {}
    return {
        passage.digest: np.asarray(previous.vectors[row])
        for row, passage in enumerate(previous.passages)
    }


def write_version(
    root: Path,
    passages: Sequence[Passage],
    embedder: Embedder | None,
    report: dict[str, Any],
    *,
    step: Callable[[str, int, int], None] | None = None,
) -> BuildStats:
    """Build a new version from ``passages`` and make it current.

    ``step(what, done, total)`` reports progress while embedding.
    """
    say = step or (lambda _what, _done, _total: None)
    _versions(root).mkdir(parents=True, exist_ok=True)
    previous = current_version(root)
    name = _next_name(root)
    partial = _versions(root) / f".{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    with (partial / "passages.jsonl").open("w", encoding="utf-8") as out:
        for passage in passages:
            out.write(json.dumps(passage.as_dict(), ensure_ascii=False) + "\n")
    if passages:
        say("lexical index", 0, len(passages))
        lexical = bm25s.BM25()
        lexical.index(
            bm25s.tokenize(
                [p.search_text for p in passages],
                stopwords="en",
                stemmer=_STEMMER,
                show_progress=False,
            ),
            show_progress=False,
        )
        lexical.save(str(partial / "bm25"))
    embedded = reused = 0
    if embedder is not None and passages:
        known = _reused_vectors(previous, embedder.name)
        missing = [i for i, p in enumerate(passages) if p.digest not in known]
        fresh: dict[int, np.ndarray[Any, Any]] = {}
        batch = 64
        for start in range(0, len(missing), batch):
            rows = missing[start : start + batch]
            made = embedder.embed([passages[i].search_text for i in rows])
            fresh.update(zip(rows, made, strict=True))
            say("embedding", min(start + batch, len(missing)), len(missing))
        first = next(iter(fresh.values()), None)
        if first is None:
            first = next(iter(known.values()))
        vectors = np.zeros((len(passages), first.shape[0]), dtype=np.float32)
        for i, passage in enumerate(passages):
            vectors[i] = fresh[i] if i in fresh else known[passage.digest]
        np.save(partial / "dense.npy", vectors)
        embedded, reused = len(missing), len(passages) - len(missing)
    manifest = {
        "version": name,
        "passages": len(passages),
        "model": embedder.name if embedder is not None else None,
        "embedded": embedded,
        "reused": reused,
        **report,
    }
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    os.replace(partial, _versions(root) / name)
    with replaced_atomically(root / "CURRENT") as pointer:
        pointer.write(name + "\n")
    _prune(root, keep=name)
    return BuildStats(len(passages), embedded, reused, name, manifest["model"])


def _prune(root: Path, keep: str) -> None:
    numbered = sorted(
        (p for p in _versions(root).iterdir() if p.name.isdigit()), key=lambda p: int(p.name)
    )
    for old in numbered[:-_KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
