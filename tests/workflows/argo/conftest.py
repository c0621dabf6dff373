"""Shared, session-scoped renders and the strict Argo validators (../shared or hera models)."""

from __future__ import annotations

from typing import Any

import pytest
from argo_cases import LAYERS, SCHEMAS
from argo_strict import strict_validators

from deltastore.workflows.argo.options import DEFAULT_OPTIONS
from deltastore.workflows.argo.render import chart_objects, render_objects


@pytest.fixture(scope="session")
def default_objects() -> dict[str, dict[str, Any]]:
    return render_objects(DEFAULT_OPTIONS)


@pytest.fixture(scope="session")
def demo_objects() -> dict[str, dict[str, Any]]:
    return render_objects(DEFAULT_OPTIONS.replace(data_pvc="deltastore-data"))


@pytest.fixture(scope="session")
def layer_objects() -> dict[str, dict[str, Any]]:
    return render_objects(DEFAULT_OPTIONS.replace(dbt_granularity="layer", artifacts=True),
                          layers=LAYERS)


@pytest.fixture(scope="session")
def chart_files() -> dict[str, dict[str, Any]]:
    return chart_objects()


@pytest.fixture(scope="session")
def schemas() -> dict[str, Any]:
    """Validators by kind: the strict CRD schemas of ../shared when present, else hera's
    models (argo_strict.py). Built once: checking the 2 MB schemas themselves takes long."""
    return strict_validators(SCHEMAS)
