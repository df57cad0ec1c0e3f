"""The knowledge passages shown beside an anomaly on its tile page.

The index version is loaded once and reloaded when ``CURRENT`` names another one (a build
switched it); the embedding model, when the ``dense`` extra is installed, is loaded on first
use. Each anomaly is queried with its own sentence and its KPI's vocabulary; an SLA breach
also gets the best reply templates.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from occ.config import Settings
from occ.knowledge.index import Embedder, IndexVersion, current_version
from occ.knowledge.search import Hit, search
from occ.knowledge.setup import embedder_for

__all__ = ["KPI_TERMS", "KnowledgeShelf"]

KPI_TERMS = {
    "sales_delta": "sales drop revenue below baseline checkout payment discount",
    "sla_breach_rate": "customer waiting for a reply support SLA breach first response",
    "traffic_anomalies": "landing page traffic drop sessions SEO redirect sitemap",
    "inventory_cover": "stock out reorder inventory days of cover supplier lead time",
    "fulfillment_issue_rate": "orders stuck unfulfilled fulfillment delay shipping",
    "unsellable_traffic": "out of stock product page traffic restock redirect back in stock",
}
_ANOMALIES_QUERIED = 5


class KnowledgeShelf:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._root: Path = settings.resolved_knowledge_dir()
        self._lock = threading.Lock()
        self._name: str | None = None
        self._index: IndexVersion | None = None
        self._searching = threading.Lock()
        self._found: dict[int, list[Hit]] = {}
        """Passages by anomaly fact id for the current version: facts never change."""

    def _current(self) -> tuple[IndexVersion | None, dict[int, list[Hit]]]:
        """The current version and its passages cache (a new one with each version)."""
        try:
            name = (self._root / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None, {}
        with self._lock:
            if name != self._name:
                self._index, self._name = current_version(self._root), name
                self._found = {}
            return self._index, self._found

    def for_anomalies(self, anomalies: list[Any]) -> dict[int, list[Hit]]:
        """The top passages for each of the first anomalies (fact rows), by fact id."""
        index, cache = self._current()
        if index is None or not index.passages:
            return {}
        embedder, _ = embedder_for(self._settings)
        found: dict[int, list[Hit]] = {}
        with self._searching:  # one embedding model per process: one search at a time
            for fact in anomalies[:_ANOMALIES_QUERIED]:
                if fact.id not in cache:
                    cache[fact.id] = self._hits(index, fact.value or {}, embedder)
                found[fact.id] = cache[fact.id]
        return found

    @staticmethod
    def _hits(index: IndexVersion, value: dict[str, Any], embedder: Embedder | None) -> list[Hit]:
        kpi = str(value.get("kpi", ""))
        text = f"{value.get('message', '')} {KPI_TERMS.get(kpi, '')}"
        hits = search(index, text, k=3, embedder=embedder)
        if kpi == "sla_breach_rate":
            templates = search(index, text, k=2, source_type="template", embedder=embedder)
            hits = templates + [h for h in hits if h.passage.source_type != "template"][:2]
        return hits
