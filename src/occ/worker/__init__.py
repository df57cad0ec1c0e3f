"""``occ worker``: occ's scheduled jobs (sync, refresh, health, the weekly
insight packet, and those registered later).

Each job runs on its own schedule under a lease in the ``job_lock`` table, so that two
workers never run the same job at once; SIGINT/SIGTERM stop the worker after the job in flight.
"""

from occ.insights import PACKET_FACT_TYPE
from occ.worker.jobs import (
    JOBS,
    PARITY_FACT_TYPE,
    JobContext,
    JobRegistry,
    JobSkipped,
    JobSpec,
    Schedule,
    WorkerStopping,
    register_job,
)
from occ.worker.knowledge import knowledge_job
from occ.worker.locks import (
    Lease,
    LockHolder,
    acquire_lock,
    held_lock,
    lock_holder,
    release_lock,
    renew_lock,
)
from occ.worker.packet import MadePacket, make_packet
from occ.worker.run import LOGGER_NAME, JobRun, run_job, run_worker

__all__ = [
    "JOBS",
    "LOGGER_NAME",
    "PARITY_FACT_TYPE",
    "JobContext",
    "JobRegistry",
    "JobRun",
    "JobSkipped",
    "JobSpec",
    "Lease",
    "LockHolder",
    "MadePacket",
    "PACKET_FACT_TYPE",
    "Schedule",
    "WorkerStopping",
    "acquire_lock",
    "held_lock",
    "knowledge_job",
    "lock_holder",
    "make_packet",
    "register_job",
    "release_lock",
    "renew_lock",
    "run_job",
    "run_worker",
]
