"""Alembic environment: runs on the connection that ``occ.store.engine.migrate`` hands in."""

from __future__ import annotations

from alembic import context

from occ.store.tables import Base

target_metadata = Base.metadata
connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
