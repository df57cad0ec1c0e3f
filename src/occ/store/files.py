"""Writing a file so that no reader ever sees half of it, and a failure leaves nothing behind.

The store adapter's other half: what occ keeps as files (exports, packets, summaries, the
knowledge index pointer) rather than as rows.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["replaced_atomically"]


@contextmanager
def replaced_atomically(path: Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A file to write that replaces ``path`` whole once the ``with`` block ends.

    It is a temporary file beside ``path`` (``.NAME.*.partial``, so a rename is atomic),
    opened for UTF-8 text with newlines kept as written, or for bytes; when the block ends
    it is flushed to disk and renamed over ``path``. When the block or the writing raises,
    the temporary file is removed and ``path`` is left as it was.

    Raises:
        OSError: the folder does not take the file (the caller words it for its user).
    """
    descriptor, partial = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".partial", dir=path.parent
    )
    try:
        handle: IO[Any]
        if binary:
            handle = os.fdopen(descriptor, "wb")
        else:
            handle = os.fdopen(descriptor, "w", encoding="utf-8", newline="")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
