"""Did it work? Outcome checks of approved actions, from the rule to the packet.

The rule is checked on KPI fact values written by hand; the whole path — refreshes of
recorded folders at successive instants, decisions, the checks run by ``occ refresh`` and by
the dashboard's Refresh now, ``occ decisions outcomes``, the decision history and the weekly
packet — on the three-refresh scenario of tests/outcome_scenario.py.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from occ.anomalies.outcome import KpiReading, evaluate_outcome, horizon_days, outcome_shares
from occ.cli import app
from occ.config import Settings
from occ.contracts.kpis import KpiConfig
from occ.contracts.outcomes import OUTCOME_FACT_TYPE, OutcomeConfig, OutcomeRecord
from occ.decisions.outcomes import check_outcomes
from occ.refresh import run_refresh
from occ.sources.recorded import recorded_payloads
from occ.store.facts import write_fact
from occ.store.outcomes import checked_decision_ids, recorded_outcomes
from occ.store.tables import DashboardFact, OutboxEntry
from occ.worker.packet import make_packet
from outcome_scenario import (
    DECIDED,
    FAILED_EXPEDITE,
    STALE_REORDER,
    T0,
    T1,
    T2,
    WORKED_PAGE,
    WORKED_REPLY,
    decide_scenario,
    folder_at_t0,
    folder_at_t1,
    folder_at_t2,
)

GRACE = timedelta(hours=24)
AS_OF = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
SLA_CONFIG = {"thresholds": {"warning": 20.0, "critical": 40.0, "direction": "above"}}
INVENTORY_CONFIG = {"thresholds": {"warning": 7.0, "critical": 3.0, "direction": "below"}}
TRAFFIC_CONFIG = {"thresholds": {"warning": -0.2, "critical": -0.4, "direction": "below"}}


def _sla(value: float, severity: str, **extra: Any) -> dict[str, Any]:
    result = {"value": value, "severity": severity, "population": 8, "breached": []}
    return {"status": "ok", "result": result, **extra}


def _reading(value: dict[str, Any], config: dict[str, Any], **extra: Any) -> KpiReading:
    return KpiReading(fact_id=42, as_of=AS_OF, value=value, config=config, **extra)


def _judge(anomaly: dict[str, Any], reading: KpiReading | None, now: datetime = AS_OF) -> Any:
    due = AS_OF - timedelta(hours=1)
    return evaluate_outcome(anomaly, reading, due=due, now=now, grace=GRACE)


SLA_ANOMALY = {"kpi": "sla_breach_rate", "key": None, "kind": "threshold", "severity": "critical"}


# The rule -------------------------------------------------------------------------------------


def test_horizons_default_to_the_issue_and_follow_the_settings() -> None:
    defaults, kpis = OutcomeConfig(), KpiConfig()
    assert [
        horizon_days(kpi, defaults, kpis)
        for kpi in (
            "sla_breach_rate",
            "fulfillment_issue_rate",
            "traffic_anomalies",
            "sales_delta",
            "inventory_cover",
        )
    ] == [3, 3, 7, 7, 7]
    assert horizon_days("sync_failure_rate", defaults, kpis) is None
    settings = Settings(
        outcomes={"cx_days": 5, "grace_hours": 6}, kpis={"inventory": {"lead_time_days": 21}}
    )
    assert horizon_days("sla_breach_rate", settings.outcomes, settings.kpis) == 5
    assert horizon_days("inventory_cover", settings.outcomes, settings.kpis) == 21
    assert settings.outcomes.grace_hours == 6


def test_a_threshold_kpi_back_inside_worked_and_one_still_outside_did_not() -> None:
    worked = _judge(SLA_ANOMALY, _reading(_sla(12.5, "none"), SLA_CONFIG))
    assert worked.outcome == "worked"
    assert worked.reason == (
        "SLA breach rate 12.5 % on 2026-11-30, back under the 20 % warning threshold."
    )
    assert worked.after == {
        "factId": 42,
        "asOf": AS_OF.isoformat(),
        "value": 12.5,
        "severity": "none",
    }
    failed = _judge(SLA_ANOMALY, _reading(_sla(45.0, "critical"), SLA_CONFIG))
    assert failed.outcome == "did_not_work"
    assert failed.reason == (
        "SLA breach rate 45.0 % on 2026-11-30, still above the 40 % critical threshold."
    )
    sales = {"kpi": "sales_delta", "key": None, "kind": "threshold", "severity": "critical"}
    config = {"thresholds": {"warning": 15.0, "critical": 30.0, "direction": "abs"}}
    value = {"status": "ok", "result": {"delta_pct": -18.25, "severity": "warning"}}
    assert _judge(sales, _reading(value, config)).reason == (
        "Sales delta -18.2 % on 2026-11-30, still beyond ±15 % of its baseline (warning)."
    )
    undefined = {"status": "ok", "result": {"delta_pct": None, "severity": "none"}}
    assert _judge(sales, _reading(undefined, config)).outcome == "not_enough_data"


def test_unsellable_traffic_worked_once_its_page_can_sell_again() -> None:
    anomaly = {
        "kpi": "unsellable_traffic",
        "key": "/products/brake-kit",
        "kind": "threshold",
        "severity": "critical",
    }
    config = {"thresholds": {"warning": 1.0, "critical": 5.0, "direction": "above"}}
    assert horizon_days("unsellable_traffic", OutcomeConfig(), KpiConfig()) == 7  # lead time
    restocked = {"status": "ok", "result": {"pages": [], "severity": "none"}}
    worked = _judge(anomaly, _reading(restocked, config))
    assert worked.outcome == "worked"
    assert worked.reason == (
        "Traffic on /products/brake-kit lands on a product that can be sold on 2026-11-30, back "
        "under the 1 % warning threshold."
    )
    page = {
        "landing_page": "/products/brake-kit",
        "state": "out_of_stock",
        "share_of_revenue_pct": 6.25,
        "severity": "critical",
    }
    still = {"status": "ok", "result": {"pages": [page], "severity": "critical"}}
    failed = _judge(anomaly, _reading(still, config))
    assert failed.outcome == "did_not_work"
    assert failed.reason == (
        "Traffic on /products/brake-kit puts 6.2 % of the window's revenue at risk (out of "
        "stock) on 2026-11-30, still above the 5 % critical threshold."
    )


def test_not_due_is_not_checked_and_due_without_data_waits_for_the_grace_period() -> None:
    due = AS_OF
    before = evaluate_outcome(
        SLA_ANOMALY, None, due=due, now=due - timedelta(minutes=1), grace=GRACE
    )
    waiting = evaluate_outcome(
        SLA_ANOMALY, None, due=due, now=due + timedelta(hours=23), grace=GRACE
    )
    assert before is None and waiting is None
    late = evaluate_outcome(SLA_ANOMALY, None, due=due, now=due + GRACE, grace=GRACE)
    assert late is not None and late.outcome == "not_enough_data"
    assert late.reason == (
        "No refresh recorded the SLA breach rate between the check's due time 2026-11-30 "
        "15:00 UTC and 2026-12-01 15:00 UTC (24 h of grace)."
    )
    assert late.after is None


def test_stale_or_unconfigured_data_is_not_enough_data() -> None:
    gate = {"stale": True, "reason": "the newest Chatwoot record is 4.0 days old"}
    stale = _judge(SLA_ANOMALY, _reading(_sla(0.0, "none", gate=gate), SLA_CONFIG))
    assert stale.outcome == "not_enough_data"
    assert stale.reason == (
        "The SLA breach rate of 2026-11-30 was stale data: the newest Chatwoot record is 4.0 "
        "days old."
    )
    unconfigured = {"status": "unconfigured", "missingStreams": ["chatwoot.messages"]}
    missing = _judge(SLA_ANOMALY, _reading(unconfigured, SLA_CONFIG))
    assert missing.outcome == "not_enough_data"
    assert "was not configured in the refresh of 2026-11-30 (missing chatwoot.messages)" in (
        missing.reason
    )


def _variant(days: float | None, severity: str, stock: int = 20) -> dict[str, Any]:
    return {
        "variant_id": "gid://shopify/ProductVariant/1",
        "sku": "SKU-A",
        "title": "Default",
        "inventory_quantity": stock,
        "velocity": 0.5,
        "days_of_cover": days,
        "slow_mover": False,
        "severity": severity,
    }


@pytest.mark.parametrize(
    ("variants", "outcome", "reason"),
    [
        (
            [_variant(40.0, "none")],
            "worked",
            "SKU-A (Default) 40.0 days of cover (20 in stock) on 2026-11-30, back above the "
            "7-day warning threshold.",
        ),
        (
            [_variant(2.0, "critical", 1)],
            "did_not_work",
            "SKU-A (Default) 2.0 days of cover (1 in stock) on 2026-11-30, still at or under "
            "the 3-day critical threshold.",
        ),
        (
            [_variant(None, "none", 0)],
            "did_not_work",
            "SKU-A (Default) out of stock (0 in stock) on 2026-11-30, nothing left to sell.",
        ),
        (
            [_variant(None, "none", 12)],
            "not_enough_data",
            "SKU-A (Default) sold no unit in the velocity window before 2026-11-30: its days "
            "of cover are undefined.",
        ),
        (
            [],
            "not_enough_data",
            "Variant gid://shopify/ProductVariant/1 is not in the inventory data of 2026-11-30 "
            "(removed, untracked or selling when out of stock).",
        ),
    ],
)
def test_a_keyed_kpi_is_judged_on_its_own_variant(
    variants: list[dict[str, Any]], outcome: str, reason: str
) -> None:
    anomaly = {
        "kpi": "inventory_cover",
        "key": "gid://shopify/ProductVariant/1",
        "kind": "threshold",
        "severity": "warning",
    }
    others = [_variant(1.0, "critical") | {"variant_id": "gid://shopify/ProductVariant/9"}]
    value = {"status": "ok", "result": {"severity": "critical", "variants": others + variants}}
    verdict = _judge(anomaly, _reading(value, INVENTORY_CONFIG))
    assert (verdict.outcome, verdict.reason) == (outcome, reason)


def test_a_landing_page_absent_or_under_the_noise_floor_is_not_enough_data() -> None:
    anomaly = {"kpi": "traffic_anomalies", "key": "/a", "kind": "threshold"}
    page = {"landing_page": "/a", "current": 3, "previous": 4, "wow_delta": -0.25}
    quiet = {"status": "ok", "result": {"pages": [page | {"below_noise_floor": True}]}}
    gone = {"status": "ok", "result": {"pages": []}}
    assert _judge(anomaly, _reading(quiet, TRAFFIC_CONFIG)).reason == (
        "Landing page /a had 4 sessions the week before 2026-11-30, under the noise floor: "
        "too few to judge."
    )
    assert _judge(anomaly, _reading(gone, TRAFFIC_CONFIG)).reason == (
        "Landing page /a is not in the GA4 data of the refresh of 2026-11-30."
    )


def test_a_band_anomaly_also_needs_the_value_back_inside_the_band() -> None:
    anomaly = SLA_ANOMALY | {"kind": "forecast_band"}

    def forecast(observed: float) -> dict[str, Any]:
        point = {"date": "2026-11-30", "value": 10.0, "lower": 2.0, "upper": 18.0}
        return {"metric": "breach-rate", "level": 95, "observed": observed, "points": [point]}

    inside = _reading(_sla(12.5, "none"), SLA_CONFIG, forecast=forecast(12.5))
    above = _reading(_sla(19.0, "none"), SLA_CONFIG, forecast=forecast(19.0))
    below = _reading(_sla(1.0, "none"), SLA_CONFIG, forecast=forecast(1.0))
    bandless = _reading(_sla(12.5, "none"), SLA_CONFIG)
    assert _judge(anomaly, inside).reason == (
        "SLA breach rate 12.5 % on 2026-11-30, back under the 20 % warning threshold, and "
        "breach rate 12.50 inside its 95 % forecast band [2.00, 18.00]."
    )
    assert _judge(anomaly, inside).after["upper"] == 18.0
    failed = _judge(anomaly, above)
    assert failed.outcome == "did_not_work"
    assert failed.reason.endswith(
        "but breach rate 19.00 is above its 95 % forecast band [2.00, 18.00]."
    )
    # A breach rate under its band is better than forecast: the reply worked.
    better = _judge(anomaly, below)
    assert better.outcome == "worked"
    assert better.reason.endswith(
        "breach rate 1.00 below its 95 % forecast band [2.00, 18.00], better than forecast."
    )
    assert _judge(anomaly, bandless).outcome == "not_enough_data"
    # Inside the band but still past a threshold: did not work.
    still = _reading(_sla(45.0, "critical"), SLA_CONFIG, forecast=forecast(12.5))
    assert _judge(anomaly, still).outcome == "did_not_work"
    # Sales are bad both ways: revenue under the band after a spike did not work either.
    sales = {"kpi": "sales_delta", "key": None, "kind": "forecast_band"}
    config = {"thresholds": {"warning": 15.0, "critical": 30.0, "direction": "abs"}}
    point = {"date": "2026-11-30", "value": 500.0, "lower": 400.0, "upper": 600.0}
    revenue = {"metric": "sales", "level": 95, "observed": 350.0, "points": [point]}
    value = {"status": "ok", "result": {"delta_pct": 5.0, "severity": "none"}}
    drop = _judge(sales, _reading(value, config, forecast=revenue))
    assert drop.outcome == "did_not_work"
    assert drop.reason == (
        "Sales delta +5.0 % on 2026-11-30, back within ±15 % of its baseline, but revenue "
        "350.00 is below its 95 % forecast band [400.00, 600.00]."
    )


def test_shares_count_judged_actions_only() -> None:
    shares = outcome_shares(
        [
            ("reply", "worked"),
            ("reply", "did_not_work"),
            ("reply", "worked"),
            ("reorder", "not_enough_data"),
        ]
    )
    assert [s.as_dict() for s in shares] == [
        {
            "kind": "reorder",
            "checked": 1,
            "worked": 0,
            "didNotWork": 0,
            "notEnoughData": 1,
            "share": None,
        },
        {
            "kind": "reply",
            "checked": 3,
            "worked": 2,
            "didNotWork": 1,
            "notEnoughData": 0,
            "share": round(2 / 3, 4),
        },
    ]


# The scenario ---------------------------------------------------------------------------------


def _stored_outcome(decision_id: str, outcome: str, shop: str) -> OutcomeRecord:
    return OutcomeRecord(
        decision_id=decision_id,
        anomaly_fact_id=1,
        kpi="sla_breach_rate",
        key=None,
        action_kind="reply",
        action_entity=None,
        horizon_days=3,
        decided_at=AS_OF - timedelta(days=3),
        due_at=AS_OF,
        checked_at=AS_OF,
        checked_fact_id=None,
        outcome=outcome,  # type: ignore[arg-type]
        reason=f"{outcome} in {shop}",
        before={},
        after=None,
    )


def test_recorded_outcomes_read_the_first_fact_of_each_decision(engine: Engine) -> None:
    stored = [
        _stored_outcome("d1", "worked", "a.myshopify.com"),
        _stored_outcome("d1", "did_not_work", "a.myshopify.com"),
        _stored_outcome("d2", "not_enough_data", "b.myshopify.com"),
    ]
    with engine.begin() as connection:
        for record in stored:
            write_fact(
                connection,
                shop=record.reason.rpartition(" ")[2],
                fact_type=OUTCOME_FACT_TYPE,
                scope="cx",
                value=record.as_value(),
                metadata={},
                now=AS_OF,
            )
    with engine.connect() as connection:
        assert recorded_outcomes(connection) == {"d1": stored[0], "d2": stored[2]}
        assert recorded_outcomes(connection, ["a.myshopify.com"]) == {"d1": stored[0]}
        assert recorded_outcomes(connection, [None], ["d2"]) == {"d2": stored[2]}
        assert checked_decision_ids(connection, ["b.myshopify.com"]) == {"d2"}
        assert checked_decision_ids(connection) == {"d1", "d2"}


def _refresh_cli(runner: CliRunner, db_url: str, folder: Path, now: datetime) -> str:
    result = runner.invoke(
        app, ["refresh", "--source", f"dir:{folder}", "--now", now.isoformat(), "--db", db_url]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _anomaly_ids(engine: Engine) -> list[int]:
    from occ.store.runs import latest_run

    with engine.connect() as connection:
        run = latest_run(connection)
    assert run is not None
    return [int(i) for i in run["report"]["anomalyFactIds"]]


def _outcome_facts(engine: Engine) -> list[Any]:
    query = select(DashboardFact.id, DashboardFact.scope, DashboardFact.value).where(
        DashboardFact.fact_type == OUTCOME_FACT_TYPE
    )
    with engine.connect() as connection:
        return list(connection.execute(query))


def _outcomes(engine: Engine) -> dict[str, OutcomeRecord]:
    records = [OutcomeRecord.model_validate(fact.value) for fact in _outcome_facts(engine)]
    by_decision = {r.decision_id: r for r in records}
    assert len(by_decision) == len(records), "one outcome fact per decision"
    return by_decision


def _count(engine: Engine, model: Any, *where: Any) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(model).where(*where)).scalar()
        )


def test_refreshes_check_what_fell_due_and_record_each_outcome_once(
    runner: CliRunner, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "recorded"
    _refresh_cli(runner, db_url, folder_at_t0(folder), T0)
    decided = decide_scenario(engine, _anomaly_ids(engine))

    # T1: the reply and the order are due (3 days); the page and the reorder are not (7).
    output = _refresh_cli(runner, db_url, folder_at_t1(folder), T1)
    assert (
        "Outcome checks: 2 action outcome(s) recorded (1 worked, 1 did not work); 2 approved "
        "action(s) not checked yet." in " ".join(output.split())
    )
    first = _outcomes(engine)
    assert set(first) == {decided["reply"], decided["expedite"]}
    reply, expedite = first[decided["reply"]], first[decided["expedite"]]
    assert (reply.outcome, reply.reason) == ("worked", WORKED_REPLY)
    assert (expedite.outcome, expedite.reason) == ("did_not_work", FAILED_EXPEDITE)
    assert reply.due_at == DECIDED + timedelta(days=3) and reply.checked_at == T1
    assert reply.horizon_days == 3 and reply.action_kind == "reply"
    assert reply.before["severity"] == "critical" and reply.before["value"] == 50.0
    assert reply.after is not None and reply.after["value"] == 0.0
    assert expedite.after is not None and expedite.after["severity"] == "critical"

    # T2: the page recovered; Shopify went stale, so the reorder cannot be judged.
    _refresh_cli(runner, db_url, folder_at_t2(folder), T2)
    outcomes = _outcomes(engine)
    assert set(outcomes) == {decided[k] for k in ("reply", "expedite", "review_page", "reorder")}
    page, reorder = outcomes[decided["review_page"]], outcomes[decided["reorder"]]
    assert (page.outcome, page.reason) == ("worked", WORKED_PAGE)
    assert page.key == "/a" and page.kpi == "traffic_anomalies"
    assert reorder.outcome == "not_enough_data" and reorder.reason.startswith(STALE_REORDER)
    assert reorder.horizon_days == 7 and reorder.after is not None and reorder.after["gate"]
    assert decided["review_sales"] not in outcomes  # rejected: never checked
    # Every outcome is a fact like any other: scoped like its decision, queued for the mirror.
    facts = _outcome_facts(engine)
    scopes = {OutcomeRecord.model_validate(f.value).action_kind: f.scope for f in facts}
    assert scopes == {
        "reply": "cx",
        "expedite": "fulfillment",
        "review_page": "seo",
        "reorder": "inventory",
    }
    ids = [str(f.id) for f in facts]
    queued = _count(engine, OutboxEntry, OutboxEntry.kind == "fact", OutboxEntry.ref_id.in_(ids))
    assert queued == 4

    # Idempotent: checking again, even later, writes nothing new.
    settings = Settings(database_url=db_url)
    again = check_outcomes(engine, settings, now=T2 + timedelta(days=30))
    assert again.recorded == [] and again.pending == []
    assert _count(engine, DashboardFact, DashboardFact.fact_type == OUTCOME_FACT_TYPE) == 4

    # The CLI lists them (and checks nothing new).
    listed = runner.invoke(
        app, ["decisions", "outcomes", "--now", T2.isoformat(), "--json", "--db", db_url]
    )
    assert listed.exit_code == 0, listed.output
    document = json.loads(listed.stdout)
    assert document["recorded"] == [] and document["pending"] == []
    by_kind = {o["actionKind"]: o for o in document["outcomes"]}
    assert {k: o["outcome"] for k, o in by_kind.items()} == {
        "reply": "worked",
        "expedite": "did_not_work",
        "review_page": "worked",
        "reorder": "not_enough_data",
    }
    assert by_kind["reply"]["reason"] == WORKED_REPLY
    table = runner.invoke(app, ["decisions", "outcomes", "--now", T2.isoformat(), "--db", db_url])
    assert table.exit_code == 0, table.output
    text = " ".join(table.output.split())
    assert "0 action outcome(s) recorded; 0 approved action(s) not checked yet" in text
    assert "✖ Did not work — expedite gid://shopify/Order/" in text
    assert "? Not enough data — reorder gid://shopify/ProductVariant/1 (inventory_cover)" in text
    assert "✔ Worked — review_page /a (traffic_anomalies), decided 2026-11-26 16:00" in text
    assert STALE_REORDER in text

    # The decision log lists each decision with its outcome; the rejected one has none.
    history = runner.invoke(app, ["decisions", "list", "--json", "--db", db_url])
    assert history.exit_code == 0, history.output
    rows = {row["id"]: row for row in json.loads(history.stdout)}
    assert rows[decided["expedite"]]["outcome"]["label"] == "Did not work"
    assert rows[decided["expedite"]]["outcome"]["reason"] == FAILED_EXPEDITE
    assert rows[decided["review_sales"]]["outcome"] is None


def test_a_check_due_without_a_refresh_waits_then_records_not_enough_data(
    runner: CliRunner, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    run_refresh(engine, Settings(), recorded_payloads(folder_at_t0(tmp_path / "rec")), T0)
    decided = decide_scenario(engine, _anomaly_ids(engine))
    due = DECIDED + timedelta(days=3)

    early = runner.invoke(
        app,
        [
            "decisions",
            "outcomes",
            "--now",
            (due - timedelta(hours=1)).isoformat(),
            "--json",
            "--db",
            db_url,
        ],
    )
    assert early.exit_code == 0, early.output
    pending = json.loads(early.stdout)["pending"]
    assert {p["actionKind"]: p["dueAt"] for p in pending}["reply"] == due.isoformat()
    assert len(pending) == 4  # the rejected sales review is not an approved action
    history = runner.invoke(app, ["decisions", "list", "--json", "--db", db_url])
    waiting = {row["id"]: row["outcome"] for row in json.loads(history.stdout)}[decided["reply"]]
    assert waiting == {
        "outcome": "not_checked",
        "label": "Not checked yet",
        "reason": "due 2026-11-29 16:00 UTC, 3 days after the decision",
        "dueAt": due.isoformat(),
        "checkedAt": None,
    }

    settings = Settings(database_url=db_url)
    within = check_outcomes(engine, settings, now=due + timedelta(hours=23))
    assert within.recorded == [] and len(within.pending) == 4
    late = check_outcomes(engine, settings, now=due + timedelta(hours=24))
    assert {r.decision_id for r in late.recorded} == {decided["reply"], decided["expedite"]}
    reply = next(r for r in late.recorded if r.action_kind == "reply")
    assert reply.outcome == "not_enough_data" and reply.checked_fact_id is None
    assert reply.reason == (
        "No refresh recorded the SLA breach rate between the check's due time 2026-11-29 "
        "16:00 UTC and 2026-11-30 16:00 UTC (24 h of grace)."
    )


def test_two_checks_at_once_record_each_outcome_once(engine: Engine, tmp_path: Path) -> None:
    run_refresh(engine, Settings(), recorded_payloads(folder_at_t0(tmp_path / "rec")), T0)
    decide_scenario(engine, _anomaly_ids(engine))
    run_refresh(engine, Settings(), recorded_payloads(folder_at_t1(tmp_path / "rec")), T1)
    settings = Settings(database_url=str(engine.url))
    start = threading.Barrier(2)
    recorded: list[int] = []

    def check() -> None:
        start.wait()
        recorded.append(len(check_outcomes(engine, settings, now=T1).recorded))

    threads = [threading.Thread(target=check) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(recorded) == [0, 2]
    assert _count(engine, DashboardFact, DashboardFact.fact_type == OUTCOME_FACT_TYPE) == 2


def test_the_dashboards_refresh_checks_and_its_history_shows_the_outcomes(
    engine: Engine, tmp_path: Path
) -> None:
    from web_fixtures import dashboard

    folder = tmp_path / "recorded"
    clock = [DECIDED]
    run_refresh(engine, Settings(), recorded_payloads(folder_at_t0(folder)), T0)
    with dashboard(engine, folder, refresh=False, clock=lambda: clock[0]) as dash:
        with dash.api() as api:
            actions = api.get("/api/v1/actions").json()["actions"]
            chosen = {
                kind: next(a for a in actions if a["kind"] == kind)
                for kind in ("reply", "expedite", "review_sales")
            }
            for kind, action in chosen.items():
                verdict = "reject" if kind == "review_sales" else "approve"
                made = api.post(
                    f"/api/v1/actions/{action['id']}/decision", json={"verdict": verdict}
                )
                assert made.status_code == 201, made.text
            folder_at_t1(folder)
            clock[0] = T1
            assert api.post("/api/v1/refresh").status_code == 202
            deadline = time.monotonic() + 60
            state = api.get("/api/v1/refresh").json()
            while state["status"] == "running" and time.monotonic() < deadline:
                time.sleep(0.1)
                state = api.get("/api/v1/refresh").json()
            assert state["status"] == "finished", state
            listed = api.get("/api/v1/decisions").json()["decisions"]
        with dash.signed_in() as client:
            page = client.get("/decisions")
            exported = client.get("/decisions.csv")
    assert {d["outcome"]["outcome"] if d["outcome"] else None for d in listed} == {
        "worked",
        "did_not_work",
        None,
    }
    assert page.status_code == 200
    assert "✔ Worked" in page.text and "✖ Did not work" in page.text
    assert WORKED_REPLY in page.text and FAILED_EXPEDITE in page.text
    assert page.text.count("<tr><td>") == 3
    rows = {
        row["external_ref"].split(":")[1]: row for row in csv.DictReader(io.StringIO(exported.text))
    }
    assert rows["reply"]["outcome"] == "worked" and rows["reply"]["outcome_reason"] == WORKED_REPLY
    assert rows["expedite"]["outcome"] == "did_not_work"
    assert rows["review_sales"]["outcome"] == "" and rows["review_sales"]["outcome_reason"] == ""


def test_the_weekly_packet_reports_the_share_that_worked_per_kind(
    runner: CliRunner, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "recorded"
    _refresh_cli(runner, db_url, folder_at_t0(folder), T0)
    decide_scenario(engine, _anomaly_ids(engine))
    _refresh_cli(runner, db_url, folder_at_t1(folder), T1)
    _refresh_cli(runner, db_url, folder_at_t2(folder), T2)
    out = tmp_path / "packet"
    made = make_packet(Settings(), engine, now=T2, week_ending=date(2026, 12, 6), out=out)
    section = json.loads((out / "packet.json").read_text(encoding="utf-8"))["outcomes"]
    assert section == json.loads(json.dumps(made.packet["outcomes"]))
    assert section["total"] == 4
    assert [
        (r["kind"], r["worked"], r["didNotWork"], r["notEnoughData"], r["share"])
        for r in section["byKind"]
    ] == [
        ("expedite", 0, 1, 0, 0.0),
        ("reorder", 0, 0, 1, None),
        ("reply", 1, 0, 0, 1.0),
        ("review_page", 1, 0, 0, 1.0),
    ]
    assert [item["checkedAt"] for item in section["items"]] == [
        "2026-11-30T15:00:00Z",
        "2026-11-30T15:00:00Z",
        "2026-12-04T15:00:00Z",
        "2026-12-04T15:00:00Z",
    ]
    markdown = (out / "packet.md").read_text(encoding="utf-8")
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "| Reply to a breached conversation | 1 | 1 | 0 | 0 | 100.00 % |" in markdown
    assert "| Expedite a stuck order | 1 | 0 | 1 | 0 | 0.00 % |" in markdown
    assert "| Reorder a variant | 1 | 0 | 0 | 1 | — |" in markdown
    assert WORKED_PAGE in markdown
    assert "Reply to a breached conversation" in html and "<strong>100.00 %</strong>" in html
    assert FAILED_EXPEDITE in html

    # The week before learnt no outcome: its packet says so instead of showing zeros.
    before = tmp_path / "before"
    make_packet(Settings(), engine, now=T2, week_ending=date(2026, 11, 29), out=before)
    empty = json.loads((before / "packet.json").read_text(encoding="utf-8"))["outcomes"]
    assert empty["total"] == 0 and empty["byKind"] == []
    note = "no outcome of an approved action was checked in the week"
    assert f"**No data:** {note}." in (before / "packet.md").read_text(encoding="utf-8")
    assert note in (before / "index.html").read_text(encoding="utf-8")
