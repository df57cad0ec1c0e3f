"""The store's schema comes from the Alembic migrations and matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from occ.store.engine import open_store, schema_revision
from occ.store.tables import Base


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []


def test_dashboard_fact_has_its_indexes_and_columns(engine: Engine) -> None:
    inspector = inspect(engine)
    columns = {column["name"] for column in inspector.get_columns("dashboard_fact")}
    assert columns == {
        "id",
        "shop_domain",
        "fact_type",
        "scope",
        "value",
        "metadata",
        "evidence_url",
        "created_at",
        "updated_at",
    }
    indexes = {tuple(index["column_names"]) for index in inspector.get_indexes("dashboard_fact")}
    assert ("shop_domain", "fact_type") in indexes and ("created_at",) in indexes
    decision_columns = {column["name"] for column in inspector.get_columns("decision_log")}
    assert decision_columns == {
        "id",
        "scope",
        "actor",
        "action",
        "rationale",
        "evidence_url",
        "shop_domain",
        "external_ref",
        "payload",
        "created_at",
    }


def test_opening_twice_is_idempotent(db_url: str) -> None:
    first = open_store(db_url)
    revision = schema_revision(first)
    first.dispose()
    second = open_store(db_url)
    assert schema_revision(second) == revision == "0007"
    second.dispose()
