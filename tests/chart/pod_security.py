"""The Pod Security Standard "restricted" as rules over a pod spec, and the pods Argo makes.

Rules: Kubernetes' "Pod Security Standards" page (kubernetes/website
content/en/docs/concepts/security/pod-security-standards.md), the Baseline table plus the
Restricted table, policy version "latest"; "containers" means containers, initContainers and
ephemeralContainers. Argo's step pods are assembled as argo-workflows v3.7.18 builds them
(workflow/controller/workflowpod.go): see ``argo_step_pod``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml

# Restricted "Volume Types".
ALLOWED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                   "persistentVolumeClaim", "projected", "secret"}
# Baseline "Sysctls" (the safe set).
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}
SELINUX_TYPES = {None, "", "container_t", "container_init_t", "container_kvm_t",
                 "container_engine_t"}
PROFILE_TYPES = {"RuntimeDefault", "Localhost"}


def containers(pod: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from pod.get(key) or []


def _selinux(where: str, options: Mapping[str, Any] | None) -> list[str]:
    if not options:
        return []
    bad = []
    if options.get("type") not in SELINUX_TYPES:
        bad.append(f"{where}: seLinuxOptions.type `{options['type']}`")
    if options.get("user") or options.get("role"):
        bad.append(f"{where}: seLinuxOptions user/role set")
    return bad


def violations(pod: Mapping[str, Any]) -> list[str]:
    """Every "restricted" rule this pod spec breaks (empty: it is admitted)."""
    bad: list[str] = []
    context = pod.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            bad.append(f"pod: {field}")
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= ALLOWED_VOLUMES:
            bad.append(f"volume {volume['name']}: type {sorted(kinds - ALLOWED_VOLUMES)}")
    for sysctl in context.get("sysctls") or []:
        if sysctl["name"] not in SAFE_SYSCTLS:
            bad.append(f"pod: sysctl {sysctl['name']}")
    bad += _selinux("pod", context.get("seLinuxOptions"))
    if context.get("runAsUser") == 0:
        bad.append("pod: runAsUser 0")
    if (context.get("windowsOptions") or {}).get("hostProcess"):
        bad.append("pod: hostProcess")
    pod_seccomp = (context.get("seccompProfile") or {}).get("type")
    if pod_seccomp is not None and pod_seccomp not in PROFILE_TYPES:
        bad.append(f"pod: seccompProfile {pod_seccomp}")
    pod_apparmor = (context.get("appArmorProfile") or {}).get("type")
    if pod_apparmor is not None and pod_apparmor not in PROFILE_TYPES:
        bad.append(f"pod: appArmorProfile {pod_apparmor}")
    for box in containers(pod):
        where = f"container {box['name']}"
        sc = box.get("securityContext") or {}
        if sc.get("privileged"):
            bad.append(f"{where}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            bad.append(f"{where}: allowPrivilegeEscalation is not false")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            bad.append(f"{where}: capabilities.drop lacks ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            bad.append(f"{where}: capabilities.add {caps['add']}")
        non_root = sc.get("runAsNonRoot", context.get("runAsNonRoot"))
        if non_root is not True:
            bad.append(f"{where}: runAsNonRoot is not true (pod or container)")
        if sc.get("runAsUser") == 0:
            bad.append(f"{where}: runAsUser 0")
        seccomp = (sc.get("seccompProfile") or {}).get("type", pod_seccomp)
        if seccomp not in PROFILE_TYPES:
            bad.append(f"{where}: seccompProfile {seccomp} (pod or container)")
        apparmor = (sc.get("appArmorProfile") or {}).get("type")
        if apparmor is not None and apparmor not in PROFILE_TYPES:
            bad.append(f"{where}: appArmorProfile {apparmor}")
        if sc.get("procMount", "Default") != "Default":
            bad.append(f"{where}: procMount")
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            bad.append(f"{where}: hostProcess")
        bad += _selinux(where, sc.get("seLinuxOptions"))
        bad += [f"{where}: hostPort {p['hostPort']}" for p in box.get("ports") or []
                if p.get("hostPort")]
    return bad


def executor_security_context(configmap_text: str) -> dict[str, Any] | None:
    """``executor.securityContext`` of a workflow-controller-configmap (its ``executor`` key
    is YAML in a string, as in argo-workflows docs/workflow-controller-configmap.yaml)."""
    data = yaml.safe_load(configmap_text)["data"]
    executor = yaml.safe_load(data.get("executor") or "{}") or {}
    return executor.get("securityContext")


# workflow/common/common.go: where the executor's token is mounted, and its volume.
TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_VOLUME = "exec-sa-token"


def argo_step_pod(spec: Mapping[str, Any], template: Mapping[str, Any],
                  executor_context: Mapping[str, Any] | None,
                  token_secret: str = "executor-token") -> dict[str, Any]:
    """The pod spec Argo v3.7.18 creates for a container template (workflowpod.go):
    - ``init`` and ``wait`` take their securityContext only from the controller's
      ``executor`` config (newExecContainer; resource templates excepted);
    - ``main`` is the template's container;
    - the pod securityContext is the template's, else the workflow's;
    - volumes are ``var-run-argo`` and ``tmp-dir-argo`` emptyDirs plus the workflow's
      (createVolumes, volumeVarArgo);
    - setupServiceAccount: ``automountServiceAccountToken: false`` reaches the pod, and with
      ``executor.serviceAccountName`` the executor's token Secret (named by the account's
      annotation, util/secrets/secret_name.go; ``token_secret`` here) is a volume mounted in
      ``init`` and ``wait`` only (newExecContainer); false without an executor account is
      refused.
    """
    automount = template.get("automountServiceAccountToken",
                             spec.get("automountServiceAccountToken"))
    executor_account = ((template.get("executor") or spec.get("executor") or {})
                        .get("serviceAccountName"))
    if automount is False and not executor_account:
        raise ValueError("executor.serviceAccountName must not be empty if "
                         "automountServiceAccountToken is false")

    def executor(name: str) -> dict[str, Any]:
        box: dict[str, Any] = {"name": name, "image": "quay.io/argoproj/argoexec:v3.7.18"}
        if executor_context is not None:
            box["securityContext"] = dict(executor_context)
        if executor_account:
            box["volumeMounts"] = [{"name": TOKEN_VOLUME, "mountPath": TOKEN_MOUNT_PATH,
                                    "readOnly": True}]
        return box

    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "serviceAccountName": template.get("serviceAccountName") or spec.get(
            "serviceAccountName", "default"),
        "volumes": [{"name": "var-run-argo", "emptyDir": {}},
                    {"name": "tmp-dir-argo", "emptyDir": {}}, *(spec.get("volumes") or [])],
        "initContainers": [executor("init")],
        "containers": [executor("wait"), {**template["container"], "name": "main"}],
    }
    if automount is False:
        pod["automountServiceAccountToken"] = False
    if executor_account:
        pod["volumes"].append({"name": TOKEN_VOLUME, "secret": {"secretName": token_secret}})
    context = template.get("securityContext") or spec.get("securityContext")
    if context is not None:
        pod["securityContext"] = context
    for field in ("hostNetwork",):
        if field in spec:
            pod[field] = spec[field]
    return pod


def token_in(pod: Mapping[str, Any], container: Mapping[str, Any]) -> bool:
    """Whether ``container`` of ``pod`` gets a service-account token: the kubelet mounts one
    unless the pod says `automountServiceAccountToken: false` (or the account does, which
    these pods never rely on), besides any volume mounted at the token path."""
    if pod.get("automountServiceAccountToken") is not False:
        return True
    return any(m.get("mountPath") == TOKEN_MOUNT_PATH for m in container.get("volumeMounts")
               or [])


def argo_step_pod_labels(spec: Mapping[str, Any], template: Mapping[str, Any]) -> dict[str, str]:
    """The labels of a step pod (workflowpod.go addMetadata): the workflow's podMetadata,
    then the template's own metadata; Argo's bookkeeping labels besides."""
    return {"workflows.argoproj.io/completed": "false",
            **((spec.get("podMetadata") or {}).get("labels") or {}),
            **((template.get("metadata") or {}).get("labels") or {})}
