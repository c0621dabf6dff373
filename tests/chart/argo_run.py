"""Run a Helm-rendered WorkflowTemplate the way Argo v3.7.18 would, one subprocess per pod,
on this machine. A test harness, not an orchestrator: no parallelism, DAGs of container
templates only (no fan-out), and time simulated (a backoff advances the clock, nobody
waits).

What it does as Argo does (argo-workflows v3.7.18, files cited where used):
- tasks run once all their dependencies ended, when ``depends`` holds (dag.go
  evaluateDependsLogic; else the task is Omitted) and ``when`` is true (govaluate,
  steps.go shouldExecute: bare words are strings);
- parameters are substituted into the JSON of the template (argo_forms.substitute);
- the container gets its ConfigMap through ``envFrom``, then ``env``: values and the
  Secret's keys (``secretKeyRef``);
- its exit code is argoexec emissary's: the process's own, or 137 when it died by a signal
  (cmd/argoexec/commands/emissary.go ``exitCode = 137 // SIGTERM``); a failed pod's node
  message is inferFailedReason's ``main: Error (exit code N)`` (operator.go);
- an output parameter is its ``valueFrom.path`` file minus one trailing newline, or
  ``default`` when the file is missing (workflow/executor/executor.go);
- a template with a ``retryStrategy`` runs as a retry node ``<task>`` over attempt nodes
  ``<task>(N)``, each with ``{{retries}}`` = N and ``lastRetry.*`` of the attempt before
  (operator.go executeTemplate). After a failed attempt the controller first waits the
  backoff, duration × factor^N capped (processNodeRetries), and only then evaluates the
  expression: a refused retry ends the retry node one backoff after its attempt with
  "retryStrategy.expression evaluated to false"; after the last allowed attempt no backoff
  is waited and the node ends on the next reconcile with "No more retries left". A
  controller's reconcile is modelled as one second;
- metrics: a retried template's are emitted for each attempt that is retried and once for
  the retry node (status, duration and, copied from its last attempt, outputs), not for
  the last attempt (operator.go executeTemplate); a plain template's once per pod. Scope:
  ``status``, ``duration``, ``inputs.parameters.*``, ``outputs.parameters.*``
  (prepareMetricScope); values must be numbers;
- the workflow's own metrics come from the template's spec whatever the entrypoint, with
  ``workflow.status`` (the entry node's phase), ``workflow.duration`` and
  ``workflow.mainEntrypoint`` (operator.go: ``woc.execWf.Spec.Metrics``);
- ``onExit`` runs last with ``workflow.status`` and ``workflow.failures``: every Failed or
  Error node with its display name, message, template and finish time (operator.go).
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argo_expr import evaluate
from argo_forms import failures_global, go_duration, substitute

PHASE_WORDS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned")
RECONCILE_SECONDS = 1.0
# Extra environment for one attempt of one task: (task, attempt number) -> variables.
AttemptEnv = Callable[[str, int], Mapping[str, str]]


@dataclass(frozen=True)
class Sample:
    """One emitted metric: the series (name and labels) and its value."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


def values_of(samples: list[Sample]) -> dict[str, float]:
    """Metric name -> value (the last one emitted), for tests that look at one series."""
    return {s.name: s.value for s in samples}


@dataclass
class Attempt:
    """One pod: the node `<task>(N)` of a retried template, or the task's own node."""

    number: int
    argv: list[str]
    exit_code: int
    output: str
    started: dt.datetime
    finished: dt.datetime
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def phase(self) -> str:
        return "Succeeded" if self.exit_code == 0 else "Failed"

    @property
    def message(self) -> str:
        return "" if self.exit_code == 0 else f"main: Error (exit code {self.exit_code})"


@dataclass
class Node:
    task: str
    template: str
    phase: str                     # Succeeded, Failed, Skipped, Omitted
    retried: bool = False          # a retry node over its attempts
    message: str = ""
    attempts: list[Attempt] = field(default_factory=list)
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    metrics: list[Sample] = field(default_factory=list)

    @property
    def last(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    # The last attempt's, as a test most often wants them.
    @property
    def exit_code(self) -> int | None:
        return self.last.exit_code if self.last else None

    @property
    def output(self) -> str:
        return self.last.output if self.last else ""

    @property
    def argv(self) -> list[str]:
        return self.last.argv if self.last else []

    @property
    def outputs(self) -> dict[str, str]:
        return self.last.outputs if self.last else {}

    def failed_nodes(self) -> list[dict[str, str]]:
        """This task's entries of ``workflow.failures`` (failedNodeStatus, operator.go)."""
        if self.phase not in ("Failed", "Error"):
            return []
        found = []
        if self.retried:
            found += [_failed(f"{self.task}({a.number})", a.message, self.template, a.finished)
                      for a in self.attempts if a.phase == "Failed"]
        found.append(_failed(self.task, self.message, self.template, self.finished))
        return found


@dataclass
class Run:
    name: str
    nodes: dict[str, Node]
    status: str
    exit_node: Node | None = None
    metrics: list[Sample] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)


class Clock:
    """Argo's timestamps: real time while a pod runs, simulated time for the controller's
    waits (a backoff, a reconcile), so a test never sleeps."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        # Real time to start with: steps compare what they record with it.
        self.now = start or dt.datetime.now(dt.UTC).replace(microsecond=0)

    def advance(self, seconds: float) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now


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


def emissary_exit_code(returncode: int) -> int:
    """The main container's exit code as argoexec emissary reports it: the process's own
    code, or 137 when it died by a signal (Go's ExitCode() is -1 then; emissary.go
    ``exitCode = 137 // SIGTERM``, cmd/argoexec/main.go ``os.Exit(137)``)."""
    return returncode if returncode >= 0 else 137


def run_container(cluster: Cluster, pod: str, spec: Mapping[str, Any],
                  container: Mapping[str, Any], timeout: float = 300,
                  wait: bool = True, extra_env: Mapping[str, str] | None = None,
                  ) -> subprocess.Popen[str] | tuple[int, str]:
    """Run a container's command/args (the image's entrypoint `deltastore` when no command)."""
    mounts = cluster.mounts(pod, spec, container)
    argv = [*(container.get("command") or ["deltastore"]), *map(str, container.get("args") or [])]
    argv = [moved(a, mounts) for a in argv]
    argv[0] = shutil.which(argv[0], path=os.path.dirname(sys.executable)) or argv[0]
    env = {k: moved(v, mounts) for k, v in cluster.environment(container).items()}
    env = {"PATH": os.environ["PATH"], "PYTHONUNBUFFERED": "1", **env, **(extra_env or {})}
    cwd = mounts.get("/tmp", cluster.root)
    if not wait:
        return subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return emissary_exit_code(done.returncode), done.stdout + done.stderr


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
    found = re.fullmatch(r"\s*(\S+)\s*(==|!=)\s*(\S+)\s*", expression)
    assert found, f"`when: {expression}` is beyond this harness"
    left, op, right = found.groups()
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


def emit_metrics(template: Mapping[str, Any], scope: Mapping[str, str]) -> list[Sample]:
    emitted = []
    for metric in (template.get("metrics") or {}).get("prometheus") or []:
        metric = substitute(metric, scope)
        assert "{{" not in str(metric), f"unresolved in metric: {metric}"
        if metric.get("when") and not metric_when(metric["when"]):
            continue
        kind = "gauge" if "gauge" in metric else "counter"
        labels = tuple((label["key"], label["value"]) for label in metric.get("labels") or [])
        emitted.append(Sample(metric["name"], labels, float(metric[kind]["value"])))
    return emitted


def _failed(display: str, message: str, template: str,
            finished: dt.datetime | None) -> dict[str, str]:
    return {"displayName": display, "message": message, "templateName": template,
            "phase": "Failed", "podName": display,
            "finishedAt": finished.strftime("%Y-%m-%dT%H:%M:%SZ") if finished else ""}


def backoff_seconds(strategy: Mapping[str, Any], attempt: int) -> float:
    """processNodeRetries: duration × factor^attempt, capped (attempt 0 waits `duration`)."""
    backoff = strategy.get("backoff") or {}
    if not backoff:
        return 0.0
    units = {"s": 1, "m": 60, "h": 3600}
    seconds = [sum(float(n) * units[u] for n, u in re.findall(r"(\d+)([smh])", backoff[k]))
               if k in backoff else None for k in ("duration", "cap")]
    wait = (seconds[0] or 0.0) * int(backoff.get("factor", 1)) ** attempt
    return min(wait, seconds[1]) if seconds[1] is not None else wait


def run_workflow(cluster: Cluster, workflow_template: Mapping[str, Any],
                 parameters: Mapping[str, str], name: str = "deltastore-pipeline-h4rns",
                 entrypoint: str | None = None, attempt_env: AttemptEnv | None = None,
                 clock: Clock | None = None) -> Run:
    spec = workflow_template["spec"]
    templates = {t["name"]: t for t in spec["templates"]}
    params = {p["name"]: str(p.get("value", "")) for p in spec["arguments"]["parameters"]}
    params.update(parameters)
    entry = entrypoint or spec["entrypoint"]
    clock = clock or Clock()
    started = clock.now
    scope = {"workflow.name": name, "workflow.mainEntrypoint": entry,
             "workflow.creationTimestamp": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
             **{f"workflow.parameters.{k}": v for k, v in params.items()}}
    runner = _TaskRunner(cluster, spec, templates, clock, attempt_env)
    if "dag" in templates[entry]:
        tasks = {t["name"]: t for t in templates[entry]["dag"]["tasks"]}
    else:   # a container as the entrypoint (the freshness CronWorkflow's)
        tasks = {entry: {"name": entry, "template": entry}}
    nodes: dict[str, Node] = {}
    while len(nodes) < len(tasks):
        ready = [t for n, t in tasks.items() if n not in nodes
                 and all(d in nodes for d in dependencies(t.get("depends")))]
        assert ready, f"DAG stuck: {sorted(set(tasks) - set(nodes))}"
        task = ready[0]
        nodes[task["name"]] = runner.run(templates[task["template"]], task, scope, nodes)
    failed = [n for n in nodes.values() if n.phase in ("Failed", "Error")]
    status = "Failed" if failed else "Succeeded"
    failures = [f for n in failed for f in n.failed_nodes()]
    if failed and "dag" in templates[entry]:   # the DAG node, with no message (dag.go)
        failures.insert(0, _failed(name, "", entry, clock.advance(RECONCILE_SECONDS)))
    exit_scope = {**scope, "workflow.status": status,
                  "workflow.duration": go_duration((clock.now - started).total_seconds()),
                  "workflow.failures": failures_global(failures)}
    exit_node = None
    if spec.get("onExit"):
        exit_node = runner.run(templates[spec["onExit"]], {"name": spec["onExit"]},
                               exit_scope, nodes)
    return Run(name, nodes, status, exit_node, emit_metrics(spec, exit_scope), failures)


class _TaskRunner:
    """Runs one DAG task: its pod, or its attempts under a retry node."""

    def __init__(self, cluster: Cluster, spec: Mapping[str, Any],
                 templates: Mapping[str, Mapping[str, Any]], clock: Clock,
                 attempt_env: AttemptEnv | None) -> None:
        self.cluster, self.spec, self.templates = cluster, spec, templates
        self.clock, self.attempt_env = clock, attempt_env

    def run(self, template: Mapping[str, Any], task: Mapping[str, Any],
            scope: Mapping[str, str], nodes: Mapping[str, Node]) -> Node:
        node = Node(task["name"], template["name"], "Omitted")
        if not depends_holds(task.get("depends"), nodes):
            return node
        task = substitute(task, scope)
        if not when_holds(task.get("when")):
            node.phase = "Skipped"
            return node
        inputs = {f"inputs.parameters.{p['name']}": str(p["value"])
                  for p in (task.get("arguments") or {}).get("parameters") or []}
        scope = {**scope, **inputs}
        strategy = template.get("retryStrategy")
        node.retried = strategy is not None
        node.started = self.clock.now
        while True:
            attempt = self._attempt(template, node, scope)
            node.attempts.append(attempt)
            if not strategy:
                node.phase, node.message, node.finished = (attempt.phase, attempt.message,
                                                           attempt.finished)
                node.metrics = self._metrics(template, scope, node.phase, attempt,
                                             node.started)
                return node
            if attempt.phase == "Succeeded":
                return self._end(node, template, scope, "Succeeded", "", RECONCILE_SECONDS)
            if attempt.number >= int(strategy.get("limit", 0)):
                return self._end(node, template, scope, attempt.phase,
                                 "No more retries left", RECONCILE_SECONDS)
            wait = backoff_seconds(strategy, attempt.number)
            if not evaluate(strategy["expression"], str(attempt.exit_code), attempt.phase,
                            attempt.message):
                return self._end(node, template, scope, attempt.phase,
                                 "retryStrategy.expression evaluated to false", wait)
            # Retried: this attempt's metrics now, the next one after the backoff.
            node.metrics += self._metrics(template, scope, attempt.phase, attempt,
                                          attempt.started)
            self.clock.advance(wait)

    def _attempt(self, template: Mapping[str, Any], node: Node,
                 scope: Mapping[str, str]) -> Attempt:
        number = len(node.attempts)
        local = dict(scope)
        if node.retried:
            before = node.last
            local |= {"retries": str(number),
                      "lastRetry.exitCode": str(before.exit_code) if before else "0",
                      "lastRetry.status": before.phase if before else "",
                      "lastRetry.message": before.message if before else "",
                      "lastRetry.duration": "0"}
        resolved = substitute(template, local)
        container = resolved["container"]
        pod = f"{node.task}-{number}" if node.retried else node.task
        extra = self.attempt_env(node.task, number) if self.attempt_env else None
        begun, started = time.monotonic(), self.clock.now
        result = run_container(self.cluster, pod, self.spec, container, extra_env=extra)
        assert isinstance(result, tuple)
        finished = self.clock.advance(time.monotonic() - begun)
        attempt = Attempt(number, [*container.get("command", []), *container.get("args", [])],
                          result[0], result[1], started, finished)
        mounts = self.cluster.mounts(pod, self.spec, container)
        for parameter in (resolved.get("outputs") or {}).get("parameters") or []:
            source = parameter["valueFrom"]
            path = Path(moved(source["path"], mounts))
            attempt.outputs[parameter["name"]] = (path.read_text().removesuffix("\n")
                                                  if path.is_file() else source["default"])
        return attempt

    def _end(self, node: Node, template: Mapping[str, Any], scope: Mapping[str, str],
             phase: str, message: str, after_seconds: float) -> Node:
        """The retry node ends ``after_seconds`` after its last attempt (operator.go
        markNodePhase stamps FinishedAt = now) and emits its metrics once."""
        node.phase, node.message = phase, message
        node.finished = self.clock.advance(after_seconds)
        assert node.last is not None and node.started is not None
        node.metrics += self._metrics(template, scope, phase, node.last, node.started,
                                      node.finished)
        return node

    def _metrics(self, template: Mapping[str, Any], scope: Mapping[str, str], phase: str,
                 attempt: Attempt, started: dt.datetime,
                 finished: dt.datetime | None = None) -> list[Sample]:
        seconds = ((finished or attempt.finished) - started).total_seconds()
        return emit_metrics(template, {
            **scope, "status": phase, "duration": go_duration(seconds),
            **{f"outputs.parameters.{k}": v for k, v in attempt.outputs.items()}})
