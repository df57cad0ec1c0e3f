"""Daily series builders: local-midnight days, zero-filling, and the per-day SLA breach rate."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from occ.contracts.kpis import SlaConfig
from occ.contracts.records import (
    ConversationRecord,
    LandingPageDay,
    LineItemRecord,
    MessageRecord,
    OrderRecord,
)
from occ.metrics.series import (
    BREACH_RATE_ASSUMPTION,
    daily_breach_rate,
    daily_revenue,
    daily_sessions,
    daily_units,
)
from occ.metrics.sla import compute_sla_breaches

LA = "America/Los_Angeles"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _order(
    number: int,
    created: str,
    total: str,
    *,
    cancelled: bool = False,
    test: bool = False,
    lines: tuple[LineItemRecord, ...] = (),
) -> OrderRecord:
    moment = _utc(created)
    return OrderRecord(
        order_id=f"gid://shopify/Order/{number}",
        name=f"#{number}",
        created_at=moment,
        updated_at=moment,
        cancelled_at=moment if cancelled else None,
        test=test,
        fulfillment_status="FULFILLED",
        financial_status="PAID",
        total=Decimal(total),
        currency="USD",
        line_items=lines,
    )


def _line(variant_id: str | None, sku: str | None, quantity: int) -> LineItemRecord:
    return LineItemRecord(
        line_item_id=f"li-{variant_id}-{sku}-{quantity}",
        variant_id=variant_id,
        sku=sku,
        title=f"Item {sku}",
        quantity=quantity,
        amount=Decimal("10.00"),
    )


def test_an_order_belongs_to_the_shop_local_day() -> None:
    orders = [
        _order(1, "2026-11-20T07:30:00", "100.00"),  # 23:30 on 11-19 in Los Angeles (PST)
        _order(2, "2026-11-20T08:30:00", "40.00"),  # 00:30 on 11-20
    ]
    series = daily_revenue(orders, LA, date(2026, 11, 19), date(2026, 11, 20))
    assert series == [
        (date(2026, 11, 19), Decimal("100.00")),
        (date(2026, 11, 20), Decimal("40.00")),
    ]
    # the same orders in UTC both fall on 11-20
    in_utc = daily_revenue(orders, "UTC", date(2026, 11, 19), date(2026, 11, 20))
    assert in_utc == [(date(2026, 11, 19), Decimal(0)), (date(2026, 11, 20), Decimal("140.00"))]


def test_an_order_at_local_midnight_closes_the_day_before() -> None:
    midnight = _order(1, "2026-11-20T08:00:00", "25.00")  # 00:00:00 PST on 11-20
    just_after = _order(2, "2026-11-20T08:00:01", "5.00")
    series = daily_revenue([midnight, just_after], LA, date(2026, 11, 19), date(2026, 11, 20))
    assert series == [(date(2026, 11, 19), Decimal("25.00")), (date(2026, 11, 20), Decimal("5.00"))]


def test_days_follow_daylight_saving_time() -> None:
    # 2026-03-08 is the spring-forward day in Los Angeles: 07:30Z on 03-09 is 00:30 PDT
    order = _order(1, "2026-03-09T07:30:00", "10.00")
    series = daily_revenue([order], LA, date(2026, 3, 8), date(2026, 3, 9))
    assert series == [(date(2026, 3, 8), Decimal(0)), (date(2026, 3, 9), Decimal("10.00"))]


def test_revenue_counts_only_countable_orders_and_zero_fills_every_day() -> None:
    orders = [
        _order(1, "2026-11-02T12:00:00", "10.00"),
        _order(2, "2026-11-02T13:00:00", "15.50"),
        _order(3, "2026-11-02T14:00:00", "99.00", cancelled=True),
        _order(4, "2026-11-02T15:00:00", "99.00", test=True),
        _order(5, "2026-11-04T12:00:00", "7.25"),
        _order(6, "2026-11-09T12:00:00", "1000.00"),  # after the range
    ]
    series = daily_revenue(orders, "UTC", date(2026, 11, 1), date(2026, 11, 5))
    assert [day for day, _ in series] == [date(2026, 11, d) for d in range(1, 6)]
    assert [revenue for _, revenue in series] == [
        Decimal(0),
        Decimal("25.50"),
        Decimal(0),
        Decimal("7.25"),
        Decimal(0),
    ]


def test_a_range_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="before its start"):
        daily_revenue([], "UTC", date(2026, 11, 5), date(2026, 11, 1))


def test_units_match_by_variant_id_and_fall_back_to_sku() -> None:
    wanted = "gid://shopify/ProductVariant/7"
    orders = [
        _order(1, "2026-11-02T12:00:00", "1", lines=(_line(wanted, "TEE-M", 2),)),
        # no variant id (deleted variant): matched by SKU
        _order(2, "2026-11-02T13:00:00", "1", lines=(_line(None, "TEE-M", 3),)),
        # another variant that reuses the SKU: its variant id decides, not counted
        _order(3, "2026-11-03T12:00:00", "1", lines=(_line("gid://x/8", "TEE-M", 50),)),
        _order(4, "2026-11-03T13:00:00", "1", lines=(_line(wanted, "TEE-M", 4),), test=True),
        _order(5, "2026-11-03T14:00:00", "1", lines=(_line(wanted, None, 1), _line(None, "X", 9))),
    ]
    series = daily_units(orders, "UTC", date(2026, 11, 1), date(2026, 11, 3), wanted, "TEE-M")
    assert series == [(date(2026, 11, 1), 0), (date(2026, 11, 2), 5), (date(2026, 11, 3), 1)]
    # without a SKU to fall back on, the line item without variant id is not matched
    no_sku = daily_units(orders, "UTC", date(2026, 11, 2), date(2026, 11, 2), wanted, None)
    assert no_sku == [(date(2026, 11, 2), 2)]


def test_sessions_of_one_page_are_zero_filled() -> None:
    days = [
        LandingPageDay("/products/tee", date(2026, 11, 1), 30),
        LandingPageDay("/products/tee", date(2026, 11, 3), 12),
        LandingPageDay("/products/tee", date(2026, 11, 3), 3),
        LandingPageDay("/", date(2026, 11, 2), 500),
        LandingPageDay("/products/tee", date(2026, 10, 31), 77),
    ]
    series = daily_sessions(days, "/products/tee", date(2026, 11, 1), date(2026, 11, 4))
    assert series == [
        (date(2026, 11, 1), 30),
        (date(2026, 11, 2), 0),
        (date(2026, 11, 3), 15),
        (date(2026, 11, 4), 0),
    ]


def _local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo(LA)).astimezone(UTC)


def _conversation(
    number: int,
    status: str,
    created: datetime,
    messages: list[tuple[int, datetime]],
    labels: tuple[str, ...] = (),
    private_notes: tuple[datetime, ...] = (),
) -> ConversationRecord:
    specs = [(kind, moment, False) for kind, moment in messages]
    specs += [(1, moment, True) for moment in private_notes]
    records = tuple(
        MessageRecord(
            message_id=number * 100 + index,
            conversation_id=number,
            message_type=kind,
            created_at=moment,
            private=private,
        )
        for index, (kind, moment, private) in enumerate(specs)
    )
    return ConversationRecord(number, status, labels, "Ann", created, records)


def test_breach_rate_is_evaluated_at_each_local_midnight() -> None:
    conversations = [
        # waiting since 10:00 on 11-10: breached at the end of 11-10 and 11-11
        _conversation(1, "open", _local(10, 9), [(0, _local(10, 10))]),
        # priority (30 min): 23:20 → 40 minutes waiting at midnight, breached
        _conversation(2, "open", _local(10, 9), [(0, _local(10, 23, 20))], ("priority",)),
        # answered on 11-10; asks again on 11-11; activity and a private note do not answer
        _conversation(
            3,
            "pending",
            _local(10, 9),
            [
                (0, _local(10, 9)),
                (1, _local(10, 9, 10)),
                (0, _local(11, 12)),
                (2, _local(11, 12, 30)),
            ],
            private_notes=(_local(11, 12, 40),),
        ),
        _conversation(4, "resolved", _local(10, 9), [(0, _local(10, 9))]),  # not in population
        # created on 11-11 and waiting only 10 minutes at midnight
        _conversation(5, "open", _local(11, 23), [(0, _local(11, 23, 50))]),
        # answered by a template message
        _conversation(6, "open", _local(10, 9), [(0, _local(10, 9)), (3, _local(10, 9, 1))]),
    ]
    rates = daily_breach_rate(conversations, LA, date(2026, 11, 9), date(2026, 11, 11), SlaConfig())
    assert rates == [
        (date(2026, 11, 9), 0.0),  # nobody yet
        (date(2026, 11, 10), 50.0),  # 1 and 2 of {1, 2, 3, 6}
        (date(2026, 11, 11), 60.0),  # 1, 2 and 3 of {1, 2, 3, 5, 6}
    ]
    # on the last day every conversation exists: the same number as the SLA KPI at that instant
    end_of_last_day = _local(12, 0)
    assert compute_sla_breaches(conversations, end_of_last_day, SlaConfig()).value == rates[-1][1]


def test_breach_rate_uses_the_configured_sla_minutes() -> None:
    waiting = [_conversation(1, "open", _local(10, 9), [(0, _local(10, 22, 30))])]  # 90 min
    day = date(2026, 11, 10)
    assert daily_breach_rate(waiting, LA, day, day, SlaConfig()) == [(day, 100.0)]
    relaxed = SlaConfig(sla_minutes=120)
    assert daily_breach_rate(waiting, LA, day, day, relaxed) == [(day, 0.0)]
    # exactly at the SLA is not yet a breach (strictly greater, KPIS.md §2)
    exact = [_conversation(1, "open", _local(10, 9), [(0, _local(10, 23))])]
    assert daily_breach_rate(exact, LA, day, day, SlaConfig()) == [(day, 0.0)]


def test_a_reply_in_the_same_second_answers_the_customer() -> None:
    asked = _local(10, 9)
    same_second = [_conversation(1, "open", asked, [(1, asked), (0, asked)])]
    day = date(2026, 11, 10)
    assert daily_breach_rate(same_second, LA, day, day, SlaConfig()) == [(day, 0.0)]


def test_breach_rate_states_its_status_history_assumption() -> None:
    assert "no status history" in BREACH_RATE_ASSUMPTION
    assert "current status" in BREACH_RATE_ASSUMPTION
