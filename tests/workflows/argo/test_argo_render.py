"""Rendered objects: valid for Argo (strict schemas, Hera models), stable, chart-compatible."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from argo_cases import DEMO_RELEASE, RELEASE_OPTIONS, replace_sentinels
from hera.workflows.models import CronWorkflow, WorkflowTemplate

from deltastore.settings import SECRET_NAMES
from deltastore.workflows.argo import render
from deltastore.workflows.argo.options import CHART_OPTIONS, DEFAULT_OPTIONS
from deltastore.workflows.argo.render import render_objects, rendered_files, to_yaml

REPO = Path(__file__).resolve().parents[3]
MANIFESTS_DIR = REPO / render.MANIFESTS_SUBDIR
CHART_FILES_DIR = REPO / render.CHART_FILES_SUBDIR
MODELS = {"WorkflowTemplate": WorkflowTemplate, "CronWorkflow": CronWorkflow}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def all_variants(default_objects: dict, demo_objects: dict, layer_objects: dict) -> list[dict]:
    return [*default_objects.values(), *demo_objects.values(), *layer_objects.values()]


def test_every_object_round_trips_through_heras_models(default_objects, demo_objects,
                                                       layer_objects):
    for obj in all_variants(default_objects, demo_objects, layer_objects):
        model = MODELS[obj["kind"]].model_validate(obj)
        assert model.model_dump(by_alias=True, exclude_none=True, mode="json") == obj


def test_every_object_validates_against_the_strict_crd_schemas(schemas, default_objects,
                                                               demo_objects, layer_objects):
    for obj in all_variants(default_objects, demo_objects, layer_objects):
        schemas[obj["kind"]].validate(obj)


def test_the_strict_schema_rejects_a_misspelled_field(schemas, default_objects):
    """Guards the check above: unknown fields must be errors, as with kubeconform -strict."""
    broken = yaml.safe_load(to_yaml(default_objects["cronworkflow-deltastore-daily.yaml"]))
    broken["spec"]["concurrencyPolicyy"] = "Forbid"
    errors = list(schemas["CronWorkflow"].iter_errors(broken))
    assert errors and all(isinstance(e, jsonschema.ValidationError) for e in errors)
    assert any("concurrencyPolicyy" in e.message for e in errors)


def test_cron_workflows_use_schedules_never_schedule(default_objects):
    crons = [o for o in default_objects.values() if o["kind"] == "CronWorkflow"]
    assert {c["metadata"]["name"] for c in crons} == {"deltastore-daily", "deltastore-freshness"}
    for cron in crons:
        assert "schedule" not in cron["spec"]
        assert isinstance(cron["spec"]["schedules"], list)
    daily = default_objects["cronworkflow-deltastore-daily.yaml"]["spec"]
    assert daily["schedules"] == ["0 2 * * *"]
    assert daily["timezone"] == "UTC"
    assert daily["concurrencyPolicy"] == "Forbid"
    assert daily["suspend"] is False
    assert daily["startingDeadlineSeconds"] > 0
    assert daily["workflowSpec"] == {"workflowTemplateRef": {"name": "deltastore-pipeline"}}


def test_names_are_dns_labels(default_objects, demo_objects, layer_objects):
    for obj in all_variants(default_objects, demo_objects, layer_objects):
        names = [obj["metadata"]["name"]]
        for template in obj["spec"].get("templates", []):
            names.append(template["name"])
            names += [t["name"] for t in (template.get("dag") or {}).get("tasks", [])]
        for name in names:
            assert DNS_LABEL.match(name) and len(name) <= 63, name


def test_file_names_are_kebab_case_kind_and_name(default_objects):
    assert sorted(default_objects) == [
        "cronworkflow-deltastore-daily.yaml", "cronworkflow-deltastore-freshness.yaml",
        "workflowtemplate-deltastore-backfill.yaml", "workflowtemplate-deltastore-pipeline.yaml"]


def test_no_secret_or_environment_specific_literal_in_the_yaml(default_objects, chart_files):
    texts = [to_yaml(o) for o in [*default_objects.values(), *chart_files.values()]]
    for text in texts:
        # The names of the Secret's keys are no secret; their values never appear.
        lowered = re.sub("|".join([*SECRET_NAMES, "automountServiceAccountToken"]), "",
                         text).lower()
        for word in ("password", "passwd", "token", "hooks.slack.com", "mssql://",
                     "database.windows.net", "localhost", "127.0.0.1", "apikey"):
            assert word not in lowered, word
        assert not re.search(r"https?://", text), "a URL is environment-specific"
        assert not re.search(r"\b\d{1,3}(\.\d{1,3}){3}\b", text), "an IP address"
    # Configuration arrives through the ConfigMap and the Secret's keys; literal env vars
    # are fixed in-pod paths (HOME, and the metrics folder on the pod's own /tmp volume).
    pipeline = default_objects["workflowtemplate-deltastore-pipeline.yaml"]
    for template in pipeline["spec"]["templates"]:
        if "container" in template:
            env = {e["name"]: e for e in template["container"]["env"]}
            literal = {n: e["value"] for n, e in env.items() if "value" in e}
            assert literal.pop("DELTASTORE_METRICS_DIR", "/tmp/metrics") == "/tmp/metrics"
            assert not any(n.startswith("DELTASTORE_") for n in literal)
            assert {n for n, e in env.items() if "valueFrom" in e} <= SECRET_NAMES


def test_committed_files_equal_a_fresh_render():
    """The golden files (manifests and chart files) are regenerated only on request."""
    files = rendered_files(DEFAULT_OPTIONS, MANIFESTS_DIR, CHART_FILES_DIR)
    stale = render.check(files, echo=lambda _: None)
    assert stale == [], "run `deltastore workflows render` and commit: stale " + ", ".join(
        str(p) for p in stale)


def test_check_reports_a_changed_file(tmp_path: Path):
    files = rendered_files(DEFAULT_OPTIONS, tmp_path, chart_dir=None)
    render.write(files)
    assert render.check(files, echo=lambda _: None) == []
    edited = tmp_path / "cronworkflow-deltastore-daily.yaml"
    edited.write_text(edited.read_text().replace("0 2 * * *", "0 3 * * *"))
    lines: list[str] = []
    assert render.check(files, echo=lines.append) == [edited]
    assert "0 3 * * *" in "\n".join(lines)


def test_chart_files_hold_one_object_each_without_namespace(chart_files):
    assert set(chart_files) >= {"workflowtemplate.yaml", "workflowtemplate-demo.yaml",
                                "cronworkflow-daily.yaml", "cronworkflow-freshness.yaml"}
    for obj in chart_files.values():
        assert "namespace" not in obj["metadata"]


def test_every_sentinel_is_in_the_chart_files_as_a_plain_scalar():
    texts = {p.name: p.read_text() for p in CHART_FILES_DIR.glob("*.yaml")}
    joined = "\n".join(texts.values())
    for sentinel in ("IMAGE", "IMAGE_PULL_POLICY", "CONFIGMAP", "SECRET", "SERVICE_ACCOUNT",
                     "CPU_REQUEST", "MEMORY_REQUEST", "CPU_LIMIT", "MEMORY_LIMIT", "SCHEDULE",
                     "TIMEZONE", "SUSPEND", "FRESHNESS_SCHEDULE"):
        assert re.search(rf"(: |- )__DELTASTORE_{sentinel}__$", joined, re.M), sentinel
    # The name prefix starts every Argo object's name: `<prefix>-pipeline`.
    assert re.search(r"^  name: __DELTASTORE_NAME_PREFIX__-pipeline$", joined, re.M)
    assert "__DELTASTORE_DATA_PVC__" in texts["workflowtemplate-demo.yaml"]
    assert "__DELTASTORE_DATA_PVC__" not in texts["workflowtemplate.yaml"]
    assert "'__DELTASTORE" not in joined and '"__DELTASTORE' not in joined


@pytest.mark.parametrize(("chart_file", "options", "rendered_file"), [
    ("workflowtemplate.yaml", RELEASE_OPTIONS, "workflowtemplate-deltastore-pipeline.yaml"),
    ("workflowtemplate-demo.yaml", DEMO_RELEASE, "workflowtemplate-deltastore-pipeline.yaml"),
    ("workflowtemplate-backfill.yaml", RELEASE_OPTIONS,
     "workflowtemplate-deltastore-backfill.yaml"),
    ("cronworkflow-daily.yaml", RELEASE_OPTIONS, "cronworkflow-deltastore-daily.yaml"),
    ("cronworkflow-freshness.yaml", RELEASE_OPTIONS, "cronworkflow-deltastore-freshness.yaml"),
])
def test_chart_file_with_values_equals_a_render_with_those_options(
        chart_file: str, options, rendered_file: str, schemas):
    """The contract with the chart: textual sentinel replacement == rendering the options."""
    text = (CHART_FILES_DIR / chart_file).read_text()
    from_chart: dict[str, Any] = yaml.safe_load(replace_sentinels(text, options))
    assert from_chart == render_objects(options)[rendered_file]
    schemas[from_chart["kind"]].validate(from_chart)


def test_chart_options_are_all_sentinels():
    for name in ("name_prefix", "image", "image_pull_policy", "configmap", "secret",
                 "service_account",
                 "cpu_request", "memory_request", "cpu_limit", "memory_limit",
                 "light_cpu_request", "light_memory_request", "light_cpu_limit",
                 "light_memory_limit", "schedule",
                 "timezone", "suspend", "freshness_schedule"):
        assert str(getattr(CHART_OPTIONS, name)).startswith("__DELTASTORE_"), name


def test_light_steps_get_the_light_resources_and_data_steps_the_others():
    """Sized per step (``Step.light``): the SLO report, the exit handler, the demo-data
    wait, the dashboards and the backfill's list of days are small; extract, freshness,
    build and sync get the data steps' values."""
    o = DEMO_RELEASE
    data = {"requests": {"cpu": o.cpu_request, "memory": o.memory_request},
            "limits": {"cpu": o.cpu_limit, "memory": o.memory_limit}}
    light = {"requests": {"cpu": o.light_cpu_request, "memory": o.light_memory_request},
             "limits": {"cpu": o.light_cpu_limit, "memory": o.light_memory_limit}}
    assert data != light
    sized: dict[str, Any] = {}
    for obj in render_objects(DEMO_RELEASE).values():
        spec = obj["spec"].get("workflowSpec", obj["spec"])
        for template in spec.get("templates", []):
            if "container" in template:
                sized[template["container"]["args"][0]] = template["container"]["resources"]
    assert {c for c, r in sized.items() if r == light} == {"slo", "notify", "demo-data",
                                                           "dashboards", "workflows",
                                                           "doctor"}
    assert {c for c, r in sized.items() if r == data} >= {"extract", "freshness", "build",
                                                          "sync"}
    assert all(r in (light, data) for r in sized.values())
