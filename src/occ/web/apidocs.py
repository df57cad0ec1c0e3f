"""``/api/docs``: the JSON API's OpenAPI document as one of the dashboard's own pages.

Rendered on the server from ``app.openapi()`` (FastAPI's Swagger UI would load its script
and stylesheet from a CDN and run an inline script, which occ's Content Security Policy
forbids: it showed a blank page). Behind the sign-in like every page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from occ.web.context import context
from occ.web.security import csrf_token
from occ.web.views import require

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_METHODS = ("get", "post", "put", "patch", "delete")


def _type(schema: dict[str, Any]) -> str:
    """A schema in a few words: ``integer``, ``string or null``, ``VerdictIn``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    return str(schema.get("type", "any"))


def _body(document: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields of an operation's JSON body (none when it takes no body)."""
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    name = str(schema.get("$ref", "")).rsplit("/", 1)[-1]
    model = document.get("components", {}).get("schemas", {}).get(name, schema)
    required = set(model.get("required", ()))
    return [
        {"name": field, "type": _type(spec), "required": field in required}
        for field, spec in model.get("properties", {}).items()
    ]


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation of ``document``, in its order: method, path, what it does, its
    parameters and body fields."""
    found = []
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "type": _type(p.get("schema", {})),
                            "required": bool(p.get("required")),
                        }
                        for p in operation.get("parameters", ())
                    ],
                    "body": _body(document, operation),
                }
            )
    return found


@router.get("/api/docs")
def api_docs(request: Request) -> Response:
    who = require(request)
    ctx = context(request)
    document = request.app.openapi()
    return ctx.templates.TemplateResponse(
        request,
        "api_docs.html",
        {
            "principal": who,
            "csrf": csrf_token(request),
            "refresh": ctx.refresher.state,
            "flash": request.session.pop("flash", None),
            "title": document.get("info", {}).get("title", "occ"),
            "version": document.get("info", {}).get("version", ""),
            "operations": operations(document),
        },
    )
