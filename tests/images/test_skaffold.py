"""skaffold.yaml builds the images from images/ and deploys the chart with Helm."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from dockerfiles import REPO

CHART_VALUES = yaml.safe_load((REPO / "charts" / "deltastore" / "values.yaml").read_text())


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return yaml.safe_load((REPO / "skaffold.yaml").read_text())


def releases(section: dict[str, Any]) -> list[dict[str, Any]]:
    return section.get("deploy", {}).get("helm", {}).get("releases", [])


def has_value_path(dotted: str) -> bool:
    node: Any = CHART_VALUES
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def sanitized(image: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", image)


def test_current_schema(config: dict[str, Any]) -> None:
    assert config["kind"] == "Config"
    assert re.fullmatch(r"skaffold/v4beta(\d+)", config["apiVersion"])
    assert int(config["apiVersion"].rsplit("beta", 1)[1]) >= 14


def test_artifacts_build_the_dockerfiles_under_images(config: dict[str, Any]) -> None:
    artifacts = config["build"]["artifacts"]
    built = {(REPO / a.get("context", ".") / a["docker"]["dockerfile"]).resolve()
             for a in artifacts}
    assert built == {p.resolve() for p in (REPO / "images").glob("*/Dockerfile")}
    assert all(a.get("context", ".") == "." for a in artifacts), \
        "the repository root is the context, filtered by .dockerignore"


def test_every_release_deploys_the_chart_with_the_built_image(config: dict[str, Any]) -> None:
    images = {sanitized(a["image"]) for a in config["build"]["artifacts"]}
    sections = [config] + config["profiles"]
    all_releases = [r for section in sections for r in releases(section)]
    assert all_releases
    for release in all_releases:
        assert (REPO / release["chartPath"] / "Chart.yaml").is_file()
        templates = release["setValueTemplates"]
        for key in list(templates) + list(release.get("setValues", {})):
            assert has_value_path(key), f"`{key}` is not a key of values.yaml"
        assert {re.search(r"IMAGE_REPO_(\w+)", templates["image.repository"]).group(1),
                re.search(r"IMAGE_TAG_(\w+)", templates["image.tag"]).group(1)} <= images
        for values_file in release.get("valuesFiles", []):
            if "{{" not in values_file:
                assert (REPO / values_file).is_file(), values_file


def test_kind_profile_builds_locally_and_deploys_the_demo(config: dict[str, Any]) -> None:
    kind = next(p for p in config["profiles"] if p["name"] == "kind")
    assert kind["build"]["local"]["push"] is False
    assert any(re.fullmatch(a["kubeContext"], "kind-deltastore") for a in kind["activation"])
    (release,) = releases(kind)
    assert release["valuesFiles"] == ["charts/deltastore/ci/demo-values.yaml"]
    demo = yaml.safe_load((REPO / release["valuesFiles"][0]).read_text())
    assert demo["demo"]["enabled"] is True
    assert release["setValues"]["image.pullPolicy"] != "Always"


def test_production_profile_pushes_and_never_deploys_the_demo(config: dict[str, Any]) -> None:
    production = next(p for p in config["profiles"] if p["name"] == "production")
    assert production["build"]["local"]["push"] is True
    (release,) = releases(production)
    assert release["setValues"]["demo.enabled"] is False
    assert not any("demo-values" in f for f in release["valuesFiles"])
