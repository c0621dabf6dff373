"""Rows loaded and failed dbt tests reach Prometheus: the steps that write them (extract,
every dbt build) get the metrics folder, an output parameter read from its file with a
default, and a gauge of that parameter; no other step does."""

from __future__ import annotations

from typing import Any

from deltastore.workflows.argo.backfill import LOOP

PIPELINE_FILE = "workflowtemplate-deltastore-pipeline.yaml"
BACKFILL_FILE = "workflowtemplate-deltastore-backfill.yaml"
ROWS = ("rows-loaded", "/tmp/metrics/rows_loaded", "deltastore_rows_loaded")
TESTS = ("failed-tests", "/tmp/metrics/failed_tests", "deltastore_dbt_failed_tests")


def containers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in obj["spec"]["templates"] if "container" in t}


def figure_of(name: str, item: dict[str, Any]) -> tuple[str, str, str] | None:
    """The (parameter, file, metric) a template reports, checking the three agree."""
    env = {e["name"]: e.get("value") for e in item["container"]["env"]}
    parameters = item.get("outputs", {}).get("parameters", [])
    gauges = [m for m in item["metrics"]["prometheus"]
              if m["name"] in ("deltastore_rows_loaded", "deltastore_dbt_failed_tests")]
    if not (parameters or gauges or "DELTASTORE_METRICS_DIR" in env):
        return None
    assert env["DELTASTORE_METRICS_DIR"] == "/tmp/metrics", name
    [parameter], [gauge] = parameters, gauges
    assert parameter["valueFrom"]["default"] == "0", name  # a missing file never fails it
    assert gauge["gauge"] == {"realtime": False,
                              "value": f"{{{{outputs.parameters.{parameter['name']}}}}}"}
    item_label = ([{"key": "table", "value": "{{inputs.parameters.item}}"}]
                  if "item" in [p["name"] for p in item.get("inputs", {}).get("parameters", [])]
                  else [])
    assert gauge["labels"] == [{"key": "step", "value": name}, *item_label]
    assert gauge["help"]
    return parameter["name"], parameter["valueFrom"]["path"], gauge["name"]


def test_extracts_report_rows_and_the_build_failed_tests(default_objects):
    found = {name: figure_of(name, item)
             for name, item in containers(default_objects[PIPELINE_FILE]).items()}
    assert found == {"extract-store-api": ROWS, "extract-legacy-db": ROWS, "dbt-build": TESTS,
                     "source-freshness": None, "sync": None, "slo-report": None,
                     "notify": None, "doctor": None}


def test_every_layer_build_reports_failed_tests_next_to_its_artifacts(layer_objects):
    items = containers(layer_objects[PIPELINE_FILE])
    layers = [name for name, item in items.items() if item["container"]["args"][0] == "build"]
    assert len(layers) == 4
    for name in layers:
        assert figure_of(name, items[name]) == TESTS
        assert len(items[name]["outputs"]["artifacts"]) == 2


def test_backfill_reports_each_days_build_and_the_extracts(default_objects):
    obj = default_objects[BACKFILL_FILE]
    found = {name: figure_of(name, item) for name, item in containers(obj).items()}
    assert found["dbt-build"] == TESTS
    assert found["extract-store-api"] == found["extract-legacy-db"] == ROWS
    assert [n for n, f in found.items() if f] == ["extract-store-api", "extract-legacy-db",
                                                  "dbt-build"]
    loop = next(t for t in obj["spec"]["templates"] if t["name"] == LOOP)
    assert [t["template"] for t in loop["dag"]["tasks"]] == ["dbt-build"]


def test_the_chart_embeds_the_same_metrics(chart_files):
    checked = []
    for file_name, obj in chart_files.items():
        if obj["kind"] != "WorkflowTemplate":
            continue
        found = {name: figure_of(name, item) for name, item in containers(obj).items()}
        assert found["dbt-build"] == TESTS, file_name
        assert found["extract-legacy-db"] == ROWS, file_name
        checked.append(file_name)
    assert len(checked) == 4  # pipeline and backfill, each plain and demo
