"""The dashboard at the edges of its input: ids and dates at the ends of their range, wrong
methods, the API's own description page — each a clear status and one line, never a 500.

A real uvicorn server on 127.0.0.1 over the scenario store, in SQLite and in PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from occ.cli import app
from occ.decisions import add_decision
from occ.store.tables import DecisionLog
from web_fixtures import Dashboard, csrf_of, dashboard

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

_BEYOND_BIGINT = "99999999999999999999"


@pytest.fixture
def dash(engine: Engine, tmp_path: Path) -> Any:
    with dashboard(engine, tmp_path / "rec") as running:
        yield running


def _one_line(response: Any) -> str:
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    return detail


def test_ids_beyond_the_store_s_integers_are_unknown_not_a_crash(dash: Dashboard) -> None:
    action = f"{_BEYOND_BIGINT}:reorder:SKU-A"
    with dash.api() as api:
        fact = api.get(f"/api/v1/facts/{_BEYOND_BIGINT}")
        decision = api.post(f"/api/v1/actions/{action}/decision", json={"verdict": "approve"})
        before = api.get("/api/v1/facts", params={"before": _BEYOND_BIGINT})
        offset = api.get("/api/v1/decisions", params={"offset": _BEYOND_BIGINT})
        largest = api.get(f"/api/v1/facts/{2**63 - 1}")
        past_int4 = api.get("/api/v1/facts", params={"before": 2**31})
        last_page = api.get("/api/v1/decisions", params={"offset": 2**63 - 1})
    with dash.signed_in() as client:
        token = csrf_of(client.get("/").text)
        page = client.get(f"/facts/{_BEYOND_BIGINT}")
        form = client.post(
            f"/actions/{action}/decide", data={"verdict": "approve", "csrf_token": token}
        )
    assert fact.status_code == 404 and _one_line(fact) == f"no fact {_BEYOND_BIGINT}"
    assert decision.status_code == 404 and "approvals queue" in _one_line(decision)
    assert page.status_code == 404 and f"no fact {_BEYOND_BIGINT}" in page.text
    assert form.status_code == 404 and "approvals queue" in form.text
    assert largest.status_code == 404 and last_page.json() == {"decisions": []}
    assert before.status_code == 400 and _one_line(before).startswith("before: ")
    assert past_int4.status_code == 400
    assert offset.status_code == 400 and _one_line(offset).startswith("offset: ")
    with dash.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(DecisionLog)).scalar() == 0


def test_dates_at_the_ends_of_the_calendar_filter_instead_of_crashing(dash: Dashboard) -> None:
    everything = {"from": "0001-01-01", "to": "9999-12-31"}
    recorded = add_decision(
        dash.engine,
        scope="ops",
        actor="auditor@example.com",
        action="approve",
        now=datetime.now(UTC),
    )
    with dash.api() as api:
        decisions = api.get("/api/v1/decisions", params=everything)
        page = api.get("/decisions", params=everything)
        download = api.get("/decisions.csv", params={"to": "9999-12-31"})
        conversations = api.get("/exports/conversations.json", params=everything)
        all_of_them = api.get("/exports/conversations.json")
        sla = api.get("/exports/sla.csv", params={"from": "0001-01-01"})
    assert decisions.status_code == 200  # the whole calendar holds the decision
    assert [d["id"] for d in decisions.json()["decisions"]] == [recorded.id]
    assert page.status_code == 200 and "auditor@example.com" in page.text
    assert download.status_code == 200 and recorded.id in download.text
    assert conversations.status_code == 200 and sla.status_code == 200
    assert conversations.json() == all_of_them.json() and conversations.json()


@pytest.mark.parametrize(
    ("start", "end"), [("0001-01-01", "0001-01-10"), ("9999-12-20", "9999-12-31")]
)
def test_a_backtest_at_the_ends_of_the_calendar_is_a_400(
    dash: Dashboard, start: str, end: str
) -> None:
    query = {"kpi": "sales_delta", "from": start, "to": end}
    with dash.api() as api:
        replay = api.get("/api/v1/alerts/backtest", params={**query, "band": "false"})
        page = api.get("/settings", params=query)
    assert replay.status_code == 400
    assert _one_line(replay) == (
        "from/to must lie between 1970-01-01 and 9998-12-31; give days of the store's history"
    )
    assert page.status_code == 400 and "must lie between 1970-01-01 and 9998-12-31" in page.text


def test_a_wrong_method_says_which_one_the_route_takes(dash: Dashboard) -> None:
    with dash.api() as api:
        delete = api.delete("/api/v1/tiles")
        get_verdict = api.get("/api/v1/actions/1:reorder:SKU-A/decision")
        page = api.get("/refresh")
        asset = api.post("/static/occ.css")
    assert delete.status_code == 405 and delete.headers["allow"] == "GET"
    assert _one_line(delete) == "DELETE is not allowed on /api/v1/tiles; use GET"
    assert get_verdict.status_code == 405 and get_verdict.headers["allow"] == "POST"
    assert page.status_code == 405 and "GET is not allowed on /refresh; use POST" in page.text
    assert asset.status_code == 405 and asset.headers["allow"] == "GET, HEAD"


def test_the_api_docs_page_is_occ_s_own_and_lists_every_operation(dash: Dashboard) -> None:
    with dash.client() as anonymous:
        refused = anonymous.get("/api/docs")
    with dash.signed_in() as client:
        page = client.get("/api/docs")
    html = page.text
    assert refused.status_code == 401
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    # Nothing from another origin, no inline script: what the CSP lets a browser run.
    assert "https://" not in html and "http://" not in html
    assert "<script>" not in html and html.count("<script") == 1
    assert "<code>POST</code></td><td><code>/api/v1/actions/{action_id}/decision</code>" in html
    assert "<code>verdict</code> <small>(approve | reject | snooze, required)</small>" in html
    assert "<code>limit</code> <small>(query, integer)</small>" in html
    assert 'href="/api/v1/openapi.json"' in html


def test_a_body_that_is_not_json_is_named_as_such(dash: Dashboard) -> None:
    with dash.api() as api:
        broken = api.post(
            "/api/v1/decisions", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert broken.status_code == 400
    assert _one_line(broken).startswith("body: JSON decode error")


def test_the_api_and_cli_descriptions_count_the_six_tiles(
    dash: Dashboard, runner: CliRunner
) -> None:
    with dash.api() as api:
        document = api.get("/api/v1/openapi.json").json()
        tiles = api.get("/api/v1/tiles").json()["tiles"]
    description = document["paths"]["/api/v1/tiles"]["get"]["description"]
    assert len(tiles) == 6 and description.startswith("The six tiles")
    assert "(the six tiles and their anomalies)" in runner.invoke(app, ["kpis", "--help"]).output
