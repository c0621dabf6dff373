"""The mini dbt project (tests/transform/dbt_mini_project), copied per test, its raw table
loaded and the CLI pointed at both."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from deltastore.workflows import cli

MINI_PROJECT = Path(__file__).parent / "dbt_mini_project"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the mini project, its raw table loaded, the CLI pointed at both."""
    copy = tmp_path / "project"
    shutil.copytree(MINI_PROJECT, copy)
    data = tmp_path / "data"
    data.mkdir()
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute("create schema shop")
        con.execute("create table shop.customers as select * from (values (1, 'CA', 'Ann'), "
                    "(2, 'NY', 'Bob')) as t (id, state, name), "
                    "(select now()::timestamp as _loaded_at)")
    for key, value in {"DELTASTORE_DATA_DIR": str(data), "DELTASTORE_DBT_PROJECT_DIR": str(copy),
                       "DELTASTORE_RUN_DATE": "2024-06-30"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("deltastore.workflows.commands.dbt",))
    return copy
