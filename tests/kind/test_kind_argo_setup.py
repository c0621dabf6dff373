"""What kind.yml sets up around the chart, checked on the cluster: the release namespace
enforces Pod Security "restricted" (so every step pod, Argo's init and wait containers
included, was admitted under it), the Argo CRDs are the full ones, and a run submitted with
`deltastore workflows submit --from cron` is tied to its CronWorkflow as Argo ties it."""

from __future__ import annotations

from typing import Any

import pytest
from kind_cluster import Cluster

from deltastore.workflows.argo import cron, kube

pytestmark = pytest.mark.kind


def test_release_namespace_enforces_restricted(cluster: Cluster) -> None:
    labels = cluster.core.read_namespace(cluster.namespace).metadata.labels or {}
    assert labels.get("pod-security.kubernetes.io/enforce") == "restricted"


def test_argo_crds_are_the_full_ones(cluster: Cluster) -> None:
    """install.yaml's CRDs have no schema (the API server validates nothing)."""
    from kubernetes import client

    crds = client.ApiextensionsV1Api(cluster.core.api_client)
    for name in ("workflows.argoproj.io", "workflowtemplates.argoproj.io",
                 "cronworkflows.argoproj.io"):
        (version,) = [v for v in crds.read_custom_resource_definition(name).spec.versions
                      if v.name == "v1alpha1"]
        spec = version.schema.open_apiv3_schema.properties["spec"]
        assert spec.properties, f"{name} has the stripped schema"


def test_a_run_from_the_cron_is_owned_and_labelled_by_it(cluster: Cluster,
                                                         workflow: dict[str, Any]) -> None:
    meta = workflow["metadata"]
    if not meta["name"].startswith(f"{cron.DAILY}-"):
        pytest.skip("the run under test was not submitted from the CronWorkflow")
    daily = cluster.argo("cronworkflows", cron.DAILY)
    assert meta["labels"][kube.CRON_LABEL] == cron.DAILY
    assert kube.SCHEDULED_TIME in meta["annotations"]
    (owner,) = meta["ownerReferences"]
    assert (owner["kind"], owner["uid"], owner["controller"]) == (
        "CronWorkflow", daily["metadata"]["uid"], True)
    # The template's workflowMetadata reached the run: the UI's title.
    assert meta["annotations"].get("workflows.argoproj.io/title")
