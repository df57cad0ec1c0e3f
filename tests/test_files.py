"""occ.store.files: a file is replaced whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from occ.store.files import replaced_atomically


def test_a_finished_write_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "packet.bin"
    target.write_bytes(b"old")
    with replaced_atomically(target, binary=True) as handle:
        handle.write(b"\x00new")
        assert target.read_bytes() == b"old"  # a reader meanwhile sees the old file
    assert target.read_bytes() == b"\x00new"
    assert [path.name for path in tmp_path.iterdir()] == ["packet.bin"]


def test_a_failed_write_leaves_the_old_file_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk full"):
        with replaced_atomically(target) as handle:
            handle.write("half of the new\r\n")
            raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [path.name for path in tmp_path.iterdir()] == ["export.csv"]


def test_text_is_utf8_with_line_ends_as_written(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    with replaced_atomically(target) as handle:
        handle.write("café\r\nnext\n")
    assert target.read_bytes() == "café\r\nnext\n".encode()


def test_a_missing_folder_is_an_oserror_for_the_caller_to_word(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        with replaced_atomically(tmp_path / "absent" / "file.txt") as handle:
            handle.write("never")
    assert list(tmp_path.iterdir()) == []
