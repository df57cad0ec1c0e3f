"""``occ serve``, ``occ demo`` serving and ``occ users`` as real processes and real commands;
a database that disappears under a running dashboard."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from conftest import _pg_admin, _pg_url
from occ.cli import app
from occ.store.engine import open_store
from web_fixtures import OPERATOR, PASSWORD, dashboard, sign_in
from web_server import free_port

OCC = [sys.executable, "-m", "occ"]


@contextmanager
def _process(args: list[str], cwd: Path) -> Iterator[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCC_")}
    process = subprocess.Popen(
        [*OCC, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url}")


def _outside_address() -> str | None:
    """An address of this machine that is not loopback (None when it has none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def test_occ_demo_ends_by_serving_the_dashboard_with_a_sign_in_link(tmp_path: Path) -> None:
    port = free_port()
    with _process(["demo", "--now", "2026-11-26T15:00:00Z", "--port", str(port)], tmp_path) as proc:
        _wait_ready(f"http://127.0.0.1:{port}", 120)
        assert proc.stdout is not None
        lines = []
        while not any("/signin/link?token=" in line for line in lines):
            lines.append(proc.stdout.readline())
        link = re.search(r"(http://127\.0\.0\.1:\d+/signin/link\?token=\S+)", "".join(lines))
        assert link, lines
        with httpx.Client(follow_redirects=True, timeout=30) as browser:
            overview = browser.get(link.group(1))
            again = httpx.get(link.group(1), timeout=10)
        outside = _outside_address()
        if outside is not None:  # bound to loopback only
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://{outside}:{port}/healthz", timeout=2)
    assert f"Dashboard: http://127.0.0.1:{port}/" in "".join(lines)
    assert overview.status_code == 200 and "hotrod-parts-demo.myshopify.com" in overview.text
    assert overview.text.count('class="tile ') == 6
    assert again.status_code == 401  # the link is used


def test_occ_serve_refuses_a_port_in_use_in_one_line(tmp_path: Path, runner: CliRunner) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is in use; pass --port" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args", [["serve", "--port", "70000"], ["serve", "--port", "-1"], ["demo", "--port", "70000"]]
)
def test_a_port_out_of_range_is_one_line_not_a_traceback(
    tmp_path: Path, runner: CliRunner, args: list[str]
) -> None:
    result = runner.invoke(app, [*args, "--db", f"sqlite:///{tmp_path / 'occ.db'}"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "between 1 and 65535" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_password_that_is_not_utf8_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'occ.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "occ", "users", "add", OPERATOR, "--password-stdin", "--db", db],
        input=b"\xff\xfe\x80correct-horse-battery\n",  # e.g. a Latin-1 password file
        capture_output=True,
        timeout=120,
    )
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1 and "UTF-8" in stderr


def test_occ_users_add_token_and_link(db_url: str, runner: CliRunner) -> None:
    added = runner.invoke(
        app,
        ["users", "add", "Ops@Example.com", "--password-stdin", "--db", db_url],
        input=f"{PASSWORD}\n",
    )
    again = runner.invoke(
        app, ["users", "add", OPERATOR, "--password-stdin", "--db", db_url], input=f"{PASSWORD}\n"
    )
    short = runner.invoke(
        app, ["users", "add", "b@example.com", "--password-stdin", "--db", db_url], input="short\n"
    )
    bad = runner.invoke(
        app,
        ["users", "add", "not-an-email", "--password-stdin", "--db", db_url],
        input=f"{PASSWORD}\n",
    )
    token = runner.invoke(app, ["users", "token", OPERATOR, "--db", db_url])
    nobody = runner.invoke(app, ["users", "token", "nobody@example.com", "--db", db_url])
    link = runner.invoke(app, ["users", "link", OPERATOR, "--db", db_url])
    assert added.exit_code == 0 and "ops@example.com added" in added.output
    assert PASSWORD not in added.output
    assert again.exit_code == 2 and "already exists" in again.output
    assert short.exit_code == 2 and "shorter than 12 characters" in short.output
    assert bad.exit_code == 2 and "is not an e-mail address" in bad.output
    assert token.exit_code == 0 and token.output.startswith("occ_")
    assert nobody.exit_code == 1 and "occ users add nobody@example.com" in nobody.output
    assert link.exit_code == 0 and "http://127.0.0.1:8000/signin/link?token=" in link.output


@pytest.mark.postgres
def test_a_database_that_disappears_gives_503_and_the_dashboard_recovers(
    tmp_path: Path, pg_template: str
) -> None:
    if pg_template.startswith("!"):
        pytest.skip(pg_template[1:])
    name = f"occ_gone_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    engine: Engine = open_store(_pg_url(name))
    try:
        with dashboard(engine, tmp_path / "rec") as dash, dash.client() as client:
            assert sign_in(client).status_code == 303
            assert client.get("/").status_code == 200
            with _pg_admin() as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )
                admin.execute(f'ALTER DATABASE "{name}" RENAME TO "{name}_away"')
            down_page = client.get("/")
            down_api = client.get("/api/v1/tiles")
            ready = client.get("/readyz")
            health = client.get("/healthz")
            with _pg_admin() as admin:
                admin.execute(f'ALTER DATABASE "{name}_away" RENAME TO "{name}"')
            back = client.get("/")
            ready_again = client.get("/readyz")
        assert down_page.status_code == 503 and "Database unavailable" in down_page.text
        assert "recovers when it is back" in down_page.text
        assert down_api.status_code == 503 and down_api.json()["title"] == "Database unavailable"
        assert ready.status_code == 503 and health.status_code == 200
        assert back.status_code == 200 and ready_again.status_code == 200
    finally:
        engine.dispose()
        with _pg_admin() as admin:
            for db in (name, f"{name}_away"):
                admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@pytest.mark.parametrize(
    "base_url",
    [
        "notaurl",
        "dash.example.com",  # no scheme
        "ftp://dash.example.com",
        "https://",  # no host
        "http:///signin",
        "https://ops:hunter2secret@dash.example.com",  # the password would be printed and shared
        "https://dash.example.com/?next=x",
        "https://dash.example.com/#top",
        "https://dash example.com",
        "https://dash.example.com:99999",
    ],
)
def test_users_link_refuses_a_base_url_that_would_print_a_broken_link(
    tmp_path: Path, runner: CliRunner, base_url: str
) -> None:
    db = f"sqlite:///{tmp_path / 'occ.db'}"
    runner.invoke(app, ["users", "add", OPERATOR, "--password-stdin", "--db", db], input=PASSWORD)
    result = runner.invoke(app, ["users", "link", OPERATOR, "--base-url", base_url, "--db", db])
    assert result.exit_code == 2, result.output
    assert "token=" not in result.output
    assert "hunter2secret" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "--base-url" in result.output and "https://" in result.output


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://ops.example.com", "https://ops.example.com/signin/link?token="),
        ("https://ops.example.com/occ/", "https://ops.example.com/occ/signin/link?token="),
        ("http://[::1]:8123", "http://[::1]:8123/signin/link?token="),
    ],
)
def test_users_link_builds_the_link_on_a_good_base_url(
    tmp_path: Path, runner: CliRunner, base_url: str, expected: str
) -> None:
    db = f"sqlite:///{tmp_path / 'occ.db'}"
    runner.invoke(app, ["users", "add", OPERATOR, "--password-stdin", "--db", db], input=PASSWORD)
    result = runner.invoke(app, ["users", "link", OPERATOR, "--base-url", base_url, "--db", db])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(expected)


def test_users_link_default_address_comes_from_the_web_settings(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'occ.db'}"
    runner.invoke(app, ["users", "add", OPERATOR, "--password-stdin", "--db", db], input=PASSWORD)
    monkeypatch.setenv("OCC_WEB_HOST", "::1")
    monkeypatch.setenv("OCC_WEB_PORT", "8123")
    ipv6 = runner.invoke(app, ["users", "link", OPERATOR, "--db", db])
    monkeypatch.setenv("OCC_WEB_HOST", "not a host")
    broken = runner.invoke(app, ["users", "link", OPERATOR, "--db", db])
    assert ipv6.exit_code == 0 and ipv6.output.startswith("http://[::1]:8123/signin/link?token=")
    assert broken.exit_code == 2 and "token=" not in broken.output
    assert "OCC_WEB_HOST" in broken.output and "--base-url" in broken.output
