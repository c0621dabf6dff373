"""Shared pytest configuration: options and markers for tests that need outside systems.

Under ``CI=true`` a skip is a failure unless what is missing lies outside the repository:
a test marked ``kind`` or ``mssql``, or a skip whose reason says ``OUTSIDE_REPO``. The
Debian packages .ci/run installs fail the same way (``SYSTEM_PREREQUISITES``). A
repository-internal prerequisite (a module, a file, a dev dependency) that has gone missing
must turn CI red, not quietly shrink the suite.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from prerequisites import (
    chromium_missing,
    missing_library,
    msodbcsql_driver,
    msodbcsql_missing,
    odbc_missing,
)

if TYPE_CHECKING:
    from demo_run import DemoRun

OUTSIDE_REPO = "(outside the repository)"
OUTSIDE_MARKERS = ("kind", "mssql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--kube-context",
        default=os.environ.get("DELTASTORE_KUBE_CONTEXT"),
        help="run tests marked `kind` against this kubeconfig context",
    )


# Debian packages some tests need. Missing here: skip with how to get them. With CI=true
# (.ci/run installs both) a missing one fails the test instead of hiding it.
SYSTEM_PREREQUISITES = {"odbc": odbc_missing, "browser": chromium_missing}


def _ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, missing in SYSTEM_PREREQUISITES.items():
        if item.get_closest_marker(marker) and (reason := missing()):
            if _ci():
                pytest.fail(f"CI=true: {reason}", pytrace=False)
            pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> pytest.CollectReport:
    """A test module that cannot be imported because a Debian package's shared library is
    missing (``ImportError: libodbc.so.2: …``) is skipped with the ``apt-get install`` line,
    not reported as a collection error that stops the run; under CI=true it fails with it."""
    report: pytest.CollectReport = yield
    if not report.failed or not isinstance(collector, pytest.Module):
        return report
    reason = missing_library(str(report.longrepr))
    if reason is None:
        return report
    if _ci():
        report.longrepr = f"CI=true: {reason}"
    else:
        report.outcome = "skipped"
        report.longrepr = (str(collector.path), 0, f"Skipped: {reason}")
    return report


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if not _ci() or not report.skipped \
            or hasattr(report, "wasxfail"):
        return
    reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
    if OUTSIDE_REPO in reason or any(item.get_closest_marker(m) for m in OUTSIDE_MARKERS):
        return
    report.outcome = "failed"
    report.longrepr = (f"CI=true: a prerequisite inside the repository is missing, so this "
                       f"fails instead of skipping: {reason}")


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if its code connects a socket anywhere but loopback (the instance
    metadata service 169.254.169.254, Entra ID, a real server): login tests stay here."""
    import ipaddress
    import socket

    def check(address: object) -> None:
        if not isinstance(address, tuple):
            return  # a Unix socket path
        host = str(address[0])
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            pytest.fail(f"the test tried to reach {address!r}; only loopback is allowed")

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_create = socket.create_connection

    def connect(self: socket.socket, address: object) -> None:
        check(address)
        real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        check(address)
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    def create_connection(address: tuple[str, int], *args: object, **kwargs: object) -> object:
        check(address)
        return real_create(address, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)


@pytest.fixture
def fake_azure_identity(monkeypatch: pytest.MonkeyPatch, loopback_only: None) -> None:
    """``azure.identity``'s managed identity and default credentials replaced by stand-ins
    (tests/odbc_recorder.py), with every token cache of this process emptied; sockets
    limited to loopback."""
    import azure.identity
    from odbc_recorder import FakeDefaultAzureCredential, FakeManagedIdentityCredential

    from deltastore import entra

    monkeypatch.setattr(azure.identity, "ManagedIdentityCredential",
                        FakeManagedIdentityCredential)
    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", FakeDefaultAzureCredential)
    FakeManagedIdentityCredential.reset()
    FakeDefaultAzureCredential.reset()
    monkeypatch.setattr(entra, "_credentials", {})
    _forget_dbt_sqlserver_tokens()


@pytest.fixture
def odbc(monkeypatch: pytest.MonkeyPatch, fake_azure_identity: None) -> object:
    """``pyodbc.connect`` replaced by a recorder and ``azure.identity``'s credentials by
    stand-ins (tests/odbc_recorder.py); sockets limited to loopback."""
    if reason := odbc_missing():
        pytest.skip(reason)  # CI=true turns this into a failure (pytest_runtest_makereport)
    import pyodbc
    from odbc_recorder import OdbcRecorder

    recorder = OdbcRecorder()
    monkeypatch.setattr(pyodbc, "connect", recorder.connect)
    return recorder


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """The demo exactly as a new user runs it (real generators, demo store on loopback, dbt,
    sync, dashboards): the shapes of the demo data and the dashboards over it are tested
    on this one run."""
    from demo_run import DemoRun

    from deltastore.settings import Settings
    from deltastore.workflows.demo import run_demo

    data_dir = tmp_path_factory.mktemp("demo-scale-1")
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(data_dir)})
    run_demo(settings, scale=1, echo=lambda _line: None)
    assert settings.sync_target_url.path is not None
    yield DemoRun(data_dir, settings.sync_target_url.path, data_dir / "dashboards")


def _forget_dbt_sqlserver_tokens() -> None:
    """dbt-sqlserver caches tokens for the process (sqlserver_runtime.py); each test starts
    with none, so the fake credential's tokens are the ones the test sees."""
    try:
        from dbt.adapters.sqlserver.sqlserver_runtime import _RUNTIME_STATE
    except ImportError:  # pragma: no cover - dbt-sqlserver is a dependency
        return
    _RUNTIME_STATE.reset_access_token_cache()


@pytest.fixture
def real_driver(monkeypatch: pytest.MonkeyPatch, fake_azure_identity: None) -> object:
    """Microsoft's real ODBC Driver 18 (PyPI's `mssql-python-odbc`, a dev dependency) behind
    the real ``pyodbc.connect``, which is only watched: each failed call is recorded as
    ``DriverCall`` (tests/odbc_recorder.py). Point URLs at ``closed_port`` with
    ``driver=<RealDriver.path>`` and ``login_timeout=1``."""
    # Under CI=true these skips fail the test (pytest_runtest_makereport).
    if reason := odbc_missing() or msodbcsql_missing():
        pytest.skip(reason)
    import pyodbc
    from odbc_recorder import RealDriver

    path = msodbcsql_driver()
    assert path is not None
    driver = RealDriver(path, pyodbc.connect)
    monkeypatch.setattr(pyodbc, "connect", driver.connect)
    return driver


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback TCP port nothing listens on. The socket stays bound (never listening) for
    the whole test, so the kernel refuses every connection to it and no other process on a
    shared machine can take the port meanwhile (a released port was once taken, and the
    driver met a stranger's server: "Protocol error in TDS stream")."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
