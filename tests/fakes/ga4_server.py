"""A fake GA4 Data API and Google OAuth token endpoint on 127.0.0.1.

``POST /token`` plays Google's OAuth 2.0 token endpoint for service accounts: it verifies the
RS256 JWT grant against the public half of a key generated here (:func:`service_account_file`
writes the matching key file), and answers an access token, or Google's ``invalid_grant``
answer for a revoked key. ``POST /v1beta/properties/{id}:runReport`` answers like the Data API
(REST JSON: ``dimensionHeaders``, ``metricHeaders``, ``rows``, ``rowCount``, ``metadata``,
``propertyQuota``), paginated by the request's ``offset``/``limit``, and refuses a request
without that access token as Google does (401 ``UNAUTHENTICATED``).

Failures are scripted per path with :meth:`Ga4Fake.script`, served before the normal answers.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fakes.loopback import LoopbackServer, Reply, Request

PROPERTY_ID = "412345678"
ACCESS_TOKEN = "ya29.fake-access-Zx81Kq0Wm3"  # the secret no log, error or evidence may contain
CLIENT_EMAIL = "occ-reader@occ-test.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/analytics.readonly"
RUN_REPORT = f"/v1beta/properties/{PROPERTY_ID}:runReport"


def google_error(code: int, status: str, message: str) -> Reply:
    """An error answer in Google's JSON error shape."""
    return Reply(code, {"error": {"code": code, "message": message, "status": status}})


RESOURCE_EXHAUSTED = google_error(
    429, "RESOURCE_EXHAUSTED", "Exhausted property tokens per hour for a project per property."
)
INTERNAL = google_error(500, "INTERNAL", "Internal error encountered.")
PERMISSION_DENIED = google_error(
    403, "PERMISSION_DENIED", "User does not have sufficient permissions for this property."
)


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def landing_rows(today: date, pages: int, days: int = 21) -> list[tuple[str, str, int]]:
    """``pages`` landing pages with sessions on each of the ``days`` days before ``today``."""
    return [
        (f"/products/item-{page}", (today - timedelta(days=back)).strftime("%Y%m%d"), page + back)
        for back in range(1, days + 1)
        for page in range(pages)
    ]


class Ga4Fake:
    """One GA4 property's landing-page sessions, behind one service account's key."""

    def __init__(
        self,
        rows: list[tuple[str, str, int]],
        *,
        property_id: str = PROPERTY_ID,
        today: date = date(2026, 11, 26),
    ) -> None:
        self.rows = rows
        self.today = today  # the property's today, for relative dates like "7daysAgo"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.revoked = False
        self.server = LoopbackServer()
        self.scripted: defaultdict[str, deque[Reply]] = defaultdict(deque)
        self.tokens_issued = 0
        self.server.route("POST", "/token", self._serve(self._token))
        self.run_report_path = f"/v1beta/properties/{property_id}:runReport"
        self.server.route("POST", self.run_report_path, self._serve(self._run_report))

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @contextmanager
    def running(self) -> Iterator[Ga4Fake]:
        with self.server.running():
            yield self

    def script(self, path: str, *replies: Reply) -> None:
        """Serve ``replies`` to the next requests to ``path``, then answer normally again."""
        self.scripted[path].extend(replies)

    def requests_to(self, path: str) -> list[Request]:
        return [request for request in self.server.requests if request.path == path]

    def service_account_file(self, folder: Path) -> Path:
        """A service-account key file whose ``token_uri`` is this server's ``/token``."""
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        info = {
            "type": "service_account",
            "project_id": "occ-test",
            "private_key_id": "0123456789abcdef",
            "private_key": pem,
            "client_email": CLIENT_EMAIL,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": f"{self.base_url}/token",
            "universe_domain": "googleapis.com",
        }
        path = folder / "ga4-service-account.json"
        path.write_text(json.dumps(info))
        return path

    def _serve(self, answer: Any) -> Any:
        def handle(request: Request) -> Reply:
            if self.scripted[request.path]:
                return self.scripted[request.path].popleft()
            reply: Reply = answer(request)
            return reply

        return handle

    def _token(self, request: Request) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        refused = Reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT."})
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return refused
        header, claims, signature = form.get("assertion", "..").split(".")
        try:
            self.key.public_key().verify(
                _b64decode(signature),
                f"{header}.{claims}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError):
            return refused
        grant = json.loads(_b64decode(claims))
        valid = (
            grant.get("iss") == CLIENT_EMAIL
            # google-auth always names Google's token endpoint as the audience
            and grant.get("aud") == "https://oauth2.googleapis.com/token"
            and SCOPE in grant.get("scope", "").split()
        )
        if self.revoked or not valid:
            return Reply(
                400,
                {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
            )
        self.tokens_issued += 1
        return Reply(
            200, {"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}
        )

    def _day(self, value: str) -> str:
        """``YYYY-MM-DD``, ``today``, ``yesterday`` or ``NdaysAgo`` as ``YYYYMMDD``."""
        back = {"today": 0, "yesterday": 1}.get(value)
        if back is None and value.endswith("daysAgo"):
            back = int(value.removesuffix("daysAgo"))
        if back is None:
            return value.replace("-", "")
        return (self.today - timedelta(days=back)).strftime("%Y%m%d")

    def _run_report(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
            )
        body = request.json()
        dimensions = [d["name"] for d in body.get("dimensions", [])]
        metrics = [m["name"] for m in body.get("metrics", [])]
        (span,) = body["dateRanges"]
        start, end = self._day(span["startDate"]), self._day(span["endDate"])
        matching = [row for row in self.rows if start <= row[1] <= end]
        offset, limit = int(body.get("offset", 0)), int(body.get("limit", 10_000))
        answer: dict[str, Any] = {
            "dimensionHeaders": [{"name": name} for name in dimensions],
            "metricHeaders": [{"name": name, "type": "TYPE_INTEGER"} for name in metrics],
            "metadata": {"currencyCode": "USD", "timeZone": "America/New_York"},
            "kind": "analyticsData#runReport",
        }
        page = matching[offset : offset + limit]
        if page:  # proto3 JSON leaves out empty lists and zeros, as Google does
            answer["rows"] = [
                {
                    "dimensionValues": [{"value": landing}, {"value": day}],
                    "metricValues": [{"value": str(sessions)}],
                }
                for landing, day, sessions in page
            ]
        if matching:
            answer["rowCount"] = len(matching)
        if body.get("returnPropertyQuota"):
            answer["propertyQuota"] = {
                "tokensPerDay": {"consumed": 11, "remaining": 199_989},
                "tokensPerHour": {"consumed": 11, "remaining": 39_989},
                "concurrentRequests": {"consumed": 0, "remaining": 10},
                "serverErrorsPerProjectPerHour": {"consumed": 0, "remaining": 10},
                "potentiallyThresholdedRequestsPerHour": {"consumed": 0, "remaining": 120},
                "tokensPerProjectPerHour": {"consumed": 11, "remaining": 13_989},
            }
        return Reply(200, answer)
