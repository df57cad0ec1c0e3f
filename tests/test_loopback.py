"""The loopback server the connector tests rely on behaves like an HTTP server."""

from __future__ import annotations

import httpx

from fakes.loopback import LoopbackServer, Reply


def test_routes_record_and_unknown_paths_404() -> None:
    server = LoopbackServer()
    server.route("POST", "/echo", lambda request: Reply(201, {"got": request.json()}))
    with server.running() as running:
        with httpx.Client(base_url=running.base_url) as client:
            answer = client.post("/echo", json={"a": 1}, headers={"X-Test": "yes"})
            missing = client.get("/nope")
    assert answer.status_code == 201 and answer.json() == {"got": {"a": 1}}
    assert missing.status_code == 404
    assert [r.path for r in server.requests] == ["/echo", "/nope"]
    assert server.requests[0].headers["x-test"] == "yes"
