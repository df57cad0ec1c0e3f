"""``occ secrets scan``: live credentials in a tree and, optionally, in its git history.

The scanning is detect-secrets' (its line scanner, its secret hashing, its baseline format),
with occ's own plugins (``occ.ops.secret_plugins``) for the credentials occ handles; the
placeholders that are never findings are configurable. In a git work tree the files are
those git would track (``.gitignore`` respected); elsewhere every file under the path. Binary
and oversized files are skipped. A baseline (occ's ``--json`` output or a detect-secrets
baseline) acknowledges known findings by file and secret hash.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detect_secrets.core.scan import scan_line
from detect_secrets.settings import transient_settings

from occ.contracts.secrets import DEFAULT_PLACEHOLDERS, KINDS, masked_preview
from occ.errors import OccError
from occ.ops import secret_plugins

__all__ = ["Finding", "ScanError", "ScanResult", "load_baseline", "scan"]

_MAX_BYTES = 2_000_000
_REASONS = {kind.name: kind.reason for kind in KINDS}
_ORDER = {kind.name: number for number, kind in enumerate(KINDS)}


class ScanError(OccError):
    """The scan could not run (exit 2)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Finding:
    file: str
    line: int
    kind: str
    preview: str
    reason: str
    hashed: str
    commit: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "kind": self.kind,
            "preview": self.preview,
            "reason": self.reason,
            "hashedSecret": self.hashed,
            "commit": self.commit,
        }


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    acknowledged: int = 0
    commits: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.as_dict() for f in self.findings],
            "filesScanned": self.files,
            "commitsScanned": self.commits,
            "acknowledged": self.acknowledged,
            "skipped": [{"file": f, "reason": why} for f, why in self.skipped],
        }


def _settings(placeholders: Sequence[str]) -> dict[str, Any]:
    path = f"file://{secret_plugins.__file__}"
    return {
        "plugins_used": [
            {"name": plugin.__name__, "path": path, "placeholders": list(placeholders)}
            for plugin in secret_plugins.PLUGINS
        ],
        "filters_used": [],
    }


def _git(args: Sequence[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True, timeout=300)
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return None
    return done.stdout.decode("utf-8", "replace")


def _files(root: Path) -> Iterator[Path]:
    """The files under ``root`` git would track, or every file outside a git work tree."""
    if root.is_file():
        yield root
        return
    listed = _git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], root)
    if listed is not None:
        for name in sorted(filter(None, listed.split("\0"))):
            path = root / name
            if path.is_file():
                yield path
        return
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in (".git", ".venv", "node_modules"))
        for name in sorted(names):
            yield Path(folder) / name


def _lines_of(path: Path, result: ScanResult, shown: str) -> list[str] | None:
    try:
        size = path.stat().st_size
        if size > _MAX_BYTES:
            result.skipped.append((shown, f"{size:,} bytes, above the {_MAX_BYTES:,} limit"))
            return None
        data = path.read_bytes()
    except OSError as exc:
        result.skipped.append((shown, exc.strerror or str(exc)))
        return None
    if b"\x00" in data[:8192]:
        return None  # binary
    return data.decode("utf-8", "replace").splitlines()


def _line_findings(text: str, file: str, line: int, commit: str | None) -> list[Finding]:
    found: dict[str, Finding] = {}
    for secret in scan_line(text):
        value = secret.secret_value or ""
        finding = Finding(
            file=file,
            line=line,
            kind=secret.type,
            preview=masked_preview(value),
            reason=_REASONS.get(secret.type, secret.type),
            hashed=secret.secret_hash,
            commit=commit,
        )
        known = found.get(finding.hashed)
        if known is None or _ORDER.get(finding.kind, 99) < _ORDER.get(known.kind, 99):
            found[finding.hashed] = finding
    return list(found.values())


_DIFF_FILE = re.compile(r"^\+\+\+ b/(.+)$")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def _history(root: Path, result: ScanResult) -> Iterator[Finding]:
    log = _git(
        ["log", "--all", "-p", "--no-color", "--unified=0", "--no-ext-diff", "--format=@@@%H"],
        root,
    )
    if log is None:
        raise ScanError(f"{root} is not a git repository (or git is missing); drop --git-history")
    commit, file, number = "", "", 0
    for raw in log.splitlines():
        if raw.startswith("@@@"):
            commit, file = raw[3:], ""
            result.commits += 1
        elif (match := _DIFF_FILE.match(raw)) is not None:
            file = match.group(1)
        elif (hunk := _HUNK.match(raw)) is not None:
            number = int(hunk.group(1))
        elif raw.startswith("+") and not raw.startswith("+++") and file:
            yield from _line_findings(raw[1:], file, number, commit[:12])
            number += 1


def load_baseline(path: Path) -> set[tuple[str, str]]:
    """(file, hashed secret) pairs acknowledged by a baseline (occ's --json or detect-secrets').

    Raises:
        ScanError: the file cannot be read or is neither format.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: not JSON, or not UTF-8
        raise ScanError(f"cannot read the baseline {path} ({exc}); pass a JSON file") from None
    not_a_baseline = ScanError(
        f"{path} is not a baseline; write one with occ secrets scan --json > {path.name}"
    )
    try:
        if isinstance(document, dict) and isinstance(document.get("findings"), list):
            return {(str(f["file"]), str(f["hashedSecret"])) for f in document["findings"]}
        if isinstance(document, dict) and isinstance(document.get("results"), dict):
            return {
                (str(file), str(entry["hashed_secret"]))
                for file, entries in document["results"].items()
                for entry in entries
            }
    except (KeyError, TypeError):  # an entry without its file or hash
        raise not_a_baseline from None
    raise not_a_baseline


def scan(
    paths: Sequence[Path],
    *,
    git_history: bool = False,
    baseline: set[tuple[str, str]] | None = None,
    placeholders: Sequence[str] = DEFAULT_PLACEHOLDERS,
) -> ScanResult:
    """Every live credential under ``paths`` (and in their git history when asked).

    Raises:
        ScanError: a path does not exist, or ``git_history`` outside a git repository.
    """
    result = ScanResult()
    acknowledged = baseline or set()
    with transient_settings(_settings(placeholders)):
        for root in paths:
            if not root.exists():
                raise ScanError(f"{root} does not exist; pass a file or folder to scan")
            base = root if root.is_dir() else root.parent
            for path in _files(root):
                shown = Path(os.path.relpath(path)).as_posix()
                lines = _lines_of(path, result, shown)
                if lines is None:
                    continue
                result.files += 1
                for number, text in enumerate(lines, start=1):
                    result.findings += _line_findings(text, shown, number, None)
            if git_history:
                result.findings += list(_history(base, result))
    kept = [f for f in result.findings if (f.file, f.hashed) not in acknowledged]
    result.acknowledged = len(result.findings) - len(kept)
    result.findings = kept
    return result
