"""Suggested actions of the anomalies, and the operator's verdict on each (a decision).

Every anomaly fact of a refresh carries actions: reply to a breached conversation with a
template, reorder a variant, expedite a stuck order, review a landing page or a sales drop,
restock an unsellable product or point its page's traffic elsewhere.
An action's ``id`` names the anomaly fact it came from; its ``subject`` (KPI, kind, entity)
stays the same from one refresh to the next, so that an action decided on an hour ago does
not come back with the next refresh while the decision is fresh (``quiet``).

A verdict writes the decision, its outbox entry and an ``action_decision`` row keyed by the
action id in one transaction: a second verdict on the same action is refused
(:class:`ActionAlreadyDecided`), whichever process or request comes second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import Connection, Engine, Table, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from occ.contracts.kpis import UNSELLABLE_VARIANTS_NAMED
from occ.decisions.log import Decision, insert_decision, new_decision
from occ.decisions.templates import template_for
from occ.errors import NotFoundError, OccError, StoreError
from occ.metrics.incident_draft import named
from occ.store.engine import masked_url
from occ.store.facts import FactRow
from occ.store.tables import ActionDecision

__all__ = [
    "VERDICTS",
    "ActionAlreadyDecided",
    "SuggestedAction",
    "Verdict",
    "decide",
    "suggested_actions",
]

Verdict = Literal["approve", "reject", "snooze"]
VERDICTS: tuple[Verdict, ...] = ("approve", "reject", "snooze")
_ACTIONS = cast(Table, ActionDecision.__table__)
_STUCK_ORDERS = 10
"""Oldest stuck orders that get an "expedite" action each (the tile lists them all)."""


class ActionAlreadyDecided(OccError):
    """A verdict on an action that already has one (HTTP 409)."""

    exit_code = 9


@dataclass(frozen=True, slots=True)
class SuggestedAction:
    """One thing the operator can approve, reject or snooze."""

    id: str
    subject: str
    fact_id: int
    kpi: str
    scope: str
    kind: str
    entity: str
    title: str
    detail: str
    severity: str
    payload: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject": self.subject,
            "factId": self.fact_id,
            "kpi": self.kpi,
            "scope": self.scope,
            "kind": self.kind,
            "entity": self.entity,
            "title": self.title,
            "detail": self.detail,
            "severity": self.severity,
            "payload": dict(self.payload),
        }


def _action(
    anomaly: FactRow, kind: str, entity: str, title: str, detail: str, **payload: Any
) -> SuggestedAction:
    kpi = str(anomaly.value.get("kpi"))
    return SuggestedAction(
        id=f"{anomaly.id}:{kind}:{entity}",
        subject=f"{kpi}:{kind}:{entity}",
        fact_id=anomaly.id,
        kpi=kpi,
        scope=anomaly.scope,
        kind=kind,
        entity=entity,
        title=title,
        detail=detail,
        severity=str(anomaly.value.get("severity", "none")),
        payload=payload,
    )


def _for_anomaly(anomaly: FactRow, kpi_result: Mapping[str, Any]) -> list[SuggestedAction]:
    value = anomaly.value
    kpi, key, message = value.get("kpi"), value.get("key"), str(value.get("message", ""))
    if kpi == "sales_delta":
        day = str(anomaly.metadata.get("now", ""))[:10]
        skus = ", ".join(item["sku"] for item in kpi_result.get("top_skus", [])[:3])
        observed = float(value.get("value") or 0)
        upper = value.get("upper")
        # A threshold anomaly's value is the delta in percent; a band anomaly's is the revenue.
        rose = observed > float(upper) if upper is not None else observed > 0
        title = (
            "Review the sales spike: real orders (no test or duplicates) and stock to follow"
            if rose
            else "Review the sales drop: checkout, payments, promotions and the top SKUs"
        )
        return [
            _action(
                anomaly,
                "review_sales",
                day,
                title,
                f"{message} Top SKUs of the day: {skus or 'none'}.",
            )
        ]
    if kpi == "sla_breach_rate":
        actions = []
        for item in kpi_result.get("breached", []):
            template = template_for(item.get("labels", []))
            name, conversation = item["customer_name"], item["conversation_id"]
            actions.append(
                _action(
                    anomaly,
                    "reply",
                    str(conversation),
                    f"Reply to {name} with template “{template.title}”",
                    f"Conversation {conversation} has waited {item['minutes_waiting']} min "
                    f"(SLA {item['sla_minutes']} min). {template.body}",
                    conversationId=conversation,
                    customerName=name,
                    template=template.key,
                    breachedAt=_breached_at(item),
                )
            )
        return actions
    if kpi == "traffic_anomalies" and key:
        return [
            _action(
                anomaly,
                "review_page",
                str(key),
                f"Review landing page {key}",
                f"{message} Check the page's content, stock, search snippet and links to it.",
                landingPage=key,
            )
        ]
    if kpi == "inventory_cover" and key:
        variant = next(
            (v for v in kpi_result.get("variants", []) if v.get("variant_id") == key), None
        )
        if variant is None or not variant.get("reorder_quantity"):
            return []
        label = variant.get("sku") or variant.get("title") or key
        quantity = int(variant["reorder_quantity"])
        return [
            _action(
                anomaly,
                "reorder",
                str(key),
                f"Reorder {quantity} units of {label}",
                message,
                variantId=key,
                sku=variant.get("sku"),
                quantity=quantity,
            )
        ]
    if kpi == "unsellable_traffic" and key:
        return _restock_or_redirect(anomaly, str(key), message, kpi_result)
    if kpi == "fulfillment_issue_rate":
        return [
            _action(
                anomaly,
                "expedite",
                issue["order_id"],
                f"Expedite order {issue['name']}",
                f"{issue['name']} is {issue['status']} after {issue['age_hours']:.0f} h.",
                orderId=issue["order_id"],
                orderName=issue["name"],
                status=issue["status"],
            )
            for issue in kpi_result.get("issues", [])[:_STUCK_ORDERS]
        ]
    return []


def _restock_or_redirect(
    anomaly: FactRow, page: str, message: str, kpi_result: Mapping[str, Any]
) -> list[SuggestedAction]:
    """Unsellable traffic: the anomaly's key is a landing page of the KPI's pages."""
    found = next((p for p in kpi_result.get("pages", []) if p.get("landing_page") == page), None)
    if found is None:
        return []
    variants = found.get("variants", [])
    labels = [str(v.get("sku") or v.get("title") or v.get("variant_id")) for v in variants]
    restock = named(labels, UNSELLABLE_VARIANTS_NAMED)
    return [
        _action(
            anomaly,
            "restock_or_redirect",
            page,
            f"Restock {restock} or point traffic from {page} elsewhere",
            f"{message} Restock it, or until it is back point the links, ads and emails "
            f"that send visitors to {page} at an in-stock alternative.",
            landingPage=page,
            productHandle=found.get("product_handle"),
            variantIds=[v.get("variant_id") for v in variants],
            skus=[v.get("sku") for v in variants],
            revenueAtRisk=found.get("revenue_at_risk"),
        )
    ]


def _breached_at(item: Mapping[str, Any]) -> str:
    last = datetime.fromisoformat(str(item["last_customer_message_at"]).replace("Z", "+00:00"))
    return (last + timedelta(minutes=int(item["sla_minutes"]))).isoformat()


def suggested_actions(
    anomalies: Iterable[FactRow], kpi_facts: Mapping[int, FactRow]
) -> list[SuggestedAction]:
    """The actions of ``anomalies`` (warning or critical), one per subject, in anomaly order.

    ``kpi_facts`` are the KPI facts the anomalies point at (``metadata.kpiFactId``).
    """
    seen: set[str] = set()
    actions: list[SuggestedAction] = []
    for anomaly in anomalies:
        if anomaly.value.get("severity") not in ("warning", "critical"):
            continue
        kpi_fact = kpi_facts.get(int(anomaly.metadata.get("kpiFactId") or 0))
        result = (kpi_fact.value.get("result") or {}) if kpi_fact is not None else {}
        for action in _for_anomaly(anomaly, result):
            if action.subject not in seen:
                seen.add(action.subject)
                actions.append(action)
    return actions


@dataclass(frozen=True, slots=True)
class DecisionMark:
    """What was decided on a run's actions: every decision on one of their ids or subjects."""

    ids: frozenset[str]
    subjects: tuple[tuple[str, datetime], ...]  # (subject, decided_at)

    def open(self, actions: list[SuggestedAction], since: datetime) -> list[SuggestedAction]:
        """``actions`` still waiting for a verdict (decided ones, and subjects decided since
        ``since``, are out)."""
        if not self.ids:
            return actions
        quiet = {subject for subject, at in self.subjects if at >= since}
        return [a for a in actions if a.id not in self.ids and a.subject not in quiet]

    def closed(
        self,
        by_id: Mapping[str, SuggestedAction],
        by_subject: Mapping[str, list[SuggestedAction]],
        since: datetime,
    ) -> list[SuggestedAction]:
        """The actions (of the indexes' run) no longer open: O(decisions), not O(actions)."""
        found = {i: by_id[i] for i in self.ids if i in by_id}
        for subject, at in self.subjects:
            if at >= since:
                found.update((a.id, a) for a in by_subject.get(subject, ()))
        return list(found.values())


def decision_watermark(connection: Connection) -> tuple[int, datetime | None]:
    """Changes whenever a decision is added (decisions are never updated nor deleted)."""
    count, newest = connection.execute(
        select(func.count(), func.max(_ACTIONS.c.decided_at)).select_from(_ACTIONS)
    ).one()
    return int(count), newest


def decision_mark(
    connection: Connection, actions: list[SuggestedAction], decisions: int
) -> DecisionMark:
    """The decisions on ``actions`` (by id, or by subject at any time).

    There are far fewer decisions (one per verdict) than actions a large store suggests
    (10,000+ replies): when ``decisions`` (the table's row count) is not larger, reading them
    all is one cheap query instead of thousands of bound parameters.
    """
    ids = {a.id for a in actions}
    subjects = {a.subject for a in actions}
    columns = (_ACTIONS.c.action_id, _ACTIONS.c.subject, _ACTIONS.c.decided_at)
    if decisions <= len(actions):
        rows = [
            row
            for row in connection.execute(select(*columns))
            if row.action_id in ids or row.subject in subjects
        ]
    else:
        id_list, subject_list = sorted(ids), sorted(subjects)
        rows = []
        for chunk in range(0, max(len(id_list), len(subject_list)), 500):
            rows += connection.execute(
                select(*columns).where(
                    _ACTIONS.c.action_id.in_(id_list[chunk : chunk + 500])
                    | _ACTIONS.c.subject.in_(subject_list[chunk : chunk + 500])
                )
            ).all()
    return DecisionMark(
        frozenset(row.action_id for row in rows),
        tuple((row.subject, row.decided_at) for row in rows),
    )


def decide(
    engine: Engine,
    action: SuggestedAction,
    verdict: str,
    *,
    actor: str,
    now: datetime,
    shop: str,
    rationale: str | None = None,
) -> Decision:
    """Record the operator's verdict on ``action`` as a decision (with its outbox entry).

    Raises:
        NotFoundError: ``verdict`` is not approve, reject or snooze.
        ActionAlreadyDecided: the action already has a verdict; nothing was written.
        InputFileError: the rationale is too long or a field is empty.
        StoreError: the primary store failed; nothing was written.
    """
    if verdict not in VERDICTS:
        raise NotFoundError(f"unknown verdict {verdict!r}; use approve, reject or snooze")
    decision = new_decision(
        scope=action.scope,
        actor=actor,
        action=f"{verdict}: {action.title}"[:255],
        now=now,
        rationale=(rationale or "").strip() or None,
        evidence_url=f"/facts/{action.fact_id}",
        shop_domain=shop,
        external_ref=action.id[:255],
        payload={
            "verdict": verdict,
            "actionId": action.id,
            "subject": action.subject,
            "kind": action.kind,
            "kpi": action.kpi,
            "entity": action.entity,
            "factId": action.fact_id,
            **action.payload,
        },
    )
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(_ACTIONS).values(
                    action_id=action.id,
                    subject=action.subject,
                    decision_id=decision.id,
                    verdict=verdict,
                    decided_at=now,
                )
            )
            insert_decision(connection, decision)
    except IntegrityError:
        raise ActionAlreadyDecided(
            f"action {action.id} was already decided; nothing was recorded — reload the queue"
        ) from None
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot record the decision in {masked_url(str(engine.url))}: "
            f"{type(exc).__name__}; nothing was written — check the database"
        ) from exc
    return decision
