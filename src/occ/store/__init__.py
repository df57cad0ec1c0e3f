"""The store: SQLAlchemy 2 tables, Alembic migrations, upserts and window reads."""
