"""clustered order tables on SQLite (WITHOUT ROWID)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 03:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TABLES = ("shopify_order", "shopify_line_item")


def _recreate(with_rowid: bool) -> None:
    # PostgreSQL has no rowid B-tree to save; only SQLite's tables are rebuilt (data kept).
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
        ):
            pass


def upgrade() -> None:
    _recreate(with_rowid=False)


def downgrade() -> None:
    _recreate(with_rowid=True)
