"""Each setting is declared once (deltastore/settings.py SETTINGS); the Settings fields and
the Helm chart's values, schema and ConfigMap template agree with the declarations.

How chart values become variables: charts/deltastore/templates/_helpers.tpl, define
"deltastore.settings" writes `config.<key>` as `DELTASTORE_<KEY>` into the ConfigMap
(camelCase to upper snake case; booleans and numbers through `toString`), and
templates/secret.yaml writes `secrets.<key>` the same way into the Secret.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from deltastore.settings import (
    DBT_LOG_LEVELS,
    LOG_LEVELS,
    PREFIX,
    SCHEMA_CHANGE_POLICIES,
    SECRET_NAMES,
    SETTINGS,
    Setting,
    Settings,
)

CHART = Path(__file__).resolve().parents[2] / "charts" / "deltastore"
VALUES = yaml.safe_load((CHART / "values.yaml").read_text("utf-8"))
SCHEMA = json.loads((CHART / "values.schema.json").read_text("utf-8"))["properties"]
HELPERS = (CHART / "templates" / "_helpers.tpl").read_text("utf-8")
DECLARED = {s.name: s for s in SETTINGS}


def env_of(key: str) -> str:
    """`syncMaxBatchBytes` -> `DELTASTORE_SYNC_MAX_BATCH_BYTES`."""
    return PREFIX + re.sub(r"(?<!^)([A-Z])", r"_\1", key).upper()


def as_configmap_text(value: Any) -> str:
    """A chart value as the helper writes it (`toString`)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def test_every_field_is_declared_once_and_every_name_is_unique() -> None:
    declared_fields = [s.field for s in SETTINGS if s.field]
    assert sorted(declared_fields) == sorted(f.name for f in fields(Settings))
    assert len(set(declared_fields)) == len(declared_fields)
    assert len(DECLARED) == len(SETTINGS) and all(n.startswith(PREFIX) for n in DECLARED)


def test_describe_masks_by_the_secret_flag() -> None:
    settings = Settings.from_env({"DELTASTORE_NOTIFY_WEBHOOK_URL": "https://hooks.example/T0/s3"})
    shown = settings.describe()
    secret_fields = {s.field for s in SETTINGS if s.secret and s.field}
    assert secret_fields == {"notify_webhook_url"}
    assert all(shown[f] == "***" for f in secret_fields)
    assert "s3" not in repr(settings) and "s3" not in str(shown)


@pytest.mark.parametrize("section, secret", [("config", False), ("secrets", True)])
def test_each_chart_key_is_one_declared_setting(section: str, secret: bool) -> None:
    for key in VALUES[section]:
        setting = DECLARED.get(env_of(key))
        assert setting is not None, f"{section}.{key}: no setting `{env_of(key)}` is declared"
        assert setting.secret is secret, f"{section}.{key}: secret flag differs"
    if secret:
        assert {env_of(k) for k in VALUES[section]} == SECRET_NAMES


@pytest.mark.parametrize("section", ["config", "secrets"])
def test_the_schema_knows_exactly_the_keys_of_values_yaml(section: str) -> None:
    assert SCHEMA[section]["additionalProperties"] is False
    assert set(SCHEMA[section]["properties"]) == set(VALUES[section])


def _with_default(key: str) -> tuple[Setting, Any]:
    return DECLARED[env_of(key)], VALUES["config"][key]


@pytest.mark.parametrize("key", [k for k, v in VALUES["config"].items() if v != ""])
def test_chart_defaults_are_the_declared_defaults(key: str) -> None:
    """An empty chart value leaves the variable unset (the declared default applies)."""
    setting, value = _with_default(key)
    assert setting.derive is None and setting.default is not None, key
    assert setting.parse(as_configmap_text(value)) == setting.default


@pytest.mark.parametrize(("key", "choices"), [("logLevel", LOG_LEVELS),
                                              ("dbtLogLevelFile", DBT_LOG_LEVELS),
                                              ("schemaChanges", SCHEMA_CHANGE_POLICIES)])
def test_schema_choices_are_the_parsers_choices(key: str, choices: tuple[str, ...]) -> None:
    enum = SCHEMA["config"]["properties"][key]["enum"]
    assert tuple(enum) == choices
    for choice in enum:
        DECLARED[env_of(key)].parse(choice)  # raises ValueError when refused
    with pytest.raises(ValueError):
        DECLARED[env_of(key)].parse("loud")


def test_the_configmap_template_writes_each_key_under_its_declared_name() -> None:
    block = HELPERS.split('{{- define "deltastore.settings" -}}', 1)[1].split("{{- end }}\n\n")[0]
    written = set(re.findall(r"\b(DELTASTORE_[A-Z_]+)\b", block))
    assert written <= set(DECLARED) - SECRET_NAMES
    # `NAME: {{ $c.key … }}` and `"NAME" (list $c.key …)` on one line; `with $c.key` above.
    pairs = re.findall(r'"?(DELTASTORE_[A-Z_]+)"?:? [^\n]*?\$c\.(\w+)', block)
    pairs += [(name, key) for key, name in
              re.findall(r"with \$c\.(\w+) \}\}\n(DELTASTORE_[A-Z_]+):", block)]
    assert {key for _, key in pairs} == set(VALUES["config"]), "a config key the helper skips"
    for name, key in pairs:
        assert name == env_of(key), f"config.{key} is written as {name}"
