"""The decision log: the operator's audit trail, and its loss-free mirror."""

from occ.decisions.connect import mask_secrets, open_mirror
from occ.decisions.events import EVENT_FIELDS, SyncStatus, export_events, sync_status
from occ.decisions.failures import Failure, classify
from occ.decisions.log import Decision, add_decision, list_decisions
from occ.decisions.mirror import (
    MIRROR_DECISIONS,
    MIRROR_FACTS,
    MirrorSchema,
    MirrorSchemaError,
    prepare_mirror,
)
from occ.decisions.sync import SyncAborted, SyncReport, sync_outbox

__all__ = [
    "EVENT_FIELDS",
    "MIRROR_DECISIONS",
    "MIRROR_FACTS",
    "Decision",
    "Failure",
    "MirrorSchema",
    "MirrorSchemaError",
    "SyncAborted",
    "SyncReport",
    "SyncStatus",
    "add_decision",
    "classify",
    "export_events",
    "list_decisions",
    "mask_secrets",
    "open_mirror",
    "prepare_mirror",
    "sync_outbox",
    "sync_status",
]
