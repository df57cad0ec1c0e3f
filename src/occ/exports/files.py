"""Export rows as CSV or JSON, and writing a file so no reader ever sees half of it.

Both formats hold the same fields under the same names, in the rows' field order:
instants as ISO-8601 UTC (``2026-11-26T15:00:00Z``), minutes and percentages as decimals
(two places; JSON numbers with the same digits), lists as JSON arrays (joined with ``|`` in a
CSV cell), unknown values empty (CSV) or null (JSON). Text is masked like every output of
occ, and a CSV cell that a spreadsheet would run as a formula is prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from occ.contracts.exports import ConversationExportRow, SlaGroupRow
from occ.contracts.secrets import mask
from occ.errors import ConfigError, InputFileError
from occ.store.files import replaced_atomically

__all__ = [
    "CONVERSATION_FIELDS",
    "FORMATS",
    "SLA_FIELDS",
    "check_writable",
    "csv_cell",
    "render_conversations",
    "render_sla",
    "write_atomically",
]

FORMATS = ("csv", "json")
CONVERSATION_FIELDS = tuple(field.name for field in fields(ConversationExportRow))
SLA_FIELDS = tuple(field.name for field in fields(SlaGroupRow))
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_LIST_SEPARATOR = "|"


def csv_cell(value: Any) -> str:
    """A text cell a spreadsheet will not run as a formula (CSV injection), masked."""
    text = "" if value is None else mask(str(value))
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, tuple | list):
        return csv_cell(_LIST_SEPARATOR.join(str(item) for item in value))
    return csv_cell(value)


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, Decimal):
        # At most two decimal places: the float's shortest repr has exactly these digits.
        return float(value)
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, tuple | list):
        return [mask(str(item)) for item in value]
    return mask(str(value))


def _render(rows: Iterable[Any], names: Sequence[str], fmt: str) -> str:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow([_csv_value(getattr(row, name)) for name in names])
        return buffer.getvalue()
    if fmt == "json":
        document = [{name: _json_value(getattr(row, name)) for name in names} for row in rows]
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    raise ConfigError(f"unknown format {fmt!r}; use {' or '.join(FORMATS)}")


def render_conversations(rows: Iterable[ConversationExportRow], fmt: str) -> str:
    """The conversation export as ``fmt`` (csv or json)."""
    return _render(rows, CONVERSATION_FIELDS, fmt)


def render_sla(groups: Iterable[SlaGroupRow], fmt: str) -> str:
    """% SLA met per agent or team as ``fmt`` (csv or json)."""
    return _render(groups, SLA_FIELDS, fmt)


def check_writable(path: Path) -> None:
    """Fail before any work when ``path`` cannot be written (its folder is missing or closed).

    Raises:
        InputFileError: the folder does not exist, is not a folder, or is not writable, or
            ``path`` is a folder.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputFileError(f"--out {path} is a folder; give a file name, e.g. {path}/export.csv")
    if not folder.is_dir():
        raise InputFileError(f"--out {path}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputFileError(f"--out {path}: the folder {folder} is not writable")


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file renamed into place.

    Raises:
        InputFileError: the file cannot be written; nothing is left behind.
    """
    check_writable(path)
    try:
        with replaced_atomically(path) as handle:
            handle.write(text)
    except OSError as exc:
        raise InputFileError(f"--out {path} could not be written: {exc.strerror or exc}") from None
