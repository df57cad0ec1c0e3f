"""The knowledge index: passages, sources and their bad input, crawling a real local site,
incremental builds, atomic switches, queries, evaluation and the CLI.

Dense retrieval runs when the ``dense`` extra is installed (CI installs it); the tests that
need it say so and are skipped without it.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from fakes.loopback import LoopbackServer, Reply, Request
from occ.cli import app
from occ.config import Settings
from occ.decisions.log import add_decision
from occ.knowledge.build import BUILD_FACT_TYPE, build_index
from occ.knowledge.crawl import crawl_site
from occ.knowledge.evaluate import evaluate, read_questions
from occ.knowledge.index import current_version
from occ.knowledge.passages import slugify, split_markdown
from occ.knowledge.search import search
from occ.knowledge.setup import embedder_for
from occ.knowledge.sources import load_folder, load_pages, load_templates

CORPUS = Path(__file__).parent / "knowledge" / "corpus"
QA = Path(__file__).parent / "knowledge" / "qa.jsonl"
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
UA = "occ-test/1.0 (+operator control center; knowledge crawler)"


def _dense() -> Any:
    embedder, why = embedder_for(Settings())
    if embedder is None:
        pytest.skip(f"needs the dense extra: {why}")
    return embedder


# Passages and sources -------------------------------------------------------------------------


def test_markdown_splits_by_heading_keeps_the_path_and_front_matter_as_metadata() -> None:
    document = """---
title: Support SLA
owner: cx
tags: [sla, chatwoot]
updated: 2026-10-01
---
# Support SLA
Intro line.

## First reply
Reply within 60 minutes.

```bash
# not a heading inside code
```

### Priority label
Priority conversations get 30 minutes.

## Escalation
Escalate after two hours.
"""
    passages = split_markdown("cx/sla.md", document)
    assert [p.id for p in passages] == [
        "cx/sla.md#support-sla",
        "cx/sla.md#support-sla/first-reply",
        "cx/sla.md#support-sla/first-reply/priority-label",
        "cx/sla.md#support-sla/escalation",
    ]
    first_reply = passages[1]
    assert first_reply.heading_path == ("Support SLA", "First reply")
    assert "# not a heading inside code" in first_reply.text
    assert first_reply.metadata == {
        "title": "Support SLA",
        "owner": "cx",
        "tags": ["sla", "chatwoot"],
        "updated": "2026-10-01",
    }
    assert all("owner:" not in p.text and "---" not in p.text for p in passages)
    assert first_reply.search_text.startswith("Support SLA > First reply\n")
    assert slugify("  AN-6 / PTFE (90°) ") == "an-6-ptfe-90"


def test_a_folder_reports_binary_huge_and_wrongly_encoded_files(tmp_path: Path) -> None:
    (tmp_path / "ok.md").write_text("# Title\nBody text here.\n")
    (tmp_path / "plain.txt").write_text("Warehouse opens at 8.\n")
    (tmp_path / "binary.md").write_bytes(b"\x00\x01\x02 PNG")
    (tmp_path / "latin1.md").write_bytes("# Caf\xe9\nd\xe9j\xe0 vu\n".encode("latin-1"))
    (tmp_path / "huge.md").write_text("# Big\n" + "word " * 400)
    (tmp_path / "bad-front.md").write_text("---\ntitle: [unclosed\n---\n# T\nx\n")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")  # not a text suffix: not a document
    loaded = load_folder(tmp_path, max_bytes=1000)
    assert loaded.documents == 2
    assert {p.id for p in loaded.passages} == {"ok.md#title", "plain.txt#"}
    reasons = dict(loaded.skipped)
    assert reasons["binary.md"] == "binary file"
    assert reasons["latin1.md"].startswith("not UTF-8")
    assert "above the 1,000 limit" in reasons["huge.md"]
    assert reasons["bad-front.md"].startswith("front matter is not YAML")
    assert "image.png" not in reasons


def test_pages_ndjson_extracts_main_text_and_reports_bad_lines(tmp_path: Path) -> None:
    page = (
        "<html><head><title>PTFE hose guide</title></head><body><nav>Home Shop Cart</nav>"
        "<main><h1>PTFE hose guide</h1><p>"
        + "PTFE hose resists modern fuels and needs PTFE-specific hose ends. " * 8
        + "</p></main><footer>© shop</footer></body></html>"
    )
    lines = [
        json.dumps(
            {
                "source": "https://shop.test/ptfe",
                "fetchedAt": "2026-11-01T00:00:00Z",
                "content": page,
            }
        ),
        json.dumps(
            {
                "source": "https://shop.test/gone",
                "fetchedAt": "2026-11-01T00:00:00Z",
                "error": "HTTP 404",
            }
        ),
        "{not json",
        json.dumps({"source": "https://shop.test/broken", "content": "<html><p>unclosed <b>"}),
        json.dumps({"source": "https://shop.test/menu", "content": "<html><nav></nav></html>"}),
        json.dumps(["not", "an", "object"]),
    ]
    path = tmp_path / "pages.ndjson"
    path.write_text("\n".join(lines) + "\n")
    loaded = load_pages(path, max_bytes=1_000_000)
    assert loaded.documents == 2  # broken HTML is read for what it holds
    assert [p.text for p in loaded.passages if p.document.endswith("/broken")] == ["unclosed"]
    passage = loaded.passages[0]
    assert passage.id == "https://shop.test/ptfe#1" and passage.source_type == "site"
    assert passage.title == "PTFE hose guide"
    assert "PTFE hose resists modern fuels" in passage.text
    assert "Home Shop Cart" not in passage.text and "© shop" not in passage.text
    assert loaded.failed == [("https://shop.test/gone", "HTTP 404")]
    reasons = dict(loaded.skipped)
    assert reasons["pages.ndjson:3"] == "not JSON (JSONDecodeError)"
    assert reasons["https://shop.test/menu"] == "no main text found in the HTML"
    assert "pages.ndjson:6" in reasons


def test_templates_in_both_shapes_and_pii_ones_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "templates.ndjson"
    path.write_text(
        "\n".join(
            json.dumps(line)
            for line in [
                {
                    "id": "t1",
                    "scope": "cx",
                    "topic": "late order",
                    "key": "apology",
                    "value": "We are sorry your order is late; it ships today.",
                    "metadata": {"category": "shipping", "tone": "warm"},
                    "createdAt": "2026-10-01T00:00:00Z",
                },
                {
                    "id": "t2",
                    "title": "Wrong part",
                    "category": "returns",
                    "tone": "calm",
                    "tags": ["returns"],
                    "content": "Send the part back with the prepaid label.",
                    "pii": False,
                    "last_reviewed": "2026-09-01",
                },
                {"id": "t3", "title": "VIP", "content": "Dear Jane Roe at 12 Elm St", "pii": True},
                {"id": "t4"},
            ]
        )
    )
    loaded = load_templates(path, max_bytes=100_000)
    assert [p.id for p in loaded.passages] == ["template:t1", "template:t2"]
    assert loaded.passages[0].title == "late order · apology"
    assert loaded.passages[0].metadata["tone"] == "warm"
    assert loaded.passages[1].metadata["category"] == "returns"
    assert ("template:t3", "marked as holding personal data") in loaded.skipped
    assert any("t3" in notice and "pii" in notice for notice in loaded.notices)
    assert "templates.ndjson:4" in dict(loaded.skipped)


# Crawling a local site -------------------------------------------------------------------------


def _html(title: str, body: str) -> Reply:
    page = (
        f"<html><head><title>{title}</title></head><body><nav>menu</nav><article><h1>{title}</h1>"
        f"<p>{body}</p><p>{body}</p></article></body></html>"
    )
    return Reply(raw=page.encode(), headers={"Content-Type": "text/html; charset=utf-8"})


def _site(server: LoopbackServer) -> None:
    base = server.base_url

    def robots(_: Request) -> Reply:
        rules = f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap_index.xml\n"
        return Reply(raw=rules.encode(), headers={"Content-Type": "text/plain"})

    def xml(body: str) -> Any:
        return lambda _: Reply(raw=body.encode(), headers={"Content-Type": "application/xml"})

    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    server.route("GET", "/robots.txt", robots)
    server.route(
        "GET",
        "/sitemap_index.xml",
        xml(
            f"<sitemapindex {ns}><sitemap><loc>{base}/sitemap_pages.xml</loc></sitemap>"
            f"<sitemap><loc>{base}/sitemap_index.xml</loc></sitemap>"  # a loop
            "<sitemap><loc>https://elsewhere.example/sitemap.xml</loc></sitemap></sitemapindex>"
        ),
    )
    server.route(
        "GET",
        "/sitemap_pages.xml",
        xml(
            f"<urlset {ns}>"
            + "".join(
                f"<url><loc>{base}{path}</loc></url>"
                for path in (
                    "/pages/hose",
                    "/pages/fittings",
                    "/pages/missing",
                    "/private/x",
                    "/pages/slow",
                    "/pages/loop",
                    "/pages/pdf",
                )
            )
            + "<url><loc>https://elsewhere.example/page</loc></url></urlset>"
        ),
    )

    def hose(request: Request) -> Reply:
        if request.headers.get("if-none-match") == '"hose-v1"':
            return Reply(304, raw=b"", headers={"ETag": '"hose-v1"'})
        reply = _html("PTFE hose", "PTFE hose carries ethanol fuel without seepage.")
        reply.headers["ETag"] = '"hose-v1"'
        return reply

    server.route("GET", "/pages/hose", hose)
    server.route("GET", "/pages/fittings", lambda _: _html("AN fittings", "AN-6 fittings seal."))
    server.route("GET", "/private/x", lambda _: _html("Secret", "never fetched"))
    server.route("GET", "/pages/slow", lambda _: Reply(raw=b"<html/>", delay=2.0))
    server.route(
        "GET", "/pages/loop", lambda _: Reply(302, raw=b"", headers={"Location": "/pages/loop"})
    )
    server.route(
        "GET",
        "/pages/pdf",
        lambda _: Reply(raw=b"%PDF-1.4", headers={"Content-Type": "application/pdf"}),
    )


def test_crawl_follows_robots_and_sitemaps_and_records_failures() -> None:
    server = LoopbackServer()
    with server.running():
        _site(server)
        with httpx.Client(timeout=0.5, follow_redirects=True, max_redirects=3) as client:
            result = crawl_site(
                client,
                server.base_url + "/",
                user_agent=UA,
                requests_per_second=1000,
                concurrency=2,
            )
            fetched = {p["source"].removeprefix(server.base_url): p for p in result.pages}
            assert set(fetched) == {
                "/pages/hose",
                "/pages/fittings",
                "/pages/missing",
                "/pages/slow",
                "/pages/loop",
                "/pages/pdf",
            }
            assert "PTFE hose carries ethanol" in fetched["/pages/hose"]["content"]
            failures = {url.removeprefix(server.base_url): why for url, why in result.failures}
            assert failures["/pages/missing"] == "HTTP 404"
            assert failures["/pages/slow"] == "timed out"
            assert failures["/pages/loop"] == "too many redirects"
            assert failures["/pages/pdf"].startswith("not HTML")
            skipped = {url.removeprefix(server.base_url): why for url, why in result.skipped}
            assert skipped["/private/x"] == "disallowed by robots.txt"
            assert skipped["https://elsewhere.example/page"] == "on another host"
            assert skipped["https://elsewhere.example/sitemap.xml"] == "sitemap on another host"
            assert "sitemap already read" in skipped["/sitemap_index.xml"]
            assert not any(r.path == "/private/x" for r in server.requests)
            assert {r.headers["user-agent"] for r in server.requests} == {UA}

            # A re-crawl asks conditionally and keeps the unchanged page.
            again = crawl_site(
                client,
                server.base_url + "/",
                user_agent=UA,
                requests_per_second=1000,
                previous={p["source"]: p for p in result.pages if "content" in p},
            )
    assert again.not_modified == 1
    hose = [r for r in server.requests if r.path == "/pages/hose"]
    assert hose[-1].headers["if-none-match"] == '"hose-v1"'
    kept = next(p for p in again.pages if p["source"].endswith("/pages/hose"))
    assert "PTFE hose carries ethanol" in kept["content"]


# Building, querying, evaluating ---------------------------------------------------------------


def _build(root: Path, engine: Engine, sources: list[str], embedder: Any = None) -> Any:
    return build_index(root, engine, sources, embedder=embedder, now=NOW, max_bytes=1_000_000)


def test_build_is_incremental_and_switches_versions_atomically(
    engine: Engine, tmp_path: Path
) -> None:
    embedder = _dense()
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    root = tmp_path / "knowledge"
    add_decision(
        engine,
        scope="cx",
        actor="ops@example.com",
        action="Reply with template late-order",
        rationale="Customer waited two hours",
        now=NOW,
    )
    first = _build(root, engine, [str(corpus)], embedder)
    assert first.stats.embedded == first.stats.passages > 50 and first.stats.reused == 0
    opened = current_version(root)
    assert opened is not None
    assert any(p.id.startswith("decision:") for p in opened.passages)

    # Nothing changed: nothing is embedded again.
    second = _build(root, engine, [], embedder)  # the folder is remembered
    assert second.stats.embedded == 0 and second.stats.reused == first.stats.passages

    # One section edited, one file removed.
    sla = corpus / "cx" / "support-sla.md"
    sla.write_text(sla.read_text().replace("60 minutes", "45 minutes", 1))
    removed = corpus / "seo" / "traffic-drop.md"
    gone = {p.id for p in opened.passages if p.document == "seo/traffic-drop.md"}
    removed.unlink()
    third = _build(root, engine, [], embedder)
    assert third.stats.embedded == 1
    latest = current_version(root)
    assert latest is not None
    assert gone and not gone & {p.id for p in latest.passages}
    # The version opened before the rebuilds still answers (it was never modified).
    assert search(opened, "traffic drop after redirects", k=1, mode="lexical")
    assert (root / "CURRENT").read_text().strip() == third.stats.version
    with engine.connect() as connection:
        facts = connection.execute(
            text("SELECT value FROM dashboard_fact WHERE fact_type = :t ORDER BY id"),
            {"t": BUILD_FACT_TYPE},
        ).all()
    assert len(facts) == 3
    value = facts[-1][0] if isinstance(facts[-1][0], dict) else json.loads(facts[-1][0])
    assert value["passages"] == third.stats.passages and value["embedded"] == 1


def test_queries_filter_by_source_type_and_highlight(engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    _build(root, engine, [str(CORPUS)])
    index = current_version(root)
    assert index is not None and index.vectors is None
    hits = search(index, "reorder point supplier lead time", k=3, mode="hybrid")
    assert hits[0].passage.document == "ops/inventory-reorder.md"
    assert hits[0].highlights
    start, end = hits[0].highlights[0]
    assert (
        hits[0]
        .snippet[start:end]
        .lower()
        .startswith(("reorder", "supplier", "lead", "time", "point"))
    )
    assert search(index, "reorder point", k=3, source_type="template") == []


def test_hybrid_recall_at_5_is_at_least_bm25s_on_the_shipped_set(
    engine: Engine, tmp_path: Path
) -> None:
    embedder = _dense()
    root = tmp_path / "knowledge"
    _build(root, engine, [str(CORPUS)], embedder)
    index = current_version(root)
    assert index is not None
    questions = read_questions(QA)
    assert len(questions.items) >= 40 and not questions.skipped
    result = evaluate(index, questions.items, embedder)["modes"]
    assert set(result) == {"lexical", "dense", "hybrid"}
    assert result["hybrid"]["recall@5"] >= result["lexical"]["recall@5"]
    assert result["hybrid"]["recall@5"] > 0.6


def test_cli_build_query_eval_and_bad_input(runner: CliRunner, db_url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["knowledge", "query", "refund"])
    assert result.exit_code == 1
    assert "no knowledge index yet; run occ knowledge build --source FOLDER" in result.output
    result = runner.invoke(
        app, ["knowledge", "build", "--source", "missing-folder", "--db", db_url]
    )
    assert result.exit_code == 2
    assert "neither a folder, an NDJSON file nor a URL" in result.output
    assert len(result.output.strip().splitlines()) == 1

    result = runner.invoke(app, ["knowledge", "build", "--source", str(CORPUS), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "Knowledge index version 1" in result.output
    result = runner.invoke(
        app, ["knowledge", "query", "chargeback dispute evidence", "--k", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert len(document["hits"]) == 2
    assert document["hits"][0]["document"] == "cx/refunds-and-chargebacks.md"
    result = runner.invoke(app, ["knowledge", "query", "x", "--source-type", "pdf"])
    assert result.exit_code == 2 and "unknown --source-type" in result.output
    bad = tmp_path / "qa.jsonl"
    bad.write_text("not json\n" + QA.read_text().splitlines()[0] + "\n")
    result = runner.invoke(app, ["knowledge", "eval", str(bad), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["questions"] == 1 and scores["skippedLines"][0]["line"] == 1
    assert runner.invoke(app, ["knowledge", "crawl", "ftp://x"]).exit_code == 2


@pytest.mark.parametrize("command", [["crawl"], ["build", "--source"]])
@pytest.mark.parametrize(
    ("scheme", "says"),
    [
        ("http", "without user:password@"),
        ("HTTPS", "without user:password@"),  # a scheme in capitals is still a site URL
        ("htps", "***@"),  # mistyped: refused, shown with its password masked
    ],
)
def test_a_site_url_with_a_password_is_refused_without_printing_it(
    runner: CliRunner, db_url: str, command: list[str], scheme: str, says: str
) -> None:
    secret = "Tq8vZ3mK9pLw"  # a password typed into the URL must never be echoed or kept
    url = f"{scheme}://ops:{secret}@127.0.0.1:1/"
    result = runner.invoke(app, ["knowledge", *command, url, "--json", "--db", db_url])
    assert result.exit_code == 2, result.output
    assert secret not in result.output
    assert says in result.output
    assert len(result.output.strip().splitlines()) == 1
    written = [path.read_bytes() for path in Path().rglob("*") if path.is_file()]
    assert not any(secret.encode() in data for data in written)  # not remembered as a source


@pytest.mark.parametrize(
    ("option", "value", "rule"),
    [("--rps", "0", "greater than 0"), ("--concurrency", "0", "greater than or equal to 1")],
)
def test_a_bad_crawl_option_is_named_in_plain_words(
    runner: CliRunner, option: str, value: str, rule: str
) -> None:
    result = runner.invoke(app, ["knowledge", "crawl", "http://127.0.0.1:1/", option, value])
    assert result.exit_code == 2, result.output
    assert f"bad {option} {value}: Input should be {rule}" in result.output
    assert "errors.pydantic.dev" not in result.output  # a library's jargon says nothing to do
    assert len(result.output.strip().splitlines()) == 1


def test_cli_crawl_indexes_a_local_site(runner: CliRunner, db_url: str) -> None:
    server = LoopbackServer()
    with server.running():
        _site(server)
        result = runner.invoke(
            app, ["knowledge", "crawl", server.base_url + "/", "--rps", "50", "--db", db_url]
        )
    assert result.exit_code == 0, result.output
    assert "crawled" in result.output and "HTTP 404" in result.output
    assert "disallowed by robots.txt" in result.output
    query = runner.invoke(app, ["knowledge", "query", "ethanol fuel hose", "--json"])
    hits = json.loads(query.output)["hits"]
    assert hits[0]["url"].endswith("/pages/hose") and hits[0]["sourceType"] == "site"


def test_cli_crawl_counts_the_pages_fetched_and_stored_and_those_that_failed(
    runner: CliRunner, db_url: str
) -> None:
    server = LoopbackServer()
    with server.running():
        _site(server)
        site = server.base_url + "/"
        report = runner.invoke(
            app, ["knowledge", "crawl", site, "--rps", "50", "--json", "--db", db_url]
        )
        text = runner.invoke(app, ["knowledge", "crawl", site, "--rps", "50", "--db", db_url])
    assert report.exit_code == 0, report.output
    counts = json.loads(report.output)["crawled"][site]
    # hose and fittings; 404, timeout, redirect loop and PDF are failures, not pages
    assert (counts["pages"], counts["pagesFailed"], counts["failures"]) == (2, 4, 4)
    assert text.exit_code == 0, text.output
    printed = " ".join(text.output.split())  # the console wraps at 80 columns
    assert "2 pages fetched and stored (1 not modified), 4 pages failed, in " in printed


def test_cli_crawl_that_fetches_no_page_exits_4_and_keeps_the_index(
    runner: CliRunner, db_url: str
) -> None:
    unreachable = runner.invoke(app, ["knowledge", "crawl", "http://127.0.0.1:1/", "--db", db_url])
    assert unreachable.exit_code == 4, unreachable.output
    assert "no page of http://127.0.0.1:1/ could be fetched" in unreachable.output
    assert "3 requests failed" in unreachable.output  # robots.txt, sitemap.xml, the page
    assert len(unreachable.output.strip().splitlines()) == 1
    assert not Path(".occ/knowledge/CURRENT").exists()  # no index built, no source remembered
    assert not Path(".occ/knowledge/sources.json").exists()

    server = LoopbackServer()
    with server.running():
        _site(server)
        site = server.base_url + "/"
        first = runner.invoke(app, ["knowledge", "crawl", site, "--rps", "50", "--db", db_url])
        assert first.exit_code == 0, first.output
        [crawl_file] = Path(".occ/knowledge/sites").glob("*.ndjson")
        crawled = crawl_file.read_bytes()
        asked = len(server.requests)
        # A new site that cannot be reached stops the crawl before the remembered one is
        # crawled again (it would be rewritten, and the operator kept waiting for it).
        typo = runner.invoke(app, ["knowledge", "crawl", "http://127.0.0.1:1/", "--db", db_url])
        assert typo.exit_code == 4, typo.output
        assert len(server.requests) == asked and crawl_file.read_bytes() == crawled
        server.routes.clear()  # the site now answers 404 to everything
        down = runner.invoke(app, ["knowledge", "crawl", site, "--rps", "50", "--db", db_url])
        # The worker's nightly rebuild must not empty the index of a site that is down either.
        rebuilt = runner.invoke(app, ["knowledge", "build", "--db", db_url])
    assert down.exit_code == 4, down.output
    assert f"no page of {site} could be fetched" in down.output and "HTTP 404" in down.output
    assert rebuilt.exit_code == 0, rebuilt.output
    kept = f"no page of {site} could be fetched this time; kept the previous crawl's"
    assert kept in " ".join(rebuilt.output.split())  # the console wraps at 80 columns
    assert crawl_file.read_bytes() == crawled
    query = runner.invoke(app, ["knowledge", "query", "ethanol fuel hose", "--json"])
    assert json.loads(query.output)["hits"][0]["url"].endswith("/pages/hose")  # still indexed


def test_the_tile_page_shows_passages_for_each_anomaly(engine: Engine, tmp_path: Path) -> None:
    from web_fixtures import dashboard

    root = tmp_path / "knowledge"
    templates = tmp_path / "templates.ndjson"
    templates.write_text(
        json.dumps(
            {
                "id": "late-reply",
                "title": "Sorry for the wait",
                "category": "sla",
                "content": "Sorry you waited for a reply from support; an agent answers now.",
                "pii": False,
            }
        )
        + "\n"
    )
    _build(root, engine, [str(CORPUS), str(templates)])
    settings = Settings(knowledge_dir=root, knowledge_dense="off")
    with dashboard(engine, tmp_path / "rec", settings=settings) as dash, dash.signed_in() as client:
        page = client.get("/tiles/sla_breach_rate")
        assert page.status_code == 200
        assert "From the knowledge index" in page.text
        assert "(template:late-reply)" in page.text  # the reply template first
        assert "cx/support-sla.md#" in page.text  # and the CX runbook
        # A rebuild is picked up without a restart.
        (tmp_path / "more").mkdir()
        (tmp_path / "more" / "sla-extra.md").write_text(
            "# SLA breach drill\nWhen customers wait past the SLA breach, reply first.\n"
        )
        _build(root, engine, [str(tmp_path / "more")])
        again = client.get("/tiles/sla_breach_rate")
        assert "sla-extra.md#sla-breach-drill" in again.text


def test_the_worker_job_rebuilds_remembered_sources(engine: Engine, tmp_path: Path) -> None:
    from occ.worker import JobContext, JobSkipped
    from occ.worker.knowledge import knowledge_job

    settings = Settings(knowledge_dir=tmp_path / "knowledge", knowledge_dense="off")
    context = JobContext(settings, engine, "worker-1", clock=lambda: NOW)
    with pytest.raises(JobSkipped, match="no knowledge source yet"):
        knowledge_job(context)
    _build(settings.resolved_knowledge_dir(), engine, [str(CORPUS)])
    detail = knowledge_job(context)
    assert detail.startswith("version 2:") and "0 embedded" in detail
