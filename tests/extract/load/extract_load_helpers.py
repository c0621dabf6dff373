"""Helpers shared by the extract-load tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def dump_warehouse(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every raw and meta table's rows, sorted, for before/after comparisons."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('new_store', 'old_store', 'meta') ORDER BY 1").fetchall()
        return {name: sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr)
                for (name,) in names}
    finally:
        con.close()


def warehouse_query(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` in the warehouse of ``data_dir``, read-only."""
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()
