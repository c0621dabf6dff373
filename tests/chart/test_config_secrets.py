"""Settings reach the ConfigMap, credentials only the Secret (or an existing one)."""

from __future__ import annotations

import base64
from typing import Any

import helmrender
import pytest
from helmrender import SENTINEL_SECRETS

from deltastore.settings import SECRET_NAMES, SETTINGS, Settings

KNOWN = {s.name for s in SETTINGS}
SECRET_KEYS = {
    "legacyDbPassword": "DELTASTORE_LEGACY_DB_PASSWORD",
    "warehousePassword": "DELTASTORE_WAREHOUSE_PASSWORD",
    "syncTargetPassword": "DELTASTORE_SYNC_TARGET_PASSWORD",
    "notifyWebhookUrl": "DELTASTORE_NOTIFY_WEBHOOK_URL",
}


def test_configmap_holds_known_plain_settings_only(
        renders: dict[str, helmrender.Rendering]) -> None:
    for rendering in renders.values():
        data = rendering.one("ConfigMap")["data"]
        assert set(data) <= KNOWN - SECRET_NAMES
        assert data["DELTASTORE_DATA_DIR"] == "/data"
        assert all(isinstance(v, str) for v in data.values())


def test_configmap_settings_parse_with_the_real_settings_reader(
        renders: dict[str, helmrender.Rendering]) -> None:
    for name, rendering in renders.items():
        settings = Settings.from_env(rendering.one("ConfigMap")["data"])
        assert settings.batch_size == 50_000, name
        if name != "demo-values.yaml":
            assert settings.warehouse_url.kind == "mssql", name
            assert settings.warehouse_url.password is None


def test_secret_values_reach_only_the_secret(
        with_sentinel_secrets: helmrender.Rendering) -> None:
    secret = with_sentinel_secrets.one("Secret", "-secrets")
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded == {SECRET_KEYS[k]: v for k, v in SENTINEL_SECRETS.items()}
    # Nowhere in plain text: not the ConfigMap, not a workflow, not an annotation.
    for value in SENTINEL_SECRETS.values():
        assert value not in with_sentinel_secrets.text
    configmap = str(with_sentinel_secrets.one("ConfigMap"))
    for value in SENTINEL_SECRETS.values():
        assert value not in configmap
        assert base64.b64encode(value.encode()).decode() not in configmap


def step_secret_refs(rendering: helmrender.Rendering) -> dict[str, dict[str, Any]]:
    """`<template>/<variable>` -> its secretKeyRef, over every WorkflowTemplate step."""
    refs = {}
    for obj in rendering.of_kind("WorkflowTemplate"):
        for template in obj["spec"]["templates"]:
            for env in template.get("container", {}).get("env", []):
                if "secretKeyRef" in env.get("valueFrom", {}):
                    refs[f"{template['name']}/{env['name']}"] = env["valueFrom"]["secretKeyRef"]
    return refs


def test_workflow_steps_read_the_configmap_and_only_their_own_secret_keys(
        with_sentinel_secrets: helmrender.Rendering) -> None:
    """tests/workflows/argo/test_argo_template.py checks which keys each step gets."""
    pipeline = with_sentinel_secrets.one("WorkflowTemplate", "-pipeline")
    env_from = [t["container"]["envFrom"] for t in pipeline["spec"]["templates"]
                if "container" in t]
    assert env_from and all(
        ref == [{"configMapRef": {"name": "deltastore-config"}}] for ref in env_from)
    refs = step_secret_refs(with_sentinel_secrets)
    assert {f"{k.split('/')[0]}": None for k in refs}.keys() >= {"sync", "notify", "dbt-build"}
    for where, ref in refs.items():
        assert ref == {"name": "deltastore-secrets", "key": where.split("/")[1],
                       "optional": True}, where
    assert {ref["key"] for ref in refs.values()} == set(SECRET_KEYS.values())
    assert {k for k in refs if k.startswith("notify/")} == {
        "notify/DELTASTORE_NOTIFY_WEBHOOK_URL"}


def test_existing_secret_replaces_the_chart_secret(
        renders: dict[str, helmrender.Rendering]) -> None:
    rendering = renders["existing-secret-values.yaml"]
    assert rendering.of_kind("Secret") == []
    names = {ref["name"] for ref in step_secret_refs(rendering).values()}
    assert names == {"deltastore-credentials"}


def test_secret_without_credentials_is_empty_but_present(
        renders: dict[str, helmrender.Rendering]) -> None:
    # The demo needs no credential; the steps' key references are optional anyway.
    assert renders["demo-values.yaml"].one("Secret", "-secrets")["data"] == {}


@pytest.mark.parametrize("url_key", ["legacyDbUrl", "warehouseUrl", "syncTargetUrl"])
def test_mssql_url_without_password_fails_with_the_fix(url_key: str) -> None:
    password_key = {"legacyDbUrl": "legacyDbPassword", "warehouseUrl": "warehousePassword",
                    "syncTargetUrl": "syncTargetPassword"}[url_key]
    with pytest.raises(helmrender.ChartError) as caught:
        helmrender.render([helmrender.CI_DIR / "default-values.yaml"],
                          {"secrets": {password_key: ""}})
    message = str(caught.value)
    assert f"config.{url_key} is an `mssql://` URL but secrets.{password_key} is empty" in message
    assert "existingSecret" in message


def test_managed_identity_url_needs_no_password() -> None:
    url = "mssql://marts.database.windows.net:1433/marts?encrypt=yes&authentication=ActiveDirectoryMsi"
    rendering = helmrender.render([helmrender.CI_DIR / "default-values.yaml"],
                                  {"config": {"syncTargetUrl": url},
                                   "secrets": {"syncTargetPassword": ""}})
    assert rendering.one("ConfigMap")["data"]["DELTASTORE_SYNC_TARGET_URL"] == url
    assert "DELTASTORE_SYNC_TARGET_PASSWORD" not in rendering.one("Secret", "-secrets")["data"]


def test_a_service_principal_url_needs_its_secret() -> None:
    url = ("mssql://6f3c1d2e-0a4b-4c5d-8e9f-0123456789ab@marts.database.windows.net/marts"
           "?authentication=ActiveDirectoryServicePrincipal")
    with pytest.raises(helmrender.ChartError, match="secrets.syncTargetPassword is empty"):
        helmrender.render([helmrender.CI_DIR / "default-values.yaml"],
                          {"config": {"syncTargetUrl": url},
                           "secrets": {"syncTargetPassword": ""}})


def test_legacy_schema_columnstore_and_sync_budget_reach_the_settings() -> None:
    rendering = helmrender.render([helmrender.CI_DIR / "default-values.yaml"],
                                  {"config": {"legacyDbSchema": "old_store",
                                              "warehouseColumnstore": True,
                                              "syncMaxBatchBytes": 33554432}})
    settings = Settings.from_env(rendering.one("ConfigMap")["data"])
    assert settings.legacy_db_schema == "old_store"
    assert settings.warehouse_columnstore is True
    assert settings.sync_max_batch_bytes == 32 * 2**20
    defaults = Settings.from_env(helmrender.render(
        [helmrender.CI_DIR / "default-values.yaml"]).one("ConfigMap")["data"])
    assert (defaults.legacy_db_schema, defaults.warehouse_columnstore) == ("dbo", False)


@pytest.mark.parametrize("value", ["old.store", "a b", "[x]"])
def test_a_schema_name_that_is_not_plain_is_refused(value: str) -> None:
    with pytest.raises(helmrender.ChartError):
        helmrender.render([helmrender.CI_DIR / "default-values.yaml"],
                          {"config": {"legacyDbSchema": value}})


def test_a_default_install_asks_for_the_production_urls() -> None:
    with pytest.raises(helmrender.ChartError) as caught:
        helmrender.render()
    assert "is required in production mode" in str(caught.value)
    assert "--set demo.enabled=true" in str(caught.value)


def test_values_yaml_holds_no_credentials() -> None:
    import yaml

    values = yaml.safe_load((helmrender.CHART_DIR / "values.yaml").read_text())
    assert set(values["secrets"].values()) == {""}
    assert values["existingSecret"] == ""
