"""What every source hands to the refresh job: raw JSON texts per stream, with their location.

Sources do not validate: the refresh job validates every text against its contract, so that
live, recorded and demo data take exactly one path into the store. A stream that is ``None``
was not recorded / not configured (its tiles show "unconfigured"), which is not an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["STREAMS", "RawRecord", "SourcePayloads", "SourceKind"]

SourceKind = Literal["live", "recorded", "demo"]

# stream name → the upstream it belongs to
STREAMS: dict[str, str] = {
    "shopify.orders": "shopify",
    "shopify.variants": "shopify",
    "chatwoot.conversations": "chatwoot",
    "chatwoot.messages": "chatwoot",
    "ga4.landing_pages": "ga4",
}


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One upstream object as JSON text, and where it came from (``file:line``).

    ``error`` is set when the bytes could not even be read as text (bad encoding); such a
    record goes straight to quarantine.
    """

    location: str
    text: str
    error: str | None = None


@dataclass
class SourcePayloads:
    """Everything one source delivers for one refresh.

    ``shop`` is the JSON text of the shop object (``{"shopDomain", "currencyCode",
    "ianaTimezone"}``) or None. ``streams`` maps each name of :data:`STREAMS` to an iterable
    of raw records, or to None when that stream was not recorded or is not configured. The
    ``ga4.landing_pages`` stream holds whole runReport responses (one record per response).
    """

    kind: SourceKind
    name: str
    shop: RawRecord | None
    streams: dict[str, Iterable[RawRecord] | None] = field(default_factory=dict)
