"""Submit and follow DeltaStore workflows through the Kubernetes API (no ``argo`` binary).

``workflow_from_template`` and ``workflow_from_cron`` build the Workflow object (pure, tested
offline); ``connect``, ``submit``, ``wait`` and ``status`` talk to the cluster with the
``kubernetes`` client's CustomObjectsApi.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deltastore.errors import EXIT_FAILED, EXIT_OK, ConfigError, TransientError
from deltastore.workflows.argo import backfill, cron, template

GROUP, VERSION = "argoproj.io", "v1alpha1"
FINAL_PHASES = ("Succeeded", "Failed", "Error")
# Labels and annotation Argo puts on a run (argo-workflows v3.7.12 workflow/common/common.go
# ~37-101): the CronWorkflow's history limits and UI find its runs by the cron label.
CRON_LABEL = "workflows.argoproj.io/cron-workflow"
TEMPLATE_LABEL = "workflows.argoproj.io/workflow-template"
SCHEDULED_TIME = "workflows.argoproj.io/scheduled-time"
INSTANCE_ID_LABEL = "workflows.argoproj.io/controller-instanceid"
# The CronWorkflow's labels a run inherits (workflow/common/convert.go ~15-19).
PROPAGATED_LABELS = ("workflows.argoproj.io/creator", "workflows.argoproj.io/creator-email",
                     "workflows.argoproj.io/creator-preferred-username")
KNOWN_PARAMETERS = {t.NAME: t.PARAMETERS for t in (template, backfill)}


def parse_params(pairs: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--param `{pair}` must look like `name=value`, "
                              "for example `run-date=2026-01-31`")
        params[name.strip()] = value
    return params


def check_params(template_name: str, params: Mapping[str, str]) -> None:
    """Reject names and values the template does not accept, before the cluster does."""
    known = {p.name: p for p in KNOWN_PARAMETERS.get(template_name, ())}
    if not known:
        return
    for name, value in params.items():
        if name not in known:
            raise ConfigError(f"parameter `{name}` is unknown to `{template_name}`; known: "
                              + ", ".join(f"`{n}`" for n in known))
        allowed = known[name].enum
        if allowed and value not in allowed:
            raise ConfigError(f"parameter `{name}` is `{value}`; use one of "
                              + ", ".join(f"`{v}`" for v in allowed))


def _arguments(existing: Mapping[str, Any] | None, params: Mapping[str, str]) -> dict[str, Any]:
    merged = {p["name"]: p for p in (existing or {}).get("parameters", [])}
    for name, value in params.items():
        merged[name] = {"name": name, "value": value}
    return {"parameters": list(merged.values())}


def _metadata(generate_name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {"generateName": f"{generate_name}-",
            "labels": {**template.LABELS, **labels, "app.kubernetes.io/managed-by": "deltastore"}}


def workflow_from_template(params: Mapping[str, str],
                           template_name: str = template.NAME) -> dict[str, Any]:
    """A Workflow that runs the WorkflowTemplate with these parameters, labelled as
    ``argo submit --from workflowtemplate/…`` labels it (``convert.go`` ~55-75)."""
    check_params(template_name, params)
    spec: dict[str, Any] = {"workflowTemplateRef": {"name": template_name}}
    if params:
        spec["arguments"] = _arguments(None, params)
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Workflow",
            "metadata": _metadata(template_name, {TEMPLATE_LABEL: template_name}),
            "spec": spec}


def workflow_from_cron(cron_workflow: Mapping[str, Any], params: Mapping[str, str],
                       now: dt.datetime | None = None) -> dict[str, Any]:
    """The Workflow ``argo submit --from cronwf/<name>`` creates (v3.7.12
    ``workflow/common/convert.go`` ConvertCronWorkflowToWorkflow and toWorkflow ~21-110):
    the cron's ``workflowSpec``; the cron label, a ``scheduled-time`` annotation, the
    propagated creator and instance-id labels, ``workflowMetadata`` merged in, and a
    controller ownerReference, so the run counts in the cron's history limits and is
    deleted with it. The ownerReference needs the live object's ``uid`` (not in dry runs).
    """
    spec = copy.deepcopy(dict(cron_workflow["spec"]["workflowSpec"]))
    ref = spec.get("workflowTemplateRef", {}).get("name")
    if ref:
        check_params(ref, params)
    if params:
        spec["arguments"] = _arguments(spec.get("arguments"), params)
    meta = cron_workflow["metadata"]
    name = meta["name"]
    cron_labels = meta.get("labels") or {}
    labels = {k: cron_labels[k] for k in (*PROPAGATED_LABELS, INSTANCE_ID_LABEL)
              if k in cron_labels}
    now = now or dt.datetime.now(dt.UTC)
    annotations = {SCHEDULED_TIME: now.isoformat(timespec="seconds").replace("+00:00", "Z")}
    run_meta = cron_workflow["spec"].get("workflowMetadata") or {}
    metadata = _metadata(name, {**labels, CRON_LABEL: name, **(run_meta.get("labels") or {})})
    metadata["annotations"] = {**annotations, **(run_meta.get("annotations") or {})}
    if run_meta.get("finalizers"):
        metadata["finalizers"] = list(run_meta["finalizers"])
    if meta.get("uid"):
        # metav1.NewControllerRef: controller and blockOwnerDeletion both true.
        metadata["ownerReferences"] = [{
            "apiVersion": cron_workflow.get("apiVersion", f"{GROUP}/{VERSION}"),
            "kind": "CronWorkflow", "name": name, "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}]
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Workflow",
            "metadata": metadata, "spec": spec}


@dataclass(frozen=True)
class NodeRow:
    name: str
    phase: str
    seconds: float | None
    message: str


def _seconds(started: str | None, finished: str | None, now: dt.datetime) -> float | None:
    if not started:
        return None
    start = dt.datetime.fromisoformat(started.replace("Z", "+00:00"))
    end = dt.datetime.fromisoformat(finished.replace("Z", "+00:00")) if finished else now
    return (end - start).total_seconds()


def node_rows(workflow: Mapping[str, Any], now: dt.datetime | None = None) -> list[NodeRow]:
    """The workflow's pods and steps (not its DAG/retry wrappers), oldest first."""
    now = now or dt.datetime.now(dt.UTC)
    nodes = (workflow.get("status") or {}).get("nodes") or {}
    rows = [NodeRow(n.get("displayName", key), n.get("phase", "Pending"),
                    _seconds(n.get("startedAt"), n.get("finishedAt"), now),
                    n.get("message", ""))
            for key, n in nodes.items() if n.get("type") in ("Pod", "Skipped", "Suspend")]
    return sorted(rows, key=lambda r: (r.seconds is None, r.name))


def format_rows(workflow: Mapping[str, Any], rows: Sequence[NodeRow]) -> str:
    phase = (workflow.get("status") or {}).get("phase") or "Pending"
    lines = [f"{workflow['metadata']['name']}: {phase}"]
    width = max((len(r.name) for r in rows), default=4)
    for r in rows:
        took = "" if r.seconds is None else f"{r.seconds:.0f}s"
        lines.append(f"  {r.name:<{width}}  {r.phase:<9}  {took:>6}  {r.message}".rstrip())
    return "\n".join(lines)


# --- cluster access ---------------------------------------------------------------------

def connect(context: str | None = None, kubeconfig: str | None = None) -> Any:
    """CustomObjectsApi from the kubeconfig (or the pod's service account in a cluster)."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    try:
        if context is None and kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config()
        else:
            config.load_kube_config(config_file=kubeconfig, context=context)
    except (ConfigException, OSError) as exc:
        raise ConfigError(f"cannot load the Kubernetes configuration"
                          f"{f' for context `{context}`' if context else ''}: {exc}; "
                          "check KUBECONFIG or pass --context") from None
    return client.CustomObjectsApi()


def _call(action: str, fn: Callable[[], Any]) -> Any:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        return fn()
    except ApiException as exc:
        if exc.status and 400 <= exc.status < 500:
            raise ConfigError(f"{action}: the cluster answered `{exc.status} {exc.reason}`; "
                              "check the namespace, that the chart is installed and the "
                              "RBAC rights") from None
        raise TransientError(f"{action}: the cluster answered `{exc.status}`; retry") from None
    except HTTPError as exc:
        raise TransientError(f"{action}: cannot reach the cluster (`{type(exc).__name__}`)") \
            from None


def get_cron(api: Any, namespace: str, name: str = cron.DAILY) -> dict[str, Any]:
    return _call(f"reading CronWorkflow `{name}`", lambda: api.get_namespaced_custom_object(
        GROUP, VERSION, namespace, "cronworkflows", name))


def submit(api: Any, namespace: str, body: Mapping[str, Any]) -> str:
    created = _call("creating the Workflow", lambda: api.create_namespaced_custom_object(
        GROUP, VERSION, namespace, "workflows", dict(body)))
    return str(created["metadata"]["name"])


def get_workflow(api: Any, namespace: str, name: str) -> dict[str, Any]:
    return _call(f"reading Workflow `{name}`", lambda: api.get_namespaced_custom_object(
        GROUP, VERSION, namespace, "workflows", name))


def failure_report(workflow: Mapping[str, Any]) -> list[str]:
    """``status.message`` and each failed pod node's name and message."""
    status = workflow.get("status") or {}
    lines = [f"message: {status['message']}"] if status.get("message") else []
    lines += [f"failed: {row.name}: {row.message or row.phase}" for row in node_rows(workflow)
              if row.phase in ("Failed", "Error")]
    return lines


def wait(get: Callable[[], Mapping[str, Any]], timeout: float, poll_seconds: float = 5.0,
         echo: Callable[[str], None] = print,
         clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> str | None:
    """Follow node phases until the workflow ends; its final phase, or None on timeout.

    A transient API error (5xx, connection reset, an API server restart) is reported and
    retried until the deadline; on a final phase the failures are printed.
    """
    seen: dict[str, str] = {}
    deadline = clock() + timeout
    while True:
        try:
            workflow = get()
        except TransientError as exc:
            echo(f"retrying: {exc}")
            workflow = {}
        for row in node_rows(workflow):
            if seen.get(row.name) != row.phase:
                seen[row.name] = row.phase
                echo(f"{row.name}: {row.phase}" + (f" ({row.message})" if row.message else ""))
        phase = (workflow.get("status") or {}).get("phase")
        if phase in FINAL_PHASES:
            for line in failure_report(workflow) if phase != "Succeeded" else []:
                echo(line)
            return str(phase)
        if clock() >= deadline:
            return None
        sleep(poll_seconds)


def current_namespace(context: str | None = None, kubeconfig: str | None = None) -> str:
    """The namespace of the kube context (or of the pod), else ``default``."""
    in_pod = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
    if context is None and kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST") \
            and os.path.isfile(in_pod):
        with open(in_pod) as handle:
            return handle.read().strip() or "default"
    try:
        from kubernetes import config

        contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)
        chosen = next((c for c in contexts if c["name"] == context), active) if context \
            else active
        return str((chosen or {}).get("context", {}).get("namespace") or "default")
    except Exception:  # no kubeconfig: connect() reports it properly
        return "default"


@dataclass(frozen=True)
class SubmitRequest:
    source: str                      # "template" or "cron"
    name: str | None = None          # template or CronWorkflow name; default per source
    params: tuple[str, ...] = ()     # "name=value" pairs
    wait: bool = False
    namespace: str | None = None
    context: str | None = None
    timeout: float = 6 * 3600
    dry_run: bool = False
    kubeconfig: str | None = None    # default: $KUBECONFIG or ~/.kube/config
    poll_seconds: float = 5.0


def submit_workflow(request: SubmitRequest, echo: Callable[[str], None] = print) -> int:
    """``deltastore workflows submit``: create the Workflow, print its name, maybe wait.

    Exit code 0 once created (or, with ``wait``, only when it Succeeded); 1 when it failed,
    errored or did not end within ``timeout`` seconds.
    """
    params = parse_params(request.params)
    if request.source not in ("template", "cron"):
        raise ConfigError(f"--from `{request.source}` is unknown: use `template` or `cron`")
    if request.dry_run:
        from deltastore.workflows.argo.options import DEFAULT_OPTIONS
        from deltastore.workflows.argo.render import render_objects, to_yaml

        if request.source == "cron":
            name = request.name or cron.DAILY
            body = workflow_from_cron(render_objects(DEFAULT_OPTIONS)[
                f"cronworkflow-{name}.yaml"], params)
        else:
            body = workflow_from_template(params, request.name or template.NAME)
        echo(to_yaml(body).split("\n", 1)[1])
        return EXIT_OK
    namespace = request.namespace or current_namespace(request.context, request.kubeconfig)
    api = connect(request.context, request.kubeconfig)
    if request.source == "cron":
        body = workflow_from_cron(get_cron(api, namespace, request.name or cron.DAILY), params)
    else:
        body = workflow_from_template(params, request.name or template.NAME)
    name = submit(api, namespace, body)
    echo(name)
    if not request.wait:
        return EXIT_OK
    phase = wait(lambda: get_workflow(api, namespace, name), request.timeout,
                 request.poll_seconds, echo=echo)
    if phase is None:
        echo(f"{name}: still running after {request.timeout:.0f}s (timeout)")
        return EXIT_FAILED
    echo(f"{name}: {phase}")
    return EXIT_OK if phase == "Succeeded" else EXIT_FAILED


def show_status(name: str, namespace: str | None = None, context: str | None = None,
                kubeconfig: str | None = None, echo: Callable[[str], None] = print) -> int:
    """``deltastore workflows status``: nodes with phase, duration and message."""
    namespace = namespace or current_namespace(context, kubeconfig)
    api = connect(context, kubeconfig)
    workflow = get_workflow(api, namespace, name)
    echo(format_rows(workflow, node_rows(workflow)))
    phase = (workflow.get("status") or {}).get("phase")
    return EXIT_FAILED if phase in ("Failed", "Error") else EXIT_OK
