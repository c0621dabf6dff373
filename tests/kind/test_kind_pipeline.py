"""The pipeline ran on the cluster: every step succeeded, the CronWorkflow carries the
release's schedule, and the demo sync target holds every mart.

`pytest tests/kind --kube-context kind-deltastore` after kind.yml's steps (or skaffold's kind
profile and one triggered run) on any cluster.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kind_cluster import (
    READ_MARTS,
    Cluster,
    dag_tasks,
    dbt_marts,
    run_pod,
    task_phases,
    unexplained_failures,
)

from deltastore.workflows.argo import cron, template
from deltastore.workflows.pipeline import PIPELINE

pytestmark = pytest.mark.kind

def test_workflow_succeeded_with_every_step(cluster: Cluster, workflow: dict[str, Any]) -> None:
    status = workflow.get("status") or {}
    assert status.get("phase") == "Succeeded", status.get("message")
    tasks = dag_tasks(cluster.argo("workflowtemplates",
                                  workflow["spec"]["workflowTemplateRef"]["name"]))
    assert {step.name for step in PIPELINE} <= set(tasks)
    phases = task_phases(workflow, tasks)
    opt_in = {step.name for step in PIPELINE if step.opt_in}  # skipped unless asked
    assert {task: phase for task, phase in phases.items() if phase != "Succeeded"
            and not (task in opt_in and phase == "Skipped")} == {}
    assert unexplained_failures(workflow) == []
    exit_handlers = [n for n in status["nodes"].values()
                     if n.get("displayName", "").endswith(".onExit")]
    assert [n["phase"] for n in exit_handlers] in ([], ["Succeeded"]), exit_handlers


def test_cronworkflow_has_the_release_schedule(cluster: Cluster, values: dict[str, Any],
                                               workflow: dict[str, Any]) -> None:
    daily = cluster.argo("cronworkflows", cron.DAILY)
    spec = daily["spec"]
    assert spec["schedules"] == [values["workflow"]["schedule"]]
    assert "schedule" not in spec, "Argo v4 removed `schedule`; only `schedules` is read"
    assert spec["timezone"] == values["workflow"]["timezone"]
    assert bool(spec.get("suspend")) is bool(values["workflow"]["suspend"])
    assert spec["workflowSpec"]["workflowTemplateRef"]["name"] == template.NAME
    # The run the other tests check is this CronWorkflow's spec.
    assert workflow["spec"]["workflowTemplateRef"] == spec["workflowSpec"]["workflowTemplateRef"]
    cluster.argo("workflowtemplates", template.NAME)  # exists, or the API raises 404


def test_demo_sync_target_holds_every_mart(cluster: Cluster, values: dict[str, Any],
                                           workflow: dict[str, Any]) -> None:
    if not values["demo"]["enabled"]:
        pytest.skip("not a demo install: the marts are in the external sync target")
    (store,) = cluster.apps.list_namespaced_deployment(
        cluster.namespace, label_selector=cluster.selector("demo-store")).items
    container = store.spec.template.spec.containers[0]
    (pvc,) = cluster.core.list_namespaced_persistent_volume_claim(
        cluster.namespace, label_selector=cluster.selector("demo-data")).items
    log = run_pod(cluster, image=container.image, command=["python", "-c", READ_MARTS],
                  config_map=container.env_from[0].config_map_ref.name, pvc=pvc.metadata.name)
    counts = json.loads(log.strip().splitlines()[-1])
    missing = sorted(set(dbt_marts()) - set(counts))
    assert not missing, f"marts not published: {missing}"
    assert not [t for t in counts if t.endswith(("__sync_shadow", "__sync_old"))], counts
    empty = sorted(t for t in dbt_marts() if counts[t] == 0)
    assert not empty, f"marts published empty from demo data: {empty}"
