"""WorkflowTemplate ``deltastore-pipeline``: the pipeline of ``workflows.pipeline`` as an Argo DAG.

How it behaves:
- extract-store-api and extract-legacy-db run in parallel, then source-freshness, dbt-build,
  sync and slo-report, in the order and with the dependencies of ``PIPELINE``; a skipped
  sync (``skip-sync=true``) still lets slo-report run.
- Parameters on the Argo UI submit form: ``run-date`` (empty = today, UTC), ``full-refresh``,
  ``dbt-select`` (empty = everything), ``verify-whole-tables``, ``skip-sync``.
- "transient" steps retry on exit code 1 (and on pods Kubernetes took away), with
  exponential backoff; every step and the whole workflow have a deadline; the ``notify``
  exit handler always runs, prints the outcome and posts failures to the webhook of the
  Secret, when one is set.
- Least privilege: each step gets the ConfigMap and only the keys of the Secret it reads
  (``Step.secrets``); no step container holds the service-account token.
- ``--dbt-granularity layer`` replaces dbt-build with one task per dbt layer, chained.
- The demo variant (``data_pvc`` set) shares one volume between steps, runs one workflow
  at a time and serialises the two extracts (all write the same DuckDB file), and renders
  the dashboards at the end. In production (emptyDir) steps share no files, only the
  warehouse (a server): dbt-build records its outcome and node timings there
  (``transform.build_log``), and sync's gate and slo-report read them back. With an artifact
  repository, dbt-build also exports run_results.json and manifest.json.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from hera.workflows import (
    DAG,
    Artifact,
    Container,
    NoneArchiveStrategy,
    Parameter,
    Task,
    WorkflowTemplate,
)
from hera.workflows.metrics import Counter, Gauge, Label
from hera.workflows.models import (
    ExecutorConfig,
    Mutex,
    PodGC,
    Synchronization,
    TTLStrategy,
    WorkflowMetadata,
)

from deltastore.workflows.argo import containers
from deltastore.workflows.argo.containers import argo
from deltastore.workflows.argo.options import RenderOptions
from deltastore.workflows.pipeline import (
    DASHBOARDS,
    DEMO_DATA_READY,
    NOTIFY,
    PIPELINE,
    FanOut,
    Step,
)

BASE_NAME = "pipeline"
NAME = f"deltastore-{BASE_NAME}"    # with the default name prefix (RenderOptions.name_prefix)
ENTRY = "pipeline"
EXIT_HANDLER = NOTIFY.name
WORKFLOW_DEADLINE_SECONDS = 6 * 3600
# Demo mutexes, after the name prefix. The demo keeps one DuckDB warehouse on the shared
# claim: one workflow at a time (daily, freshness, backfill, manual), or a second one fails
# on DuckDB's file lock; and within a run, one concurrent writer at a time.
DEMO_WORKFLOW_MUTEX = "demo-warehouse"
DEMO_WRITER_MUTEX = "warehouse-writer"
# The input parameter a fanned-out step's pod gets its item in (one legacy table, say).
ITEM = "item"
LABELS = {"app.kubernetes.io/name": "deltastore", "app.kubernetes.io/part-of": "deltastore"}


@dataclass(frozen=True)
class WorkflowParameter:
    name: str
    default: str
    description: str
    enum: tuple[str, ...] | None = None


PARAMETERS = (
    WorkflowParameter("run-date", "", "Date that stands in for today in dbt (YYYY-MM-DD); "
                      "empty = today (UTC)."),
    WorkflowParameter("full-refresh", "false", "Reload every source in full and rebuild "
                      "incremental models from scratch.", ("true", "false")),
    WorkflowParameter("dbt-select", "", "dbt node selection for the build; empty = everything."),
    WorkflowParameter("verify-whole-tables", "false", "Run the data tests of the incremental "
                      "models on every row, not only on the rows written since they last "
                      "passed (a weekly check, say).", ("true", "false")),
    WorkflowParameter("skip-sync", "false", "Skip the sync to Azure SQL.", ("true", "false")),
    WorkflowParameter("skip-doctor", "true", "Skip `deltastore doctor`, the read-only "
                      "pre-flight of every endpoint; `false` runs it first and stops the run "
                      "on a missing grant or table.", ("true", "false")),
)


@dataclass(frozen=True)
class TaskSpec:
    """One DAG task before it becomes Hera objects."""

    name: str
    step: Step                     # what it runs and how (deadline, size, secrets, retry)
    args: tuple[str, ...]          # argv after `deltastore`: the step's command, or a layer's
    depends: str | None
    inputs: tuple[str, ...] = ()   # workflow parameters passed as input parameters
    when: str | None = None
    mutex: bool = False            # the demo's warehouse writer mutex
    fan_out: FanOut | None = None  # one pod per item, in a DAG of its own


def depends_expression(step_depends: Sequence[str], skippable: set[str]) -> str | None:
    """Argo ``depends``: a skippable dependency counts when it succeeded or was skipped."""
    if not step_depends:
        return None
    parts = [f"({d}.Succeeded || {d}.Skipped)" if d in skippable else f"{d}.Succeeded"
             for d in step_depends]
    return " && ".join(parts)


def dependencies_of(expression: str | None) -> list[str]:
    """Task names referenced by a ``depends`` expression (for checks and tests)."""
    if not expression:
        return []
    names = re.findall(r"([a-z0-9][a-z0-9-]*)\.(?:Succeeded|Skipped|Failed|Errored|Daemoned)",
                       expression)
    return list(dict.fromkeys(names))


def task_name(label: str) -> str:
    """A DNS-1123 task name from a dbt layer label such as ``seeds+staging``."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def step_inputs(step: Step) -> tuple[str, ...]:
    """The workflow parameters a step's run options read, as its input parameters."""
    return tuple(containers.PARAMETER_NAMES[o] for o in step.options)


def skip_condition(step: Step) -> str | None:
    """Argo ``when`` that skips the step when its skip parameter is "true"."""
    if not step.skip_parameter:
        return None
    return f"'{argo(f'workflow.parameters.{step.skip_parameter}')}' != 'true'"


def step_task(step: Step, depends: str | None, demo: bool) -> TaskSpec:
    """The task that runs ``step`` once (or once per item of its fan-out)."""
    return TaskSpec(name=step.name, step=step, args=step.command, depends=depends,
                    inputs=step_inputs(step), when=skip_condition(step),
                    mutex=demo and step.concurrent_writer,
                    # The demo's one DuckDB file admits one writer at a time: no fan-out.
                    fan_out=None if demo else step.fan_out)


def layer_tasks(step: Step, depends: str | None,
                layers: Sequence[tuple[str, str]]) -> list[TaskSpec]:
    """A dbt build as one task per dbt layer, chained in order; the layer's selector
    replaces the `dbt-select` parameter."""
    inputs = tuple(i for i in step_inputs(step) if i != "dbt-select")
    specs: list[TaskSpec] = []
    for layer, selector in layers:
        name = f"dbt-{task_name(layer)}"
        specs.append(TaskSpec(name=name, step=step, args=(*step.command, f"--select={selector}"),
                              depends=depends, inputs=inputs))
        depends = f"{name}.Succeeded"
    return specs


def skippable_steps(steps: Sequence[Step]) -> set[str]:
    """Steps a workflow parameter can skip: what depends on them also runs when skipped."""
    return {s.name for s in steps if s.skip_parameter}


def has_roots(steps: Sequence[Step]) -> bool:
    """Whether some step depends on no other (in the demo, those wait for the data)."""
    return any(not s.depends for s in steps)


def task_depends(step: Step, last_task: dict[str, str], skippable: set[str],
                 demo: bool) -> str | None:
    """The task's ``depends``: its steps' last tasks (a split step ends with its last
    layer); in the demo, the DAG's roots wait for the demo data."""
    depends = depends_expression([last_task.get(d, d) for d in step.depends], skippable)
    if demo and depends is None:
        return f"{DEMO_DATA_READY.name}.Succeeded"
    return depends


def pipeline_tasks(options: RenderOptions, layers: Sequence[tuple[str, str]] | None = None,
                   dashboards: bool = False, steps: Sequence[Step] = PIPELINE) -> list[TaskSpec]:
    """The DAG as plain data: one task per step, in order, with the dependencies of the
    pipeline definition; a dbt build split per layer when ``layers`` are given and the
    granularity asks for it; in the demo, a first task that waits for the demo data and,
    with ``dashboards``, a last one that renders them."""
    demo = options.data_pvc is not None
    skippable = skippable_steps(steps)
    split = options.dbt_granularity == "layer" and bool(layers)
    last_task: dict[str, str] = {}
    specs: list[TaskSpec] = []
    if demo and has_roots(steps):
        specs.append(step_task(DEMO_DATA_READY, None, demo))
    for step in steps:
        depends = task_depends(step, last_task, skippable, demo)
        if step.dbt_build and split:
            specs += layer_tasks(step, depends, layers or ())
        else:
            specs.append(step_task(step, depends, demo))
        last_task[step.name] = specs[-1].name
    if dashboards:
        specs.append(step_task(DASHBOARDS, task_depends(DASHBOARDS, last_task, skippable, demo),
                               demo))
    return specs


def dbt_artifacts() -> list[Artifact]:
    """dbt's run results and manifest; optional, so a failed build still reports."""
    return [Artifact(name=name, path=f"{containers.DBT_TARGET_PATH}/{file}", optional=True,
                     archive=NoneArchiveStrategy())
            for name, file in (("run-results", "run_results.json"),
                               ("manifest", "manifest.json"))]


def task_arguments(spec: TaskSpec) -> list[Parameter] | None:
    arguments = [Parameter(name=p, value=argo(f"workflow.parameters.{p}")) for p in spec.inputs]
    return arguments or None


def workflow_metrics() -> list[Gauge | Counter]:
    """Emitted when a run ends, from the WorkflowTemplate's spec whatever entrypoint the run
    starts at (argo-workflows v3.7.18 operator.go: ``woc.execWf.Spec.Metrics``): labelled by
    entrypoint, so the source-freshness runs (entrypoint ``source-freshness``) keep to series
    of their own and never count as, or overwrite the duration of, pipeline runs."""
    labels = [Label(key="entrypoint", value=argo("workflow.mainEntrypoint")),
              Label(key="status", value=argo("workflow.status"))]
    return [
        Gauge(name="deltastore_pipeline_duration_seconds",
              help="Duration of a run, by entrypoint (pipeline, source-freshness, backfill).",
              labels=labels, realtime=False, value=argo("workflow.duration")),
        Counter(name="deltastore_pipeline_runs",
                help="Runs by entrypoint (pipeline, source-freshness, backfill) and outcome.",
                labels=labels, value="1"),
    ]


def notify_args() -> list[str]:
    return [*NOTIFY.command, f"--workflow={argo('workflow.name')}",
            f"--status={argo('workflow.status')}", f"--failures={argo('workflow.failures')}"]


def base_template(base_name: str, options: RenderOptions, *, title: str, description: str,
                  parameters: Sequence[WorkflowParameter], entrypoint: str,
                  deadline_seconds: int = WORKFLOW_DEADLINE_SECONDS) -> WorkflowTemplate:
    """The workflow-level settings every DeltaStore template shares."""
    annotations = {"workflows.argoproj.io/title": title,
                   "workflows.argoproj.io/description": description}
    return WorkflowTemplate(
        name=options.object_name(base_name),
        labels={**LABELS, "app.kubernetes.io/component": base_name},
        annotations=annotations,
        entrypoint=entrypoint,
        on_exit=EXIT_HANDLER,
        arguments=[Parameter(name=p.name, value=p.default, description=p.description,
                             enum=list(p.enum) if p.enum else None) for p in parameters],
        service_account_name=options.service_account,
        # The steps never call the Kubernetes API: no token in their containers. Argo's
        # init and wait containers still get the executor's (workflowpod.go
        # setupServiceAccount and newExecContainer, argo-workflows v3.7.18).
        automount_service_account_token=False,
        executor=ExecutorConfig(service_account_name=options.service_account),
        security_context=containers.pod_security_context(),
        volumes=containers.volumes(options),
        active_deadline_seconds=deadline_seconds,
        # Keep failed pods for their logs; finished workflows go after a day (a week if failed).
        pod_gc=PodGC(strategy="OnPodSuccess"),
        ttl_strategy=TTLStrategy(seconds_after_success=86400, seconds_after_failure=7 * 86400),
        # The UI shows a run's title and description only from the Workflow's own
        # annotations (Argo's ui/src/shared/annotations.ts); the controller copies
        # workflowMetadata onto each run (operator.go updateWorkflowMetadata).
        workflow_metadata=WorkflowMetadata(labels=dict(LABELS), annotations=annotations),
        pod_metadata=containers.pod_metadata(),
        metrics=workflow_metrics(),
        synchronization=Synchronization(mutexes=[Mutex(
            name=options.object_name(DEMO_WORKFLOW_MUTEX))])
        if options.data_pvc is not None else None,
    )


def step_args(step: Step, command: Sequence[str], inputs: Sequence[str]) -> list[str]:
    """The container's args: ``command`` and one ``--flag=<input>`` per run option; a
    retried dbt build also gets Argo's attempt number and the run's start, so an attempt
    after the first builds only what the one before did not (transform/retry.py)."""
    args = containers.step_args_for(command, inputs)
    if step.dbt_build and step.retry == "transient":
        args += [f"--attempt={argo('retries')}",
                 f"--retry-since={argo('workflow.creationTimestamp')}"]
    return args


def add_containers(specs: Sequence[TaskSpec], options: RenderOptions) -> dict[str, Container]:
    """One container template per task, plus the exit handler (inside a template context)."""
    built: dict[str, Container] = {}
    for spec in specs:
        args = step_args(spec.step, spec.args, spec.inputs)
        inputs = list(spec.inputs)
        if spec.fan_out:
            args.append(f"{spec.fan_out.flag}={argo(f'inputs.parameters.{ITEM}')}")
            inputs.append(ITEM)
        template = containers.container(
            spec.name, args, options, spec.step, inputs=inputs,
            outputs=dbt_artifacts() if spec.step.dbt_build and options.artifacts else None,
            fan_out=spec.fan_out)
        if spec.mutex:
            template.synchronization = Synchronization(mutexes=[Mutex(
                name=options.object_name(DEMO_WRITER_MUTEX))])
        built[spec.name] = template
    containers.container(EXIT_HANDLER, notify_args(), options, NOTIFY)
    return built


def add_dag(name: str, specs: Sequence[TaskSpec], templates: dict[str, Container]) -> None:
    called = task_templates(specs, templates)
    with DAG(name=name):
        for spec in specs:
            Task(name=spec.name, template=called[spec.name],
                 depends=spec.depends, when=spec.when, arguments=task_arguments(spec))


def task_templates(specs: Sequence[TaskSpec],
                   templates: dict[str, Container]) -> dict[str, Container | DAG]:
    """The template each task calls: its container, or for a fanned-out step the DAG that
    runs the container once per item (added to the workflow here, once per step)."""
    return {spec.name: fan_out_dag(spec, templates[spec.name]) if spec.fan_out
            else templates[spec.name] for spec in specs}


def fan_out_dag(spec: TaskSpec, template: Container) -> DAG:
    """``<step>-each``: one task per item with ``withItems``; the DAG's ``parallelism``
    bounds the pods running at once (Argo counts it per invocation of this template).
    The UI shows one node per item under the step; each retries on its own."""
    assert spec.fan_out is not None
    passed = [Parameter(name=p, value=argo(f"inputs.parameters.{p}")) for p in spec.inputs]
    with DAG(name=f"{spec.name}-each", parallelism=spec.fan_out.parallelism,
             inputs=[Parameter(name=p) for p in spec.inputs] or None) as dag:
        Task(name=ITEM, template=template, with_items=list(spec.fan_out.items),
             arguments=[*passed, Parameter(name=ITEM, value=argo("item"))])
    return dag


def pipeline_template(options: RenderOptions, layers: Sequence[tuple[str, str]] | None = None,
                      dashboards: bool = False) -> WorkflowTemplate:
    specs = pipeline_tasks(options, layers, dashboards)
    parameters = [p for p in PARAMETERS
                  if p.name != "dbt-select" or options.dbt_granularity == "single"]
    with base_template(
        BASE_NAME, options, title="DeltaStore pipeline",
        description="Extract the web store API and the legacy database, check source "
                    "freshness, dbt build, sync the marts to Azure SQL, report slow dbt nodes.",
        parameters=parameters, entrypoint=ENTRY,
    ) as template:
        built = add_containers(specs, options)
        add_dag(ENTRY, specs, built)
    return template
