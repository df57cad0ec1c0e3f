"""What every source hands to the refresh job: raw JSON texts per stream, with their location.

Sources do not validate: the refresh job validates every text against its contract, so that
live, recorded and demo data take exactly one path into the store. A stream that is ``None``
was not recorded / not configured (its tiles show "unconfigured"), which is not an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from occ.contracts.evidence import Evidence, EvidenceSink

__all__ = ["STREAMS", "EvidenceBuffer", "RawRecord", "SourceKind", "SourcePayloads"]

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
    # Live sources: where connectors put each raw answer, and the sync cursors to store once
    # the stream they belong to was stored (stream → a function giving the new cursor).
    evidence: EvidenceBuffer | None = None
    cursors: dict[str, Callable[[], str | None]] = field(default_factory=dict)
    # Live Chatwoot: the ids of stored conversations it answered as deleted (404), once the
    # conversations stream was read; the refresh stores them as deleted.
    deleted_conversations: Callable[[], Sequence[int]] | None = None
    notices: list[str] = field(default_factory=list)
    # (source, api version, introspect): the live schema to snapshot with this refresh.
    schema: tuple[str, str, Callable[[], dict[str, Any]]] | None = None


class EvidenceBuffer:
    """An evidence sink whose destination is bound late (inside the refresh transaction).

    Answers received before :meth:`attach` (the shop lookup) are held and flushed on attach.
    """

    def __init__(self) -> None:
        self._pending: list[Evidence] = []
        self._target: EvidenceSink | None = None

    def __call__(self, evidence: Evidence) -> None:
        if self._target is None:
            self._pending.append(evidence)
        else:
            self._target(evidence)

    def attach(self, target: EvidenceSink) -> None:
        self._target = target
        pending, self._pending = self._pending, []
        for evidence in pending:
            target(evidence)

    def detach(self) -> None:
        self._target = None
