"""The sync tests' fixtures."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from published import record_passing_build
from shop_data import KEYS, PROJECT, WAREHOUSE_SQL

from deltastore.settings import Settings


@pytest.fixture
def shop(tmp_path: Path) -> Settings:
    """Settings of a warehouse holding the shop's marts, with a passing build recorded."""
    s = Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path / "data"),
                           "DELTASTORE_BATCH_SIZE": "7",
                           "DELTASTORE_METRICS_DIR": str(tmp_path / "metrics")})
    assert s.warehouse_url.path is not None
    s.warehouse_url.path.parent.mkdir(parents=True)
    with duckdb.connect(str(s.warehouse_url.path)) as con:
        con.execute(WAREHOUSE_SQL)
    record_passing_build(s, PROJECT, KEYS)
    return s
