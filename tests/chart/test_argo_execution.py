"""The demo chart's rendered WorkflowTemplate, executed step by step as Argo would (see
argo_run.py): after `helm install` (demo store up, demo-data Job done), one run that
succeeds and one in which a step fails, each ending with the onExit handler fed
`{{workflow.failures}}` in Argo's form."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helmrender
import pytest
from argo_forms import FAILURES_NONE, substitute
from argo_run import Cluster, Run, run_container, run_workflow

from deltastore.extract.demo import DEMO_END_DATE
from deltastore.workflows.cli import build_parser

pytestmark = pytest.mark.slow
RUN_DATE = str(DEMO_END_DATE)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[helmrender.Rendering,
                                                                       Cluster]]:
    rendering = helmrender.render([helmrender.CI_DIR / "demo-values.yaml"],
                                  {"demo": {"scale": 0.02}})
    root = tmp_path_factory.mktemp("cluster")
    # The demo store Deployment, on loopback; its Service name resolves to it.
    pod = rendering.one("Deployment")["spec"]["template"]["spec"]
    store = copy.deepcopy(pod["containers"][0])
    args = store["args"]
    args[args.index("--host") + 1], args[args.index("--port") + 1] = "127.0.0.1", "0"
    server = run_container(Cluster(rendering.objects, root), "demo-store", pod, store,
                           wait=False)
    assert not isinstance(server, tuple) and server.stdout is not None
    try:
        line = server.stdout.readline()
        url = re.search(r"serving on (http://127\.0\.0\.1:\d+)", line)
        assert url, line
        cluster = Cluster(rendering.objects, root, {"DELTASTORE_STORE_API_URL": url.group(1)})
        # What `helm install` starts: the demo-data Job (the workflow's gate waits for it).
        job = rendering.one("Job")["spec"]["template"]["spec"]
        code, output = run_container(cluster, "demo-data", job, job["containers"][0])
        assert code == 0, output
        yield rendering, cluster
    finally:
        server.terminate()
        server.wait(timeout=10)


def pipeline(rendering: helmrender.Rendering) -> dict[str, Any]:
    return rendering.one("WorkflowTemplate", "-pipeline")


@pytest.fixture(scope="module")
def good_run(release: tuple[helmrender.Rendering, Cluster]) -> Run:
    rendering, cluster = release
    # The opt-in doctor too: the read-only pre-flight passes on the demo install.
    return run_workflow(cluster, pipeline(rendering), {"run-date": RUN_DATE,
                                                      "skip-doctor": "false"})


def test_a_good_run_succeeds_end_to_end(good_run: Run,
                                        release: tuple[helmrender.Rendering, Cluster]) -> None:
    phases = {name: node.phase for name, node in good_run.nodes.items()}
    assert phases == dict.fromkeys(phases, "Succeeded"), {
        n: node.output[-2000:] for n, node in good_run.nodes.items() if node.phase != "Succeeded"}
    assert {"demo-data-ready", "doctor", "extract-store-api", "dbt-build", "sync",
            "dashboards"} <= set(phases)
    assert good_run.status == "Succeeded"
    claim = release[1].claims
    assert any(p.name == "sync_target.duckdb" for p in claim.rglob("*.duckdb"))


def test_output_parameters_and_metrics_read_back_as_argo_reads_them(good_run: Run) -> None:
    extract = good_run.nodes["extract-store-api"]
    assert int(extract.outputs["rows-loaded"]) > 0
    metrics = dict(extract.metrics)
    assert metrics["deltastore_rows_loaded"] == float(extract.outputs["rows-loaded"])
    assert metrics["deltastore_step_duration_seconds"] > 0
    assert "deltastore_step_failed_nodes" not in metrics
    assert dict(good_run.nodes["dbt-build"].metrics)["deltastore_dbt_failed_tests"] == 0
    workflow_metrics = dict(good_run.metrics)
    assert workflow_metrics["deltastore_pipeline_runs"] == 1
    assert workflow_metrics["deltastore_pipeline_duration_seconds"] > 0   # "%f" seconds


def test_the_exit_handler_gets_argos_null_and_keeps_the_run_green(good_run: Run) -> None:
    notify = good_run.exit_node
    assert notify is not None
    assert f"--failures={FAILURES_NONE}" in notify.argv     # `"null"`, quotes included
    assert notify.exit_code == 0, notify.output
    assert "ended: Succeeded." in notify.output


def test_a_failing_step_stops_the_run_and_the_exit_handler_names_it(
        good_run: Run, release: tuple[helmrender.Rendering, Cluster]) -> None:
    rendering, cluster = release
    # Argo passes any string; 2026-02-30 is no date, so dbt-build exits 2 (configuration).
    run = run_workflow(cluster, pipeline(rendering), {"run-date": "2026-02-30"},
                       name="deltastore-pipeline-f41ls")
    build = run.nodes["dbt-build"]
    assert (build.phase, build.exit_code) == ("Failed", 2), build.output[-2000:]
    assert run.nodes["extract-legacy-db"].phase == "Succeeded"
    assert {run.nodes[n].phase for n in ("sync", "slo-report", "dashboards")} == {"Omitted"}
    assert run.status == "Failed"
    assert dict(build.metrics)["deltastore_step_failed_nodes"] == 1
    notify = run.exit_node
    assert notify is not None
    (failures,) = [a for a in notify.argv if a.startswith("--failures=")]
    assert failures.startswith('--failures="[{\\"displayName\\":')
    assert notify.exit_code == 0, notify.output
    assert "ended: Failed. Failed step(s): `dbt-build`" in notify.output
    assert "main: Error (exit code 2)" in notify.output
    assert dict(run.metrics)["deltastore_pipeline_runs"] == 1


def test_parameters_with_spaces_and_quotes_reach_the_cli_intact() -> None:
    rendering = helmrender.render([helmrender.CI_DIR / "demo-values.yaml"])
    template = {t["name"]: t for t in pipeline(rendering)["spec"]["templates"]}["dbt-build"]
    tricky = 'tag:nightly "quoted words" path:models/marts\\x'
    resolved = substitute(template, {"inputs.parameters.dbt-select": tricky,
                                     "inputs.parameters.run-date": "2026-01-31",
                                     "inputs.parameters.full-refresh": "false"})
    args = build_parser().parse_args(resolved["container"]["args"])
    assert (args.select, args.run_date) == (tricky, "2026-01-31")


def test_the_harness_reads_the_path_argo_reads(tmp_path: Path) -> None:
    """executor.go ~606: one trailing newline is dropped, nothing else."""
    from argo_run import moved

    assert moved("sqlite:///data/legacy.db", {"/data": tmp_path}) == f"sqlite://{tmp_path}/legacy.db"
    assert moved("/tmp/metrics/x", {"/tmp": tmp_path}) == f"{tmp_path}/metrics/x"
    assert moved("/database", {"/data": tmp_path}) == "/database"
