"""The sync tests' shop: a small warehouse of marts with and without keys, a day of
changes to it, and helpers to sync it and read both sides."""

from __future__ import annotations

import re
from typing import Any

import duckdb
from published import contents

from deltastore.settings import Settings
from deltastore.sync import sync_marts
from deltastore.sync.report import TableSyncResult
from deltastore.transform.lineage import ProjectNode

KEYS = {"fct_orders": ("order_id",), "dim_customers": ("customer_key",),
        "fct_lines": ("order_id", "line")}
PROJECT = [ProjectNode(f"model.deltastore.{name}", "model", True)
           for name in ("fct_orders", "dim_customers", "fct_lines", "kpi_totals")]
SUMMARY = re.compile(r"^sync: wrote [\d,]+ of [\d,]+ rows \(\d+\.\d\d %\) in \d+\.\d\d s$")

WAREHOUSE_SQL = """
create schema analytics;
create table analytics.dim_customers as
    select 'c' || lpad(i::varchar, 4, '0') as customer_key, 'Name ' || i as name,
           case when i % 7 = 0 then null else 'city ' || (i % 5) end as city
    from range(1, 41) t(i);
create table analytics.fct_orders as
    select i::bigint as order_id, 'c' || lpad((i % 40 + 1)::varchar, 4, '0') as customer_key,
           cast(i * 1.25 as decimal(12, 2)) as amount,
           timestamp '2025-01-01 00:00:00' + to_days(i::integer) as ordered_at,
           i % 3 = 0 as paid
    from range(1, 201) t(i);
create table analytics.fct_lines as
    select o.order_id, l.line, cast(l.line * 2.5 as decimal(12, 2)) as price
    from analytics.fct_orders o, range(1, 3) l(line);
create table analytics.kpi_totals as
    select count(*) as orders, sum(amount) as revenue from analytics.fct_orders;
"""


def warehouse_marts(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    return contents(settings.warehouse_url.path)


def published_marts(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    return contents(settings.sync_target_url.path)


def change(settings: Settings, *statements: str) -> None:
    with duckdb.connect(str(settings.warehouse_url.path)) as con:
        for statement in statements:
            con.execute(statement)
        con.execute("create or replace table analytics.kpi_totals as select count(*) as orders, "
                    "sum(amount) as revenue from analytics.fct_orders")


def run_sync(settings: Settings, lines: list[str] | None = None,
          **kwargs: Any) -> dict[str, TableSyncResult]:
    out = lines if lines is not None else []
    results = sync_marts(settings, echo=out.append, **kwargs)
    assert SUMMARY.match(out[-1]), out[-1]
    return {r.table: r for r in results}


DAY = ("insert into analytics.fct_orders values "
       "(201, 'c0001', 9.99, timestamp '2025-08-01 10:00:00', false), "
       "(202, 'c0002', 19.99, timestamp '2025-08-01 11:00:00', true)",
       "insert into analytics.fct_lines values (201, 1, 9.99), (202, 1, 19.99)",
       "update analytics.fct_orders set paid = true where order_id in (4, 5, 7)",
       "delete from analytics.fct_orders where order_id = 10",
       "delete from analytics.fct_lines where order_id = 10")
