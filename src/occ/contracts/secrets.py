"""What a live credential looks like, what a placeholder looks like, and how to mask both.

One definition for the scanner (``occ secrets scan``, whose detect-secrets plugins use these
patterns) and for masking everything occ prints or writes (errors, logs, error pages, sync
events, exports, insight packets): ``mask`` replaces every value registered as a secret
(``register_secrets``: the settings register theirs when loaded) and every credential
pattern below with its first four characters and ``…``.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import log2
from typing import Any

__all__ = [
    "DEFAULT_PLACEHOLDERS",
    "KINDS",
    "CredentialKind",
    "install_log_masking",
    "is_placeholder",
    "jwt_role",
    "mask",
    "mask_registered",
    "masked_preview",
    "register_secrets",
]


@dataclass(frozen=True, slots=True)
class CredentialKind:
    """A kind of credential: its pattern (group ``secret`` is the secret) and why it is live."""

    name: str
    pattern: re.Pattern[str]
    reason: str


KINDS: tuple[CredentialKind, ...] = (
    CredentialKind(
        "database-url",
        re.compile(
            r"\b(?:postgres(?:ql)?|mysql|mariadb|mssql|oracle|redis|rediss|mongodb(?:\+srv)?|amqps?)"
            r"(?:\+[a-z0-9]+)?://(?P<user>[^:/\s@'\"]+):(?P<secret>[^@\s'\"]+)@(?P<host>[^/\s:'\"?]+)"
        ),
        "a database URL carrying a password that is not a known placeholder",
    ),
    CredentialKind(
        "shopify-token",
        re.compile(r"\b(?P<secret>(?:shpat|shpca|shppa|shpss)_[a-fA-F0-9]{32})\b"),
        "Shopify token format: shpat_/shpca_/shppa_/shpss_ and 32 hex digits",
    ),
    CredentialKind(
        "supabase-key",
        re.compile(r"\b(?P<secret>sb_(?:secret|publishable)_[A-Za-z0-9_-]{16,})"),
        "Supabase API key format (sb_secret_ / sb_publishable_)",
    ),
    CredentialKind(
        "supabase-jwt",
        re.compile(r"\b(?P<secret>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})"),
        "a JWT whose payload role is service_role or anon (a Supabase key)",
    ),
    CredentialKind(
        "google-private-key",
        re.compile(
            r'"private_key"\s*:\s*"(?P<secret>-----BEGIN (?:RSA )?PRIVATE KEY-----[^"]{20,})'
        ),
        "a Google service-account key (a PEM private key in JSON)",
    ),
    CredentialKind(
        "openai-key",
        re.compile(r"\b(?P<secret>sk-(?:proj-)?[A-Za-z0-9_-]{20,})"),
        "OpenAI key format (sk- / sk-proj-)",
    ),
    CredentialKind(
        "chatwoot-token",
        re.compile(
            r"(?i)(?:chatwoot[_-]?(?:api[_-]?)?(?:access[_-]?)?token|api_access_token)\b"
            r"[\"']?\s*[:=]\s*[\"']?(?P<secret>(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{16,})"
        ),
        "a token-like value assigned to a Chatwoot token name",
    ),
    CredentialKind(
        "assigned-secret",
        # A literal (quoted, or a whole .env / YAML value) assigned to a secret-like name;
        # code such as `token = fetch()` or `password: Annotated[...]` is not a literal.
        re.compile(
            r"(?i)(?:^|[\s{,;(])(?:export\s+)?[\"']?(?P<name>[a-z0-9_.-]*(?:_key|_secret|"
            r"_token|password|passwd|secret_key|api_key))[\"']?\s*[:=]\s*(?P<q>[\"']?)"
            r"(?P<secret>[A-Za-z0-9+/=_\-!@#$%^&*~.]{12,})(?P=q)(?=[\s,;})]|$)"
        ),
        "a high-entropy literal assigned to a key/secret/token/password name",
    ),
)

DEFAULT_PLACEHOLDERS: tuple[str, ...] = (
    r"^<.*>$",
    r"^\{[^}]*\}",
    r"^\$\{.*\}$",
    r"^\$\(.*\)$",
    r"^\$[A-Z_][A-Z0-9_]*$",
    r"(?i)x{3,}",
    r"(?i)changeme",
    r"(?i)example",
    r"(?i)^your[-_]",
    r"(?i)^(password|passwd|secret|pass|pw|postgres|root|admin|user|test|dummy|placeholder|"
    r"redacted|none|null|\*+)$",
    r"^\*\*\*",
    r"…$",
)
"""Values that are never findings (``secrets_placeholders`` replaces them)."""

_CODE_REFERENCE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "host.docker.internal"})


def jwt_role(token: str) -> str | None:
    """The ``role`` claim of a JWT's payload, None when it is not a decodable JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    role = payload.get("role") if isinstance(payload, dict) else None
    return role if isinstance(role, str) else None


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value``."""
    if not value:
        return 0.0
    counts = {c: value.count(c) for c in set(value)}
    return -sum(n / len(value) * log2(n / len(value)) for n in counts.values())


def is_placeholder(
    kind: str, match: re.Match[str], placeholders: Sequence[str] = DEFAULT_PLACEHOLDERS
) -> bool:
    """Whether a pattern's match is a canonical placeholder rather than a live credential."""
    secret = match.group("secret")
    if any(re.search(p, secret) for p in placeholders):
        return True
    if kind == "database-url":
        user, host = match.group("user"), match.group("host").lower()
        # Local development defaults: postgres:postgres@127.0.0.1 and the like.
        return host in _LOCAL_HOSTS and secret.lower() in {user.lower(), "postgres", "password"}
    if kind == "supabase-jwt":
        return jwt_role(secret) not in ("service_role", "anon")
    if kind == "assigned-secret":
        if match.group("q") == "" and _CODE_REFERENCE.match(secret):
            return True  # `settings.api_token`: a reference in code, not a value
        return shannon_entropy(secret) < 3.5 or secret.isalpha() and secret.islower()
    return False


def masked_preview(secret: str) -> str:
    """The first four characters and an ellipsis."""
    return secret[:4] + "…"


_registered: tuple[str, ...] = ()
"""The registered secrets, longest first (a secret inside a longer one is masked after it)."""
_lock = threading.Lock()


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember values to mask wherever occ prints or writes (the settings' secrets)."""
    global _registered
    with _lock:
        known = set(_registered) | {v for v in values if v and len(v) >= 4}
        _registered = tuple(sorted(known, key=len, reverse=True))


def mask_registered(data: bytes) -> bytes:
    """``data`` with every registered secret masked (exact values only: cheap on big bodies)."""
    for value in _registered:
        raw = value.encode("utf-8")
        if raw in data:
            data = data.replace(raw, masked_preview(value).encode("utf-8"))
    return data


def mask(text: str) -> str:
    """``text`` with every registered secret and every live-looking credential masked."""
    if not text:
        return text
    for value in _registered:
        if value in text:
            text = text.replace(value, masked_preview(value))
    for kind in KINDS:
        text = kind.pattern.sub(functools.partial(_masked_match, kind.name), text)
    return text


_factory_installed = False


def install_log_masking() -> None:
    """Mask every log record of this process (occ's, uvicorn's, any library's) as it is made."""
    global _factory_installed
    with _lock:
        if _factory_installed:
            return
        _factory_installed = True
    previous = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return record
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return record

    logging.setLogRecordFactory(masked_record)


def _masked_match(kind: str, match: re.Match[str]) -> str:
    if is_placeholder(kind, match):
        return match.group(0)
    start, end = match.span("secret")
    whole = match.group(0)
    offset = match.start()
    secret = match.group("secret")
    return whole[: start - offset] + masked_preview(secret) + whole[end - offset :]
