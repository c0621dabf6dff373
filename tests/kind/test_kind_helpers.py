"""The cluster tests' readers, checked here without a cluster: Helm release decoding, value
merging, and judging an Argo workflow's nodes (shaped as Argo reports them)."""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import yaml
from kind_cluster import (
    READ_MARTS,
    REPO,
    dag_tasks,
    dbt_marts,
    decode_helm_release,
    merged,
    task_phases,
    unexplained_failures,
)

from deltastore.workflows.pipeline import PIPELINE


def helm_secret_data(release: dict[str, object]) -> dict[str, str]:
    """What the Kubernetes API returns for a Helm release Secret's `data`."""
    helm_encoded = base64.b64encode(gzip.compress(json.dumps(release).encode()))
    return {"release": base64.b64encode(helm_encoded).decode()}


def test_decode_helm_release_and_merge_values() -> None:
    release = {"name": "deltastore",
               "chart": {"values": {"workflow": {"schedule": "0 2 * * *", "timezone": "UTC"},
                                    "demo": {"enabled": False, "scale": 1}}},
               "config": {"demo": {"enabled": True}, "workflow": {"timezone": "Europe/Paris"}}}
    decoded = decode_helm_release(helm_secret_data(release))
    assert decoded == release
    values = merged(decoded["chart"]["values"], decoded["config"])
    assert values == {"workflow": {"schedule": "0 2 * * *", "timezone": "Europe/Paris"},
                      "demo": {"enabled": True, "scale": 1}}


def test_dag_tasks_of_the_generated_template_cover_the_pipeline() -> None:
    for name in ("workflowtemplate.yaml", "workflowtemplate-demo.yaml"):
        text = (REPO / "charts" / "deltastore" / "files" / name).read_text()
        tasks = dag_tasks(yaml.safe_load(text))
        assert {step.name for step in PIPELINE} <= set(tasks), name


def node(node_id: str, name: str, kind: str, phase: str, children: list[str] | None = None,
         ) -> dict[str, object]:
    return {"id": node_id, "displayName": name, "type": kind, "phase": phase,
            "children": children or []}


def workflow(*nodes: dict[str, object]) -> dict[str, object]:
    return {"status": {"phase": "Succeeded", "nodes": {str(n["id"]): n for n in nodes}}}


def test_a_retried_task_that_succeeded_counts_as_succeeded() -> None:
    run = workflow(
        node("w", "w", "DAG", "Succeeded", ["r"]),
        node("r", "extract-store-api", "Retry", "Succeeded", ["p0", "p1"]),
        node("p0", "extract-store-api(0)", "Pod", "Failed"),
        node("p1", "extract-store-api(1)", "Pod", "Succeeded"),
        node("s", "sync", "Pod", "Succeeded"),
    )
    assert task_phases(run, ["extract-store-api", "sync"]) == {
        "extract-store-api": "Succeeded", "sync": "Succeeded"}
    assert unexplained_failures(run) == []


def test_failed_skipped_and_missing_tasks_are_reported() -> None:
    run = workflow(
        node("r", "dbt-build", "Retry", "Failed", ["p0"]),
        node("p0", "dbt-build(0)", "Pod", "Failed"),
        node("s", "sync", "Skipped", "Skipped"),
    )
    assert task_phases(run, ["dbt-build", "sync", "slo-report"]) == {
        "dbt-build": "Failed", "sync": "Skipped", "slo-report": "Missing"}
    assert unexplained_failures(run) == ["dbt-build", "dbt-build(0)"]


def test_dbt_marts_are_the_contract_marts() -> None:
    marts = dbt_marts()
    assert {"dim_customers", "fct_order_items", "kpi_customer_summary"} <= set(marts)


def test_the_pod_script_counts_published_marts(tmp_path: Path) -> None:
    """What the reader pod runs, run here against a real DuckDB sync target."""
    target = tmp_path / "sync_target.duckdb"
    con = duckdb.connect(str(target))
    con.execute("create schema analytics")
    con.execute("create table analytics.dim_customers as select range as id from range(3)")
    con.execute("create table analytics.kpi_customer_summary as select 1 as customers")
    con.execute("create view analytics.not_published as select 1 as x")
    con.close()
    env = {**os.environ, "DELTASTORE_DATA_DIR": str(tmp_path),
           "DELTASTORE_SYNC_TARGET_URL": f"duckdb://{target}"}
    result = subprocess.run([sys.executable, "-c", READ_MARTS], env=env, capture_output=True,
                            text=True, timeout=120, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "dim_customers": 3, "kpi_customer_summary": 1}
