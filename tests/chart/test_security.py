"""Pod Security Standard "restricted" on every pod, and least-privilege RBAC."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import helmrender
import pytest
from helmrender import SCENARIOS

UID = 10001


def chart_pod_specs(rendering: helmrender.Rendering) -> Iterator[tuple[str, dict[str, Any]]]:
    for obj in rendering.objects:
        if obj["kind"] in ("Deployment", "Job"):
            yield f"{obj['kind']}/{obj['metadata']['name']}", obj["spec"]["template"]["spec"]


def assert_restricted_pod(where: str, pod: dict[str, Any]) -> None:
    assert pod.get("runAsNonRoot") is True, where
    assert pod.get("runAsUser") == UID, where
    assert pod.get("seccompProfile") == {"type": "RuntimeDefault"}, where


def assert_restricted_container(where: str, container: dict[str, Any]) -> None:
    context = container.get("securityContext", {})
    assert context.get("allowPrivilegeEscalation") is False, where
    assert context.get("readOnlyRootFilesystem") is True, where
    assert context.get("capabilities") == {"drop": ["ALL"]}, where
    assert context.get("runAsNonRoot", True) is True, where
    assert context.get("privileged", False) is False, where


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_chart_pods_are_restricted(renders: dict[str, helmrender.Rendering],
                                   scenario: str) -> None:
    for where, pod in chart_pod_specs(renders[scenario]):
        assert_restricted_pod(where, pod["securityContext"])
        assert pod["securityContext"]["fsGroup"] == UID, "the demo PVC must be writable"
        assert pod["automountServiceAccountToken"] is False, where
        assert not pod.get("hostNetwork") and not pod.get("hostPID"), where
        for container in pod["containers"] + pod.get("initContainers", []):
            assert_restricted_container(f"{where}/{container['name']}", container)
            assert container["resources"]["limits"] and container["resources"]["requests"]
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_workflow_step_pods_are_restricted(renders: dict[str, helmrender.Rendering],
                                           scenario: str) -> None:
    for template in renders[scenario].of_kind("WorkflowTemplate"):
        spec = template["spec"]
        assert_restricted_pod(template["metadata"]["name"], spec["securityContext"])
        containers = [t for t in spec["templates"] if "container" in t]
        assert containers
        for step in containers:
            assert_restricted_container(step["name"], step["container"])


def test_demo_mode_exercises_the_pod_checks(renders: dict[str, helmrender.Rendering]) -> None:
    assert {where.split("/")[0] for where, _ in chart_pod_specs(renders["demo-values.yaml"])} \
        == {"Deployment", "Job"}


EXECUTOR_RULES = [{"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"],
                   "verbs": ["create", "patch"]}]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_rbac_is_exactly_what_the_argo_executor_needs(
        renders: dict[str, helmrender.Rendering], scenario: str) -> None:
    rendering = renders[scenario]
    assert not rendering.of_kind("ClusterRole") and not rendering.of_kind("ClusterRoleBinding")
    role = rendering.one("Role")
    assert role["rules"] == EXECUTOR_RULES
    binding = rendering.one("RoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": role["metadata"]["name"]}
    pipeline = rendering.one("WorkflowTemplate", "-pipeline")
    account = pipeline["spec"]["serviceAccountName"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account,
                                    "namespace": helmrender.NAMESPACE}]
    created = [a["metadata"]["name"] for a in rendering.of_kind("ServiceAccount")]
    if "existing-secret" in scenario:
        assert created == [] and account == "deltastore-runner"
    else:
        assert created == [account]


def test_rbac_can_be_left_to_the_cluster() -> None:
    rendering = helmrender.render([helmrender.CI_DIR / "default-values.yaml"],
                                  {"rbac": {"create": False}})
    assert not rendering.of_kind("Role") and not rendering.of_kind("RoleBinding")


def test_existing_service_account_needs_a_name() -> None:
    with pytest.raises(helmrender.ChartError, match="serviceAccount.name is required"):
        helmrender.render([helmrender.CI_DIR / "default-values.yaml"],
                          {"serviceAccount": {"create": False}})


def test_image_pull_secrets_reach_the_service_account_and_pods() -> None:
    pull = [{"name": "regcred"}]
    rendering = helmrender.render([helmrender.CI_DIR / "demo-values.yaml"],
                                  {"imagePullSecrets": pull})
    assert rendering.one("ServiceAccount")["imagePullSecrets"] == pull
    for where, pod in chart_pod_specs(rendering):
        assert pod["imagePullSecrets"] == pull, where
    assert rendering.one("WorkflowTemplate", "-pipeline")["spec"]["imagePullSecrets"] == pull
