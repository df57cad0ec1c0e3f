"""Operator exports: one row per conversation and % SLA met per agent or team, as CSV or JSON.

A job like the refresh and the packet: it reads the store, computes with the pure
:mod:`occ.metrics.conversations`, and renders files that the CLI (``occ export``) writes and
the dashboard (``/exports/…``) serves.
"""

from occ.exports.conversations import ConversationExport, conversation_export, export_days
from occ.exports.files import (
    FORMATS,
    check_writable,
    csv_cell,
    render_conversations,
    render_sla,
    write_atomically,
)

__all__ = [
    "FORMATS",
    "ConversationExport",
    "check_writable",
    "conversation_export",
    "csv_cell",
    "export_days",
    "render_conversations",
    "render_sla",
    "write_atomically",
]
