"""Shared fixtures: a fresh store on SQLite and on the real PostgreSQL, and the CLI.

PostgreSQL: one migrated template database per test session (schema from the Alembic
migrations, never ``create_all``), cloned into a fresh database for each test that asks for
it. The server is the one on 127.0.0.1:5432 (override with OCC_TEST_PG_URL); tests that need
it are skipped, with the reason, only when no server answers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from occ.store.engine import open_store

PG_SERVER = os.environ.get("OCC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def _pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=3)


def _pg_url(database: str) -> str:
    base = PG_SERVER.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{database}"


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database ("" with the reason when no server answers)."""
    try:
        admin = _pg_admin()
    except psycopg.OperationalError as exc:
        yield f"!PostgreSQL at {PG_SERVER} did not answer ({exc}); start it to run these tests"
        return
    name = f"occ_tpl_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    engine = open_store(_pg_url(name))
    engine.dispose()
    yield name
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty store: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'occ.db'}"
        open_store(url).dispose()
        yield url
        return
    template = request.getfixturevalue("pg_template")
    if template.startswith("!"):
        pytest.skip(template[1:])
    name = f"occ_t_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _pg_url(name)
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    store = open_store(db_url)
    yield store
    store.dispose()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's ./occ.toml, ./.occ or OCC_* environment."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("OCC_") and name != "OCC_TEST_PG_URL":
            monkeypatch.delenv(name)
