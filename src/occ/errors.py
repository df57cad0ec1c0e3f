"""Every error a user can cause, as one tree.

    OccError                      one-line message that says what to do; exit_code for the CLI
    ├── ConfigError               bad setting, bad occ.toml, bad --now / --db value
    ├── InputFileError            a file or folder the user handed in is unreadable
    ├── StoreError                primary database unreachable or not migrated
    ├── SourceError               an upstream could not be read
    │   ├── CredentialsRejected   401/403 (terminal)
    │   ├── RateLimited           429 / THROTTLED (retryable)
    │   └── UpstreamUnavailable   5xx, timeouts (retryable)
    ├── ContractViolation         a payload does not match its data contract
    ├── MirrorError               the mirror database refused or failed
    └── NotFoundError             the thing asked for does not exist (no facts yet, unknown key)

``retryable`` follows dlt's transient/terminal split: a retryable error may succeed
if the same call is made again later; a terminal one will not.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ContractViolation",
    "CredentialsRejected",
    "InputFileError",
    "MirrorError",
    "NotFoundError",
    "OccError",
    "RateLimited",
    "SourceError",
    "StoreError",
    "UpstreamUnavailable",
]


class OccError(Exception):
    """Base of every error a user can cause; ``str(err)`` is the one line to show."""

    exit_code: int = 1
    retryable: bool = False


class ConfigError(OccError):
    exit_code = 2


class InputFileError(OccError):
    exit_code = 2


class StoreError(OccError):
    exit_code = 3


class SourceError(OccError):
    exit_code = 4


class CredentialsRejected(SourceError):
    pass


class RateLimited(SourceError):
    retryable = True


class UpstreamUnavailable(SourceError):
    retryable = True


class ContractViolation(OccError):
    exit_code = 5


class MirrorError(OccError):
    exit_code = 6


class NotFoundError(OccError):
    exit_code = 1
