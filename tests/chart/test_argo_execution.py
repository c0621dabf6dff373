"""The demo chart's rendered WorkflowTemplate, executed step by step as Argo would (see
argo_run.py): after `helm install` (demo store up, demo-data Job done), one run that
succeeds and one in which a step fails, each ending with the onExit handler fed
`{{workflow.failures}}` in Argo's form; a freshness run beside them; and a step stopped by
SIGTERM or SIGKILL, with the exit code Argo's emissary reports."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helmrender
import pytest
from argo_expr import evaluate
from argo_forms import FAILURES_NONE, substitute
from argo_run import (
    Cluster,
    Run,
    emissary_exit_code,
    run_container,
    run_workflow,
    values_of,
)
from child_process import caught_signals

from deltastore.extract.demo import DEMO_END_DATE
from deltastore.workflows.argo import containers
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
    metrics = values_of(extract.metrics)
    assert metrics["deltastore_rows_loaded"] == float(extract.outputs["rows-loaded"])
    assert metrics["deltastore_step_duration_seconds"] > 0
    assert "deltastore_step_failed_nodes" not in metrics
    assert values_of(good_run.nodes["dbt-build"].metrics)["deltastore_dbt_failed_tests"] == 0
    workflow_metrics = values_of(good_run.metrics)
    assert workflow_metrics["deltastore_pipeline_runs"] == 1
    assert workflow_metrics["deltastore_pipeline_duration_seconds"] > 0   # "%f" seconds
    assert {s.labels for s in good_run.metrics} == {
        (("entrypoint", "pipeline"), ("status", "Succeeded"))}


def test_the_exit_handler_gets_argos_null_and_keeps_the_run_green(good_run: Run) -> None:
    notify = good_run.exit_node
    assert notify is not None
    assert f"--failures={FAILURES_NONE}" in notify.argv     # `"null"`, quotes included
    assert notify.exit_code == 0, notify.output
    assert "ended: Succeeded." in notify.output


@pytest.fixture(scope="module")
def failed_run(good_run: Run, release: tuple[helmrender.Rendering, Cluster]) -> Run:
    rendering, cluster = release
    # Argo passes any string; 2026-02-30 is no date, so dbt-build exits 2 (configuration).
    return run_workflow(cluster, pipeline(rendering), {"run-date": "2026-02-30"},
                        name="deltastore-pipeline-f41ls")


def test_a_failing_step_stops_the_run_and_the_exit_handler_names_its_real_error(
        failed_run: Run) -> None:
    run = failed_run
    build = run.nodes["dbt-build"]
    assert (build.phase, build.exit_code) == ("Failed", 2), build.output[-2000:]
    assert len(build.attempts) == 1    # exit 2 is not retried
    assert run.nodes["extract-legacy-db"].phase == "Succeeded"
    assert {run.nodes[n].phase for n in ("sync", "slo-report", "dashboards")} == {"Omitted"}
    assert run.status == "Failed"
    assert values_of(build.metrics)["deltastore_step_failed_nodes"] == 1
    notify = run.exit_node
    assert notify is not None
    (failures,) = [a for a in notify.argv if a.startswith("--failures=")]
    assert failures.startswith('--failures="[{\\"displayName\\":')
    assert notify.exit_code == 0, notify.output
    assert "ended: Failed. Failed step(s): `dbt-build`" in notify.output
    assert "main: Error (exit code 2) (exit 2: a configuration error" in notify.output
    assert "retryStrategy.expression evaluated to false" not in notify.output
    assert values_of(run.metrics)["deltastore_pipeline_runs"] == 1


def test_the_retry_node_ends_a_backoff_after_its_attempt(failed_run: Run) -> None:
    """operator.go processNodeRetries waits the backoff before it evaluates the expression,
    so the retry node (with Argo's text) finishes 30 s after the pod that explains it: the
    exit handler must not take the latest-finished node's message."""
    by_name = {f["displayName"]: f for f in failed_run.failures}
    retry, pod = by_name["dbt-build"], by_name["dbt-build(0)"]
    assert retry["message"] == "retryStrategy.expression evaluated to false"
    assert pod["message"] == "main: Error (exit code 2)"
    gap = (dt.datetime.fromisoformat(retry["finishedAt"])
           - dt.datetime.fromisoformat(pod["finishedAt"]))
    assert gap >= dt.timedelta(seconds=30)


def test_a_freshness_run_keeps_to_its_own_metric_series(
        good_run: Run, release: tuple[helmrender.Rendering, Cluster]) -> None:
    """The freshness CronWorkflow runs the pipeline template at entrypoint
    `source-freshness`; Argo emits the template's workflow metrics for it too
    (operator.go), labelled with that entrypoint, so the pipeline's series are untouched."""
    rendering, cluster = release
    cron = rendering.one("CronWorkflow", "-freshness")["spec"]["workflowSpec"]
    run = run_workflow(cluster, pipeline(rendering), {}, name="deltastore-freshness-1",
                       entrypoint=cron["entrypoint"])
    assert list(run.nodes) == ["source-freshness"] and run.status == "Succeeded"
    ours = {s.labels for s in run.metrics}
    assert ours == {(("entrypoint", "source-freshness"), ("status", "Succeeded"))}
    assert ours.isdisjoint({s.labels for s in good_run.metrics})


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGKILL, 137)])
def test_a_step_stopped_by_kubernetes_is_retried_whatever_it_could_do(
        release: tuple[helmrender.Rendering, Cluster], tmp_path: Path, signum: int,
        code: int) -> None:
    """A drain sends SIGTERM: the step stops and exits 143 (workflows/signals.py), which
    emissary passes on; a step that cannot stop in time gets SIGKILL and emissary reports
    137 (emissary.go). The rendered retry expression retries both."""
    rendering, _ = release
    spec = pipeline(rendering)["spec"]
    template = {t["name"]: t for t in spec["templates"]}["demo-data-ready"]
    cluster = Cluster(rendering.objects, tmp_path)   # a claim without data: it waits
    process = run_container(cluster, "demo-data-ready", spec, template["container"],
                            wait=False)
    assert not isinstance(process, tuple) and process.stdout is not None
    try:
        deadline = time.monotonic() + 60
        while signal.SIGTERM not in caught_signals(process.pid):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        process.send_signal(signum)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert emissary_exit_code(process.returncode) == code, output
    message = f"main: Error (exit code {code})"
    assert evaluate(template["retryStrategy"]["expression"], str(code), "Failed", message)
    assert template["retryStrategy"]["expression"] == containers.RETRY_EXPRESSION


def test_parameters_with_spaces_and_quotes_reach_the_cli_intact() -> None:
    rendering = helmrender.render([helmrender.CI_DIR / "demo-values.yaml"])
    template = {t["name"]: t for t in pipeline(rendering)["spec"]["templates"]}["dbt-build"]
    tricky = 'tag:nightly "quoted words" path:models/marts\\x'
    resolved = substitute(template, {"inputs.parameters.dbt-select": tricky,
                                     "inputs.parameters.run-date": "2026-01-31",
                                     "inputs.parameters.full-refresh": "false",
                                     "inputs.parameters.verify-whole-tables": "false",
                                     "retries": "0",
                                     "workflow.creationTimestamp": "2026-01-31T02:00:00Z"})
    args = build_parser().parse_args(resolved["container"]["args"])
    assert (args.select, args.run_date) == (tricky, "2026-01-31")


def test_the_harness_reads_the_path_argo_reads(tmp_path: Path) -> None:
    """executor.go ~606: one trailing newline is dropped, nothing else."""
    from argo_run import moved

    assert moved("sqlite:///data/legacy.db", {"/data": tmp_path}) == f"sqlite://{tmp_path}/legacy.db"
    assert moved("/tmp/metrics/x", {"/tmp": tmp_path}) == f"{tmp_path}/metrics/x"
    assert moved("/database", {"/data": tmp_path}) == "/database"


DEADLOCKED = "fct_shipments"


def descendants(manifest: dict[str, Any], unique_id: str) -> set[str]:
    """``unique_id`` and every node below it in dbt's graph (manifest.json child_map)."""
    found, todo = set(), [unique_id]
    while todo:
        node = todo.pop()
        if node not in found:
            found.add(node)
            todo += manifest["child_map"].get(node, [])
    return found


def test_a_retry_builds_only_what_failed_and_the_gate_opens(
        release: tuple[helmrender.Rendering, Cluster]) -> None:
    """Attempt 0 of dbt-build deadlocks on one mart (SQL Server's error 1205, injected at
    dbt's adapter boundary: tests/chart/deadlock): exit 1, so Argo retries it after the
    backoff with {{retries}} = 1, and that attempt builds the mart and what depends on it,
    read from the build the first attempt recorded in the warehouse; then the sync gate,
    reading the latest result of every node across both builds, opens."""
    from deltastore.settings import Settings
    from deltastore.transform.build_log import BuildRecord, last_build

    rendering, cluster = release
    deadlock = {"PYTHONPATH": str(Path(__file__).parent / "deadlock"),
                "DEADLOCK_ON_MODEL": DEADLOCKED}
    builds: list[BuildRecord | None] = []

    def attempt_env(task: str, number: int) -> dict[str, str]:
        if task == "sync":   # dbt-build is over: what did its last attempt record?
            warehouse = next(cluster.claims.rglob("warehouse.duckdb"))
            builds.append(last_build(Settings.from_env({
                "DELTASTORE_DATA_DIR": str(warehouse.parent),
                "DELTASTORE_WAREHOUSE_URL": f"duckdb:///{warehouse}"})))
        return deadlock if (task, number) == ("dbt-build", 0) else {}

    # A full refresh: the release's earlier runs built this day already, and the daily
    # `--changed-only` build would have nothing to do (tests/transform/test_changed_only.py).
    run = run_workflow(cluster, pipeline(rendering),
                       {"run-date": RUN_DATE, "full-refresh": "true"},
                       name="deltastore-pipeline-r3try", attempt_env=attempt_env)
    build = run.nodes["dbt-build"]
    assert [a.exit_code for a in build.attempts] == [1, 0], build.output[-3000:]
    first, second = build.attempts
    assert "--attempt=0" in first.argv and "--attempt=1" in second.argv
    assert "deadlocked on lock resources" in first.output
    assert "retry: retrying the" in second.output
    # What attempt 1 built: the mart and everything below it, nothing else.
    (recorded,) = builds
    assert recorded is not None
    manifest = json.loads(next(cluster.claims.rglob("target/manifest.json")).read_text())
    mart = next(u for u in manifest["nodes"] if u.endswith(f".{DEADLOCKED}"))
    below = descendants(manifest, mart)
    # Every build also runs the project's two on-run-start hooks (the state tables of the
    # incremental models and of their tests, dbt/macros/incremental/), which dbt reports as
    # `operation` nodes.
    hooks = {n.unique_id for n in recorded.nodes if n.unique_id.startswith("operation.")}
    assert len(hooks) == 2
    assert {n.unique_id for n in recorded.nodes} - hooks == below
    assert {n.status for n in recorded.nodes} <= {"success", "pass", "no-op"}  # no-op: exposures
    counts = [int(re.search(r"dbt build: (\d+) nodes", a.output).group(1))  # type: ignore[union-attr]
              for a in (first, second)]
    assert counts[1] == len(below) + len(hooks) and 1 < counts[1] < counts[0]
    # The gate read both builds and opened; the rest of the run went on.
    sync = run.nodes["sync"]
    assert sync.phase == "Succeeded", sync.output[-2000:]
    assert "sync gate: the latest results of all" in sync.output
    assert run.status == "Succeeded"
    assert values_of(build.metrics)["deltastore_step_failed_nodes"] == 1   # attempt 0
