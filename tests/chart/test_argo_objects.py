"""The chart's Argo objects equal the renderer's output for the same values, with every
sentinel replaced and Argo's own `{{…}}` expressions untouched."""

from __future__ import annotations

import copy
import re
import shlex
from pathlib import Path
from typing import Any

import helmrender
import pytest
import yaml
from helmrender import SCENARIOS

from deltastore.workflows.argo.options import SENTINEL_PREFIX, RenderOptions
from deltastore.workflows.argo.render import render_objects

SCHEDULING_FIELDS = ("nodeSelector", "tolerations", "affinity", "podPriorityClassName",
                     "imagePullSecrets")
# What Argo writes between braces: a variable path, or an `=` expression.
ARGO_EXPRESSION = re.compile(r"\{\{(=[^{}]+|[A-Za-z][\w.\-\[\]']*)\}\}")


def chart_values(values_files: list[str]) -> dict[str, Any]:
    defaults = yaml.safe_load((helmrender.CHART_DIR / "values.yaml").read_text())
    return helmrender.merge(defaults, helmrender.user_values(
        [helmrender.CI_DIR / f for f in values_files], None))


def options_for(values: dict[str, Any], fullname: str = helmrender.RELEASE) -> RenderOptions:
    """The renderer's options for chart values (release `deltastore`: fullname `deltastore`)."""
    image = values["image"]
    app_version = yaml.safe_load((helmrender.CHART_DIR / "Chart.yaml").read_text())["appVersion"]
    reference = (f"{image['repository']}@{image['digest']}" if image["digest"]
                 else f"{image['repository']}:{image['tag'] or app_version}")
    account = values["serviceAccount"]["name"] or f"{fullname}-workflow"
    workflow = values["workflow"]
    resources, light = workflow["resources"], workflow["lightResources"]
    return RenderOptions(
        name_prefix=fullname,
        image=reference,
        image_pull_policy=image["pullPolicy"],
        configmap=f"{fullname}-config",
        secret=values["existingSecret"] or f"{fullname}-secrets",
        service_account=account,
        cpu_request=str(resources["requests"]["cpu"]),
        memory_request=str(resources["requests"]["memory"]),
        cpu_limit=str(resources["limits"]["cpu"]),
        memory_limit=str(resources["limits"]["memory"]),
        light_cpu_request=str(light["requests"]["cpu"]),
        light_memory_request=str(light["requests"]["memory"]),
        light_cpu_limit=str(light["limits"]["cpu"]),
        light_memory_limit=str(light["limits"]["memory"]),
        schedule=workflow["schedule"],
        timezone=workflow["timezone"],
        suspend=workflow["suspend"],
        freshness_schedule=workflow["freshness"]["schedule"],
        data_pvc=f"{fullname}-data" if values["demo"]["enabled"] else None,
        allow_dst_schedule=workflow["allowDstSchedule"],
    )


def by_name(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def argo_objects(rendering: helmrender.Rendering) -> dict[tuple[str, str], dict[str, Any]]:
    return by_name([o for o in rendering.objects
                    if o["apiVersion"].startswith("argoproj.io/")])


def chart_additions(obj: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Take out what the chart adds to a rendered Argo object (its standard labels, the
    instance label on runs and pods, the scheduling values) and return it."""
    added: dict[str, Any] = {}
    labels = obj["metadata"]["labels"]
    for key in ("helm.sh/chart", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                "app.kubernetes.io/managed-by", *values["commonLabels"]):
        added[key] = labels.pop(key)
    if obj["kind"] == "WorkflowTemplate":
        spec = obj["spec"]
        for where in ("podMetadata", "workflowMetadata"):
            added[f"{where}.instance"] = spec[where]["labels"].pop("app.kubernetes.io/instance")
        added |= {f: spec.pop(f) for f in SCHEDULING_FIELDS if f in spec}
    return added


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_chart_argo_objects_equal_the_renderer_output(
        renders: dict[str, helmrender.Rendering], scenario: str) -> None:
    values = chart_values([scenario])
    expected = by_name(list(render_objects(options_for(values)).values()))
    actual = copy.deepcopy(argo_objects(renders[scenario]))
    for obj in actual.values():
        added = chart_additions(obj, values)
        assert added["app.kubernetes.io/instance"] == helmrender.RELEASE
        assert added["app.kubernetes.io/managed-by"] == "Helm"
        if obj["kind"] == "WorkflowTemplate":
            assert added["podMetadata.instance"] == added["workflowMetadata.instance"] \
                == helmrender.RELEASE
            assert {f: added[f] for f in SCHEDULING_FIELDS if f in added} == {
                f: v for f, v in (
                    ("nodeSelector", values["nodeSelector"]),
                    ("tolerations", values["tolerations"]),
                    ("affinity", values["affinity"]),
                    ("podPriorityClassName", values["priorityClassName"]),
                    ("imagePullSecrets", values["imagePullSecrets"])) if v}
    assert set(actual) == set(expected)
    for key, obj in expected.items():
        assert actual[key] == obj, f"{key} differs from render_objects()"


def test_two_releases_share_a_namespace_without_sharing_an_object() -> None:
    """Argo object names (and the demo's mutexes) start with the release's full name, as
    every other object of the chart; a CronWorkflow refers to its own release's template."""
    names: list[set[tuple[str, str]]] = []
    for release in ("deltastore", "nightly-test"):
        rendering = helmrender.render([helmrender.CI_DIR / "demo-values.yaml"],
                                      release=release)
        objects = argo_objects(rendering)
        names.append(set(objects))
        template = rendering.one("WorkflowTemplate", "-pipeline")["metadata"]["name"]
        for cron in rendering.of_kind("CronWorkflow"):
            assert cron["spec"]["workflowSpec"]["workflowTemplateRef"]["name"] == template
            assert len(cron["metadata"]["name"]) <= 52   # Argo's limit for a CronWorkflow
        mutexes = {m["name"] for o in rendering.of_kind("WorkflowTemplate")
                   for t in [o["spec"], *o["spec"]["templates"]]
                   for m in (t.get("synchronization") or {}).get("mutexes", [])}
        assert mutexes and all(m.startswith(template.removesuffix("pipeline")) for m in mutexes)
    assert {n for _, n in names[0]} == {"deltastore-pipeline", "deltastore-backfill",
                                        "deltastore-daily", "deltastore-freshness"}
    assert {n for _, n in names[1]} == {"nightly-test-deltastore-pipeline",
                                        "nightly-test-deltastore-backfill",
                                        "nightly-test-deltastore-daily",
                                        "nightly-test-deltastore-freshness"}


def test_scheduling_values_reach_the_workflow_pods(
        renders: dict[str, helmrender.Rendering]) -> None:
    spec = renders["existing-secret-values.yaml"].one("WorkflowTemplate", "-pipeline")["spec"]
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert spec["podPriorityClassName"] == "batch-low"
    assert spec["tolerations"][0]["key"] == "workload"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_leftover_sentinel_or_stray_helm_escape(
        renders: dict[str, helmrender.Rendering], scenario: str) -> None:
    text = renders[scenario].text
    assert SENTINEL_PREFIX not in text
    braces = [m.start() for m in re.finditer(r"\{\{", text)]
    argo = [m.start() for m in ARGO_EXPRESSION.finditer(text)]
    stray = [text[i:i + 40] for i in braces if i not in argo]
    assert stray == []
    assert "}}" not in ARGO_EXPRESSION.sub("", text)


def test_argo_expressions_survive_the_chart(renders: dict[str, helmrender.Rendering]) -> None:
    text = renders["default-values.yaml"].text
    assert "{{inputs.parameters.full-refresh}}" in text
    assert "{{workflow.status}}" in text


def test_escape_check_catches_helm_leftovers() -> None:
    text = 'a: {{ "{{" }}inputs.parameters.x}}\nb: {{workflow.name}}'
    braces = [m.start() for m in re.finditer(r"\{\{", text)]
    argo = [m.start() for m in ARGO_EXPRESSION.finditer(text)]
    assert [i for i in braces if i not in argo]


def test_suspend_and_freshness_follow_values() -> None:
    rendering = helmrender.render([helmrender.CI_DIR / "default-values.yaml"],
                                  {"workflow": {"suspend": True,
                                                "freshness": {"enabled": False}}})
    crons = rendering.of_kind("CronWorkflow")
    assert [c["metadata"]["name"] for c in crons] == ["deltastore-daily"]
    assert crons[0]["spec"]["suspend"] is True


def test_digest_pins_the_image_everywhere() -> None:
    digest = "sha256:" + "ab" * 32
    rendering = helmrender.render([helmrender.CI_DIR / "demo-values.yaml"],
                                  {"image": {"digest": digest}})
    images = set(re.findall(r"image: \"?([^\"\s]+)", rendering.text))
    assert images == {f"ghcr.io/deltastore/pipeline@{digest}"}


def test_a_zone_other_than_utc_needs_allow_dst_schedule_and_says_how_to_check(
        tmp_path: Path) -> None:
    """One daylight-saving rule, the renderer's (workflows/argo/schedule.py): the chart
    cannot run it, so outside UTC it asks for allowDstSchedule and prints the command that
    checks the schedules exactly; that command gives the renderer's verdict."""
    from deltastore.workflows import cli

    values = {"workflow": {"timezone": "Europe/Berlin", "schedule": "30 2 * * *"}}
    with pytest.raises(helmrender.ChartError, match="daylight-saving") as caught:
        helmrender.render([helmrender.CI_DIR / "default-values.yaml"], values)
    message = str(caught.value)
    assert "workflow.allowDstSchedule=true" in message
    command = re.search(r"`deltastore (workflows render [^`]+)`", message)
    assert command, message
    argv = shlex.split(command.group(1))
    argv[argv.index("--out") + 1] = str(tmp_path)   # not the /tmp folder it suggests
    assert cli.main(argv) == 2    # 02:30 is skipped in spring in Berlin: refused, exit 2
    safe = argv[:argv.index("--schedule") + 1] + ["30 5 * * *"] + argv[argv.index(
        "--schedule") + 2:]
    assert cli.main(safe) == 0
    allowed = helmrender.merge(values, {"workflow": {"allowDstSchedule": True}})
    cron = helmrender.render([helmrender.CI_DIR / "default-values.yaml"], allowed) \
        .one("CronWorkflow", "-daily")
    assert cron["spec"]["schedules"] == ["30 2 * * *"]
    assert cron["spec"]["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize("timezone", ["UTC", "Etc/UTC"])
def test_utc_needs_no_allowance(timezone: str) -> None:
    values = {"workflow": {"timezone": timezone, "schedule": "30 2 * * *"}}
    cron = helmrender.render([helmrender.CI_DIR / "default-values.yaml"], values) \
        .one("CronWorkflow", "-daily")
    assert cron["spec"]["timezone"] == timezone
