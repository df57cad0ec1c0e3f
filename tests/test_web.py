"""The dashboard over real HTTP: pages, approvals, history, metrics, API, bad input.

A real uvicorn server on 127.0.0.1 serves ``create_app`` over the hand-computed scenario
store (tests/scenario.py) in SQLite and in PostgreSQL; requests go through httpx.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from builders import ago, conversation, ga4_report, message
from occ.config import Settings
from occ.store.tables import ActionDecision, DashboardFact, DecisionLog, OutboxEntry, RefreshRun
from web_fixtures import OPERATOR, Dashboard, csrf_of, dashboard

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def dash(engine: Engine, tmp_path: Path) -> Any:
    with dashboard(engine, tmp_path / "rec") as running:
        yield running


def _count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
        )


def _queue(dash: Dashboard) -> list[dict[str, Any]]:
    with dash.api() as api:
        response = api.get("/api/v1/actions")
    assert response.status_code == 200
    return list(response.json()["actions"])


# Overview and tiles -----------------------------------------------------------------------


def test_overview_shows_the_five_tiles_with_the_hand_computed_values(dash: Dashboard) -> None:
    with dash.signed_in() as client:
        page = client.get("/")
    assert page.status_code == 200
    html = page.text
    for title in ("Sales Pulse", "CX Escalations", "SEO &amp; Content Watch", "Inventory Heatmap"):
        assert title in html
    assert 'id="tile-fulfillment_issue_rate"' in html
    assert "+75.0 %" in html  # (150 - 600/7) / (600/7)
    assert "50.0 %" in html and "Customer 1" in html and "Customer 2" in html  # c1, c2 of 4
    assert "/a" in html and "-50.0 %" in html  # 70 → 35 sessions
    assert "SKU-A" in html and ">17<" in html  # reorder ceil(9/14·30) − 3
    assert "42.9 %" in html  # 3 of 7 orders
    # Severity is text and icon, not colour alone.
    assert "✖</span> Critical" in html and "▲</span> Warning" in html
    assert "from <strong>shopify</strong> (recorded)" in html
    assert "Stale" not in html


def test_tile_api_and_detail_page_show_inputs_config_and_evidence(dash: Dashboard) -> None:
    with dash.api() as api:
        tiles = api.get("/api/v1/tiles").json()
        detail = api.get("/api/v1/tiles/inventory_cover").json()
    assert [t["kpi"] for t in tiles["tiles"]] == [
        "sales_delta",
        "sla_breach_rate",
        "traffic_anomalies",
        "inventory_cover",
        "fulfillment_issue_rate",
        "unsellable_traffic",
    ]
    assert tiles["freshness"]["source"] == "recorded" and tiles["freshness"]["stale"] is False
    sku_a = next(row for row in detail["rows"] if row["sku"] == "SKU-A")
    assert sku_a["reorderQuantity"] == 17 and sku_a["severity"] == "warning"
    assert detail["config"]["cover_target_days"] == 30
    assert detail["inputs"]["variantsRead"] == 4
    with dash.signed_in() as client:
        page = client.get("/tiles/inventory_cover")
        fact_page = client.get(f"/facts/{detail['factId']}")
    assert page.status_code == 200
    assert f'href="/facts/{detail["factId"]}"' in page.text
    assert "cover_target_days" in page.text  # the configuration, to recompute by eye
    assert fact_page.status_code == 200 and "shopify.inventory.coverage" in fact_page.text


def test_a_source_without_data_shows_an_unconfigured_tile(engine: Engine, tmp_path: Path) -> None:
    with dashboard(engine, tmp_path / "rec", ga4=None) as dash, dash.signed_in() as client:
        html = client.get("/").text
        tiles = client.get("/api/v1/tiles").json()["tiles"]
    seo = next(t for t in tiles if t["kpi"] == "traffic_anomalies")
    assert seo["status"] == "unconfigured"
    assert "ga4 is not configured" in html and "Unconfigured" in html


def test_data_older_than_the_refresh_interval_is_marked_stale(
    engine: Engine, tmp_path: Path
) -> None:
    later = lambda: datetime.now(UTC) + timedelta(minutes=61)  # noqa: E731
    with dashboard(engine, tmp_path / "rec", clock=later) as dash, dash.signed_in() as client:
        html = client.get("/").text
        fresh = client.get("/api/v1/tiles").json()["freshness"]
    assert fresh["stale"] is True and "Stale" in html


# Approvals --------------------------------------------------------------------------------


def test_approving_records_one_decision_and_a_second_verdict_is_409(dash: Dashboard) -> None:
    queue = _queue(dash)
    reorder = next(a for a in queue if a["kind"] == "reorder")
    assert reorder["title"] == "Reorder 17 units of SKU-A"
    with dash.signed_in() as client:
        page = client.get("/approvals")
        assert reorder["id"] in page.text
        token = csrf_of(page.text)
        path = f"/actions/{reorder['id']}/decide"
        form = {"verdict": "approve", "rationale": "supplier confirmed", "csrf_token": token}
        first = client.post(path, data=form)
        assert first.status_code == 303 and first.headers["location"] == "/approvals"
        after = client.get("/approvals")
        second = client.post(path, data={**form, "verdict": "reject"})
    assert "Approved: Reorder 17 units of SKU-A" in after.text
    assert reorder["id"] not in after.text
    assert second.status_code == 409 and "already decided" in second.text
    with Session(dash.engine) as session:
        rows = session.scalars(select(DecisionLog)).all()
        outbox = session.scalars(select(OutboxEntry).where(OutboxEntry.kind == "decision")).all()
    assert len(rows) == 1
    decision = rows[0]
    assert decision.actor == OPERATOR and decision.scope == "inventory"
    assert decision.rationale == "supplier confirmed"
    assert decision.evidence_url == f"/facts/{reorder['factId']}"
    assert decision.external_ref == reorder["id"]
    assert decision.payload["verdict"] == "approve" and decision.payload["quantity"] == 17
    assert [entry.ref_id for entry in outbox] == [decision.id]
    assert reorder["id"] not in [a["id"] for a in _queue(dash)]


def test_api_verdicts_and_the_quiet_window_across_refreshes(
    dash: Dashboard, tmp_path: Path
) -> None:
    queue = _queue(dash)
    reply = next(a for a in queue if a["kind"] == "reply")
    with dash.api() as api:
        made = api.post(f"/api/v1/actions/{reply['id']}/decision", json={"verdict": "snooze"})
        again = api.post(f"/api/v1/actions/{reply['id']}/decision", json={"verdict": "approve"})
    assert made.status_code == 201 and made.json()["actor"] == OPERATOR
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert _count(dash.engine, DecisionLog) == 1
    assert _count(dash.engine, ActionDecision) == 1
    # A new refresh raises the same anomaly again: the decided subject stays out of the queue.
    from web_fixtures import refresh_scenario

    refresh_scenario(dash.engine, tmp_path / "rec2")
    subjects = [a["subject"] for a in _queue(dash)]
    assert reply["subject"] not in subjects
    assert any(a["kind"] == "reorder" for a in _queue(dash))


def test_state_changes_without_the_csrf_token_are_refused(dash: Dashboard) -> None:
    action = _queue(dash)[0]
    path = f"/actions/{action['id']}/decide"
    with dash.signed_in() as client:
        missing = client.post(path, data={"verdict": "approve", "csrf_token": ""})
        wrong = client.post(path, data={"verdict": "approve", "csrf_token": "forged"})
        api = client.post(f"/api/v1/actions/{action['id']}/decision", json={"verdict": "approve"})
        refresh = client.post("/refresh", data={"csrf_token": "forged"})
        signout = client.post("/signout", data={"csrf_token": "forged"})
        still_in = client.get("/")
    assert missing.status_code == 403 and "CSRF" in missing.text
    assert wrong.status_code == 403 and api.status_code == 403 and refresh.status_code == 403
    assert signout.status_code == 403 and still_in.status_code == 200
    assert _count(dash.engine, DecisionLog) == 0
    # A bearer token is no ambient credential: the API takes it without a CSRF token.
    with dash.api() as bearer:
        made = bearer.post(f"/api/v1/actions/{action['id']}/decision", json={"verdict": "reject"})
    assert made.status_code == 201


def test_html_in_customer_names_and_paths_renders_as_text(engine: Engine, tmp_path: Path) -> None:
    start = ago(datetime(2026, 11, 26, 15, 0, tzinfo=UTC), days=1)
    evil = conversation(1, "open", start)
    evil["meta"]["sender"]["name"] = "<script>alert('x')</script>Eve"
    messages = [message(10, 1, 0, ago(datetime(2026, 11, 26, 15, 0, tzinfo=UTC), minutes=90))]
    rows = []
    for offset in range(1, 15):
        day = (datetime(2026, 11, 26).date() - timedelta(days=offset)).strftime("%Y%m%d")
        rows.append(('/p/<img src=x onerror="alert(1)">', day, 5 if offset <= 7 else 10))
    with (
        dashboard(
            engine,
            tmp_path / "rec",
            conversations=[evil],
            messages=messages,
            ga4=ga4_report(rows),
        ) as dash,
        dash.signed_in() as client,
    ):
        pages = [client.get(p).text for p in ("/", "/approvals", "/tiles/sla_breach_rate")]
        pages.append(client.get("/tiles/traffic_anomalies").text)
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;Eve" in pages[0]
    assert "/p/&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in pages[3]


# History and export -----------------------------------------------------------------------


def test_history_filters_and_csv_export(dash: Dashboard) -> None:
    queue = _queue(dash)
    with dash.api() as api:
        for action, verdict in zip(queue[:3], ("approve", "reject", "snooze"), strict=True):
            rationale = "=HYPERLINK(1)" if verdict == "reject" else f"{verdict} it"
            made = api.post(
                f"/api/v1/actions/{action['id']}/decision",
                json={"verdict": verdict, "rationale": rationale},
            )
            assert made.status_code == 201
        note = api.post(
            "/api/v1/decisions", json={"scope": "ops", "action": "note: checked the carrier"}
        )
        assert note.status_code == 201
        ops = api.get("/api/v1/decisions", params={"scope": "ops"}).json()["decisions"]
        nobody = api.get("/api/v1/decisions", params={"actor": "x@example.com"}).json()
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
        future = api.get("/api/v1/decisions", params={"from": tomorrow}).json()
    assert [d["action"] for d in ops] == ["note: checked the carrier"]
    assert nobody["decisions"] == [] and future["decisions"] == []
    with dash.signed_in() as client:
        page = client.get("/decisions", params={"actor": OPERATOR})
        exported = client.get("/decisions.csv", params={"actor": OPERATOR})
    assert page.status_code == 200 and page.text.count("<tr><td>") == 4
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 4 and {row["actor"] for row in rows} == {OPERATOR}
    # A formula never reaches a spreadsheet as one.
    assert "'=HYPERLINK(1)" in [row["rationale"] for row in rows]


# Sign-in, sessions, tokens ----------------------------------------------------------------


def test_pages_and_api_require_sign_in_but_health_does_not(dash: Dashboard) -> None:
    with dash.client() as anonymous:
        page = anonymous.get("/approvals")
        api = anonymous.get("/api/v1/tiles")
        forged = anonymous.get("/api/v1/tiles", headers={"Authorization": "Bearer occ_nope"})
        post = anonymous.post("/api/v1/decisions", json={"scope": "ops", "action": "x"})
        health = anonymous.get("/healthz")
        ready = anonymous.get("/readyz")
    assert page.status_code == 303 and page.headers["location"] == "/signin?next=/approvals"
    assert api.status_code == 401 and api.json()["title"] == "Sign-in required"
    assert forged.status_code == 401 and post.status_code == 401
    assert health.json()["status"] == "ok" and ready.json() == {"status": "ready"}
    assert _count(dash.engine, DecisionLog) == 0


def test_password_sign_in_makes_a_signed_http_only_same_site_session(dash: Dashboard) -> None:
    with dash.client() as client:
        form = client.get("/signin")
        response = client.post(
            "/signin",
            data={
                "email": OPERATOR,
                "password": "correct horse battery",
                "csrf_token": csrf_of(form.text),
                "next": "//evil.example/",
            },
        )
        request_id = response.headers["x-request-id"]
        cookie = response.headers["set-cookie"]
        assert response.status_code == 303 and response.headers["location"] == "/"
        assert client.get("/").status_code == 200
        session = client.cookies["occ_session"]
        client.cookies.set("occ_session", session[:-4] + "AAAA")
        tampered = client.get("/")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert tampered.status_code == 303
    with Session(dash.engine) as session:
        facts = session.scalars(
            select(DashboardFact).where(DashboardFact.fact_type == "dashboard.session.opened")
        ).all()
        mirrored = session.scalars(
            select(OutboxEntry.ref_id).where(OutboxEntry.kind == "fact")
        ).all()
    assert len(facts) == 1
    assert facts[0].value["operator"] == OPERATOR and facts[0].value["requestId"] == request_id
    assert str(facts[0].id) in mirrored  # usage facts are mirrored like every fact


def test_failed_sign_ins_are_rate_limited(dash: Dashboard) -> None:
    from web_fixtures import sign_in

    with dash.client() as client:
        codes = [sign_in(client, password=f"wrong password {i}").status_code for i in range(5)]
        locked = sign_in(client)  # the right password, after five failures
        other = sign_in(client, email="someone@example.com", password="whatever")
    assert codes == [401] * 5
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
    assert other.status_code == 429  # the same client is locked out, whatever the e-mail
    with dash.client() as client:
        assert client.get("/").status_code == 303


def test_a_sign_in_link_works_once(dash: Dashboard) -> None:
    from occ.store.operators import issue_signin_link

    with dash.engine.begin() as connection:
        token = issue_signin_link(connection, OPERATOR, datetime.now(UTC), timedelta(minutes=5))
    with dash.client() as client:
        first = client.get("/signin/link", params={"token": token})
        assert first.status_code == 303 and client.get("/").status_code == 200
    with dash.client() as client:
        again = client.get("/signin/link", params={"token": token})
        assert again.status_code == 401 and "expired or used" in again.text


def test_sign_out_ends_the_session(dash: Dashboard) -> None:
    with dash.signed_in() as client:
        token = csrf_of(client.get("/").text)
        assert client.post("/signout", data={"csrf_token": token}).status_code == 303
        assert client.get("/").status_code == 303


# Bad input --------------------------------------------------------------------------------


def test_bad_input_gets_a_clear_status_and_message(dash: Dashboard) -> None:
    action = _queue(dash)[0]
    with dash.signed_in() as client:
        token = csrf_of(client.get("/").text)
        unknown_page = client.get("/no/such/page")
        unknown_api = client.get("/api/v1/nothing")
        no_verdict = client.post(f"/actions/{action['id']}/decide", data={"csrf_token": token})
        bad_verdict = client.post(
            f"/actions/{action['id']}/decide", data={"verdict": "maybe", "csrf_token": token}
        )
        no_action = client.post(
            "/actions/999999:reorder:x/decide", data={"verdict": "approve", "csrf_token": token}
        )
        bad_date = client.get("/decisions", params={"from": "yesterday"})
        bad_tile = client.get("/tiles/revenue")
    with dash.api() as api:
        bad_json = api.post(
            "/api/v1/decisions", content=b"{not json", headers={"content-type": "application/json"}
        )
        extra = api.post("/api/v1/decisions", json={"scope": "ops", "action": "x", "who": 1})
    assert unknown_page.status_code == 404 and "no page at /no/such/page" in unknown_page.text
    assert unknown_api.status_code == 404 and unknown_api.json()["status"] == 404
    assert no_verdict.status_code == 400 and "verdict" in no_verdict.text
    assert bad_verdict.status_code == 400
    assert no_action.status_code == 404 and "approvals queue" in no_action.text
    assert bad_date.status_code == 400 and "YYYY-MM-DD" in bad_date.text
    assert bad_tile.status_code == 404
    assert bad_json.status_code == 400 and extra.status_code == 400
    assert _count(dash.engine, DecisionLog) == 0


# Operator metrics, refresh, API description -----------------------------------------------


def test_operator_metrics_follow_the_decisions(dash: Dashboard) -> None:
    reply = next(a for a in _queue(dash) if a["kind"] == "reply")
    with dash.signed_in() as client, dash.api() as api:
        before = api.get("/api/v1/metrics/operators").json()
        api.post(f"/api/v1/actions/{reply['id']}/decision", json={"verdict": "approve"})
        after = api.get("/api/v1/metrics/operators").json()
        page = client.get("/metrics")
    assert before["activation"]["pending"] == 1  # one shop, signed in, no decision yet
    assert after["activation"]["activated"] == 1 and after["activation"]["rate"] == 1.0
    assert after["anomalyResponse"]["answered"] == 1
    assert after["slaResolution"]["conversations"] == 1
    assert after["usage"]["sessions"] == 1
    assert page.status_code == 200 and "Anomaly response rate" in page.text


def test_refresh_now_runs_in_the_background(dash: Dashboard) -> None:
    with dash.engine.connect() as connection:
        runs_before = connection.execute(select(func.count()).select_from(RefreshRun)).scalar()
    with dash.api() as api:
        started = api.post("/api/v1/refresh")
        assert started.status_code == 202 and started.json()["started"] is True
        assert api.get("/healthz").status_code == 200  # served while the refresh runs
        deadline = time.monotonic() + 60
        state = api.get("/api/v1/refresh").json()
        while state["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.1)
            state = api.get("/api/v1/refresh").json()
        tiles = api.get("/api/v1/tiles").json()
    assert state["status"] == "finished", state
    assert tiles["runId"] == state["runId"] and state["requestedBy"] == OPERATOR
    with Session(dash.engine) as session:
        runs_after = session.scalar(select(func.count()).select_from(RefreshRun))
        triggered = session.scalars(
            select(DashboardFact).where(DashboardFact.fact_type == "dashboard.refresh.triggered")
        ).all()
    assert runs_after == (runs_before or 0) + 1
    assert [fact.value["operator"] for fact in triggered] == [OPERATOR]


def test_the_api_is_described_by_openapi(dash: Dashboard) -> None:
    with dash.client() as client:
        document = client.get("/api/v1/openapi.json").json()
    paths = set(document["paths"])
    for path in (
        "/api/v1/tiles",
        "/api/v1/tiles/{kpi}",
        "/api/v1/facts",
        "/api/v1/facts/{fact_id}",
        "/api/v1/anomalies",
        "/api/v1/incidents",
        "/api/v1/actions",
        "/api/v1/actions/{action_id}/decision",
        "/api/v1/decisions",
        "/api/v1/metrics/operators",
        "/api/v1/refresh",
        "/api/v1/settings",
        "/api/v1/alerts/backtest",
        "/healthz",
        "/readyz",
    ):
        assert path in paths
    assert "post" in document["paths"]["/api/v1/decisions"]
    assert not any(p.startswith("/approvals") for p in paths)  # pages are not API


def test_no_asset_comes_from_another_origin(dash: Dashboard) -> None:
    with dash.signed_in() as client:
        html = client.get("/").text
        css = client.get("/static/occ.css")
        js = client.get("/static/occ.js")
        csp = client.get("/").headers["content-security-policy"]
    assert "http://" not in html.replace(dash.url, "") and "https://" not in html
    assert "@import" not in css.text and "url(http" not in css.text
    assert js.status_code == 200 and "default-src 'self'" in csp


def test_settings_default_to_loopback() -> None:
    assert Settings().web_host == "127.0.0.1"


def test_a_tile_s_rows_come_in_pages(dash: Dashboard) -> None:
    with dash.api() as api:
        first = api.get("/api/v1/tiles/inventory_cover", params={"limit": 1}).json()
        second = api.get(
            "/api/v1/tiles/inventory_cover", params={"limit": 1, "offset": first["nextOffset"]}
        ).json()
        too_big = api.get("/api/v1/tiles/inventory_cover", params={"limit": 100_000})
    assert first["rowCount"] == 2 and [r["sku"] for r in first["rows"]] == ["SKU-A"]
    assert first["nextOffset"] == 1
    assert [r["sku"] for r in second["rows"]] == ["SKU-B"] and second["nextOffset"] is None
    assert too_big.status_code == 400
    with dash.signed_in() as client:
        page_one = client.get("/tiles/inventory_cover")
        beyond = client.get("/tiles/inventory_cover", params={"page": 2})
    assert page_one.status_code == 200 and "SKU-B" in page_one.text
    assert beyond.status_code == 404 and "has no page 2; it has 2 rows" in beyond.text
