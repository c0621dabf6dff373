"""deltastore/metrics.py: figures for Argo's metrics are written only when a folder is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from deltastore.errors import ConfigError
from deltastore.metrics import ROWS_LOADED, write_metric
from deltastore.settings import Settings


def test_nothing_is_written_without_a_metrics_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path)})
    assert settings.metrics_dir is None
    assert write_metric(settings, ROWS_LOADED, 12) is None
    assert list(tmp_path.iterdir()) == []


def test_the_figure_is_a_plain_integer_in_a_new_folder(tmp_path: Path) -> None:
    folder = tmp_path / "metrics" / "nested"
    settings = Settings.from_env({"DELTASTORE_METRICS_DIR": str(folder)})
    assert write_metric(settings, ROWS_LOADED, 1234) == folder / ROWS_LOADED
    assert (folder / ROWS_LOADED).read_text() == "1234"
    write_metric(settings, ROWS_LOADED, 0)  # a second write replaces the first
    assert (folder / ROWS_LOADED).read_text() == "0"


def test_an_unwritable_folder_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings = Settings.from_env({"DELTASTORE_METRICS_DIR": str(blocker / "metrics")})
    with pytest.raises(ConfigError, match="DELTASTORE_METRICS_DIR: cannot write"):
        write_metric(settings, ROWS_LOADED, 1)
