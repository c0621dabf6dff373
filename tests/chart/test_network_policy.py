"""The optional NetworkPolicies: off by default; when on, no pod of the release takes a
connection except the demo store, which answers the release's own pods only; with egress
rules, the steps reach only those, DNS and the API server. Selectors are matched against
the labels the pods really get (Argo's step pods as workflowpod.go labels them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import helmrender
import kubernetes_validate
import pytest
from helmrender import SCENARIOS
from pod_security import argo_step_pod_labels

DEMO = helmrender.CI_DIR / "demo-values.yaml"
PRODUCTION = helmrender.CI_DIR / "default-values.yaml"
SQL_SERVER = {"to": [{"ipBlock": {"cidr": "10.0.12.0/24"}}],
              "ports": [{"port": 1433, "protocol": "TCP"}]}


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels, matchExpressions In/NotIn/Exists/DoesNotExist)."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], \
            expression.get("values", [])
        present = key in labels
        if not {"In": present and labels[key] in values,
                "NotIn": not present or labels[key] not in values,
                "Exists": present, "DoesNotExist": not present}[operator]:
            return False
    return True


def pod_labels(rendering: helmrender.Rendering) -> dict[str, dict[str, str]]:
    """Every pod the release runs, by a name, with its labels."""
    pods = {}
    for obj in rendering.objects:
        if obj["kind"] in ("Deployment", "Job"):
            pods[f"{obj['kind']}/{obj['metadata']['name']}"] = \
                obj["spec"]["template"]["metadata"]["labels"]
        if obj["kind"] == "WorkflowTemplate":
            for template in obj["spec"]["templates"]:
                if "container" in template:
                    pods[f"{obj['metadata']['name']}/{template['name']}"] = \
                        argo_step_pod_labels(obj["spec"], template)
    return pods


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_off_by_default(renders: dict[str, helmrender.Rendering], scenario: str) -> None:
    assert renders[scenario].of_kind("NetworkPolicy") == []


def test_in_demo_mode_only_the_demo_store_takes_connections_from_the_release() -> None:
    rendering = helmrender.render([DEMO], {"networkPolicy": {"enabled": True}})
    policies = {p["metadata"]["name"]: p for p in rendering.of_kind("NetworkPolicy")}
    assert set(policies) == {"deltastore-pods", "deltastore-demo-store"}
    for policy in policies.values():
        kubernetes_validate.validate(policy, helmrender.KUBE_VERSION, strict=True)
    closed, store = policies["deltastore-pods"]["spec"], policies["deltastore-demo-store"]["spec"]
    assert closed["policyTypes"] == ["Ingress"] and closed["ingress"] == []
    pods = pod_labels(rendering)
    assert sum(n.startswith(("Deployment/", "Job/")) for n in pods) == 2   # store, data job
    for name, labels in pods.items():
        is_store = labels.get("app.kubernetes.io/component") == "demo-store"
        assert selects(closed["podSelector"], labels) is not is_store, name
        assert selects(store["podSelector"], labels) is is_store, name
        # Every pod of the release may reach the store; the store answers on its port.
        assert selects(store["ingress"][0]["from"][0]["podSelector"], labels), name
    assert store["ingress"][0]["ports"] == [{"port": 8765, "protocol": "TCP"}]
    other_release = {**pods[next(iter(pods))], "app.kubernetes.io/instance": "other"}
    assert not selects(store["ingress"][0]["from"][0]["podSelector"], other_release)


def test_egress_rules_limit_the_steps_to_them_dns_and_the_api_server() -> None:
    rendering = helmrender.render([PRODUCTION], {"networkPolicy": {
        "enabled": True, "egress": [SQL_SERVER]}})
    (policy,) = rendering.of_kind("NetworkPolicy")
    kubernetes_validate.validate(policy, helmrender.KUBE_VERSION, strict=True)
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["egress"] == [
        {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
        {"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]},
        SQL_SERVER]
    assert all(selects(spec["podSelector"], labels)
               for labels in pod_labels(rendering).values())


def test_in_demo_mode_egress_rules_keep_the_demo_store_reachable() -> None:
    rendering = helmrender.render([DEMO], {"networkPolicy": {
        "enabled": True, "egress": [SQL_SERVER]}})
    spec = rendering.one("NetworkPolicy", "-pods")["spec"]
    store = next(r for r in spec["egress"] if "to" in r and "podSelector" in r["to"][0])
    store_pod = next(p["spec"]["template"]["metadata"]["labels"]
                     for p in rendering.of_kind("Deployment"))
    assert selects(store["to"][0]["podSelector"], store_pod)
    assert store["ports"] == [{"port": 8765, "protocol": "TCP"}]


def test_a_bad_egress_rule_is_refused_by_the_schema() -> None:
    with pytest.raises(helmrender.ChartError, match="schema"):
        helmrender.render([PRODUCTION], {"networkPolicy": {"enabled": True,
                                                           "egress": [{"cidr": "10/8"}]}})
