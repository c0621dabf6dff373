"""values.schema.json rejects wrong types and unknown keys with a message naming the key;
values.yaml documents every key."""

from __future__ import annotations

import json
import re
from typing import Any

import helmrender
import pytest
import yaml

DEMO = helmrender.CI_DIR / "demo-values.yaml"


# (bad values, what the message must name). Helm's wording differs between versions
# ("at '/demo/scale': got string, want number" in Helm 3.18+/4, "demo.scale: Invalid type.
# Expected: number" before), so the checks look for the key and the expectation.
@pytest.mark.parametrize(("values", "named"), [
    ({"demo": {"scale": "big"}}, ("scale", "number")),
    ({"workflow": {"suspend": "yes"}}, ("suspend", "boolean")),
    ({"config": {"batchSize": 0}}, ("batchSize", "1")),
    ({"image": {"pullPolicy": "Sometimes"}}, ("pullPolicy", "IfNotPresent")),
    ({"workflow": {"schedule": "daily"}}, ("schedule", "pattern")),
    # What Argo's cron parser refuses (robfig/cron v3.0.1) and zones it cannot load
    # (workflow/validate/validate.go: time.LoadLocation): refused at install, not on every
    # tick of a CronWorkflow that then never runs.
    ({"workflow": {"schedule": "0 2 * * 7"}}, ("schedule", "pattern")),
    ({"workflow": {"freshness": {"schedule": "0 2 L * *"}}}, ("schedule", "pattern")),
    ({"workflow": {"schedule": "0 2 ? * 5#3"}}, ("schedule", "pattern")),
    ({"workflow": {"timezone": "Europe/Amsterdm", "allowDstSchedule": True}},
     ("timezone", "Europe/Amsterdam")),
    ({"replicaCount": 2}, ("replicaCount", "not allowed")),
    ({"demo": {"persistance": {}}}, ("persistance", "not allowed")),
])
def test_schema_rejects_bad_values_naming_the_key(values: dict[str, Any],
                                                  named: tuple[str, str]) -> None:
    with pytest.raises(helmrender.ChartError) as caught:
        helmrender.render([DEMO], values)
    message = str(caught.value)
    assert "schema" in message, message
    for word in named:
        assert word in message, message


def test_password_in_a_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(helmrender.ChartError) as caught:
        helmrender.render([DEMO], {"config": {"legacyDbUrl": "mssql://sa:hunter2@db/x"}})
    assert "config.legacyDbUrl contains a password" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_every_object_in_the_schema_is_closed() -> None:
    schema = json.loads((helmrender.CHART_DIR / "values.schema.json").read_text())

    def walk(node: dict[str, Any], path: str) -> None:
        if "properties" in node:
            assert node.get("additionalProperties") is False, f"{path} accepts unknown keys"
            for key, child in node["properties"].items():
                walk(child, f"{path}.{key}")

    walk(schema, "values")


def _leaf_paths(values: dict[str, Any], prefix: str = "") -> list[str]:
    paths = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        paths.append(path)
        if isinstance(value, dict) and value and key not in ("resources", "lightResources",
                                                                   "requests", "limits"):
            paths += _leaf_paths(value, f"{path}.")
    return paths


def test_values_yaml_documents_every_key_and_matches_the_schema() -> None:
    text = (helmrender.CHART_DIR / "values.yaml").read_text()
    values = yaml.safe_load(text)
    schema = json.loads((helmrender.CHART_DIR / "values.schema.json").read_text())
    lines = text.splitlines()
    for path in _leaf_paths(values):
        key = path.split(".")[-1]
        # The key's line, then walk up over its comment block to find `# --`.
        indent = "  " * path.count(".")
        index = next(i for i, line in enumerate(lines) if re.match(rf"{indent}{key}:", line))
        block = []
        for line in reversed(lines[:index]):
            if not line.strip().startswith("#"):
                break
            block.append(line.strip())
        assert any(c.startswith("# --") for c in block), f"`{path}` has no `# --` comment"
        node = schema
        for part in path.split("."):
            assert part in node["properties"], f"`{path}` is missing from values.schema.json"
            node = node["properties"][part]
    helmrender.render([DEMO])  # the defaults themselves pass the schema


def test_a_parent_charts_global_values_are_accepted() -> None:
    """Helm always passes `global` to a subchart (an empty map at least); a closed schema
    without it makes the chart unusable as a dependency."""
    rendered = helmrender.render([DEMO], {"global": {"imageRegistry": "registry.example",
                                                     "storageClass": "fast"}})
    assert rendered.of_kind("WorkflowTemplate")
