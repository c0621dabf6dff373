"""The marts the SQL Server job published (warehouse on SQL Server, dbt `prod` target, sync
into a second database standing in for Azure SQL, every step under its least-privilege login)
equal a DuckDB run on the same demo data: same tables, same row counts, identical keys, and
the same value in every row and column (a checksum per table of the normalised rows; columns
holding the run's own time left out). Read through the read-only BI login."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from marts_compare import (
    LEFTOVER_SUFFIXES,
    MARTS_DIR,
    RUN_TIME_COLUMNS,
    Marts,
    checksum,
    key_differences,
    mart_keys,
    value_differences,
)

pytestmark = pytest.mark.mssql

KEYS = mart_keys()


def test_every_mart_is_published_and_nothing_else(sql_server_marts: Marts,
                                                  reference_marts: Marts) -> None:
    published = sql_server_marts.tables()
    assert not [t for t in published if t.endswith(LEFTOVER_SUFFIXES)], published
    assert sorted(set(KEYS) - set(published)) == [], "marts missing on SQL Server"
    assert published == reference_marts.tables()
    # The BI login sees schema analytics and nothing else: never a shadow or a retired copy.
    other = sql_server_marts.query("select TABLE_SCHEMA, TABLE_NAME from "
                                   "INFORMATION_SCHEMA.TABLES where TABLE_SCHEMA <> 'analytics'")
    assert other == []


@pytest.mark.parametrize("mart", sorted(KEYS))
def test_row_count_matches_duckdb(mart: str, sql_server_marts: Marts,
                                  reference_marts: Marts) -> None:
    expected = reference_marts.row_count(mart)
    assert expected > 0, f"the DuckDB reference run left `{mart}` empty"
    assert sql_server_marts.row_count(mart) == expected


@pytest.mark.parametrize("mart", sorted(m for m, key in KEYS.items() if key))
def test_keys_identical_to_duckdb(mart: str, sql_server_marts: Marts,
                                  reference_marts: Marts) -> None:
    columns = KEYS[mart]
    difference = key_differences(reference_marts.key_values(mart, columns),
                                 sql_server_marts.key_values(mart, columns))
    assert difference is None, f"{mart} ({', '.join(columns)}): {difference}"


@pytest.mark.parametrize("mart", sorted(KEYS))
def test_values_identical_to_duckdb(mart: str, sql_server_marts: Marts,
                                    reference_marts: Marts) -> None:
    columns = reference_marts.compared_columns(mart)
    assert sql_server_marts.compared_columns(mart) == columns
    for left_out in RUN_TIME_COLUMNS.get(mart, ()):
        assert left_out in reference_marts.columns(mart), f"{mart}.{left_out} is gone"
    expected = reference_marts.canonical_rows(mart, columns)
    actual = sql_server_marts.canonical_rows(mart, columns)
    if checksum(actual) != checksum(expected):
        pytest.fail(f"{mart}: checksum {checksum(actual)[:12]} differs from DuckDB's "
                    f"{checksum(expected)[:12]}: "
                    f"{value_differences(expected, actual, columns)}")


def contract_types(model: str, target_type: str = "sqlserver") -> dict[str, str]:
    """A model's enforced contract: column -> data_type as rendered for ``target_type``."""
    for path in sorted(Path(MARTS_DIR).rglob("*.yml")):
        for entry in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            if entry["name"] == model:
                return {c["name"]: jinja2.Template(str(c["data_type"])).render(
                    target={"type": target_type}).strip().lower()
                        for c in entry["columns"] if c.get("data_type")}
    raise KeyError(model)


def sql_server_type(row: tuple[Any, ...]) -> str:
    """INFORMATION_SCHEMA.COLUMNS' type as a contract writes it: nvarchar(4000), bigint,
    decimal(12,2), varchar(max), datetime2(6)."""
    data_type, length, precision, scale, time_precision = row
    if length is not None:
        return f"{data_type}({'max' if length == -1 else length})"
    if data_type in ("decimal", "numeric"):
        return f"{data_type}({precision},{scale})"
    if data_type in ("datetime2", "datetimeoffset", "time"):
        return f"{data_type}({time_precision})"
    return str(data_type)


def test_the_enforced_contract_holds_on_sql_server(warehouse: Marts) -> None:
    """Review MINOR 7: dbt-sqlserver checks a contract against the types pyodbc reports for
    a query (str -> varchar, int -> int; sqlserver_constants.py), so nvarchar/varchar or
    bigint/int drift passes its check. Here the table's real column types are compared."""
    expected = contract_types("dim_customers")
    rows = warehouse.query(
        "select COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, "
        "NUMERIC_SCALE, DATETIME_PRECISION from INFORMATION_SCHEMA.COLUMNS "
        "where TABLE_SCHEMA = 'analytics' and TABLE_NAME = 'dim_customers'")
    found = {str(name): sql_server_type(tuple(rest)) for name, *rest in rows}
    assert found == expected
