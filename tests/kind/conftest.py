"""Fixtures for the cluster tests. They run only with `--kube-context` (or
DELTASTORE_KUBE_CONTEXT); tests/conftest.py skips them otherwise.

DELTASTORE_KUBE_NAMESPACE and DELTASTORE_KUBE_RELEASE name the chart's namespace and release
(both `deltastore` by default, as in skaffold.yaml). DELTASTORE_KUBE_WORKFLOW names the
workflow to check; without it the newest finished run of the daily CronWorkflow is used, and
when there is none, one is started from the CronWorkflow and awaited.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from kind_cluster import Cluster, newest_finished_workflow, release_values

from deltastore.workflows.argo import cron
from deltastore.workflows.argo.kube import SubmitRequest, submit_workflow


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Cluster:
    return Cluster.connect(str(request.config.getoption("--kube-context")))


@pytest.fixture(scope="session")
def values(cluster: Cluster) -> dict[str, Any]:
    return release_values(cluster)


@pytest.fixture(scope="session")
def workflow(cluster: Cluster) -> dict[str, Any]:
    name = os.environ.get("DELTASTORE_KUBE_WORKFLOW") or newest_finished_workflow(
        cluster, f"{cron.DAILY}-")
    if not name:
        printed: list[str] = []
        submit_workflow(SubmitRequest(source="cron", wait=True, namespace=cluster.namespace,
                                      context=cluster.context, timeout=1800),
                        echo=printed.append)
        name = printed[0]
    return cluster.argo("workflows", name)
