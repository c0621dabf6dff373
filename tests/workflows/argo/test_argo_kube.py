"""Submit and status: the Workflow objects (pure), then the real `kubernetes` client against
a small fake Kubernetes API on 127.0.0.1 (no cluster here)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from argo_http import serve

from deltastore.errors import ConfigError
from deltastore.workflows.argo import kube
from deltastore.workflows.argo.kube import (
    SubmitRequest,
    node_rows,
    workflow_from_cron,
    workflow_from_template,
)
from deltastore.workflows.cli import main

NAMESPACE = "pipelines"
BASE = f"/apis/argoproj.io/v1alpha1/namespaces/{NAMESPACE}"


def test_workflow_from_the_template_with_parameters():
    body = workflow_from_template({"run-date": "2026-01-31", "skip-sync": "true"})
    assert body == {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"generateName": "deltastore-pipeline-", "labels": {
            "app.kubernetes.io/name": "deltastore", "app.kubernetes.io/part-of": "deltastore",
            "workflows.argoproj.io/workflow-template": "deltastore-pipeline",
            "app.kubernetes.io/managed-by": "deltastore"}},
        "spec": {"workflowTemplateRef": {"name": "deltastore-pipeline"},
                 "arguments": {"parameters": [{"name": "run-date", "value": "2026-01-31"},
                                              {"name": "skip-sync", "value": "true"}]}},
    }


def test_workflow_from_the_cron_copies_its_spec(default_objects):
    cron = default_objects["cronworkflow-deltastore-freshness.yaml"]
    body = workflow_from_cron(cron, {"full-refresh": "true"})
    assert body["metadata"]["generateName"] == "deltastore-freshness-"
    assert body["spec"] == {
        "entrypoint": "source-freshness",
        "workflowTemplateRef": {"name": "deltastore-pipeline"},
        "workflowMetadata": cron["spec"]["workflowSpec"]["workflowMetadata"],
        "arguments": {"parameters": [{"name": "full-refresh", "value": "true"}]}}
    title = body["spec"]["workflowMetadata"]["annotations"]["workflows.argoproj.io/title"]
    assert title == "DeltaStore source freshness"   # over the pipeline template's title
    assert "arguments" not in cron["spec"]["workflowSpec"], "the cron object is not modified"


def test_workflow_from_the_cron_is_what_argo_submit_from_cronwf_makes():
    """workflow/common/convert.go (v3.7.12) toWorkflow ~80-110: cron label, scheduled-time
    (RFC3339), creator/instance-id labels propagated, workflowMetadata merged (labels,
    annotations, finalizers), a controller ownerReference (metav1.NewControllerRef)."""
    cron = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "CronWorkflow",
        "metadata": {"name": "deltastore-daily", "uid": "6d1c-uid", "labels": {
            "workflows.argoproj.io/creator": "system-serviceaccount-argo",
            "workflows.argoproj.io/controller-instanceid": "team-a",
            "app.kubernetes.io/instance": "not-propagated"}},
        "spec": {"schedules": ["0 2 * * *"],
                 "workflowMetadata": {"labels": {"team": "data"},
                                      "annotations": {"workflows.argoproj.io/title": "Daily"},
                                      "finalizers": ["example.com/keep"]},
                 "workflowSpec": {"workflowTemplateRef": {"name": "deltastore-pipeline"}}},
    }
    body = workflow_from_cron(cron, {}, now=dt.datetime(2026, 1, 31, 2, tzinfo=dt.UTC))
    meta = body["metadata"]
    assert meta["generateName"] == "deltastore-daily-"
    assert meta["labels"]["workflows.argoproj.io/cron-workflow"] == "deltastore-daily"
    assert meta["labels"]["workflows.argoproj.io/creator"] == "system-serviceaccount-argo"
    assert meta["labels"]["workflows.argoproj.io/controller-instanceid"] == "team-a"
    assert meta["labels"]["team"] == "data"
    assert "app.kubernetes.io/instance" not in meta["labels"]
    assert meta["annotations"] == {"workflows.argoproj.io/scheduled-time": "2026-01-31T02:00:00Z",
                                   "workflows.argoproj.io/title": "Daily"}
    assert meta["finalizers"] == ["example.com/keep"]
    assert meta["ownerReferences"] == [{
        "apiVersion": "argoproj.io/v1alpha1", "kind": "CronWorkflow", "name": "deltastore-daily",
        "uid": "6d1c-uid", "controller": True, "blockOwnerDeletion": True}]
    assert body["spec"] == {"workflowTemplateRef": {"name": "deltastore-pipeline"}}


@pytest.mark.parametrize(("params", "complaint"), [
    (["skip-sync=maybe"], "use one of `true`, `false`"),
    (["run_date=2026-01-31"], "unknown to `deltastore-pipeline`"),
    (["run-date"], "name=value"),
])
def test_bad_parameters_are_refused_before_the_cluster(params, complaint):
    with pytest.raises(ConfigError, match=complaint):
        workflow_from_template(kube.parse_params(params))


def test_backfill_parameters_are_checked_against_the_backfill_template():
    body = workflow_from_template({"backfill-start": "2026-01-01", "backfill-end": "2026-01-07"},
                                  "deltastore-backfill")
    assert body["spec"]["workflowTemplateRef"] == {"name": "deltastore-backfill"}
    with pytest.raises(ConfigError):
        workflow_from_template({"run-date": "2026-01-01"}, "deltastore-backfill")


def test_dry_run_prints_the_object_without_a_cluster(capsys):
    assert main(["workflows", "submit", "--from", "cron", "--param", "skip-sync=true",
                 "--dry-run"]) == 0
    body = yaml.safe_load(capsys.readouterr().out)
    assert body["kind"] == "Workflow"
    assert body["spec"]["workflowTemplateRef"] == {"name": "deltastore-pipeline"}
    assert body["spec"]["arguments"]["parameters"] == [{"name": "skip-sync", "value": "true"}]


STATUS = {
    "phase": "Failed",
    "nodes": {
        "wf": {"displayName": "wf", "type": "DAG", "phase": "Failed"},
        "wf-1": {"displayName": "extract-store-api", "type": "Pod", "phase": "Succeeded",
                 "startedAt": "2026-01-31T02:00:00Z", "finishedAt": "2026-01-31T02:01:30Z"},
        "wf-2": {"displayName": "sync", "type": "Retry", "phase": "Failed"},
        "wf-3": {"displayName": "sync(0)", "type": "Pod", "phase": "Failed",
                 "startedAt": "2026-01-31T02:10:00Z", "finishedAt": "2026-01-31T02:10:05Z",
                 "message": "Error (exit code 2)"},
        "wf-4": {"displayName": "slo-report", "type": "Pod", "phase": "Pending"},
    },
}


def test_status_rows_show_pods_with_phase_duration_and_message():
    rows = node_rows({"metadata": {"name": "wf"}, "status": STATUS},
                     now=dt.datetime(2026, 1, 31, 3, tzinfo=dt.UTC))
    assert [(r.name, r.phase, r.seconds, r.message) for r in rows] == [
        ("extract-store-api", "Succeeded", 90.0, ""),
        ("sync(0)", "Failed", 5.0, "Error (exit code 2)"),
        ("slo-report", "Pending", None, ""),
    ]
    text = kube.format_rows({"metadata": {"name": "wf"}, "status": STATUS}, rows)
    assert text.splitlines()[0] == "wf: Failed"
    assert "Error (exit code 2)" in text


def fake_cluster(phases: list[str], cron: dict[str, Any]):
    """Answers like the Kubernetes API for the calls `workflows submit/status` make."""
    reads = itertools.count()

    def answer(method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "POST" and path == f"{BASE}/workflows":
            created = {**body["metadata"], "name": "deltastore-pipeline-abc12"}
            return 201, {**body, "metadata": created}
        if method == "GET" and path == f"{BASE}/workflows/deltastore-pipeline-abc12":
            phase = phases[min(next(reads), len(phases) - 1)]
            if phase.isdigit():   # the API server having a bad moment
                return int(phase), {"kind": "Status", "code": int(phase)}
            node = {"displayName": "extract-store-api", "type": "Pod", "phase": phase}
            status = {"phase": phase, "nodes": {"n1": node}}
            if phase in ("Failed", "Error"):
                node["message"] = "main: Error (exit code 3)"
                status["message"] = "child 'extract-store-api' failed"
            return 200, {"metadata": {"name": "deltastore-pipeline-abc12"}, "status": status}
        if method == "GET" and path == f"{BASE}/cronworkflows/deltastore-daily":
            return 200, cron
        return 404, {"kind": "Status", "reason": "NotFound", "code": 404}

    return answer


def kubeconfig(tmp_path: Path, url: str) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": url}}],
        "users": [{"name": "fake", "user": {"token": "test-only"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake",
                                                  "namespace": NAMESPACE}}],
    }))
    return str(path)


@pytest.mark.parametrize(("final", "code"), [("Succeeded", 0), ("Failed", 1), ("Error", 1)])
def test_submit_from_the_template_and_wait(tmp_path, default_objects, final, code):
    lines: list[str] = []
    cron = default_objects["cronworkflow-deltastore-daily.yaml"]
    with serve(fake_cluster(["Running", "503", "Running", "500", final], cron)) as api:
        result = kube.submit_workflow(SubmitRequest(
            source="template", params=("run-date=2026-01-31",), wait=True,
            kubeconfig=kubeconfig(tmp_path, api.url), poll_seconds=0.01), echo=lines.append)
    assert result == code
    method, path, body = api.requests[0]
    assert (method, path) == ("POST", f"{BASE}/workflows")
    assert body == workflow_from_template({"run-date": "2026-01-31"})
    assert lines[0] == "deltastore-pipeline-abc12"
    assert "extract-store-api: Running" in lines
    assert lines[-1] == f"deltastore-pipeline-abc12: {final}"
    assert sum(line.startswith("retrying: ") and "503" in line for line in lines) == 1
    if final != "Succeeded":
        assert "message: child 'extract-store-api' failed" in lines
        assert "failed: extract-store-api: main: Error (exit code 3)" in lines


def test_submit_from_the_cron_reads_it_from_the_cluster(tmp_path, default_objects):
    rendered = default_objects["cronworkflow-deltastore-daily.yaml"]
    cron = {**rendered, "metadata": {**rendered["metadata"], "uid": "live-uid-1"}}
    with serve(fake_cluster(["Running"], cron)) as api:
        result = kube.submit_workflow(SubmitRequest(
            source="cron", kubeconfig=kubeconfig(tmp_path, api.url)), echo=lambda _: None)
    assert result == 0
    assert [r[:2] for r in api.requests] == [("GET", f"{BASE}/cronworkflows/deltastore-daily"),
                                             ("POST", f"{BASE}/workflows")]
    created = api.requests[1][2]
    assert created["metadata"]["ownerReferences"][0]["uid"] == "live-uid-1"
    assert created["metadata"]["labels"]["workflows.argoproj.io/cron-workflow"] == \
        "deltastore-daily"
    created["metadata"]["annotations"].pop("workflows.argoproj.io/scheduled-time")
    expected = workflow_from_cron(cron, {})
    expected["metadata"]["annotations"].pop("workflows.argoproj.io/scheduled-time")
    assert created == expected


def test_wait_times_out_with_exit_code_one(tmp_path, default_objects):
    lines: list[str] = []
    with serve(fake_cluster(["Running"], {})) as api:
        result = kube.submit_workflow(SubmitRequest(
            source="template", wait=True, timeout=0.05, poll_seconds=0.01,
            kubeconfig=kubeconfig(tmp_path, api.url)), echo=lines.append)
    assert result == 1
    assert "timeout" in lines[-1]


def test_status_command_against_the_api(tmp_path, capsys):
    with serve(fake_cluster(["Failed"], {})) as api:
        code = main(["workflows", "status", "deltastore-pipeline-abc12",
                     "--kubeconfig", kubeconfig(tmp_path, api.url)])
    assert code == 1
    assert "deltastore-pipeline-abc12: Failed" in capsys.readouterr().out


def test_cluster_refusals_become_errors_that_say_what_to_check(tmp_path, capsys):
    with serve(lambda method, path, body: (403, {"kind": "Status", "code": 403})) as api:
        code = main(["workflows", "submit", "--kubeconfig", kubeconfig(tmp_path, api.url)])
    assert code == 2
    assert "403" in capsys.readouterr().err


def test_missing_kubeconfig_is_a_configuration_error(tmp_path, capsys):
    code = main(["workflows", "status", "wf", "--kubeconfig", str(tmp_path / "none")])
    assert code == 2
    assert "KUBECONFIG" in capsys.readouterr().err


@pytest.mark.kind
def test_pipeline_runs_on_the_cluster(request):
    """In CI (kind + Argo + the chart installed in the context's namespace, or in
    $DELTASTORE_KUBE_NAMESPACE): the template runs to Succeeded."""
    context = request.config.getoption("--kube-context")
    namespace = os.environ.get("DELTASTORE_KUBE_NAMESPACE")
    code = main(["workflows", "submit", "--context", context, "--wait", "--timeout", "1800",
                 *(["--namespace", namespace] if namespace else [])])
    assert code == 0
