"""Chart renders shared by the chart tests: each `ci/*-values.yaml` scenario once a session."""

from __future__ import annotations

from typing import Any

import helmrender
import pytest
from argo_strict import strict_validators
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
def strict_argo() -> dict[str, Any]:
    """Strict validators by Argo kind: ../shared's CRD schemas when present, else hera's
    models (argo_strict.py), so no clone skips the strict check."""
    return strict_validators(helmrender.REPO.parent / "shared" / "schemas" / "argoproj.io")
