"""Helpers of the sync tests: what a build records, and what a DuckDB file holds."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from deltastore.settings import Settings
from deltastore.transform.build_log import record_build
from deltastore.transform.lineage import ProjectNode


def run_results(statuses: dict[str, str], invocation: str = "inv-1") -> dict[str, Any]:
    results = [{"unique_id": node, "status": status, "execution_time": 0.5}
               for node, status in statuses.items()]
    return {"metadata": {"generated_at": "2026-01-01T02:00:00Z", "invocation_id": invocation},
            "args": {"which": "build"}, "results": results}


def record_passing_build(settings: Settings, project: list[ProjectNode],
                         keys: Mapping[str, tuple[str, ...]] | None = None,
                         invocation: str = "inv-1",
                         marts: Mapping[str, str] | None = None) -> None:
    """What `deltastore build` leaves in the warehouse: every node passed, the keys and
    the marts' tables (by default each model feeding the marts builds one of its name)."""
    if marts is None:
        marts = {n.unique_id.rsplit(".", 1)[-1]: n.unique_id for n in project
                 if n.resource_type == "model" and n.feeds_marts}
    record_build(settings, run_results(
        {n.unique_id: "pass" if n.resource_type == "test" else "success" for n in project},
        invocation), project, keys=keys, marts=marts)


def contents(path: Path | None, schema: str = "analytics") -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a schema, rows sorted: the exact published state."""
    assert path is not None
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = ? order by 1", [schema]).fetchall()]
        return {n: con.execute(f'select * from {schema}."{n}" order by all').fetchall()
                for n in names}


def table_ids(path: Path | None) -> dict[str, int]:
    """DuckDB's id of each published table: it changes only when a table is replaced."""
    assert path is not None
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(con.execute("select table_name, table_oid from duckdb_tables() "
                                "where schema_name = 'analytics'").fetchall())
