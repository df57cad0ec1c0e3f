"""operator sessions kept in the store (sign-out ends a session on the server)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import occ.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Cookies signed before this revision carry no session id: their operators sign in again.
    op.create_table(
        "operator_session",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("created_at", occ.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", occ.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", occ.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    with op.batch_alter_table("operator_session", schema=None) as batch_op:
        batch_op.create_index("ix_operator_session_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("operator_session", schema=None) as batch_op:
        batch_op.drop_index("ix_operator_session_expires_at")

    op.drop_table("operator_session")
