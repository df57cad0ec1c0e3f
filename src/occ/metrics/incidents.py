"""Cross-source incidents: the anomalies of one refresh that share a cause, with evidence.

Three links between sources are looked for, each by shared entities and by time:

- **support from stuck orders** — an SLA-breach anomaly whose breached conversations mention
  (in a customer's message) orders of the shop that are stuck in fulfillment: countable, not
  fulfilled, older than the processing window. The orders' own fulfillment-rate anomaly joins
  the incident when those orders are among its issues.
- **traffic on a stockout** — a landing page losing traffic whose path names a product
  (``/products/HANDLE``) that cannot be sold: its tracked, deny-when-out variants are at zero
  stock or at most the critical days of cover. The variants' inventory anomalies join it.
- **sales on a stockout** — a sales drop in the day on which a top SKU of the baseline ran out
  (zero stock now, last sold within the last 48 h).

Incidents that share an entity (a variant, a product) are merged. Each cause's ``share`` is
the part of the anomaly the linked evidence explains, computed from the store's own data:
breached conversations that ask about a stuck order over all breached conversations; sessions
lost on the days after the stockout over all sessions lost in the week (times the share of
the product's variants that are out); the baseline revenue of the SKU that ran out over the
revenue gap. What no link explains is the residual cause, so the shares of an anomaly add up
to 1. Pure computation (no I/O, no clock): ``occ.refresh.incidents`` reads the inputs.
"""

from __future__ import annotations

import hashlib

from occ.contracts.incidents import (
    Incident,
)
from occ.contracts.kpis import (
    SEVERITY_ORDER,
)
from occ.metrics.incident_draft import RESIDUAL, Draft, IncidentInputs
from occ.metrics.incident_stockouts import sales_incidents, traffic_incidents
from occ.metrics.incident_support import support_incidents

__all__ = ["IncidentInputs", "find_incidents"]


def _merge(drafts: list[Draft]) -> list[Draft]:
    """Drafts sharing an entity become one (a stockout behind a traffic and a sales drop)."""
    merged: list[Draft] = []
    for draft in drafts:
        into = next((m for m in merged if m.entities & draft.entities), None)
        if into is None:
            merged.append(draft)
            continue
        into.kinds += [k for k in draft.kinds if k not in into.kinds]
        into.anchors += draft.anchors
        into.anomalies.update(draft.anomalies)
        into.links += [link for link in draft.links if link not in into.links]
        best = {c.cause: c for c in into.causes}
        for cause in draft.causes:
            if cause.cause not in best or cause.share > best[cause.cause].share:
                best[cause.cause] = cause
        into.causes = list(best.values())
        into.entities |= draft.entities
        starts = [s for s in (into.started_at, draft.started_at) if s is not None]
        into.started_at = min(starts) if starts else None
    return merged


def _incident(draft: Draft) -> Incident:
    anomalies = sorted(
        draft.anomalies.values(), key=lambda a: (-SEVERITY_ORDER[a.severity], a.fact_id)
    )
    digest = hashlib.sha256("|".join(sorted(draft.anchors)).encode()).hexdigest()[:10]
    return Incident(
        id=f"inc-{digest}",
        kinds=draft.kinds,
        title=draft.title,
        severity="critical" if any(a.severity == "critical" for a in anomalies) else "warning",
        started_at=draft.started_at,
        anomalies=anomalies,
        links=draft.links,
        # A residual cause that explains nothing is left out; a linked one always shows.
        causes=sorted(
            (c for c in draft.causes if c.share > 0 or c.cause not in RESIDUAL),
            key=lambda c: (-c.share, c.cause),
        ),
        entities=sorted(draft.entities),
    )


def find_incidents(inputs: IncidentInputs) -> list[Incident]:
    """The incidents among ``inputs.anomalies``: critical first, then the most anomalies."""
    drafts = _merge(
        [*sales_incidents(inputs), *traffic_incidents(inputs), *support_incidents(inputs)]
    )
    incidents = [_incident(d) for d in drafts]
    return sorted(
        incidents,
        key=lambda i: (-SEVERITY_ORDER[i.severity], -len(i.anomalies), i.id),
    )
