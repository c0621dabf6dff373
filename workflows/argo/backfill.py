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
from deltastore.workflows.argo.options import RenderOptions
from deltastore.workflows.argo.template import WorkflowParameter
from deltastore.workflows.pipeline import PIPELINE, step

NAME = "deltastore-backfill"
MAX_DAYS = 366
DAYS_TASK = "backfill-days"
LOOP = "build-days"

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
    build = step("dbt-build")
    before = [s for s in PIPELINE if s.name not in ("dbt-build", "sync", "slo-report")]
    specs = template.pipeline_tasks(options.replace(dbt_granularity="single"), steps=before)
    # sync's gate and slo-report read the last day's build from the warehouse.
    after = template.pipeline_tasks(options, steps=[step("sync"), step("slo-report")])
    build_inputs = tuple(containers.PARAMETER_NAMES[o] for o in build.options)
    with template.base_template(
        NAME, options, title="DeltaStore backfill",
        description="Extract once, then dbt build each day of backfill-start..backfill-end "
                    "in order, then sync once.",
        parameters=PARAMETERS, entrypoint="backfill",
    ) as workflow:
        built = template.add_containers([*specs, *after], options)
        days = containers.container(
            DAYS_TASK, ["workflows", "backfill-days", "--start={{inputs.parameters.start}}",
                        "--end={{inputs.parameters.end}}"], options,
            retry=False, deadline_seconds=300,
            inputs=["start", "end"])
        build_day = containers.container(
            build.name, containers.step_args_for(build.command, build_inputs), options,
            retry=True,
            deadline_seconds=template.STEP_DEADLINE_SECONDS[build.name], inputs=build_inputs,
            outputs=template.dbt_artifacts() if options.artifacts else None)
        called = template.task_templates(specs, built)
        # The loop lives in its own DAG so that `parallelism: 1` serialises only the days.
        with DAG(name=LOOP, parallelism=1, inputs=[Parameter(name="days")]):
            Task(name=build.name, template=build_day, with_param="{{inputs.parameters.days}}",
                 arguments={"run-date": "{{item}}",
                            **{p: f"{{{{workflow.parameters.{p}}}}}"
                               for p in build_inputs if p != "run-date"}})
        with DAG(name="backfill"):
            Task(name=DAYS_TASK, template=days,
                 arguments={"start": "{{workflow.parameters.backfill-start}}",
                            "end": "{{workflow.parameters.backfill-end}}"})
            for spec in specs:
                Task(name=spec.name, template=called[spec.name], depends=spec.depends,
                     arguments=template.task_arguments(spec))
            Task(name=LOOP, template=LOOP,
                 depends=f"{DAYS_TASK}.Succeeded && "
                         + " && ".join(f"{d}.Succeeded" for d in build.depends),
                 arguments={"days": f"{{{{tasks.{DAYS_TASK}.outputs.result}}}}"})
            for spec in after:
                depends = spec.depends.replace(f"{build.name}.", f"{LOOP}.") if spec.depends \
                    else None
                Task(name=spec.name, template=built[spec.name], depends=depends, when=spec.when,
                     arguments=template.task_arguments(spec))
    return workflow
