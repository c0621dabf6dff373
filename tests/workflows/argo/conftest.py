"""Shared, session-scoped renders and the strict Argo CRD schemas (read from ../shared)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from argo_cases import LAYERS, SCHEMAS
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
    """Validators by kind; built once (checking these 2 MB schemas themselves takes long)."""
    if not SCHEMAS.is_dir():
        pytest.skip(f"strict Argo schemas not found at {SCHEMAS} (clone the repo next to shared/)")
    validators = {}
    for kind in ("WorkflowTemplate", "CronWorkflow"):
        schema = json.loads((SCHEMAS / f"{kind.lower()}_v1alpha1.json").read_text())
        validators[kind] = jsonschema.validators.validator_for(schema)(schema)
    return validators
