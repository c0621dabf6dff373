"""Shared pytest configuration: options and markers for tests that need outside systems."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--kube-context",
        default=os.environ.get("DELTASTORE_KUBE_CONTEXT"),
        help="run tests marked `kind` against this kubeconfig context",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_kind = pytest.mark.skip(
        reason="needs a cluster: pass --kube-context kind-deltastore "
        "(or set DELTASTORE_KUBE_CONTEXT)"
    )
    skip_mssql = pytest.mark.skip(
        reason="needs SQL Server: set DELTASTORE_TEST_MSSQL_URL (runs in GitHub Actions)"
    )
    for item in items:
        # Markers, not keywords: a keyword also matches a folder name (tests/kind, tests/mssql).
        if item.get_closest_marker("kind") and not config.getoption("--kube-context"):
            item.add_marker(skip_kind)
        if item.get_closest_marker("mssql") and not os.environ.get("DELTASTORE_TEST_MSSQL_URL"):
            item.add_marker(skip_mssql)
