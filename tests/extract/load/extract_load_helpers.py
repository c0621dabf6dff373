"""Helpers shared by the extract-load tests."""

from __future__ import annotations

from pathlib import Path

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
