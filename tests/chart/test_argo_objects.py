"""The chart's Argo objects equal the renderer's output for the same values, with every
sentinel replaced and Argo's own `{{…}}` expressions untouched."""

from __future__ import annotations

import copy
import re
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


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_chart_argo_objects_equal_the_renderer_output(
        renders: dict[str, helmrender.Rendering], scenario: str) -> None:
    values = chart_values([scenario])
    expected = by_name(list(render_objects(options_for(values)).values()))
    actual = copy.deepcopy(argo_objects(renders[scenario]))
    # Scheduling values are the chart's own addition to the WorkflowTemplates' spec.
    for (kind, _), obj in actual.items():
        if kind == "WorkflowTemplate":
            added = {f: obj["spec"].pop(f) for f in SCHEDULING_FIELDS if f in obj["spec"]}
            assert added == {f: v for f, v in (
                ("nodeSelector", values["nodeSelector"]),
                ("tolerations", values["tolerations"]),
                ("affinity", values["affinity"]),
                ("podPriorityClassName", values["priorityClassName"]),
                ("imagePullSecrets", values["imagePullSecrets"])) if v}
    assert set(actual) == set(expected)
    for key, obj in expected.items():
        assert actual[key] == obj, f"{key} differs from render_objects()"


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


def test_unsafe_schedule_in_a_dst_zone_is_refused() -> None:
    dst = {"workflow": {"timezone": "Europe/Berlin", "schedule": "30 2 * * *"}}
    with pytest.raises(helmrender.ChartError, match="daylight-saving") as caught:
        helmrender.render([helmrender.CI_DIR / "default-values.yaml"], dst)
    assert "workflow.allowDstSchedule=true" in str(caught.value)
    allowed = helmrender.merge(dst, {"workflow": {"allowDstSchedule": True}})
    cron = helmrender.render([helmrender.CI_DIR / "default-values.yaml"], allowed) \
        .one("CronWorkflow", "-daily")
    assert cron["spec"]["schedules"] == ["30 2 * * *"]
    assert cron["spec"]["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize(("schedule", "timezone"), [
    ("30 2 * * *", "Europe/Berlin"),
    ("30 5 * * *", "Europe/Berlin"),
    ("0 1 * * *", "America/New_York"),
    ("0 6-22/4 * * *", "America/New_York"),
    ("15 */2 * * *", "Australia/Sydney"),
    ("0 4,16 * * *", "Australia/Sydney"),
])
def test_chart_dst_check_agrees_with_the_renderer_in_dst_zones(schedule: str,
                                                              timezone: str) -> None:
    from deltastore.errors import ConfigError
    from deltastore.workflows.argo.schedule import check_schedule

    try:
        check_schedule(schedule, timezone)
        renderer_accepts = True
    except ConfigError:
        renderer_accepts = False
    values = {"workflow": {"schedule": schedule, "timezone": timezone,
                           "freshness": {"enabled": False}}}
    try:
        helmrender.render([helmrender.CI_DIR / "default-values.yaml"], values)
        chart_accepts = True
    except helmrender.ChartError as exc:
        assert "daylight-saving" in str(exc)
        chart_accepts = False
    assert chart_accepts == renderer_accepts
