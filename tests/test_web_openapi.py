"""The OpenAPI document tells the errors the API really gives: problem JSON, never a 422.

A real uvicorn server on 127.0.0.1 over the scenario store (SQLite: the document and the
error shape do not depend on the database); every error compared with the document is one
the running app answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from occ.store.engine import open_store
from web_fixtures import Dashboard, dashboard

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def dash(tmp_path: Path) -> Iterator[Dashboard]:
    engine = open_store(f"sqlite:///{tmp_path / 'occ.db'}")
    with dashboard(engine, tmp_path / "rec") as running:
        yield running
    engine.dispose()


def _document(dash: Dashboard) -> dict[str, Any]:
    with dash.client() as anonymous:  # the document is public, like /healthz
        response = anonymous.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def _assert_problem(
    response: httpx.Response, document: dict[str, Any], method: str, path: str
) -> None:
    """``response`` is a problem as the document describes it, from the operation
    ``method path``, which declares its status."""
    declared = document["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in declared, f"{method} {path} answered {status}, declares {sorted(declared)}"
    assert declared[status]["content"] == {PROBLEM: {"schema": PROBLEM_REF}}
    schema = document["components"]["schemas"]["Problem"]
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert set(body) == set(schema["required"]) == set(schema["properties"]), body
    assert body["status"] == response.status_code


def test_the_document_promises_no_422_and_no_validation_schemas(dash: Dashboard) -> None:
    document = _document(dash)
    for method, path, operation in _operations(document):
        assert "422" not in operation["responses"], f"{method} {path}"
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert "Validation Error" not in str(document) and "HTTPValidationError" not in str(document)


def test_every_operation_taking_input_declares_a_400_problem(dash: Dashboard) -> None:
    document = _document(dash)
    taking_input = [
        (method, path, operation)
        for method, path, operation in _operations(document)
        if operation.get("parameters") or operation.get("requestBody")
    ]
    assert len(taking_input) >= 6  # tiles/{kpi}, facts, facts/{id}, verdict, decisions ×2, …
    for method, path, operation in taking_input:
        bad_request = operation["responses"].get("400")
        assert bad_request is not None, f"{method} {path} declares no 400"
        assert bad_request["content"] == {PROBLEM: {"schema": PROBLEM_REF}}, f"{method} {path}"


def test_a_real_400_has_exactly_the_problem_schema_s_fields(dash: Dashboard) -> None:
    document = _document(dash)
    with dash.api() as api:
        out_of_range = api.get("/api/v1/facts", params={"limit": 0})  # FastAPI's validation
        not_a_date = api.get("/api/v1/decisions", params={"from": "yesterday"})  # occ's check
        bad_body = api.post("/api/v1/decisions", json={"scope": "ops"})
    for response, method, path in (
        (out_of_range, "get", "/api/v1/facts"),
        (not_a_date, "get", "/api/v1/decisions"),
        (bad_body, "post", "/api/v1/decisions"),
    ):
        assert response.status_code == 400, response.text
        _assert_problem(response, document, method, path)
    schema = document["components"]["schemas"]["Problem"]
    assert sorted(schema["required"]) == sorted(out_of_range.json())
    assert out_of_range.json()["detail"].startswith("limit: ")


def test_every_error_the_app_gives_is_a_declared_problem(dash: Dashboard) -> None:
    document = _document(dash)
    with dash.client() as anonymous:
        unauthorized = anonymous.get("/api/v1/settings")
    with dash.api() as api:
        unknown_fact = api.get("/api/v1/facts/987654321")
        unknown_tile = api.get("/api/v1/tiles/nope")
        action = api.get("/api/v1/actions").json()["actions"][0]["id"]
        first = api.post(f"/api/v1/actions/{action}/decision", json={"verdict": "approve"})
        conflict = api.post(f"/api/v1/actions/{action}/decision", json={"verdict": "reject"})
    with dash.signed_in() as browser:
        no_csrf = browser.post("/api/v1/refresh")
    assert first.status_code == 201
    verdict = "/api/v1/actions/{action_id}/decision"
    for response, method, path, status in (
        (unauthorized, "get", "/api/v1/settings", 401),
        (unknown_fact, "get", "/api/v1/facts/{fact_id}", 404),
        (unknown_tile, "get", "/api/v1/tiles/{kpi}", 404),
        (conflict, "post", verdict, 409),
        (no_csrf, "post", "/api/v1/refresh", 403),
    ):
        assert response.status_code == status, response.text
        _assert_problem(response, document, method, path)
    declared_401 = document["paths"]["/api/v1/settings"]["get"]["responses"]["401"]
    assert unauthorized.headers["www-authenticate"] == "Bearer"
    assert "WWW-Authenticate" in declared_401["headers"]


def test_the_routes_needing_sign_in_are_those_declaring_401(dash: Dashboard) -> None:
    document = _document(dash)
    operations = list(_operations(document))
    signed_in = {(m, p) for m, p, operation in operations if "401" in operation["responses"]}
    assert {(m, p) for m, p, _ in operations if p.startswith("/api/v1/")} == signed_in
    assert ("get", "/api/v1/tiles") in signed_in and ("post", "/api/v1/decisions") in signed_in
    with dash.client() as anonymous:
        for method, path, operation in operations:
            required = [p for p in operation.get("parameters", ()) if p["in"] == "query"]
            if method != "get" or any(p.get("required") for p in required):
                continue  # a body or a required parameter is checked (400) before sign-in
            url = path.replace("{kpi}", "sales_delta").replace("{fact_id}", "1")
            answer = anonymous.get(url)
            assert answer.status_code == (401 if (method, path) in signed_in else 200), url
