"""The weekly insight packet: what moved, what broke and what to watch, as HTML, Markdown and
JSON (``occ insights weekly``).

Layer: jobs. Reads the store, the metrics and the anomalies; the sync-log summary and the
parity result it reports are computed by the caller (``occ.worker.packet``) and passed in.
"""

from occ.insights.files import PACKET_FACT_TYPE, PacketFiles, write_packet
from occ.insights.packet import build_packet
from occ.insights.window import WeekWindow, default_week_ending

__all__ = [
    "PACKET_FACT_TYPE",
    "PacketFiles",
    "WeekWindow",
    "build_packet",
    "default_week_ending",
    "write_packet",
]
