"""``occ knowledge …``: build, crawl, query and evaluate the knowledge index."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from occ.cli.shared import (
    ConfigOption,
    DbOption,
    err,
    handles_errors,
    open_engine,
    out,
    settings_from,
)
from occ.config import Settings
from occ.errors import ConfigError, NotFoundError
from occ.knowledge.build import BuildReport, build_index, is_site_url, shown
from occ.knowledge.evaluate import evaluate, read_questions
from occ.knowledge.index import current_version
from occ.knowledge.passages import SOURCE_TYPES
from occ.knowledge.search import search
from occ.knowledge.setup import crawl_client, crawl_options, embedder_for

__all__ = ["knowledge_app"]

knowledge_app = typer.Typer(
    help="The knowledge index: runbooks, site pages, decisions and reply templates.",
    no_args_is_help=True,
)
_LISTED = 20


@contextmanager
def _bar() -> Iterator[Callable[[str, int, int], None]]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as display:
        task = display.add_task("starting", total=None)

        def step(what: str, done: int, total: int) -> None:
            display.update(task, description=what[:60], completed=done, total=total or None)

        yield step


def _build(
    settings: Settings, sources: list[str], as_json: bool, require_pages: Sequence[str] = ()
) -> None:
    embedder, notice = embedder_for(settings)
    engine = open_engine(settings)
    try:
        with crawl_client(settings) as client, _bar() as step:
            report = build_index(
                settings.resolved_knowledge_dir(),
                engine,
                [*settings.knowledge_sources, *sources],
                embedder=embedder,
                now=datetime.now(UTC),
                max_bytes=settings.knowledge_max_bytes,
                client=client,
                crawl=crawl_options(settings),
                step=step,
                notices=[notice] if notice else [],
                require_pages=require_pages,
            )
    finally:
        engine.dispose()
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
        return
    _print_report(report)


def _other_failures(counts: dict[str, int]) -> str:
    other = counts["failures"] - counts["pagesFailed"]
    return f", {other:,} robots.txt/sitemap requests failed" if other else ""


def _print_report(report: BuildReport) -> None:
    stats, loaded = report.stats, report.loaded
    dense = (
        f"{stats.embedded:,} embedded, {stats.reused:,} unchanged and not re-embedded "
        f"({stats.model})"
        if stats.model
        else "lexical only"
    )
    out.print(
        f"Knowledge index version {stats.version}: {loaded.documents:,} documents, "
        f"{stats.passages:,} passages; {dense}.",
        highlight=False,
    )
    for site, counts in report.crawled.items():
        out.print(
            f"  crawled {escape(site)}: {counts['pages']:,} pages fetched and stored "
            f"({counts['notModified']:,} not modified), {counts['pagesFailed']:,} pages failed"
            f"{_other_failures(counts)}, in {counts['requests']:,} requests",
            highlight=False,
        )
    for title, items in (("left out", loaded.skipped), ("failed", loaded.failed)):
        if items:
            out.print(f"{len(items):,} {title}:", highlight=False)
            for item, why in items[:_LISTED]:
                out.print(f"  {escape(item)}: {escape(why)}", highlight=False, soft_wrap=True)
            if len(items) > _LISTED:
                out.print(f"  … and {len(items) - _LISTED:,} more (--json lists all)")
    for notice in loaded.notices:
        err.print(f"[yellow]notice:[/] {escape(notice)}", highlight=False, soft_wrap=True)


@knowledge_app.command("build")
@handles_errors
def build(
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="A folder of Markdown/text, an NDJSON of pages or reply templates, or a site "
            "URL; remembered for the next builds (repeatable)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the build report as JSON")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Build or update the index from its sources and the decision log (incremental)."""
    _build(settings_from(config, db), list(source or []), as_json)


@knowledge_app.command("crawl")
@handles_errors
def crawl(
    url: Annotated[str, typer.Argument(help="The site's address, e.g. https://shop.example/")],
    rps: Annotated[
        float | None, typer.Option("--rps", help="Requests per second (default 2)")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="Requests in flight (default 2)")] = None,
    max_pages: Annotated[int | None, typer.Option(help="Most pages to fetch")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the build report as JSON")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Crawl a site politely (robots.txt, sitemaps, conditional re-fetches) and index it."""
    if not is_site_url(url):
        raise ConfigError(f"{shown(url)!r} is not a site URL; use e.g. https://shop.example/")
    settings = settings_from(config, db)
    options = {  # setting: (option, value given)
        "crawl_requests_per_second": ("--rps", rps),
        "crawl_concurrency": ("--concurrency", concurrency),
        "crawl_max_pages": ("--max-pages", max_pages),
    }
    overrides = {name: value for name, (_, value) in options.items() if value is not None}
    try:
        settings = Settings.model_validate({**settings.model_dump(), **overrides})
    except ValidationError as exc:
        error = exc.errors()[0]
        option, value = options.get(str(error["loc"][0]), ("--rps/--concurrency/--max-pages", None))
        given = "" if value is None else f" {value:g}"
        raise ConfigError(f"bad {option}{given}: {error['msg']}") from None
    _build(settings, [url], as_json, require_pages=[url])


def _highlighted(snippet: str, spans: list[list[int]]) -> Text:
    text = Text(snippet)
    for start, end in spans:
        text.stylize("bold yellow", start, end)
    return text


@knowledge_app.command("query")
@handles_errors
def query(
    text: Annotated[str, typer.Argument(help="What to look for")],
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Passages to show")] = 5,
    source_type: Annotated[
        str | None,
        typer.Option("--source-type", help="runbook | site | decision | template"),
    ] = None,
    mode: Annotated[str, typer.Option(help="hybrid | lexical | dense")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    config: ConfigOption = None,
) -> None:
    """The passages that best answer TEXT, with source, heading path or URL, and snippet."""
    if source_type is not None and source_type not in SOURCE_TYPES:
        raise ConfigError(f"unknown --source-type {source_type!r}; use {' | '.join(SOURCE_TYPES)}")
    if mode not in ("hybrid", "lexical", "dense"):
        raise ConfigError(f"unknown --mode {mode!r}; use hybrid, lexical or dense")
    if not text.strip():
        raise ConfigError("the query is empty; say what to look for")
    settings = settings_from(config, None)
    index = current_version(settings.resolved_knowledge_dir())
    if index is None:
        raise NotFoundError("no knowledge index yet; run occ knowledge build --source FOLDER")
    embedder, notice = embedder_for(settings) if mode != "lexical" else (None, None)
    if mode == "dense" and (embedder is None or index.vectors is None):
        raise ConfigError(notice or "this index was built without embeddings; rebuild it")
    hits = search(index, text, k=k, mode=mode, source_type=source_type, embedder=embedder)
    used = mode if embedder is not None and index.vectors is not None else "lexical"
    if as_json:
        document = {"query": text, "mode": used, "hits": [h.as_dict() for h in hits]}
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    if notice and mode == "hybrid":
        err.print(f"[yellow]notice:[/] {escape(notice)}", highlight=False, soft_wrap=True)
    if not hits:
        out.print("No passage matches.", highlight=False)
        return
    for rank, hit in enumerate(hits, start=1):
        passage = hit.passage
        where = passage.url or " > ".join(passage.heading_path) or passage.title
        out.print(
            f"[bold]{rank}.[/] [cyan]{passage.source_type}[/] {escape(passage.id)} "
            f"[dim]score {hit.score:.4f} ({used})[/]",
            highlight=False,
            soft_wrap=True,
        )
        out.print(f"   {escape(where)}", highlight=False, soft_wrap=True)
        out.print(Text("   ") + _highlighted(hit.snippet, [list(s) for s in hit.highlights]))


@knowledge_app.command("eval")
@handles_errors
def eval_command(
    qa: Annotated[Path, typer.Argument(help='QA .jsonl: {"question", "relevant": [ids]}')],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    config: ConfigOption = None,
) -> None:
    """Recall@1/5/10 and MRR of lexical, dense and hybrid retrieval on a QA set."""
    settings = settings_from(config, None)
    questions = read_questions(qa)
    index = current_version(settings.resolved_knowledge_dir())
    if index is None:
        raise NotFoundError("no knowledge index yet; run occ knowledge build --source FOLDER")
    embedder, notice = embedder_for(settings)
    result = evaluate(index, questions.items, embedder)
    result["skippedLines"] = [{"line": n, "reason": why} for n, why in questions.skipped]
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    if notice:
        err.print(f"[yellow]notice:[/] {escape(notice)}", highlight=False, soft_wrap=True)
    out.print(f"{result['questions']} questions", highlight=False)
    out.print(f"{'mode':<8} recall@1 recall@5 recall@10    MRR", highlight=False)
    for mode, scores in result["modes"].items():
        out.print(
            f"{mode:<8} {scores['recall@1']:>8.3f} {scores['recall@5']:>8.3f} "
            f"{scores['recall@10']:>9.3f} {scores['mrr']:>6.3f}",
            highlight=False,
        )
    for number, why in questions.skipped:
        err.print(f"line {number} skipped: {why}", highlight=False)
