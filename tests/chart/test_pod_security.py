"""Pod Security "restricted" on every container of every pod the chart and its workflows
create, Argo's own init and wait containers included, as the documented controller config
(docs/argo/workflow-controller-configmap.yaml, which kind.yml applies) makes them."""

from __future__ import annotations

from typing import Any

import helmrender
import pytest
from helmrender import SCENARIOS
from pod_security import argo_step_pod, executor_security_context, token_in, violations

CONTROLLER_CONFIG = helmrender.REPO / "docs" / "argo" / "workflow-controller-configmap.yaml"


def executor_context() -> dict[str, Any] | None:
    return executor_security_context(CONTROLLER_CONFIG.read_text())


def all_pods(rendering: helmrender.Rendering,
             executor: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    pods = []
    for obj in rendering.objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] in ("Deployment", "Job"):
            pods.append((where, obj["spec"]["template"]["spec"]))
        if obj["kind"] == "WorkflowTemplate":
            pods += [(f"{where}/{t['name']}", argo_step_pod(obj["spec"], t, executor))
                     for t in obj["spec"]["templates"] if "container" in t]
    return pods


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_pod_and_container_is_restricted(renders: dict[str, helmrender.Rendering],
                                               scenario: str) -> None:
    pods = all_pods(renders[scenario], executor_context())
    assert any("WorkflowTemplate" in where for where, _ in pods)
    for where, pod in pods:
        assert violations(pod) == [], where
        names = [c["name"] for c in pod.get("initContainers", []) + pod["containers"]]
        if "WorkflowTemplate" in where:
            assert names == ["init", "wait", "main"], where


def test_the_stock_controller_config_is_refused(renders: dict[str, helmrender.Rendering]):
    """What issue 11 found: an empty executor config leaves init/wait unhardened."""
    (where, pod), *_ = [p for p in all_pods(renders["demo-values.yaml"], None)
                        if "WorkflowTemplate" in p[0]]
    found = violations(pod)
    assert "container init: allowPrivilegeEscalation is not false" in found, where
    assert "container wait: capabilities.drop lacks ALL" in found
    assert not [v for v in found if v.startswith("container main")]


@pytest.mark.parametrize(("change", "complaint"), [
    ({"hostNetwork": True}, "pod: hostNetwork"),
    ({"volumes": [{"name": "h", "hostPath": {"path": "/"}}]}, "type ['hostPath']"),
    ({"securityContext": {"runAsNonRoot": False}}, "runAsNonRoot is not true"),
    ({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}, "seccompProfile"),
    ({"containers": [{"name": "c", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"], "add": ["NET_RAW"]},
        "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}}]},
     "capabilities.add"),
    ({"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 80}],
                      "securityContext": {"allowPrivilegeEscalation": False,
                                          "capabilities": {"drop": ["ALL"]}}}]}, "hostPort"),
])
def test_the_rules_catch_what_restricted_forbids(change: dict[str, Any], complaint: str):
    good = {"securityContext": {"runAsNonRoot": True,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "securityContext": {
                "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}]}
    assert violations(good) == []
    found = violations({**good, **change})
    assert any(complaint in v for v in found), found


def test_kind_applies_the_file_this_test_reads() -> None:
    kind = (helmrender.REPO / ".github" / "workflows" / "kind.yml").read_text()
    assert "ARGO_CONTROLLER_CONFIG: docs/argo/workflow-controller-configmap.yaml" in kind
    assert "pod-security.kubernetes.io/enforce=restricted" in kind


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_only_argos_executor_holds_a_service_account_token(
        renders: dict[str, helmrender.Rendering], scenario: str) -> None:
    """The step code never calls the Kubernetes API; the executor writes the step's
    WorkflowTaskResult (workflow/executor/taskresult.go) with its own token, from the Secret
    Argo looks up by name (util/secrets/secret_name.go), which the chart creates with the
    ServiceAccount."""
    rendering = renders[scenario]
    for where, pod in all_pods(rendering, executor_context()):
        if "WorkflowTemplate" not in where:
            continue
        holders = [c["name"] for c in pod["initContainers"] + pod["containers"]
                   if token_in(pod, c)]
        assert holders == ["init", "wait"], where
    account = rendering.one("WorkflowTemplate", "-pipeline")["spec"]["serviceAccountName"]
    tokens = [s for s in rendering.of_kind("Secret")
              if s.get("type") == "kubernetes.io/service-account-token"]
    if rendering.of_kind("ServiceAccount"):
        (token,) = tokens
        assert token["metadata"]["annotations"] == {"kubernetes.io/service-account.name": account}
        annotations = rendering.one("ServiceAccount")["metadata"]["annotations"]
        assert annotations["workflows.argoproj.io/service-account-token.name"] == \
            token["metadata"]["name"]
    else:   # an existing account: its token Secret is the cluster's (docs/kubernetes.md)
        assert tokens == []


def test_a_pod_without_automount_and_without_an_executor_account_is_refused() -> None:
    """setupServiceAccount refuses it: the executor would have no token at all."""
    with pytest.raises(ValueError, match="executor.serviceAccountName"):
        argo_step_pod({"automountServiceAccountToken": False},
                      {"name": "x", "container": {"image": "i"}}, None)
