"""What the ODBC tests connect with: one identity for every login mode, and each step's way
of opening a SQL Server connection (the legacy reader, the warehouse writer, the sync's
target), as the pipeline opens them."""

from __future__ import annotations

from deltastore.dburl import DatabaseURL
from deltastore.extract.sources.legacy_db import LegacyReader
from deltastore.extract.warehouse.mssql import MssqlWarehouse
from deltastore.sync import published_row_counts

CLIENT_ID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"  # a service principal's or identity's
SECRET = "pw;with}braces"  # ODBC's special characters: the driver must get it whole


def open_legacy(url: DatabaseURL) -> None:
    with LegacyReader(url):
        pass


def open_warehouse(url: DatabaseURL) -> None:
    MssqlWarehouse(url).close()


def open_sync_target(url: DatabaseURL) -> None:
    assert published_row_counts(url) == {}  # a target no sync has published to yet
