"""The dashboard's address as the CLI prints it, and the sign-in links built on it.

One place checks a base URL, whether the operator passed ``--base-url`` or it comes from the
``web_host``/``web_port`` settings: a link that cannot be opened is worse than an error, and a
``user:password@`` in it would be handed to whoever receives the link.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from occ.errors import ConfigError

__all__ = ["check_base_url", "dashboard_address", "signin_link"]

_EXAMPLE = "https://occ.example.com"
_HOST_NAME = re.compile(r"^[\w-]+(\.[\w-]+)*\.?$")


def dashboard_address(host: str, port: int) -> str:
    """``http://HOST:PORT`` of a dashboard bound there (an IPv6 host in brackets)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def signin_link(base_url: str, token: str, *, origin: str = "--base-url") -> str:
    """The one-time sign-in link of ``token`` under the dashboard at ``base_url``.

    Args:
        base_url: absolute http(s) URL of the dashboard, optionally with a path prefix.
        token: the link token (``issue_signin_link``).
        origin: where ``base_url`` came from, named in the error.

    Raises:
        ConfigError: ``base_url`` is not an absolute http(s) URL with a host, or carries
            ``user:password@``, a query or a fragment.
    """
    return f"{check_base_url(base_url, origin=origin).rstrip('/')}/signin/link?token={token}"


def check_base_url(base_url: str, *, origin: str = "--base-url") -> str:
    """``base_url`` unchanged when a link built on it can be opened (see ``signin_link``).

    The value itself is never echoed: a malformed one may still hold a password.
    """
    problem = _problem(base_url)
    if problem is None:
        return base_url
    if origin == "--base-url":
        subject, fix = origin, f"pass e.g. --base-url {_EXAMPLE}"
    else:
        subject = f"the dashboard address from {origin}"
        fix = f"set OCC_WEB_HOST/OCC_WEB_PORT to where it listens or pass --base-url {_EXAMPLE}"
    raise ConfigError(
        f"{subject} {problem}; {fix} "
        "(an absolute http(s) URL with a host, no user:password, query or fragment)"
    )


def _valid_host(host: str) -> bool:
    """A host name, an IPv4 address or an IPv6 literal (urlsplit drops its brackets)."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return bool(_HOST_NAME.match(host))


def _problem(base_url: str) -> str | None:
    """What is wrong with ``base_url`` as a dashboard address, or None."""
    if any(character.isspace() for character in base_url):
        return "contains spaces"
    parts = urlsplit(base_url)
    if parts.scheme.lower() not in ("http", "https"):
        return "is not an http:// or https:// URL"
    if parts.username is not None or parts.password is not None:
        return "carries user:password@, which would be printed in the link"
    if not _valid_host(parts.hostname or ""):
        return "has no valid host"
    try:
        port = parts.port  # raises on a port out of range or not a number
    except ValueError:
        port = 0
    if port == 0:
        return "has a port that is not between 1 and 65535"
    if parts.query or parts.fragment or base_url.rstrip().endswith(("?", "#")):
        return "has a query or fragment, after which the link's path would be lost"
    return None
