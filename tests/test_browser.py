"""The dashboard end to end, in a real headless Chromium, as an operator uses it.

Debian's Chromium (/usr/bin/chromium; ``apt-get install -y chromium``) is driven by Playwright's
sync API; Playwright never downloads a browser here. The app is the real ``create_app`` on a
real uvicorn server (tests/web_server.py), over a store built by the real CLI or refresh.
One browser per module, a fresh context (cookies, storage) per test.

Screenshots go to ``$OCC_TEST_ARTIFACTS`` or ``<repo>/test-artifacts/`` (not committed):
the full overview of the journey, and the last page of every test (for a failure's post-mortem).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from conftest import NOW
from insights_fixture import build_store
from occ.cli import app
from occ.config import Settings
from occ.refresh import run_refresh
from occ.sources.demo import demo_payloads
from occ.store.engine import open_store
from occ.store.operators import add_operator
from scenario import scenario_conversations, scenario_folder, scenario_ga4
from web_server import running_dashboard

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Read at import, before conftest's autouse fixture clears OCC_* for each test.
ARTIFACTS = Path(
    os.environ.get("OCC_TEST_ARTIFACTS")
    or Path(__file__).resolve().parent.parent / "test-artifacts"
)
NOW_ISO = "2026-11-26T15:00:00Z"
OPERATOR = "ops@hotrod.example"
PASSWORD = "correct horse battery staple"

TILES = [
    ("sales_delta", "Sales Pulse"),
    ("sla_breach_rate", "CX Escalations"),
    ("traffic_anomalies", "SEO & Content Watch"),
    ("inventory_cover", "Inventory Heatmap"),
    ("fulfillment_issue_rate", "Fulfillment"),
    ("unsellable_traffic", "Unsellable Traffic"),
]
SALES_ACTION = "Review the sales drop"
EVIL_NAME = "<script>window.__pwned=1</script>Eve"
EVIL_PAGE = '/products/<img src=x onerror="window.__pwned=2">'

# What the keyboard sees: the focused element, whether it is on screen, and its focus ring.
FOCUS_JS = """() => {
  const el = document.activeElement;
  const r = el.getBoundingClientRect();
  const s = getComputedStyle(el);
  return {
    tag: el.tagName, id: el.id, cls: el.className, href: el.getAttribute("href"),
    text: (el.innerText || el.value || "").trim().slice(0, 80),
    onScreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
      && r.top < innerHeight && r.left < innerWidth,
    ring: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0,
  };
}"""

NewPage = Callable[..., Page]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing; install Debian's Chromium: apt-get install -y chromium",
)


# Browser, pages, server ------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[NewPage]:
    """Open a page in a fresh context; JS errors are collected in ``page.errors``."""
    opened: list[tuple[BrowserContext, Page]] = []

    def open_page(**options: Any) -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
        context.set_default_timeout(10_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        page.on(
            "console",
            lambda msg: (
                errors.append(f"console {msg.type}: {msg.text} ({msg.location})")
                if msg.type == "error" and "/favicon.ico" not in str(msg.location)
                else None
            ),
        )
        page.errors = errors  # type: ignore[attr-defined]
        opened.append((context, page))
        return page

    yield open_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    for index, (context, page) in enumerate(opened):
        with contextlib.suppress(PlaywrightError):  # a crashed page: keep the test's own error
            page.screenshot(path=str(ARTIFACTS / f"{name}-{index}-last.png"))
        context.close()


@pytest.fixture
def dashboard(engine: Engine) -> Iterator[str]:
    with running_dashboard(Settings(), engine, clock=lambda: NOW) as base:
        yield base


def sign_in_by_typing(page: Page, base: str) -> None:
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/signin?next=/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("E-mail").press_sequentially(OPERATOR)
    page.get_by_label("Password").press_sequentially(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/")
    expect(page.locator("header .operator")).to_have_text(OPERATOR)


def cli(runner: CliRunner, *args: str, stdin: str | None = None) -> None:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, (args, result.output)


def add_operator_cli(runner: CliRunner, db_url: str) -> None:
    cli(runner, "users", "add", OPERATOR, "--password-stdin", "--db", db_url, stdin=PASSWORD + "\n")


def decisions_in_db(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, scope, actor, action, rationale, evidence_url, external_ref "
                "FROM decision_log ORDER BY created_at"
            )
        )
        return [{**row._mapping, "id": str(row.id)} for row in rows]


def queue_size(page: Page) -> int:
    intro = page.locator("main > p").first.inner_text()
    found = re.match(r"(\d+) suggested action\(s\) awaiting a decision", intro)
    assert found, intro
    return int(found.group(1))


def assert_no_page_errors(page: Page) -> None:
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


# The demo store, built once per module and copied for each test that needs it -----------


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store (seed 7 at NOW) with the operator, as a SQLite file to copy."""
    folder = tmp_path_factory.mktemp("demo-template")
    with pytest.MonkeyPatch.context() as patch:  # the settings of the tests, not the developer's
        for name in list(os.environ):
            if name.startswith("OCC_") and name != "OCC_TEST_PG_URL":
                patch.delenv(name)
        store = open_store(f"sqlite:///{folder / 'occ.db'}")
        try:
            run_refresh(store, Settings(), demo_payloads(7, NOW), NOW, clock=lambda: NOW)
            with store.begin() as connection:
                add_operator(connection, OPERATOR, PASSWORD, NOW)
        finally:
            store.dispose()
    return folder


@pytest.fixture
def demo_engine(demo_template: Path, tmp_path: Path) -> Iterator[Engine]:
    copy = tmp_path / "demo"
    shutil.copytree(demo_template, copy)
    store = open_store(f"sqlite:///{copy / 'occ.db'}")
    yield store
    store.dispose()


@pytest.fixture
def demo_dashboard(demo_engine: Engine) -> Iterator[str]:
    with running_dashboard(Settings(), demo_engine, clock=lambda: NOW) as base:
        yield base


# The operator's day ----------------------------------------------------------------------


def assert_demo_tiles(page: Page) -> None:
    """The six tiles in order, each with a text badge, and the demo's intended anomalies
    (the sold-out product behind the falling page is also the unsellable traffic)."""
    tiles = page.locator("article.tile")
    expect(tiles).to_have_count(6)
    assert [t.get_attribute("id") for t in tiles.all()] == [f"tile-{kpi}" for kpi, _ in TILES]
    for kpi, title in TILES:
        tile = page.locator(f"#tile-{kpi}")
        expect(tile.locator("h2")).to_have_text(title)
        expect(tile.locator("header .badge")).to_have_text("✖ Critical")
    unsellable = page.locator("#tile-unsellable_traffic")
    expect(unsellable.locator(".big")).to_have_text("2,019.36 USD at risk · 356 sessions")
    expect(unsellable).to_contain_text("/products/an-6-hose-end-90")
    sales = page.locator("#tile-sales_delta")
    expect(sales.locator(".big")).to_contain_text("-50.8 %")
    expect(sales.locator(".headline")).to_contain_text("2,310.40 USD in the last 24 h")
    expect(page.locator("#tile-sla_breach_rate .big")).to_have_text("50.0 %")
    hose = page.locator("#tile-traffic_anomalies tbody tr").first
    expect(hose.locator("td")).to_have_text(
        ["/products/an-6-hose-end-90", "356 vs 662", "-46.2 %", "✖ Critical"]
    )
    worst = page.locator("#tile-inventory_cover tbody tr").first
    expect(worst.locator("td")).to_have_text(["HRP-AN6-90-BLK", "0.0 d", "90", "✖ Critical"])
    expect(page.locator("#tile-fulfillment_issue_rate .big")).to_have_text("33.8 %")


def test_operator_signs_in_reviews_approves_and_signs_out(
    db_url: str, engine: Engine, runner: CliRunner, new_page: NewPage
) -> None:
    cli(runner, "demo", "--no-serve", "--now", NOW_ISO, "--db", db_url)
    add_operator_cli(runner, db_url)
    page = new_page()
    with running_dashboard(Settings(), engine, clock=lambda: NOW) as base:
        sign_in_by_typing(page, base)

        # The overview: six tiles, the first five critical, with the demo's numbers.
        expect(page.locator("h1")).to_have_text("hotrod-parts-demo.myshopify.com")
        assert_demo_tiles(page)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / f"overview-{engine.dialect.name}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000

        # A tile's detail, opened from its title.
        page.get_by_role("link", name="SEO & Content Watch").click()
        expect(page).to_have_url(f"{base}/tiles/traffic_anomalies")
        expect(page.locator("h1")).to_contain_text("SEO & Content Watch")
        expect(page.locator("h1 .badge")).to_have_text("✖ Critical")
        row = page.locator(
            "tr", has=page.locator("td", has_text=re.compile("^/products/an-6-hose-end-90$"))
        )
        expect(row.locator("td")).to_have_text(
            ["/products/an-6-hose-end-90", "356", "662", "-46.2 %", "✖ Critical"]
        )
        expect(page.get_by_text("fell 46.2 % week over week")).to_be_visible()

        # Approvals: approve the sales review with a rationale.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
        expect(page).to_have_url(f"{base}/approvals")
        before = queue_size(page)
        action = page.locator("li.action", has_text=SALES_ACTION)
        expect(action).to_have_count(1)
        action_id = action.get_attribute("data-action-id") or ""
        title = action.locator("h2").inner_text().removeprefix("✖ Critical").strip()
        fact_id = action_id.split(":")[0]
        assert fact_id.isdigit(), action_id
        rationale = "Checkout broke after the theme deploy; rolled back, watching tomorrow."
        action.get_by_label("Rationale (optional)").press_sequentially(rationale)
        action.get_by_role("button", name="Approve").click()
        expect(page).to_have_url(f"{base}/approvals")
        flash = page.locator(".banner.flash")
        expect(flash).to_have_text(re.compile(rf"^Approved: {re.escape(title)} \(decision .+\)$"))
        decision_prefix = flash.inner_text().rsplit("(decision ", 1)[1].rstrip(")")
        expect(page.locator(f'li.action[data-action-id="{action_id}"]')).to_have_count(0)
        assert queue_size(page) == before - 1

        # Decision history shows it, with its evidence.
        page.get_by_role("link", name="Decision history").click()
        expect(page).to_have_url(f"{base}/decisions")
        rows = page.locator("table.decisions tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first.locator("td")).to_have_text(
            [
                "2026-11-26 15:00 UTC",
                "sales",
                OPERATOR,
                f"approve: {title}",
                rationale,
                f"/facts/{fact_id}",
                # Approved today, its outcome is checked once the sales horizon has passed.
                "… Not checked yet due 2026-12-03 15:00 UTC, 7 days after the decision",
            ]
        )
        rows.first.get_by_role("link", name=f"/facts/{fact_id}").click()
        expect(page.locator("h1")).to_contain_text(f"Fact {fact_id} · anomaly.")

        # The store holds the same decision.
        stored = decisions_in_db(engine)
        decision_id = str(stored[0]["id"]) if stored else ""
        assert len(decision_prefix) == 8 and decision_id.startswith(decision_prefix)
        assert stored == [
            {
                "id": decision_id,
                "scope": "sales",
                "actor": OPERATOR,
                "action": f"approve: {title}",
                "rationale": rationale,
                "evidence_url": f"/facts/{fact_id}",
                "external_ref": action_id,
            }
        ]

        # Sign out: every page sends back to sign-in.
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(f"{base}/signin")
        page.goto(f"{base}/")
        expect(page).to_have_url(f"{base}/signin?next=/")
        page.goto(f"{base}/approvals")
        expect(page).to_have_url(f"{base}/signin?next=/approvals")
        assert_no_page_errors(page)


# Keyboard only ---------------------------------------------------------------------------


def focused(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(FOCUS_JS)
    return found


def tab_to(page: Page, wanted: Callable[[dict[str, Any]], bool], limit: int = 40) -> None:
    """Press Tab until ``wanted`` holds for the focused element; each stop must be seen."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        stops.append(element)
        assert element["onScreen"] and element["ring"], f"focus is not visible on {element}"
        if wanted(element):
            return
    raise AssertionError(f"Tab never reached the element; the stops were {stops}")


def test_keyboard_only_sign_in_and_approval(
    demo_engine: Engine, demo_dashboard: str, new_page: NewPage
) -> None:
    base = demo_dashboard
    page = new_page()
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/signin?next=/")
    assert focused(page)["id"] == "email"  # autofocus: the operator can type at once
    page.keyboard.type(OPERATOR)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/")

    # The skip link: hidden until focused, first on the page, and it moves focus to <main>.
    skip = page.get_by_role("link", name="Skip to content")
    assert (skip.bounding_box() or {"x": 0})["x"] < 0
    page.keyboard.press("Tab")
    element = focused(page)
    assert element["text"] == "Skip to content" and element["onScreen"] and element["ring"], element
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/#main")
    assert focused(page)["tag"] == "MAIN"

    # Severity is text as well as colour: every badge says what it means.
    badges = page.locator("article.tile .badge")
    assert badges.count() >= 5
    for said in badges.all_inner_texts():
        assert re.fullmatch(r"[✖▲●○⏱] (Critical|Warning|OK|Unconfigured|Stale.*)", said), said
    expect(page.locator("article.tile .badge [aria-hidden='true']").first).to_have_text("✖")

    # From <main>, the next stop is the link to the approvals queue.
    tab_to(page, lambda e: e["href"] == "/approvals")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/approvals")
    first = page.locator("li.action").first
    action_id = first.get_attribute("data-action-id") or ""
    title = first.locator("h2").inner_text().split(" ", 2)[2]
    tab_to(page, lambda e: e["id"] == "rationale-1")
    page.keyboard.type("Keyboard only: confirmed with the warehouse.")
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "✔ Approve"
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{base}/approvals")
    expect(page.locator(".banner.flash")).to_contain_text(f"Approved: {title}")
    expect(page.locator(f'li.action[data-action-id="{action_id}"]')).to_have_count(0)
    [decision] = decisions_in_db(demo_engine)
    assert decision["actor"] == OPERATOR
    assert decision["external_ref"] == action_id
    assert decision["rationale"] == "Keyboard only: confirmed with the warehouse."
    assert_no_page_errors(page)


# Upstream text is text -------------------------------------------------------------------


def hostile_folder(folder: Path) -> Path:
    """The hand-computed scenario, with markup in a breached customer's name and a page path."""
    conversations, messages = scenario_conversations(NOW)
    conversations[0]["meta"]["sender"]["name"] = EVIL_NAME  # conversation 1 breaches its SLA
    ga4 = scenario_ga4(NOW.date())
    for row in ga4["rows"]:
        if row["dimensionValues"][0]["value"] == "/a":  # the page that halves (critical)
            row["dimensionValues"][0]["value"] = EVIL_PAGE
    return scenario_folder(folder, NOW, conversations=conversations, messages=messages, ga4=ga4)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_upstream_markup_renders_as_text(
    db_url: str, dashboard: str, runner: CliRunner, tmp_path: Path, new_page: NewPage
) -> None:
    folder = hostile_folder(tmp_path / "recorded")
    cli(runner, "refresh", "--source", f"dir:{folder}", "--now", NOW_ISO, "--db", db_url)
    add_operator_cli(runner, db_url)
    # Without the CSP: escaping alone must keep the markup inert.
    page = new_page(bypass_csp=True)
    sign_in_by_typing(page, dashboard)

    def assert_inert(where: str) -> None:
        assert page.evaluate("typeof window.__pwned") == "undefined", where
        scripts = page.evaluate("[...document.scripts].map(s => s.getAttribute('src'))")
        assert scripts == ["/static/occ.js"], (where, scripts)
        expect(page.locator("img")).to_have_count(0)

    expect(page.locator("#tile-sla_breach_rate tbody")).to_contain_text(EVIL_NAME)
    expect(page.locator("#tile-traffic_anomalies td.path")).to_contain_text([EVIL_PAGE])
    expect(page.locator("#tile-traffic_anomalies figcaption")).to_contain_text(EVIL_PAGE)
    assert_inert("overview")
    for path in ("/tiles/sla_breach_rate", "/tiles/traffic_anomalies", "/approvals"):
        page.goto(f"{dashboard}{path}")
        expect(page.locator("main")).to_contain_text(EVIL_NAME if "sla" in path else EVIL_PAGE)
        assert_inert(path)
    expect(page.locator("li.action h2", has_text=EVIL_NAME)).to_have_count(1)
    expect(page.locator("li.action h2", has_text=EVIL_PAGE)).to_have_count(1)
    assert_no_page_errors(page)


# Every kind of action can be decided ------------------------------------------------------


def sign_in_demo(page: Page, base: str) -> None:
    page.goto(f"{base}/signin")
    page.get_by_label("E-mail").fill(OPERATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/")


def test_actions_whose_ids_hold_slashes_can_be_decided(
    demo_engine: Engine, demo_dashboard: str, new_page: NewPage
) -> None:
    """Reorder and expedite ids hold gid://…, page reviews a path: the form posts them as is."""
    page = new_page()
    sign_in_demo(page, demo_dashboard)
    page.goto(f"{demo_dashboard}/approvals")
    decided = []
    for subject, kind, verdict in (
        ("HRP-AN6-90-BLK", ":reorder:gid://shopify/ProductVariant/", "Snooze"),
        ("/products/an-6-hose-end-90", ":review_page:/products/", "Approve"),
        ("Expedite order", ":expedite:gid://shopify/Order/", "Approve"),
    ):
        action = page.locator("li.action", has_text=subject).first
        action_id = action.get_attribute("data-action-id") or ""
        assert kind in action_id, action_id
        with page.expect_response(lambda response: response.request.method == "POST") as posted:
            action.get_by_role("button", name=verdict).click()
        assert posted.value.status == 303, (action_id, page.locator("main").inner_text())
        expect(page).to_have_url(f"{demo_dashboard}/approvals")
        expect(page.locator(".banner.flash")).to_contain_text(f"{verdict}d: ")
        expect(page.locator(f'li.action[data-action-id="{action_id}"]')).to_have_count(0)
        decided.append(action_id)
    assert sorted(d["external_ref"] for d in decisions_in_db(demo_engine)) == sorted(decided)


def test_reject_flash_reads_rejected(demo_dashboard: str, new_page: NewPage) -> None:
    page = new_page()
    sign_in_demo(page, demo_dashboard)
    page.goto(f"{demo_dashboard}/approvals")
    page.locator("li.action", has_text=SALES_ACTION).get_by_role("button", name="Reject").click()
    expect(page).to_have_url(f"{demo_dashboard}/approvals")
    assert page.locator(".banner.flash").inner_text().startswith("Rejected: ")


def test_refresh_now_updates_the_page_when_it_finishes(
    demo_dashboard: str, new_page: NewPage
) -> None:
    """The button starts the refresh in the background; the page's script polls and reloads."""
    page = new_page()
    sign_in_demo(page, demo_dashboard)
    expect(page.locator(".page-head")).to_contain_text("run 1 ")
    page.get_by_role("button", name="Refresh now").click()
    banner = page.locator("#refresh-status")
    expect(banner).to_contain_text("Refreshing demo")
    expect(page.get_by_role("button", name="Refresh now")).to_be_disabled()
    # No click and no navigation by the test: occ.js reloads the page when the run is done.
    expect(page.locator(".page-head")).to_contain_text("run 2 ", timeout=60_000)
    expect(banner).to_have_count(0)
    expect(page.locator("article.tile")).to_have_count(len(TILES))


def test_the_demo_packet_renders_offline_with_every_chart(
    tmp_path: Path, new_page: NewPage
) -> None:
    """The packet `occ demo` writes, opened from disk as a reader would, with no network."""
    db = f"sqlite:///{tmp_path / 'packet.db'}"
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--now", NOW_ISO, "--db", db])
    assert result.exit_code == 0, result.output
    index = tmp_path / ".occ" / "packets" / "2026-11-26" / "index.html"
    assert index.exists(), result.output
    page = new_page()
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.goto(index.as_uri())
    expect(page.get_by_role("heading", name="Headline")).to_be_visible()
    figures = page.locator("figure svg")
    count = figures.count()
    assert count == 6  # five KPI trends and the anomalies of the week (no sync events)
    for position in range(count):
        figure = figures.nth(position)
        figure.scroll_into_view_if_needed()
        expect(figure).to_be_visible()
        box = figure.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
    expect(page.get_by_text("no sync events recorded in the week")).to_be_visible()
    assert page.errors == []  # type: ignore[attr-defined]
    assert requests == [index.as_uri()]  # nothing but the file itself
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "weekly-packet.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "weekly-packet-first-screen.png"))


def test_incident_cards_show_the_linked_anomalies_evidence_and_likely_cause(
    demo_dashboard: str, new_page: NewPage
) -> None:
    """The demo plants one incident of each kind; each card names its likely cause, lists its
    anomalies (linked to their facts) and opens to the evidence of each link."""
    page = new_page()
    sign_in_by_typing(page, demo_dashboard)
    section = page.get_by_role("region", name=re.compile("^Incidents across sources"))
    expect(section).to_be_visible()
    cards = section.locator("article.incident")
    expect(cards).to_have_count(3)
    titles = [card.locator("h3").inner_text() for card in cards.all()]
    assert any(t.startswith("Customers waiting on") for t in titles), titles
    assert "/products/an-6-hose-end-90 is losing traffic while" in " ".join(titles)
    assert any(t.startswith("Sales drop on the day top SKU") for t in titles), titles
    traffic = cards.filter(has_text="is losing traffic while")
    expect(traffic.locator(".badge").first).to_have_text("✖ Critical")
    expect(traffic.locator(".cause strong")).to_have_text(
        "Likely cause: Stockout of -6 AN 90° Hose End"
    )
    expect(traffic.locator(".incident-anomalies li")).to_have_count(5)  # + unsellable traffic
    evidence = traffic.locator("ol.evidence li")
    expect(evidence.first).to_be_hidden()  # folded until asked for
    traffic.locator("summary").click()
    expect(evidence.first).to_be_visible()
    expect(evidence.first).to_contain_text("ga4 → shopify by product")
    expect(traffic.locator("table.causes tbody tr").first).to_contain_text("Stockout of")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    traffic.screenshot(path=str(ARTIFACTS / "incident-card-traffic.png"))
    support = cards.filter(has_text="Customers waiting on")
    expect(support.locator(".cause strong")).to_have_text(
        "Likely cause: Orders stuck in fulfillment"
    )
    support.locator("summary").click()
    expect(support.locator("ol.evidence li").first).to_contain_text(
        re.compile(
            r"chatwoot → shopify by order\s+"
            r"Conversation \d+ \(.+, waiting \d+ min\) asks about #\d+"
        )
    )
    support.screenshot(path=str(ARTIFACTS / "incident-card.png"))  # README: docs/incident-card.png
    # An anomaly of the card opens its fact.
    traffic.locator(".incident-anomalies a").first.click()
    expect(page).to_have_url(re.compile(r"/facts/\d+$"))
    assert_no_page_errors(page)


def test_the_settings_page_previews_a_proposed_threshold(
    engine: Engine, tmp_path: Path, new_page: NewPage
) -> None:
    """On the weekly-packet fixture (tests/insights_fixture.py): a sales warning of 10 %
    instead of 15 % would have raised three more warnings in the week of 16 November."""
    build_store(engine, tmp_path / "recorded")
    with engine.begin() as connection:
        add_operator(connection, OPERATOR, PASSWORD, NOW)
    with running_dashboard(Settings(), engine, clock=lambda: NOW) as base:
        page = new_page()
        sign_in_by_typing(page, base)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
        expect(page).to_have_url(f"{base}/settings")
        expect(page.locator("#setting-kpis\\.sales\\.thresholds\\.warning td")).to_have_text(
            [
                "Warning threshold",
                "15",
                "default",
                "OCC_KPIS__SALES__THRESHOLDS__WARNING",
                "[kpis.sales.thresholds] warning",
            ]
        )
        sales = page.locator("#preview-sales_delta")
        expect(sales.get_by_label("From")).to_have_value("2026-10-05")
        expect(sales.get_by_label("To")).to_have_value("2026-11-23")
        sales.get_by_label("Warning").fill("10")
        sales.get_by_label("replay the forecast band").uncheck()
        with page.expect_response(lambda r: "/settings?" in r.url) as answered:
            sales.get_by_role("button", name="Preview").click()
        assert answered.value.status == 200
        result = page.locator("#result-sales_delta")
        expect(result.locator("caption")).to_contain_text("sales_delta: warning 10, critical 30")
        expect(result.locator("tbody tr")).to_have_count(8)
        expect(result.locator("tbody tr").nth(6).locator("td")).to_have_text(
            ["2026-11-16", "7", "3", "1", "0", "1", "—"]
        )
        expect(sales.get_by_label("Warning")).to_have_value("10")
        expect(sales.get_by_label("replay the forecast band")).not_to_be_checked()
        assert_no_page_errors(page)
        # A warning above the critical threshold: one line next to the form, no table.
        sales.get_by_label("Warning").fill("40")
        with page.expect_response(lambda r: "/settings?" in r.url) as refused:
            sales.get_by_role("button", name="Preview").click()
        assert refused.value.status == 400
        expect(sales.get_by_role("alert")).to_contain_text("critical must be at least warning")
        expect(page.locator("#result-sales_delta")).to_have_count(0)
        expect(sales.get_by_label("Warning")).to_have_value("40")
        # Chromium reports the page's own 400 in the console; nothing else may be there.
        errors: list[str] = page.errors  # type: ignore[attr-defined]
        assert len(errors) == 1 and "status of 400 (Bad Request)" in errors[0], errors
