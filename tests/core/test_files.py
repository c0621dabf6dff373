"""deltastore/files.py: a file is replaced whole, with the mode asked for, or not at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from deltastore.files import write_atomically
from deltastore.metrics import MART_ROWS, write_gauges
from deltastore.settings import Settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_text_bytes_and_a_writer_each_replace_the_file(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    write_atomically(path, "naïve")
    assert path.read_text(encoding="utf-8") == "naïve" and _mode(path) == 0o644
    write_atomically(path, b"\x00\x01", mode=0o640)
    assert path.read_bytes() == b"\x00\x01" and _mode(path) == 0o640
    assert write_atomically(path, lambda temporary: temporary.write_text("rows") * 10) == 40
    assert path.read_text() == "rows"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]


def test_a_failing_writer_leaves_the_old_file_and_no_leftover(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("old")

    def half_then_fail(temporary: Path) -> None:
        temporary.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, half_then_fail)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv"]


def test_a_prometheus_textfile_is_swapped_not_rewritten_in_place(tmp_path: Path) -> None:
    """A collector that opened the file before the sync wrote it reads the old figures whole,
    not a truncated or half-written file."""
    settings = Settings.from_env({"DELTASTORE_METRICS_DIR": str(tmp_path)})
    path = write_gauges(settings, MART_ROWS, "deltastore_mart_rows", "Rows.", "mart", {"a": 1})
    assert path is not None
    with path.open() as reader:
        write_gauges(settings, MART_ROWS, "deltastore_mart_rows", "Rows.", "mart", {"a": 2})
        assert reader.read().endswith('deltastore_mart_rows{mart="a"} 1\n')
    assert path.read_text().endswith('deltastore_mart_rows{mart="a"} 2\n')
    assert _mode(path) == 0o644 and os.listdir(tmp_path) == [MART_ROWS]
