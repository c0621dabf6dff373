"""Fixtures shared by the command tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deltastore.settings import Settings


@pytest.fixture
def embedded_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """No DELTASTORE_* setting from outside the test, data under ``tmp_path/data``: the
    embedded defaults a new user gets."""
    for name in [n for n in os.environ if n.startswith("DELTASTORE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(tmp_path / "data"))
    return Settings.from_env()
