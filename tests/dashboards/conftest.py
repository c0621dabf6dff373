"""Shared, session-scoped fixtures: the KPI marts in DuckDB files, the rendered sites and
one headless Chromium."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dashboards_cdp import Browser, find_chromium
from dashboards_marts import settings_for, write_marts

from deltastore.dashboards import render_dashboards
from deltastore.dashboards.marts import read_marts
from deltastore.dashboards.render import write_site


@pytest.fixture(scope="session")
def marts_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("marts") / "sync_target.duckdb"
    return path, write_marts(path)


@pytest.fixture(scope="session")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("empty-marts") / "sync_target.duckdb"
    write_marts(path, empty=True)
    return path


@pytest.fixture(scope="session")
def site(marts_db: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rendered as if two hours after the run, so screenshots do not change day by day."""
    settings = settings_for(marts_db[0], tmp_path_factory.mktemp("data"))
    built_at = marts_db[1]["kpi_pipeline_run"][0][1]
    out = tmp_path_factory.mktemp("site")
    write_site(read_marts(settings.sync_target_url), out, built_at + dt.timedelta(hours=2))
    return out


@pytest.fixture(scope="session")
def empty_site(empty_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("empty-data")
    return render_dashboards(settings_for(empty_db, data_dir)).parent


@pytest.fixture(scope="module")
def db(marts_db: tuple[Path, dict[str, Any]]) -> Iterator[duckdb.DuckDBPyConnection]:
    """The fixture marts, read-only, for the SQL the pages are checked against (closed
    after each module: DuckDB refuses a read-write connection while it is open)."""
    connection = duckdb.connect(str(marts_db[0]), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = find_chromium()
    if executable is None:  # CI=true fails instead (tests/conftest.py, marker `browser`)
        pytest.skip("needs headless Chromium: apt-get install chromium")
    started = Browser(executable)
    yield started
    started.close()
