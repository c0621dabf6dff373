"""Compare two published mart sets (schema `analytics`): which tables, how many rows, the
exact set of primary-key values, and every value, whatever the database (SQL Server, DuckDB).

The keys come from the dbt project: a column with a `unique` test, or the columns of a
`unique_combination` test. Values are compared as normalised text so that the same value read
through pyodbc and through DuckDB compares equal (Decimal('3.0') and 3, dates, booleans); a
table's rows, so normalised and sorted, give its checksum. Numbers are compared to 6 decimal
places (the engines pick different scales for the same division, and the sync's own
checksum renders floats the same way); columns that hold the time of the run are left out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
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


# Columns whose values are the time of the run, not of the data: never equal across runs.
RUN_TIME_COLUMNS: dict[str, tuple[str, ...]] = {
    "kpi_pipeline_run": ("built_at", "last_loaded_at"),
    "fct_monthly_new_customers": ("loaded_through",),
}
_MICRO = Decimal("0.000001")


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


def canonical(value: Any) -> str:
    """A value as both engines' drivers must agree on it: numbers to 6 decimal places,
    a timestamp at midnight as its date (a date column in one engine can be a timestamp in
    the other), the rest as ``normalise`` writes it."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        number = Decimal(str(value)).quantize(_MICRO, rounding=ROUND_HALF_UP)
        return "0" if number == 0 else format(number.normalize(), "f")
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    return normalise(value)


def checksum(rows: list[tuple[str, ...]]) -> str:
    """Order-independent: the SHA-256 of the sorted canonical rows."""
    digest = hashlib.sha256()
    for row in sorted(rows):
        digest.update("\x1f".join(row).encode() + b"\x1e")
    return digest.hexdigest()


def value_differences(expected: list[tuple[str, ...]], actual: list[tuple[str, ...]],
                      columns: list[str], shown: int = 3) -> str | None:
    """None when both hold the same rows (as multisets); else the rows only one side has."""
    missing = Counter(expected) - Counter(actual)
    extra = Counter(actual) - Counter(expected)
    if not missing and not extra:
        return None

    def show(rows: Counter[tuple[str, ...]]) -> str:
        return "; ".join(str(dict(zip(columns, row, strict=True)))
                         for row in sorted(rows)[:shown])

    parts = []
    if missing:
        parts.append(f"{sum(missing.values())} row(s) only in the reference, e.g. {show(missing)}")
    if extra:
        parts.append(f"{sum(extra.values())} row(s) only here, e.g. {show(extra)}")
    return " | ".join(parts)


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
        # Upper case: the marts database is case-sensitive, and so are these names there.
        rows = self.query("select TABLE_NAME from INFORMATION_SCHEMA.TABLES "
                          f"where TABLE_SCHEMA = '{SCHEMA}' and TABLE_TYPE = 'BASE TABLE'")
        return sorted(str(r[0]) for r in rows)

    def qualified(self, table: str) -> str:
        return f"{quote(self.kind, SCHEMA)}.{quote(self.kind, table)}"

    def row_count(self, table: str) -> int:
        return int(self.query(f"select count(*) from {self.qualified(table)}")[0][0])

    def columns(self, table: str) -> list[str]:
        rows = self.query("select COLUMN_NAME from INFORMATION_SCHEMA.COLUMNS "
                          f"where TABLE_SCHEMA = '{SCHEMA}' and TABLE_NAME = '{table}' "
                          "order by ORDINAL_POSITION")
        return [str(r[0]) for r in rows]

    def compared_columns(self, table: str) -> list[str]:
        """The columns compared value by value: all but the run's own time, by name."""
        skip = RUN_TIME_COLUMNS.get(table, ())
        return sorted(c for c in self.columns(table) if c not in skip)

    def canonical_rows(self, table: str, columns: list[str]) -> list[tuple[str, ...]]:
        names = ", ".join(quote(self.kind, c) for c in columns)
        return [tuple(canonical(v) for v in row)
                for row in self.query(f"select {names} from {self.qualified(table)}")]

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
