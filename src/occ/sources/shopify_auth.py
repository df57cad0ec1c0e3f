"""Access tokens for the Shopify Admin API, and evidence that never holds one.

Two ways to authenticate, both ending in the ``X-Shopify-Access-Token`` header:

- :class:`StaticToken`: an Admin API access token (``OCC_SHOPIFY_ACCESS_TOKEN``), as custom
  apps created in the Shopify admin before 2026 have.
- :class:`ClientCredentialsToken`: an app created in the Dev Dashboard exchanges its client id
  and secret (``OCC_SHOPIFY_CLIENT_ID``/``OCC_SHOPIFY_CLIENT_SECRET``) for a short-lived token
  by the OAuth client-credentials grant: ``POST https://{shop}/admin/oauth/access_token`` with
  the form fields ``grant_type=client_credentials``, ``client_id``, ``client_secret``, which
  answers ``{"access_token", "scope", "expires_in"}`` (about 24 hours). The token is cached
  and fetched again :data:`REFRESH_MARGIN` seconds (at most a tenth of its lifetime) before it
  expires, or once after Shopify rejected it.

:class:`EvidenceBuffer` holds the evidence of one exchange so that the connector can add the
query cost (or, for the token exchange, blank the token) before the evidence is recorded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import httpx
from pydantic import SecretStr

from occ.contracts.evidence import Evidence, EvidenceSink
from occ.errors import CredentialsRejected, RateLimited, SourceError, UpstreamUnavailable
from occ.sources.http import RetryPolicy, send

__all__ = [
    "REFRESH_MARGIN",
    "ClientCredentialsToken",
    "EvidenceBuffer",
    "StaticToken",
    "TokenProvider",
]

SOURCE = "shopify"
REFRESH_MARGIN = 300.0  # seconds before expiry at which a client-credentials token is renewed
_DEFAULT_LIFETIME = 3_600.0  # assumed when the token endpoint does not say (it says 86,399)
_REDACTED = "[redacted]"


class TokenProvider(Protocol):
    """Gives the access token to send, and says which settings to check when it is refused."""

    @property
    def hint(self) -> str:
        """The settings a user checks when the credentials are rejected."""
        ...

    def token(self) -> str:
        """The token for the next request (fetched or renewed when needed)."""
        ...

    def invalidate(self) -> bool:
        """Forget the token Shopify rejected; True when a fresh one can be fetched."""
        ...

    def redact(self, text: str) -> str:
        """``text`` with every secret this provider knows replaced by ``[redacted]``."""
        ...


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


class StaticToken:
    """A fixed Admin API access token; it cannot be renewed."""

    hint = "OCC_SHOPIFY_ACCESS_TOKEN"

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def token(self) -> str:
        return self._token.get_secret_value()

    def invalidate(self) -> bool:
        return False

    def redact(self, text: str) -> str:
        return _redact(text, [self._token.get_secret_value()])


class EvidenceBuffer:
    """Collects the evidence of one exchange (retries included) until :meth:`flush`."""

    def __init__(self, sink: EvidenceSink) -> None:
        self._sink = sink
        self.items: list[Evidence] = []

    def __call__(self, evidence: Evidence) -> None:
        self.items.append(evidence)

    @property
    def last_status(self) -> int | None:
        return self.items[-1].status if self.items else None

    def flush(
        self,
        cost: Any = None,
        body: Callable[[bytes], bytes] | None = None,
    ) -> None:
        """Record the held evidence; ``cost`` goes on the final answer, ``body`` rewrites each."""
        items, self.items = self.items, []
        for index, evidence in enumerate(items):
            if body is not None:
                evidence = replace(evidence, body=body(evidence.body))
            if cost is not None and index == len(items) - 1:
                evidence = replace(evidence, cost=cost)
            self._sink(evidence)


class ClientCredentialsToken:
    """A token obtained by the client-credentials grant, cached until shortly before expiry.

    Args:
        http: The client that sends the exchange.
        token_url: ``{base}/admin/oauth/access_token``.
        client_id: The app's client id.
        client_secret: The app's client secret; sent only in the exchange's form body.
        evidence: Receives the exchange's answers with the token blanked.
        policy: Retries and the per-request timeout.
        sleep: How to wait between retries.
        clock: A monotonic clock, for the expiry.
    """

    hint = "OCC_SHOPIFY_CLIENT_ID and OCC_SHOPIFY_CLIENT_SECRET"

    def __init__(
        self,
        http: httpx.Client,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        *,
        evidence: EvidenceSink,
        policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._token_url = token_url
        self._client_id = client_id
        self._secret = client_secret
        self._evidence = evidence
        self._policy = policy
        self._sleep = sleep
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._old: list[str] = []  # earlier tokens, still redacted from any text

    def token(self) -> str:
        if self._token is None or self._clock() >= self._renew_at:
            self._fetch()
        assert self._token is not None
        return self._token

    def invalidate(self) -> bool:
        if self._token is not None:
            self._old.append(self._token)
        self._token = None
        return True

    def redact(self, text: str) -> str:
        return _redact(text, [self._secret.get_secret_value(), self._token or "", *self._old])

    def _redact_body(self, body: bytes) -> bytes:
        try:
            answer = json.loads(body)
        except ValueError:
            return self.redact(body.decode("utf-8", "replace")).encode()
        if isinstance(answer, dict) and "access_token" in answer:
            answer["access_token"] = _REDACTED
        return self.redact(json.dumps(answer)).encode()

    def _fetch(self) -> None:
        request = self._http.build_request(
            "POST",
            self._token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._secret.get_secret_value(),
            },
            headers={"Accept": "application/json"},
            timeout=self._policy.timeout,
        )
        buffer = EvidenceBuffer(self._evidence)
        try:
            response = send(
                self._http,
                request,
                source=SOURCE,
                credential_hint=self.hint,
                evidence=buffer,
                policy=self._policy,
                sleep=self._sleep,
                params={"grant_type": "client_credentials"},
            )
        except (RateLimited, UpstreamUnavailable):
            raise
        except SourceError:
            status = buffer.last_status
            if status not in (400, 401, 403):  # not a refusal: a wrong shop, a redirect
                raise SourceError(
                    f"{SOURCE} token endpoint at {request.url.host} answered HTTP {status}; "
                    "check OCC_SHOPIFY_SHOP (or OCC_SHOPIFY_BASE_URL) points at the shop"
                ) from None
            raise CredentialsRejected(  # 400 invalid_client, 401, 403
                f"{SOURCE} refused the app credentials (HTTP {status}) at "
                f"{request.url.host}; check {self.hint}, and that the app is installed on the "
                "shop"
            ) from None
        finally:
            buffer.flush(body=self._redact_body)
        self._accept(response, request.url.host)

    def _accept(self, response: httpx.Response, host: str | None) -> None:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise SourceError(
                f"{SOURCE} token endpoint at {host} answered without an access_token; check "
                "OCC_SHOPIFY_SHOP (or OCC_SHOPIFY_BASE_URL) points at the shop"
            )
        lifetime = answer.get("expires_in") if isinstance(answer, dict) else None
        seconds = float(lifetime) if isinstance(lifetime, int | float) else _DEFAULT_LIFETIME
        if self._token is not None:
            self._old.append(self._token)
        self._token = token
        self._renew_at = self._clock() + seconds - min(REFRESH_MARGIN, seconds / 10)
