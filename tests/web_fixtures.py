"""A dashboard over the hand-computed scenario store, signed in as a real operator."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from occ.config import Settings
from occ.refresh import run_refresh
from occ.sources.recorded import recorded_payloads
from occ.store.operators import add_operator, issue_api_token
from scenario import scenario_folder
from web_server import running_dashboard

OPERATOR = "ops@example.com"
PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Dashboard:
    url: str
    engine: Engine
    settings: Settings
    token: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)

    @contextmanager
    def signed_in(self) -> Iterator[httpx.Client]:
        """A browser-like client with a session cookie (password sign-in)."""
        with self.client() as client:
            assert sign_in(client).status_code == 303
            yield client

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, timeout=30, headers={"Authorization": f"Bearer {self.token}"}
        )


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(
    client: httpx.Client, email: str = OPERATOR, password: str = PASSWORD
) -> httpx.Response:
    form = client.get("/signin")
    return client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": csrf_of(form.text), "next": "/"},
    )


def refresh_scenario(engine: Engine, folder: Path, now: datetime = NOW, **override: Any) -> None:
    scenario_folder(folder, now, **override)
    run_refresh(engine, Settings(), recorded_payloads(folder), now)


@contextmanager
def dashboard(
    engine: Engine,
    folder: Path,
    *,
    settings: Settings | None = None,
    clock: Callable[[], datetime] | None = None,
    refresh: bool = True,
    **override: Any,
) -> Iterator[Dashboard]:
    if refresh:
        refresh_scenario(engine, folder, **override)
    with engine.begin() as connection:
        add_operator(connection, OPERATOR, PASSWORD, datetime.now(UTC))
        token = issue_api_token(connection, OPERATOR)
    config = settings or Settings()
    with running_dashboard(config, engine, clock) as url:
        yield Dashboard(url, engine, config, token)
