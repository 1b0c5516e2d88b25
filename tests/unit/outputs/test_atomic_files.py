"""Feeds and exports are replaced in one step: readers never see half a file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from crawler.outputs.atomic_files import atomic_open, open_output, write_atomic


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "feed.atom"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(target, "w", encoding="utf-8") as f:
        f.write("half of the new")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["feed.atom"]


def test_replacing_keeps_the_permissions_and_new_files_are_readable(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    write_atomic(target, b"first")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    os.chmod(target, 0o600)
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_open_output_writes_utf8_text_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with open_output(target) as out:
        out.write("Такаити,高市\r\n")
    assert target.read_bytes() == "Такаити,高市\r\n".encode()
