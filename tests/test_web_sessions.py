"""Dashboard sessions live in the store: sign-out ends a session on the server.

A real uvicorn server on 127.0.0.1 serves ``create_app`` over SQLite and PostgreSQL; a copy
of a session cookie is replayed from a second httpx client, as a thief holding it would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from alembic import command
from alembic.config import Config
from itsdangerous import TimestampSigner
from sqlalchemy import Engine, select

import occ.store
from conftest import _pg_admin, _pg_url
from occ.config import Settings
from occ.store.engine import open_store, schema_revision
from occ.store.operators import add_operator, app_secret
from occ.store.tables import OperatorSession
from web_fixtures import OPERATOR, PASSWORD, Dashboard, csrf_of, dashboard, sign_in
from web_server import running_dashboard

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class ShiftedClock:
    """The real time plus a shift the test moves forward (the cookie's own age stays real)."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
def dash(engine: Engine, tmp_path: Path, clock: ShiftedClock) -> Iterator[Dashboard]:
    with dashboard(
        engine, tmp_path / "rec", settings=Settings(web_session_hours=1), clock=clock
    ) as running:
        yield running


def _copy(dash: Dashboard, client: httpx.Client) -> httpx.Client:
    """A second client holding a copy of ``client``'s session cookie."""
    return httpx.Client(
        base_url=dash.url, timeout=30, cookies={"occ_session": client.cookies["occ_session"]}
    )


def _refused(client: httpx.Client) -> bool:
    page = client.get("/approvals")
    api = client.get("/api/v1/tiles")
    return (
        page.status_code == 303
        and page.headers["location"] == "/signin?next=/approvals"
        and api.status_code == 401
        and api.json()["title"] == "Sign-in required"
    )


def _served(client: httpx.Client) -> bool:
    return client.get("/approvals").status_code == 200 and (
        client.get("/api/v1/tiles").status_code == 200
    )


def _sign_out(client: httpx.Client) -> httpx.Response:
    return client.post("/signout", data={"csrf_token": csrf_of(client.get("/").text)})


def _rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(OperatorSession.__table__)).all())


def test_a_cookie_copied_before_sign_out_is_refused_after_it(dash: Dashboard) -> None:
    with dash.signed_in() as client, _copy(dash, client) as thief:
        assert _served(thief)
        signed_out = _sign_out(client)
        assert signed_out.status_code == 303 and signed_out.headers["location"] == "/signin"
        assert _refused(thief) and _refused(client)
        # Nor can the copy change anything (its CSRF token is still in the cookie).
        token = csrf_of(thief.get("/signin").text)
        post = thief.post("/api/v1/refresh", headers={"X-CSRF-Token": token})
        assert post.status_code == 401
    (row,) = _rows(dash.engine)
    assert row.revoked_at is not None
    with dash.api() as bearer:  # bearer tokens are not sessions
        assert bearer.get("/api/v1/tiles").status_code == 200


def test_the_store_keeps_only_the_session_ids_hash(dash: Dashboard) -> None:
    with dash.signed_in() as client:
        payload = client.cookies["occ_session"].split(".")[0]
        session = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(session) == {"sid", "csrf"}  # no operator id in the cookie
    (row,) = _rows(dash.engine)
    assert row.id_hash == hashlib.sha256(session["sid"].encode()).hexdigest()
    assert session["sid"] not in json.dumps([str(value) for value in row])
    assert row.expires_at - row.created_at == timedelta(hours=1)  # web_session_hours


def test_an_expired_session_is_refused(dash: Dashboard, clock: ShiftedClock) -> None:
    with dash.signed_in() as client:
        clock.shift = timedelta(minutes=59)
        assert _served(client)
        clock.shift = timedelta(minutes=61)  # the cookie itself is still young
        assert _refused(client)
        assert sign_in(client).status_code == 303 and _served(client)


def test_signing_out_of_one_session_leaves_the_others(dash: Dashboard) -> None:
    with dash.signed_in() as laptop, dash.signed_in() as phone:
        assert _served(laptop) and _served(phone)
        assert _sign_out(laptop).status_code == 303
        assert _refused(laptop) and _served(phone)
    assert sorted(row.revoked_at is None for row in _rows(dash.engine)) == [False, True]


def test_signing_in_again_revokes_the_session_the_cookie_held(dash: Dashboard) -> None:
    with dash.signed_in() as client, _copy(dash, client) as old:
        assert sign_in(client).status_code == 303
        assert _served(client) and _refused(old)


def test_a_sign_in_deletes_sessions_expired_over_a_day_ago(
    dash: Dashboard, clock: ShiftedClock
) -> None:
    with dash.client() as first:
        assert sign_in(first).status_code == 303  # expires at +1 h
    clock.shift = timedelta(hours=2)
    with dash.signed_in() as second:  # expires at +3 h; the first expired 1 h ago: kept
        assert len(_rows(dash.engine)) == 2
        assert _sign_out(second).status_code == 303  # revoked rows go the same way
    clock.shift = timedelta(hours=26)
    with dash.signed_in() as third:
        assert _served(third)
    # The first expired 25 h ago: deleted; the second (revoked) 23 h ago: kept until tomorrow.
    assert sorted(row.revoked_at is None for row in _rows(dash.engine)) == [False, True]


# Upgrading a store that predates server-side sessions --------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, not migrated: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    try:
        admin = _pg_admin()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL did not answer ({exc}); start it to run these tests")
    name = f"occ_t_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate_to(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(occ.store.__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_a_store_at_0006_upgrades_and_its_operators_sign_in(empty_url: str) -> None:
    old = open_store(empty_url, run_migrations=False)
    _migrate_to(old, "0006")
    with old.begin() as connection:
        operator = add_operator(connection, OPERATOR, PASSWORD, datetime.now(UTC))
    secret = app_secret(old, "session-signing-key", datetime.now(UTC))
    old.dispose()
    engine = open_store(empty_url)
    try:
        assert schema_revision(engine) == "0007" and _rows(engine) == []
        # A cookie signed before the upgrade names the operator but no session: refused.
        before = {"uid": operator.id, "csrf": "x"}
        legacy = TimestampSigner(secret).sign(base64.b64encode(json.dumps(before).encode()))
        with running_dashboard(Settings(), engine) as url:
            with httpx.Client(base_url=url, cookies={"occ_session": legacy.decode()}) as stale:
                assert _refused(stale)
            with httpx.Client(base_url=url, timeout=30) as client:
                assert sign_in(client).status_code == 303
                assert client.get("/").status_code == 200
                assert _sign_out(client).status_code == 303 and _refused(client)
    finally:
        engine.dispose()
