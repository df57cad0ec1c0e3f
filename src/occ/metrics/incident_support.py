"""Support ← stuck orders: breached conversations whose customers ask about orders stuck in
fulfillment (``occ.metrics.incidents`` has the rules)."""

from __future__ import annotations

from datetime import timedelta

from occ.contracts.incidents import (
    IncidentLink,
    LikelyCause,
)
from occ.contracts.records import (
    OrderRecord,
)
from occ.metrics.fulfillment import stuck
from occ.metrics.incident_draft import (
    CAPACITY,
    Draft,
    IncidentInputs,
    anomaly_ref,
    customer_texts,
    named,
    share_of,
    utc_text,
)
from occ.metrics.mentions import order_mentions

__all__ = ["support_incidents"]


def support_incidents(inputs: IncidentInputs) -> list[Draft]:
    """A draft when breached conversations ask about orders stuck in fulfillment."""
    flagged = [(i, a) for i, a in inputs.anomalies if a.kpi == "sla_breach_rate"]
    sla = inputs.sla
    if not flagged or sla is None or not sla.breached:
        return []
    hours = inputs.processing_hours
    links: list[IncidentLink] = []
    linked: list[int] = []
    orders: dict[str, OrderRecord] = {}
    for breach in sla.breached:
        conversation = inputs.conversations.get(breach.conversation_id)
        if conversation is None:
            continue
        mentioned: dict[str, None] = {}
        for text in customer_texts(conversation):
            mentioned.update(dict.fromkeys(order_mentions(text, inputs.order_index)))
        for name in mentioned:
            order = inputs.orders_by_name.get(name)
            if order is None or not stuck(order, inputs.now, timedelta(hours=hours)):
                continue
            if breach.conversation_id not in linked:
                linked.append(breach.conversation_id)
            orders[name] = order
            age = (inputs.now - order.created_at) / timedelta(hours=1)
            links.append(
                IncidentLink(
                    kind="order",
                    entity=name,
                    sources=("chatwoot", "shopify"),
                    evidence=(
                        f"Conversation {breach.conversation_id} ({breach.customer_name}, "
                        f"waiting {breach.minutes_waiting} min) asks about {name}, "
                        f"{order.fulfillment_status} {age:.0f} h after it was placed "
                        f"({utc_text(order.created_at)})."
                    ),
                )
            )
    if not linked:
        return []
    anomalies = {i: anomaly_ref(i, a) for i, a in flagged}
    names = sorted(orders, key=lambda n: (orders[n].created_at, n))
    first_stuck = min(o.created_at for o in orders.values()) + timedelta(hours=hours)
    first_breach = min(
        b.last_customer_message_at + timedelta(minutes=b.sla_minutes)
        for b in sla.breached
        if b.conversation_id in linked
    )
    links.append(
        IncidentLink(
            kind="time",
            entity=names[0],
            sources=("shopify", "chatwoot"),
            evidence=(
                f"The first of these orders passed its {hours:g} h processing window at "
                f"{utc_text(first_stuck)}; the first of these conversations breached its SLA at "
                f"{utc_text(first_breach)}."
            ),
        )
    )
    fulfillment = inputs.fulfillment
    if fulfillment is not None:
        counted = [issue.name for issue in fulfillment.issues if issue.name in orders]
        flagged_f = [(i, a) for i, a in inputs.anomalies if a.kpi == "fulfillment_issue_rate"]
        if counted and flagged_f:
            anomalies.update((i, anomaly_ref(i, a)) for i, a in flagged_f)
            links.append(
                IncidentLink(
                    kind="order",
                    entity=counted[0],
                    sources=("shopify", "shopify"),
                    evidence=(
                        f"{len(counted)} of these orders ({named(counted)}) are among the "
                        f"{len(fulfillment.issues)} issues of the fulfillment issue rate "
                        f"({fulfillment.value:.1f} %)."
                    ),
                )
            )
    breached = len(sla.breached)
    share = share_of(len(linked), breached)
    causes = [
        LikelyCause(
            cause="Orders stuck in fulfillment",
            share=share,
            reason=(
                f"{len(linked)} of {breached} breached conversations ask about orders still "
                f"unfulfilled past {hours:g} h ({named(names)})."
            ),
        ),
        LikelyCause(
            cause=CAPACITY,
            share=round(1 - share, 4),
            reason=f"{breached - len(linked)} of {breached} breached conversations name no "
            "stuck order.",
        ),
    ]
    return [
        Draft(
            kinds=["support_from_stuck_orders"],
            anchors=["sla"],
            title=f"Customers waiting on {len(orders)} order(s) stuck in fulfillment",
            anomalies=anomalies,
            links=links,
            causes=causes,
            entities={f"order:{name}" for name in orders},
            started_at=first_stuck,
        )
    ]
