"""Demo mode: demo store, demo data job and PVC, wired together; none of it in production."""

from __future__ import annotations

from typing import Any

import helmrender
import pytest
from helmrender import SCENARIOS

from deltastore.settings import Settings
from deltastore.workflows.cli import build_parser

DEMO_KINDS = {"Deployment", "Service", "Job", "PersistentVolumeClaim"}


@pytest.fixture(scope="module")
def demo(renders: dict[str, helmrender.Rendering]) -> helmrender.Rendering:
    return renders["demo-values.yaml"]


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "demo-values.yaml"])
def test_production_creates_no_demo_objects(renders: dict[str, helmrender.Rendering],
                                            scenario: str) -> None:
    assert not {o["kind"] for o in renders[scenario].objects} & DEMO_KINDS
    pipeline = renders[scenario].one("WorkflowTemplate", "-pipeline")
    volumes = {v["name"]: v for v in pipeline["spec"]["volumes"]}
    assert "emptyDir" in volumes["data"] and "persistentVolumeClaim" not in volumes["data"]


def test_configmap_points_at_the_demo_sources(demo: helmrender.Rendering) -> None:
    data = demo.one("ConfigMap")["data"]
    store = demo.one("Service", "-demo-store")
    port = store["spec"]["ports"][0]["port"]
    assert data["DELTASTORE_STORE_API_URL"] == f"http://{store['metadata']['name']}:{port}"
    assert data["DELTASTORE_LEGACY_DB_URL"] == "sqlite:///data/legacy.db"
    assert data["DELTASTORE_WAREHOUSE_URL"] == "duckdb:///data/warehouse.duckdb"
    assert data["DELTASTORE_SYNC_TARGET_URL"] == "duckdb:///data/sync_target.duckdb"
    settings = Settings.from_env(data)
    assert str(settings.legacy_db_url.path) == "/data/legacy.db"
    assert settings.dbt_target == "dev"


def test_service_selects_the_demo_store_pods(demo: helmrender.Rendering) -> None:
    deployment = demo.one("Deployment", "-demo-store")
    selector = demo.one("Service", "-demo-store")["spec"]["selector"]
    assert deployment["spec"]["selector"]["matchLabels"] == selector
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= labels.items()
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == 8765


def _args(pod: dict[str, Any]) -> list[str]:
    container = pod["containers"][0]
    assert "command" not in container, "the image's entrypoint `deltastore` runs the args"
    return [str(a) for a in container["args"]]


def test_demo_commands_are_real_cli_commands(demo: helmrender.Rendering) -> None:
    parser = build_parser()
    store = parser.parse_args(_args(demo.one("Deployment")["spec"]["template"]["spec"]))
    assert (store.host, store.port, store.scale) == ("0.0.0.0", 8765, 1.0)
    data = parser.parse_args(_args(demo.one("Job")["spec"]["template"]["spec"]))
    assert data.demo_data_command == "legacy" and data.out is None  # URL from the ConfigMap


def test_data_job_and_workflow_share_the_pvc(demo: helmrender.Rendering) -> None:
    pvc = demo.one("PersistentVolumeClaim")
    name = pvc["metadata"]["name"]
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    job = demo.one("Job")
    # A release object, not a hook: the claim's first consumer, so `helm install --wait`
    # sees it bound on WaitForFirstConsumer storage classes (kind's `standard`).
    assert "helm.sh/hook" not in job["metadata"].get("annotations", {})
    job_volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert job_volumes["data"]["persistentVolumeClaim"]["claimName"] == name
    mounts = job["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "data", "mountPath": "/data"} in mounts
    for template in demo.of_kind("WorkflowTemplate"):
        volumes = {v["name"]: v for v in template["spec"]["volumes"]}
        assert volumes["data"]["persistentVolumeClaim"]["claimName"] == name


def test_config_change_rolls_the_demo_store() -> None:
    def checksum(values: dict[str, Any]) -> str:
        rendering = helmrender.render([helmrender.CI_DIR / "demo-values.yaml"], values)
        pod = rendering.one("Deployment")["spec"]["template"]
        return str(pod["metadata"]["annotations"]["checksum/config"])

    base = checksum({})
    assert len(base) == 64
    assert checksum({"config": {"logLevel": "DEBUG"}}) != base
    assert checksum({"demo": {"store": {"resources": {"limits": {"cpu": "1"}}}}}) == base


def test_demo_scale_and_storage_follow_values() -> None:
    rendering = helmrender.render(
        [helmrender.CI_DIR / "demo-values.yaml"],
        {"demo": {"scale": 0.05, "persistence": {"accessModes": ["ReadWriteMany"],
                                                 "size": "5Gi", "storageClassName": "nfs"}}})
    pvc = rendering.one("PersistentVolumeClaim")["spec"]
    assert pvc == {"accessModes": ["ReadWriteMany"], "storageClassName": "nfs",
                   "resources": {"requests": {"storage": "5Gi"}}}
    args = _args(rendering.one("Job")["spec"]["template"]["spec"])
    assert args[args.index("--scale") + 1] == "0.05"


def test_job_name_follows_its_spec_so_upgrades_never_patch_an_immutable_job() -> None:
    def job_name(values: dict[str, Any]) -> str:
        rendering = helmrender.render([helmrender.CI_DIR / "demo-values.yaml"], values)
        return str(rendering.one("Job")["metadata"]["name"])

    base = job_name({})
    assert base.startswith("deltastore-demo-data-") and len(base) <= 63
    assert job_name({}) == base
    assert job_name({"demo": {"scale": 0.05}}) != base
    assert job_name({"image": {"tag": "other"}}) != base


def test_no_run_starts_before_the_demo_data_exists(demo: helmrender.Rendering) -> None:
    """Every root of the demo DAGs waits on the task that waits for the Job's data."""
    parser = build_parser()
    for template in demo.of_kind("WorkflowTemplate"):
        by_name = {t["name"]: t for t in template["spec"]["templates"]}
        gate = by_name["demo-data-ready"]
        args = parser.parse_args(gate["container"]["args"])
        assert args.demo_data_command == "wait" and args.timeout > 0
        entry = by_name[template["spec"]["entrypoint"]]
        # backfill-days only lists dates; everything that reads data depends on the gate.
        roots = [t["name"] for t in entry["dag"]["tasks"] if not t.get("depends")]
        assert sorted(roots) in (["demo-data-ready"], ["backfill-days", "demo-data-ready"]), roots
