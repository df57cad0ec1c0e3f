"""The error shape of the JSON API, and an OpenAPI document that tells it.

Every error under ``/api`` is a :class:`Problem` (RFC 9457, ``application/problem+json``):
the handlers in :mod:`occ.web.app` build it, and the document declares it. FastAPI's own
document would promise a 422 ``HTTPValidationError`` for every route with parameters,
which occ never sends (a malformed request is a 400 problem); :func:`install_openapi`
replaces it. A route names the other statuses it gives with :func:`errors`.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field

__all__ = ["PROBLEM_MEDIA_TYPE", "Problem", "errors", "install_openapi"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
_REF = "#/components/schemas/Problem"
_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_WHEN = {
    400: "Bad request: a parameter or body field is malformed or out of range (named in "
    "`detail`), or a value occ cannot use",
    401: "Sign-in required: no valid session cookie or `Authorization: Bearer` token",
    403: "CSRF check failed: signed in by cookie without the session's `X-CSRF-Token`",
    404: "Not found: no such item, or nothing refreshed yet",
    409: "Already decided: the action has a verdict; nothing was recorded",
    503: "Database unavailable: the store does not answer; retry when it is back",
}


class Problem(BaseModel):
    """An error as every route under /api answers it (RFC 9457 problem details)."""

    type: Literal["about:blank"] = Field(description="`status` and `title` say what it is.")
    title: str = Field(description="What kind of error, e.g. `Malformed request`.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="One line saying what went wrong and what to do.")


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _WHEN[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF}}},
    }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}
        }
    return response


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route or router that answers ``statuses`` with a problem."""
    return {status: _problem_response(status) for status in statuses}


def _tell_errors(document: dict[str, Any]) -> None:
    """Replace FastAPI's 422 with occ's 400 problem, and its validation schemas with
    :class:`Problem`, in ``document`` (in place)."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {})
            responses.pop("422", None)
            if "parameters" in operation or "requestBody" in operation:
                responses.setdefault("400", _problem_response(400))
            operation["responses"] = dict(sorted(responses.items()))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    document["components"]["schemas"] = dict(sorted(schemas.items()))


def install_openapi(app: FastAPI) -> None:
    """Serve ``app``'s document with occ's errors in place of FastAPI's 422."""
    build = app.openapi  # FastAPI's: built once, again when the routes change
    told: list[dict[str, Any]] = []  # the document already told, by identity
    lock = threading.Lock()

    def openapi() -> dict[str, Any]:
        document = build()
        with lock:
            if not told or told[0] is not document:
                _tell_errors(document)
                told[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
