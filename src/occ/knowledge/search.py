"""Hybrid retrieval: BM25 and dense embeddings, fused by reciprocal rank fusion.

``search`` ranks the passages of one index version three ways: ``lexical`` (bm25s), ``dense``
(cosine of the query's embedding with the passages'), and ``hybrid``: each passage's fused
score is ``Σ 1 / (RRF_K + rank)`` over the lists it appears in (ranks from 1, RRF_K = 60, as
in Cormack et al.). Without embeddings (no ``dense`` extra, or an index built without them)
hybrid is lexical, and the result says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from occ.knowledge.index import Embedder, IndexVersion, lexical_tokens, stems
from occ.knowledge.passages import Passage

__all__ = ["CANDIDATES", "RRF_K", "Hit", "search", "snippet"]

RRF_K = 60
CANDIDATES = 50
"""Passages taken from each ranking before fusion."""
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'-]*")


@dataclass(frozen=True, slots=True)
class Hit:
    passage: Passage
    score: float
    lexical_rank: int | None
    dense_rank: int | None
    snippet: str
    highlights: tuple[tuple[int, int], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.passage.as_dict(),
            "score": round(self.score, 6),
            "lexicalRank": self.lexical_rank,
            "denseRank": self.dense_rank,
            "snippet": self.snippet,
            "highlights": [list(span) for span in self.highlights],
        }


def _allowed(index: IndexVersion, source_type: str | None) -> np.ndarray[Any, Any] | None:
    if source_type is None:
        return None
    return np.array([p.source_type == source_type for p in index.passages], dtype=bool)


def _lexical(
    index: IndexVersion, query: str, allowed: np.ndarray[Any, Any] | None, limit: int
) -> list[int]:
    if index.lexical is None:
        return []
    tokens = lexical_tokens([query])
    if not tokens[0]:
        return []
    total = len(index.passages)
    want = total if allowed is not None else min(limit, total)
    documents, scores = index.lexical.retrieve(tokens, k=want, show_progress=False, n_threads=1)
    ranked = [int(d) for d, s in zip(documents[0], scores[0], strict=True) if s > 0]
    if allowed is not None:
        ranked = [d for d in ranked if allowed[d]]
    return ranked[:limit]


def _dense(
    index: IndexVersion,
    vector: np.ndarray[Any, Any],
    allowed: np.ndarray[Any, Any] | None,
    limit: int,
) -> list[int]:
    assert index.vectors is not None
    scores = np.asarray(index.vectors @ vector, dtype=np.float32)
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    count = min(limit, int(np.isfinite(scores).sum()))
    if count <= 0:
        return []
    top = np.argpartition(-scores, count - 1)[:count]
    return [int(i) for i in top[np.argsort(-scores[top], kind="stable")]]


def search(
    index: IndexVersion,
    query: str,
    *,
    k: int = 5,
    mode: str = "hybrid",
    source_type: str | None = None,
    embedder: Embedder | None = None,
) -> list[Hit]:
    """The top ``k`` passages for ``query`` by ``mode`` (lexical, dense or hybrid)."""
    allowed = _allowed(index, source_type)
    use_dense = mode in ("dense", "hybrid") and embedder is not None and index.vectors is not None
    lexical = _lexical(index, query, allowed, CANDIDATES) if mode != "dense" else []
    dense: list[int] = []
    if use_dense:
        assert embedder is not None
        dense = _dense(index, embedder.embed([query])[0], allowed, CANDIDATES)
    lexical_rank = {doc: rank for rank, doc in enumerate(lexical, start=1)}
    dense_rank = {doc: rank for rank, doc in enumerate(dense, start=1)}
    if mode == "lexical" or not use_dense:
        scored = [(doc, 1 / (RRF_K + rank)) for doc, rank in lexical_rank.items()]
    elif mode == "dense":
        scored = [(doc, 1 / (RRF_K + rank)) for doc, rank in dense_rank.items()]
    else:
        fused: dict[int, float] = {}
        for ranks in (lexical_rank, dense_rank):
            for doc, rank in ranks.items():
                fused[doc] = fused.get(doc, 0.0) + 1 / (RRF_K + rank)
        scored = list(fused.items())
    scored.sort(key=lambda item: (-item[1], item[0]))
    terms = _terms(query)
    hits = []
    for doc, score in scored[:k]:
        passage = index.passages[doc]
        text, spans = snippet(passage.text, terms)
        hits.append(Hit(passage, score, lexical_rank.get(doc), dense_rank.get(doc), text, spans))
    return hits


def _terms(query: str) -> set[str]:
    """The query's stemmed terms (what a snippet highlights)."""
    return set(lexical_tokens([query])[0])


def snippet(text: str, terms: set[str], width: int = 30) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The window of ``width`` words with the most query terms, and the terms' spans in it."""
    words = list(_WORD.finditer(text))
    if not words:
        return text[:200], ()
    matched = [stem in terms for stem in stems([m.group(0) for m in words])]
    best, best_count = 0, -1
    for start in range(0, max(1, len(words) - width + 1)):
        count = sum(matched[start : start + width])
        if count > best_count:
            best, best_count = start, count
    chosen = words[best : best + width]
    begin, end = chosen[0].start(), chosen[-1].end()
    piece = text[begin:end]
    prefix = "… " if begin > 0 else ""
    suffix = " …" if end < len(text) else ""
    shift = len(prefix) - begin
    spans = tuple(
        (m.start() + shift, m.end() + shift)
        for m, hit in zip(words[best : best + width], matched[best : best + width], strict=True)
        if hit
    )
    return f"{prefix}{piece}{suffix}", spans
