"""Every ci scenario renders, lints strictly, and every object passes strict schema checks."""

from __future__ import annotations

import json
import re
from typing import Any

import helmrender
import kubernetes_validate
import pytest
from helmrender import SCENARIOS
from hera.workflows import models

ARGO_KINDS = {"WorkflowTemplate": models.WorkflowTemplate, "CronWorkflow": models.CronWorkflow}
PRODUCTION = {"ConfigMap", "ServiceAccount", "Role", "RoleBinding", "Secret",
              "WorkflowTemplate", "CronWorkflow"}
DEMO_ONLY = {"Deployment", "Service", "Job", "PersistentVolumeClaim"}


def test_scenarios_cover_the_required_cases() -> None:
    assert set(SCENARIOS) >= {"default-values.yaml", "demo-values.yaml",
                              "existing-secret-values.yaml", "custom-schedule-values.yaml"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_lint_is_clean_in_strict_mode(scenario: str) -> None:
    assert helmrender.lint([helmrender.CI_DIR / scenario]) == []


def test_lint_reports_a_broken_value() -> None:
    problems = helmrender.lint([helmrender.CI_DIR / "demo-values.yaml"],
                               {"image": {"pullPolicy": "Sometimes"}})
    assert any("pullPolicy" in p for p in problems), problems


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_object_has_a_kind_a_name_and_no_namespace_override(
        renders: dict[str, helmrender.Rendering], scenario: str) -> None:
    kinds = {o["kind"] for o in renders[scenario].objects}
    expected = PRODUCTION | (DEMO_ONLY if scenario == "demo-values.yaml" else set())
    if "existing-secret" in scenario:
        # Neither the credentials' Secret nor the account and its executor token Secret.
        expected -= {"Secret", "ServiceAccount"}
    assert kinds == expected
    names = [(o["kind"], o["metadata"]["name"]) for o in renders[scenario].objects]
    assert len(names) == len(set(names)), "duplicate objects"
    # Objects follow the release namespace; none pins its own.
    assert all("namespace" not in o["metadata"] for o in renders[scenario].objects)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_core_objects_pass_strict_kubernetes_schemas(
        renders: dict[str, helmrender.Rendering], scenario: str) -> None:
    core = [o for o in renders[scenario].objects if o["kind"] not in ARGO_KINDS]
    assert core
    for obj in core:
        try:
            kubernetes_validate.validate(obj, helmrender.KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message}")


def test_strict_kubernetes_validation_catches_a_misspelled_field(
        renders: dict[str, helmrender.Rendering]) -> None:
    deployment = renders["demo-values.yaml"].one("Deployment")
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, helmrender.KUBE_VERSION, strict=True)


def _argo_objects(rendering: helmrender.Rendering) -> list[dict[str, Any]]:
    return [o for o in rendering.objects if o["kind"] in ARGO_KINDS]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_argo_objects_round_trip_through_hera_models(
        renders: dict[str, helmrender.Rendering], scenario: str) -> None:
    for obj in _argo_objects(renders[scenario]):
        model = ARGO_KINDS[obj["kind"]].model_validate(obj)
        # Hera ignores unknown keys, so a lossless round trip is what proves none are there.
        assert model.model_dump(by_alias=True, exclude_none=True, mode="json") == obj


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_argo_objects_pass_the_strict_crd_schemas(
        renders: dict[str, helmrender.Rendering], strict_argo: dict[str, Any],
        scenario: str) -> None:
    validators = strict_argo
    for obj in _argo_objects(renders[scenario]):
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validators[obj["kind"]].iter_errors(obj)]
        assert errors == [], f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "CronWorkflow":
            # Argo v4 dropped the single `schedule` field.
            assert "schedule" not in obj["spec"] and obj["spec"]["schedules"]


def test_strict_crd_schema_catches_a_misspelled_field(
        renders: dict[str, helmrender.Rendering], strict_argo: dict[str, Any]) -> None:
    cron = json.loads(json.dumps(renders["default-values.yaml"].one("CronWorkflow", "-daily")))
    cron["spec"]["timeZone"] = "UTC"
    assert list(strict_argo["CronWorkflow"].iter_errors(cron))


def test_names_stay_valid_for_the_longest_release_name() -> None:
    release = "a-very-long-release-name-for-the-deltastore-pipeline"[:53]
    rendering = helmrender.render([helmrender.CI_DIR / "demo-values.yaml"], release=release)
    chart_objects = [o for o in rendering.objects if o["kind"] not in ARGO_KINDS]
    for obj in chart_objects:
        name = obj["metadata"]["name"]
        assert len(name) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name
    data = rendering.one("ConfigMap")["data"]
    service = rendering.one("Service")["metadata"]["name"]
    assert data["DELTASTORE_STORE_API_URL"] == f"http://{service}:8765"


def test_fullname_override_names_every_chart_object() -> None:
    rendering = helmrender.render([helmrender.CI_DIR / "demo-values.yaml"],
                                  {"fullnameOverride": "shop-etl"})
    # The demo-data Job's name ends in a hash of its spec (see demo-data-job.yaml).
    names = {re.sub(r"-[0-9a-f]{8}$", "", o["metadata"]["name"]) if o["kind"] == "Job"
             else o["metadata"]["name"] for o in rendering.objects if o["kind"] not in ARGO_KINDS}
    assert names == {"shop-etl-config", "shop-etl-secrets", "shop-etl-workflow",
                     "shop-etl-executor", "shop-etl-executor-token", "shop-etl-data",
                     "shop-etl-demo-store", "shop-etl-demo-data"}
    pipeline = rendering.one("WorkflowTemplate", "-pipeline")
    assert pipeline["spec"]["serviceAccountName"] == "shop-etl-workflow"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_argo_objects_have_only_keys_argo_defines(
        renders: dict[str, helmrender.Rendering], scenario: str) -> None:
    """Needs nothing outside the repository (hera's generated models; see argo_strict.py)."""
    from argo_strict import problems

    found = [o for o in renders[scenario].objects if o["kind"] in ARGO_KINDS]
    assert {o["kind"] for o in found} == {"WorkflowTemplate", "CronWorkflow"}
    for obj in found:
        assert problems(obj) == [], obj["metadata"]["name"]
