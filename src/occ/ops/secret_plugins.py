"""occ's detect-secrets plugins: one per credential kind of ``occ.contracts.secrets``.

detect-secrets loads them from this file (``{"name": …, "path": "file://…"}``); each
yields the secret of every match of its kind's pattern that is not a placeholder. The
placeholder patterns come in as the plugin's ``placeholders`` parameter.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from detect_secrets.plugins.base import BasePlugin

from occ.contracts.secrets import DEFAULT_PLACEHOLDERS, KINDS, CredentialKind, is_placeholder

__all__ = ["PLUGINS"]

_BY_NAME = {kind.name: kind for kind in KINDS}


class _OccDetector(BasePlugin):
    kind: CredentialKind

    def __init__(self, placeholders: Sequence[str] = DEFAULT_PLACEHOLDERS, **_: Any) -> None:
        self.placeholders = tuple(placeholders)

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        for match in self.kind.pattern.finditer(string):
            if not is_placeholder(self.kind.name, match, self.placeholders):
                yield match.group("secret")

    def json(self) -> dict[str, Any]:
        return {"name": type(self).__name__, "placeholders": list(self.placeholders)}


class DatabaseUrlDetector(_OccDetector):
    kind = _BY_NAME["database-url"]
    secret_type = "database-url"


class ShopifyTokenDetector(_OccDetector):
    kind = _BY_NAME["shopify-token"]
    secret_type = "shopify-token"


class SupabaseKeyDetector(_OccDetector):
    kind = _BY_NAME["supabase-key"]
    secret_type = "supabase-key"


class SupabaseJwtDetector(_OccDetector):
    kind = _BY_NAME["supabase-jwt"]
    secret_type = "supabase-jwt"


class GooglePrivateKeyDetector(_OccDetector):
    kind = _BY_NAME["google-private-key"]
    secret_type = "google-private-key"


class OpenAIKeyDetector(_OccDetector):
    kind = _BY_NAME["openai-key"]
    secret_type = "openai-key"


class ChatwootTokenDetector(_OccDetector):
    kind = _BY_NAME["chatwoot-token"]
    secret_type = "chatwoot-token"


class AssignedSecretDetector(_OccDetector):
    kind = _BY_NAME["assigned-secret"]
    secret_type = "assigned-secret"


PLUGINS = (
    DatabaseUrlDetector,
    ShopifyTokenDetector,
    SupabaseKeyDetector,
    SupabaseJwtDetector,
    GooglePrivateKeyDetector,
    OpenAIKeyDetector,
    ChatwootTokenDetector,
    AssignedSecretDetector,
)
