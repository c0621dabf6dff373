"""Connections for comparing the SQL Server marts with a DuckDB run of the same demo data.

DELTASTORE_TEST_BI_URL (+ DELTASTORE_TEST_BI_PASSWORD) is the read-only BI login on the
marts database the job synced into: what it sees is what dashboards see.
DELTASTORE_TEST_WAREHOUSE_URL (+ DELTASTORE_TEST_WAREHOUSE_PASSWORD) is the warehouse login
on the warehouse dbt built; DELTASTORE_TEST_REFERENCE_MARTS_URL is the DuckDB sync target of
the reference run (see .github/workflows/mssql.yml). The tests here are marked `mssql`: they
run where DELTASTORE_TEST_MSSQL_URL is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from marts_compare import Marts

from deltastore.db import connect
from deltastore.dburl import DatabaseURL


def open_marts(variable: str, password_variable: str | None = None) -> Marts:
    text = os.environ.get(variable)
    if not text:
        pytest.fail(f"{variable} is not set: point it at the published marts "
                    "(see .github/workflows/mssql.yml)")
    url = DatabaseURL.parse(text, variable)
    if password_variable:
        url = url.with_password(os.environ.get(password_variable))
    return Marts(url.kind, connect(url, read_only=url.kind == "duckdb"))


@pytest.fixture(scope="session")
def sql_server_marts() -> Iterator[Marts]:
    marts = open_marts("DELTASTORE_TEST_BI_URL", "DELTASTORE_TEST_BI_PASSWORD")
    yield marts
    marts.connection.close()


@pytest.fixture(scope="session")
def reference_marts() -> Iterator[Marts]:
    marts = open_marts("DELTASTORE_TEST_REFERENCE_MARTS_URL")
    yield marts
    marts.connection.close()


@pytest.fixture(scope="session")
def warehouse() -> Iterator[Marts]:
    marts = open_marts("DELTASTORE_TEST_WAREHOUSE_URL", "DELTASTORE_TEST_WAREHOUSE_PASSWORD")
    yield marts
    marts.connection.close()
