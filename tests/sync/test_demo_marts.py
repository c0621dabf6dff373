"""The real build of the demo records the table of every mart (``meta.dbt_mart_tables``,
from dbt's own manifest.json), and the sync publishes exactly those."""

from __future__ import annotations

import duckdb
from demo_run import DemoRun

TABLES = ("select table_name from information_schema.tables "
          "where table_schema = 'analytics' and table_type = 'BASE TABLE'")


def test_the_build_records_the_table_of_every_mart_the_sync_publishes(
        demo_run: DemoRun) -> None:
    with duckdb.connect(str(demo_run.data_dir / "warehouse.duckdb"), read_only=True) as con:
        recorded = {m for (m,) in con.execute("select mart from meta.dbt_mart_tables")
                    .fetchall()}
        built = {t for (t,) in con.execute(TABLES).fetchall()}
    published = {t for (t,) in demo_run.query(TABLES)}
    assert len(recorded) > 10
    assert recorded == built == published
