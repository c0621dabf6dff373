"""The incremental publish on a real SQL Server (GitHub Actions, mssql.yml: the "other SQL
Server tests" step, in a scratch database): a day of changes goes out as deltas, the
published tables equal the warehouse's marts row for row, a sync killed inside its
transaction leaves the last publish, and a sync with nothing new writes nothing."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
from killed_sync import kill_sync_at
from published import contents
from shop_data import DAY, change

from deltastore.db import connect
from deltastore.settings import Settings
from deltastore.sync import sync_marts

pytestmark = pytest.mark.mssql

def _env(shop: Settings) -> dict[str, str]:
    env = {"DELTASTORE_DATA_DIR": str(shop.data_dir), "DELTASTORE_BATCH_SIZE": "7",
           "DELTASTORE_SYNC_TARGET_URL": os.environ["DELTASTORE_TEST_MSSQL_URL"]}
    if os.environ.get("DELTASTORE_TEST_MSSQL_PASSWORD"):
        env["DELTASTORE_SYNC_TARGET_PASSWORD"] = os.environ["DELTASTORE_TEST_MSSQL_PASSWORD"]
    return env


def _plain(value: Any) -> Any:
    """A value as both drivers agree on it (BIT comes back as bool, DECIMAL as Decimal)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def _published(target: Settings, marts: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    conn = connect(target.sync_target_url)
    try:
        return {mart: sorted((tuple(_plain(v) for v in row) for row in conn.execute(
            f"SELECT * FROM [analytics].[{mart}]").fetchall()), key=repr) for mart in marts}
    finally:
        conn.close()


def _warehouse(shop: Settings) -> dict[str, list[tuple[Any, ...]]]:
    return {mart: sorted((tuple(_plain(v) for v in row) for row in rows), key=repr)
            for mart, rows in contents(shop.warehouse_url.path).items()}


def test_a_day_goes_out_as_deltas_and_a_killed_sync_leaves_the_last_publish(
        shop: Settings) -> None:
    target = Settings.from_env(_env(shop))
    first = sync_marts(target, echo=print)
    assert all(r.checksum_match for r in first)
    marts = [r.table for r in first]
    assert _published(target, marts) == _warehouse(shop)

    before = _published(target, marts)
    change(shop, *DAY)
    kill_sync_at("swap", "fct_orders", _env(shop), timeout=300)
    # SQL Server rolls back the dead session's transaction.
    assert _published(target, marts) == before

    lines: list[str] = []
    second = {r.table: r for r in sync_marts(target, echo=lines.append)}
    assert not any(line.startswith("sync: publishing every mart in full") for line in lines)
    assert (second["fct_orders"].action, second["fct_orders"].inserted,
            second["fct_orders"].updated, second["fct_orders"].deleted) == ("delta", 2, 3, 1)
    assert second["dim_customers"].action == "keep"
    assert _published(target, marts) == _warehouse(shop)

    lines = []
    third = sync_marts(target, echo=lines.append)
    assert {r.action for r in third} == {"keep"}
    assert lines[-1].startswith("sync: wrote 0 of ")
