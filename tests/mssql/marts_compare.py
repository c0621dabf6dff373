"""Compare two published mart sets (schema `analytics`): which tables, how many rows, and
the exact set of primary-key values, whatever the database (SQL Server, DuckDB).

The keys come from the dbt project: a column with a `unique` test, or the columns of a
`unique_combination` test. Values are compared as normalised text so that the same key read
through pyodbc and through DuckDB compares equal (Decimal('3.0') and 3, dates, booleans).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from deltastore.sql_names import quote

REPO = Path(__file__).resolve().parents[2]
MARTS_DIR = REPO / "dbt" / "models" / "marts"
SCHEMA = "analytics"
LEFTOVER_SUFFIXES = ("__sync_shadow", "__sync_old")


def _tests(entry: dict[str, Any]) -> list[Any]:
    return list(entry.get("data_tests") or entry.get("tests") or [])


def mart_keys(marts_dir: Path = MARTS_DIR) -> dict[str, tuple[str, ...]]:
    """Every mart model and its key columns (empty for one-row marts without a key)."""
    keys: dict[str, tuple[str, ...]] = {path.stem: () for path in marts_dir.rglob("*.sql")}
    for path in sorted(marts_dir.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            if model["name"] not in keys:
                continue
            for test in _tests(model):
                if isinstance(test, dict) and "unique_combination" in test:
                    spec = test["unique_combination"] or {}
                    columns = (spec.get("arguments") or spec).get("columns")
                    keys[model["name"]] = tuple(columns)
            for column in model.get("columns") or []:
                if not keys[model["name"]] and any(
                        t == "unique" or (isinstance(t, dict) and "unique" in t)
                        for t in _tests(column)):
                    keys[model["name"]] = (column["name"],)
    return keys


def normalise(value: Any) -> str:
    if value is None:
        return "<null>"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (Decimal, float)) and value == int(value):
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


@dataclass
class Marts:
    """An open connection to a database holding published marts."""

    kind: str        # "mssql" or "duckdb": how to quote names
    connection: Any

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]

    def tables(self) -> list[str]:
        rows = self.query("select table_name from information_schema.tables "
                          f"where table_schema = '{SCHEMA}' and table_type = 'BASE TABLE'")
        return sorted(str(r[0]) for r in rows)

    def qualified(self, table: str) -> str:
        return f"{quote(self.kind, SCHEMA)}.{quote(self.kind, table)}"

    def row_count(self, table: str) -> int:
        return int(self.query(f"select count(*) from {self.qualified(table)}")[0][0])

    def key_values(self, table: str, columns: tuple[str, ...]) -> list[tuple[str, ...]]:
        names = ", ".join(quote(self.kind, c) for c in columns)
        rows = self.query(f"select {names} from {self.qualified(table)}")
        return sorted(tuple(normalise(v) for v in row) for row in rows)


def key_differences(expected: list[tuple[str, ...]], actual: list[tuple[str, ...]],
                    shown: int = 5) -> str | None:
    """None when both hold the same keys; else a short account of what differs."""
    if expected == actual:
        return None
    only_expected = sorted(set(expected) - set(actual))
    only_actual = sorted(set(actual) - set(expected))
    duplicates = len(actual) - len(set(actual))
    parts = []
    if only_expected:
        parts.append(f"{len(only_expected)} key(s) missing, e.g. {only_expected[:shown]}")
    if only_actual:
        parts.append(f"{len(only_actual)} unexpected key(s), e.g. {only_actual[:shown]}")
    if duplicates:
        parts.append(f"{duplicates} duplicate key(s)")
    return "; ".join(parts) or "same keys, different multiplicity"
