"""CronWorkflows: ``deltastore-daily`` runs the pipeline template, ``deltastore-freshness``
runs only its source-freshness step.

How they behave: both reference the ``deltastore-pipeline`` WorkflowTemplate
(``workflowTemplateRef``), so the schedule holds no copy of the pipeline. ``schedules`` (a
list) is used because Argo v4 removed ``schedule``. ``concurrencyPolicy: Forbid`` skips a
run while the previous one is still going; a run missed by more than
``startingDeadlineSeconds`` (controller down) is skipped rather than started late. Schedules
in a timezone with daylight saving are checked by ``workflows.argo.schedule``.

A freshness run starts at entrypoint ``source-freshness`` and says so in its title; its
workflow metrics carry that entrypoint, so it never counts as a pipeline run. It keeps the
exit handler: stale sources are worth a message.
"""

from __future__ import annotations

from hera.workflows import CronWorkflow
from hera.workflows.models import WorkflowMetadata, WorkflowTemplateRef

from deltastore.workflows import pipeline
from deltastore.workflows.argo import template
from deltastore.workflows.argo.options import RenderOptions

DAILY_BASE_NAME = "daily"
DAILY = f"deltastore-{DAILY_BASE_NAME}"    # with the default name prefix
FRESHNESS_BASE_NAME = "freshness"
STARTING_DEADLINE_SECONDS = 3600
FRESHNESS_STEP = pipeline.FRESHNESS_STEP.name


def _cron(base_name: str, schedule: str, options: RenderOptions, *, title: str,
          description: str, entrypoint: str | None = None) -> CronWorkflow:
    annotations = {"workflows.argoproj.io/title": title,
                   "workflows.argoproj.io/description": description}
    return CronWorkflow(
        name=options.object_name(base_name),
        labels={**template.LABELS, "app.kubernetes.io/component": base_name},
        annotations=annotations,
        schedules=[schedule],
        timezone=options.timezone,
        concurrency_policy="Forbid",
        starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
        successful_jobs_history_limit=3,
        failed_jobs_history_limit=5,
        # A bool here; the chart sentinel string is put in by the renderer afterwards.
        cron_suspend=options.suspend if isinstance(options.suspend, bool) else False,
        workflow_template_ref=WorkflowTemplateRef(name=options.object_name(template.BASE_NAME)),
        entrypoint=entrypoint,
        # A run's title comes from the template's workflowMetadata, merged under this one
        # (allowed even under Strict templateReferencing: workflow/util/merge.go).
        workflow_metadata=WorkflowMetadata(annotations=annotations) if entrypoint else None,
    )


def daily_cron(options: RenderOptions) -> CronWorkflow:
    pipeline = options.object_name(template.BASE_NAME)
    return _cron(DAILY_BASE_NAME, options.schedule, options, title="DeltaStore daily pipeline",
                 description=f"Runs the `{pipeline}` WorkflowTemplate every day.")


def freshness_cron(options: RenderOptions) -> CronWorkflow:
    pipeline = options.object_name(template.BASE_NAME)
    return _cron(FRESHNESS_BASE_NAME, options.freshness_schedule, options,
                 title="DeltaStore source freshness",
                 description=f"Runs only the `{FRESHNESS_STEP}` step of `{pipeline}`, "
                             "so stale sources are noticed between daily runs.",
                 entrypoint=FRESHNESS_STEP)
