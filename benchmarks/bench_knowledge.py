"""Knowledge index benchmark: build throughput and query latency at 50,000 passages.

Targets (the issue): query p95 under 50 ms on 2 cores for an index of 50,000 passages
(hybrid, model loaded); build throughput stated, lexical only and hybrid.

Method: a corpus of 50,000 Markdown passages is generated from the sentences of the test
corpus (tests/knowledge/corpus), recombined by a seeded RNG into 2,500 runbooks of 20
sections each (~60 words a section), so the vocabulary is a store's. The index is built by
``occ.knowledge.build.build_index`` — once lexical only, once hybrid (the ONNX model, one
thread); the hybrid build's embeddings are kept under benchmarks/out/ so a re-run reuses
them, like an incremental rebuild (``--fresh`` embeds everything again). Queries: the 76
questions of tests/knowledge/qa.jsonl, each run ``--rounds`` times after a warm-up round,
timed end to end (embedding the query, BM25, cosine over 50,000 × 384, fusion, snippets);
nearest-rank percentiles.

Run: ``python benchmarks/bench_knowledge.py`` (``--passages 5000`` for a quick check).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "out"
CORPUS = ROOT / "tests" / "knowledge" / "corpus"
QA = ROOT / "tests" / "knowledge" / "qa.jsonl"


def _sentences() -> list[str]:
    text = " ".join(
        line
        for path in sorted(CORPUS.rglob("*.md"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith(("#", "---", "title:", "owner:", "tags:", "updated:"))
    )
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) > 4]


def generate(folder: Path, passages: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    sentences = _sentences()
    sections = 20
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(math.ceil(passages / sections)):
        lines = [f"# Runbook {number}"]
        for section in range(min(sections, passages - number * sections)):
            lines += [f"## Section {section} {rng.choice(sentences).split()[0]}", ""]
            lines.append(" ".join(rng.sample(sentences, 4)))
            lines.append("")
        (folder / f"runbook-{number:05d}.md").write_text("\n".join(lines), encoding="utf-8")


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()

    from occ.config import Settings
    from occ.knowledge.build import build_index
    from occ.knowledge.index import current_version
    from occ.knowledge.search import search
    from occ.knowledge.setup import embedder_for
    from occ.store.engine import open_store

    embedder, why = embedder_for(Settings())
    if embedder is None:
        sys.exit(f"the hybrid benchmark needs the dense extra: {why}")
    work = OUT / f"knowledge-{args.passages}"
    corpus = work / "corpus"
    if not corpus.exists():
        generate(corpus, args.passages)
    now = datetime.now(UTC)
    figures = {}
    with tempfile.TemporaryDirectory(prefix="occ-bench-knowledge-") as scratch:
        engine = open_store(f"sqlite:///{scratch}/occ.db")
        lexical_root = Path(scratch) / "lexical"
        started = time.perf_counter()
        report = build_index(
            lexical_root, engine, [str(corpus)], embedder=None, now=now, max_bytes=5_000_000
        )
        lexical_s = time.perf_counter() - started
        count = report.stats.passages
        figures["lexical build"] = f"{lexical_s:.1f} s, {count / lexical_s:,.0f} passages/s"
        hybrid_root = work / "hybrid-index"
        if args.fresh:
            shutil.rmtree(hybrid_root, ignore_errors=True)
        started = time.perf_counter()
        report = build_index(
            hybrid_root, engine, [str(corpus)], embedder=embedder, now=now, max_bytes=5_000_000
        )
        hybrid_s = time.perf_counter() - started
        stats = report.stats
        if stats.embedded:
            figures["hybrid build"] = (
                f"{hybrid_s:.1f} s, {stats.embedded / hybrid_s:,.1f} passages/s embedded "
                f"({stats.embedded:,} embedded)"
            )
        else:
            figures["hybrid rebuild, nothing changed"] = (
                f"{hybrid_s:.1f} s ({stats.reused:,} embeddings reused)"
            )
        engine.dispose()
    index = current_version(hybrid_root)
    assert index is not None
    questions = [json.loads(line)["question"] for line in QA.read_text().splitlines() if line]
    for question in questions:  # warm-up
        search(index, question, k=5, embedder=embedder)
    times = []
    for _ in range(args.rounds):
        for question in questions:
            started = time.perf_counter()
            search(index, question, k=5, embedder=embedder)
            times.append((time.perf_counter() - started) * 1000)
    figures["hybrid query"] = (
        f"p50 {_pct(times, 50):.1f} ms, p95 {_pct(times, 95):.1f} ms, "
        f"p99 {_pct(times, 99):.1f} ms over {len(times)} queries"
    )
    lexical_times = []
    for question in questions:
        started = time.perf_counter()
        search(index, question, k=5, mode="lexical")
        lexical_times.append((time.perf_counter() - started) * 1000)
    figures["lexical query"] = (
        f"p50 {_pct(lexical_times, 50):.1f} ms, p95 {_pct(lexical_times, 95):.1f} ms"
    )
    print(f"index: {count:,} passages")
    for name, figure in figures.items():
        print(f"| {name} | {figure} |")
    print(f"command: python benchmarks/bench_knowledge.py --passages {args.passages}")


if __name__ == "__main__":
    main()
