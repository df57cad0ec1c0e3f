"""JSON-lines files read a chunk of whole lines at a time.

A :class:`JsonLinesFile` is an iterable of :class:`~occ.sources.base.RawRecord` like any
stream, and it can also hand out its lines as :class:`LineChunk` pieces of raw bytes: the
refresh sends those to the processes that validate them, which split and decode the lines
themselves, so that the process writing the store does not spend its time on each line.
Both ways read the same records: one per line that is not blank, located as ``name:line``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from occ.errors import InputFileError
from occ.sources.base import RawRecord

__all__ = ["JsonLinesFile", "LineChunk", "decode_record", "unreadable_file"]

# Lines read at once when the file is iterated record by record.
_LINES_PER_READ = 1_000


def decode_record(raw: bytes, location: str) -> RawRecord:
    """``raw`` as a record's text; bytes that are not UTF-8 make a record quarantined as such."""
    try:
        return RawRecord(location, raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return RawRecord(location, raw.decode("utf-8", "replace"), error=f"not UTF-8 text: {exc}")


def unreadable_file(path: Path, exc: OSError) -> InputFileError:
    return InputFileError(f"cannot read {path}: {exc.strerror}; check the file and its permissions")


@dataclass(frozen=True, slots=True)
class LineChunk:
    """Consecutive whole lines of the file ``name``, the first of them line ``first_line``."""

    name: str
    first_line: int
    data: bytes

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """Each line that is not blank, without its line ending, with its line number."""
        first = self.first_line
        for offset, line in enumerate(self.data.split(b"\n")):
            if line.strip():
                yield first + offset, line.rstrip(b"\r")

    def record(self, number: int, line: bytes) -> RawRecord:
        """Line ``number`` (as :meth:`lines` gives it) as a record."""
        return decode_record(line, f"{self.name}:{number}")

    def records(self) -> list[RawRecord]:
        """The chunk's records: one per line that is not blank."""
        return [self.record(number, line) for number, line in self.lines()]


class JsonLinesFile:
    """The records of one JSON-lines file, read lazily (see the module docstring)."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name

    def chunks(self, lines: int) -> Iterator[LineChunk]:
        """The file as chunks of ``lines`` lines each (the last one shorter).

        Raises:
            InputFileError: the file cannot be read.
        """
        number = 1
        try:
            with self.path.open("rb") as file:
                while data := b"".join(islice(file, lines)):
                    yield LineChunk(self.name, number, data)
                    number += lines
        except OSError as exc:
            raise unreadable_file(self.path, exc) from exc

    def __iter__(self) -> Iterator[RawRecord]:
        for chunk in self.chunks(_LINES_PER_READ):
            yield from chunk.records()
