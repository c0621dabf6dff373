"""One small demo warehouse, built once per session for the dbt project's tests.

The real chain runs: the demo legacy database (SQLite) and the demo store server on
loopback are extracted into a DuckDB warehouse, then `dbt build` runs the real project
through the pipeline's own runner for the demo's last day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from deltastore.dburl import DatabaseURL
from deltastore.extract.demo import DEMO_END_DATE
from deltastore.extract.demo.legacy_data import generate_legacy_db
from deltastore.extract.demo.store_server import DemoStore
from deltastore.extract.load import run_extract
from deltastore.settings import Settings
from deltastore.transform.runner import DbtRun, run_dbt

LEGACY_SCALE = 0.05
STORE_SCALE = 0.02
RUN_DATE: dt.date = DEMO_END_DATE
BUILD_THREADS = 2


@dataclass(frozen=True)
class BuiltWarehouse:
    settings: Settings
    build: DbtRun
    run_date: dt.date

    @property
    def path(self) -> Path:
        assert self.settings.warehouse_url.path is not None
        return self.settings.warehouse_url.path

    def query(self, sql: str, params: list[object] | None = None) -> list[tuple]:
        """Rows of one query, on a read-only connection closed straight after."""
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.execute(sql, params or []).fetchall()


def demo_settings(data_dir: Path, store_url: str, legacy: Path) -> Settings:
    return Settings.from_env({
        "DELTASTORE_DATA_DIR": str(data_dir),
        "DELTASTORE_STORE_API_URL": store_url,
        "DELTASTORE_LEGACY_DB_URL": f"sqlite://{legacy}",
        "DELTASTORE_RUN_DATE": RUN_DATE.isoformat(),
        # Whatever the machine's cores: the build's node threads follow this (profiles.yml).
        "DELTASTORE_DUCKDB_THREADS": str(BUILD_THREADS),
    })


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    root = tmp_path_factory.mktemp("dbt_models")
    legacy = root / "legacy.db"
    generate_legacy_db(DatabaseURL.parse(f"sqlite://{legacy}", "legacy"), scale=LEGACY_SCALE)
    with DemoStore(scale=STORE_SCALE) as store:
        settings = demo_settings(root / "data", store.url, legacy)
        run_extract(settings)
    build = run_dbt(settings, "build", run_date=RUN_DATE, echo=None)
    yield BuiltWarehouse(settings, build, RUN_DATE)
