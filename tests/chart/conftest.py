"""Chart renders shared by the chart tests: each `ci/*-values.yaml` scenario once a session."""

from __future__ import annotations

from pathlib import Path

import helmrender
import pytest
from helmrender import SCENARIOS, SENTINEL_SECRETS


@pytest.fixture(scope="session")
def renders() -> dict[str, helmrender.Rendering]:
    return {name: helmrender.render([helmrender.CI_DIR / name]) for name in SCENARIOS}


@pytest.fixture(scope="session")
def with_sentinel_secrets() -> helmrender.Rendering:
    """The default (production) scenario with sentinel credentials."""
    return helmrender.render([helmrender.CI_DIR / "default-values.yaml"],
                             {"secrets": SENTINEL_SECRETS})


@pytest.fixture(scope="session")
def shared_schemas() -> Path:
    path = helmrender.REPO.parent / "shared" / "schemas" / "argoproj.io"
    if not path.is_dir():
        pytest.skip(f"strict Argo schemas not found at {path} (they live outside the repo)")
    return path
