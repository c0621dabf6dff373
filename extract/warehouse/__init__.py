"""Warehouse writers: DuckDB (embedded default) and SQL Server, behind one interface."""

from __future__ import annotations

from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError
from deltastore.extract.warehouse.base import Batch, MergeCounts, RejectRow, TableLoad, Warehouse

__all__ = ["Batch", "MergeCounts", "RejectRow", "TableLoad", "Warehouse", "open_warehouse"]


def open_warehouse(url: DatabaseURL) -> Warehouse:
    """The writer for ``url``'s kind; the caller closes it."""
    if url.kind == "duckdb":
        from deltastore.extract.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(url)
    if url.kind == "mssql":
        from deltastore.extract.warehouse.mssql import MssqlWarehouse

        return MssqlWarehouse(url)
    raise ConfigError(
        f"DELTASTORE_WAREHOUSE_URL: `{url}` is a `{url.kind}` database; the warehouse must be "
        "`duckdb:///abs/path.duckdb` or `mssql://user@host/database`"
    )
