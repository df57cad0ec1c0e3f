"""The tables of the primary store (SQLAlchemy 2 declarative models).

Source-record tables are keyed by (shop_domain, upstream id) so that re-reading the same
payloads upserts instead of duplicating.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from occ.store.types import DecimalText, UtcDateTime

__all__ = [
    "ActionDecision",
    "AppSecret",
    "Base",
    "ChatwootConversation",
    "ChatwootMessage",
    "DashboardFact",
    "DecisionLog",
    "DriftFinding",
    "GaLandingPageDay",
    "JobLock",
    "OperatorUser",
    "OutboxEntry",
    "QuarantinedRecord",
    "RefreshRun",
    "SchemaSnapshot",
    "Shop",
    "SigninAttempt",
    "SigninLink",
    "ShopifyLineItem",
    "ShopifyOrder",
    "ShopifyVariant",
    "SourceEvidence",
    "SyncEvent",
    "SyncCursor",
]


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UtcDateTime}


class DashboardFact(Base):
    __tablename__ = "dashboard_fact"
    __table_args__ = (
        Index("ix_dashboard_fact_shop_type", "shop_domain", "fact_type"),
        Index("ix_dashboard_fact_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shop_domain: Mapped[str] = mapped_column(String(255))
    fact_type: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String(64))
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    evidence_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DecisionLog(Base):
    __tablename__ = "decision_log"
    __table_args__ = (Index("ix_decision_log_created_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(255))
    rationale: Mapped[str | None] = mapped_column(Text)
    evidence_url: Mapped[str | None] = mapped_column(String(2048))
    shop_domain: Mapped[str | None] = mapped_column(String(255))
    external_ref: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Shop(Base):
    __tablename__ = "shop"

    shop_domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    currency_code: Mapped[str] = mapped_column(String(8))
    iana_timezone: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ShopifyOrder(Base):
    __tablename__ = "shopify_order"
    # Keyed tables are clustered on their key in SQLite (WITHOUT ROWID): one B-tree per row
    # written instead of two, which is most of the initial load's insert cost.
    __table_args__ = (
        Index("ix_shopify_order_created", "shop_domain", "created_at"),
        {"sqlite_with_rowid": False},
    )

    shop_domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    test: Mapped[bool] = mapped_column(Boolean)
    fulfillment_status: Mapped[str] = mapped_column(String(64))
    financial_status: Mapped[str | None] = mapped_column(String(64))
    total: Mapped[Decimal] = mapped_column(DecimalText)
    currency: Mapped[str] = mapped_column(String(8))


class ShopifyLineItem(Base):
    __tablename__ = "shopify_line_item"
    __table_args__ = {"sqlite_with_rowid": False}

    shop_domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    line_item_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    variant_id: Mapped[str | None] = mapped_column(String(128))
    sku: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(512))
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(DecimalText)


class ShopifyVariant(Base):
    __tablename__ = "shopify_variant"

    shop_domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    variant_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    sku: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(512))
    product_title: Mapped[str] = mapped_column(String(512))
    product_handle: Mapped[str | None] = mapped_column(String(255))
    inventory_quantity: Mapped[int] = mapped_column(Integer)
    inventory_policy: Mapped[str] = mapped_column(String(32))
    tracked: Mapped[bool] = mapped_column(Boolean)
    price: Mapped[Decimal | None] = mapped_column(DecimalText)


class ChatwootConversation(Base):
    __tablename__ = "chatwoot_conversation"
    __table_args__ = (Index("ix_chatwoot_conversation_status", "shop_domain", "status"),)

    shop_domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(32))
    labels: Mapped[list[Any]] = mapped_column(JSON)
    customer_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    inbox_id: Mapped[int | None] = mapped_column(BigInteger)
    assignee_id: Mapped[int | None] = mapped_column(BigInteger)
    assignee_name: Mapped[str | None] = mapped_column(String(255))
    team_id: Mapped[int | None] = mapped_column(BigInteger)
    team_name: Mapped[str | None] = mapped_column(String(255))
    last_activity_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ChatwootMessage(Base):
    __tablename__ = "chatwoot_message"
    __table_args__ = (Index("ix_chatwoot_message_conversation", "shop_domain", "conversation_id"),)

    shop_domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    conversation_id: Mapped[int] = mapped_column(BigInteger)
    message_type: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    private: Mapped[bool] = mapped_column(Boolean)
    sender_type: Mapped[str | None] = mapped_column(String(64))
    sender_name: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[str | None] = mapped_column(Text)


class GaLandingPageDay(Base):
    __tablename__ = "ga_landing_page_day"

    shop_domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    landing_page: Mapped[str] = mapped_column(String(1024), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer)


class QuarantinedRecord(Base):
    __tablename__ = "quarantined_record"
    __table_args__ = (Index("ix_quarantined_record_run", "refresh_run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shop_domain: Mapped[str] = mapped_column(String(255))
    refresh_run_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(32))
    stream: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(1024))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DriftFinding(Base):
    __tablename__ = "drift_finding"
    __table_args__ = (
        Index(
            "ux_drift_finding",
            "shop_domain",
            "source",
            "stream",
            "field",
            "kind",
            "observed",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shop_domain: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32))
    stream: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    observed: Mapped[str] = mapped_column(String(255))
    detail: Mapped[str] = mapped_column(Text)
    occurrences: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)


class SyncCursor(Base):
    __tablename__ = "sync_cursor"

    shop_domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RefreshRun(Base):
    __tablename__ = "refresh_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shop_domain: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(255))
    as_of: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(32))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SourceEvidence(Base):
    """Each upstream page as it arrived (gzip), with its request metadata and never a secret."""

    __tablename__ = "source_evidence"
    __table_args__ = (
        Index("ix_source_evidence_shop_fetched", "shop_domain", "fetched_at"),
        Index("ix_source_evidence_run", "refresh_run_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shop_domain: Mapped[str] = mapped_column(String(255))
    refresh_run_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(32))
    endpoint: Mapped[str] = mapped_column(String(1024))
    method: Mapped[str] = mapped_column(String(16))
    api_version: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)
    latency_ms: Mapped[float] = mapped_column(Float)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    cost: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    body_bytes: Mapped[int] = mapped_column(Integer)
    body_gzip: Mapped[bytes] = mapped_column(LargeBinary)


class SchemaSnapshot(Base):
    """An upstream schema as seen at one run (Shopify introspection, gzip JSON)."""

    __tablename__ = "schema_snapshot"
    __table_args__ = (Index("ix_schema_snapshot_source", "source", "api_version", "fetched_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shop_domain: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32))
    api_version: Mapped[str] = mapped_column(String(32))
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sha256: Mapped[str] = mapped_column(String(64))
    schema_gzip: Mapped[bytes] = mapped_column(LargeBinary)


class OutboxEntry(Base):
    """A row to mirror (a decision or a fact), written in the transaction that wrote the row.

    ``status`` is ``pending`` until the mirror committed it (``sent``), or ``dead`` after the
    maximum total of attempts; nothing is ever deleted. ``version`` travels with the upsert so
    that a replayed or out-of-order delivery is a no-op on the mirror.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status", "status", "id"),
        Index("ux_outbox_ref", "kind", "ref_id", "version", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # decision | fact
    ref_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SyncEvent(Base):
    """One attempt to deliver an outbox entry to the mirror, whatever its outcome."""

    __tablename__ = "sync_event"
    __table_args__ = (Index("ix_sync_event_occurred", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    decision_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # SUCCESS | FAILED | TIMEOUT | SKIPPED
    duration_ms: Mapped[float] = mapped_column(Float)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JobLock(Base):
    """A lease on a scheduled job, so that two workers never run the same job at once."""

    __tablename__ = "job_lock"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OperatorUser(Base):
    """An operator who signs in to the dashboard (argon2 password hash; API token as SHA-256)."""

    __tablename__ = "operator_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OperatorSession(Base):
    """A signed-in dashboard session: the cookie carries its random id, the store only the
    id's SHA-256; revoking the row (sign-out) ends the session for every copy of the cookie."""

    __tablename__ = "operator_session"
    __table_args__ = (Index("ix_operator_session_expires_at", "expires_at"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SigninAttempt(Base):
    """Each sign-in attempt, so that failed ones can be rate limited across processes."""

    __tablename__ = "signin_attempt"
    __table_args__ = (
        Index("ix_signin_attempt_email_at", "email", "at"),
        Index("ix_signin_attempt_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(255))
    client: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class SigninLink(Base):
    """A one-time sign-in link (``occ demo``, ``occ users link``); only its SHA-256 is kept."""

    __tablename__ = "signin_link"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ActionDecision(Base):
    """The one decision taken on a suggested action: its key makes a second one impossible."""

    __tablename__ = "action_decision"
    __table_args__ = (Index("ix_action_decision_subject", "subject", "decided_at"),)

    action_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255))  # kpi/kind/entity, stable across runs
    decision_id: Mapped[str] = mapped_column(String(36))
    verdict: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AppSecret(Base):
    """Secrets occ generates for itself (the session-signing key), shared by its processes."""

    __tablename__ = "app_secret"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
