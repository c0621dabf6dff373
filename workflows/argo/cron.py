"""CronWorkflows: ``deltastore-daily`` runs the pipeline template, ``deltastore-freshness``
runs only its source-freshness step.

How they behave: both reference the ``deltastore-pipeline`` WorkflowTemplate
(``workflowTemplateRef``), so the schedule holds no copy of the pipeline. ``schedules`` (a
list) is used because Argo v4 removed ``schedule``. ``concurrencyPolicy: Forbid`` skips a
run while the previous one is still going; a run missed by more than
``startingDeadlineSeconds`` (controller down) is skipped rather than started late. Schedules
in a timezone with daylight saving are checked by ``workflows.argo.schedule``.
"""

from __future__ import annotations

from hera.workflows import CronWorkflow
from hera.workflows.models import WorkflowTemplateRef

from deltastore.workflows.argo import template
from deltastore.workflows.argo.options import RenderOptions

DAILY = "deltastore-daily"
FRESHNESS = "deltastore-freshness"
STARTING_DEADLINE_SECONDS = 3600
FRESHNESS_STEP = "source-freshness"


def _cron(name: str, schedule: str, options: RenderOptions, *, title: str, description: str,
          entrypoint: str | None = None) -> CronWorkflow:
    return CronWorkflow(
        name=name,
        labels={**template.LABELS, "app.kubernetes.io/component": name.removeprefix("deltastore-")},
        annotations={"workflows.argoproj.io/title": title,
                     "workflows.argoproj.io/description": description},
        schedules=[schedule],
        timezone=options.timezone,
        concurrency_policy="Forbid",
        starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
        successful_jobs_history_limit=3,
        failed_jobs_history_limit=5,
        # A bool here; the chart sentinel string is put in by the renderer afterwards.
        cron_suspend=options.suspend if isinstance(options.suspend, bool) else False,
        workflow_template_ref=WorkflowTemplateRef(name=template.NAME),
        entrypoint=entrypoint,
    )


def daily_cron(options: RenderOptions) -> CronWorkflow:
    return _cron(DAILY, options.schedule, options, title="DeltaStore daily pipeline",
                 description=f"Runs the `{template.NAME}` WorkflowTemplate every day.")


def freshness_cron(options: RenderOptions) -> CronWorkflow:
    return _cron(FRESHNESS, options.freshness_schedule, options,
                 title="DeltaStore source freshness",
                 description=f"Runs only the `{FRESHNESS_STEP}` step of `{template.NAME}`, "
                             "so stale sources are noticed between daily runs.",
                 entrypoint=FRESHNESS_STEP)
