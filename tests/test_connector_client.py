"""The live connectors' HTTP client, against a real server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from occ import __version__
from occ.config import Settings
from occ.sources.http import connector_client


class _Handler(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("User-Agent", "")))
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_connector_client_names_occ_and_its_role_and_uses_the_configured_timeout(
    server: str,
) -> None:
    settings = Settings(http_timeout_seconds=7.5)
    with connector_client(settings, "worker") as http:
        assert http.get(f"{server}/a").text == "ok"
        assert http.timeout.read == 7.5
    with connector_client(settings) as http:
        http.get(f"{server}/b")
    assert _Handler.seen == [
        ("/a", f"occ/{__version__} (+operator control center; worker)"),
        ("/b", f"occ/{__version__} (+operator control center)"),
    ]


def test_the_connector_client_reports_a_redirect_instead_of_following_it(server: str) -> None:
    with connector_client(Settings()) as http:
        response = http.get(f"{server}/moved")
    assert response.status_code == 302
    assert [path for path, _ in _Handler.seen] == ["/moved"]  # /elsewhere never asked for
