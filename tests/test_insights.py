"""The weekly insight packet: its numbers against the database, its gaps, its files, its CLI.

The fixture store (tests/insights_fixture.py) is built by a real refresh of a recorded
folder plus the week's facts, decisions and sync events; each number checked here is either
recomputed from the database's rows in the test or known by hand from the fixture.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from insights_fixture import (
    NOW,
    SHOP,
    SYNC_DURATIONS,
    SYNC_FAILURES,
    THURSDAY,
    WEEK_ENDING,
    build_store,
    fixture_folder,
)
from occ.cli import app
from occ.config import Settings
from occ.worker import JobContext, JobSkipped
from occ.worker.packet import due_week, insights_job, make_packet


def _packet(engine: Engine, out: Path, ending: date = WEEK_ENDING) -> dict[str, Any]:
    made = make_packet(Settings(), engine, now=NOW, week_ending=ending, out=out)
    document: dict[str, Any] = json.loads((out / "packet.json").read_text(encoding="utf-8"))
    assert document == json.loads(json.dumps(made.packet))
    return document


@pytest.fixture
def week_store(engine: Engine, tmp_path: Path) -> Engine:
    build_store(engine, tmp_path / "recorded")
    return engine


def _revenue_by_day(engine: Engine) -> dict[str, Decimal]:
    """Countable revenue per UTC day, straight from the order rows."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT created_at, total, cancelled_at, test FROM shopify_order "
                "WHERE shop_domain = :shop"
            ),
            {"shop": SHOP},
        ).all()
    for created, total, cancelled, test in rows:
        moment = created if isinstance(created, datetime) else datetime.fromisoformat(created)
        if cancelled is None and not test:
            totals[moment.date().isoformat()] += Decimal(str(total))
    return totals


def _nearest_rank(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(pct / 100 * len(ordered)) - 1]


def test_trends_and_headline_match_the_database(week_store: Engine, tmp_path: Path) -> None:
    packet = _packet(week_store, tmp_path / "packet")
    assert packet["week"]["start"] == "2026-11-16" and packet["week"]["ending"] == "2026-11-22"
    assert "incomplete" not in packet["week"]

    sales = packet["trends"]["sales_delta"]
    revenue = _revenue_by_day(week_store)
    assert [d["value"] for d in sales["days"]] == [float(revenue[d["date"]]) for d in sales["days"]]
    assert [d["previous"] for d in sales["days"]] == [100.0] * 7
    assert sales["days"][3] | {"date": "2026-11-19", "value": 30.0} == sales["days"][3]
    # 16–22 Nov: six days of 100.00 and Thursday's 30.00.
    assert sales["week"]["value"] == 630.0 and sales["week"]["previous"] == 700.0
    assert sales["forecast"]["status"] == "ok"
    assert sales["forecast"]["fitEnd"] == "2026-11-15"

    units = packet["trends"]["inventory_cover"]
    assert [d["value"] for d in units["days"]] == [2.0] * 7

    # SLA at each day end: conversation 1 exists from 17 Nov and is never answered.
    sla = packet["trends"]["sla_breach_rate"]
    assert [d["value"] for d in sla["days"]] == [0.0, 50.0, 50.0, 50.0, 50.0, 50.0, 50.0]

    # Fulfillment: the order of 21 Nov 01:00 is late from 22 Nov 01:00 on, 1 of the 7 orders
    # of the population at 22 Nov's end (16–22 Nov).
    fulfillment = packet["trends"]["fulfillment_issue_rate"]
    assert [d["value"] for d in fulfillment["days"]] == [0.0] * 6 + [round(100 / 7, 4)]

    traffic = packet["trends"]["traffic_anomalies"]
    assert [d["value"] for d in traffic["days"]] == [55.0] * 7
    assert [d["previous"] for d in traffic["days"]] == [105.0] * 7
    assert packet["topPages"][0] == {
        "landingPage": "/products/a",
        "current": 350,
        "previous": 700,
        "delta": -0.5,
    }

    sentences = [item["sentence"] for item in packet["headline"]]
    assert len(sentences) == 3
    assert sentences[0].startswith(
        "Revenue fell 70 % below its 7-day baseline on Thursday (30.00 USD vs 100.00 USD)"
    )
    assert sentences[1].startswith("The SLA breach rate peaked at 50.0 % on Tuesday")
    assert sentences[2] == "Sessions landing on /products/a fell 50 % week over week (350 vs 700)."
    assert THURSDAY.isoformat() in json.dumps(packet["headline"][0]["numbers"])


def test_anomalies_sync_pipeline_and_watchpoints_match_the_database(
    week_store: Engine, tmp_path: Path
) -> None:
    packet = _packet(week_store, tmp_path / "packet")
    review = packet["anomalies"]
    assert review["total"] == 3  # A, B, C; D is after the week; the refresh's are of 24 Nov
    assert review["counts"]["sales_delta"] == {"warning": 0, "critical": 1}
    assert review["counts"]["inventory_cover"] == {"warning": 1, "critical": 0}
    assert review["counts"]["sla_breach_rate"] == {"warning": 0, "critical": 1}
    assert review["responseRate"] == {
        "rate": 0.5,
        "counted": 2,
        "answeredWithinHours": 1,
        "pending": 1,
        "windowHours": 24,
    }
    first = review["items"][0]
    assert first["detectedAt"] == "2026-11-19T18:00:00Z"
    assert first["decision"]["action"] == "review sales drop"
    assert first["responseMinutes"] == 120.0
    assert [item["actedOn"] for item in review["items"]] == [True, False, False]
    assert [item["pending"] for item in review["items"]] == [False, False, True]

    sync = packet["sync"]
    durations = SYNC_DURATIONS + SYNC_FAILURES
    assert sync["status"] == "ok"
    assert sync["records"] == 12
    assert sync["totals"]["failure"] == 2
    assert sync["totals"]["failureRate"] == round(2 / 12, 4)
    assert sync["failureRateOk"] is False
    assert sync["durationsMs"]["p50"] == _nearest_rank(durations, 50)
    assert sync["durationsMs"]["p95"] == _nearest_rank(durations, 95)
    assert sync["p95Ok"] is False
    assert [(e["code"], e["count"]) for e in sync["errors"]] == [("TIMEOUT", 2)]
    assert sum(bucket["failure"] for bucket in sync["hourlyBuckets"]) == 2
    assert sync["parity"]["ok"] is True
    assert sync["parity"]["checkedAt"] == "2026-11-21T06:00:00Z"

    sources = {row["source"]: row for row in packet["pipeline"]["sources"]}
    assert sources["shopify"]["requests"] == 3
    assert sources["shopify"]["errors"] == 2 and sources["shopify"]["throttled"] == 1
    assert sources["shopify"]["errorRate"] == round(2 / 3, 4)
    assert sources["shopify"]["recordsStored"] == 5
    assert sources["chatwoot"]["recordsRead"] == 3 and sources["chatwoot"]["recordsStored"] == 2
    assert sources["chatwoot"]["contractViolations"] == 1
    assert sources["chatwoot"]["requests"] is None  # no live Chatwoot request: "—", not 0
    assert [f["observed"] for f in sources["shopify"]["driftFindings"]] == ["ON_HOLD_NEW"]
    assert packet["pipeline"]["runs"] == {"count": 1, "bySource": {"live": 1}, "notOk": 1}

    watch = {item["kind"]: item for item in packet["watchpoints"]["items"]}
    assert "ON_HOLD_NEW" in watch["drift"]["text"]
    # SKU A: 10 in stock; 28 units sold in the 14 days up to the week's end (14 orders of 2).
    stockout = watch["stockout"]["numbers"]
    assert stockout["sku"] == "A" and stockout["inStock"] == 10
    assert stockout["velocity"] == 2.0
    assert stockout["daysOfCover"] == 5.0

    markdown = (tmp_path / "packet" / "packet.md").read_text(encoding="utf-8")
    for sentence in [item["sentence"] for item in packet["headline"]]:
        assert sentence in markdown
    assert "Anomaly response rate: 50.00 % (1 of 2 answered within 24 h" in markdown
    assert "Failure rate: 16.67 %, **above** the 5 % target." in markdown


def test_a_week_without_sync_events_anomalies_or_refreshes_says_so(
    week_store: Engine, tmp_path: Path
) -> None:
    packet = _packet(week_store, tmp_path / "packet", date(2026, 11, 15))
    assert packet["sync"]["status"] == "missing"
    assert packet["sync"]["parity"]["status"] == "missing"
    assert packet["anomalies"]["total"] == 0
    assert "note" in packet["pipeline"]
    markdown = (tmp_path / "packet" / "packet.md").read_text(encoding="utf-8")
    assert "**No data:** no sync events recorded in the week." in markdown
    assert "Parity: **no data** — no parity check recorded by the week's end." in markdown
    assert "**No data:** no warning or critical anomaly was detected in the week." in markdown
    assert "**No data:** no refresh ran in the week: no pipeline data." in markdown
    html = (tmp_path / "packet" / "index.html").read_text(encoding="utf-8")
    assert "no sync events recorded in the week" in html
    assert not (tmp_path / "packet" / "sync-hourly.png").exists()


def test_a_week_without_ga4_data_says_so_instead_of_zeros(engine: Engine, tmp_path: Path) -> None:
    build_store(engine, tmp_path / "recorded", with_ga4=False)
    packet = _packet(engine, tmp_path / "packet")
    traffic = packet["trends"]["traffic_anomalies"]
    assert traffic["status"] == "missing"
    assert traffic["reason"] == "no GA4 landing-page data recorded in the week"
    assert "days" not in traffic
    assert all(item["kpi"] != "traffic_anomalies" for item in packet["headline"])
    assert packet["topPages"] == []
    markdown = (tmp_path / "packet" / "packet.md").read_text(encoding="utf-8")
    assert "**No data:** no GA4 landing-page data recorded in the week." in markdown
    assert not (tmp_path / "packet" / "trend-traffic_anomalies.png").exists()
    assert (tmp_path / "packet" / "trend-sales_delta.png").exists()


def test_the_packet_is_reproducible_byte_for_byte(week_store: Engine, tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    make_packet(Settings(), week_store, now=NOW, week_ending=WEEK_ENDING, out=first)
    later = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    make_packet(Settings(), week_store, now=later, week_ending=WEEK_ENDING, out=second)
    for name in ("packet.md", "packet.json", "index.html"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert sorted(p.name for p in first.iterdir()) == sorted(p.name for p in second.iterdir())
    assert not [p for p in first.iterdir() if p.name.startswith(".")]  # no partial files


def test_the_html_is_one_self_contained_file(week_store: Engine, tmp_path: Path) -> None:
    packet = _packet(week_store, tmp_path / "packet")
    html = (tmp_path / "packet" / "index.html").read_text(encoding="utf-8")
    charts = [t for t in packet["trends"].values() if t["status"] == "ok"]
    assert html.count("<svg") == len(charts) + 2  # + anomalies + hourly sync failures
    for needle in ("<script", "<link", "src=", "@import"):
        assert needle not in html, needle
    assert not re.search(r"url\((?!#)", html)  # only the SVGs' own clip paths
    # The only addresses are the SVG namespaces' names, which nothing fetches.
    addresses = set(re.findall(r'([\w:]+)="(https?://[^"]*)"', html))
    assert {name for name, _ in addresses} <= {"xmlns", "xmlns:xlink"}, addresses
    markdown = (tmp_path / "packet" / "packet.md").read_text(encoding="utf-8")
    for image in ("trend-sales_delta.png", "anomalies.png", "sync-hourly.png"):
        assert f"]({image})" in markdown
        assert (tmp_path / "packet" / image).read_bytes().startswith(b"\x89PNG")


def test_cli_writes_the_packet_under_occ_packets(
    runner: CliRunner, db_url: str, tmp_path: Path
) -> None:
    from occ.store.engine import open_store

    engine = open_store(db_url)
    try:
        build_store(engine, tmp_path / "recorded")
    finally:
        engine.dispose()
    result = runner.invoke(
        app, ["insights", "weekly", "--db", db_url, "--now", "2026-11-24T12:00:00Z"]
    )
    assert result.exit_code == 0, result.output
    folder = Path(".occ/packets/2026-11-22")
    assert (folder / "index.html").exists() and (folder / "packet.md").exists()
    assert "Revenue fell 70 % below its 7-day baseline on Thursday" in result.output


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["--week-ending", "2026-13-01"], 2, "is not a date; use YYYY-MM-DD"),
        (["--week-ending", "2027-01-31"], 2, "has not begun yet"),
        (["--out", "a-file.txt"], 2, "cannot write the packet to a-file.txt"),
    ],
)
def test_cli_bad_input_is_one_line_and_writes_nothing(
    runner: CliRunner,
    db_url: str,
    tmp_path: Path,
    arguments: list[str],
    code: int,
    message: str,
) -> None:
    from occ.store.engine import open_store

    engine = open_store(db_url)
    try:
        build_store(engine, tmp_path / "recorded")
    finally:
        engine.dispose()
    Path("a-file.txt").write_text("keep me")
    result = runner.invoke(
        app, ["insights", "weekly", "--db", db_url, "--now", "2026-11-24T12:00:00Z", *arguments]
    )
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not Path(".occ/packets").exists()
    assert Path("a-file.txt").read_text() == "keep me"


def test_cli_on_an_empty_store_says_what_to_do(runner: CliRunner, db_url: str) -> None:
    result = runner.invoke(app, ["insights", "weekly", "--db", db_url])
    assert result.exit_code == 1
    assert "no refresh recorded yet; run `occ refresh` or `occ demo` first" in result.output


def test_due_week_follows_the_shops_monday_morning() -> None:
    chicago = "America/Chicago"
    # Monday 23 Nov 05:59 in Chicago is 11:59 UTC: last week's packet is not due yet.
    assert due_week(datetime(2026, 11, 23, 11, 59, tzinfo=UTC), chicago, 1, 6) == date(2026, 11, 15)
    assert due_week(datetime(2026, 11, 23, 12, 0, tzinfo=UTC), chicago, 1, 6) == date(2026, 11, 22)
    assert due_week(datetime(2026, 11, 29, 23, 0, tzinfo=UTC), "UTC", 1, 6) == date(2026, 11, 22)


def test_the_worker_job_writes_last_weeks_packet_once(week_store: Engine, tmp_path: Path) -> None:
    settings = Settings(packets_dir=tmp_path / "packets")
    monday = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # the shop is in UTC
    context = JobContext(settings, week_store, "worker-1", clock=lambda: monday)
    detail = insights_job(context)
    assert "week ending 2026-11-22" in detail
    assert (tmp_path / "packets" / "2026-11-22" / "index.html").exists()
    with pytest.raises(JobSkipped, match="is written"):
        insights_job(context)
    early = JobContext(
        settings, week_store, "worker-1", clock=lambda: datetime(2026, 11, 23, 5, tzinfo=UTC)
    )
    insights_job(early)
    assert (tmp_path / "packets" / "2026-11-15" / "index.html").exists()


def test_fixture_folder_is_what_the_docstring_says(tmp_path: Path) -> None:
    folder = fixture_folder(tmp_path / "f")
    orders = (folder / "shopify" / "orders.jsonl").read_text().splitlines()
    assert len(orders) == (date(2026, 11, 23) - date(2026, 9, 1)).days + 1 + 2


def test_the_dashboard_shows_the_latest_packet(engine: Engine, tmp_path: Path) -> None:
    from web_fixtures import dashboard

    build_store(engine, tmp_path / "recorded")
    with dashboard(engine, tmp_path / "rec", refresh=False) as dash, dash.signed_in() as client:
        empty = client.get("/insights")
        assert empty.status_code == 200 and "No packet written yet" in empty.text
        for ending in (date(2026, 11, 15), WEEK_ENDING):
            make_packet(Settings(), engine, now=NOW, week_ending=ending, out=tmp_path / str(ending))
        page = client.get("/insights")
        assert page.status_code == 200
        assert "Week 2026-11-16 to 2026-11-22" in page.text  # the latest week first
        assert "Revenue fell 70 % below its 7-day baseline on Thursday" in page.text
        assert 'href="/insights/2026-11-15"' in page.text
        packet = client.get("/insights/2026-11-22")
        assert packet.status_code == 200
        assert packet.text == (tmp_path / "2026-11-22" / "index.html").read_text("utf-8")
        assert packet.headers["content-security-policy"].startswith("default-src 'none'")
        assert client.get("/insights/2026-11-29").status_code == 404
        assert client.get("/insights/not-a-date").status_code == 404
        with dash.client() as anonymous:
            assert anonymous.get("/insights/2026-11-22").status_code in (303, 401)


def test_the_notebook_recomputes_the_packet_from_the_database(
    runner: CliRunner, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat

    from occ.store.engine import open_store

    engine = open_store(db_url)
    try:
        build_store(engine, tmp_path / "recorded")
    finally:
        engine.dispose()
    arguments = ["--db", db_url, "--now", "2026-11-24T12:00:00Z", "--notebook", "--out", "nb"]
    result = runner.invoke(app, ["insights", "weekly", *arguments])
    assert result.exit_code == 0, result.output
    path = Path("nb/packet.ipynb")
    notebook = nbformat.read(str(path), as_version=4)
    nbformat.validate(notebook)
    assert db_url not in path.read_text()  # the store's URL is read at run time, never written
    # Run it as Jupyter would, cell after cell in one namespace, against the same store.
    monkeypatch.setenv("OCC_DATABASE_URL", db_url)
    namespace: dict[str, Any] = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, str(path), "exec"), namespace)
    written = json.loads(Path("nb/packet.json").read_text(encoding="utf-8"))
    assert json.loads(json.dumps(namespace["packet"])) == written
    assert list(namespace["trends"]["sales_delta"]["value"]) == [
        d["value"] for d in written["trends"]["sales_delta"]["days"]
    ]
    assert len(namespace["anomalies"]) == written["anomalies"]["total"]
