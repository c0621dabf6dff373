"""Reading a cluster that runs the DeltaStore chart: its Helm release values, the workflow a
test checks, and short-lived pods that read the demo PVC.

Everything goes through the `kubernetes` client with the kube context the tests were given,
so the same tests run against kind in CI and against any cluster a developer points them at.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
GROUP, VERSION = "argoproj.io", "v1alpha1"
FINAL_PHASES = ("Succeeded", "Failed", "Error")
# Run in the pipeline image: the row count of every published mart, as one JSON line, read
# with the pipeline's own settings and connection code.
READ_MARTS = """
import json
from deltastore.db import connect
from deltastore.settings import Settings
con = connect(Settings.from_env().sync_target_url, read_only=True)
tables = [r[0] for r in con.execute(
    "select table_name from information_schema.tables "
    "where table_schema = 'analytics' and table_type = 'BASE TABLE'").fetchall()]
print(json.dumps({t: con.execute(f'select count(*) from analytics."{t}"').fetchone()[0]
                  for t in tables}))
"""
NAMESPACE = os.environ.get("DELTASTORE_KUBE_NAMESPACE", "deltastore")
RELEASE = os.environ.get("DELTASTORE_KUBE_RELEASE", "deltastore")


@dataclass(frozen=True)
class Cluster:
    """API handles for one kube context, and the namespace and release under test."""

    context: str
    namespace: str
    release: str
    core: Any        # kubernetes.client.CoreV1Api
    apps: Any        # kubernetes.client.AppsV1Api
    custom: Any      # kubernetes.client.CustomObjectsApi

    @classmethod
    def connect(cls, context: str, namespace: str = NAMESPACE,
                release: str = RELEASE) -> Cluster:
        from kubernetes import client, config

        api = config.new_client_from_config(context=context)
        return cls(context, namespace, release, client.CoreV1Api(api), client.AppsV1Api(api),
                   client.CustomObjectsApi(api))

    def argo(self, plural: str, name: str) -> dict[str, Any]:
        return dict(self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, plural, name))

    def argo_list(self, plural: str) -> list[dict[str, Any]]:
        found = self.custom.list_namespaced_custom_object(GROUP, VERSION, self.namespace, plural)
        return list(found.get("items", []))

    def selector(self, component: str) -> str:
        return (f"app.kubernetes.io/instance={self.release},"
                f"app.kubernetes.io/component={component}")


def decode_helm_release(secret_data: Mapping[str, str]) -> dict[str, Any]:
    """A Helm 3/4 release Secret's payload: base64 (by Kubernetes) of base64 of gzip JSON."""
    payload = base64.b64decode(base64.b64decode(secret_data["release"]))
    if payload[:2] == b"\x1f\x8b":
        payload = gzip.decompress(payload)
    return dict(json.loads(payload))


def merged(defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's value merge: maps merge key by key, anything else is replaced."""
    result = dict(defaults)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def release_values(cluster: Cluster) -> dict[str, Any]:
    """The values the deployed release was installed with (chart defaults + user values)."""
    secrets = cluster.core.list_namespaced_secret(
        cluster.namespace, label_selector=f"owner=helm,name={cluster.release},status=deployed")
    if not secrets.items:
        raise AssertionError(f"no deployed Helm release `{cluster.release}` in namespace "
                             f"`{cluster.namespace}`; install the chart first (see kind.yml)")
    latest = max(secrets.items, key=lambda s: int(s.metadata.labels.get("version", "0")))
    release = decode_helm_release(latest.data)
    return merged(release["chart"].get("values") or {}, release.get("config") or {})


def newest_finished_workflow(cluster: Cluster, prefix: str) -> str | None:
    candidates = [w for w in cluster.argo_list("workflows")
                  if w["metadata"]["name"].startswith(prefix)
                  and (w.get("status") or {}).get("phase") in FINAL_PHASES]
    if not candidates:
        return None
    return str(max(candidates, key=lambda w: w["metadata"]["creationTimestamp"])
               ["metadata"]["name"])


def dag_tasks(workflow_template: Mapping[str, Any]) -> list[str]:
    """Task names of the template's entrypoint DAG."""
    entry = workflow_template["spec"]["entrypoint"]
    (dag,) = [t["dag"] for t in workflow_template["spec"]["templates"] if t["name"] == entry]
    return [task["name"] for task in dag["tasks"]]


def task_phases(workflow: Mapping[str, Any], tasks: list[str]) -> dict[str, str]:
    """The outcome of each DAG task: its Retry node's phase when it has retries (failed
    attempts below a Retry node that succeeded are fine), else its pod's; `Missing` when the
    workflow has no node for it."""
    nodes = (workflow.get("status") or {}).get("nodes") or {}
    outcome: dict[str, str] = {}
    for task in tasks:
        own = [n for n in nodes.values() if n.get("displayName") == task]
        retry = [n for n in own if n.get("type") == "Retry"]
        pods = [n for n in own if n.get("type") == "Pod"]
        chosen = retry or pods or own
        outcome[task] = chosen[0].get("phase", "Pending") if len(chosen) == 1 else (
            "Missing" if not chosen else "Ambiguous")
    return outcome


def unexplained_failures(workflow: Mapping[str, Any]) -> list[str]:
    """Failed or errored nodes that are not an attempt a later retry made good."""
    nodes = (workflow.get("status") or {}).get("nodes") or {}
    retried = {child for n in nodes.values()
               if n.get("type") == "Retry" and n.get("phase") == "Succeeded"
               for child in n.get("children", [])}
    return sorted(n.get("displayName", key) for key, n in nodes.items()
                  if n.get("phase") in ("Failed", "Error") and key not in retried)


def run_pod(cluster: Cluster, *, image: str, command: list[str], config_map: str,
            pvc: str, timeout: float = 300.0) -> str:
    """Run a one-off pod with the demo PVC mounted; its log once it succeeded. The volume is
    writable only because DuckDB may need to replay a leftover WAL file; readers open the
    files read-only."""
    name = f"deltastore-kind-test-{uuid.uuid4().hex[:8]}"
    user = 10001  # the image's user, as in the chart
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "deltastore",
                                              "app.kubernetes.io/component": "kind-test"}},
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": int(timeout),
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": user, "runAsGroup": user,
                                "fsGroup": user, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "reader",
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "command": command,
                "envFrom": [{"configMapRef": {"name": config_map}}],
                "securityContext": {"allowPrivilegeEscalation": False,
                                    "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}},
                "volumeMounts": [{"name": "data", "mountPath": "/data"},
                                 {"name": "tmp", "mountPath": "/tmp"}],
            }],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": pvc}},
                        {"name": "tmp", "emptyDir": {}}],
        },
    }
    cluster.core.create_namespaced_pod(cluster.namespace, body)
    try:
        deadline = time.monotonic() + timeout
        phase = "Pending"
        while time.monotonic() < deadline:
            phase = cluster.core.read_namespaced_pod(name, cluster.namespace).status.phase
            if phase in ("Succeeded", "Failed"):
                break
            time.sleep(2)
        log = cluster.core.read_namespaced_pod_log(name, cluster.namespace) \
            if phase in ("Succeeded", "Failed") else ""
        if phase != "Succeeded":
            raise AssertionError(f"pod `{name}` ended {phase}: {log[-2000:]}")
        return str(log)
    finally:
        cluster.core.delete_namespaced_pod(name, cluster.namespace, grace_period_seconds=0)


def dbt_marts() -> list[str]:
    """The mart models of the dbt project in this checkout (all materialised as tables)."""
    return sorted(p.stem for p in (REPO / "dbt" / "models" / "marts").rglob("*.sql"))
