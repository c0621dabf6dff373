"""Fixtures for the extract-load tests: a demo legacy DB (generated once) and settings."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from deltastore.dburl import DatabaseURL
from deltastore.extract.demo.legacy_data import generate_legacy_db
from deltastore.settings import Settings

LEGACY_SCALE = 0.02


@pytest.fixture(scope="session")
def legacy_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo legacy SQLite DB, generated once; tests copy it before changing it."""
    path = tmp_path_factory.mktemp("legacy") / "legacy.db"
    generate_legacy_db(DatabaseURL.parse(f"sqlite://{path}"), scale=LEGACY_SCALE, seed=42)
    return path


@pytest.fixture
def data_dir(tmp_path: Path, legacy_template: Path) -> Path:
    """A data directory holding its own copy of the legacy DB (the default location)."""
    directory = tmp_path / "data"
    directory.mkdir()
    shutil.copy(legacy_template, directory / "legacy.db")
    return directory


@pytest.fixture
def make_settings(data_dir: Path) -> Callable[..., Settings]:
    """Settings for this test's data dir; keyword arguments are DELTASTORE_* overrides."""

    def make(store_url: str = "http://127.0.0.1:9", **overrides: str) -> Settings:
        env = {"DELTASTORE_DATA_DIR": str(data_dir), "DELTASTORE_STORE_API_URL": store_url,
               "DELTASTORE_HTTP_RETRIES": "3", "DELTASTORE_HTTP_RETRY_SECONDS": "5"}
        env.update({f"DELTASTORE_{k.upper()}": v for k, v in overrides.items()})
        return Settings.from_env(env)

    return make

