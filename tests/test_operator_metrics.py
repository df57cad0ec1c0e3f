"""Operator metrics (KPIS.md) from hand-written decisions and facts, computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from occ.decisions.log import insert_decision, new_decision
from occ.decisions.operator_metrics import operator_metrics
from occ.store.facts import write_fact

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def _fact(connection: Any, shop: str, fact_type: str, at: datetime, **value: Any) -> int:
    metadata = {"now": value.pop("as_of", at.isoformat())}
    return write_fact(
        connection,
        shop=shop,
        fact_type=fact_type,
        scope="usage" if fact_type.startswith("dashboard.") else "ops",
        value=value,
        metadata=metadata,
        now=at,
    )


def _decide(connection: Any, shop: str, at: datetime, **payload: Any) -> None:
    insert_decision(
        connection,
        new_decision(
            scope="ops",
            actor="ops@example.com",
            action="x",
            now=at,
            shop_domain=shop,
            payload=payload,
        ),
    )


def test_the_three_metrics_by_hand(engine: Engine) -> None:
    day = timedelta(days=1)
    with engine.begin() as connection:
        # Activation: a activated on day 6 of its first week; b decided on day 8 (too late);
        # c started 2 days ago without a decision (pending, not counted).
        _fact(connection, "a", "dashboard.session.opened", NOW - 20 * day, operator="o")
        _fact(connection, "a", "dashboard.session.opened", NOW - 19 * day, operator="o")
        _fact(connection, "b", "dashboard.session.opened", NOW - 20 * day, operator="o")
        _fact(connection, "c", "dashboard.session.opened", NOW - 2 * day, operator="o")
        _fact(connection, "a", "dashboard.refresh.triggered", NOW - 3 * day, operator="o")
        _decide(connection, "a", NOW - 14 * day)
        _decide(connection, "b", NOW - 12 * day)
        # SLA resolution: conversation 1 breached at t, first decision t + 30 min (a later one
        # does not count); conversation 2 breached at t, decided t + 90 min → median 60.
        breach = NOW - 10 * day
        _decide(
            connection,
            "a",
            breach + timedelta(minutes=30),
            conversationId=1,
            breachedAt=breach.isoformat(),
        )
        _decide(
            connection,
            "a",
            breach + timedelta(minutes=300),
            conversationId=1,
            breachedAt=breach.isoformat(),
        )
        _decide(
            connection,
            "a",
            breach + timedelta(minutes=90),
            conversationId=2,
            breachedAt=breach.isoformat(),
        )
        # Anomalies: A detected twice on one as-of day (one anomaly), answered after 23 h via
        # the second detection's fact; B answered after 25 h (too late); C none (missed);
        # D detected an hour ago (pending); E a "none" severity (not an anomaly).
        t = NOW - 5 * day
        _fact(
            connection,
            "a",
            "anomaly.sales_delta",
            t,
            kpi="sales_delta",
            key=None,
            kind="threshold",
            severity="critical",
            as_of="2026-11-21T15:00:00+00:00",
        )
        a2 = _fact(
            connection,
            "a",
            "anomaly.sales_delta",
            t + timedelta(hours=1),
            kpi="sales_delta",
            key=None,
            kind="threshold",
            severity="critical",
            as_of="2026-11-21T16:00:00+00:00",
        )
        b = _fact(
            connection,
            "a",
            "anomaly.inventory_cover",
            t,
            kpi="inventory_cover",
            key="v1",
            kind="threshold",
            severity="warning",
        )
        _fact(
            connection,
            "a",
            "anomaly.inventory_cover",
            t,
            kpi="inventory_cover",
            key="v2",
            kind="threshold",
            severity="critical",
        )
        d = _fact(
            connection,
            "a",
            "anomaly.traffic_anomalies",
            NOW - timedelta(hours=1),
            kpi="traffic_anomalies",
            key="/p",
            kind="threshold",
            severity="warning",
        )
        _fact(
            connection,
            "a",
            "anomaly.fulfillment_issue_rate",
            t,
            kpi="fulfillment_issue_rate",
            key=None,
            kind="band",
            severity="none",
        )
        _decide(connection, "a", t + timedelta(hours=23), factId=a2)
        _decide(connection, "a", t + timedelta(hours=25), factId=b)
        assert d
    with engine.connect() as connection:
        metrics = operator_metrics(connection, NOW)
    assert (metrics.shops_with_sessions, metrics.shops_activated, metrics.shops_pending) == (
        3,
        1,
        1,
    )
    assert metrics.activation_rate == 0.5  # a of {a, b}
    assert metrics.sla_resolutions == 2 and metrics.sla_resolution_minutes_median == 60.0
    assert (metrics.anomalies, metrics.anomalies_answered, metrics.anomalies_pending) == (3, 1, 1)
    assert metrics.anomaly_response_rate == 1 / 3
    assert (metrics.sessions, metrics.refreshes) == (4, 1)


def test_nothing_recorded_gives_no_rates(engine: Engine) -> None:
    with engine.connect() as connection:
        metrics = operator_metrics(connection, NOW)
    assert metrics.activation_rate is None
    assert metrics.sla_resolution_minutes_median is None
    assert metrics.anomaly_response_rate is None
    assert metrics.as_dict()["anomalyResponse"]["windowHours"] == 24
