"""The pipeline WorkflowTemplate: same DAG as the local runner, commands the CLI accepts,
retries only on exit code 1, hardened pods, variants (layer, demo, artifacts)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from argo_cases import LAYERS

from deltastore.extract.load import legacy_tables_named
from deltastore.schemas import OLD_STORE_TABLES
from deltastore.workflows.argo import containers, template
from deltastore.workflows.argo.options import DEFAULT_OPTIONS
from deltastore.workflows.argo.render import dashboards_command_exists, render_objects
from deltastore.workflows.cli import build_parser
from deltastore.workflows.pipeline import OPTION_FLAGS, PIPELINE, execution_order

PIPELINE_FILE = "workflowtemplate-deltastore-pipeline.yaml"
# Sample values for Argo expressions, by the expression's last name.
SAMPLES = {"run-date": "2026-01-31", "full-refresh": "true", "dbt-select": "tag:daily",
           "verify-whole-tables": "true", "name": "deltastore-pipeline-x7k2p", "status": "Failed",
           "failures": '[{"displayName": "sync", "message": "exit code 1"}]',
           "start": "2026-01-01", "end": "2026-01-07", "item": "2026-01-02",
           "retries": "1", "creationTimestamp": "2026-01-31T02:00:00Z"}
EMPTY = {**SAMPLES, "run-date": "", "dbt-select": "", "full-refresh": "false",
         "verify-whole-tables": "false"}


def dag_tasks(obj: dict[str, Any], dag: str = template.ENTRY) -> list[dict[str, Any]]:
    return next(t for t in obj["spec"]["templates"] if t["name"] == dag)["dag"]["tasks"]


def templates(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in obj["spec"]["templates"]}


def topological(tasks: list[dict[str, Any]]) -> list[str]:
    """Kahn's order of the DAG, ties broken by task order (as the local runner does)."""
    deps = {t["name"]: template.dependencies_of(t.get("depends")) for t in tasks}
    order: list[str] = []
    while len(order) < len(deps):
        ready = [n for n in deps if n not in order and all(d in order for d in deps[n])]
        assert ready, f"cycle in {deps}"
        order += ready
    return order


def substitute(arg: str, samples: dict[str, str]) -> str:
    return re.sub(r"\{\{[^}]*?([\w-]+)\}\}", lambda m: samples[m.group(1)], arg)


def container_argvs(obj: dict[str, Any], samples: dict[str, str]) -> dict[str, list[str]]:
    return {name: [substitute(a, samples) for a in t["container"]["args"]]
            for name, t in templates(obj).items() if "container" in t}


def test_dag_order_equals_the_local_runners(default_objects):
    tasks = dag_tasks(default_objects[PIPELINE_FILE])
    assert topological(tasks) == [s.name for s in execution_order()]
    for task, step in zip(tasks, PIPELINE, strict=True):
        assert task["name"] == step.name
        assert template.dependencies_of(task.get("depends")) == list(step.depends)


def test_extracts_run_in_parallel_and_a_skipped_sync_lets_slo_report_run(default_objects):
    tasks = {t["name"]: t for t in dag_tasks(default_objects[PIPELINE_FILE])}
    # Both wait only for the doctor, which runs first when asked (skip-doctor=false).
    assert "depends" not in tasks["doctor"]
    assert tasks["doctor"]["when"] == "'{{workflow.parameters.skip-doctor}}' != 'true'"
    assert tasks["extract-store-api"]["depends"] == "(doctor.Succeeded || doctor.Skipped)"
    assert tasks["extract-legacy-db"]["depends"] == "(doctor.Succeeded || doctor.Skipped)"
    assert tasks["sync"]["when"] == "'{{workflow.parameters.skip-sync}}' != 'true'"
    assert tasks["slo-report"]["depends"] == "(sync.Succeeded || sync.Skipped)"


@pytest.mark.parametrize("samples", [SAMPLES, EMPTY], ids=["values", "empty-values"])
def test_every_command_parses_with_the_clis_own_parser(default_objects, demo_objects,
                                                      layer_objects, samples):
    """Empty run-date/dbt-select must parse too: Argo passes `--run-date=` for 'today'."""
    parser = build_parser()
    objects = [o for variant in (default_objects, demo_objects, layer_objects)
               for o in variant.values() if o["kind"] == "WorkflowTemplate"]
    for obj in objects:
        for name, argv in container_argvs(obj, samples).items():
            try:
                parser.parse_args(argv)
            except SystemExit:
                pytest.fail(f"`deltastore {' '.join(argv)}` ({name}) does not parse")


def test_steps_pass_the_options_of_the_definition(default_objects):
    argvs = container_argvs(default_objects[PIPELINE_FILE], SAMPLES)
    for step in PIPELINE:
        expected = list(step.command) + [
            f"{OPTION_FLAGS[o]}={SAMPLES[containers.PARAMETER_NAMES[o]]}"
            for o in step.options]
        if step.fan_out:
            expected.append(f"{step.fan_out.flag}={SAMPLES[template.ITEM]}")
        if step.dbt_build:
            expected += ["--attempt=1", "--retry-since=2026-01-31T02:00:00Z"]
        assert argvs[step.name] == expected
    # {{retries}} and {{workflow.creationTimestamp}}: Argo's attempt number (0 first) and
    # the run's creation time (operator.go executeTemplate, setGlobalParameters).
    assert argvs["dbt-build"] == ["build", "--changed-only", "--run-date=2026-01-31",
                                  "--full-refresh=true", "--select=tag:daily",
                                  "--verify-whole-tables=true", "--attempt=1",
                                  "--retry-since=2026-01-31T02:00:00Z"]


def test_the_legacy_extract_fans_out_one_pod_per_table(default_objects, demo_objects):
    """Production: extract-legacy-db calls a DAG of its own that runs the container once per
    legacy table, at most `parallelism` at once; downstream tasks wait for all of them."""
    obj = default_objects[PIPELINE_FILE]
    [task] = [t for t in dag_tasks(obj) if t["name"] == "extract-legacy-db"]
    assert task["template"] == "extract-legacy-db-each"
    fan_out = templates(obj)["extract-legacy-db-each"]
    assert fan_out["parallelism"] == 4
    [each] = fan_out["dag"]["tasks"]
    assert each["template"] == "extract-legacy-db"
    assert each["withItems"] == [t.name for t in OLD_STORE_TABLES]
    assert {a["name"]: a["value"] for a in each["arguments"]["parameters"]} == {
        "full-refresh": "{{inputs.parameters.full-refresh}}", template.ITEM: "{{item}}"}
    # Every item is a table the CLI accepts.
    assert legacy_tables_named(each["withItems"]) == OLD_STORE_TABLES
    # The demo's single DuckDB file takes one writer at a time: one task, no fan-out.
    demo = demo_objects[PIPELINE_FILE]
    [demo_task] = [t for t in dag_tasks(demo) if t["name"] == "extract-legacy-db"]
    assert demo_task["template"] == "extract-legacy-db"
    assert "extract-legacy-db-each" not in templates(demo)


def test_parameters_for_the_submit_form(default_objects):
    params = {p["name"]: p for p in
              default_objects[PIPELINE_FILE]["spec"]["arguments"]["parameters"]}
    assert list(params) == ["run-date", "full-refresh", "dbt-select", "verify-whole-tables",
                            "skip-sync", "skip-doctor"]
    # An opt-in step's parameter skips it unless the submitter says otherwise.
    for step in PIPELINE:
        if step.skip_parameter:
            assert params[step.skip_parameter]["value"] == str(step.opt_in).lower()
    assert params["run-date"]["value"] == ""
    assert params["full-refresh"]["enum"] == ["true", "false"]
    assert params["skip-sync"]["enum"] == ["true", "false"]
    assert all(p.get("description") for p in params.values())
    for step in PIPELINE:
        assert step.skip_parameter is None or params[step.skip_parameter]["enum"] == [
            "true", "false"]


def test_retries_only_transient_steps_on_exit_code_one(default_objects):
    by_name = templates(default_objects[PIPELINE_FILE])
    for step in PIPELINE:
        retry = by_name[step.name].get("retryStrategy")
        if step.retry == "transient":
            assert "asInt(lastRetry.exitCode) in [1," in retry["expression"]
            assert retry["retryPolicy"] == "Always"
            assert retry["backoff"]["factor"] == 2
        else:
            assert retry is None, step.name


def test_pods_are_hardened_and_configured_only_through_env_from(default_objects):
    spec = default_objects[PIPELINE_FILE]["spec"]
    assert spec["securityContext"] == {"fsGroup": 10001, "runAsGroup": 10001,
                                       "runAsNonRoot": True, "runAsUser": 10001,
                                       "seccompProfile": {"type": "RuntimeDefault"}}
    assert spec["volumes"] == [{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]
    assert spec["activeDeadlineSeconds"] > 0
    assert spec["onExit"] == "notify"
    assert spec["podGC"]["strategy"] in ("OnPodSuccess", "OnWorkflowSuccess")
    assert spec["ttlStrategy"]["secondsAfterSuccess"] > 0
    assert spec["serviceAccountName"] == "deltastore-workflow"
    # No token in the step containers; Argo's executor gets its own (workflowpod.go,
    # setupServiceAccount: a pod-level false plus executor.serviceAccountName).
    assert spec["automountServiceAccountToken"] is False
    assert spec["executor"] == {"serviceAccountName": "deltastore-workflow"}
    for name, item in templates(default_objects[PIPELINE_FILE]).items():
        if "container" not in item:
            continue
        box = item["container"]
        assert box["command"] == ["deltastore"], name
        assert box["image"] == DEFAULT_OPTIONS.image
        assert box["envFrom"] == [{"configMapRef": {"name": "deltastore-config"}}]
        assert box["securityContext"] == {"allowPrivilegeEscalation": False,
                                          "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                                          "capabilities": {"drop": ["ALL"]}}
        assert {m["mountPath"] for m in box["volumeMounts"]} == {"/data", "/tmp"}
        assert box["resources"] in (  # per step: test_argo_render checks which gets which
            {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
            {"requests": {"cpu": "50m", "memory": "128Mi"},
             "limits": {"cpu": "500m", "memory": "512Mi"}})
        assert item["activeDeadlineSeconds"] > 0
        metric_names = [m["name"] for m in item["metrics"]["prometheus"]]
        assert metric_names[:2] == ["deltastore_step_duration_seconds",
                                    "deltastore_step_failed_nodes"]


def test_exit_handler_reports_status_and_failures(default_objects):
    notify = templates(default_objects[PIPELINE_FILE])["notify"]
    assert notify["container"]["args"] == [
        "notify", "--workflow={{workflow.name}}", "--status={{workflow.status}}",
        "--failures={{workflow.failures}}"]


def test_ui_annotations_and_labels(default_objects):
    for obj in default_objects.values():
        meta = obj["metadata"]
        assert meta["annotations"]["workflows.argoproj.io/title"]
        assert meta["annotations"]["workflows.argoproj.io/description"]
        assert meta["labels"]["app.kubernetes.io/name"] == "deltastore"
    # The UI reads a run's title only from the Workflow's own annotations, which the
    # controller copies from workflowMetadata (operator.go ~551-571); step titles never show.
    for obj in default_objects.values():
        if obj["kind"] == "WorkflowTemplate":
            run_meta = obj["spec"]["workflowMetadata"]["annotations"]
            assert run_meta == {k: v for k, v in obj["metadata"]["annotations"].items()
                                if k.startswith("workflows.argoproj.io/")}
    for item in templates(default_objects[PIPELINE_FILE]).values():
        assert "annotations" not in item.get("metadata", {}), item["name"]


def test_dbt_artifacts_only_with_an_artifact_repository(default_objects, layer_objects):
    plain = templates(default_objects[PIPELINE_FILE])["dbt-build"]
    assert "artifacts" not in plain["outputs"]
    for name, item in templates(layer_objects[PIPELINE_FILE]).items():
        if name.startswith("dbt-"):
            artifacts = item["outputs"]["artifacts"]
            assert [a["path"] for a in artifacts] == [
                "/data/dbt/target/run_results.json", "/data/dbt/target/manifest.json"]
            assert all(a["optional"] is True for a in artifacts)


def test_layer_granularity_chains_one_dbt_task_per_layer(layer_objects):
    obj = layer_objects[PIPELINE_FILE]
    tasks = {t["name"]: t for t in dag_tasks(obj)}
    layer_names = ["dbt-seeds-staging", "dbt-intermediate", "dbt-marts", "dbt-snapshots"]
    assert "dbt-build" not in tasks
    assert topological(dag_tasks(obj)) == [
        "doctor", "extract-store-api", "extract-legacy-db", "source-freshness", *layer_names,
        "sync", "slo-report"]
    assert tasks["dbt-seeds-staging"]["depends"] == "source-freshness.Succeeded"
    assert tasks["sync"]["depends"] == "dbt-snapshots.Succeeded"
    argvs = container_argvs(obj, SAMPLES)
    for name, (_, selector) in zip(layer_names, LAYERS, strict=True):
        assert argvs[name] == ["build", "--changed-only", f"--select={selector}",
                               "--run-date=2026-01-31", "--full-refresh=true",
                               "--verify-whole-tables=true", "--attempt=1",
                               "--retry-since=2026-01-31T02:00:00Z"]
    names = [p["name"] for p in obj["spec"]["arguments"]["parameters"]]
    assert "dbt-select" not in names


def test_layer_granularity_reads_the_layers_from_a_dbt_manifest(tmp_path):
    from deltastore.transform import runner

    manifest = tmp_path / "manifest.json"
    manifest.write_text(MANIFEST_JSON)
    layers = runner.dbt_layers(manifest)
    objects = render_objects(DEFAULT_OPTIONS.replace(dbt_granularity="layer",
                                                     dbt_manifest=str(manifest)))
    names = [t["name"] for t in dag_tasks(objects[PIPELINE_FILE])]
    assert [n for n in names if n.startswith("dbt-")] == [
        f"dbt-{template.task_name(layer)}" for layer, _ in layers]


def test_layer_granularity_without_a_manifest_says_how_to_fix(tmp_path):
    from deltastore.errors import ConfigError

    with pytest.raises(ConfigError, match="run `deltastore build`"):
        render_objects(DEFAULT_OPTIONS.replace(dbt_granularity="layer",
                                               dbt_manifest=str(tmp_path / "missing.json")))


def test_demo_variant_shares_a_claim_and_serialises_the_duckdb_writers(demo_objects):
    obj = demo_objects[PIPELINE_FILE]
    assert obj["spec"]["volumes"][0] == {
        "name": "data", "persistentVolumeClaim": {"claimName": "deltastore-data"}}
    by_name = templates(obj)
    for name in ("extract-store-api", "extract-legacy-db"):
        assert by_name[name]["synchronization"] == {
            "mutexes": [{"name": f"deltastore-{template.DEMO_WRITER_MUTEX}"}]}
    tasks = {t["name"]: t for t in dag_tasks(obj)}
    if dashboards_command_exists():
        assert tasks["dashboards"]["depends"] == "(sync.Succeeded || sync.Skipped)"
        assert by_name["dashboards"]["container"]["args"] == ["dashboards"]
    else:
        assert "dashboards" not in tasks


MANIFEST_JSON = """{
  "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},
  "nodes": {
    "seed.deltastore.states": {"resource_type": "seed", "name": "states",
      "original_file_path": "seeds/states.csv", "fqn": ["deltastore", "states"],
      "path": "states.csv", "tags": [], "config": {"materialized": "seed"}},
    "model.deltastore.stg_new_store__orders": {"resource_type": "model",
      "name": "stg_new_store__orders", "fqn": ["deltastore", "staging", "new_store",
      "stg_new_store__orders"], "original_file_path": "models/staging/new_store/stg.sql",
      "path": "staging/new_store/stg.sql", "tags": [], "config": {"materialized": "view"}},
    "model.deltastore.int_orders_joined": {"resource_type": "model", "name": "int_orders_joined",
      "fqn": ["deltastore", "intermediate", "int_orders_joined"],
      "original_file_path": "models/intermediate/int_orders_joined.sql",
      "path": "intermediate/int_orders_joined.sql", "tags": [],
      "config": {"materialized": "view"}},
    "model.deltastore.dim_customers": {"resource_type": "model", "name": "dim_customers",
      "fqn": ["deltastore", "marts", "dim_customers"],
      "original_file_path": "models/marts/dim_customers.sql", "path": "marts/dim_customers.sql",
      "tags": [], "config": {"materialized": "table"}},
    "snapshot.deltastore.customers_snapshot": {"resource_type": "snapshot",
      "name": "customers_snapshot", "fqn": ["deltastore", "customers_snapshot"],
      "original_file_path": "snapshots/customers_snapshot.yml",
      "path": "customers_snapshot.yml", "tags": [], "config": {"materialized": "snapshot"}}
  },
  "sources": {}, "parent_map": {}, "child_map": {}
}"""


def test_sync_and_slo_report_read_the_build_from_the_warehouse_not_files(
        default_objects, demo_objects, layer_objects):
    """Steps share no files on emptyDir: the gate and the SLO report read the build that
    dbt-build recorded in the warehouse, so no step takes artifacts or may fail silently."""
    with_repo = render_objects(DEFAULT_OPTIONS.replace(artifacts=True))
    for objects in (default_objects, demo_objects, layer_objects, with_repo):
        for name, obj in objects.items():
            for item in obj["spec"].get("templates", []):  # CronWorkflows only refer to them
                assert "artifacts" not in (item.get("inputs") or {}), (name, item["name"])
                for task in (item.get("dag") or {}).get("tasks", []):
                    assert "continueOn" not in task, (name, task["name"])
                    assert "artifacts" not in (task.get("arguments") or {}), (name, task["name"])
    slo = templates(default_objects[PIPELINE_FILE])["slo-report"]
    assert slo["container"]["args"] == ["slo"]
    # The build's artifacts stay an optional export when a repository is configured.
    assert [a["name"] for a in templates(with_repo[PIPELINE_FILE])["dbt-build"]["outputs"][
        "artifacts"]] == ["run-results", "manifest"]


def test_demo_variant_runs_one_workflow_at_a_time(default_objects, demo_objects):
    for name in (PIPELINE_FILE, "workflowtemplate-deltastore-backfill.yaml"):
        assert demo_objects[name]["spec"]["synchronization"] == {
            "mutexes": [{"name": f"deltastore-{template.DEMO_WORKFLOW_MUTEX}"}]}
        assert "synchronization" not in default_objects[name]["spec"]
    assert template.DEMO_WORKFLOW_MUTEX != template.DEMO_WRITER_MUTEX, "would deadlock"


# What each step may read from the Secret, from what its command connects to: the doctor
# every database (it logs in to each), the extracts their source and the warehouse,
# freshness/build/slo-report the warehouse (slo-report reads the node timings dbt-build
# recorded there), the sync the warehouse and the target, the dashboards the sync target,
# the exit handler the webhook only; the rest nothing.
SECRET_KEYS = {
    "doctor": {"DELTASTORE_LEGACY_DB_PASSWORD", "DELTASTORE_WAREHOUSE_PASSWORD",
               "DELTASTORE_SYNC_TARGET_PASSWORD"},
    "extract-store-api": {"DELTASTORE_WAREHOUSE_PASSWORD"},
    "extract-legacy-db": {"DELTASTORE_LEGACY_DB_PASSWORD", "DELTASTORE_WAREHOUSE_PASSWORD"},
    "source-freshness": {"DELTASTORE_WAREHOUSE_PASSWORD"},
    "dbt-build": {"DELTASTORE_WAREHOUSE_PASSWORD"},
    "sync": {"DELTASTORE_WAREHOUSE_PASSWORD", "DELTASTORE_SYNC_TARGET_PASSWORD"},
    "slo-report": {"DELTASTORE_WAREHOUSE_PASSWORD"},
    "dashboards": {"DELTASTORE_SYNC_TARGET_PASSWORD"},
    "notify": {"DELTASTORE_NOTIFY_WEBHOOK_URL"},
    "demo-data-ready": set(),
    "backfill-days": set(),
}


def secret_keys(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})}


def test_each_step_gets_only_the_secret_keys_it_uses(default_objects, demo_objects,
                                                      layer_objects):
    seen: set[str] = set()
    for variant in (default_objects, demo_objects, layer_objects):
        for obj in variant.values():
            for name, item in templates(obj).items() if obj["kind"] != "CronWorkflow" else ():
                if "container" not in item:
                    continue
                step = "dbt-build" if name.startswith("dbt-") else name   # layer tasks
                refs = secret_keys(item["container"])
                assert set(refs) == SECRET_KEYS[step], name
                for key, ref in refs.items():
                    assert ref == {"name": "deltastore-secrets", "key": key, "optional": True}
                assert item["container"]["envFrom"] == [
                    {"configMapRef": {"name": "deltastore-config"}}], name
                seen.add(step)
    assert seen == set(SECRET_KEYS)


def test_deadlines_sizes_and_special_cases_come_from_the_pipeline_definition(
        default_objects, layer_objects):
    from deltastore.workflows.pipeline import ARGO_ONLY_STEPS

    steps = {s.name: s for s in (*PIPELINE, *ARGO_ONLY_STEPS)}
    for objects in (default_objects, layer_objects):
        for obj in objects.values():
            if obj["kind"] == "CronWorkflow":
                continue
            for name, item in templates(obj).items():
                if "container" in item:
                    step = steps["dbt-build" if name.startswith("dbt-") else name]
                    assert item["activeDeadlineSeconds"] == step.deadline_seconds, name
    # The Argo code never asks for a step by its name: what differs is data on the Step.
    source = "\n".join(p.read_text() for p in Path(template.__file__).parent.glob("*.py"))
    for name in steps:
        assert f'"{name}"' not in source, f"`{name}` is named in workflows/argo"


def test_fanned_out_pods_label_their_metrics_with_their_item(default_objects):
    """Eight pods of extract-legacy-db run one template: without the table label their
    gauges share one series and the last pod wins (metrics_custom.go: a gauge is Set)."""
    items = templates(default_objects[PIPELINE_FILE])
    for name, item in items.items():
        if "container" not in item:
            continue
        for metric in item["metrics"]["prometheus"]:
            keys = [label["key"] for label in metric["labels"]]
            if name == "extract-legacy-db":
                assert {"key": "table", "value": "{{inputs.parameters.item}}"} in \
                    metric["labels"], metric["name"]
            else:
                assert "table" not in keys, (name, metric["name"])


def test_workflow_metrics_are_labelled_by_entrypoint(default_objects):
    """Workflow-level metrics come from the WorkflowTemplate whatever the entrypoint
    (operator.go: `woc.execWf.Spec.Metrics`): the freshness runs get series of their own."""
    for name in (PIPELINE_FILE, "workflowtemplate-deltastore-backfill.yaml"):
        for metric in default_objects[name]["spec"]["metrics"]["prometheus"]:
            assert {"key": "entrypoint", "value": "{{workflow.mainEntrypoint}}"} in \
                metric["labels"], metric["name"]
    freshness = default_objects["cronworkflow-deltastore-freshness.yaml"]["spec"]
    assert freshness["workflowSpec"]["entrypoint"] == "source-freshness" != template.ENTRY
