"""The marts the SQL Server job published (warehouse on SQL Server, dbt `prod` target, sync
into a second database standing in for Azure SQL) equal a DuckDB run on the same demo data:
same tables, same row counts, identical keys."""

from __future__ import annotations

import pytest
from marts_compare import LEFTOVER_SUFFIXES, Marts, key_differences, mart_keys

pytestmark = pytest.mark.mssql

KEYS = mart_keys()


def test_every_mart_is_published_and_nothing_else(sql_server_marts: Marts,
                                                  reference_marts: Marts) -> None:
    published = sql_server_marts.tables()
    assert not [t for t in published if t.endswith(LEFTOVER_SUFFIXES)], published
    assert sorted(set(KEYS) - set(published)) == [], "marts missing on SQL Server"
    assert published == reference_marts.tables()


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
