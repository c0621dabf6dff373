"""WorkflowTemplate ``deltastore-backfill``: rebuild a range of days as ONE workflow.

How it behaves, and why: extraction is not date-based (it loads the sources' current
state), so both extracts and the freshness check run once. What depends on the date is the
dbt build (dbt var ``run_date``), so ``dbt-build`` fans out over the days with ``withParam``
— one task per day, in date order, ONE AT A TIME (``parallelism: 1``): every day rebuilds
the same marts and snapshots, so days in parallel would overwrite each other and snapshots
must see the days in order. The first failed day stops the loop (DAG fail-fast). The sync
runs once at the end and publishes the last day's state; slo-report and the exit handler
follow as in the daily pipeline.
"""

from __future__ import annotations

import datetime as dt
import json

from hera.workflows import DAG, Parameter, Task

from deltastore.errors import ConfigError
from deltastore.workflows.argo import containers, template
from deltastore.workflows.argo.containers import argo
from deltastore.workflows.argo.options import RenderOptions
from deltastore.workflows.argo.template import WorkflowParameter
from deltastore.workflows.pipeline import BACKFILL_DAYS, PIPELINE, downstream_of

BASE_NAME = "backfill"
NAME = f"deltastore-{BASE_NAME}"    # with the default name prefix
MAX_DAYS = 366
DAYS_TASK = BACKFILL_DAYS.name
LOOP = "build-days"
# The whole run's deadline: the pipeline's 6 h would stop a long range half-way (Argo cuts
# each pod's deadline to the workflow's remaining time and retries stop, workflowpod.go and
# operator.go). This leaves the steps before and after the days their own deadlines (3 h)
# and every one of MAX_DAYS days DAY_SECONDS (docs/operations.md: what a day takes).
DAY_SECONDS = 180
DEADLINE_SECONDS = 3 * 3600 + MAX_DAYS * DAY_SECONDS

PARAMETERS = (
    WorkflowParameter("backfill-start", "", "First day to rebuild (YYYY-MM-DD)."),
    WorkflowParameter("backfill-end", "", "Last day to rebuild (YYYY-MM-DD), included."),
    *(p for p in template.PARAMETERS if p.name != "run-date"),
)


def backfill_days(start: str, end: str, max_days: int = MAX_DAYS) -> list[str]:
    """The days from ``start`` to ``end`` (included) as ISO dates, oldest first."""
    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        raise ConfigError(f"backfill range `{start}`..`{end}`: write both days as YYYY-MM-DD "
                          "(parameters backfill-start and backfill-end)") from None
    if last < first:
        raise ConfigError(f"backfill range `{start}`..`{end}` ends before it starts")
    count = (last - first).days + 1
    if count > max_days:
        raise ConfigError(f"backfill range `{start}`..`{end}` has {count} days; split it into "
                          f"ranges of at most {max_days} days")
    return [(first + dt.timedelta(days=i)).isoformat() for i in range(count)]


def days_json(start: str, end: str) -> str:
    return json.dumps(backfill_days(start, end))


def backfill_template(options: RenderOptions) -> template.WorkflowTemplate:
    # The one step that depends on the date (it takes `run_date`) runs once per day; the
    # steps before it run once, the steps after it once, on the last day's state.
    (build,) = [s for s in PIPELINE if "run_date" in s.options]
    later = downstream_of(build.name)
    before = [s for s in PIPELINE if s is not build and s.name not in later]
    specs = template.pipeline_tasks(options.replace(dbt_granularity="single"), steps=before)
    # sync's gate and slo-report read the last day's build from the warehouse.
    after = template.pipeline_tasks(options, steps=[s for s in PIPELINE if s.name in later])
    build_inputs = template.step_inputs(build)
    with template.base_template(
        BASE_NAME, options, title="DeltaStore backfill",
        description="Extract once, then dbt build each day of backfill-start..backfill-end "
                    "in order, then sync once.",
        parameters=PARAMETERS, entrypoint="backfill", deadline_seconds=DEADLINE_SECONDS,
    ) as workflow:
        built = template.add_containers([*specs, *after], options)
        days = containers.container(
            DAYS_TASK, [*BACKFILL_DAYS.command, f"--start={argo('inputs.parameters.start')}",
                        f"--end={argo('inputs.parameters.end')}"], options, BACKFILL_DAYS,
            inputs=["start", "end"])
        build_day = containers.container(
            build.name, template.step_args(build, build.command, build_inputs), options, build,
            inputs=build_inputs,
            outputs=template.dbt_artifacts() if options.artifacts else None)
        called = template.task_templates(specs, built)
        # The loop lives in its own DAG so that `parallelism: 1` serialises only the days.
        with DAG(name=LOOP, parallelism=1, inputs=[Parameter(name="days")]):
            Task(name=build.name, template=build_day,
                 with_param=argo("inputs.parameters.days"),
                 arguments={"run-date": argo("item"),
                            **{p: argo(f"workflow.parameters.{p}")
                               for p in build_inputs if p != "run-date"}})
        with DAG(name="backfill"):
            Task(name=DAYS_TASK, template=days,
                 arguments={"start": argo("workflow.parameters.backfill-start"),
                            "end": argo("workflow.parameters.backfill-end")})
            for spec in specs:
                Task(name=spec.name, template=called[spec.name], depends=spec.depends,
                     arguments=template.task_arguments(spec))
            Task(name=LOOP, template=LOOP,
                 depends=f"{DAYS_TASK}.Succeeded && "
                         + " && ".join(f"{d}.Succeeded" for d in build.depends),
                 arguments={"days": argo(f"tasks.{DAYS_TASK}.outputs.result")})
            for spec in after:
                depends = spec.depends.replace(f"{build.name}.", f"{LOOP}.") if spec.depends \
                    else None
                Task(name=spec.name, template=built[spec.name], depends=depends, when=spec.when,
                     arguments=template.task_arguments(spec))
    return workflow
