"""Strict validation that works in any clone: every rendered Argo object against hera's
generated models, failing on any key they do not define (argo_strict.py)."""

from __future__ import annotations

import copy

import pytest
from argo_strict import problems


@pytest.mark.parametrize("variant", ["default_objects", "demo_objects", "layer_objects"])
def test_every_rendered_object_has_only_keys_argo_defines(request, variant):
    objects = request.getfixturevalue(variant)
    assert objects
    for name, obj in objects.items():
        assert problems(obj) == [], name


def test_a_misspelt_or_mistyped_field_is_caught(default_objects):
    cron = copy.deepcopy(default_objects["cronworkflow-deltastore-daily.yaml"])
    cron["spec"]["workflowSpec"]["entrypint"] = "pipeline"
    template = copy.deepcopy(default_objects["workflowtemplate-deltastore-pipeline.yaml"])
    step = next(t for t in template["spec"]["templates"] if "retryStrategy" in t)
    step["retryStrategy"]["backoff"]["maxDurations"] = "1h"
    step["container"]["resources"]["limits"]["cpu"] = {"cores": 2}
    assert "unknown key `spec.workflowSpec.entrypint`" in problems(cron)
    found = problems(template)
    assert any("backoff.maxDurations" in p for p in found), found
    assert any("limits.cpu" in p and "string" in p for p in found), found
