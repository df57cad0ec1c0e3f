"""conversation inbox, assignee, team and last activity (conversation exports)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import occ.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # All nullable: conversations stored before this revision, and payloads that do not
    # carry these fields, keep them unknown (NULL) until the next refresh re-reads them.
    with op.batch_alter_table("chatwoot_conversation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inbox_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("assignee_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("assignee_name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("team_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("team_name", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("last_activity_at", occ.store.types.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("chatwoot_conversation", schema=None) as batch_op:
        batch_op.drop_column("last_activity_at")
        batch_op.drop_column("team_name")
        batch_op.drop_column("team_id")
        batch_op.drop_column("assignee_name")
        batch_op.drop_column("assignee_id")
        batch_op.drop_column("inbox_id")
