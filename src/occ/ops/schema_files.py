"""Reading the upstream schema files a user hands in: Shopify introspection, Chatwoot OpenAPI.

Every failure is an :class:`~occ.errors.InputFileError` with one line naming the file and what
to pass instead (the CLI exits 2 on it).
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from graphql import (
    GraphQLError,
    GraphQLSchema,
    IntrospectionQuery,
    build_client_schema,
    build_schema,
)

from occ.errors import InputFileError

__all__ = [
    "introspection_of",
    "load_introspection",
    "load_openapi",
    "load_schema",
    "relax_interface_deprecations",
    "schema_from_introspection",
    "version_label",
]

SHOPIFY_HINT = (
    "pass a Shopify Admin GraphQL introspection result (.json or .json.gz, e.g. "
    "../shared/contracts/shopify/admin_2026-10.json.gz) or an SDL file (.graphql)"
)
CHATWOOT_HINT = "pass Chatwoot's OpenAPI document (e.g. ../shared/contracts/chatwoot/openapi.json)"
_SDL_SUFFIXES = (".graphql", ".graphqls", ".gql", ".sdl")


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _read_json(path: Path, hint: str) -> Any:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file; {hint}") from None
    except OSError as exc:
        raise InputFileError(f"cannot read {path} ({exc.strerror or exc}); {hint}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            raise InputFileError(f"{path} is not a readable gzip file; {hint}") from None
    try:
        return json.loads(raw)
    except ValueError:
        raise InputFileError(f"{path} is not JSON; {hint}") from None


def introspection_of(document: Any, name: str = "introspection") -> dict[str, Any]:
    """``{"__schema": …}`` out of an introspection result, with or without its ``data``."""
    if isinstance(document, Mapping) and isinstance(document.get("data"), Mapping):
        document = document["data"]
    if not (isinstance(document, Mapping) and isinstance(document.get("__schema"), Mapping)):
        raise InputFileError(
            f"{name} is not a GraphQL introspection result (no __schema); {SHOPIFY_HINT}"
        )
    return {"__schema": document["__schema"]}


def load_introspection(path: Path) -> dict[str, Any]:
    """The ``{"__schema": …}`` of an introspection file, gzip or not."""
    return introspection_of(_read_json(path, SHOPIFY_HINT), str(path))


def relax_interface_deprecations(introspection: Mapping[str, Any]) -> dict[str, Any]:
    """Un-deprecate the fields deprecated on an implementation but not on its interface.

    graphql-core enforces that newer spec rule, and Shopify's published schemas break it (six
    ``id`` fields such as ``ChannelDefinition.id``). None of them is a field occ reads, so the
    flag plays no part in occ's checks. The input is not modified (copy on write).
    """
    types: list[dict[str, Any]] = introspection["__schema"]["types"]
    by_name = {type_["name"]: type_ for type_ in types}
    relaxed: list[dict[str, Any]] = []
    for type_ in types:
        live: set[str] = set()
        for interface in type_.get("interfaces") or ():
            fields = by_name.get(interface["name"], {}).get("fields") or ()
            live |= {field["name"] for field in fields if not field.get("isDeprecated")}
        fields = type_.get("fields") or []
        if any(field.get("isDeprecated") and field["name"] in live for field in fields):
            type_ = {
                **type_,
                "fields": [
                    {**field, "isDeprecated": False, "deprecationReason": None}
                    if field.get("isDeprecated") and field["name"] in live
                    else field
                    for field in fields
                ],
            }
        relaxed.append(type_)
    return {**introspection, "__schema": {**introspection["__schema"], "types": relaxed}}


def schema_from_introspection(document: Any, name: str = "introspection") -> GraphQLSchema:
    """A client schema from an introspection result (``{"data": …}`` or ``{"__schema": …}``)."""
    introspection = introspection_of(document, name)
    try:
        relaxed = relax_interface_deprecations(introspection)
        return build_client_schema(cast(IntrospectionQuery, relaxed))
    except (TypeError, ValueError, KeyError, AttributeError, GraphQLError) as exc:
        raise InputFileError(
            f"{name} is not a usable GraphQL introspection result ({_one_line(exc)[:160]}); "
            f"{SHOPIFY_HINT}"
        ) from None


def load_schema(path: Path) -> GraphQLSchema:
    """A Shopify schema from an introspection file (.json, .json.gz) or an SDL file."""
    if path.suffix.lower() in _SDL_SUFFIXES:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = "no such file" if isinstance(exc, FileNotFoundError) else "unreadable"
            raise InputFileError(f"{path}: {reason}; {SHOPIFY_HINT}") from None
        try:
            return build_schema(text)
        except (GraphQLError, TypeError) as exc:
            raise InputFileError(
                f"{path} is not GraphQL SDL ({_one_line(exc)[:160]}); {SHOPIFY_HINT}"
            ) from None
    return schema_from_introspection(_read_json(path, SHOPIFY_HINT), str(path))


def load_openapi(path: Path) -> dict[str, Any]:
    """An OpenAPI 3 document with ``paths`` and ``components.schemas``."""
    document = _read_json(path, CHATWOOT_HINT)
    if not (
        isinstance(document, dict)
        and isinstance(document.get("paths"), dict)
        and isinstance(document.get("components", {}).get("schemas"), dict)
    ):
        raise InputFileError(
            f"{path} is not an OpenAPI document (no paths / components.schemas); {CHATWOOT_HINT}"
        )
    return document


def version_label(path: Path) -> str:
    """``2026-10`` for ``admin_2026-10.json.gz``; else the file's name."""
    found = re.search(r"\d{4}-\d{2}", path.name)
    return found.group(0) if found else path.name
