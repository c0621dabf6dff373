"""WorkflowTemplate ``deltastore-pipeline``: the pipeline of ``workflows.pipeline`` as an Argo DAG.

How it behaves:
- extract-store-api and extract-legacy-db run in parallel, then source-freshness, dbt-build,
  sync and slo-report, in the order and with the dependencies of ``PIPELINE``; a skipped
  sync (``skip-sync=true``) still lets slo-report run.
- Parameters on the Argo UI submit form: ``run-date`` (empty = today, UTC), ``full-refresh``,
  ``dbt-select`` (empty = everything), ``skip-sync``.
- "transient" steps retry on exit code 1 only, with exponential backoff; every step and the
  whole workflow have a deadline; the ``notify`` exit handler always runs, prints the outcome
  and posts failures to the webhook of the Secret, when one is set.
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
    Mutex,
    PodGC,
    Synchronization,
    TTLStrategy,
    WorkflowMetadata,
)

from deltastore.workflows.argo import containers
from deltastore.workflows.argo.options import RenderOptions
from deltastore.workflows.pipeline import PIPELINE, FanOut, Step

NAME = "deltastore-pipeline"
ENTRY = "pipeline"
EXIT_HANDLER = "notify"
WORKFLOW_DEADLINE_SECONDS = 6 * 3600
STEP_DEADLINE_SECONDS = {
    "extract-store-api": 3600, "extract-legacy-db": 3600, "source-freshness": 900,
    "dbt-build": 3 * 3600, "sync": 3600, "slo-report": 600, "dashboards": 900,
    EXIT_HANDLER: 300, "demo-data-ready": 900, "doctor": 600,
}
# Demo only: the first task waits for the chart's demo-data Job to finish the legacy DB, so
# no run (scheduled or submitted right after `helm install`) starts on missing data.
DEMO_GATE = "demo-data-ready"
DEMO_GATE_TIMEOUT_SECONDS = 600
DEMO_WRITER_MUTEX = "deltastore-warehouse-writer"
# The demo keeps one DuckDB warehouse on the shared claim: one workflow at a time (daily,
# freshness, backfill, manual), or a second one fails on DuckDB's file lock.
DEMO_WORKFLOW_MUTEX = "deltastore-demo-warehouse"
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
    WorkflowParameter("skip-sync", "false", "Skip the sync to Azure SQL.", ("true", "false")),
    WorkflowParameter("skip-doctor", "true", "Skip `deltastore doctor`, the read-only "
                      "pre-flight of every endpoint; `false` runs it first and stops the run "
                      "on a missing grant or table.", ("true", "false")),
)


@dataclass(frozen=True)
class TaskSpec:
    """One DAG task before it becomes Hera objects."""

    name: str
    args: tuple[str, ...]
    retry: bool
    depends: str | None
    inputs: tuple[str, ...] = ()   # workflow parameters passed as input parameters
    when: str | None = None
    dbt: bool = False              # exports dbt artifacts when enabled
    mutex: bool = False
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


def pipeline_tasks(options: RenderOptions, layers: Sequence[tuple[str, str]] | None = None,
                   dashboards: bool = False, steps: Sequence[Step] = PIPELINE) -> list[TaskSpec]:
    """The DAG as plain data: PIPELINE, with dbt-build split per layer if asked."""
    skippable = {s.name for s in steps if s.skip_parameter}
    renamed: dict[str, str] = {}   # dbt-build -> its last layer task, for downstream depends
    specs: list[TaskSpec] = []
    demo = options.data_pvc is not None
    if demo and any(not s.depends for s in steps):   # the DAG's roots wait for the data
        specs.append(TaskSpec(name=DEMO_GATE, retry=True, depends=None, args=(
            "demo-data", "wait", f"--timeout={DEMO_GATE_TIMEOUT_SECONDS}")))
    for step in steps:
        depends = depends_expression([renamed.get(d, d) for d in step.depends], skippable)
        if demo and depends is None:
            depends = f"{DEMO_GATE}.Succeeded"
        inputs = tuple(containers.PARAMETER_NAMES[o] for o in step.options)
        when = (f"'{{{{workflow.parameters.{step.skip_parameter}}}}}' != 'true'"
                if step.skip_parameter else None)
        if step.name == "dbt-build" and options.dbt_granularity == "layer" and layers:
            previous = depends
            for layer, selector in layers:
                name = f"dbt-{task_name(layer)}"
                specs.append(TaskSpec(
                    name=name, args=(*step.command, f"--select={selector}"),
                    retry=step.retry == "transient",
                    depends=previous, inputs=tuple(i for i in inputs if i != "dbt-select"),
                    dbt=True))
                previous = f"{name}.Succeeded"
                renamed[step.name] = name
            continue
        specs.append(TaskSpec(
            name=step.name, args=step.command,
            retry=step.retry == "transient", depends=depends, inputs=inputs, when=when,
            dbt=step.name == "dbt-build",
            mutex=demo and step.command[0] == "extract",
            # The demo's one DuckDB file admits one writer at a time: no fan-out there.
            fan_out=None if demo else step.fan_out))
    if dashboards:
        after = next(s for s in steps if s.name == "sync")
        specs.append(TaskSpec(
            name="dashboards", args=("dashboards",),
            retry=False, depends=depends_expression([after.name], skippable)))
    return specs


def dbt_artifacts() -> list[Artifact]:
    """dbt's run results and manifest; optional, so a failed build still reports."""
    return [Artifact(name=name, path=f"{containers.DBT_TARGET_PATH}/{file}", optional=True,
                     archive=NoneArchiveStrategy())
            for name, file in (("run-results", "run_results.json"),
                               ("manifest", "manifest.json"))]


def task_arguments(spec: TaskSpec) -> list[Parameter] | None:
    arguments = [Parameter(name=p, value=f"{{{{workflow.parameters.{p}}}}}")
                 for p in spec.inputs]
    return arguments or None


def workflow_metrics() -> list[Gauge | Counter]:
    return [
        Gauge(name="deltastore_pipeline_duration_seconds", help="Duration of a pipeline run.",
              labels=[Label(key="status", value="{{workflow.status}}")], realtime=False,
              value="{{workflow.duration}}"),
        Counter(name="deltastore_pipeline_runs", help="Pipeline runs by outcome.",
                labels=[Label(key="status", value="{{workflow.status}}")], value="1"),
    ]


def notify_args() -> list[str]:
    return ["notify", "--workflow={{workflow.name}}", "--status={{workflow.status}}",
            "--failures={{workflow.failures}}"]


def base_template(name: str, options: RenderOptions, *, title: str, description: str,
                  parameters: Sequence[WorkflowParameter], entrypoint: str) -> WorkflowTemplate:
    """The workflow-level settings every DeltaStore template shares."""
    annotations = {"workflows.argoproj.io/title": title,
                   "workflows.argoproj.io/description": description}
    return WorkflowTemplate(
        name=name,
        labels={**LABELS, "app.kubernetes.io/component": name.removeprefix("deltastore-")},
        annotations=annotations,
        entrypoint=entrypoint,
        on_exit=EXIT_HANDLER,
        arguments=[Parameter(name=p.name, value=p.default, description=p.description,
                             enum=list(p.enum) if p.enum else None) for p in parameters],
        service_account_name=options.service_account,
        security_context=containers.pod_security_context(),
        volumes=containers.volumes(options),
        active_deadline_seconds=WORKFLOW_DEADLINE_SECONDS,
        # Keep failed pods for their logs; finished workflows go after a day (a week if failed).
        pod_gc=PodGC(strategy="OnPodSuccess"),
        ttl_strategy=TTLStrategy(seconds_after_success=86400, seconds_after_failure=7 * 86400),
        # The UI shows a run's title and description only from the Workflow's own
        # annotations (Argo's ui/src/shared/annotations.ts); the controller copies
        # workflowMetadata onto each run (workflow/controller/operator.go).
        workflow_metadata=WorkflowMetadata(labels=dict(LABELS), annotations=annotations),
        pod_metadata=containers.pod_metadata(),
        metrics=workflow_metrics(),
        synchronization=Synchronization(mutexes=[Mutex(name=DEMO_WORKFLOW_MUTEX)])
        if options.data_pvc is not None else None,
    )


def add_containers(specs: Sequence[TaskSpec], options: RenderOptions) -> dict[str, Container]:
    """One container template per task, plus the exit handler (inside a template context)."""
    built: dict[str, Container] = {}
    for spec in specs:
        args = containers.step_args_for(spec.args, spec.inputs)
        inputs = list(spec.inputs)
        if spec.fan_out:
            args.append(f"{spec.fan_out.flag}={{{{inputs.parameters.{ITEM}}}}}")
            inputs.append(ITEM)
        template = containers.container(
            spec.name, args, options,
            retry=spec.retry,
            deadline_seconds=STEP_DEADLINE_SECONDS.get(spec.name,
                                                       STEP_DEADLINE_SECONDS["dbt-build"]),
            inputs=inputs,
            outputs=dbt_artifacts() if spec.dbt and options.artifacts else None)
        if spec.mutex:
            template.synchronization = Synchronization(mutexes=[Mutex(name=DEMO_WRITER_MUTEX)])
        built[spec.name] = template
    containers.container(EXIT_HANDLER, notify_args(), options,
                         retry=True, deadline_seconds=STEP_DEADLINE_SECONDS[EXIT_HANDLER])
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
    passed = [Parameter(name=p, value=f"{{{{inputs.parameters.{p}}}}}") for p in spec.inputs]
    with DAG(name=f"{spec.name}-each", parallelism=spec.fan_out.parallelism,
             inputs=[Parameter(name=p) for p in spec.inputs] or None) as dag:
        Task(name=ITEM, template=template, with_items=list(spec.fan_out.items),
             arguments=[*passed, Parameter(name=ITEM, value="{{item}}")])
    return dag


def pipeline_template(options: RenderOptions, layers: Sequence[tuple[str, str]] | None = None,
                      dashboards: bool = False) -> WorkflowTemplate:
    specs = pipeline_tasks(options, layers, dashboards)
    parameters = [p for p in PARAMETERS
                  if p.name != "dbt-select" or options.dbt_granularity == "single"]
    with base_template(
        NAME, options, title="DeltaStore pipeline",
        description="Extract the web store API and the legacy database, check source "
                    "freshness, dbt build, sync the marts to Azure SQL, report slow dbt nodes.",
        parameters=parameters, entrypoint=ENTRY,
    ) as template:
        built = add_containers(specs, options)
        add_dag(ENTRY, specs, built)
    return template
