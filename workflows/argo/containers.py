"""Pieces every DeltaStore container step shares: image, configuration, security, retries.

Each step is a container running ``deltastore <sub-command>`` in the pipeline image:
configuration comes from the chart's ConfigMap (``envFrom``) and the keys of its Secret the
step reads (``Step.secrets``, one ``secretKeyRef`` each), the root filesystem is read-only
and ``/data`` and ``/tmp`` are writable volumes, and a "transient" step is retried with
exponential backoff only when it exits with code 1 (codes 2 and 3 mean configuration or
data errors, which a retry cannot fix), or when Kubernetes took the pod away (see
``RETRY_EXPRESSION``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hera.workflows import Artifact, ConfigMapEnvFrom, Container, Env, Parameter, SecretEnv
from hera.workflows.metrics import Counter, Gauge, Label
from hera.workflows.models import (
    Backoff,
    Capabilities,
    EmptyDirVolumeSource,
    IntOrString,
    Metadata,
    PersistentVolumeClaimVolumeSource,
    PodSecurityContext,
    Quantity,
    ResourceRequirements,
    SeccompProfile,
    SecurityContext,
    ValueFrom,
    Volume,
    VolumeMount,
)
from hera.workflows.retry_strategy import RetryPolicy, RetryStrategy

from deltastore.metrics import FAILED_TESTS, ROWS_LOADED
from deltastore.workflows.argo.messages import (
    OOM_MESSAGE,
    POD_DEADLINE_MESSAGE,
    STEP_DEADLINE_MESSAGE,
)
from deltastore.workflows.argo.options import RenderOptions, is_sentinel
from deltastore.workflows.pipeline import OPTION_FLAGS, FanOut, Step

ENTRYPOINT = "deltastore"


def argo(expression: str) -> str:
    """An Argo template tag, ``{{expression}}``, for a variable Argo fills in."""
    return "{{" + expression + "}}"


DATA_DIR = "/data"
USER_ID = 10001
# Where transform.runner has dbt write run_results.json and manifest.json
# (<DELTASTORE_DATA_DIR>/dbt/target; the chart sets the data dir to /data).
DBT_TARGET_PATH = f"{DATA_DIR}/dbt/target"
RETRY_LIMIT = 3
# Waits between attempts: 30s, 60s, 120s; `cap` bounds any one wait. Argo waits it before it
# evaluates the expression, so a failure that is not retried (exit 2, 3, 4) still ends its
# step one wait after the pod (docs/operations.md). No `maxDuration`: Argo measures it from
# the first attempt's start and also cuts each pod's deadline to it (argo-workflows v3.7.18
# workflow/controller/operator.go processNodeRetries), so with step deadlines of 1-3 h a
# 15 m maxDuration meant no retry at all. The workflow's own deadline still ends retries
# ("retry exceeded workflow deadline").
BACKOFF_SECONDS, BACKOFF_FACTOR, BACKOFF_CAP_SECONDS = 30, 2, 300
# What is retried. Argo evaluates this after a failed attempt with `lastRetry.exitCode`
# (the main container's exit code, "-1" when it has none), `lastRetry.status` and
# `lastRetry.message` (argo-workflows v3.7.18 workflow/controller/operator.go
# buildRetryStrategyLocalScope, getExitCode, inferFailedReason):
# - exit 1: our transient errors (deltastore/errors.py); 2 (configuration), 3 (data),
#   4 (a bug), 130 (interrupted) and 141 (output pipe closed) never, nor any other code
#   of ours;
# - no exit code (-1): the pod was deleted or its node lost ("pod deleted"), evicted before
#   the step ended, or an init container failed;
# - 143: SIGTERM (a drain, a preemption, an API eviction) that the step handled and stopped
#   on (workflows/signals.py);
# - 137: the step died by a signal, which Argo's emissary reports as 137 whatever the signal
#   (cmd/argoexec/commands/emissary.go): a SIGTERM the step could not handle in time, the
#   kubelet's SIGKILL after the grace period, the kubelet's eviction ("The node was low on
#   resource") - but not the kernel's OOM kill ("main: OOMKilled (exit code 137)", the
#   container's terminated reason): the same data needs the same memory; raise
#   `workflow.resources.limits.memory` instead;
# - and never a step killed by its deadline, whatever its exit code ("Step exceeded its
#   deadline"; the kubelet's "Pod was active on the node longer than the specified
#   deadline", which inferFailedReason passes on): a rerun would take as long.
# Each text is matched where Argo or the kubelet puts it (workflows/argo/messages.py).
RETRY_EXPRESSION = (
    f"!(lastRetry.message == '{STEP_DEADLINE_MESSAGE}'"
    f" || lastRetry.message startsWith '{POD_DEADLINE_MESSAGE}')"
    " && (asInt(lastRetry.exitCode) in [1, -1, 143]"
    " || (asInt(lastRetry.exitCode) == 137"
    f" && !(lastRetry.message startsWith '{OOM_MESSAGE}')))"
)
# Step parameters, named as on the Argo UI submit form.
PARAMETER_NAMES = {"run_date": "run-date", "full_refresh": "full-refresh",
                   "dbt_select": "dbt-select", "verify_whole_tables": "verify-whole-tables"}
# Steps write their figures here (DELTASTORE_METRICS_DIR, on the writable /tmp volume).
METRICS_DIR = "/tmp/metrics"


@dataclass(frozen=True)
class StepFigure:
    """A figure a sub-command writes (deltastore/metrics.py), exported as a Prometheus gauge."""

    parameter: str   # output parameter of the step
    file: str        # file name under METRICS_DIR
    metric: str
    help: str


# Keyed by sub-command, so every template running it (daily, dbt layers, backfill) reports it.
STEP_FIGURES = {
    "extract": StepFigure("rows-loaded", ROWS_LOADED, "deltastore_rows_loaded",
                          "Rows inserted, updated or deleted by an extract step."),
    "build": StepFigure("failed-tests", FAILED_TESTS, "deltastore_dbt_failed_tests",
                        "dbt tests that failed or errored in a build step."),
}


def pod_security_context() -> PodSecurityContext:
    return PodSecurityContext(
        run_as_non_root=True, run_as_user=USER_ID, run_as_group=USER_ID, fs_group=USER_ID,
        seccomp_profile=SeccompProfile(type="RuntimeDefault"),
    )


def container_security_context() -> SecurityContext:
    return SecurityContext(
        allow_privilege_escalation=False, read_only_root_filesystem=True,
        run_as_non_root=True, capabilities=Capabilities(drop=["ALL"]),
    )


def volumes(options: RenderOptions) -> list[Volume]:
    """``data`` is an emptyDir per pod in production, a shared claim in the demo variant."""
    data = (Volume(name="data", empty_dir=EmptyDirVolumeSource()) if options.data_pvc is None else
            Volume(name="data", persistent_volume_claim=PersistentVolumeClaimVolumeSource(
                claim_name=options.data_pvc)))
    return [data, Volume(name="tmp", empty_dir=EmptyDirVolumeSource())]


def resources(options: RenderOptions, light: bool = False) -> ResourceRequirements:
    o = options
    cpu, memory, cpu_max, memory_max = (
        (o.light_cpu_request, o.light_memory_request, o.light_cpu_limit, o.light_memory_limit)
        if light else (o.cpu_request, o.memory_request, o.cpu_limit, o.memory_limit))
    return ResourceRequirements(
        requests={"cpu": Quantity(cpu), "memory": Quantity(memory)},
        limits={"cpu": Quantity(cpu_max), "memory": Quantity(memory_max)},
    )


def retry_strategy() -> RetryStrategy:
    return RetryStrategy(
        limit=RETRY_LIMIT, retry_policy=RetryPolicy.always, expression=RETRY_EXPRESSION,
        backoff=Backoff(duration=f"{BACKOFF_SECONDS}s", factor=IntOrString(BACKOFF_FACTOR),
                        cap=f"{BACKOFF_CAP_SECONDS}s"),
    )


def step_metrics(name: str, item: list[Label]) -> list[Gauge | Counter]:
    """Prometheus metrics Argo's controller emits when the step ends (as
    ``argo_workflows_<name>``: the controller's metrics namespace, argo-workflows v3.7.18
    workflow/controller/controller.go and util/telemetry/exporter_prometheus.go)."""
    step = [Label(key="step", value=name), *item]
    return [
        Gauge(name="deltastore_step_duration_seconds", help="Duration of a pipeline step.",
              labels=[*step, Label(key="status", value=argo("status"))],
              realtime=False, value=argo("duration")),
        # For a retried template Argo emits metrics for each attempt it retries and once for
        # the step when it ends (operator.go executeTemplate), so this counts failed nodes.
        Counter(name="deltastore_step_failed_nodes",
                help="Failed Argo nodes of a pipeline step: each failed attempt that was "
                     "retried, plus the step when it failed in the end (4 for a step that "
                     "failed all 4 attempts).",
                labels=step, when=f"{argo('status')} != Succeeded", value="1"),
    ]


def item_labels(fan_out: FanOut | None) -> list[Label]:
    """A fanned-out step's pods run the same template, so each pod's series carries its
    item (the legacy table): otherwise they share one series and the last pod wins."""
    if fan_out is None:
        return []
    return [Label(key=fan_out.label, value=argo("inputs.parameters.item"))]


def figure_output(figure: StepFigure) -> Parameter:
    """The figure as an output parameter; a missing file (step died early) reads as 0."""
    return Parameter(name=figure.parameter,
                     value_from=ValueFrom(path=f"{METRICS_DIR}/{figure.file}", default="0"))


def figure_metric(name: str, figure: StepFigure, item: list[Label]) -> Gauge:
    return Gauge(name=figure.metric, help=figure.help,
                 labels=[Label(key="step", value=name), *item], realtime=False,
                 value=argo(f"outputs.parameters.{figure.parameter}"))


def secret_env(options: RenderOptions, step: Step) -> list[SecretEnv]:
    """One variable per Secret key the step reads; optional, as the chart's Secret holds
    only the credentials that are set."""
    return [SecretEnv(name=key, secret_name=options.secret, secret_key=key, optional=True)
            for key in step.secrets]


def step_args_for(argv: Sequence[str], inputs: Sequence[str]) -> list[str]:
    """``argv`` plus one ``--flag=<input parameter>`` per run option the step takes."""
    flags = {PARAMETER_NAMES[o]: OPTION_FLAGS[o] for o in PARAMETER_NAMES}
    return [*argv, *(f"{flags[p]}={argo(f'inputs.parameters.{p}')}" for p in inputs)]


def container(name: str, args: list[str], options: RenderOptions, step: Step, *,
              inputs: Sequence[str] = (), outputs: Sequence[Artifact] | None = None,
              fan_out: FanOut | None = None) -> Container:
    """A container template running ``deltastore <args>`` for ``step``, with the shared
    settings and the step's own deadline, size, retries and secret keys.

    A sub-command of STEP_FIGURES also gets the metrics folder, its output parameter and
    its gauge.
    """
    figure = STEP_FIGURES.get(args[0]) if args else None
    all_outputs: list[Artifact | Parameter] = [*(outputs or [])]
    # The root filesystem is read-only: tools that write under $HOME get /tmp.
    env: list[Env | SecretEnv] = [Env(name="HOME", value="/tmp"),
                                  Env(name="DBT_SEND_ANONYMOUS_USAGE_STATS", value="false")]
    item = item_labels(fan_out)
    metrics: list[Gauge | Counter] = step_metrics(name, item)
    if figure:
        all_outputs.append(figure_output(figure))
        env.append(Env(name="DELTASTORE_METRICS_DIR", value=METRICS_DIR))
        metrics.append(figure_metric(name, figure, item))
    return Container(
        name=name,
        labels={"app.kubernetes.io/name": "deltastore", "app.kubernetes.io/component": name},
        image=options.image,
        # Hera accepts only real policies; the chart sentinel is put in by the renderer.
        image_pull_policy=None if is_sentinel(options.image_pull_policy)
        else options.image_pull_policy,
        command=[ENTRYPOINT],
        args=args,
        inputs=[Parameter(name=p) for p in inputs] or None,
        outputs=all_outputs or None,  # type: ignore[arg-type]
        env_from=[ConfigMapEnvFrom(name=options.configmap)],
        env=[*env, *secret_env(options, step)],
        resources=resources(options, light=step.light),
        security_context=container_security_context(),
        volume_mounts=[VolumeMount(name="data", mount_path=DATA_DIR),
                       VolumeMount(name="tmp", mount_path="/tmp")],
        retry_strategy=retry_strategy() if step.retry == "transient" else None,
        active_deadline_seconds=step.deadline_seconds,
        metrics=metrics,
    )


def pod_metadata() -> Metadata:
    return Metadata(labels={"app.kubernetes.io/name": "deltastore",
                            "app.kubernetes.io/part-of": "deltastore"})
