"""Run a Helm-rendered WorkflowTemplate's DAG the way Argo v3.7.12 would, one subprocess per
step, on this machine. A test harness, not an orchestrator: one attempt per step (retries are
tested in tests/workflows/argo/test_argo_retry.py), no parallelism, container templates only.

What it does as Argo does (argo-workflows v3.7.12, files cited where used):
- tasks run once all their dependencies ended, when ``depends`` holds (dag.go
  evaluateDependsLogic ~908; else the task is Omitted, ~547) and ``when`` is true
  (govaluate, steps.go shouldExecute ~375: bare words are strings);
- parameters are substituted into the JSON of the template (argo_forms.substitute);
- the container gets its ConfigMap through ``envFrom``, then ``env``: values and the
  Secret's keys (``secretKeyRef``);
- an output parameter is its ``valueFrom.path`` file minus one trailing newline, or
  ``default`` when the file is missing (workflow/executor/executor.go ~578-606);
- metrics get ``status``, ``duration``, ``outputs.parameters.*`` (steps.go prepareMetricScope
  ~666-720) and must have a numeric value;
- ``onExit`` runs last with ``workflow.status`` and ``workflow.failures`` (operator.go
  ~394-427), the failed pod nodes named ``<task>(0)`` under their retry node ``<task>``.
Volumes: each ``mountPath`` is a folder here; the pipeline's ``data`` claim is shared, every
other volume is per pod (emptyDir). Paths in env values, args and output paths move with it.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argo_forms import failures_global, go_duration, substitute

PHASE_WORDS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned")


@dataclass
class Node:
    task: str
    template: str
    phase: str                     # Succeeded, Failed, Skipped, Omitted
    argv: list[str] = field(default_factory=list)
    exit_code: int | None = None
    output: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    metrics: list[tuple[str, float]] = field(default_factory=list)
    finished: str = ""


@dataclass
class Run:
    name: str
    nodes: dict[str, Node]
    status: str
    exit_node: Node | None = None
    metrics: list[tuple[str, float]] = field(default_factory=list)


class Cluster:
    """The release's ConfigMap, Secret and volumes, as the step pods would see them."""

    def __init__(self, objects: list[dict[str, Any]], root: Path,
                 rewrite_env: Mapping[str, str] | None = None) -> None:
        self.root = root
        self.env: dict[str, str] = {}
        self.config_maps = {o["metadata"]["name"]: dict(o.get("data") or {})
                            for o in objects if o["kind"] == "ConfigMap"}
        self.secrets = {o["metadata"]["name"]: {
            k: base64.b64decode(v).decode() for k, v in (o.get("data") or {}).items()}
            | dict(o.get("stringData") or {}) for o in objects if o["kind"] == "Secret"}
        self.rewrite_env = dict(rewrite_env or {})
        self.claims = root / "claims"

    def mounts(self, pod: str, spec: Mapping[str, Any],
               container: Mapping[str, Any]) -> dict[str, Path]:
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        found = {}
        for mount in container.get("volumeMounts") or []:
            volume = volumes[mount["name"]]
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            host = self.claims / claim if claim else self.root / "pods" / pod / mount["name"]
            host.mkdir(parents=True, exist_ok=True)
            found[mount["mountPath"]] = host
        return found

    def environment(self, container: Mapping[str, Any]) -> dict[str, str]:
        """``envFrom`` first, then ``env`` (literal values and ``secretKeyRef``s); a missing
        Secret or key is left out when ``optional``, else the kubelet refuses to start the
        container (CreateContainerConfigError), as here."""
        env: dict[str, str] = {}
        for source in container.get("envFrom") or []:
            if "configMapRef" in source:
                env.update(self.config_maps[source["configMapRef"]["name"]])
            if "secretRef" in source:
                env.update(self.secrets[source["secretRef"]["name"]])
        for item in container.get("env") or []:
            if "value" in item:
                env[item["name"]] = item["value"]
                continue
            ref = item["valueFrom"]["secretKeyRef"]
            value = self.secrets.get(ref["name"], {}).get(ref["key"])
            if value is not None:
                env[item["name"]] = value
            elif not ref.get("optional"):
                raise AssertionError(f"CreateContainerConfigError: secret {ref['name']!r} "
                                     f"has no key {ref['key']!r}")
        return {k: self.rewrite_env.get(k, v) for k, v in env.items()}


def moved(text: str, mounts: Mapping[str, Path]) -> str:
    """A path under a mountPath, moved to its folder here (also inside URLs); one pass, so
    a folder here that itself lies under /tmp is not moved twice."""
    if not mounts:
        return text
    names = "|".join(re.escape(m) for m in sorted(mounts, key=len, reverse=True))
    return re.sub(rf"(^|=|://)({names})(?=/|$)",
                  lambda m: m.group(1) + str(mounts[m.group(2)]), text)


def run_container(cluster: Cluster, pod: str, spec: Mapping[str, Any],
                  container: Mapping[str, Any], timeout: float = 300,
                  wait: bool = True) -> subprocess.Popen[str] | tuple[int, str]:
    """Run a container's command/args (the image's entrypoint `deltastore` when no command)."""
    mounts = cluster.mounts(pod, spec, container)
    argv = [*(container.get("command") or ["deltastore"]), *map(str, container.get("args") or [])]
    argv = [moved(a, mounts) for a in argv]
    argv[0] = shutil.which(argv[0], path=os.path.dirname(sys.executable)) or argv[0]
    env = {k: moved(v, mounts) for k, v in cluster.environment(container).items()}
    env = {"PATH": os.environ["PATH"], "PYTHONUNBUFFERED": "1", **env}
    cwd = mounts.get("/tmp", cluster.root)
    if not wait:
        return subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return done.returncode, done.stdout + done.stderr


def when_holds(expression: str | None) -> bool:
    """govaluate after substitution; our `when`s compare quoted strings with == / !=."""
    if not expression:
        return True
    match = re.fullmatch(r"\s*'([^']*)'\s*(==|!=)\s*'([^']*)'\s*", expression)
    assert match, f"`when: {expression}` is beyond this harness"
    left, op, right = match.groups()
    return (left == right) == (op == "==")


def metric_when(expression: str) -> bool:
    """A metric's `when` after substitution: `Failed != Succeeded` (bare words are strings)."""
    left, op, right = re.fullmatch(r"\s*(\S+)\s*(==|!=)\s*(\S+)\s*", expression).groups()
    return (left == right) == (op == "==")


def depends_holds(expression: str | None, nodes: Mapping[str, Node]) -> bool:
    """dag.go: `task.Succeeded` etc. over the dependencies' phases; && || ( ) and !."""
    if not expression:
        return True
    def phase(match: re.Match[str]) -> str:
        node = nodes[match.group(1)]
        word = match.group(2)
        return str(node.phase == {"Errored": "Error"}.get(word, word))
    python = re.sub(rf"([a-z0-9-]+)\.({'|'.join(PHASE_WORDS)})", phase, expression)
    python = python.replace("&&", " and ").replace("||", " or ").replace("!", " not ")
    assert re.fullmatch(r"[\sTrueFalsandort()]*", python), python
    return bool(eval(python, {"__builtins__": {}}))  # noqa: S307


def dependencies(expression: str | None) -> list[str]:
    return re.findall(rf"([a-z0-9-]+)\.(?:{'|'.join(PHASE_WORDS)})", expression or "")


def emit_metrics(template: Mapping[str, Any], scope: Mapping[str, str]) -> list[tuple[str, float]]:
    emitted = []
    for metric in (template.get("metrics") or {}).get("prometheus") or []:
        metric = substitute(metric, scope)
        if metric.get("when") and not metric_when(metric["when"]):
            continue
        kind = "gauge" if "gauge" in metric else "counter"
        emitted.append((metric["name"], float(metric[kind]["value"])))
    return emitted


def run_workflow(cluster: Cluster, workflow_template: Mapping[str, Any],
                 parameters: Mapping[str, str], name: str = "deltastore-pipeline-h4rns") -> Run:
    spec = workflow_template["spec"]
    templates = {t["name"]: t for t in spec["templates"]}
    params = {p["name"]: str(p.get("value", "")) for p in spec["arguments"]["parameters"]}
    params.update(parameters)
    scope = {"workflow.name": name, **{f"workflow.parameters.{k}": v for k, v in params.items()}}
    started = time.monotonic()
    tasks = {t["name"]: t for t in templates[spec["entrypoint"]]["dag"]["tasks"]}
    nodes: dict[str, Node] = {}
    while len(nodes) < len(tasks):
        ready = [t for n, t in tasks.items() if n not in nodes
                 and all(d in nodes for d in dependencies(t.get("depends")))]
        assert ready, f"DAG stuck: {sorted(set(tasks) - set(nodes))}"
        task = ready[0]
        nodes[task["name"]] = run_task(cluster, spec, templates[task["template"]], task,
                                       scope, nodes)
    failed = [n for n in nodes.values() if n.phase == "Failed"]
    status = "Failed" if failed else "Succeeded"
    seconds = go_duration(time.monotonic() - started)
    # What operator.go ~405-418 lists for a failed run: the DAG node (failed with no
    # message, dag.go ~330), each failed task's retry node (message from operator.go
    # ~1144: our expression refuses exit codes other than 1) and its pod node (inferFailedReason
    # ~1674: "main: Error (exit code N)").
    failures = [{"displayName": name, "message": "", "templateName": spec["entrypoint"],
                 "phase": "Failed", "podName": name, "finishedAt": _now()}] if failed else []
    for n in failed:
        retried = "retryStrategy" in templates[n.template]
        pod = {"displayName": f"{n.task}(0)" if retried else n.task,
               "message": f"main: Error (exit code {n.exit_code})", "templateName": n.template,
               "phase": "Failed", "podName": f"{name}-{n.task}-0", "finishedAt": n.finished}
        failures.append(pod)
        if retried:
            failures.append({**pod, "displayName": n.task, "podName": f"{name}-{n.task}",
                             "message": "retryStrategy.expression evaluated to false"})
    exit_scope = {**scope, "workflow.status": status, "workflow.duration": seconds,
                  "workflow.failures": failures_global(failures)}
    exit_node = None
    if spec.get("onExit"):
        exit_node = run_task(cluster, spec, templates[spec["onExit"]],
                             {"name": spec["onExit"]}, exit_scope, nodes)
    return Run(name, nodes, status, exit_node, emit_metrics(spec, exit_scope))


def run_task(cluster: Cluster, spec: Mapping[str, Any], template: Mapping[str, Any],
             task: Mapping[str, Any], scope: Mapping[str, str],
             nodes: Mapping[str, Node]) -> Node:
    node = Node(task["name"], template["name"], "Omitted")
    if not depends_holds(task.get("depends"), nodes):
        return node
    task = substitute(task, scope)
    if not when_holds(task.get("when")):
        node.phase = "Skipped"
        return node
    inputs = {f"inputs.parameters.{p['name']}": str(p["value"])
              for p in (task.get("arguments") or {}).get("parameters") or []}
    resolved = substitute(substitute(template, scope), inputs)
    container = resolved["container"]
    node.argv = [*container.get("command", []), *container.get("args", [])]
    begun = time.monotonic()
    node.exit_code, node.output = run_container(cluster, task["name"], spec, container)
    node.finished = _now()
    node.phase = "Succeeded" if node.exit_code == 0 else "Failed"
    mounts = cluster.mounts(task["name"], spec, container)
    for parameter in (resolved.get("outputs") or {}).get("parameters") or []:
        source = parameter["valueFrom"]
        path = Path(moved(source["path"], mounts))
        node.outputs[parameter["name"]] = (path.read_text().removesuffix("\n")
                                           if path.is_file() else source["default"])
    metric_scope = {**scope, "status": node.phase,
                    "duration": go_duration(time.monotonic() - begun),
                    **{f"outputs.parameters.{k}": v for k, v in node.outputs.items()}}
    node.metrics = emit_metrics(template, metric_scope)
    return node


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
