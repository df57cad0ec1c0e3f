"""``occ knowledge eval``: recall@1/5/10 and MRR of lexical, dense and hybrid retrieval.

A question's relevant items are passage ids, document ids (a file's path, a template or
decision id) or URLs; a hit is relevant when its passage id, document or URL is one of
them. recall@k is the share of a question's relevant items found in the top k (a document
counts once however many of its passages are found), averaged over the questions; MRR is
the mean of 1 / rank of the first relevant hit in the top 10 (0 when none).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from occ.errors import InputFileError
from occ.knowledge.index import Embedder, IndexVersion
from occ.knowledge.search import search

__all__ = ["CUTOFFS", "Question", "evaluate", "read_questions"]

CUTOFFS = (1, 5, 10)


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    relevant: frozenset[str]


@dataclass
class Questions:
    items: list[Question] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def read_questions(path: Path) -> Questions:
    """The QA file's questions; a line that is not ``{"question", "relevant": [...]}`` is
    skipped and reported.

    Raises:
        InputFileError: the file cannot be read or holds no question.
    """
    questions = Questions()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read {path} ({exc}); pass a QA .jsonl file") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            questions.skipped.append((number, "not JSON"))
            continue
        relevant = item.get("relevant") if isinstance(item, dict) else None
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("question"), str)
            or not isinstance(relevant, list)
            or not relevant
        ):
            questions.skipped.append((number, 'not {"question": …, "relevant": [ids]}'))
            continue
        questions.items.append(Question(item["question"], frozenset(map(str, relevant))))
    if not questions.items:
        raise InputFileError(f"{path} holds no question; write one JSON object per line")
    return questions


def _found(hit_keys: list[set[str]], relevant: frozenset[str], k: int) -> int:
    found: set[str] = set()
    for keys in hit_keys[:k]:
        found |= keys & relevant
    return len(found)


def evaluate(
    index: IndexVersion, questions: list[Question], embedder: Embedder | None
) -> dict[str, Any]:
    """Each mode's recall@1/5/10 and MRR over ``questions`` (dense modes need embeddings)."""
    modes = ["lexical"]
    if embedder is not None and index.vectors is not None:
        modes += ["dense", "hybrid"]
    results: dict[str, Any] = {}
    for mode in modes:
        recall = dict.fromkeys(CUTOFFS, 0.0)
        reciprocal = 0.0
        for question in questions:
            hits = search(index, question.text, k=max(CUTOFFS), mode=mode, embedder=embedder)
            keys = [
                {h.passage.id, h.passage.document} | ({h.passage.url} if h.passage.url else set())
                for h in hits
            ]
            for k in CUTOFFS:
                recall[k] += _found(keys, question.relevant, k) / len(question.relevant)
            first = next((r for r, ks in enumerate(keys, start=1) if ks & question.relevant), None)
            reciprocal += 0.0 if first is None else 1 / first
        count = len(questions)
        results[mode] = {
            **{f"recall@{k}": round(value / count, 4) for k, value in recall.items()},
            "mrr": round(reciprocal / count, 4),
        }
    return {"questions": len(questions), "modes": results}
